package io.o3lsm.internal.db;

import io.o3lsm.internal.version.Version;
import java.nio.file.Path;
import java.util.List;

/**
 * A checkpoint written without its tables, for the backup engine: the directory holds the WALs to the
 * cut, the MANIFEST, CURRENT, IDENTITY and the TTL marker, and {@link #tables()} names the tables of
 * the version it was cut at, which stay in the DB's directory: that version is pinned (no table of it
 * is deleted) and the call counts as a running checkpoint ({@code close} waits for it) until
 * {@link #close()}. Read them from {@link #directory()} meanwhile. Not thread-safe.
 */
public final class PinnedCheckpoint implements AutoCloseable {
    /** A table of the pinned version: its file name in the DB directory and its length. */
    public record Table(String name, long size) {
    }

    private final Engine e;
    private final long sequence;
    private final List<Table> tables;
    private Version pinned;

    PinnedCheckpoint(Engine e, long sequence, List<Table> tables, Version pinned) {
        this.e = e;
        this.sequence = sequence;
        this.tables = List.copyOf(tables);
        this.pinned = pinned;
    }

    /** The sequence the checkpoint is cut at. */
    public long sequence() {
        return sequence;
    }

    /** The pinned version's tables, not in the checkpoint's directory. */
    public List<Table> tables() {
        return tables;
    }

    /** The DB's directory, where {@link #tables()} are (on the DB's file system). */
    public Path directory() {
        return e.dir;
    }

    /** Throws {@link io.o3lsm.DBClosedException} once the DB is closing: call between files. */
    public void checkNotClosing() {
        if (e.closing) {
            throw new io.o3lsm.DBClosedException("backup of " + e.dir + " given up: the DB is closing");
        }
    }

    /** Unpins the version; {@code close} of the DB no longer waits for this. Idempotent. */
    @Override
    public void close() {
        if (pinned == null) {
            return;
        }
        pinned.unref();
        pinned = null;
        e.mutex.lock();
        try {
            e.checkpoints--;
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }
}
