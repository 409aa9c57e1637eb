package io.o3lsm;

/**
 * Per-write durability options. Like {@link Options} and {@link ReadOptions}, a mutable builder:
 * each setter changes this object and returns it, so a setter whose result is ignored still takes
 * effect ({@code wo.sync(true); db.put(k, v, wo)} syncs). {@link #defaults()} returns a new object
 * on every call: WAL on, no fsync — an acknowledged write survives a process crash but may be lost
 * if the machine crashes before the OS writes back.
 *
 * <p>A write reads this object when it starts, so changing it afterwards affects only later writes.
 * Not thread-safe while being changed: share an object between threads only once it is no longer
 * changed.
 */
public final class WriteOptions {
    private boolean sync;
    private boolean disableWal;
    private int replicationAcks;

    private WriteOptions() {
    }

    /** A new object: WAL on, no fsync. */
    public static WriteOptions defaults() {
        return new WriteOptions();
    }

    /** A new object with the same settings as this one. */
    public WriteOptions copy() {
        return new WriteOptions().sync(sync).disableWal(disableWal).replicationAcks(replicationAcks);
    }

    /**
     * When true, the WAL is fsynced before the write returns (group commit shares one fsync among
     * concurrent writers): the write survives a machine crash. Default false.
     */
    public WriteOptions sync(boolean sync) {
        this.sync = sync;
        return this;
    }

    /**
     * When true, the write skips the WAL: it is lost on any crash until its memtable is flushed.
     * Cannot be combined with {@code sync(true)} (checked when used). Default false.
     */
    public WriteOptions disableWal(boolean disableWal) {
        this.disableWal = disableWal;
        return this;
    }

    /**
     * On a primary ({@code Options.replicationListen}): 0 (the default) acknowledges the write once it
     * is in the local WAL and memtables, and backups get it asynchronously; {@code k >= 1} also waits
     * until {@code k} backups hold it in their memory. A write that waited in vain (fewer backups for
     * the DB's {@code replicationAckTimeout}, or the primary was fenced) fails with
     * {@link ReplicationException}: it is in the primary's WAL and may become visible, but was not
     * confirmed. On a DB without replication, {@code k >= 1} is refused with that exception before
     * anything is written; combined with {@code disableWal(true)} it is refused as a caller mistake.
     *
     * @throws IllegalArgumentException if {@code k} is negative or above 16
     */
    public WriteOptions replicationAcks(int k) {
        if (k < 0 || k > 16) {
            throw new IllegalArgumentException("replicationAcks must be in [0, 16], was " + k);
        }
        this.replicationAcks = k;
        return this;
    }

    public int replicationAcks() {
        return replicationAcks;
    }

    public boolean sync() {
        return sync;
    }

    public boolean disableWal() {
        return disableWal;
    }

    @Override
    public String toString() {
        return "WriteOptions{sync=" + sync + ", disableWal=" + disableWal + ", replicationAcks=" + replicationAcks + '}';
    }
}
