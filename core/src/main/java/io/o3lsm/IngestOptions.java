package io.o3lsm;

/**
 * Options of {@link DB#ingest(java.util.List, IngestOptions)}. Like {@link WriteOptions}, a mutable
 * builder: each setter changes this object and returns it. {@link #defaults()} returns a new object
 * on every call: files are copied (the originals stay where they are) and an ingest that overlaps
 * unflushed writes flushes them first.
 *
 * <p>Not thread-safe while being changed; an ingest reads the object once, when it starts.
 */
public final class IngestOptions {
    private boolean moveFiles;
    private boolean allowBlockingFlush = true;

    private IngestOptions() {
    }

    /** A new object: copy the files, allow a blocking flush. */
    public static IngestOptions defaults() {
        return new IngestOptions();
    }

    /** A new object with the same settings as this one. */
    public IngestOptions copy() {
        return new IngestOptions().moveFiles(moveFiles).allowBlockingFlush(allowBlockingFlush);
    }

    /**
     * When true, a file that can be taken as it is is hard-linked into the DB directory instead of
     * copied (the caller should then not change or reuse the original; deleting it is fine). Where
     * the DB's file system has no hard links, or the file must be rewritten (an assigned sequence
     * number, a column family's key prefix), it is copied as if this were false. Default false.
     */
    public IngestOptions moveFiles(boolean moveFiles) {
        this.moveFiles = moveFiles;
        return this;
    }

    /** See {@link #moveFiles(boolean)}. */
    public boolean moveFiles() {
        return moveFiles;
    }

    /**
     * When true (the default), an ingest whose key range overlaps writes still in the memtables
     * flushes those memtables first, with writes paused meanwhile. When false, such an ingest is
     * refused with {@link IllegalStateException} and nothing changes.
     */
    public IngestOptions allowBlockingFlush(boolean allowBlockingFlush) {
        this.allowBlockingFlush = allowBlockingFlush;
        return this;
    }

    /** See {@link #allowBlockingFlush(boolean)}. */
    public boolean allowBlockingFlush() {
        return allowBlockingFlush;
    }

    @Override
    public String toString() {
        return "IngestOptions(moveFiles=" + moveFiles + ", allowBlockingFlush=" + allowBlockingFlush + ")";
    }
}
