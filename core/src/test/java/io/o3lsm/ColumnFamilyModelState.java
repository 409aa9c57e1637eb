package io.o3lsm;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The reference state of one column family that {@link ColumnFamilyModelHarness} writes into beside
 * the family {@link ModelRunner} models: a {@link TreeMap} of user keys to cells (value, write time)
 * under the family's {@link Kind} (its merge operator, TTL and compaction filter), and the checks of
 * a read (get, an iterator's landing after a seek or a step) against it.
 *
 * <p>A compaction filter makes a value's fate depend on which jobs ran: under {@link MarkerFilter} a
 * value starting with {@link MarkerFilter#REMOVE} may be present or gone, one starting with
 * {@link MarkerFilter#CHANGE} may read as written or as changed; the checks accept both and nothing
 * else. TTL expiry is exact: a value is visible iff {@code now - written <= ttl} (the fake clock only
 * moves forward). Keys and values are never mutated once stored, so copies share them. Not
 * thread-safe.
 */
final class ColumnFamilyModelState {
    /** Time to live of the TTL kinds, on the fake clock. */
    static final long TTL_MILLIS = 1_500;

    /** What a family does with its values: the functions its {@link ColumnFamilyOptions} give it. */
    enum Kind {
        /** No functions. */
        PLAIN,
        /** {@link MergeOperators#stringAppend} with "." (the modelled family's runs use ","). */
        APPEND,
        /** {@link MergeOperators#int64Add}: 8-byte values and operands. */
        COUNTER,
        /** A {@value #TTL_MILLIS} ms TTL. */
        TTL,
        /** {@link MarkerFilter}. */
        FILTERED,
        /** A TTL and {@link MarkerFilter} (the filter wrapped by the TTL filter). */
        TTL_FILTERED;

        /** The family's options, with fresh function objects (as a reopen re-supplies them). */
        ColumnFamilyOptions options() {
            ColumnFamilyOptions o = ColumnFamilyOptions.defaults();
            return switch (this) {
                case PLAIN -> o;
                case APPEND -> o.mergeOperator(MergeOperators.stringAppend("."));
                case COUNTER -> o.mergeOperator(MergeOperators.int64Add());
                case TTL -> o.ttl(Duration.ofMillis(TTL_MILLIS));
                case FILTERED -> o.compactionFilter(new MarkerFilter());
                case TTL_FILTERED -> o.ttl(Duration.ofMillis(TTL_MILLIS)).compactionFilter(new MarkerFilter());
            };
        }

        boolean merges() {
            return this == APPEND || this == COUNTER;
        }

        boolean ttl() {
            return this == TTL || this == TTL_FILTERED;
        }

        boolean filtered() {
            return this == FILTERED || this == TTL_FILTERED;
        }
    }

    /**
     * Removes values starting with {@value #REMOVE_CHAR}, changes the first byte of values starting
     * with {@value #CHANGE_CHAR} to {@value #CHANGED_CHAR}, keeps the rest. Pure; any instance is as
     * good as another.
     */
    static final class MarkerFilter implements CompactionFilter {
        static final char REMOVE_CHAR = 'R';
        static final char CHANGE_CHAR = 'C';
        static final char CHANGED_CHAR = 'c';
        static final byte REMOVE = (byte) REMOVE_CHAR;
        static final byte CHANGE = (byte) CHANGE_CHAR;
        static final byte CHANGED = (byte) CHANGED_CHAR;

        @Override
        public String name() {
            return "test.cf-marker";
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            if (value.length > 0 && value[0] == REMOVE) {
                return CompactionFilter.remove();
            }
            if (value.length > 0 && value[0] == CHANGE) {
                return CompactionFilter.change(changed(value));
            }
            return CompactionFilter.keep();
        }

        static byte[] changed(byte[] value) {
            byte[] c = value.clone();
            c[0] = CHANGED;
            return c;
        }
    }

    /** A value and the fake-clock time it was written. */
    record Cell(byte[] value, long written) {
    }

    final Kind kind;
    private final TreeMap<byte[], Cell> map;

    ColumnFamilyModelState(Kind kind) {
        this(kind, new TreeMap<>(Arrays::compareUnsigned));
    }

    private ColumnFamilyModelState(Kind kind, TreeMap<byte[], Cell> map) {
        this.kind = kind;
        this.map = map;
    }

    ColumnFamilyModelState copy() {
        return new ColumnFamilyModelState(kind, new TreeMap<>(map));
    }

    // ------------------------------------------------------------------ writes

    void put(byte[] key, byte[] value, long now) {
        map.put(key.clone(), new Cell(value.clone(), now));
    }

    void delete(byte[] key) {
        map.remove(key);
    }

    /** Nothing when {@code from >= to}, as {@link DB#deleteRange}. */
    void deleteRange(byte[] from, byte[] to) {
        if (Arrays.compareUnsigned(from, to) < 0) {
            map.subMap(from, true, to, false).clear();
        }
    }

    void merge(byte[] key, byte[] operand, long now) {
        Cell c = map.get(key);
        byte[] existing = c == null ? null : c.value;
        byte[] merged = switch (kind) {
            case COUNTER -> MergeOperators.int64((existing == null ? 0 : MergeOperators.int64(existing))
                    + MergeOperators.int64(operand));
            case APPEND -> {
                if (existing == null) {
                    yield operand.clone();
                }
                byte[] out = Arrays.copyOf(existing, existing.length + 1 + operand.length);
                out[existing.length] = '.';
                System.arraycopy(operand, 0, out, existing.length + 1, operand.length);
                yield out;
            }
            default -> throw new AssertionError(kind + " has no merge operator");
        };
        map.put(key.clone(), new Cell(merged, now));
    }

    // ------------------------------------------------------------------ queries

    int size() {
        return map.size();
    }

    /** The visible keys and values at {@code now} (a check's summary). */
    int visible(long now) {
        int n = 0;
        for (Cell c : map.values()) {
            if (visible(c, now)) {
                n++;
            }
        }
        return n;
    }

    /** A stored key chosen by {@code rnd}, or null when empty. O(n). */
    byte[] randomKey(Random rnd) {
        if (map.isEmpty()) {
            return null;
        }
        int pick = rnd.nextInt(map.size());
        for (byte[] k : map.keySet()) {
            if (pick-- == 0) {
                return k;
            }
        }
        throw new AssertionError();
    }

    /** Every stored key (visible or not), in order. */
    Iterable<byte[]> keys() {
        return map.keySet();
    }

    /** The value a read must return if the family's functions have not touched it. */
    byte[] written(byte[] key) {
        Cell c = map.get(key);
        return c == null ? null : c.value;
    }

    private boolean visible(Cell c, long now) {
        return !kind.ttl() || now - c.written <= TTL_MILLIS;
    }

    /** Whether a compaction may have removed the value (the read may find nothing). */
    private boolean optional(Cell c) {
        return kind.filtered() && c.value.length > 0 && c.value[0] == MarkerFilter.REMOVE;
    }

    private boolean allowed(Cell c, byte[] got) {
        if (Arrays.equals(c.value, got)) {
            return true;
        }
        return kind.filtered() && c.value.length > 0 && c.value[0] == MarkerFilter.CHANGE
                && Arrays.equals(MarkerFilter.changed(c.value), got);
    }

    /** Throws unless {@code got} is what a get of {@code key} may return at {@code now}. */
    void checkGet(byte[] key, byte[] got, long now, String ctx) {
        Cell c = map.get(key);
        if (c == null || !visible(c, now)) {
            if (got != null) {
                throw new AssertionError(ctx + ": get " + ModelOpLog.hex(key) + " returned " + ModelOpLog.val(got)
                        + ", model says absent" + (c == null ? "" : " (expired: written " + c.written + ", now " + now
                        + ")"));
            }
            return;
        }
        if (got == null ? !optional(c) : !allowed(c, got)) {
            throw new AssertionError(ctx + ": get " + ModelOpLog.hex(key) + " returned " + ModelOpLog.val(got)
                    + ", model says " + describe(c));
        }
    }

    /**
     * Checks where {@code it} stands after a move that should land on the first entry, in direction
     * {@code forward}, from {@code from} ({@code inclusive} or not; null: from the start of the
     * bounds) within {@code [lo, hi)}: on a visible model key whose value is allowed, with only
     * entries a filter may have removed skipped before it; or invalid when only such entries remain.
     * Returns the key it stands on, or null.
     */
    byte[] expectLanding(DBIterator it, byte[] from, boolean inclusive, boolean forward, byte[] lo, byte[] hi,
            long now, String ctx) {
        byte[] actual = it.isValid() ? it.key() : null;
        Map.Entry<byte[], Cell> e = start(from, inclusive, forward, lo, hi);
        while (e != null) {
            byte[] k = e.getKey();
            Cell c = e.getValue();
            if (visible(c, now)) {
                int cmp = actual == null ? 1 : Arrays.compareUnsigned(k, actual);
                if (!forward) {
                    cmp = -cmp;
                }
                if (actual != null && cmp == 0) {
                    byte[] v = it.value();
                    if (!allowed(c, v)) {
                        throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(actual) + " has value "
                                + ModelOpLog.val(v) + ", model says " + describe(c));
                    }
                    return actual;
                }
                if (actual != null && cmp > 0) {
                    throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(actual) + " = "
                            + ModelOpLog.val(it.value()) + ", a key the model does not have there (model: "
                            + describe(map.get(actual)) + "); expected " + ModelOpLog.hex(k) + " = " + describe(c));
                }
                if (!optional(c)) {
                    throw new AssertionError(ctx + ": iterator " + (actual == null ? "invalid"
                            : "at " + ModelOpLog.hex(actual) + " = " + ModelOpLog.val(it.value())) + ", expected "
                            + ModelOpLog.hex(k) + " = " + describe(c));
                }
            }
            e = step(e.getKey(), forward, lo, hi);
        }
        if (actual != null) {
            throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(actual) + " = " + ModelOpLog.val(it.value())
                    + ", expected no entry (model: " + describe(map.get(actual)) + ")");
        }
        return null;
    }

    private Map.Entry<byte[], Cell> start(byte[] from, boolean inclusive, boolean forward, byte[] lo, byte[] hi) {
        Map.Entry<byte[], Cell> e;
        if (forward) {
            if (from == null || (lo != null && Arrays.compareUnsigned(from, lo) < 0)) {
                e = lo == null ? map.firstEntry() : map.ceilingEntry(lo);
            } else {
                e = inclusive ? map.ceilingEntry(from) : map.higherEntry(from);
            }
        } else {
            if (from == null || (hi != null && Arrays.compareUnsigned(from, hi) >= 0)) {
                e = hi == null ? map.lastEntry() : map.lowerEntry(hi);
            } else {
                e = inclusive ? map.floorEntry(from) : map.lowerEntry(from);
            }
        }
        return within(e, lo, hi);
    }

    private Map.Entry<byte[], Cell> step(byte[] k, boolean forward, byte[] lo, byte[] hi) {
        return within(forward ? map.higherEntry(k) : map.lowerEntry(k), lo, hi);
    }

    private static Map.Entry<byte[], Cell> within(Map.Entry<byte[], Cell> e, byte[] lo, byte[] hi) {
        if (e == null) {
            return null;
        }
        byte[] k = e.getKey();
        if ((lo != null && Arrays.compareUnsigned(k, lo) < 0) || (hi != null && Arrays.compareUnsigned(k, hi) >= 0)) {
            return null;
        }
        return e;
    }

    private String describe(Cell c) {
        if (c == null) {
            return "absent";
        }
        String s = ModelOpLog.val(c.value) + " written " + c.written;
        if (kind.filtered() && c.value.length > 0 && c.value[0] == MarkerFilter.REMOVE) {
            s += " (or absent: the filter removes it)";
        } else if (kind.filtered() && c.value.length > 0 && c.value[0] == MarkerFilter.CHANGE) {
            s += " (or " + ModelOpLog.val(MarkerFilter.changed(c.value)) + ": the filter changes it)";
        }
        return s;
    }
}
