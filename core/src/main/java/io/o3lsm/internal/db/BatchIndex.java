package io.o3lsm.internal.db;

import io.o3lsm.MergeOperator;
import io.o3lsm.O3Exception;
import io.o3lsm.WriteBatch;
import io.o3lsm.internal.util.FamilyFunctions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The index of a {@code WriteBatchWithIndex} (and of a transaction's writes): per key, in unsigned
 * bytewise order, what the batch's operations on it add up to — a base (the last put, or a delete)
 * and the merge operands written after it, or operands alone. Keeps the operations in order too, so
 * that the batch can be cut back to a save point ({@link #truncate}). Keys and values are copied on
 * the way in and never modified. Not thread-safe.
 */
public final class BatchIndex {
    private static final int PUT = 0;
    private static final int DELETE = 1;
    private static final int MERGE = 2;

    /** What the batch holds for one key. */
    public static final class Entry {
        /** True once the batch put or deleted the key: the DB's value is shadowed. */
        boolean hasBase;
        /** The value put last; null if the base is a delete (or there is none). */
        byte[] base;
        /** Merge operands written after the base (or all of them, without a base), oldest first. */
        final List<byte[]> operands = new ArrayList<>(1);

        /** The batch deletes the key and adds nothing after: it is absent whatever the DB holds. */
        public boolean deletes() {
            return hasBase && base == null && operands.isEmpty();
        }

        /** The batch's value does not depend on the DB's: a put or delete, maybe with operands after. */
        public boolean hasBase() {
            return hasBase;
        }

        public boolean hasOperands() {
            return !operands.isEmpty();
        }

        /** The put value when there are no operands after it; null for a delete. */
        public byte[] base() {
            return base;
        }
    }

    private record Op(int type, byte[] key, byte[] value) {
    }

    private final TreeMap<byte[], Entry> map = new TreeMap<>(Arrays::compareUnsigned);
    private final List<Op> ops = new ArrayList<>();

    /** {@code key} and {@code value} are owned by the index from now on (the caller copied them). */
    public void put(byte[] key, byte[] value) {
        ops.add(new Op(PUT, key, value));
        apply(PUT, key, value);
    }

    public void delete(byte[] key) {
        ops.add(new Op(DELETE, key, null));
        apply(DELETE, key, null);
    }

    public void merge(byte[] key, byte[] operand) {
        ops.add(new Op(MERGE, key, operand));
        apply(MERGE, key, operand);
    }

    private void apply(int type, byte[] key, byte[] value) {
        Entry e = map.get(key);
        if (e == null) {
            e = new Entry();
            map.put(key, e);
        }
        switch (type) {
            case PUT -> {
                e.hasBase = true;
                e.base = value;
                e.operands.clear();
            }
            case DELETE -> {
                e.hasBase = true;
                e.base = null;
                e.operands.clear();
            }
            default -> e.operands.add(value);
        }
    }

    /** Number of operations. */
    public int count() {
        return ops.size();
    }

    /** What the batch holds for {@code key}, or null when it has no operation on it. */
    public Entry get(byte[] key) {
        return map.get(key);
    }

    public byte[] ceilingKey(byte[] k) {
        return map.ceilingKey(k);
    }

    public byte[] higherKey(byte[] k) {
        return map.higherKey(k);
    }

    public byte[] floorKey(byte[] k) {
        return map.floorKey(k);
    }

    public byte[] lowerKey(byte[] k) {
        return map.lowerKey(k);
    }

    public byte[] firstKey() {
        return map.isEmpty() ? null : map.firstKey();
    }

    public byte[] lastKey() {
        return map.isEmpty() ? null : map.lastKey();
    }

    /** Every key the batch touches, in order (a live view; do not modify). */
    public Iterable<Map.Entry<byte[], Entry>> entries() {
        return map.entrySet();
    }

    public void clear() {
        map.clear();
        ops.clear();
    }

    /**
     * Keeps the first {@code count} operations and forgets the rest, rebuilding the index and
     * {@code batch} (cleared, then refilled with those operations).
     */
    public void truncate(int count, WriteBatch batch) {
        truncate(count, batch, null);
    }

    /**
     * As {@link #truncate(int, WriteBatch)}; {@code families} (not null): the index's keys are a
     * family-aware DB's stored keys, re-added to {@code batch} as operations of their families, whose
     * handles it gives by id.
     */
    public void truncate(int count, WriteBatch batch, java.util.function.IntFunction<io.o3lsm.ColumnFamilyHandle> families) {
        boolean storedKeys = families != null;
        if (count < 0 || count > ops.size()) {
            throw new IllegalArgumentException("cannot cut " + ops.size() + " operations back to " + count);
        }
        ops.subList(count, ops.size()).clear();
        map.clear();
        batch.clear();
        for (Op op : ops) {
            apply(op.type, op.key, op.value);
            if (storedKeys) {
                io.o3lsm.ColumnFamilyHandle f = families.apply(FamilyFunctions.familyOf(op.key));
                byte[] user = FamilyFunctions.userKey(op.key);
                switch (op.type) {
                    case PUT -> batch.put(f, user, op.value);
                    case DELETE -> batch.delete(f, user);
                    default -> batch.merge(f, user, op.value);
                }
                continue;
            }
            switch (op.type) {
                case PUT -> batch.put(op.key, op.value);
                case DELETE -> batch.delete(op.key);
                default -> batch.merge(op.key, op.value);
            }
        }
    }

    /**
     * The value of {@code key} given what the batch holds for it ({@code e}, not null) and, when the
     * batch has no base, the DB's value {@code dbValue} (null: absent). Null when absent.
     *
     * @param op the merge operator; needed only when {@code e} has operands
     * @throws IllegalStateException if operands must be combined and {@code op} is null
     */
    public static byte[] resolve(MergeOperator op, byte[] key, Entry e, byte[] dbValue) {
        byte[] existing = e.hasBase ? e.base : dbValue;
        if (e.operands.isEmpty()) {
            return existing;
        }
        if (op == null) {
            throw new IllegalStateException("the batch holds merge operands for a key and no merge operator is "
                    + "known (open the DB with Options.mergeOperator, or give the WriteBatchWithIndex one)");
        }
        byte[] v;
        try {
            v = op.fullMerge(key, existing, List.copyOf(e.operands));
        } catch (RuntimeException ex) {
            throw new O3Exception("merge operator " + op.name() + " failed on key of " + key.length + " bytes: " + ex,
                    ex);
        }
        if (v == null) {
            throw new O3Exception("merge operator " + op.name() + " returned null");
        }
        return v;
    }
}
