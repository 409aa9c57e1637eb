package io.o3lsm;

/**
 * Per-write durability options. Immutable; {@link #defaults()} is WAL on, no fsync: an acknowledged
 * write survives a process crash but may be lost if the machine crashes before the OS writes back.
 */
public final class WriteOptions {
    private static final WriteOptions DEFAULTS = new WriteOptions(false, false);
    private static final WriteOptions SYNC = new WriteOptions(true, false);

    private final boolean sync;
    private final boolean disableWal;

    private WriteOptions(boolean sync, boolean disableWal) {
        this.sync = sync;
        this.disableWal = disableWal;
    }

    /** WAL on, no fsync. */
    public static WriteOptions defaults() {
        return DEFAULTS;
    }

    /**
     * When true, the WAL is fsynced before the write returns (group commit shares one fsync among
     * concurrent writers): the write survives a machine crash. Default false.
     */
    public WriteOptions sync(boolean sync) {
        if (sync && !disableWal) {
            return SYNC;
        }
        return new WriteOptions(sync, disableWal);
    }

    /**
     * When true, the write skips the WAL: it is lost on any crash until its memtable is flushed.
     * Cannot be combined with {@code sync(true)} (checked when used). Default false.
     */
    public WriteOptions disableWal(boolean disableWal) {
        return new WriteOptions(sync, disableWal);
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
