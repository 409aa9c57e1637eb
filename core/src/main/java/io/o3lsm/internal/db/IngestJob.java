package io.o3lsm.internal.db;

import io.o3lsm.CorruptionException;
import io.o3lsm.IngestOptions;
import io.o3lsm.O3Exception;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * One {@code DB.ingest}: takes SSTs written by {@link io.o3lsm.SstFileWriter} (user keys, every
 * entry at sequence 0) into the DB in one VersionEdit. The rules are those of
 * {@code docs/operations/bulk-ingest.md}:
 *
 * <ol>
 * <li><b>Validate</b> (no lock): every file opens as an SST (header, footer, index, filter,
 * properties and rangedel blocks verified by {@link TableReader#open}), every data block's checksum
 * is checked while every entry is read, every entry and tombstone is at sequence 0, user keys are
 * strictly increasing; the files' key ranges do not overlap each other.</li>
 * <li><b>Stage</b> (no lock): each file goes into the DB directory under a new file number, as the
 * DB stores it — linked or copied when it can be taken as it is, rewritten with the family's key
 * prefix in a family-aware DB. The numbers are pending ({@link ObsoleteFiles}) until installed.</li>
 * <li><b>Install</b>, with compactions paused ({@link CompactionScheduler#pauseForIngest}) and the
 * caller heading the writer queue (no write in flight): memtables holding keys in a file's range are
 * flushed first (or the ingest is refused when {@link IngestOptions#allowBlockingFlush()} is false);
 * if any installed file overlaps the ingested ranges or any snapshot or iterator holds a sequence,
 * the files are rewritten with one new sequence number {@code S = lastSequence + 1}; each file goes
 * to the deepest level such that no level from 0 down to it holds a file overlapping it (level 0
 * when level 0 does); one edit installs them all and publishes {@code S}.</li>
 * </ol>
 *
 * <p>DM mode: a shard held only by the memory node cannot be searched here, so it is taken to
 * overlap a file unless its layout range and the file's keys are apart; the flushes run where flushes
 * run (offloaded or local), and the flushed shards leave the view, so no delegated read answers for
 * the file's range with an older value. A primary (replication) always takes a new sequence and ships
 * the edit flagged as an ingest's ({@link ReplicationSource#INGEST_EDIT}); it keeps heading the writer
 * queue until the backups acknowledged the edit (at most the ack timeout), so a backup has it before
 * the next write. A primary that ships only its log ({@code replicationShipTables(false)}) refuses.
 *
 * <p>Not thread-safe: one job per call. Ingests are serialized with each other and with manual
 * compactions by {@link CompactionScheduler#pauseForIngest}.
 */
final class IngestJob {
    private final Engine e;
    /** The target family in a family-aware DB, null in a plain one. */
    private final Families.Family family;
    private final IngestOptions options;
    private final FileSystem local = FileSystem.local();

    /** One validated input file: its user-key range. */
    private record Source(Path path, byte[] smallest, byte[] largest, boolean largestExclusive, long entries) {
    }

    /** A file staged in the DB directory: its number, metadata (keys as stored) and the source it came from. */
    private record Staged(Source source, FileMetaData meta) {
    }

    IngestJob(Engine e, Families.Family family, IngestOptions options) {
        this.e = e;
        this.family = family;
        this.options = options;
    }

    /**
     * Set when writing the MANIFEST edit failed ({@code VersionSet.logAndApply}): the edit may or may
     * not be durable, so the staged files may be named by the MANIFEST a reopen reads. They stay (and
     * stay pending, so no sweep of this open deletes them); the sweep at the next open deletes the
     * ones it does not list.
     */
    private boolean outcomeUnknown;

    /**
     * Runs the ingest; on a failure before the MANIFEST write nothing is installed and no staged file
     * stays behind. When the MANIFEST write itself fails the outcome is unknown (a background error is
     * set: the DB refuses writes until reopened) and the staged files stay.
     */
    void run(List<Path> files) {
        checkTarget(files);
        List<Source> sources = new ArrayList<>();
        for (Path p : files) {
            sources.add(validate(p));
        }
        sources.sort(Comparator.comparing(Source::smallest, Arrays::compareUnsigned));
        for (int i = 1; i < sources.size(); i++) {
            Source a = sources.get(i - 1);
            Source b = sources.get(i);
            int c = Arrays.compareUnsigned(b.smallest, a.largest);
            if (c < 0 || (c == 0 && !a.largestExclusive)) {
                throw new IllegalArgumentException("ingest: the key ranges of " + a.path + " ["
                        + describe(a.smallest) + ", " + describe(a.largest) + "] and " + b.path + " ["
                        + describe(b.smallest) + ", " + describe(b.largest) + "] overlap; the files of one "
                        + "ingest must hold disjoint key ranges");
            }
        }
        List<Staged> staged = new ArrayList<>();
        List<Long> pending = new ArrayList<>();
        boolean installed = false;
        try {
            for (Source s : sources) {
                staged.add(stage(s, pending));
            }
            install(staged, pending);
            installed = true;
        } catch (IOException ex) {
            throw new O3Exception("ingest into " + e.dir + " failed (nothing was ingested): " + ex, ex);
        } finally {
            if (!outcomeUnknown) {
                if (!installed) {
                    for (long n : pending) {
                        deleteQuietly(n);
                    }
                }
                e.obsolete.releasePendingOutputs(pending.stream().mapToLong(Long::longValue).toArray());
            }
        }
    }

    private void checkTarget(List<Path> files) {
        e.checkOpen();
        if (e.passive) {
            throw new ReadOnlyException("ingest: DB " + e.dir + " is " + (e.readOnly ? "read-only" : "a replica"));
        }
        if (e.replication != null && !e.options.replicationShipTables()) {
            // the comparison baseline: backups rebuild their tables from the log, and an ingest is in no log
            throw new UnsupportedOperationException("ingest: DB " + e.dir + " replicates its log only "
                    + "(Options.replicationShipTables(false), the comparison baseline): its backups build their own "
                    + "tables from the log, which holds no ingested entry, so they would never have the ingested "
                    + "data; ingest into a primary that ships its tables");
        }
        if (family != null ? family.ttlMillis > 0 : e.options.ttl() != null) {
            throw new IllegalArgumentException("ingest: " + (family != null ? family.toString() : "DB " + e.dir)
                    + " has a ttl; its values carry write-time stamps, and ingest does not stamp them: "
                    + "write into a TTL family with put");
        }
        if (files == null || files.isEmpty()) {
            throw new IllegalArgumentException("ingest: no files given");
        }
        e.checkBackgroundError();
    }

    // ------------------------------------------------------------------ validate

    private Source validate(Path p) {
        if (p == null) {
            throw new IllegalArgumentException("ingest: a file path is null");
        }
        String name = p.toString();
        try (TableReader t = TableReader.open(local.newReadableFile(p), name, 0)) {
            TableProperties props = t.properties();
            if (props.numEntries() == 0) {
                throw new IllegalArgumentException("ingest: " + name + " holds no entries");
            }
            if (props.largestSequence() != 0) {
                throw new IllegalArgumentException("ingest: " + name + " holds entries at sequence numbers up to "
                        + props.largestSequence() + "; only files written by SstFileWriter (every entry at sequence "
                        + "0) can be ingested");
            }
            long n = 0;
            byte[] prev = null;
            try (InternalIterator it = t.iterator(false, true)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    DirectBuffer k = it.key();
                    int len = k.capacity();
                    long trailer = InternalKey.trailer(k, 0, len);
                    byte[] user = new byte[len - InternalKey.TRAILER_SIZE];
                    k.getBytes(0, user);
                    if (InternalKey.sequenceOf(trailer) != 0) {
                        throw new IllegalArgumentException("ingest: " + name + " holds " + describe(user)
                                + " at sequence " + InternalKey.sequenceOf(trailer) + "; only files written by "
                                + "SstFileWriter (every entry at sequence 0) can be ingested");
                    }
                    if (prev != null && Arrays.compareUnsigned(user, prev) <= 0) {
                        throw new CorruptionException(name, 0, "entry " + n + ": expected a key after "
                                + describe(prev) + ", found " + describe(user));
                    }
                    prev = user;
                    n++;
                }
            }
            if (n != props.numPointEntries()) {
                throw new CorruptionException(name, 0, "expected " + props.numPointEntries()
                        + " point entries (properties), found " + n);
            }
            for (RangeTombstone rt : t.rangeTombstones()) {
                if (rt.sequence != 0) {
                    throw new IllegalArgumentException("ingest: " + name + " holds a range deletion at sequence "
                            + rt.sequence + "; only files written by SstFileWriter can be ingested");
                }
            }
            byte[] smallest = props.smallestKey();
            byte[] largest = props.largestKey();
            return new Source(p, InternalKey.userKey(smallest), InternalKey.userKey(largest),
                    InternalKey.trailer(largest) == FileMetaData.EXCLUSIVE_END_TRAILER, props.numEntries());
        } catch (java.nio.file.NoSuchFileException ex) {
            throw new IllegalArgumentException("ingest: " + name + " does not exist", ex);
        } catch (IOException ex) {
            throw new O3Exception("ingest: reading " + name + " failed: " + ex, ex);
        }
    }

    // ------------------------------------------------------------------ stage

    /** Puts {@code s} into the DB directory under a new number, keys as stored, sequence 0. */
    private Staged stage(Source s, List<Long> pending) throws IOException {
        long number = newNumber(pending);
        Path target = e.dir.resolve(FileNames.table(number));
        if (family == null) {
            boolean linked = false;
            if (options.moveFiles() && e.fs.isLocal()) {
                try {
                    e.fs.link(s.path, target);
                    linked = true;
                } catch (IOException | UnsupportedOperationException ex) {
                    Engine.LOG.fine("ingest: cannot link " + s.path + " (" + ex + "); copying it");
                }
            }
            if (!linked) {
                copy(s.path, target);
            }
            try (TableReader t = TableReader.open(e.fs.newReadableFile(target), target.toString(), number)) {
                TableProperties p = t.properties();
                return new Staged(s, new FileMetaData(number, p.fileSize(), p.smallestKey(), p.largestKey(), 0, 0));
            }
        }
        try (TableReader t = TableReader.open(local.newReadableFile(s.path), s.path.toString(), 0)) {
            return new Staged(s, rewrite(t, number, family.prefix, 0));
        }
    }

    private long newNumber(List<Long> pending) {
        long n = e.versions.newFileNumber();
        e.obsolete.addPendingOutputs(new long[] {n});
        pending.add(n);
        return n;
    }

    private void copy(Path from, Path to) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (FileSystem.ReadableFile in = local.newReadableFile(from);
                FileSystem.WritableFile out = e.fs.newWritableFileExclusive(to)) {
            long size = in.size();
            for (long pos = 0; pos < size;) {
                int n = (int) Math.min(buf.length, size - pos);
                in.readFully(pos, buf, 0, n);
                out.append(buf, 0, n);
                pos += n;
            }
            out.sync();
        }
    }

    /**
     * Writes {@code t}'s entries and tombstones as table {@code number}, each user key preceded by
     * {@code prefix} and at {@code sequence}; synced.
     */
    private FileMetaData rewrite(TableReader t, long number, byte[] prefix, long sequence) throws IOException {
        Path target = e.dir.resolve(FileNames.table(number));
        boolean done = false;
        try (FileSystem.WritableFile out = e.fs.newWritableFileExclusive(target)) {
            TableBuilder b = new TableBuilder(out, target.toString(), e.tableOptions);
            try (InternalIterator it = t.iterator(false, true)) {
                byte[] key = new byte[64];
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    DirectBuffer k = it.key();
                    int ulen = k.capacity() - InternalKey.TRAILER_SIZE;
                    int len = prefix.length + ulen + InternalKey.TRAILER_SIZE;
                    if (key.length < len) {
                        key = new byte[Math.max(len, key.length * 2)];
                    }
                    System.arraycopy(prefix, 0, key, 0, prefix.length);
                    k.getBytes(0, key, prefix.length, ulen);
                    int type = InternalKey.typeOf(InternalKey.trailer(k, 0, k.capacity()));
                    io.o3lsm.internal.util.Coding.putFixed64(key, prefix.length + ulen,
                            InternalKey.trailer(sequence, type));
                    DirectBuffer v = it.value();
                    byte[] value = new byte[v.capacity()];
                    v.getBytes(0, value);
                    b.add(key, 0, len, value, 0, value.length);
                }
            }
            for (RangeTombstone rt : t.rangeTombstones()) {
                b.addRangeTombstone(concat(prefix, rt.start), concat(prefix, rt.end), sequence);
            }
            TableProperties p = b.finish();
            out.sync();
            done = true;
            return new FileMetaData(number, p.fileSize(), p.smallestKey(), p.largestKey(), p.smallestSequence(),
                    p.largestSequence());
        } finally {
            if (!done) {
                deleteQuietly(number);
            }
        }
    }

    // ------------------------------------------------------------------ install

    /**
     * Heads the writer queue first, then pauses compactions. In this order: a writer heading the queue
     * may be stalled at {@code level0StopTrigger} (WriteQueue.waitForL0), waiting for a compaction
     * that a pause taken first would keep from starting while the ingest waits for that writer. The
     * pause waits only for running compactions (background ones, or a {@code compactRange} already
     * past its flush), none of which needs the writer queue.
     */
    private void install(List<Staged> staged, List<Long> pending) throws IOException {
        e.mutex.lock();
        try {
            e.checkOpen();
            e.checkBackgroundError();
            e.writes.enterAlone();
        } finally {
            e.mutex.unlock();
        }
        try {
            e.compactions.pauseForIngest();
            try {
                e.mutex.lock();
                try {
                    e.checkOpen();
                    e.checkBackgroundError();
                } finally {
                    e.mutex.unlock();
                }
                installAlone(staged, pending);
            } finally {
                e.compactions.resumeAfterIngest();
            }
            awaitShipped();
        } finally {
            e.mutex.lock();
            try {
                e.writes.leave();
            } finally {
                e.mutex.unlock();
            }
        }
    }

    /** The primary's edit on its way to the backups (null: none), released once they hold it. */
    private java.util.concurrent.CountDownLatch shipped;

    /**
     * A primary, heading the writer queue: waits (up to the ack timeout, as a slow backup may hold up a
     * write) until its backups hold the ingest's edit, so the first write after the ingest reaches a
     * backup after the edit and follows the ingest's sequence there. A backup that did not get it in
     * time sees the log skip that sequence and catches up again (the catch-up's snapshot holds the ingest).
     */
    private void awaitShipped() {
        if (shipped == null) {
            return;
        }
        try {
            if (!shipped.await(e.options.replicationAckTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                Engine.LOG.warning("ingest into " + e.dir + ": not every backup acknowledged the ingest's edit within "
                        + e.options.replicationAckTimeout() + "; writes go on (a backup without it catches up again)");
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** Heading the writer queue, compactions paused, no lock held. */
    private void installAlone(List<Staged> staged, List<Long> pending) throws IOException {
        boolean needSequence;
        long sequence;
        boolean barrier = false;
        e.mutex.lock();
        try {
            BitSet overlapping = memtableRangesOverlapping(staged);
            if (!overlapping.isEmpty()) {
                if (!options.allowBlockingFlush()) {
                    throw new IllegalStateException("ingest: the key range of " + firstOverlapping(staged)
                            + " overlaps writes still in the memtables of DB " + e.dir + ", and "
                            + "IngestOptions.allowBlockingFlush is false (flush first, or allow it)");
                }
                e.flushes.flushRangesAlone(overlapping);
            }
            // a primary always takes a sequence: its backups order the ingest between the writes around
            // it by that sequence, and its tables shadow older entries their memtables still hold
            needSequence = e.replication != null || e.snapshots.hasLive()
                    || overlapsInstalled(e.versions.current(), staged);
            sequence = needSequence ? e.lastSequence + 1 : 0;
            if (!needSequence) {
                // sequence 0 is right only while nobody holds an older state: until the view swap, a
                // new snapshot (or iterator hold) waits, as for a filtered install (Snapshots)
                e.filteredInstall++;
                barrier = true;
            }
        } finally {
            e.mutex.unlock();
        }
        try {
            placeAndInstall(staged, pending, needSequence, sequence);
        } finally {
            if (barrier) {
                e.mutex.lock();
                try {
                    e.filteredInstall--;
                    e.bgChanged.signalAll();
                } finally {
                    e.mutex.unlock();
                }
            }
        }
    }

    /** As {@link #installAlone}, once {@code sequence} is chosen: rewrites if needed, places, installs. */
    private void placeAndInstall(List<Staged> staged, List<Long> pending, boolean needSequence, long sequence)
            throws IOException {
        List<FileMetaData> files = new ArrayList<>();
        if (needSequence) {
            for (Staged s : staged) {
                long old = s.meta.number;
                FileMetaData m;
                try (TableReader t = TableReader.open(e.fs.newReadableFile(e.dir.resolve(FileNames.table(old))),
                        FileNames.table(old), old)) {
                    m = rewrite(t, newNumber(pending), new byte[0], sequence);
                }
                files.add(m);
                deleteQuietly(old);
            }
        } else {
            for (Staged s : staged) {
                files.add(s.meta);
            }
        }
        e.fs.syncDirectory(e.dir);
        Version v = e.versions.current(); // compactions paused: only flushes change it, into L0, elsewhere
        VersionEdit edit = new VersionEdit();
        StringBuilder placed = new StringBuilder();
        for (FileMetaData f : files) {
            int level = placement(v, f);
            edit.addFile(level, f);
            placed.append(' ').append(f).append("@L").append(level);
        }
        try {
            shipped = e.installer.installIngest(edit, sequence);
        } catch (IOException ex) {
            // VersionSet.logAndApply: the edit may or may not be durable
            outcomeUnknown = true;
            O3Exception err = new O3Exception("ingest into " + e.dir + ": writing the MANIFEST failed, so the outcome "
                    + "is unknown: the ingested files may or may not be part of the DB once reopened (they are "
                    + "kept; the next open deletes them if the MANIFEST does not name them); the DB refuses "
                    + "further writes until reopened: " + ex, ex);
            e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.MANIFEST);
            throw err;
        }
        Engine.LOG.info("ingested into " + e.dir + (family != null ? " (" + family + ")" : "") + " at sequence "
                + sequence + ":" + placed);
    }

    /**
     * The deepest level {@code L} such that no level in {@code [0, L]} holds a file overlapping
     * {@code f}; 0 when level 0 does.
     */
    static int placement(Version v, FileMetaData f) {
        int target = 0;
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            if (!v.overlapping(l, f.smallestUserKey(), f.largestUserKey()).isEmpty()) {
                break;
            }
            target = l;
        }
        return target;
    }

    private static boolean overlapsInstalled(Version v, List<Staged> staged) {
        for (Staged s : staged) {
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                if (!v.overlapping(l, s.meta.smallestUserKey(), s.meta.largestUserKey()).isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** REQUIRES: mutex held, writer queue held. Ranges whose active or sealed shards hold a key (or tombstone) of a staged file's range. */
    private BitSet memtableRangesOverlapping(List<Staged> staged) {
        BitSet out = new BitSet();
        SuperVersion sv = e.sv;
        for (int r = 0; r < sv.active.length; r++) {
            if (overlaps(sv.active[r], staged)) {
                out.set(r);
                continue;
            }
            for (MemShard m : sv.sealed[r]) {
                if (overlaps(m, staged)) {
                    out.set(r);
                    break;
                }
            }
        }
        return out;
    }

    private Path firstOverlapping(List<Staged> staged) {
        SuperVersion sv = e.sv;
        for (Staged s : staged) {
            List<Staged> one = List.of(s);
            for (int r = 0; r < sv.active.length; r++) {
                if (overlaps(sv.active[r], one)) {
                    return s.source.path;
                }
                for (MemShard m : sv.sealed[r]) {
                    if (overlaps(m, one)) {
                        return s.source.path;
                    }
                }
            }
        }
        return staged.get(0).source.path;
    }

    private static boolean overlaps(MemShard m, List<Staged> staged) {
        if (m == null || m.isEmpty()) {
            return false;
        }
        List<RangeTombstone> tombs = new ArrayList<>();
        m.collectTombstones(tombs);
        for (Staged s : staged) {
            byte[] from = s.meta.smallestUserKey();
            byte[] to = s.meta.largestUserKey();
            for (RangeTombstone t : tombs) {
                // [t.start, t.end) meets [from, to]
                if (Arrays.compareUnsigned(t.start, to) <= 0 && Arrays.compareUnsigned(t.end, from) > 0) {
                    return true;
                }
            }
            io.o3lsm.format.memtable.ShardReader reader = m.reader;
            if (reader == null) {
                // DM mode: held only by the memory node, not searchable here; its keys lie in its range of
                // its layout, so it overlaps the file unless that range and the file's keys are apart
                if (m.layout == null || rangeMeets(m.layout, m.range, from, to)) {
                    return true;
                }
                continue;
            }
            try (InternalIterator it = reader.iterator()) {
                it.seek(InternalKey.seekKey(from, InternalKey.MAX_SEQUENCE));
                if (it.isValid()) {
                    DirectBuffer k = it.key();
                    int ulen = k.capacity() - InternalKey.TRAILER_SIZE;
                    byte[] user = new byte[ulen];
                    k.getBytes(0, user);
                    if (Arrays.compareUnsigned(user, to) <= 0) {
                        return true;
                    }
                }
            } catch (Exception ex) {
                return true; // cannot tell: flush
            }
        }
        return false;
    }

    /** Whether range {@code r} of {@code layout} ([lower, upper)) holds a key of [{@code from}, {@code to}]. */
    static boolean rangeMeets(ShardRanges layout, int r, byte[] from, byte[] to) {
        byte[] lower = layout.lower(r);
        byte[] upper = layout.upper(r);
        return (lower == null || Arrays.compareUnsigned(lower, to) <= 0)
                && (upper == null || Arrays.compareUnsigned(upper, from) > 0);
    }

    private void deleteQuietly(long number) {
        try {
            Path p = e.dir.resolve(FileNames.table(number));
            if (e.fs.exists(p)) {
                e.fs.delete(p);
            }
        } catch (IOException ex) {
            Engine.LOG.warning("ingest: cannot delete staged table " + number + ": " + ex);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String describe(byte[] k) {
        return io.o3lsm.internal.util.Bytes.describe(k);
    }
}
