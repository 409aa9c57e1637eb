package io.o3lsm.internal.db;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.WriteBatch;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogReader;
import io.o3lsm.format.log.LogWriter;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.agrona.DirectBuffer;

/**
 * A replica's side of replication (docs/design/replication.md): what the transport delivers from the
 * primary becomes the replica's own log files (named by the primary's WAL numbers), memtables,
 * tables and MANIFEST, so its directory is a DB a plain open can recover at any moment.
 *
 * <p>Threads: the transport calls the log methods from one thread and the file and edit methods from
 * another; {@link #applyLock} orders them. Readers take no lock (they read {@code Engine.sv} and
 * {@code Engine.lastSequence}, which only {@link #applyLock}'s holder changes). The memtable shards
 * of the replica keep its own layout (fixed at open); a shard goes when every MANIFEST range its keys
 * overlap has a watermark at or above its newest entry. A range holding a merge operand the tables
 * hold too has its shards replaced by copies without the entries the tables hold
 * ({@link #installCovering}).
 */
final class ReplicaApplier implements Replication.Target {
    private final Engine e;
    private final ReentrantLock applyLock = new ReentrantLock();
    /** Tables being received: number → file (under {@link #incoming}'s monitor). */
    private final Map<Long, FileSystem.WritableFile> incoming = new HashMap<>();

    // under applyLock
    private LogWriter log;
    private long logFile = -1;
    private ShardRanges manifestRanges;
    private long[] watermarks;
    private String dbId;
    /** The DB identity of the primary that authenticated last (its snapshot makes it this replica's). */
    private String offeredDbId;
    private boolean closed;

    private volatile boolean caughtUpOnce;
    /** Under applyLock: this connection is live; its records must follow each other without a gap. */
    private boolean streaming;
    private Replication.Backup backup;

    /**
     * The baseline Talos compares against ({@code Options.replicaRebuildsTables}): records are written
     * into an ordinary engine (its own WAL, sequence numbers, flushes and compactions); snapshots and
     * edits are ignored. {@link #primaryApplied} is then the primary's sequence it has taken.
     */
    private final boolean rebuild;
    private long primaryApplied;
    private final WriteBatch rebuildBatch = new WriteBatch();

    ReplicaApplier(Engine e) {
        this.e = e;
        this.rebuild = e.options.replicaRebuildsTables();
    }

    // ---------------------------------------------------------------- open and close

    /**
     * Open (single-threaded): rebuilds the memtables from this replica's own log files past the
     * MANIFEST's watermarks. Reads start at the newest sequence those hold, or at the lowest
     * watermark (every range's tables hold everything up to there).
     */
    void recover(boolean exists) throws IOException {
        e.memtables.installInitialView();
        refreshManifestView();
        if (!exists) {
            e.lastSequence = 0;
            return;
        }
        dbId = Recovery.identity(e.fs, e.dir);
        refreshManifestView();
        long applied = Long.MAX_VALUE;
        for (long w : watermarks) {
            applied = Math.min(applied, w);
        }
        // a table is installed only once the published sequence covers it, so the newest entry of any
        // installed table was published before: an ingest's table carries a sequence of its own that no
        // log record does (a replica restarted right after one must not read from before it)
        io.o3lsm.internal.version.Version installed = e.versions.current();
        for (int level = 0; level < io.o3lsm.internal.version.Version.NUM_LEVELS; level++) {
            for (io.o3lsm.internal.version.FileMetaData f : installed.files(level)) {
                applied = Math.max(applied, f.largestSeq);
            }
        }
        List<Long> logs = new ArrayList<>();
        for (String name : e.fs.list(e.dir)) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p != null && p.type() == FileNames.Type.LOG && p.number() >= e.versions.logNumber()) {
                logs.add(p.number());
            }
        }
        logs.sort(null);
        for (int i = 0; i < logs.size(); i++) {
            long last = Recovery.forEachWalOp(e.fs, e.dir, logs.get(i), i == logs.size() - 1,
                    (seq, c) -> insertOp(seq, c));
            applied = Math.max(applied, last);
        }
        e.lastSequence = applied;
        e.obsolete.sweepAtOpen();
        for (String name : e.fs.list(e.dir)) {
            if (name.endsWith(".incoming") || name.endsWith(".copy")) {
                e.fs.delete(e.dir.resolve(name)); // a table half received, or a log half copied, when the last run stopped
            }
        }
        if (!logs.isEmpty()) {
            reopenLog(logs.get(logs.size() - 1)); // further records of that WAL follow its own
        }
    }

    /** Open: starts following the primary. */
    void start() throws IOException {
        byte[] secret = DmPreflight.readSecret(e.options.replicationSecretFile(), "replication");
        backup = ReplicationSource.provider(e.options).follow(new Replication.BackupConfig(e.options.replicaOf(),
                secret, backupName(), e.options.replicaLogBuffer(),
                e.options.replicationAckTimeout().multipliedBy(2)), this);
    }

    /**
     * The name this backup gives its primary: its directory's name and this process's id, at most 40
     * characters (messages stay small: UCX 1.13's shared-memory transport refuses some short active
     * messages of about 100 bytes and more, see docs/format/replication-protocol.md).
     */
    private String backupName() {
        String n = e.dir.getFileName() + "-" + ProcessHandle.current().pid();
        return n.length() <= 40 ? n : n.substring(n.length() - 40);
    }

    boolean live() {
        Replication.Backup b = backup;
        return b != null && b.live();
    }

    /** Stops following: no more calls come from the transport once it returns. */
    void stopFollowing() {
        Replication.Backup b = backup;
        if (b != null) {
            b.close();
        }
    }

    /** Close: stops following, then syncs and closes the log and drops tables half received. */
    void close() throws IOException {
        stopFollowing();
        applyLock.lock();
        try {
            closed = true;
            closeLog();
        } finally {
            applyLock.unlock();
        }
        synchronized (incoming) {
            for (Map.Entry<Long, FileSystem.WritableFile> f : incoming.entrySet()) {
                discard(f.getKey(), f.getValue());
            }
            incoming.clear();
        }
    }

    // ---------------------------------------------------------------- Target: identity

    @Override
    public Replication.Holdings holdings() {
        applyLock.lock();
        try {
            if (dbId == null || rebuild) {
                return new Replication.Holdings(null, 0, Map.of(), 0);
            }
            Map<Long, Long> files = new HashMap<>();
            Version v = e.versions.current();
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                for (FileMetaData f : v.files(l)) {
                    files.put(f.number, f.size);
                }
            }
            return new Replication.Holdings(dbId, e.versions.epoch(), files, e.lastSequence);
        } finally {
            applyLock.unlock();
        }
    }

    @Override
    public boolean acceptPrimary(String primaryDbId, long epoch) {
        applyLock.lock();
        try {
            // a primary of the DB this replica follows, older than an epoch it has followed, is stale
            if (!rebuild && primaryDbId.equals(dbId) && epoch < e.versions.epoch()) {
                return false;
            }
            offeredDbId = primaryDbId;
            return true;
        } finally {
            applyLock.unlock();
        }
    }

    // ---------------------------------------------------------------- Target: tables

    /**
     * Where table {@code number} is received before it takes its name: not {@code FileNames.temp},
     * which a MANIFEST switch (on the log thread, installing a pending edit) may use for the same
     * number at the same time. Leftovers are deleted at open.
     */
    static String incomingName(long number) {
        return FileNames.table(number) + ".incoming";
    }

    @Override
    public FileSystem.WritableFile fileBegin(long number) throws IOException {
        if (rebuild) {
            throw new IOException("replica " + e.dir + " rebuilds its own tables: it takes no table from its primary "
                    + "(set replicationShipTables(false) on the primary)");
        }
        Path tmp = e.dir.resolve(incomingName(number));
        synchronized (incoming) {
            FileSystem.WritableFile old = incoming.remove(number);
            if (old != null) {
                discard(number, old);
            }
            if (e.fs.exists(tmp)) {
                e.fs.delete(tmp);
            }
            FileSystem.WritableFile f = e.fs.newWritableFile(tmp);
            incoming.put(number, f);
            return f;
        }
    }

    @Override
    public void fileDone(long number, long size) throws IOException {
        FileSystem.WritableFile f;
        synchronized (incoming) {
            f = incoming.remove(number);
        }
        if (f == null) {
            throw new IOException("table " + number + " completed without having begun");
        }
        try {
            if (f.size() != size) {
                throw new IOException("table " + number + ": " + f.size() + " bytes arrived, the primary sent " + size);
            }
            f.sync();
            f.close();
        } catch (IOException ex) {
            discard(number, f);
            throw ex;
        }
        e.tableCache.evict(number); // a copy received again replaces the one a reader may have opened
        e.fs.rename(e.dir.resolve(incomingName(number)), e.dir.resolve(FileNames.table(number)));
        e.fs.syncDirectory(e.dir);
        e.stats.replicaTableBytes.add(size);
    }

    @Override
    public void fileFailed(long number) {
        FileSystem.WritableFile f;
        synchronized (incoming) {
            f = incoming.remove(number);
        }
        discard(number, f);
    }

    private void discard(long number, FileSystem.WritableFile f) {
        try {
            if (f != null) {
                f.close();
            }
            e.fs.delete(e.dir.resolve(incomingName(number)));
        } catch (IOException ex) {
            Engine.LOG.warning("replica " + e.dir + ": cannot remove the partly received table " + number + ": " + ex);
        }
    }

    /** Every table {@code edit} adds must have arrived whole. */
    private void checkTablesArrived(VersionEdit edit, String what) throws IOException {
        for (Map.Entry<Integer, FileMetaData> nf : edit.newFiles) {
            FileMetaData f = nf.getValue();
            Path p = e.dir.resolve(FileNames.table(f.number));
            if (!e.fs.exists(p) || e.fs.size(p) != f.size) {
                throw new IOException(what + " names table " + f.number + " (" + f.size + " bytes), which has not "
                        + "arrived whole");
            }
        }
    }

    // ---------------------------------------------------------------- Target: edits

    /**
     * An edit (or the snapshot) received but not yet in the MANIFEST and the read view: it waits until
     * the log has reached {@code required}, the newest sequence its tables hold. A primary compacts
     * away versions its own reads no longer need; installed before the log reached them, its tables
     * would show a replica reading at an older sequence a state that never was. (And the MANIFEST
     * never names tables newer than the replica's log, so a restart or a promotion starts from a
     * consistent prefix too.)
     */
    private record Pending(VersionEdit edit, boolean snapshot, long required, long publishes) {
        Pending(VersionEdit edit, boolean snapshot, long required) {
            this(edit, snapshot, required, 0);
        }
    }

    /**
     * An ingest's edit (flagged by the primary, ReplicationSource.INGEST_EDIT): its tables are at sequence
     * {@code S = edit.lastSequence}, which no log record carries. It waits for the log to reach {@code S - 1}
     * (every write before the ingest) and publishes {@code S} when installed, so the write after it follows.
     */
    private static Pending ingestPending(VersionEdit edit) throws CorruptionException {
        if (edit.lastSequence == null || edit.lastSequence < 1) {
            throw new CorruptionException("edit from the primary", 0, "expected an ingest's edit to carry its "
                    + "sequence as its last sequence, found " + edit.lastSequence);
        }
        return new Pending(edit, false, edit.lastSequence - 1, edit.lastSequence);
    }

    /** Under applyLock: received edits in order, the snapshot (if any) first. */
    private final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
    /** Under applyLock: an ingest's install could not copy its shards; the next install filters every range. */
    private boolean ingestCopyOwed;
    /** Under applyLock: the id of the last edit the current connection's snapshot holds; older ones are skipped. */
    private long snapshotEditId = -1;
    /**
     * Under applyLock: the id of the last edit taken on the current connection (its snapshot's, at first).
     * The primary numbers its edits one by one and ships each to every backup in install order, so the
     * next one must carry this plus one: an edit applied out of order, or after one that never came,
     * would leave tables the primary deleted (or miss tables it added) for good.
     */
    private long lastEditId = -1;

    /** The id the primary put before an edit's bytes (ReplicationSource), and the edit after it. */
    private static long editId(byte[] bytes, String what) {
        if (bytes.length < 8) {
            throw new CorruptionException(what, 0, "expected an 8-byte edit id, found " + bytes.length + " bytes");
        }
        return Coding.getFixed64(bytes, 0);
    }

    private static long newestSequence(VersionEdit edit) {
        long max = 0;
        for (Map.Entry<Integer, FileMetaData> nf : edit.newFiles) {
            max = Math.max(max, nf.getValue().largestSeq);
        }
        return max;
    }

    @Override
    public void applySnapshot(byte[] bytes, long keptSequence) throws IOException {
        if (rebuild) {
            return; // its tables are its own
        }
        long id = editId(bytes, "snapshot edit from the primary");
        VersionEdit snap = VersionEdit.decode(Arrays.copyOfRange(bytes, 8, bytes.length), "snapshot edit from the primary", 0);
        if (snap.comparator == null || !VersionEdit.COMPARATOR.equals(snap.comparator)) {
            throw new CorruptionException("snapshot edit from the primary", 0, "expected comparator "
                    + VersionEdit.COMPARATOR + ", found " + snap.comparator);
        }
        if (snap.families != (e.families != null)) {
            throw new IOException(snap.families
                    ? "the primary's DB has column families: open this replica with DB.openReplica(dir, options, "
                    + "descriptors) (bin/o3 replica --column-families)"
                    : "the primary's DB has no column families and this replica was opened with them: open it with "
                    + "DB.openReplica(dir, options)");
        }
        checkTablesArrived(snap, "the snapshot edit");
        applyLock.lock();
        try {
            checkOpen();
            if (offeredDbId == null) {
                throw new IOException("a snapshot arrived before its primary authenticated");
            }
            if (keptSequence < e.lastSequence) {
                dropLogState();
            }
            followDb(offeredDbId);
            streaming = false; // a new connection: its catch-up records may skip groups only tables hold
            // the snapshot holds every edit queued before it; those of a former connection too
            pending.clear();
            snapshotEditId = id;
            lastEditId = id;
            pending.add(new Pending(snap, true, newestSequence(snap)));
            installPending(e.lastSequence);
        } finally {
            applyLock.unlock();
        }
        afterInstall();
    }

    /** applyLock held: this replica's IDENTITY becomes its primary's (a promoted replica keeps the DB's identity). */
    private void followDb(String primaryDbId) throws IOException {
        if (!primaryDbId.equals(dbId)) {
            Path tmp = e.dir.resolve("IDENTITY.dbtmp");
            byte[] b = (primaryDbId + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileSystem.WritableFile f = e.fs.newWritableFile(tmp)) {
                f.append(b, 0, b.length);
                f.sync();
            }
            e.fs.rename(tmp, e.dir.resolve("IDENTITY"));
            e.fs.syncDirectory(e.dir);
            dbId = primaryDbId;
        }
    }

    @Override
    public void applyEdit(byte[] bytes) throws IOException {
        if (rebuild) {
            return;
        }
        long flagged = editId(bytes, "edit from the primary");
        boolean ingest = (flagged & ReplicationSource.INGEST_EDIT) != 0;
        long id = flagged & ~ReplicationSource.INGEST_EDIT;
        VersionEdit edit = VersionEdit.decode(Arrays.copyOfRange(bytes, 8, bytes.length), "edit from the primary", 0);
        checkTablesArrived(edit, "the edit");
        boolean installed;
        applyLock.lock();
        try {
            checkOpen();
            if (dbId == null || snapshotEditId < 0) {
                throw new IOException("an edit arrived before the primary's snapshot");
            }
            if (id <= snapshotEditId) {
                return; // shipped while the snapshot was taken: it holds it already
            }
            if (id != lastEditId + 1) {
                // the transport lost or reordered an edit: the link ends, and the catch-up's snapshot
                // makes the tables exactly the primary's again
                throw new IOException("replica " + e.dir + ": edit " + id + " of the primary arrived after edit "
                        + lastEditId + " (edits must arrive one by one, in install order); catching up again");
            }
            lastEditId = id;
            pending.add(ingest ? ingestPending(edit) : new Pending(edit, false, newestSequence(edit)));
            installed = installPending(e.lastSequence);
        } finally {
            applyLock.unlock();
        }
        if (installed) {
            afterInstall();
        }
    }

    @Override
    public void caughtUp(long lastSequence) throws IOException {
        boolean installed;
        applyLock.lock();
        try {
            if (rebuild) {
                primaryApplied = Math.max(primaryApplied, lastSequence);
                caughtUpOnce = true;
                return;
            }
            // every record up to lastSequence is in the tables received or the records applied: the
            // pending tables and the sequence become visible together (the view's floor)
            installed = installPending(lastSequence);
            if (lastSequence > e.lastSequence) {
                e.lastSequence = lastSequence;
            }
            caughtUpOnce = true;
            streaming = true;
        } finally {
            applyLock.unlock();
        }
        if (installed) {
            afterInstall();
        }
    }

    boolean caughtUpOnce() {
        return caughtUpOnce;
    }

    /**
     * applyLock held: applies to the MANIFEST, in order, every pending edit whose tables the log has
     * reached ({@code upTo}), then swaps the read view once: the new version, the shards it covers
     * dropped, and (when {@code upTo} is past the published sequence) {@code upTo} as its floor and
     * the published sequence. Returns whether anything was installed.
     */
    private boolean installPending(long upTo) throws IOException {
        Version v = null;
        List<Long> gone = new ArrayList<>();
        boolean ingested = false;
        while (!pending.isEmpty() && pending.peek().required() <= upTo) {
            Pending p = pending.poll();
            if (p.publishes() > 0) {
                ingested = true;
                upTo = Math.max(upTo, p.publishes()); // an ingest's sequence, published with its tables
            }
            VersionEdit edit = p.edit();
            if (p.snapshot()) {
                Set<Long> keep = new HashSet<>();
                for (Map.Entry<Integer, FileMetaData> nf : edit.newFiles) {
                    keep.add(nf.getValue().number);
                }
                Version cur = e.versions.current();
                for (int l = 0; l < Version.NUM_LEVELS; l++) {
                    for (FileMetaData f : cur.files(l)) {
                        edit.deleteFile(l, f.number); // the tables become exactly the snapshot's
                        if (!keep.contains(f.number)) {
                            gone.add(f.number);
                        }
                    }
                }
            } else {
                for (long[] d : edit.deletedFiles) {
                    gone.add(d[1]);
                }
            }
            if (edit.nextFileNumber != null) {
                e.versions.markFileNumberUsed(edit.nextFileNumber - 1);
            }
            if (p.snapshot()) {
                Set<Integer> live = new HashSet<>();
                for (VersionEdit.Family f : edit.addedFamilies) {
                    live.add(f.id());
                }
                for (VersionEdit.Family f : e.versions.liveFamilies()) {
                    if (!live.contains(f.id())) {
                        edit.droppedFamilies.add(f.id()); // the registry becomes exactly the snapshot's
                    }
                }
                e.versions.writeNewManifest(edit);
                v = e.versions.current();
            } else {
                v = e.versions.logAndApply(edit);
            }
            if (e.families != null && (p.snapshot() || !edit.addedFamilies.isEmpty()
                    || !edit.droppedFamilies.isEmpty())) {
                e.families.registryChanged(); // families created or dropped on the primary
            }
        }
        if (v == null) {
            return false;
        }
        installCovering(v, gone, upTo, ingested);
        return true;
    }

    /**
     * applyLock held, the MANIFEST just changed to {@code v}: one swap of the read view takes the
     * new version, drops every shard it covers, and takes copies in place of the shards of each range
     * that must not keep entries the tables hold ({@link #filterRange}); {@code gone} tables go when
     * no reader uses them. With {@code floor} past the published sequence, the view reads at
     * {@code floor} and it is published with it, under the mutex (so a snapshot taken meanwhile sees
     * both or neither). With {@code ingested} (an ingest's edit is among those installed), every range
     * is filtered so, operands or not: on the primary, every entry older than the ingest in its key
     * ranges was flushed first, so here such entries are ones the tables hold too — left in the shards,
     * a read would find them before the ingested values.
     */
    private void installCovering(Version v, List<Long> gone, long floor, boolean ingested) throws IOException {
        boolean dropCovered = ingested || ingestCopyOwed;
        ingestCopyOwed = false;
        refreshManifestView();
        SuperVersion cur = e.sv; // only applyLock's holder swaps a replica's view
        MemShard[] active = cur.active.clone();
        MemShard[][] lists = cur.sealed.clone();
        List<MemShard> replaced = new ArrayList<>();
        long added = 0;
        Throwable copyFailed = null;
        try {
            for (int r = 0; r < active.length; r++) {
                if (dropCovered || holdsCoveredOperand(cur, r)) {
                    added += filterRange(cur, r, active, lists, replaced); // copies made here, outside the mutex
                }
            }
        } catch (RuntimeException | OutOfMemoryError ex) { // an arena not allocated (direct memory)
            // the MANIFEST has changed already: the view takes its version with the shards as they are (a
            // later install copies them), then the failure ends the link (the catch-up installs again)
            copyFailed = ex; // the copies made so far were never accounted: the GC frees them
            ingestCopyOwed = dropCovered; // the next install (the catch-up's snapshot) filters every range
            active = cur.active.clone();
            lists = cur.sealed.clone();
            replaced.clear();
            added = 0;
        }
        long freed = 0;
        e.mutex.lock();
        try {
            if (e.sv != cur) {
                throw new IllegalStateException("replica " + e.dir + ": its read view changed during an install");
            }
            boolean raise = floor > e.lastSequence;
            MemShard[][] kept = lists;
            for (int r = 0; r < kept.length; r++) {
                MemShard[] sealed = kept[r];
                long bound = coveredUpTo(cur.layout, r);
                int k = 0;
                for (int i = sealed.length - 1; i >= 0 && sealed[i].maxSeq() <= bound; i--) {
                    k++; // newest first: the covered ones are the oldest, at the end
                }
                for (int i = sealed.length - k; i < sealed.length; i++) {
                    MemShard dropped = sealed[i];
                    MemtableShard arena = dropped.shard;
                    if (arena != null) {
                        freed += dropped.capacity;
                        e.memtables.awaitGc(arena.buffer().byteBuffer(), dropped.capacity);
                    }
                }
                kept[r] = Arrays.copyOf(sealed, sealed.length - k);
            }
            for (MemShard old : replaced) {
                freed += old.capacity;
                e.memtables.awaitGc(old.shard.buffer().byteBuffer(), old.capacity);
            }
            e.installSv(new SuperVersion(cur.layout, active, kept, v, raise ? floor : cur.floor));
            if (raise) {
                e.lastSequence = floor;
            }
            e.flushInstalls++;
            e.obsolete.markObsoleteNumbers(gone);
            e.memtables.replaced(added, freed);
            if (!replaced.isEmpty()) {
                e.stats.replicaShardCopies.add(replaced.size());
            }
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
        if (copyFailed instanceof OutOfMemoryError) {
            throw new IOException("replica " + e.dir + ": no memory for copies of the memtable shards holding merge "
                    + "operands its tables hold: " + copyFailed, copyFailed);
        } else if (copyFailed != null) {
            throw (RuntimeException) copyFailed;
        }
    }

    /*
     * Merge operands the tables hold too. A shard stays in the view until every MANIFEST range its keys
     * overlap is in the tables up to its newest entry, so it may hold entries at or below the watermark
     * of their key's range: entries the tables hold as well. A put, a delete or a range tombstone met
     * twice is the same entry twice (same sequence, same effect), and reads take it once. Operands are
     * not: the primary's compactions combine a key's operands into one entry carrying the newest one's
     * sequence (or, on a base, into a value), so the memtable's copies of the older operands would be
     * counted again, and the combined entry taken for a duplicate of the memtable's newest operand.
     * Hence the rule: a range of this replica holding an operand at or below the watermark of its key's
     * range gets, in place of each of its shards that holds anything at or below its key's watermark,
     * a copy holding only the entries above (range tombstones cut at the MANIFEST's boundaries, as
     * insertOp does) — what a restart would rebuild from the log. Every shard of the range, not only
     * those with operands: a read of a key stops at the first base the memtables have, so an older
     * shard's put the tables hold too (maybe as the base of operands they combined) must not be found
     * under operands of the copy either. Shards never holding an operand (MemShard.minMergeSequence)
     * cost nothing.
     */

    /** applyLock held, the MANIFEST view refreshed: does range {@code r} hold an operand its tables hold too? */
    private boolean holdsCoveredOperand(SuperVersion cur, int r) {
        long highest = highestWatermark(cur.layout, r);
        long covered = coveredUpTo(cur.layout, r);
        if (cur.active[r].minMergeSequence <= highest && holdsCovered(cur.active[r], true)) {
            return true;
        }
        for (MemShard s : cur.sealed[r]) {
            // a sealed shard covered whole is dropped anyway
            if (s.minMergeSequence <= highest && s.maxSeq() > covered && holdsCovered(s, true)) {
                return true;
            }
        }
        return false;
    }

    /**
     * applyLock held, mutex not: puts into {@code active} and {@code lists} a copy of each shard of
     * range {@code r} that holds an entry at or below its key's watermark (a sealed copy left empty is
     * left out), adding the originals to {@code replaced}; returns the copies' bytes.
     */
    private long filterRange(SuperVersion cur, int r, MemShard[] active, MemShard[][] lists, List<MemShard> replaced) {
        long highest = highestWatermark(cur.layout, r);
        long covered = coveredUpTo(cur.layout, r);
        long added = 0;
        MemShard a = cur.active[r];
        if (a.shard.minSequence() <= highest && holdsCovered(a, false)) {
            active[r] = copyAbove(a);
            added += active[r].capacity;
            replaced.add(a);
        }
        List<MemShard> sealed = new ArrayList<>(cur.sealed[r].length);
        for (MemShard s : cur.sealed[r]) {
            if (s.maxSeq() <= covered || s.shard.minSequence() > highest || !holdsCovered(s, false)) {
                sealed.add(s); // kept as it is (or dropped whole by the install)
                continue;
            }
            MemShard c = copyAbove(s);
            replaced.add(s);
            if (c.shard.entryCount() == 0) {
                continue; // everything it held is in the tables (the copy, never accounted, is left to the GC)
            }
            added += c.capacity;
            sealed.add(c);
        }
        lists[r] = sealed.toArray(new MemShard[0]);
        return added;
    }

    /** The watermark of {@code key}'s MANIFEST range. */
    private long watermarkOf(byte[] key) {
        return watermarks[manifestRanges.rangeOf(key, 0, key.length)];
    }

    /**
     * Whether shard {@code s} holds an entry (only merge operands, if {@code operandsOnly}) at or below
     * the watermark of its key's MANIFEST range (a range tombstone: of a range it reaches into).
     */
    private boolean holdsCovered(MemShard s, boolean operandsOnly) {
        long highest = highestWatermark(s.layout, s.range);
        try (InternalIterator it = s.reader.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                DirectBuffer k = it.key();
                long trailer = InternalKey.trailer(k, 0, k.capacity());
                int type = InternalKey.typeOf(trailer);
                long seq = InternalKey.sequenceOf(trailer);
                if (seq > highest || (operandsOnly && type != InternalKey.TYPE_MERGE)) {
                    continue;
                }
                byte[] user = new byte[k.capacity() - InternalKey.TRAILER_SIZE];
                k.getBytes(0, user);
                if (type == InternalKey.TYPE_RANGE_DELETION) {
                    byte[] end = new byte[it.value().capacity()];
                    it.value().getBytes(0, end);
                    for (ShardRanges.Piece m : manifestRanges.split(user, end)) {
                        if (seq <= watermarks[m.range()]) {
                            return true;
                        }
                    }
                } else if (seq <= watermarkOf(user)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A copy of shard {@code s} holding only its entries above the watermark of their key's MANIFEST
     * range (range tombstones cut at its boundaries, the pieces above kept), sealed if {@code s} is;
     * in an arena as large as {@code s}'s (larger only if the entries, with node heights of their
     * own, do not fit).
     */
    private MemShard copyAbove(MemShard s) {
        for (int capacity = s.capacity; ; capacity = Math.multiplyExact(capacity, 2)) {
            MemShard c = e.memtables.allocateCopy(s.layout, s.range, capacity);
            if (copyInto(s, c)) {
                c.firstLog = s.firstLog;
                if (s.shard.isSealed()) {
                    c.seal(false);
                }
                return c;
            }
            // too small (never accounted, never in a view: the GC frees it)
        }
    }

    /** {@link #copyAbove} into {@code c}; false if the entries do not fit its arena. */
    private boolean copyInto(MemShard s, MemShard c) {
        try (InternalIterator it = s.reader.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                DirectBuffer k = it.key();
                DirectBuffer val = it.value();
                long trailer = InternalKey.trailer(k, 0, k.capacity());
                int type = InternalKey.typeOf(trailer);
                long seq = InternalKey.sequenceOf(trailer);
                byte[] user = new byte[k.capacity() - InternalKey.TRAILER_SIZE];
                k.getBytes(0, user);
                byte[] value = new byte[val.capacity()];
                val.getBytes(0, value);
                if (type == InternalKey.TYPE_RANGE_DELETION) {
                    for (ShardRanges.Piece m : manifestRanges.split(user, value)) {
                        if (seq > watermarks[m.range()]) {
                            if (!c.shard.add(seq, type, m.start(), 0, m.start().length, m.end(), 0, m.end().length)) {
                                return false;
                            }
                            c.addTombstone(new RangeTombstone(m.start(), m.end(), seq));
                        }
                    }
                    continue;
                }
                if (seq <= watermarkOf(user)) {
                    continue; // the tables hold it
                }
                if (!c.shard.add(seq, type, user, 0, user.length, value, 0, value.length)) {
                    return false;
                }
                if (type == InternalKey.TYPE_MERGE) {
                    c.addedMerge(seq);
                }
            }
        }
        return true;
    }

    /** The highest watermark of the MANIFEST ranges that replica range {@code r} overlaps. */
    private long highestWatermark(ShardRanges layout, int r) {
        long highest = 0;
        for (int j = 0; j < manifestRanges.count(); j++) {
            if (overlaps(layout, r, j)) {
                highest = Math.max(highest, watermarks[j]);
            }
        }
        return highest;
    }

    private boolean overlaps(ShardRanges layout, int r, int j) {
        byte[] lo = layout.lower(r);
        byte[] hi = layout.upper(r);
        byte[] mlo = manifestRanges.lower(j);
        byte[] mhi = manifestRanges.upper(j);
        return (hi == null || mlo == null || Bytes.compare(mlo, hi) < 0)
                && (lo == null || mhi == null || Bytes.compare(mhi, lo) > 0);
    }

    /** After an install, no lock held: tables and logs nothing needs any more go. */
    private void afterInstall() {
        e.obsolete.deleteObsoleteTables();
        long logNumber = e.versions.logNumber();
        long current;
        applyLock.lock();
        try {
            current = logFile;
        } finally {
            applyLock.unlock();
        }
        try {
            for (String name : e.fs.list(e.dir)) {
                FileNames.Parsed p = FileNames.parse(name);
                if (p != null && p.type() == FileNames.Type.LOG && p.number() < logNumber && p.number() != current) {
                    e.fs.delete(e.dir.resolve(name));
                }
            }
        } catch (IOException ex) {
            Engine.LOG.warning("replica " + e.dir + ": cannot delete log files older than " + logNumber + ": " + ex);
        }
    }

    /** The sequence up to which every MANIFEST range that replica range {@code r} overlaps is in tables. */
    private long coveredUpTo(ShardRanges layout, int r) {
        long bound = Long.MAX_VALUE;
        for (int j = 0; j < manifestRanges.count(); j++) {
            if (overlaps(layout, r, j)) {
                bound = Math.min(bound, watermarks[j]);
            }
        }
        return bound;
    }

    /** applyLock held (or open): the MANIFEST's ranges and watermarks, for filtering and covering. */
    private void refreshManifestView() {
        manifestRanges = new ShardRanges(e.versions.shardBoundaries());
        long[] w = new long[manifestRanges.count()];
        for (int i = 0; i < w.length; i++) {
            w[i] = e.versions.watermark(i);
        }
        watermarks = w;
    }

    // ---------------------------------------------------------------- Target: the log

    @Override
    public void applyLog(long walNumber, byte[] record, int offset, int length) throws IOException {
        if (length < WriteBatch.HEADER_SIZE) {
            throw new CorruptionException("replicated log record of WAL " + walNumber, 0, "expected a write batch of at "
                    + "least " + WriteBatch.HEADER_SIZE + " bytes, found " + length);
        }
        byte[] rec = offset == 0 ? record : Arrays.copyOfRange(record, offset, offset + length);
        long seq = Coding.getFixed64(rec, 0);
        int count = Coding.getFixed32(rec, 8);
        applyLock.lock();
        try {
            checkOpen();
            if (rebuild) {
                rebuildFrom(walNumber, rec, seq, count, length);
                return;
            }
            if (dbId == null) {
                throw new IOException("a log record arrived before the primary's snapshot");
            }
            if (count <= 0 || seq + count - 1 <= e.lastSequence) {
                return; // held already (a catch-up resends what a live group may have brought)
            }
            if (streaming && seq > e.lastSequence + 1) {
                // a group the primary published never came (its transport failed it): catch up again
                throw new IOException("replica " + e.dir + ": the primary's log skips from sequence "
                        + e.lastSequence + " to " + seq + "; catching up again");
            }
            if (walNumber >= e.versions.logNumber()) {
                if (walNumber != logFile) {
                    switchLog(walNumber);
                }
                log.addRecord(rec, 0, length);
            }
            BatchCursor c = new BatchCursor(rec, length, "replicated log record of WAL " + walNumber, 0);
            long s = seq;
            while (c.next()) {
                insertOp(s++, c);
            }
            if (s - seq != count) {
                throw new CorruptionException("replicated log record of WAL " + walNumber, 0, "expected " + count
                        + " operations in the write batch, found " + (s - seq));
            }
            e.lastSequence = seq + count - 1;
            e.stats.replicaLogBytes.add(length);
            if (!pending.isEmpty() && pending.peek().required() <= e.lastSequence) {
                installPending(e.lastSequence);
                installedSinceIdle = true;
            }
        } finally {
            applyLock.unlock();
        }
    }

    /** Under applyLock: an edit was installed by the log thread; {@link #logIdle} tidies after it. */
    private boolean installedSinceIdle;

    /** applyLock held, the baseline: the record becomes a write of this engine's own. */
    private void rebuildFrom(long walNumber, byte[] rec, long seq, int count, int length) {
        if (count <= 0 || seq + count - 1 <= primaryApplied) {
            return;
        }
        rebuildBatch.clear();
        BatchCursor c = new BatchCursor(rec, length, "replicated log record of WAL " + walNumber, 0);
        while (c.next()) {
            switch (c.type) {
                case InternalKey.TYPE_VALUE -> rebuildBatch.put(java.nio.ByteBuffer.wrap(rec, c.keyOff, c.keyLen),
                        java.nio.ByteBuffer.wrap(rec, c.valueOff, c.valueLen));
                case InternalKey.TYPE_DELETION -> rebuildBatch.delete(java.nio.ByteBuffer.wrap(rec, c.keyOff, c.keyLen));
                case InternalKey.TYPE_RANGE_DELETION -> rebuildBatch.deleteRange(c.key(), c.value());
                case InternalKey.TYPE_MERGE -> rebuildBatch.merge(c.key(), c.value());
                default -> throw new CorruptionException("replicated log record of WAL " + walNumber, 0,
                        "unknown operation type " + c.type);
            }
        }
        if (e.families != null) {
            e.writes.writeStored(rebuildBatch, io.o3lsm.WriteOptions.defaults()); // keys stored, values stamped
        } else {
            e.writes.write(rebuildBatch, io.o3lsm.WriteOptions.defaults());
        }
        primaryApplied = seq + count - 1;
        e.stats.replicaLogBytes.add(length);
    }

    @Override
    public void logIdle() throws IOException {
        boolean tidy;
        applyLock.lock();
        try {
            if (log != null && !closed) {
                log.flush();
            }
            tidy = installedSinceIdle;
            installedSinceIdle = false;
        } finally {
            applyLock.unlock();
        }
        if (tidy) {
            afterInstall();
        }
    }

    /** Inserts one operation unless the tables hold it (at or below its MANIFEST range's watermark). */
    private void insertOp(long seq, BatchCursor c) {
        Recovery.insertPastWatermark(e, manifestRanges, watermarks, seq, c);
    }

    /** applyLock held: the primary moved to WAL {@code number}: the finished log is synced and closed. */
    private void switchLog(long number) throws IOException {
        closeLog();
        Path p = e.dir.resolve(FileNames.log(number));
        if (e.fs.exists(p)) {
            reopenLog(number);
        } else {
            log = new LogWriter(e.fs.newWritableFile(p), LogFormat.KIND_WAL, number);
            logFile = number;
        }
    }

    /**
     * Continues log {@code number}, which exists: its records are copied into a new file that then
     * takes its name (a log is only ever appended by the writer that created it).
     */
    private void reopenLog(long number) throws IOException {
        Path p = e.dir.resolve(FileNames.log(number));
        Path tmp = e.dir.resolve(FileNames.log(number) + ".copy"); // not FileNames.temp: see incomingName
        LogWriter w = new LogWriter(e.fs.newWritableFile(tmp), LogFormat.KIND_WAL, number);
        try (FileSystem.ReadableFile f = e.fs.newReadableFile(p)) {
            LogReader r = new LogReader(f, LogFormat.KIND_WAL, number, true);
            byte[] rec;
            while ((rec = r.readRecord()) != null) {
                w.addRecord(rec, 0, rec.length);
            }
            w.sync();
        } catch (IOException | RuntimeException ex) {
            w.close();
            e.fs.delete(tmp);
            throw ex;
        }
        e.fs.rename(tmp, p);
        e.fs.syncDirectory(e.dir);
        log = w;
        logFile = number;
    }

    private void closeLog() throws IOException {
        LogWriter l = log;
        log = null;
        logFile = -1;
        if (l != null) {
            try {
                l.sync();
            } finally {
                l.close();
            }
        }
    }

    /**
     * applyLock held: the primary keeps less of the log than this replica applied (it lost writes it
     * had not synced, or this replica followed another epoch): the memtables and log files go, reads
     * fall back to what the tables alone hold (the lowest range watermark), and the primary's live log
     * comes again in full.
     */
    private void dropLogState() throws IOException {
        Engine.LOG.warning("replica " + e.dir + ": its primary does not continue the log this replica applied (up to "
                + e.lastSequence + "); its memtables and log files are dropped and the log taken again");
        closeLog();
        for (String name : e.fs.list(e.dir)) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p != null && p.type() == FileNames.Type.LOG) {
                e.fs.delete(e.dir.resolve(name));
            }
        }
        pending.clear();
        long tablesOnly = Long.MAX_VALUE;
        for (long w : watermarks == null ? new long[] {0} : watermarks) {
            tablesOnly = Math.min(tablesOnly, w);
        }
        e.mutex.lock();
        try {
            SuperVersion cur = e.sv;
            for (int r = 0; r < cur.active.length; r++) {
                for (MemShard m : cur.sealed[r]) {
                    if (m.shard != null) {
                        e.memtables.awaitGc(m.shard.buffer().byteBuffer(), m.capacity);
                    }
                }
                if (cur.active[r].shard != null) {
                    e.memtables.awaitGc(cur.active[r].shard.buffer().byteBuffer(), cur.active[r].capacity);
                }
            }
            e.memtables.installInitialView(); // resets the memory account to the fresh active shards
            e.lastSequence = dbId == null ? 0 : tablesOnly;
        } finally {
            e.mutex.unlock();
        }
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("replica " + e.dir + " is closed");
        }
    }

    /** For properties: the replica's state in one line. */
    String describe() {
        return "applied=" + (rebuild ? primaryApplied : e.lastSequence) + " live=" + live()
                + (rebuild ? " rebuildsTables=true" : "") + " caughtUp=" + caughtUpOnce + " following="
                + e.options.replicaOf() + " epoch=" + e.versions.epoch() + " db=" + dbId;
    }

    /** Fails when this replica holds no DB: nothing to promote. */
    void checkPromotable() {
        if (dbId == null) {
            throw new O3Exception("replica " + e.dir + " has never received its primary's state: nothing to promote");
        }
    }
}
