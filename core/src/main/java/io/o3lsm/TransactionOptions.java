package io.o3lsm;

/**
 * Options of one {@link Transaction} ({@link DB#beginTransaction(WriteOptions, TransactionOptions)}).
 * Like {@link ReadOptions}, a mutable builder: each setter changes this object and returns it.
 * {@link #defaults()} returns a new object on every call (no snapshot). The transaction takes what
 * it needs when it begins. Not thread-safe while being changed.
 */
public final class TransactionOptions {
    private boolean setSnapshot;

    private TransactionOptions() {
    }

    /** A new object with every setting at its default. */
    public static TransactionOptions defaults() {
        return new TransactionOptions();
    }

    /** A new object with the same settings as this one. */
    public TransactionOptions copy() {
        return new TransactionOptions().setSnapshot(setSnapshot);
    }

    /**
     * When true (RocksJava's {@code setSetSnapshot(true)}), the transaction takes a snapshot when it
     * begins: its reads see the DB as of that snapshot (overlaid with its own writes), and commit
     * fails if any key it read with {@code getForUpdate} or wrote was written by someone else after
     * the snapshot. When false (the default), each key is checked against the DB's latest sequence at
     * the time the transaction first read it with {@code getForUpdate} or first wrote it, and reads
     * see the latest state. See {@code docs/transactions.md}.
     */
    public TransactionOptions setSnapshot(boolean v) {
        this.setSnapshot = v;
        return this;
    }

    /** Whether the transaction takes a snapshot when it begins. */
    public boolean setSnapshot() {
        return setSnapshot;
    }

    @Override
    public String toString() {
        return "TransactionOptions{setSnapshot=" + setSnapshot + '}';
    }
}
