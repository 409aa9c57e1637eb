package io.o3lsm;

import io.o3lsm.internal.db.BaseDeltaIterator;
import io.o3lsm.internal.db.BatchIndex;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.util.Limits;
import java.util.ArrayDeque;

/**
 * A {@link WriteBatch} with an index of its keys, for reading your own writes before applying them:
 * {@link #getFromBatch}, {@link #getFromBatchAndDB} and {@link #newIteratorWithBase} show the
 * batch's puts, deletes and merges over what the DB holds. Apply it with
 * {@code db.write(wbwi.writeBatch(), writeOptions)}.
 *
 * <pre>{@code
 * try (WriteBatchWithIndex batch = new WriteBatchWithIndex()) {
 *     batch.put(k1, v1).delete(k2);
 *     byte[] a = batch.getFromBatchAndDB(db, ReadOptions.defaults(), k1); // v1
 *     byte[] b = batch.getFromBatchAndDB(db, ReadOptions.defaults(), k2); // null: deleted in the batch
 *     db.write(batch.writeBatch(), WriteOptions.defaults());
 * }
 * }</pre>
 *
 * <p>Merges: a key's operands are combined, oldest first, with the batch's own put (or with nothing
 * after the batch's delete) or, when the batch neither put nor deleted the key, with the DB's value,
 * by the DB's merge operator ({@link Options#mergeOperator}); where no DB is involved
 * ({@link #getFromBatch}), or the DB is not an o3lsm DB, by the operator given to the constructor.
 *
 * <p>{@link #deleteRange} is refused: a range deletion would have to hide keys of the DB in every read
 * through the batch, which the index (one entry per key) cannot express; write range deletions
 * with a plain {@link WriteBatch} or {@link DB#deleteRange}.
 *
 * <p>Keys and values are copied. Not thread-safe. Do not change {@link #writeBatch()} directly: the
 * index would no longer match it.
 */
public final class WriteBatchWithIndex implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();
    private final BatchIndex index = new BatchIndex();
    private final MergeOperator mergeOperator;
    private final ArrayDeque<Integer> savePoints = new ArrayDeque<>();

    /** A batch without a merge operator of its own (merges are combined by the DB's). */
    public WriteBatchWithIndex() {
        this(null);
    }

    /**
     * A batch that combines merge operands with {@code mergeOperator} where the DB's operator is not
     * at hand ({@link #getFromBatch}); null for none.
     */
    public WriteBatchWithIndex(MergeOperator mergeOperator) {
        this.mergeOperator = mergeOperator;
    }

    public WriteBatchWithIndex put(byte[] key, byte[] value) {
        batch.put(key, value); // checks key and value
        index.put(key.clone(), value.clone());
        return this;
    }

    public WriteBatchWithIndex delete(byte[] key) {
        batch.delete(key);
        index.delete(key.clone());
        return this;
    }

    /** Adds a merge operand for {@code key} ({@link DB#merge}); the DB refuses the batch without a merge operator. */
    public WriteBatchWithIndex merge(byte[] key, byte[] operand) {
        batch.merge(key, operand);
        index.merge(key.clone(), operand.clone());
        return this;
    }

    /**
     * Refused, always.
     *
     * @throws UnsupportedOperationException reads through the index could not honor a range deletion
     */
    public WriteBatchWithIndex deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        throw new UnsupportedOperationException("WriteBatchWithIndex does not support deleteRange: reads through "
                + "the batch (getFromBatchAndDB, newIteratorWithBase) would have to hide every DB key in the range, "
                + "which its per-key index cannot express; use a WriteBatch or DB.deleteRange");
    }

    /**
     * The value the batch alone gives {@code key}: its put (with merge operands after it combined by
     * this batch's merge operator), or null when the batch deletes the key or has no operation on it.
     *
     * @throws IllegalStateException if the batch holds only merge operands for the key (their result
     *                               depends on the DB: use {@link #getFromBatchAndDB}), or operands
     *                               to combine and this batch has no merge operator
     */
    public byte[] getFromBatch(byte[] key) {
        Limits.checkKey(key, "key");
        BatchIndex.Entry e = index.get(key);
        if (e == null) {
            return null;
        }
        if (!e.hasBase()) {
            throw new IllegalStateException("the batch holds only merge operands for this key: their result "
                    + "depends on the DB's value (use getFromBatchAndDB)");
        }
        return BatchIndex.resolve(mergeOperator, key, e, null);
    }

    /**
     * The value of {@code key} with this batch applied over {@code db} as of {@code options} (its
     * snapshot, or the latest state): the batch's put or delete if it has one (with later merge
     * operands combined), else the DB's value with the batch's operands combined, else the DB's
     * value. Null when absent.
     */
    public byte[] getFromBatchAndDB(DB db, ReadOptions options, byte[] key) {
        if (db == null || options == null) {
            throw new IllegalArgumentException((db == null ? "db" : "read options") + " must not be null");
        }
        Limits.checkKey(key, "key");
        BatchIndex.Entry e = index.get(key);
        if (e == null) {
            return db.get(options, key);
        }
        byte[] dbValue = e.hasBase() ? null : db.get(options, key);
        return BatchIndex.resolve(operatorFor(db), key, e, dbValue);
    }

    /**
     * An iterator showing this batch over {@code base} (the batch's puts and merges replace or combine
     * with the base's entries, its deletes hide them). Takes over {@code base}: closing the returned
     * iterator closes it. Unbounded on the batch's side: use
     * {@link #newIteratorWithBase(DB, DBIterator, ReadOptions)} when the base has bounds. Merge operands
     * are combined by this batch's merge operator.
     */
    public DBIterator newIteratorWithBase(DBIterator base) {
        return new BaseDeltaIterator(base, index, mergeOperator, null, null);
    }

    /**
     * As {@link #newIteratorWithBase(DBIterator)}, for a {@code base} made by {@code db.iterator(options)}:
     * the batch's keys are kept within the same bounds, and merge operands are combined by the DB's
     * merge operator.
     */
    public DBIterator newIteratorWithBase(DB db, DBIterator base, ReadOptions options) {
        if (db == null || options == null) {
            throw new IllegalArgumentException((db == null ? "db" : "read options") + " must not be null");
        }
        return new BaseDeltaIterator(base, index, operatorFor(db), options.lowerBound(), options.upperBound());
    }

    private MergeOperator operatorFor(DB db) {
        MergeOperator op = DBImpl.mergeOperatorOf(db);
        return op != null ? op : mergeOperator;
    }

    /** The batch to apply with {@link DB#write}; do not change it directly. */
    public WriteBatch writeBatch() {
        return batch;
    }

    /** Number of operations. */
    public int count() {
        return batch.count();
    }

    /** Marks a point {@link #rollbackToSavePoint()} returns to; save points nest. */
    public void setSavePoint() {
        savePoints.push(index.count());
    }

    /**
     * Removes the operations added since the most recent {@link #setSavePoint()}, and that save point.
     *
     * @throws IllegalStateException if there is no save point
     */
    public void rollbackToSavePoint() {
        if (savePoints.isEmpty()) {
            throw new IllegalStateException("rollbackToSavePoint: no save point is set");
        }
        index.truncate(savePoints.pop(), batch);
    }

    /** Empties the batch, its index and its save points. */
    public void clear() {
        batch.clear();
        index.clear();
        savePoints.clear();
    }

    /** Same as {@link #clear()}. */
    @Override
    public void close() {
        clear();
    }
}
