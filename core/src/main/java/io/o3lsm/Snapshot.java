package io.o3lsm;

/**
 * A consistent, read-only point-in-time view of a {@link DB}: reads through
 * {@link ReadOptions#snapshot(Snapshot)} see exactly the writes acknowledged before
 * {@link DB#snapshot()} returned. Compaction keeps every version a live snapshot can see, so close
 * snapshots promptly. Thread-safe; {@link #close()} is idempotent. Using a closed snapshot throws
 * {@link IllegalStateException}.
 */
public interface Snapshot extends AutoCloseable {
    /** The sequence number this snapshot reads at. */
    long sequence();

    /** Releases the snapshot. */
    @Override
    void close();
}
