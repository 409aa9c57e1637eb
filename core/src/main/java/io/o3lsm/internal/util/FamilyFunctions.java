package io.o3lsm.internal.util;

import io.o3lsm.CompactionFilter;
import io.o3lsm.CompactionFilters;
import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The functions of a family-aware DB, as one merge operator and one compaction filter that
 * dispatch on the family prefix of each key ({@code docs/column-families.md}): every key of such a
 * DB is {@code varint32(family id) || user key}; the family's own function sees the user key only.
 *
 * <p>Their names carry the whole table, so that a flush worker or compactor can rebuild them
 * ({@link MergeOperators#byName}, {@link CompactionFilters#byName}):
 * <pre>
 *   name  = "o3.cf:" entry ("," entry)*        at most {@value #MAX_NAME} characters
 *   entry = ID "." LEN "." NAME                ID: family id, LEN: NAME's length, both decimal
 * </pre>
 * e.g. {@code o3.cf:0.11.o3.int64add,3.17.o3.stringappend:,}. A table may be empty ({@code o3.cf:}).
 *
 * <p>Thread-safe: the table is replaced whole ({@link Merge#update}) when a family is created or
 * dropped; a call uses the table it read.
 */
public final class FamilyFunctions {
    private FamilyFunctions() {
    }

    public static final String PREFIX = "o3.cf:";
    /** Longest table name accepted (characters; names are ASCII). */
    public static final int MAX_NAME = 16 * 1024;

    /** Whether {@code name} is a family table's name (its syntax is checked by parsing it). */
    public static boolean isTable(String name) {
        return name != null && name.startsWith(PREFIX);
    }

    /** The family id a family-aware key starts with, or -1 when its prefix is malformed. */
    public static int familyOf(byte[] key) {
        return familyOf(key, key.length);
    }

    /** As {@link #familyOf(byte[])} for the key {@code key[0, len)}. */
    public static int familyOf(byte[] key, int len) {
        int[] pos = {0};
        long v = Coding.getVarint32(key, pos, len);
        return v < 0 ? -1 : (int) v;
    }

    /** The varint32 prefix of family {@code id}. */
    public static byte[] prefix(int id) {
        byte[] b = new byte[Coding.varintLength(id)];
        Coding.putVarint32(b, 0, id);
        return b;
    }

    /** The user key of a family-aware key (its prefix removed). */
    public static byte[] userKey(byte[] key) {
        int n = Coding.varintLength(Math.max(0, familyOf(key)));
        return n >= key.length ? new byte[0] : Arrays.copyOfRange(key, n, key.length);
    }

    /** A key's user part for a context bound: the user key if {@code key} is in family {@code id}, else null. */
    private static byte[] userKeyIn(byte[] key, int id) {
        return key != null && familyOf(key) == id ? userKey(key) : null;
    }

    /**
     * Throws {@link IllegalArgumentException} unless the table of {@code names} (family id → function
     * name) fits in {@link #MAX_NAME} characters; {@code what} names the table in the message.
     */
    public static void checkFits(Map<Integer, String> names, String what) {
        String t = encode(names);
        if (t.length() > MAX_NAME) {
            throw new IllegalArgumentException("the families' " + what + " would take " + t.length() + " characters "
                    + "in the table jobs carry, above " + MAX_NAME + ": fewer families with " + what + ", or shorter "
                    + "names");
        }
    }

    static String encode(Map<Integer, String> names) {
        StringBuilder sb = new StringBuilder(PREFIX);
        boolean first = true;
        for (Map.Entry<Integer, String> en : names.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(en.getKey()).append('.').append(en.getValue().length()).append('.').append(en.getValue());
        }
        return sb.toString();
    }

    /**
     * The table a name encodes: family id → function name.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Map<Integer, String> decode(String name) {
        if (!isTable(name) || name.length() > MAX_NAME) {
            throw new IllegalArgumentException("a family table name is " + PREFIX + "ID.LEN.NAME[,...] of at most "
                    + MAX_NAME + " characters, was " + (name == null ? "null" : name.length() + " characters"));
        }
        Map<Integer, String> out = new TreeMap<>();
        int at = PREFIX.length();
        while (at < name.length()) {
            int dot = name.indexOf('.', at);
            int dot2 = dot < 0 ? -1 : name.indexOf('.', dot + 1);
            if (dot < 0 || dot2 < 0) {
                throw bad(name, at);
            }
            int id = number(name, at, dot);
            int len = number(name, dot + 1, dot2);
            long end = (long) dot2 + 1 + len;
            if (id < 0 || len < 1 || end > name.length() || out.containsKey(id)) {
                throw bad(name, at);
            }
            out.put(id, name.substring(dot2 + 1, (int) end));
            if (end < name.length() && name.charAt((int) end) != ',') {
                throw bad(name, (int) end);
            }
            at = (int) end + 1;
            if (end + 1 == name.length()) {
                throw bad(name, (int) end); // a trailing comma
            }
        }
        return out;
    }

    private static int number(String s, int from, int to) {
        if (to - from < 1 || to - from > 10) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private static IllegalArgumentException bad(String name, int at) {
        return new IllegalArgumentException("malformed family table name at character " + at + ": \""
                + (name.length() > 120 ? name.substring(0, 120) + "..." : name) + "\"");
    }

    /** The merge operator of a family-aware DB: each key's family's operator, on its user key. */
    public static final class Merge implements MergeOperator {
        private volatile Map<Integer, MergeOperator> table;
        private volatile String name;

        public Merge(Map<Integer, MergeOperator> table) {
            update(table);
        }

        /** Rebuilds one from its name, finding each operator by name ({@code loader}: null for the default). */
        public static Merge byName(String name, ClassLoader loader) {
            Map<Integer, MergeOperator> t = new TreeMap<>();
            for (Map.Entry<Integer, String> en : decode(name).entrySet()) {
                if (isTable(en.getValue())) {
                    throw new IllegalArgumentException("a family table cannot nest another: \"" + en.getValue() + "\"");
                }
                t.put(en.getKey(), MergeOperators.byName(en.getValue(), loader));
            }
            return new Merge(t);
        }

        /** Replaces the table (a family created or dropped). */
        public void update(Map<Integer, MergeOperator> newTable) {
            Map<Integer, MergeOperator> t = Collections.unmodifiableMap(new TreeMap<>(newTable));
            Map<Integer, String> names = new TreeMap<>();
            t.forEach((id, op) -> names.put(id, op.name()));
            this.table = t;
            this.name = encode(names);
        }

        /** The operator of {@code key}'s family, or null when it has none. */
        public MergeOperator forKey(byte[] key) {
            return table.get(familyOf(key));
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
            MergeOperator op = require(key);
            return op.fullMerge(userKey(key), existing, operands);
        }

        @Override
        public byte[] partialMerge(byte[] key, List<byte[]> operands) {
            MergeOperator op = table.get(familyOf(key));
            return op == null ? null : op.partialMerge(userKey(key), operands);
        }

        private MergeOperator require(byte[] key) {
            MergeOperator op = table.get(familyOf(key));
            if (op == null) {
                throw new IllegalStateException("column family " + familyOf(key) + " has merge operands but no merge "
                        + "operator (ColumnFamilyOptions.mergeOperator); open it with the operator that wrote them");
            }
            return op;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The compaction filter of a family-aware DB: each key's family's filter (TTL included), on its user key. */
    public static final class Filter implements CompactionFilter {
        private volatile Map<Integer, CompactionFilter> table;
        private volatile String name;
        /** The last context derived, per family: a job calls with one context for all its keys. */
        private final ThreadLocal<Object[]> lastContext = ThreadLocal.withInitial(() -> new Object[3]);

        public Filter(Map<Integer, CompactionFilter> table) {
            update(table);
        }

        public static Filter byName(String name, ClassLoader loader) {
            Map<Integer, CompactionFilter> t = new TreeMap<>();
            for (Map.Entry<Integer, String> en : decode(name).entrySet()) {
                if (isTable(en.getValue())) {
                    throw new IllegalArgumentException("a family table cannot nest another: \"" + en.getValue() + "\"");
                }
                t.put(en.getKey(), CompactionFilters.byName(en.getValue(), loader));
            }
            return new Filter(t);
        }

        public void update(Map<Integer, CompactionFilter> newTable) {
            Map<Integer, CompactionFilter> t = Collections.unmodifiableMap(new TreeMap<>(newTable));
            Map<Integer, String> names = new TreeMap<>();
            t.forEach((id, f) -> names.put(id, f.name()));
            this.table = t;
            this.name = encode(names);
        }

        /** Whether any family has a filter. */
        public boolean isEmpty() {
            return table.isEmpty();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            int id = familyOf(key);
            CompactionFilter f = table.get(id);
            if (f == null) {
                return CompactionFilter.keep();
            }
            return f.filter(contextFor(ctx, id), userKey(key), value);
        }

        /** {@code ctx} with its key range cut to family {@code id}'s user keys (null where outside it). */
        private Context contextFor(Context ctx, int id) {
            Object[] last = lastContext.get();
            if (last[0] == ctx && last[1] != null && (Integer) last[1] == id) {
                return (Context) last[2];
            }
            Context c = new Context(ctx.outputLevel(), ctx.bottommost(), ctx.flush(), userKeyIn(ctx.smallestKey(), id),
                    userKeyIn(ctx.largestKey(), id), ctx.nowMillis());
            last[0] = ctx;
            last[1] = id;
            last[2] = c;
            return c;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
