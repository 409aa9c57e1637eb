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

    private WriteOptions() {
    }

    /** A new object: WAL on, no fsync. */
    public static WriteOptions defaults() {
        return new WriteOptions();
    }

    /** A new object with the same settings as this one. */
    public WriteOptions copy() {
        return new WriteOptions().sync(sync).disableWal(disableWal);
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

    public boolean sync() {
        return sync;
    }

    public boolean disableWal() {
        return disableWal;
    }

    @Override
    public String toString() {
        return "WriteOptions{sync=" + sync + ", disableWal=" + disableWal + '}';
    }
}
