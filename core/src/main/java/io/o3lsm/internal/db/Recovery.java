package io.o3lsm.internal.db;

import io.o3lsm.CorruptionException;
import io.o3lsm.WriteBatch;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogReader;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.logging.Level;

/**
 * Open-time recovery: after the MANIFEST is loaded, replays the WALs it does not cover into scratch
 * shards, flushes them to L0, starts a new MANIFEST (new epoch, current shard boundaries) and a
 * fresh WAL and memtable. Also the one WAL-reading path ({@link #forEachWalOp}), which the DM
 * rebuild ({@link DmRecovery}) uses too, and the DB's identity file.
 *
 * <p>Runs on the opening thread before the DB is visible to callers: no lock is needed, except
 * around {@link CompactionScheduler#maybeSchedule} at the end. (The version set's listener may
 * already run {@link ObsoleteFiles#deleteObsoleteTables} on a compaction thread; that takes the
 * mutex itself.)
 */
final class Recovery {
    private final Engine e;

    Recovery(Engine e) {
        this.e = e;
    }

    /** File numbers skipped at each open on a non-local file system (see {@link #recover}). */
    static final long SHARED_STORAGE_NUMBER_GAP = 1L << 20;

    /** MANIFEST is loaded; replays WALs, flushes what they held, starts a new MANIFEST and WAL. */
    void recover(boolean exists) throws IOException {
        List<String> names = e.fs.list(e.dir);
        List<Long> logs = new ArrayList<>();
        long minLog = e.versions.logNumber();
        for (String name : names) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p == null || p.number() < 0) {
                continue;
            }
            e.versions.markFileNumberUsed(p.number());
            if (p.type() == FileNames.Type.LOG && p.number() >= minLog) {
                logs.add(p.number());
            }
        }
        logs.sort(null);
        if (!e.fs.isLocal()) {
            // shared storage: a previous owner presumed dead (HdfsLock) may run on until its next WAL or
            // MANIFEST append fails, creating files with numbers it allocated after its last MANIFEST
            // record; this open's numbers start far beyond any of those
            e.versions.markFileNumberUsed(e.versions.newFileNumber() + SHARED_STORAGE_NUMBER_GAP);
        }
        long seq = e.versions.lastSequence();
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : e.versions.current().files(level)) {
                seq = Math.max(seq, f.largestSeq);
            }
        }
        e.lastSequence = seq;

        VersionEdit edit = new VersionEdit();
        edit.comparator = VersionEdit.COMPARATOR;
        // replay: entries are routed by the boundaries recorded with the watermarks
        ShardRanges oldRanges = new ShardRanges(e.versions.shardBoundaries());
        long[] oldWatermarks = new long[oldRanges.count()];
        for (int i = 0; i < oldWatermarks.length; i++) {
            oldWatermarks[i] = e.versions.watermark(i);
        }
        Replay replay = new Replay(edit, oldRanges, oldWatermarks);
        for (long log : logs) {
            // a WAL the previous owner left open (it crashed, or was declared dead) is closed first: on
            // a shared file system its last bytes become readable and that owner can append no more
            e.fs.recoverLease(e.dir.resolve(FileNames.log(log)));
        }
        for (int i = 0; i < logs.size(); i++) {
            replay.log(logs.get(i), i == logs.size() - 1);
        }
        replay.finish();

        long newLog = e.versions.newFileNumber();
        edit.logNumber = newLog;
        edit.lastSequence = e.lastSequence;
        e.previousEpoch = e.versions.epoch();
        e.epochStart = e.lastSequence;
        edit.epoch = e.versions.epoch() + 1;
        edit.shardBoundaries = e.ranges.boundaries();
        e.manifestLayout = e.ranges;
        for (int r = 0; r < e.ranges.count(); r++) {
            edit.rangeWatermarks.put(r, e.lastSequence);
        }
        e.versions.writeNewManifest(edit);

        // fresh WAL and memtable
        e.wals.openFirst(newLog);
        e.memtables.installInitialView();
        e.fs.syncDirectory(e.dir);
        e.obsolete.sweepAtOpen();
        e.mutex.lock();
        try {
            e.compactions.maybeSchedule();
        } finally {
            e.mutex.unlock();
        }
        if (Engine.LOG.isLoggable(Level.FINE)) {
            Engine.LOG.fine("opened " + e.dir + " epoch " + e.versions.epoch() + " lastSequence " + e.lastSequence
                    + " replayed logs " + logs + " " + e.versions.current());
        }
        if (!exists) {
            Engine.LOG.fine("created " + e.dir);
        }
    }

    /**
     * A read-only open ({@code DB.openReadOnly}): the MANIFEST is loaded; replays the WALs it does not
     * cover into the engine's memtables, and nothing else — no file is created, written, renamed or
     * deleted, no lease recovered, no lock checked, nothing flushed or compacted. The newest WAL may end
     * in a torn record (dropped, as {@link #recover} drops it). Runs before the DB is visible. Throws an
     * {@link IOException} (the caller tries again) if a writer elsewhere switched CURRENT or raised the
     * MANIFEST's log number after the MANIFEST was read ({@link VersionSet#checkUnchangedSinceRecover}):
     * a WAL this open needed may then be gone without its listing showing it.
     */
    void recoverReadOnly() throws IOException {
        long minLog = e.versions.logNumber();
        List<Long> logs = new ArrayList<>();
        for (String name : e.fs.list(e.dir)) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p != null && p.type() == FileNames.Type.LOG && p.number() >= minLog) {
                logs.add(p.number());
            }
        }
        logs.sort(null);
        long seq = e.versions.lastSequence();
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : e.versions.current().files(level)) {
                seq = Math.max(seq, f.largestSeq);
            }
        }
        e.memtables.installInitialView();
        ShardRanges manifestRanges = new ShardRanges(e.versions.shardBoundaries());
        long[] watermarks = new long[manifestRanges.count()];
        for (int i = 0; i < watermarks.length; i++) {
            watermarks[i] = e.versions.watermark(i);
        }
        for (int i = 0; i < logs.size(); i++) {
            long last = forEachWalOp(e.fs, e.dir, logs.get(i), i == logs.size() - 1,
                    (s, c) -> insertPastWatermark(e, manifestRanges, watermarks, s, c));
            seq = Math.max(seq, last);
        }
        // a writer elsewhere may have installed a flush and deleted a WAL the MANIFEST read still needed
        // between that read and the listing above (no error then: the WAL is just not listed)
        e.versions.checkUnchangedSinceRecover();
        e.lastSequence = seq;
        e.epochStart = seq;
        e.previousEpoch = e.versions.epoch();
        if (Engine.LOG.isLoggable(Level.FINE)) {
            Engine.LOG.fine("opened " + e.dir + " read-only at lastSequence " + seq + ", replayed logs " + logs);
        }
    }

    /**
     * Inserts one WAL operation into the engine's active shards unless the tables hold it (its
     * sequence is at or below the watermark of its range in the MANIFEST's layout {@code manifestRanges};
     * a range deletion is inserted piece by piece). A read-only open's replay and a replica's log.
     */
    static void insertPastWatermark(Engine e, ShardRanges manifestRanges, long[] watermarks, long seq, BatchCursor c) {
        byte[] rec = c.rep;
        if (c.type == InternalKey.TYPE_RANGE_DELETION) {
            for (ShardRanges.Piece m : manifestRanges.split(c.key(), c.value())) {
                if (seq > watermarks[m.range()]) {
                    for (ShardRanges.Piece p : e.ranges.split(m.start(), m.end())) {
                        e.writes.insertOne(p.range(), seq, c.type, p.start(), 0, p.start().length, p.end(), 0,
                                p.end().length);
                    }
                }
            }
            return;
        }
        if (seq <= watermarks[manifestRanges.rangeOf(rec, c.keyOff, c.keyLen)]) {
            return;
        }
        e.writes.insertOne(e.ranges.rangeOf(rec, c.keyOff, c.keyLen), seq, c.type, rec, c.keyOff, c.keyLen, rec,
                c.valueOff, c.valueLen);
    }

    /** WAL replay into scratch shards, flushed to L0 whenever one fills and at the end. */
    private final class Replay {
        final VersionEdit edit;
        final ShardRanges oldRanges;
        final long[] oldWatermarks;
        final MemShard[] shards = new MemShard[e.ranges.count()];

        Replay(VersionEdit edit, ShardRanges oldRanges, long[] oldWatermarks) {
            this.edit = edit;
            this.oldRanges = oldRanges;
            this.oldWatermarks = oldWatermarks;
        }

        void log(long number, boolean newest) throws IOException {
            ShardRanges ranges = e.ranges;
            long last = forEachWalOp(e.fs, e.dir, number, newest, (s, c) -> {
                byte[] rec = c.rep;
                if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                    for (ShardRanges.Piece old : oldRanges.split(c.key(), c.value())) {
                        if (s > oldWatermarks[old.range()]) {
                            for (ShardRanges.Piece piece : ranges.split(old.start(), old.end())) {
                                insert(piece.range(), s, c.type, piece.start(), 0, piece.start().length,
                                        piece.end(), 0, piece.end().length);
                            }
                        }
                    }
                    return;
                }
                if (s <= oldWatermarks[oldRanges.rangeOf(rec, c.keyOff, c.keyLen)]) {
                    return; // already in an SST
                }
                insert(ranges.rangeOf(rec, c.keyOff, c.keyLen), s, c.type, rec, c.keyOff, c.keyLen, rec, c.valueOff,
                        c.valueLen);
            });
            e.lastSequence = Math.max(e.lastSequence, last);
        }

        private void insert(int r, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff, int vlen)
                throws IOException {
            for (int attempt = 0; ; attempt++) {
                if (shards[r] == null) {
                    shards[r] = MemtableSet.newShard(e.ranges, r, Math.max(e.arenaSize, MemtableSet.jumboSize(klen, vlen)));
                }
                if (shards[r].shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
                    if (type == InternalKey.TYPE_RANGE_DELETION) {
                        shards[r].addTombstone(new RangeTombstone(Arrays.copyOfRange(k, koff, koff + klen),
                                Arrays.copyOfRange(v, voff, voff + vlen), seq));
                    }
                    return;
                }
                if (attempt > 0 && shards[r].isEmpty()) {
                    throw new IllegalStateException("entry does not fit an empty arena");
                }
                flushRangeNow(r);
            }
        }

        void flushRangeNow(int r) throws IOException {
            MemShard s = shards[r];
            shards[r] = null;
            if (s == null || s.isEmpty()) {
                return;
            }
            s.shard.seal();
            List<RangeTombstone> tombs = new ArrayList<>();
            s.collectTombstones(tombs);
            FlushJob job = new FlushJob(e.fs, e.dir, e.tableOptions, e.options.targetFileSize(),
                    e.versions::newFileNumber, tombs).mergeOperator(e.options.mergeOperator())
                    .compactionFilter(e.compactionFilter, e.jobFilter(true)) // recovery: no snapshot lives yet
                    .familyTables(e.familyTables());
            List<InternalIterator> in = new ArrayList<>();
            in.add(s.reader.iterator());
            for (CompactionExecutor.OutputFile o : job.run(in, new long[0])) {
                edit.addFile(0, FileMetaData.of(o));
            }
        }

        void finish() throws IOException {
            for (int r = 0; r < shards.length; r++) {
                flushRangeNow(r);
            }
        }
    }

    /** One operation of a WAL record, at its sequence number. */
    interface WalOp {
        void accept(long sequence, BatchCursor op) throws IOException;
    }

    /**
     * Reads WAL file {@code number} and hands every operation to {@code op}; returns the highest
     * sequence seen (0 if none). A record that is not a well-formed write batch is a
     * {@link CorruptionException} naming the file and the record's offset; a torn tail (only allowed
     * when {@code tolerateTornTail}) is dropped with a warning. Any thread, no lock.
     */
    static long forEachWalOp(FileSystem fs, Path dir, long number, boolean tolerateTornTail, WalOp op)
            throws IOException {
        Path p = dir.resolve(FileNames.log(number));
        long last = 0;
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            LogReader reader = new LogReader(f, LogFormat.KIND_WAL, number, tolerateTornTail);
            byte[] rec;
            while ((rec = reader.readRecord()) != null) {
                long offset = reader.lastRecordOffset();
                if (rec.length < WriteBatch.HEADER_SIZE) {
                    throw new CorruptionException(p.toString(), offset, "expected a write batch of at least "
                            + WriteBatch.HEADER_SIZE + " bytes, found " + rec.length);
                }
                long seq = Coding.getFixed64(rec, 0);
                int count = Coding.getFixed32(rec, 8);
                BatchCursor c = new BatchCursor(rec, rec.length, p.toString(), offset);
                int n = 0;
                while (c.next()) {
                    op.accept(seq + n, c);
                    n++;
                }
                if (n != count) {
                    throw new CorruptionException(p.toString(), offset, "expected " + count
                            + " operations in the write batch, found " + n);
                }
                if (count > 0) {
                    last = Math.max(last, seq + count - 1);
                }
            }
            if (reader.droppedTailBytes() > 0) {
                Engine.LOG.warning("WAL " + p + ": dropped a torn tail of " + reader.droppedTailBytes()
                        + " bytes (an append interrupted by a crash)");
            }
        }
        return last;
    }

    /** The DB's stable identity (file IDENTITY, a random UUID written at first open). */
    static String identity(FileSystem fs, Path dir) throws IOException {
        Path p = dir.resolve("IDENTITY");
        if (fs.exists(p)) {
            try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
                byte[] b = new byte[(int) Math.min(256, f.size())];
                f.readFully(0, b, 0, b.length);
                String id = new String(b, StandardCharsets.UTF_8).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
        }
        String id = UUID.randomUUID().toString();
        byte[] b = (id + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = dir.resolve("IDENTITY.dbtmp");
        try (FileSystem.WritableFile f = fs.newWritableFile(tmp)) {
            f.append(b, 0, b.length);
            f.sync();
        }
        fs.rename(tmp, p);
        fs.syncDirectory(dir);
        return id;
    }
}
