package io.o3lsm.spi;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Primary-to-backup replication as the engine sees it (Talos: the primary's log goes into the
 * backup's memory by one-sided RMA writes, and after every flush or compaction the primary ships
 * the tables it built, so a backup never flushes or compacts). The dm module implements it over UCX;
 * the engine finds it with {@link java.util.ServiceLoader} through {@link Provider} when
 * {@code Options.replicationListen(...)} (a primary) or {@code DB.openReplica(...)} (a backup) asks
 * for it. Design: {@code docs/design/replication.md}; wire format: {@code docs/format/replication-protocol.md}.
 *
 * <p>The split of work: the transport moves bytes (log groups, table files, edits) and says which
 * backups hold what; the engine decides what to send (what a connecting backup lacks, which log
 * records it still needs) and what a backup does with what it receives (its log files, its
 * MANIFEST, its memtables).
 */
public final class Replication {
    private Replication() {
    }

    /** Starts both ends; registered in {@code META-INF/services/io.o3lsm.spi.Replication$Provider}. */
    public interface Provider {
        /** A primary's end: listens for backups at {@code config.listen()}; returns once listening. */
        Primary listen(PrimaryConfig config, Source source) throws IOException;

        /**
         * A backup's end: connects to {@code config.primary()} and feeds {@code target} until closed,
         * reconnecting (and catching up) after the primary is lost, until {@link Backup#close}.
         * Returns at once; connecting happens in the background.
         */
        Backup follow(BackupConfig config, Target target) throws IOException;
    }

    /**
     * @param listen      {@code host:port} to listen on for backups (port 0: any free port)
     * @param secret      the cluster secret: backups prove they hold it (HMAC), and so does the primary
     * @param dbId        the DB's identity (its IDENTITY file); a backup holding another DB's files starts over
     * @param epoch       the primary's open epoch; a backup that has followed a newer epoch refuses it (fencing)
     * @param fs          where the primary's tables are, for shipping them
     * @param dir         the primary's directory on {@code fs}
     * @param ackTimeout  how long a write waits for backups' acknowledgements before it fails
     */
    public record PrimaryConfig(String listen, byte[] secret, String dbId, long epoch, FileSystem fs, Path dir,
            Duration ackTimeout) {
    }

    /**
     * @param primary     {@code host:port} of the primary's replication listener
     * @param secret      the cluster secret
     * @param name        this backup's name, for logs and the primary's status
     * @param logBuffer   bytes of the registered buffer the primary writes log groups into
     * @param timeout     a primary silent this long (no message, no heartbeat) is presumed lost
     */
    public record BackupConfig(String primary, byte[] secret, String name, long logBuffer, Duration timeout) {
    }

    /** A table file to ship: its number and size in the primary's directory. */
    public record FileRef(long number, long size) {
    }

    // ---------------------------------------------------------------- primary side

    /** The primary's end of replication. Thread-safe unless a method says otherwise. */
    public interface Primary extends AutoCloseable {
        /** The address backups connect to (the real port when the config asked for port 0). */
        String address();

        /**
         * Write leader only: hands one write group to every live backup. {@code records} are the
         * group's write batches exactly as the WAL holds them (each starts with its sequence and count),
         * {@code walNumber} the WAL they went to. Copies them before returning; returns the group's
         * ticket for {@link #awaitAcks}. A backup whose log buffer stays full for {@code ackTimeout}
         * is dropped (it reconnects and catches up), so a slow backup never stops the primary for longer.
         */
        long publish(long walNumber, List<byte[]> records, int[] lengths) throws IOException;

        /**
         * Waits until {@code acks} backups hold the group of {@code ticket} and every earlier one in
         * their memory (remote completion of the RMA writes), or fails: fewer live backups than
         * {@code acks} for the whole {@code ackTimeout}, or the primary was fenced by a newer epoch. A
         * backup that goes live counts as holding every group published before (its catch-up took
         * them from the WAL, which is why a write asking for acknowledgements must be in the WAL).
         */
        void awaitAcks(long ticket, int acks) throws IOException;

        /**
         * Ships an installed edit (a flush's or a compaction's; its bytes are the engine's own and
         * opaque to the transport), in install order, to every backup:
         * first the bytes of {@code newFiles}, then the edit itself. Returns at once; {@code release}
         * runs once every backup that was live or catching up has been sent it or has gone (the
         * caller keeps the files alive until then).
         */
        void shipEdit(byte[] edit, List<FileRef> newFiles, Runnable release);

        /** Backups connected (live or catching up), for properties. */
        List<BackupStatus> backups();

        @Override
        void close();
    }

    /** One backup as the primary sees it. */
    public record BackupStatus(String name, boolean live, long ackedTicket, long bytesSent, boolean fenced) {
    }

    /**
     * What the primary's engine provides its transport: the catch-up of a backup that connected.
     * Called on a transport thread, one per backup; it may take long.
     */
    public interface Source {
        /**
         * Brings {@code link}'s backup up to date, then makes it live: sends the files it lacks and a
         * snapshot edit of the current state, then the log records it still needs, and finally (under
         * the WAL's append lock, so no group is missed or sent twice) {@link Link#goLive}.
         *
         * @throws IOException when the link fails; the transport drops the backup (it reconnects)
         */
        void catchUp(Link link) throws IOException;
    }

    /** A backup being caught up; the engine's view of one connection. */
    public interface Link {
        /** The backup's name. */
        String name();

        /** What the backup says it holds: the DB it belongs to (null: nothing), its files and applied sequence. */
        Holdings holdings();

        /** Sends one table file's bytes from the primary's directory; returns once the backup verified them. */
        void sendFile(FileRef file) throws IOException;

        /**
         * Sends the snapshot edit: the backup's tables become exactly its files (others are deleted).
         * {@code keptSequence}: the backup keeps the log records it applied up to there and drops the
         * rest (0: drops all, as when it holds another DB or more than this primary has); the log
         * records this link then sends start after it.
         */
        void sendSnapshot(byte[] edit, long keptSequence) throws IOException;

        /** Sends one log record (a write batch as the WAL holds it), in sequence order; waits for the transport's flow control. */
        void sendLog(long walNumber, byte[] record, int length) throws IOException;

        /**
         * Caller holds the primary's WAL append lock (no group is being written): from the next
         * {@link Primary#publish} on, this backup gets every group; edits shipped since
         * {@link Source#catchUp} began follow the snapshot. {@code lastSequence}, the primary's last
         * written sequence, reaches the backup after every record sent before ({@link Target#caughtUp}).
         */
        void goLive(long lastSequence) throws IOException;
    }

    /** What a connecting backup holds. */
    public record Holdings(String dbId, long epoch, Map<Long, Long> files, long appliedSequence) {
    }

    // ---------------------------------------------------------------- backup side

    /** The backup's end. */
    public interface Backup extends AutoCloseable {
        /** Whether a primary is connected and this backup is live (caught up). */
        boolean live();

        /** Stops following: disconnects and stops reconnecting. Idempotent. */
        @Override
        void close();
    }

    /**
     * What a backup's engine provides its transport. Calls come from one transport thread at a time,
     * in the order the primary sent them.
     */
    public interface Target {
        /** What this backup holds, told to a primary at every connection. */
        Holdings holdings();

        /** A primary with {@code epoch} authenticated; false refuses it (fenced: an older epoch than one followed). */
        boolean acceptPrimary(String dbId, long epoch);

        /**
         * Opens the file the bytes of table {@code number} are written to; {@link #fileDone} or
         * {@link #fileFailed} follows. The Target owns the file: the transport only appends to it; the
         * Target syncs and closes it in {@code fileDone}, closes and removes it in {@code fileFailed}.
         */
        FileSystem.WritableFile fileBegin(long number) throws IOException;

        /** All of table {@code number} arrived and was verified: it is synced and takes its place. */
        void fileDone(long number, long size) throws IOException;

        /** Receiving table {@code number} failed: what arrived is removed. */
        void fileFailed(long number);

        /** The primary's state as of its snapshot edit; see {@link Link#sendSnapshot}. */
        void applySnapshot(byte[] edit, long keptSequence) throws IOException;

        /**
         * Every record up to {@code lastSequence} has been delivered (those in tables aside): the
         * catch-up is over, and reads may see up to there.
         */
        void caughtUp(long lastSequence) throws IOException;

        /** An edit the primary installed after the snapshot; its new tables have arrived. */
        void applyEdit(byte[] edit) throws IOException;

        /** One log record, in sequence order (catch-up and live records alike). */
        void applyLog(long walNumber, byte[] record, int offset, int length) throws IOException;

        /** No more records are waiting right now: the log may be handed to the file system. */
        void logIdle() throws IOException;
    }
}
