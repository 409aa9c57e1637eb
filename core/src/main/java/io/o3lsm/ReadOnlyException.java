package io.o3lsm;

/** A write, flush or compaction was asked of a read-only DB: a replica ({@link DB#openReplica}). */
public class ReadOnlyException extends O3Exception {
    private static final long serialVersionUID = 1L;

    public ReadOnlyException(String message) {
        super(message);
    }
}
