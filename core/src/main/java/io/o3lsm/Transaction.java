package io.o3lsm;

/**
 * An optimistic transaction ({@link DB#beginTransaction}): writes are buffered in the transaction
 * (a {@link WriteBatchWithIndex}) and reach the DB atomically at {@link #commit()}; reads through
 * the transaction see its own writes over the DB. Nothing is locked: {@link #commit()} checks that no
 * key the transaction read with {@link #getForUpdate} or wrote was written by anyone else since the
 * transaction's read sequence for that key, and fails with {@link TransactionConflictException}
 * (writing nothing) if one was. The check and the write are one step of the DB's write path, atomic
 * with respect to every other write, transactional or not. Semantics (those of RocksJava's
 * {@code OptimisticTransactionDB}, with the differences listed there) are in
 * {@code docs/transactions.md}.
 *
 * <pre>{@code
 * while (true) {
 *     try (Transaction txn = db.beginTransaction(WriteOptions.defaults())) {
 *         byte[] v = txn.getForUpdate(ReadOptions.defaults(), key);
 *         txn.put(key, increment(v));
 *         txn.commit();
 *         break;
 *     } catch (TransactionConflictException conflict) {
 *         // someone else wrote key meanwhile: read and try again
 *     }
 * }
 * }</pre>
 *
 * <p>A transaction ends with {@link #commit()} (whether it succeeds or throws), {@link #rollback()}
 * or {@link #close()}; afterwards every method but {@code close} and {@code rollback} throws
 * {@link IllegalStateException}. {@code close} rolls back a transaction that has not committed.
 * Not thread-safe: one thread at a time. Keys and values are checked as by {@link DB#put}.
 */
public interface Transaction extends AutoCloseable {
    /** Buffers a put of {@code key}; tracks {@code key} for the conflict check. */
    void put(byte[] key, byte[] value);

    /** Buffers a delete of {@code key}; tracks {@code key} for the conflict check. */
    void delete(byte[] key);

    /**
     * Buffers a merge of {@code operand} into {@code key} ({@link DB#merge}); tracks {@code key}.
     *
     * @throws IllegalStateException if the DB was opened without a merge operator
     */
    void merge(byte[] key, byte[] operand);

    /**
     * The value of {@code key} as this transaction sees it: its own buffered writes over the DB as of
     * the read options' snapshot, else the transaction's snapshot (with
     * {@link TransactionOptions#setSnapshot}), else the latest state. Buffered merges are combined
     * with the DB's value by the DB's merge operator. Does not track the key. Null when absent.
     */
    byte[] get(ReadOptions options, byte[] key);

    /**
     * As {@link #get}, and tracks {@code key}: commit fails if anyone else writes it after the
     * transaction's read sequence for it (the transaction's snapshot, or the latest sequence now).
     *
     * @throws IllegalArgumentException if {@code options} names a snapshot other than the transaction's
     *                                  own (the conflict check could not cover what such a read saw)
     */
    byte[] getForUpdate(ReadOptions options, byte[] key);

    /**
     * An iterator over the DB as of the read options' snapshot (else the transaction's snapshot, else
     * now) with the transaction's buffered writes merged over it, within the read options' bounds.
     * It sees the buffered writes as they are when it moves. Close it. Does not track keys.
     */
    DBIterator iterator(ReadOptions options);

    /** Marks a point {@link #rollbackToSavePoint()} returns to; save points nest. */
    /** {@link #put(byte[], byte[])} in column family {@code family} of the transaction's DB. */
    void put(ColumnFamilyHandle family, byte[] key, byte[] value);

    /** {@link #delete(byte[])} in column family {@code family}. */
    void delete(ColumnFamilyHandle family, byte[] key);

    /** {@link #merge(byte[], byte[])} in column family {@code family}, combined by the family's operator. */
    void merge(ColumnFamilyHandle family, byte[] key, byte[] operand);

    /** {@link #get(ReadOptions, byte[])} in column family {@code family}. */
    byte[] get(ReadOptions options, ColumnFamilyHandle family, byte[] key);

    /** {@link #getForUpdate(ReadOptions, byte[])} in column family {@code family}. */
    byte[] getForUpdate(ReadOptions options, ColumnFamilyHandle family, byte[] key);

    /** {@link #iterator(ReadOptions)} over column family {@code family} only. Close it. */
    DBIterator iterator(ReadOptions options, ColumnFamilyHandle family);

    void setSavePoint();

    /**
     * Undoes the writes (and forgets the keys first tracked) since the most recent
     * {@link #setSavePoint()}, and removes that save point.
     *
     * @throws IllegalStateException if there is no save point
     */
    void rollbackToSavePoint();

    /**
     * Checks the tracked keys and, if none was written by anyone else since the transaction read
     * them, writes the buffered writes atomically with the transaction's write options. Ends the
     * transaction whatever happens.
     *
     * @throws TransactionConflictException naming the first conflicting key found; nothing was written
     */
    void commit();

    /** Discards the buffered writes and ends the transaction. Idempotent. */
    void rollback();

    /** Number of buffered operations. */
    int count();

    /** Rolls back unless committed; releases the transaction's snapshot. Idempotent. */
    @Override
    void close();
}
