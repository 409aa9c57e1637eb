package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReplicationException;
import io.o3lsm.WriteBatch;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogReader;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.internal.version.VersionSet;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The primary's side of replication (docs/design/replication.md): publishes every write group to the
 * transport, waits for backups' acknowledgements when a write asks for them, ships every installed
 * edit with its new tables, and catches up a backup that connects ({@link #catchUp}).
 *
 * <p>Threads: {@link #publish} runs on the write leader under the WAL's append lock (so a catch-up,
 * which takes that lock to go live, sees every group either in the WAL or published to it);
 * {@link #awaitAcks} on the leader without locks; {@link #shipInstalled} under the installer's lock;
 * {@link #catchUp} on a transport thread.
 */
final class ReplicationSource implements Replication.Source {
    private final Engine e;
    private Replication.Primary primary;

    /** Ids of shipped edits, under the installer's lock: a backup skips those its snapshot already holds. */
    private long editIds;
    /** The epoch before this open's, and the last sequence this open recovered: where this epoch's log begins. */
    private final long previousEpoch;
    private final long epochStart;

    /** The ticket of the last group published (-1: none). */
    private volatile long lastTicket = -1;

    /** Leader-owned scratch for {@link #publish}. */
    private final List<byte[]> records = new ArrayList<>();
    private int[] lengths = new int[16];

    ReplicationSource(Engine e, long previousEpoch, long epochStart) {
        this.e = e;
        this.previousEpoch = previousEpoch;
        this.epochStart = epochStart;
    }

    /** An edit as a backup gets it: its 8-byte id (little-endian), then the VersionEdit. */
    private static byte[] withId(long id, VersionEdit edit) {
        byte[] body = edit.encode();
        byte[] out = new byte[8 + body.length];
        Coding.putFixed64(out, 0, id);
        System.arraycopy(body, 0, out, 8, body.length);
        return out;
    }

    /** The transport: the options' own, or the one on the class path. */
    static Replication.Provider provider(Options o) {
        if (o.replicationProvider() != null) {
            return o.replicationProvider();
        }
        for (Replication.Provider p : ServiceLoader.load(Replication.Provider.class,
                Replication.Provider.class.getClassLoader())) {
            return p;
        }
        throw new O3Exception("replication needs a transport and none is on the class path (add the o3lsm-dm module)");
    }

    /** Open, after recovery: starts listening for backups. */
    void start(String dbId) throws IOException {
        byte[] secret = DmPreflight.readSecret(e.options.replicationSecretFile(), "replication");
        primary = provider(e.options).listen(new Replication.PrimaryConfig(e.options.replicationListen(), secret, dbId,
                e.versions.epoch(), e.fs, e.dir, e.options.replicationAckTimeout()), this);
    }

    /** The listening address (the real port), for properties. */
    String address() {
        return primary == null ? null : primary.address();
    }

    List<Replication.BackupStatus> backups() {
        return primary == null ? List.of() : primary.backups();
    }

    /**
     * Write leader, WAL append lock held: hands the group to the transport. Returns the group's
     * ticket, or -1 when the transport failed (async writes go on; writes waiting for
     * acknowledgements fail in {@link #awaitAcks}).
     */
    long publish(long walNumber, List<WriteBatch> group) {
        records.clear();
        if (lengths.length < group.size()) {
            lengths = new int[Math.max(group.size(), lengths.length * 2)];
        }
        for (int i = 0; i < group.size(); i++) {
            WriteBatch b = group.get(i);
            records.add(b.rep());
            lengths[i] = b.size();
        }
        try {
            long t = primary.publish(walNumber, records, lengths);
            lastTicket = t;
            return t;
        } catch (IOException | RuntimeException ex) {
            Engine.LOG.warning("replication of a write group of " + e.dir + " failed: " + ex);
            return -1;
        } finally {
            records.clear();
        }
    }

    /** Write leader, no lock held: waits until {@code acks} backups hold the group of {@code ticket}. */
    ReplicationException awaitAcks(long ticket, int acks) {
        if (ticket < 0) {
            return new ReplicationException("the write is in the WAL of " + e.dir + " but could not be handed to "
                    + "its backups (the replication transport failed; see the log)");
        }
        try {
            primary.awaitAcks(ticket, acks);
            return null;
        } catch (IOException | RuntimeException ex) {
            return new ReplicationException("the write is in the WAL of " + e.dir + " but was not confirmed by "
                    + acks + " backup(s): " + ex.getMessage(), ex);
        }
    }

    /**
     * Installer's lock held, right after the MANIFEST append: ships {@code edit} and its new tables.
     * {@code v} (the version it made) stays pinned until every backup has been sent it, so no later
     * compaction deletes a table still being shipped.
     */
    void shipInstalled(VersionEdit edit, Version v) {
        shipInstalled(edit, v, false);
    }

    /**
     * Bit 63 of a shipped edit's id: the edit is an ingest ({@link IngestJob}) that took sequence
     * {@code edit.lastSequence} for its tables, a sequence no log record carries. A backup installs it once
     * its log reached the sequence just before, and publishes the ingest's sequence with it, so the write
     * after the ingest follows without a gap (docs/design/replication.md, "Bulk ingest").
     */
    static final long INGEST_EDIT = 1L << 63;

    /**
     * As {@link #shipInstalled(VersionEdit, Version)}; with {@code ingest}, the edit is flagged as an
     * ingest's. Returns a latch released once every backup that was live or catching up has been sent
     * the edit (acknowledged it) or has gone; an ingest waits for it (bounded) before writes go on.
     */
    java.util.concurrent.CountDownLatch shipInstalled(VersionEdit edit, Version v, boolean ingest) {
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(1);
        if (!e.options.replicationShipTables()) {
            sent.countDown();
            return sent; // the baseline: backups rebuild their own tables from the log
        }
        List<Replication.FileRef> files = new ArrayList<>(edit.newFiles.size());
        java.util.Set<Long> moved = new java.util.HashSet<>();
        for (long[] d : edit.deletedFiles) {
            moved.add(d[1]);
        }
        for (Map.Entry<Integer, FileMetaData> f : edit.newFiles) {
            if (!moved.contains(f.getValue().number)) { // a file moved to another level: the backup has it
                files.add(new Replication.FileRef(f.getValue().number, f.getValue().size));
            }
        }
        long id = ++editIds;
        v.ref();
        try {
            primary.shipEdit(withId(ingest ? id | INGEST_EDIT : id, edit), files, () -> {
                v.unref();
                sent.countDown();
            });
        } catch (RuntimeException ex) {
            v.unref();
            sent.countDown();
            Engine.LOG.warning("shipping an edit of " + e.dir + " to its backups failed (they catch up when they "
                    + "reconnect): " + ex);
        }
        return sent;
    }

    /**
     * Close, after the last write: the live backups get up to the ack timeout to hold every group
     * published (a clean close leaves them as up to date as the primary), then the transport stops.
     */
    void close() {
        if (primary == null) {
            return;
        }
        long t = lastTicket;
        int live = 0;
        for (Replication.BackupStatus b : primary.backups()) {
            live += b.live() && !b.fenced() ? 1 : 0;
        }
        if (t >= 0 && live > 0) {
            try {
                primary.awaitAcks(t, live);
            } catch (IOException | RuntimeException ex) {
                Engine.LOG.warning("closing " + e.dir + ": not every backup holds its last writes (they catch up when "
                        + "they reconnect): " + ex.getMessage());
            }
        }
        primary.close();
    }

    // ---------------------------------------------------------------- catch-up (transport thread)

    @Override
    public void catchUp(Replication.Link link) throws IOException {
        Replication.Holdings h = link.holdings();
        String dbId = Recovery.identity(e.fs, e.dir);
        boolean sameDb = h != null && dbId.equals(h.dbId());
        long kept;
        // the snapshot and the id of the last edit it holds, with no install in between
        long[] snapId = new long[1];
        VersionSet.Pinned snap = e.installer.locked(() -> {
            snapId[0] = editIds;
            return e.versions.pinnedSnapshot();
        });
        try {
            for (Map.Entry<Integer, FileMetaData> nf : snap.edit().newFiles) {
                FileMetaData f = nf.getValue();
                if (!e.options.replicationShipTables()) {
                    break;
                }
                Long held = sameDb ? h.files().get(f.number) : null;
                if (held == null || held != f.size) {
                    link.sendFile(new Replication.FileRef(f.number, f.size));
                }
            }
            kept = sameDb ? keptSequence(h) : 0;
            link.sendSnapshot(withId(snapId[0], snap.edit()), kept);
        } finally {
            snap.version().unref();
        }
        // the closed WALs without a lock, then the rest under the append lock, then live
        long[] sent = {-1};
        List<Long> closed;
        e.mutex.lock();
        try {
            closed = e.wals.live();
        } finally {
            e.mutex.unlock();
        }
        long current = e.wals.number();
        for (long w : closed) {
            if (w < current) {
                sendWal(link, w, kept, false);
                sent[0] = w;
            }
        }
        e.wals.underAppendLock(() -> {
            List<Long> rest;
            e.mutex.lock();
            try {
                rest = e.wals.live();
            } finally {
                e.mutex.unlock();
            }
            for (long w : rest) {
                if (w > sent[0]) {
                    sendWal(link, w, kept, true);
                }
            }
            link.goLive(e.lastSequence);
        });
    }

    /**
     * How much of its log a backup of this DB keeps: all it applied when it followed this epoch and
     * holds no more than this primary has; when it followed the epoch before this open's, what it
     * applied up to where this epoch's log begins (the log of that epoch up to there is this one's);
     * otherwise nothing (it followed another history: another epoch's primary, or one that lost
     * writes it had published).
     */
    private long keptSequence(Replication.Holdings h) {
        long applied = h.appliedSequence();
        if (h.epoch() == e.versions.epoch() && applied <= e.lastSequence) {
            return applied;
        }
        if (h.epoch() == previousEpoch && applied <= epochStart) {
            return applied;
        }
        return 0;
    }

    /** Sends the records of WAL {@code number} past {@code kept}. A WAL deleted meanwhile is in tables the edits ship. */
    private void sendWal(Replication.Link link, long number, long kept, boolean newest) throws IOException {
        try (FileSystem.ReadableFile f = e.fs.newReadableFile(e.dir.resolve(FileNames.log(number)))) {
            LogReader reader = new LogReader(f, LogFormat.KIND_WAL, number, true);
            byte[] rec;
            while ((rec = reader.readRecord()) != null) {
                if (rec.length < WriteBatch.HEADER_SIZE) {
                    continue; // recovery reports it; a backup needs whole batches only
                }
                long seq = Coding.getFixed64(rec, 0);
                int count = Coding.getFixed32(rec, 8);
                if (count > 0 && seq + count - 1 > kept) {
                    link.sendLog(number, rec, rec.length);
                }
            }
        } catch (NoSuchFileException ex) {
            if (newest) {
                throw ex;
            }
        }
    }
}
