package io.o3lsm.internal.db;

import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.DBIterator;
import io.o3lsm.internal.util.FamilyFunctions;
import io.o3lsm.MergeOperator;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionConflictException;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.util.Limits;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An optimistic {@link Transaction} of a {@link DBImpl}: its writes go to a {@link WriteBatch} and a
 * {@link BatchIndex}; the keys it reads for update or writes are tracked with their read sequence;
 * {@link #commit()} hands the batch to the {@link WriteQueue} with a precondition that checks every
 * tracked key's newest sequence in the DB ({@link ReadPath#newestSequences}) while the commit leads
 * the write queue, so the check and the write are atomic with respect to every other write.
 *
 * <p>Read sequences: with a snapshot ({@link TransactionOptions#setSnapshot}) every key is tracked at
 * the snapshot's sequence. Without, a key is tracked at the DB's published sequence when first read
 * for update or written (read before the value is read: a write landing in between makes the commit
 * fail, never slip through), and the transaction holds a snapshot at its first tracked sequence, so
 * that compaction keeps every entry newer than any tracked sequence (a delete or range deletion at
 * the bottom level included): the check is exact.
 *
 * <p>Not thread-safe (one thread at a time), as {@link Transaction} says.
 */
final class TransactionImpl implements Transaction {
    private static final int ACTIVE = 0;
    private static final int COMMITTED = 1;
    private static final int ROLLED_BACK = 2;
    private static final int FAILED = 3;

    private record SavePoint(int ops, int tracked) {
    }

    private final Engine e;
    private final DBImpl db;
    private final WriteOptions wo;
    /** The transaction's snapshot (setSnapshot), or null. */
    private Snapshot snapshot;
    /** Without setSnapshot: held from the first tracked key on, at its sequence (see the class comment). */
    private Snapshot hold;
    private final WriteBatch batch = new WriteBatch();
    private final BatchIndex index = new BatchIndex();
    /** Tracked keys and the sequence each was first tracked at. */
    private final TreeMap<byte[], Long> tracked = new TreeMap<>(Arrays::compareUnsigned);
    /** Tracked keys in the order they were first tracked (save points cut it back). */
    private final List<byte[]> trackOrder = new ArrayList<>();
    private final ArrayDeque<SavePoint> savePoints = new ArrayDeque<>();
    private int state = ACTIVE;

    TransactionImpl(Engine e, DBImpl db, WriteOptions wo, TransactionOptions to) {
        this.e = e;
        this.db = db;
        this.wo = wo.copy();
        this.snapshot = to.setSnapshot() ? e.snapshots.create() : null;
    }

    private void checkActive() {
        switch (state) {
            case ACTIVE -> {
                return;
            }
            case COMMITTED -> throw new IllegalStateException("the transaction has committed");
            case ROLLED_BACK -> throw new IllegalStateException("the transaction was rolled back or closed");
            default -> throw new IllegalStateException("the transaction's commit failed; begin a new transaction");
        }
    }

    /** The sequence a key tracked now is checked against. */
    private long trackSequence() {
        if (snapshot != null) {
            return snapshot.sequence();
        }
        if (hold == null) {
            hold = e.snapshots.create(); // the published sequence, held under the mutex
            return hold.sequence();
        }
        return e.lastSequence;
    }

    private void track(byte[] key) {
        if (!tracked.containsKey(key)) {
            byte[] k = key.clone();
            tracked.put(k, trackSequence());
            trackOrder.add(k);
        }
    }

    private ReadOptions readOptions(ReadOptions ro) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        return ro.snapshot() == null && snapshot != null ? ro.copy().snapshot(snapshot) : ro;
    }

    /**
     * The operator that resolves the index's operands: the DB's; in a family-aware DB the dispatching
     * one, the index's keys being stored keys (family prefix and user key).
     */
    private MergeOperator mergeOperator() {
        return e.options.mergeOperator();
    }

    /** The family {@code cf} stands for, or null in a DB without families (then {@code cf} is its default). */
    private Families.Family family(ColumnFamilyHandle cf) {
        if (e.families != null) {
            return e.families.check(cf);
        }
        if (cf == null || cf != db.defaultColumnFamily()) {
            throw new IllegalArgumentException(cf == null ? "column family handle must not be null"
                    : cf + " is not a column family of DB " + e.dir);
        }
        return null;
    }

    /** The plain API's family: the default one (null in a DB without families). */
    private Families.Family defaultFamily() {
        return e.families == null ? null : e.families.defaultFamily();
    }

    /** The index's (and the conflict check's) key: the stored key in a family-aware DB. */
    private static byte[] indexKey(Families.Family f, byte[] key) {
        return f == null ? key.clone() : f.storedKey(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        put(defaultFamily(), key, value);
    }

    @Override
    public void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        put(family(cf), key, value);
    }

    private void put(Families.Family f, byte[] key, byte[] value) {
        checkActive();
        if (f == null) {
            batch.put(key, value); // checks key and value first
        } else {
            batch.put(f, key, value);
        }
        byte[] k = indexKey(f, key);
        track(k);
        index.put(k, value.clone());
    }

    @Override
    public void delete(byte[] key) {
        delete(defaultFamily(), key);
    }

    @Override
    public void delete(ColumnFamilyHandle cf, byte[] key) {
        delete(family(cf), key);
    }

    private void delete(Families.Family f, byte[] key) {
        checkActive();
        if (f == null) {
            batch.delete(key);
        } else {
            batch.delete(f, key);
        }
        byte[] k = indexKey(f, key);
        track(k);
        index.delete(k);
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        merge(defaultFamily(), key, operand);
    }

    @Override
    public void merge(ColumnFamilyHandle cf, byte[] key, byte[] operand) {
        merge(family(cf), key, operand);
    }

    private void merge(Families.Family f, byte[] key, byte[] operand) {
        checkActive();
        if (f == null ? mergeOperator() == null : f.mergeOperator() == null) {
            throw new IllegalStateException((f == null ? "DB " + e.dir + " has no merge operator (Options.mergeOperator)"
                    : "column family \"" + f.name + "\" has no merge operator (ColumnFamilyOptions.mergeOperator)")
                    + ": merge is refused");
        }
        if (f == null) {
            batch.merge(key, operand);
        } else {
            batch.merge(f, key, operand);
        }
        byte[] k = indexKey(f, key);
        track(k);
        index.merge(k, operand.clone());
    }

    @Override
    public byte[] get(ReadOptions options, byte[] key) {
        return get(options, defaultFamily(), key);
    }

    @Override
    public byte[] get(ReadOptions options, ColumnFamilyHandle cf, byte[] key) {
        return get(options, family(cf), key);
    }

    private byte[] get(ReadOptions options, Families.Family f, byte[] key) {
        checkActive();
        ReadOptions ro = readOptions(options);
        Limits.checkKey(key, "key");
        byte[] k = f == null ? key : f.storedKey(key);
        BatchIndex.Entry entry = index.get(k);
        if (entry == null) {
            return f == null ? db.get(ro, key) : db.get(ro, f, key);
        }
        byte[] dbValue = entry.hasBase() ? null : f == null ? db.get(ro, key) : db.get(ro, f, key);
        return BatchIndex.resolve(mergeOperator(), k, entry, dbValue);
    }

    @Override
    public byte[] getForUpdate(ReadOptions options, byte[] key) {
        return getForUpdate(options, defaultFamily(), key);
    }

    @Override
    public byte[] getForUpdate(ReadOptions options, ColumnFamilyHandle cf, byte[] key) {
        return getForUpdate(options, family(cf), key);
    }

    private byte[] getForUpdate(ReadOptions options, Families.Family f, byte[] key) {
        checkActive();
        if (options == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        if (options.snapshot() != null && options.snapshot() != snapshot) {
            throw new IllegalArgumentException("getForUpdate reads at the transaction's own snapshot (or the latest "
                    + "state without one): the conflict check could not cover a read at another snapshot; use get");
        }
        Limits.checkKey(key, "key");
        track(indexKey(f, key)); // before the read: the read's sequence is at least the tracked one
        return get(options, f, key);
    }

    @Override
    public DBIterator iterator(ReadOptions options) {
        return iterator(options, defaultFamily());
    }

    @Override
    public DBIterator iterator(ReadOptions options, ColumnFamilyHandle cf) {
        return iterator(options, family(cf));
    }

    private DBIterator iterator(ReadOptions options, Families.Family f) {
        checkActive();
        ReadOptions ro = readOptions(options);
        if (f == null) {
            return new BaseDeltaIterator(db.iterator(ro), index, mergeOperator(), ro.lowerBound(), ro.upperBound());
        }
        // the DB's stored keys of the family and the index's (stored too), merged, then the prefix stripped
        return e.families.withIndex(f, ro, (base, lower, upper) -> new BaseDeltaIterator(base, index, mergeOperator(),
                lower, upper));
    }

    @Override
    public void setSavePoint() {
        checkActive();
        savePoints.push(new SavePoint(index.count(), trackOrder.size()));
    }

    @Override
    public void rollbackToSavePoint() {
        checkActive();
        if (savePoints.isEmpty()) {
            throw new IllegalStateException("rollbackToSavePoint: no save point is set");
        }
        SavePoint sp = savePoints.pop();
        index.truncate(sp.ops(), batch, e.families == null ? null : e.families::handleOf);
        List<byte[]> since = trackOrder.subList(sp.tracked(), trackOrder.size());
        for (byte[] k : since) {
            tracked.remove(k);
        }
        since.clear();
    }

    @Override
    public void commit() {
        checkActive();
        List<byte[]> keys = new ArrayList<>(tracked.size());
        long[] readSeqs = new long[tracked.size()];
        for (Map.Entry<byte[], Long> t : tracked.entrySet()) {
            readSeqs[keys.size()] = t.getValue();
            keys.add(t.getKey());
        }
        boolean ok = false;
        try {
            e.writes.write(batch, wo, keys.isEmpty() ? null : () -> check(keys, readSeqs));
            ok = true;
        } finally {
            state = ok ? COMMITTED : FAILED;
            release();
        }
    }

    /** The write leader's precondition: no tracked key has an entry newer than its read sequence. */
    private void check(List<byte[]> keys, long[] readSeqs) {
        long[] newest = e.reads.newestSequences(keys, e.lastSequence); // stored keys in a family-aware DB
        for (int i = 0; i < newest.length; i++) {
            if (newest[i] > readSeqs[i]) {
                byte[] k = keys.get(i);
                throw new TransactionConflictException(e.families == null ? k : FamilyFunctions.userKey(k),
                        readSeqs[i], newest[i]);
            }
        }
    }

    @Override
    public void rollback() {
        if (state == ACTIVE) {
            state = ROLLED_BACK;
        }
        release();
    }

    @Override
    public int count() {
        return batch.count();
    }

    @Override
    public void close() {
        rollback();
    }

    private void release() {
        batch.clear();
        index.clear();
        tracked.clear();
        trackOrder.clear();
        savePoints.clear();
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        if (hold != null) {
            hold.close();
            hold = null;
        }
    }

    @Override
    public String toString() {
        return "Transaction{" + (state == ACTIVE ? "active" : state == COMMITTED ? "committed"
                : state == ROLLED_BACK ? "rolled back" : "failed") + ", ops=" + batch.count() + ", tracked="
                + tracked.size() + (snapshot != null ? ", snapshot=" + snapshot.sequence() : "") + '}';
    }
}
