package io.o3lsm.internal.db;

import io.o3lsm.CorruptionException;
import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.format.InternalIterator;
import io.o3lsm.internal.format.InternalKey;
import io.o3lsm.internal.format.Lookup;
import io.o3lsm.internal.log.LogFormat;
import io.o3lsm.internal.log.LogReader;
import io.o3lsm.internal.log.LogWriter;
import io.o3lsm.internal.memtable.MemtableShard;
import io.o3lsm.internal.memtable.ShardDescriptor;
import io.o3lsm.internal.cache.BlockCache;
import io.o3lsm.internal.format.RangeTombstone;
import io.o3lsm.internal.table.TableOptions;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.spi.MemoryNode;
import io.o3lsm.internal.memtable.ShardReader;
import io.o3lsm.internal.util.AgronaAccess;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.internal.version.VersionSet;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The embedded engine: open and recovery, the group-commit write path, the read path over memtable
 * shards and L0 tables, and background flush.
 *
 * <h2>Concurrency</h2>
 * <ul>
 * <li>{@code mutex} guards the writer queue, the memory account, flush scheduling and every swap of
 * {@link #sv}. It is never held across I/O.</li>
 * <li>Writers queue up; the head is the leader. The leader alone writes the WAL and inserts into the
 * memtable, for itself and the followers it groups, with the mutex released; then it publishes
 * {@link #lastSequence} and wakes the group.</li>
 * <li>Readers take no lock: they read {@link #lastSequence} first, then {@link #sv}. Because the
 * leader swaps {@code sv} before publishing the sequence, and a flush installs its SST and drops its
 * shards in one swap, a reader always finds everything up to its sequence.</li>
 * <li>{@code installLock} orders MANIFEST installs (flushes of different ranges run in parallel).</li>
 * </ul>
 */
public final class DBImpl implements DB {
    private static final Logger LOG = Logger.getLogger("io.o3lsm");

    static {
        AgronaAccess.ensure(); // before any Agrona buffer is touched
    }
    private static final int MAX_GROUP_BYTES = 1 << 20;

    private final Path dir;
    private final Options options;
    private final FileSystem fs;
    private final Closeable dirLock;
    private final VersionSet versions;
    private final ShardRanges ranges;
    private final TableCache tableCache;
    private final TableOptions tableOptions;
    private final int arenaSize;

    private final ReentrantLock mutex = new ReentrantLock();
    /** Signalled when memory is freed, a flush finishes, an error is set, or the DB closes. */
    private final Condition bgChanged = mutex.newCondition();
    private final ReentrantLock installLock = new ReentrantLock();
    private final ArrayDeque<Writer> writers = new ArrayDeque<>();
    private final ThreadLocal<Writer> threadWriter;
    private final ThreadLocal<WriteBatch> threadBatch = ThreadLocal.withInitial(WriteBatch::new);

    private volatile SuperVersion sv;
    private volatile long lastSequence;
    private volatile Throwable bgError;
    private volatile boolean closing;
    private volatile boolean closed;

    // owned by the write leader
    private LogWriter wal;
    private volatile long walNumber;
    private boolean rollPending;

    // guarded by mutex
    private long memoryUsed;
    private final TreeSet<Long> liveWals = new TreeSet<>();
    private final boolean[] flushScheduled;
    private int runningFlushes;

    private final ExecutorService flushPool;
    private final ExecutorService compactionPool;
    private final AtomicInteger flushThreadIds = new AtomicInteger();
    private final AtomicInteger compactionThreadIds = new AtomicInteger();
    private final BlockCache blockCache;
    private final CompactionPicker picker;
    private final CompactionExecutor compactionExecutor;

    // guarded by mutex
    private final java.util.TreeMap<Long, Integer> snapshots = new java.util.TreeMap<>();
    private final java.util.Set<Long> busyFiles = new java.util.HashSet<>();
    private final java.util.Set<Long> pendingDeletion = new java.util.HashSet<>();
    private int runningCompactions;
    private int manualCompactions;
    /** DM mode: the memory-node attachment; null in embedded mode. */
    private volatile DmLink dm;
    /** Bytes of memtable arenas kept in this process. */
    private final long localBudget;
    private final ReentrantLock rebuildLock = new ReentrantLock();
    /** One manual compaction at a time. */
    private final ReentrantLock manualLock = new ReentrantLock();
    /** Callers of flush() waiting: every sealed shard is flushed at once while this is positive. */
    private int flushRequests;

    final Stats stats = new Stats();

    /** Counters; written by the owners of each event (leader, flush and compaction threads). */
    static final class Stats {
        final java.util.concurrent.atomic.LongAdder flushes = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder flushBytes = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder stallNanos = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder userBytes = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder walBytes = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder compactions = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder compactionBytesRead = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder compactionBytesWritten =
                new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder offloads = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder offloadBytes = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder delegatedGets = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder delegatedScans = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder droppedLocal = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder rebuilt = new java.util.concurrent.atomic.LongAdder();
    }

    private DBImpl(Path dir, Options options, Closeable dirLock, VersionSet versions) {
        this.dir = dir;
        this.options = options;
        this.fs = options.fileSystem();
        this.dirLock = dirLock;
        this.versions = versions;
        this.ranges = new ShardRanges(options.shardBoundaries());
        this.blockCache = options.blockCacheSize() > 0 ? new BlockCache(options.blockCacheSize()) : null;
        this.tableCache = new TableCache(fs, dir, options.maxOpenFiles(), blockCache);
        this.picker = new CompactionPicker(options.level0CompactionTrigger(), options.maxBytesForLevelBase(),
                options.levelSizeMultiplier());
        this.compactionExecutor = options.compactionExecutor() != null ? options.compactionExecutor()
                : new CompactionJob(fs);
        this.tableOptions = new TableOptions(options.blockSize(), options.blockRestartInterval(),
                options.compression(), options.bloomBitsPerKey());
        this.arenaSize = options.shardArenaSize();
        this.localBudget = options.memoryNodeAddress() != null ? options.localMemoryBudget() : options.writeBufferSize();
        this.flushScheduled = new boolean[ranges.count()];
        this.threadWriter = ThreadLocal.withInitial(() -> new Writer(mutex.newCondition()));
        this.flushPool = Executors.newFixedThreadPool(options.maxBackgroundFlushes(), r -> {
            Thread t = new Thread(r, "o3lsm-flush-" + flushThreadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.compactionPool = Executors.newFixedThreadPool(options.maxBackgroundCompactions(), r -> {
            Thread t = new Thread(r, "o3lsm-compaction-" + compactionThreadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        versions.setObsoleteListener(this::scheduleObsoleteDeletion);
    }

    /** Mutex held. Publishes a new read view and releases the DB's reference on the old one. */
    private void installSv(SuperVersion next) {
        SuperVersion old = sv;
        sv = next;
        if (old != null) {
            old.unref();
        }
    }

    /**
     * Pins a read view and picks the read's sequence ({@code seqOut[0]}). Without a snapshot the
     * sequence is read after pinning, and the pin is retried if the view changed meanwhile: the
     * leader swaps the view before publishing a sequence, so a view still current after the read
     * holds everything up to it; and every flush or compaction in it chose what to keep at a
     * sequence no higher than the one read.
     */
    private SuperVersion pin(io.o3lsm.ReadOptions ro, long[] seqOut) {
        while (true) {
            SuperVersion cur = acquireSv();
            try {
                seqOut[0] = readSequence(ro);
            } catch (RuntimeException e) {
                cur.unref();
                throw e;
            }
            if (ro.snapshot() != null || sv == cur) {
                return cur;
            }
            cur.unref();
        }
    }

    /** Pins the current read view. Release with {@link SuperVersion#unref()}. */
    private SuperVersion acquireSv() {
        while (true) {
            SuperVersion s = sv;
            if (s.tryRef()) {
                return s;
            }
        }
    }

    // ------------------------------------------------------------------ open and recovery

    public static DB open(Path dir, Options options) {
        if (dir == null) {
            throw new IllegalArgumentException("dir must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        options.validate();
        FileSystem fs = options.fileSystem();
        Closeable lock = null;
        VersionSet versions = null;
        DBImpl db = null;
        try {
            if (!fs.exists(dir)) {
                if (!options.createIfMissing()) {
                    throw new O3Exception("no database in " + dir + " (the directory does not exist) and createIfMissing is false");
                }
            }
            fs.createDirectories(dir);
            try {
                lock = fs.lock(dir.resolve(FileNames.LOCK));
            } catch (IOException e) {
                throw new O3Exception("cannot open " + dir + ": it is in use by another DB instance (" + e.getMessage() + ")", e);
            }
            versions = new VersionSet(fs, dir);
            boolean exists = versions.recover();
            if (exists && options.errorIfExists()) {
                throw new O3Exception("a database already exists in " + dir + " and errorIfExists is true");
            }
            if (!exists && !options.createIfMissing()) {
                throw new O3Exception("no database in " + dir + " and createIfMissing is false");
            }
            db = new DBImpl(dir, options, lock, versions);
            db.recover(exists);
            if (options.memoryNodeAddress() != null) {
                DBImpl d = db;
                db.dm = new DmLink(options, identity(fs, dir), versions.epoch(), () -> {
                    d.mutex.lock();
                    try {
                        d.dmOffloadSealed();
                    } finally {
                        d.mutex.unlock();
                    }
                });
            }
            return db;
        } catch (IOException e) {
            cleanupFailedOpen(db, versions, lock);
            throw new O3Exception("cannot open " + dir + ": " + e, e);
        } catch (RuntimeException | Error e) {
            cleanupFailedOpen(db, versions, lock);
            throw e;
        }
    }

    /** The DB's stable identity (file IDENTITY, a random UUID written at first open). */
    private static String identity(FileSystem fs, Path dir) throws IOException {
        Path p = dir.resolve("IDENTITY");
        if (fs.exists(p)) {
            try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
                byte[] b = new byte[(int) Math.min(256, f.size())];
                f.readFully(0, b, 0, b.length);
                String id = new String(b, java.nio.charset.StandardCharsets.UTF_8).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
        }
        String id = java.util.UUID.randomUUID().toString();
        byte[] b = (id + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path tmp = dir.resolve("IDENTITY.dbtmp");
        try (FileSystem.WritableFile f = fs.newWritableFile(tmp)) {
            f.append(b, 0, b.length);
            f.sync();
        }
        fs.rename(tmp, p);
        fs.syncDirectory(dir);
        return id;
    }

    private static void cleanupFailedOpen(DBImpl db, VersionSet versions, Closeable lock) {
        if (db != null) {
            db.flushPool.shutdownNow();
            db.compactionPool.shutdownNow();
            db.tableCache.close();
            try {
                if (db.wal != null) {
                    db.wal.close();
                }
            } catch (IOException ignored) {
                // already failing
            }
        }
        try {
            if (versions != null) {
                versions.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
        try {
            if (lock != null) {
                lock.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** MANIFEST is loaded; replays WALs, flushes what they held, starts a new MANIFEST and WAL. */
    private void recover(boolean exists) throws IOException {
        List<String> names = fs.list(dir);
        List<Long> logs = new ArrayList<>();
        long minLog = versions.logNumber();
        for (String name : names) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p == null || p.number() < 0) {
                continue;
            }
            versions.markFileNumberUsed(p.number());
            if (p.type() == FileNames.Type.LOG && p.number() >= minLog) {
                logs.add(p.number());
            }
        }
        logs.sort(null);
        long seq = versions.lastSequence();
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : versions.current().files(level)) {
                seq = Math.max(seq, f.largestSeq);
            }
        }
        lastSequence = seq;

        VersionEdit edit = new VersionEdit();
        edit.comparator = VersionEdit.COMPARATOR;
        // replay: entries are routed by the boundaries recorded with the watermarks
        ShardRanges oldRanges = new ShardRanges(versions.shardBoundaries());
        long[] oldWatermarks = new long[oldRanges.count()];
        for (int i = 0; i < oldWatermarks.length; i++) {
            oldWatermarks[i] = versions.watermark(i);
        }
        Replay replay = new Replay(edit, oldRanges, oldWatermarks);
        for (int i = 0; i < logs.size(); i++) {
            replay.log(logs.get(i), i == logs.size() - 1);
        }
        replay.finish();

        long newLog = versions.newFileNumber();
        edit.logNumber = newLog;
        edit.lastSequence = lastSequence;
        edit.epoch = versions.epoch() + 1;
        edit.shardBoundaries = new ArrayList<>(options.shardBoundaries());
        for (int r = 0; r < ranges.count(); r++) {
            edit.rangeWatermarks.put(r, lastSequence);
        }
        versions.writeNewManifest(edit);

        // fresh WAL and memtable
        wal = new LogWriter(fs.newWritableFile(dir.resolve(FileNames.log(newLog))), LogFormat.KIND_WAL, newLog);
        wal.flush();
        walNumber = newLog;
        liveWals.add(newLog);
        MemShard[] active = new MemShard[ranges.count()];
        MemShard[][] sealed = new MemShard[ranges.count()][];
        for (int r = 0; r < active.length; r++) {
            active[r] = newShard(r, arenaSize);
            sealed[r] = new MemShard[0];
        }
        memoryUsed = (long) active.length * arenaSize;
        installSv(new SuperVersion(active, sealed, versions.current()));
        fs.syncDirectory(dir);
        deleteObsoleteFiles();
        mutex.lock();
        try {
            maybeScheduleCompaction();
        } finally {
            mutex.unlock();
        }
        if (LOG.isLoggable(Level.FINE)) {
            LOG.fine("opened " + dir + " epoch " + versions.epoch() + " lastSequence " + lastSequence
                    + " replayed logs " + logs + " " + versions.current());
        }
        if (!exists) {
            LOG.fine("created " + dir);
        }
    }

    /** WAL replay into scratch shards, flushed to L0 whenever one fills and at the end. */
    private final class Replay {
        final VersionEdit edit;
        final ShardRanges oldRanges;
        final long[] oldWatermarks;
        final MemShard[] shards = new MemShard[ranges.count()];

        Replay(VersionEdit edit, ShardRanges oldRanges, long[] oldWatermarks) {
            this.edit = edit;
            this.oldRanges = oldRanges;
            this.oldWatermarks = oldWatermarks;
        }

        void log(long number, boolean newest) throws IOException {
            long last = forEachWalOp(number, newest, (s, c) -> {
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
            lastSequence = Math.max(lastSequence, last);
        }

        private void insert(int r, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff, int vlen)
                throws IOException {
            for (int attempt = 0; ; attempt++) {
                if (shards[r] == null) {
                    shards[r] = newShard(r, Math.max(arenaSize, jumboSize(klen, vlen)));
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
            FlushJob job = new FlushJob(fs, dir, tableOptions, options.targetFileSize(), versions::newFileNumber,
                    tombs);
            List<InternalIterator> in = new ArrayList<>();
            in.add(s.reader.iterator());
            for (FileMetaData f : job.run(in, new long[0])) {
                edit.addFile(0, f);
            }
        }

        void finish() throws IOException {
            for (int r = 0; r < shards.length; r++) {
                flushRangeNow(r);
            }
        }
    }

    /** One operation of a WAL record, at its sequence number. */
    private interface WalOp {
        void accept(long sequence, BatchCursor op) throws IOException;
    }

    /**
     * Reads WAL file {@code number} and hands every operation to {@code op}; returns the highest
     * sequence seen (0 if none). A record that is not a well-formed write batch is a
     * {@link CorruptionException} naming the file and the record's offset; a torn tail (only allowed
     * when {@code tolerateTornTail}) is dropped with a warning.
     */
    private long forEachWalOp(long number, boolean tolerateTornTail, WalOp op) throws IOException {
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
                LOG.warning("WAL " + p + ": dropped a torn tail of " + reader.droppedTailBytes()
                        + " bytes (an append interrupted by a crash)");
            }
        }
        return last;
    }

    private MemShard newShard(int range, int capacity) {
        return new MemShard(MemtableShard.allocate(range, capacity), range);
    }

    private static int jumboSize(int keyLen, int valueLen) {
        return ShardDescriptor.capacityFor(keyLen, valueLen);
    }

    /** Deletes files no longer needed: old WALs and MANIFESTs, orphan tables, temp files. */
    private void deleteObsoleteFiles() {
        List<String> names;
        try {
            names = fs.list(dir);
        } catch (IOException e) {
            LOG.warning("cannot list " + dir + " to delete obsolete files: " + e);
            return;
        }
        java.util.Set<Long> live = new java.util.HashSet<>(versions.current().liveFiles());
        long logNumber = versions.logNumber();
        long manifest = versions.manifestNumber();
        for (String name : names) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p == null) {
                continue;
            }
            boolean keep = switch (p.type()) {
                case LOG -> p.number() >= logNumber;
                case MANIFEST -> p.number() >= manifest;
                case TABLE -> live.contains(p.number()); // called only at open: no flush is writing
                case TEMP -> false;
                case CURRENT, LOCK -> true;
            };
            if (!keep) {
                try {
                    fs.delete(dir.resolve(name));
                } catch (IOException e) {
                    LOG.warning("cannot delete obsolete " + name + ": " + e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ writes

    /** A thread waiting to be written, or the leader writing a group. */
    private static final class Writer {
        final Condition cond;
        WriteBatch batch;
        boolean sync;
        boolean disableWal;
        boolean done;
        RuntimeException error;

        Writer(Condition cond) {
            this.cond = cond;
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(byte[] key, byte[] value, WriteOptions wo) {
        WriteBatch b = threadBatch.get();
        b.clear();
        b.put(key, value);
        write(b, wo);
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value, WriteOptions wo) {
        WriteBatch b = threadBatch.get();
        b.clear();
        b.put(key, value);
        write(b, wo);
    }

    @Override
    public void delete(byte[] key) {
        delete(key, WriteOptions.defaults());
    }

    @Override
    public void delete(byte[] key, WriteOptions wo) {
        WriteBatch b = threadBatch.get();
        b.clear();
        b.delete(key);
        write(b, wo);
    }

    @Override
    public void write(WriteBatch batch, WriteOptions wo) {
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        if (wo == null) {
            throw new IllegalArgumentException("write options must not be null");
        }
        if (wo.sync() && wo.disableWal()) {
            throw new IllegalArgumentException("WriteOptions: sync(true) cannot be combined with disableWal(true)");
        }
        checkOpen();
        if (batch.count() == 0) {
            return;
        }
        Writer w = threadWriter.get();
        w.batch = batch;
        w.sync = wo.sync();
        w.disableWal = wo.disableWal();
        w.done = false;
        w.error = null;
        mutex.lock();
        try {
            writers.addLast(w);
            while (!w.done && writers.peekFirst() != w) {
                w.cond.awaitUninterruptibly();
            }
            if (w.done) {
                if (w.error != null) {
                    throw w.error;
                }
                return;
            }
            leadGroup(w);
            if (w.error != null) {
                throw w.error;
            }
        } finally {
            w.batch = null;
            mutex.unlock();
        }
    }

    /** Called with the mutex held by the head of the queue. Returns with the mutex held. */
    private void leadGroup(Writer leader) {
        List<Writer> group = new ArrayList<>();
        RuntimeException failure = null;
        boolean walTouched = false;
        try {
            if (closing) {
                throw new DBClosedException("DB " + dir + " is closed");
            }
            checkBackgroundError();
            waitForL0(leader);
            // group followers
            int bytes = 0;
            int limit = leader.batch.size() <= (128 << 10) ? leader.batch.size() + (128 << 10) : MAX_GROUP_BYTES;
            for (Writer x : writers) {
                if (x != leader) {
                    if (x.batch == null) {
                        break; // flush() or close() holding a place in the queue
                    }
                    if (x.sync && !leader.sync) {
                        break;
                    }
                    if (x.disableWal != leader.disableWal) {
                        break;
                    }
                    if (bytes + x.batch.size() > limit) {
                        break;
                    }
                }
                group.add(x);
                bytes += x.batch.size();
            }
            boolean sync = leader.sync;
            boolean useWal = !leader.disableWal;
            long first = lastSequence + 1;
            long count = 0;
            for (Writer x : group) {
                count += x.batch.count();
            }
            if (first + count - 1 > InternalKey.MAX_SEQUENCE) {
                throw new O3Exception("sequence numbers exhausted");
            }
            mutex.unlock();
            walTouched = true;
            try {
                if (rollPending && useWal) {
                    rollWal();
                }
                long seq = first;
                if (useWal) {
                    for (Writer x : group) {
                        x.batch.setHeader(seq);
                        wal.addRecord(x.batch.rep(), 0, x.batch.size());
                        seq += x.batch.count();
                    }
                    wal.flush();
                    if (sync) {
                        wal.sync();
                    }
                }
                stats.walBytes.add(useWal ? bytes : 0);
                stats.userBytes.add(bytes);
                seq = first;
                for (Writer x : group) {
                    insertBatch(x.batch, seq);
                    seq += x.batch.count();
                }
            } catch (IOException e) {
                O3Exception err = new O3Exception("write to the WAL of " + dir + " failed; the DB refuses further "
                        + "writes until reopened (acknowledged writes are safe): " + e, e);
                setBackgroundError(err);
                throw err;
            } finally {
                mutex.lock();
            }
            lastSequence = first + count - 1;
        } catch (RuntimeException e) {
            failure = e;
            if (walTouched && !closing) {
                // sequence numbers of this group may be in the WAL or memtable: no write may reuse them
                // (the shared path also wakes whoever waits on background state, e.g. flush())
                setBackgroundError(e);
            }
            if (group.isEmpty()) {
                group.add(leader);
            }
        }
        for (Writer x : group) {
            Writer head = writers.pollFirst();
            assert head == x;
            x.error = failure;
            x.done = true;
            if (x != leader) {
                x.cond.signal();
            }
        }
        Writer next = writers.peekFirst();
        if (next != null) {
            next.cond.signal();
        }
    }

    /**
     * Leader, mutex held. L0 back-pressure: at the slowdown trigger each write group waits 1 ms (so
     * compaction gets CPU); at the stop trigger writes wait until compaction brings L0 below it.
     */
    private void waitForL0(Writer leader) {
        int l0 = versions.current().l0Depth();
        if (l0 < options.level0SlowdownTrigger()) {
            return;
        }
        long start = System.nanoTime();
        if (l0 < options.level0StopTrigger()) {
            try {
                bgChanged.await(1, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            while (versions.current().l0Depth() >= options.level0StopTrigger() && !closing && bgError == null) {
                maybeScheduleCompaction();
                bgChanged.awaitUninterruptibly();
            }
        }
        stats.stallNanos.add(System.nanoTime() - start);
        if (closing) {
            throw new DBClosedException("DB " + dir + " closed while a write waited for compaction");
        }
        checkBackgroundError();
    }

    /** Leader only, mutex not held. Syncs the finished WAL, then starts the next one. */
    private void rollWal() throws IOException {
        long number = versions.newFileNumber();
        wal.sync();
        LogWriter next = new LogWriter(fs.newWritableFile(dir.resolve(FileNames.log(number))), LogFormat.KIND_WAL, number);
        try {
            next.flush();
            fs.syncDirectory(dir); // a synced write to the new WAL must not vanish with its directory entry
        } catch (IOException e) {
            next.close();
            throw e;
        }
        LogWriter old = wal;
        mutex.lock();
        try {
            liveWals.add(number);
            wal = next;
            walNumber = number;
            rollPending = false;
        } finally {
            mutex.unlock();
        }
        old.close();
    }

    /** Leader only, mutex not held: inserts every operation of {@code batch} starting at {@code seq}. */
    private void insertBatch(WriteBatch batch, long seq) {
        BatchCursor c = new BatchCursor(batch.rep(), batch.size(), "write batch", 0);
        while (c.next()) {
            if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                for (ShardRanges.Piece p : ranges.split(c.key(), c.value())) {
                    insertOne(p.range(), seq, c.type, p.start(), 0, p.start().length, p.end(), 0, p.end().length);
                }
            } else {
                insertOne(ranges.rangeOf(c.rep, c.keyOff, c.keyLen), seq, c.type, c.rep, c.keyOff, c.keyLen, c.rep,
                        c.valueOff, c.valueLen);
            }
            seq++;
        }
    }

    private void insertOne(int r, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff, int vlen) {
        while (true) {
            MemShard s = sv.active[r];
            if (s.firstLog < 0) {
                s.firstLog = walNumber;
            }
            if (s.shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
                if (type == InternalKey.TYPE_RANGE_DELETION) {
                    s.addTombstone(new RangeTombstone(Arrays.copyOfRange(k, koff, koff + klen),
                            Arrays.copyOfRange(v, voff, voff + vlen), seq));
                }
                return;
            }
            sealAndReplace(r, s, klen, vlen);
        }
    }

    /** Leader only, mutex not held: seals the full active shard of {@code range}, waits for memory. */
    private void sealAndReplace(int range, MemShard full, int keyLen, int valueLen) {
        // a standard arena, or a bigger one when the entry that did not fit would not fit that either
        int need = Math.max(arenaSize, jumboSize(keyLen, valueLen));
        mutex.lock();
        try {
            reserveArenaMemory(need);
            if (full.isEmpty()) {
                // an empty arena too small for a jumbo entry: replace it without sealing anything
                memoryUsed -= full.shard.capacity();
                installSv(sv.replaceActive(range, newShard(range, need), sv.version));
                return;
            }
            sealActive(range, full, need);
            dmOffloadSealed();
            for (int r = 0; r < ranges.count(); r++) {
                maybeScheduleFlush(r);
            }
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Mutex held. Waits until {@code need} more bytes of arenas fit in the local budget (dropping
     * local copies of offloaded shards first, then waiting for flushes, which it forces), and
     * accounts them. The wait counts as stall time; it ends with an exception if the DB closes or a
     * background error is set.
     */
    private void reserveArenaMemory(long need) {
        long start = 0;
        boolean forced = false;
        try {
            while (memoryUsed + need > localBudget && !dropOffloadedLocals(need) && hasSealed() && !closing
                    && bgError == null) {
                if (start == 0) {
                    start = System.nanoTime();
                    // a writer is blocked on memory: whatever is sealed must flush now, even if the
                    // usual accumulation threshold is not reached (an oversized entry needs more room
                    // than that threshold frees)
                    forced = true;
                    flushRequests++;
                    for (int r = 0; r < ranges.count(); r++) {
                        maybeScheduleFlush(r);
                    }
                }
                bgChanged.awaitUninterruptibly();
            }
        } finally {
            if (forced) {
                flushRequests--;
            }
            if (start != 0) {
                stats.stallNanos.add(System.nanoTime() - start);
            }
        }
        if (closing) {
            throw new DBClosedException("DB " + dir + " closed while waiting for memtable memory");
        }
        checkBackgroundError();
        memoryUsed += need;
    }

    /** Mutex held, memory reserved. Seals {@code full} and puts a fresh arena of {@code need} bytes in its place. */
    private void sealActive(int range, MemShard full, int need) {
        full.seal(false); // the DM bloom filter is built later, off the write path
        installSv(sv.seal(range, newShard(range, need), sv.version));
        rollPending = true;
    }

    /** Mutex held. Queues a placeholder writer and waits until it heads the queue: no leader runs then. */
    private void enterWriterQueueAlone() {
        Writer me = new Writer(mutex.newCondition());
        writers.addLast(me);
        while (writers.peekFirst() != me) {
            me.cond.awaitUninterruptibly();
        }
    }

    /** Mutex held. Leaves the head of the writer queue and wakes whoever is next. */
    private void leaveWriterQueue() {
        writers.pollFirst();
        Writer next = writers.peekFirst();
        if (next != null) {
            next.cond.signal();
        }
    }

    /** Mutex held. True while any of {@code shards} is still waiting in the read view for its flush. */
    private boolean stillSealed(java.util.Set<MemShard> shards) {
        for (MemShard[] list : sv.sealed) {
            for (MemShard m : list) {
                if (shards.contains(m)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean hasSealed() {
        for (MemShard[] s : sv.sealed) {
            if (s.length > 0) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ disaggregated memory

    /** For flush: an iterator over a shard's local arena, or (offloaded) a copy read back from the node. */
    private InternalIterator shardIterator(MemShard s) {
        ShardReader rd = s.reader;
        if (rd != null) {
            return rd.iterator();
        }
        MemoryNode.RemoteShard rs = s.remote;
        DmLink link = dm;
        if (rs == null || link == null) {
            throw new DmLostException("shard of range " + s.range + " is neither local nor remote");
        }
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(rs.length());
        SuperVersion before = sv;
        try {
            link.client().readBack(rs, buf);
        } catch (IOException | RuntimeException e) {
            boolean stale = !stillSealedNow(s) || sv != before;
            throw new DmLostException("reading shard " + rs.segmentId() + " back failed: " + e, stale);
        }
        int crc = io.o3lsm.internal.util.Crc32c.value(buf.duplicate().clear().limit(rs.length()));
        if (crc != rs.checksum()) {
            // the node's copy is damaged or is not this shard: the WAL still has it
            throw new DmLostException("shard " + rs.segmentId() + " read back from the memory node has CRC32C 0x"
                    + Integer.toHexString(crc) + ", offloaded with 0x" + Integer.toHexString(rs.checksum()));
        }
        return new ShardReader(new org.agrona.concurrent.UnsafeBuffer(buf, 0, rs.length()),
                "DM segment " + rs.segmentId()).iterator();
    }

    private boolean stillSealedNow(MemShard s) {
        mutex.lock();
        try {
            return stillSealed(java.util.Collections.singleton(s));
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Mutex held. Makes room in the local budget by dropping local copies of offloaded shards, oldest
     * first. True if {@code need} bytes fit afterwards.
     */
    private boolean dropOffloadedLocals(long need) {
        if (dm == null) {
            return false;
        }
        SuperVersion cur = sv;
        for (int r = 0; r < cur.sealed.length && memoryUsed + need > localBudget; r++) {
            MemShard[] list = cur.sealed[r];
            for (int i = list.length - 1; i >= 0 && memoryUsed + need > localBudget; i--) {
                MemShard m = list[i];
                if (m.isLocal() && m.remote != null) {
                    m.dropLocal(); // readers holding the old reader finish on it; GC frees the arena
                    memoryUsed -= m.capacity;
                    stats.droppedLocal.increment();
                }
            }
        }
        return memoryUsed + need <= localBudget;
    }

    /** Mutex held. Ships sealed, local, not yet offloaded shards (oldest first) within the limits. */
    private void dmOffloadSealed() {
        DmLink link = dm;
        if (link == null || !link.connected() || closing || bgError != null) {
            return;
        }
        int inflight = 0;
        SuperVersion cur = sv;
        for (MemShard[] list : cur.sealed) {
            for (MemShard m : list) {
                if (m.offloading) {
                    inflight++;
                }
            }
        }
        for (MemShard[] list : cur.sealed) {
            for (int i = list.length - 1; i >= 0; i--) {
                MemShard m = list[i];
                if (inflight >= options.offloadInflightLimit()) {
                    return;
                }
                MemtableShard local = m.shard;
                if (m.offloading || m.remote != null || local == null || !local.isSealed()) {
                    continue;
                }
                int used = local.usedBytes();
                if (link.used() + used > options.dmBudget()) {
                    return;
                }
                m.offloading = true;
                inflight++;
                link.addUsed(used);
                org.agrona.concurrent.AtomicBuffer ab = local.buffer();
                java.nio.ByteBuffer bb = ab.byteBuffer().duplicate();
                bb.clear();
                bb.position(ab.wrapAdjustment());
                bb.limit(ab.wrapAdjustment() + used);
                java.nio.ByteBuffer view = bb.slice();
                MemoryNode.Client c;
                try {
                    c = link.client();
                } catch (DmLostException e) {
                    m.offloading = false;
                    link.addUsed(-used);
                    return;
                }
                ShardReader rd = m.reader;
                // the CRC32C of the shard (about 1 MiB) is computed off the writer's path and the mutex
                java.util.concurrent.CompletableFuture.supplyAsync(rd::checksum)
                        .thenCompose(crc -> c.offload(view, used, crc, m.range, m.minSequence, m.maxSequence))
                        // completions arrive on the transport's progress thread: hand them off
                        .whenCompleteAsync((rs, err) -> offloaded(m, used, rs, err));
            }
        }
    }

    /** Completion of one offload (any thread). */
    private void offloaded(MemShard m, int used, MemoryNode.RemoteShard rs, Throwable err) {
        DmLink link = dm;
        boolean freeIt = false;
        if (err == null && rs != null) {
            m.buildBloom(); // before the local copy may be dropped; not on the writer's path
        }
        mutex.lock();
        try {
            m.offloading = false;
            if (err != null || rs == null) {
                if (link != null) {
                    link.addUsed(-used);
                    link.lost(err == null ? new IOException("offload returned nothing") : err);
                }
                return;
            }
            if (stillSealed(java.util.Collections.singleton(m)) && !closing) {
                m.remote = rs;
                stats.offloads.increment();
                stats.offloadBytes.add(used);
            } else {
                freeIt = true; // flushed (or closing) meanwhile
            }
            bgChanged.signalAll(); // a writer waiting for memory may drop the local copy now
            dmOffloadSealed();
        } finally {
            mutex.unlock();
        }
        if (freeIt && link != null) {
            link.free(rs);
        }
    }

    /**
     * The memory node could not serve an offloaded shard. Shards that still have their local arena
     * simply forget the remote copy; shards that exist only on the node are rebuilt from the WAL
     * (which holds every entry not yet in an installed SST), then swapped into the read view.
     * Writes that skipped the WAL ({@code disableWal}) and lived only in such shards are lost, as on
     * a crash. Serialized; callers retry their read afterwards.
     */
    private void dmLost(Throwable cause) {
        if (Thread.currentThread().isInterrupted()) {
            // the caller was interrupted while waiting for the node: that says nothing about the node,
            // and the WAL replay below would fail on an interrupted thread (ClosedByInterruptException)
            throw new O3Exception("interrupted while waiting for the memory node (the DB is unaffected): " + cause,
                    cause);
        }
        DmLink link = dm;
        if (link != null) {
            link.lost(cause);
        }
        rebuildLock.lock();
        try {
            List<MemShard> lost = new ArrayList<>();
            mutex.lock();
            try {
                for (MemShard[] list : sv.sealed) {
                    for (MemShard m : list) {
                        if (!m.isLocal()) {
                            lost.add(m);
                        } else if (m.remote != null) {
                            releaseRemote(link, m); // the local copy stays authoritative
                        }
                    }
                }
            } finally {
                mutex.unlock();
            }
            for (MemShard m : lost) {
                MemShard fresh = rebuildFromWal(m);
                mutex.lock();
                try {
                    SuperVersion cur = sv;
                    MemShard[] list = cur.sealed[m.range];
                    int at = -1;
                    for (int i = 0; i < list.length; i++) {
                        if (list[i] == m) {
                            at = i;
                        }
                    }
                    if (at < 0) {
                        continue; // flushed meanwhile
                    }
                    MemShard[][] sealed = cur.sealed.clone();
                    MemShard[] copy = list.clone();
                    copy[at] = fresh;
                    sealed[m.range] = copy;
                    installSv(new SuperVersion(cur.active, sealed, cur.version));
                    memoryUsed += fresh.capacity;
                    m.rebuilt = fresh.reader; // for scans that were reading m on the node
                    m.replacement = fresh; // for a flush that read m back before the node went away
                    stats.rebuilt.increment();
                    releaseRemote(link, m);
                    bgChanged.signalAll();
                } finally {
                    mutex.unlock();
                }
            }
        } catch (IOException e) {
            setBackgroundError(new O3Exception("rebuilding offloaded shards of " + dir + " from the WAL failed: " + e,
                    e));
            throw new O3Exception("memory node lost and the WAL could not be replayed: " + e, e);
        } finally {
            rebuildLock.unlock();
        }
    }

    private static void addOrFail(MemShard into, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff,
            int vlen) throws IOException {
        if (!into.shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
            throw new IOException("rebuilt shard overflows its arena of " + into.capacity + " bytes");
        }
    }

    /**
     * The offloaded shards of an iterator's view (pinned, grouped by range in ascending order): per
     * range one child whose shards the memory node merges and scans, concatenated across ranges so
     * a seek involves one range's shards only.
     */
    private InternalIterator offloadedShardsIterator(List<MemShard> offloaded, List<MemoryNode.RemoteShard> pinned) {
        RemoteScanIterator.ClientSource source = () -> {
            DmLink l = dm;
            if (l == null) {
                throw new DmLostException("not attached to a memory node");
            }
            stats.delegatedScans.increment();
            return l.client();
        };
        List<InternalIterator> perRange = new ArrayList<>();
        List<Integer> rangeIds = new ArrayList<>();
        for (int from = 0; from < offloaded.size();) {
            int r = offloaded.get(from).range;
            int to = from;
            while (to < offloaded.size() && offloaded.get(to).range == r) {
                to++;
            }
            // one SCAN names at most MAX_SHARDS_PER_SCAN segments: a longer run is merged here
            List<InternalIterator> groups = new ArrayList<>();
            for (int g = from; g < to; g += RemoteScanIterator.MAX_SHARDS_PER_SCAN) {
                int ge = Math.min(to, g + RemoteScanIterator.MAX_SHARDS_PER_SCAN);
                groups.add(new RemoteScanIterator(new ArrayList<>(offloaded.subList(g, ge)),
                        new ArrayList<>(pinned.subList(g, ge)), source, this::rebuiltScan, this::freeRemote));
            }
            perRange.add(groups.size() == 1 ? groups.get(0) : new MergingIterator(groups));
            rangeIds.add(r);
            from = to;
        }
        if (perRange.size() == 1) {
            return perRange.get(0);
        }
        return new RangeConcatIterator(perRange, rangeIds.stream().mapToInt(Integer::intValue).toArray(), ranges);
    }

    /** Frees a flushed shard's segment on the node (null: nothing to free). */
    private void freeRemote(MemoryNode.RemoteShard rs) {
        DmLink link = dm;
        if (rs != null && link != null) {
            link.free(rs);
        }
    }

    /**
     * A delegated scan failed: the node is treated as lost (as a failed delegated get is), the
     * offloaded shards are rebuilt from the WAL, and the scan continues over the rebuilt copies.
     */
    private InternalIterator rebuiltScan(List<MemShard> shards, Throwable cause) {
        List<InternalIterator> its = new ArrayList<>(shards.size());
        for (MemShard m : shards) {
            ShardReader rd = m.rebuilt;
            if (rd == null && !m.isRetired()) {
                dmLost(cause);
                rd = m.rebuilt;
            }
            if (rd == null) {
                for (InternalIterator it : its) {
                    it.close();
                }
                throw new O3Exception("memory node lost while an iterator was reading a shard of range " + m.range
                        + " of " + dir + " that has been flushed since (its entries are safe in an SST, but not in"
                        + " this iterator's view): open a new iterator. Cause: " + cause, cause);
            }
            its.add(rd.iterator());
        }
        return its.size() == 1 ? its.get(0) : new MergingIterator(its);
    }

    /** Forgets a shard's copy on a lost node and its share of the DM account (no request is sent). */
    private static void releaseRemote(DmLink link, MemShard m) {
        MemoryNode.RemoteShard rs = m.remote;
        m.remote = null;
        if (rs != null && link != null) {
            link.addUsed(-rs.length());
        }
    }

    /** Rebuilds one offloaded shard from the WAL files at and after its first log. */
    private MemShard rebuildFromWal(MemShard m) throws IOException {
        List<Long> logs;
        mutex.lock();
        try {
            logs = new ArrayList<>(liveWals);
        } finally {
            mutex.unlock();
        }
        // node heights are random, so the same entries may need a little more room than the original
        int cap = (int) Math.min(Options.MAX_SHARD_ARENA_SIZE, m.capacity + m.capacity / 4L + 4096);
        MemShard fresh = new MemShard(MemtableShard.allocate(m.range, cap), m.range);
        fresh.firstLog = m.firstLog;
        for (long n : logs) {
            if ((m.firstLog >= 0 && n < m.firstLog) || !fs.exists(dir.resolve(FileNames.log(n)))) {
                continue;
            }
            forEachWalOp(n, true, (s, c) -> {
                if (s < m.minSequence || s > m.maxSequence) {
                    return;
                }
                if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                    for (ShardRanges.Piece piece : ranges.split(c.key(), c.value())) {
                        if (piece.range() == m.range) {
                            addOrFail(fresh, s, c.type, piece.start(), 0, piece.start().length, piece.end(), 0,
                                    piece.end().length);
                        }
                    }
                } else if (ranges.rangeOf(c.rep, c.keyOff, c.keyLen) == m.range) {
                    addOrFail(fresh, s, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff, c.valueLen);
                }
            });
        }
        List<RangeTombstone> tombs = new ArrayList<>();
        m.collectTombstones(tombs);
        for (RangeTombstone t : tombs) {
            fresh.addTombstone(t);
        }
        fresh.seal(true);
        return fresh;
    }

    // ------------------------------------------------------------------ flush

    /** Mutex held. */
    private void maybeScheduleFlush(int range) {
        if (flushScheduled[range] || sv.sealed[range].length == 0 || closing || bgError != null) {
            return;
        }
        // Let a few generations of a range accumulate so one flush merges them into one larger L0
        // file (fewer, bigger L0 files: less compaction work), unless memory is getting tight.
        long sealedBytes = 0;
        for (MemShard m : sv.sealed[range]) {
            sealedBytes += m.capacity;
        }
        long total = localBudget + (dm != null ? options.dmBudget() : 0);
        boolean due = flushRequests > 0 || sealedBytes >= Math.max(2L * arenaSize, total / (2L * ranges.count()))
                || memoryUsed >= localBudget - localBudget / 4 && (dm == null || !dm.connected())
                || (dm != null && dm.used() >= options.dmBudget() - options.dmBudget() / 4);
        if (!due) {
            return;
        }
        flushScheduled[range] = true;
        runningFlushes++;
        flushPool.execute(() -> backgroundFlush(range));
    }

    private void backgroundFlush(int range) {
        MemShard[] inputs;
        long[] keep;
        mutex.lock();
        try {
            inputs = sv.sealed[range].clone(); // newest first
            keep = snapshotsToKeep();
        } finally {
            mutex.unlock();
        }
        List<RangeTombstone> tombs = new ArrayList<>();
        for (MemShard m : inputs) {
            m.collectTombstones(tombs);
        }
        FlushJob job = new FlushJob(fs, dir, tableOptions, options.targetFileSize(), versions::newFileNumber, tombs);
        Throwable error = null;
        try {
            if (inputs.length > 0 && bgError == null) {
                flushAndInstall(range, inputs, job, keep);
            }
        } catch (DmLostException e) {
            job.abandon(); // an input could not be read back: rebuild it from the WAL, then flush again
            if (!e.stale) {
                try {
                    dmLost(e);
                } catch (Throwable t) {
                    error = t; // the rebuild failed: report it below rather than leave the range unflushable
                }
            }
        } catch (Throwable t) {
            error = t;
            if (!job.installStarted) {
                job.abandon(); // once the edit may be in the MANIFEST, the outputs must stay
            }
        }
        mutex.lock();
        try {
            if (error != null) {
                setBackgroundError(new O3Exception("flush of shard range " + range + " in " + dir
                        + " failed; the DB refuses further writes until reopened (acknowledged writes are safe "
                        + "in the WAL): " + error, error));
            }
            flushScheduled[range] = false;
            runningFlushes--;
            maybeScheduleFlush(range);
            maybeScheduleCompaction();
            bgChanged.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    private void flushAndInstall(int range, MemShard[] inputs, FlushJob job, long[] keep) throws IOException {
        List<InternalIterator> its = new ArrayList<>();
        long maxSeq = 0;
        long bytes = 0;
        for (MemShard s : inputs) {
            its.add(shardIterator(s));
            maxSeq = Math.max(maxSeq, s.maxSeq());
        }
        List<FileMetaData> files = job.run(its, keep);
        installLock.lock();
        try {
            VersionEdit edit = new VersionEdit();
            for (FileMetaData f : files) {
                edit.addFile(0, f);
                bytes += f.size;
            }
            mutex.lock();
            try {
                edit.rangeWatermarks.put(range, maxSeq);
                edit.logNumber = minLiveLog(range, inputs.length);
                // the leader may still be inserting the group these shards came from
                edit.lastSequence = Math.max(lastSequence, maxSeq);
            } finally {
                mutex.unlock();
            }
            job.installStarted = true;
            Version v = versions.logAndApply(edit);
            long freed = 0;
            mutex.lock();
            try {
                SuperVersion cur = sv;
                MemShard[] sealed = cur.sealed[range];
                // the inputs are the oldest sealed shards of this range; one may have been swapped
                // meanwhile for its copy rebuilt from the WAL (same entries: the SST holds them too)
                int base = sealed.length - inputs.length;
                for (int i = 0; i < inputs.length; i++) {
                    MemShard inView = base < 0 ? null : sealed[base + i];
                    if (inView != inputs[i] && (inView == null || inView != inputs[i].replacement)) {
                        throw new IllegalStateException("sealed shards of range " + range + " changed during flush");
                    }
                }
                installSv(cur.dropOldest(range, inputs.length, v));
                for (int i = 0; i < inputs.length; i++) {
                    MemShard dropped = sealed[base + i];
                    if (dropped.isLocal()) {
                        freed += dropped.capacity; // the arena itself goes when the last old view does (GC)
                    }
                    // a get on an old view that still asks for the segment just retries; a scan
                    // pins it, and the last scan frees it
                    freeRemote(dropped.retireRemote());
                    if (dropped != inputs[i]) {
                        inputs[i].retireRemote(); // its remote copy was forgotten when it was replaced
                    }
                }
                memoryUsed -= freed;
                bgChanged.signalAll();
            } finally {
                mutex.unlock();
            }
        } finally {
            installLock.unlock();
        }
        stats.flushes.increment();
        stats.flushBytes.add(bytes);
        deleteObsoleteWals();
    }

    /**
     * Mutex held. Sequences a flush or compaction must keep readable, ascending: every live snapshot
     * and the published last sequence (a sealed shard or a fresh SST may hold entries of a write group
     * that is not yet visible, and readers at the published sequence must still find older versions).
     */
    private long[] snapshotsToKeep() {
        java.util.TreeSet<Long> set = new java.util.TreeSet<>(snapshots.keySet());
        set.add(lastSequence);
        long[] out = new long[set.size()];
        int i = 0;
        for (long x : set) {
            out[i++] = x;
        }
        return out;
    }

    // ------------------------------------------------------------------ compaction

    /** Mutex held. Starts background compactions while there is work and a free thread. */
    private void maybeScheduleCompaction() {
        while (!closing && bgError == null && manualCompactions == 0
                && runningCompactions < options.maxBackgroundCompactions()) {
            Compaction c = picker.pick(versions.current(), busyFiles);
            if (c == null) {
                return;
            }
            for (FileMetaData f : c.all()) {
                busyFiles.add(f.number);
            }
            runningCompactions++;
            compactionPool.execute(() -> backgroundCompaction(c));
        }
    }

    private void backgroundCompaction(Compaction c) {
        Throwable error = null;
        try {
            runCompaction(c);
        } catch (Throwable t) {
            error = t;
        }
        mutex.lock();
        try {
            for (FileMetaData f : c.all()) {
                busyFiles.remove(f.number);
            }
            runningCompactions--;
            if (error != null && !closing) {
                setBackgroundError(new O3Exception("compaction " + c + " in " + dir + " failed; the DB refuses "
                        + "further writes until reopened (no data is lost: inputs stay live): " + error, error));
            } else if (error != null) {
                LOG.warning("compaction " + c + " in " + dir + " failed while closing (inputs stay live): " + error);
            }
            maybeScheduleCompaction();
            bgChanged.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    /** Runs one compaction (the caller has marked its files busy) and installs the result. */
    private void runCompaction(Compaction c) throws IOException {
        VersionEdit edit = new VersionEdit();
        if (c.isTrivialMove()) {
            FileMetaData f = c.inputs.get(0);
            edit.deleteFile(c.level, f.number);
            edit.addFile(c.outputLevel, f);
            installCompaction(edit, List.of());
            return;
        }
        long[] keep;
        mutex.lock();
        try {
            keep = snapshotsToKeep();
        } finally {
            mutex.unlock();
        }
        List<CompactionExecutor.InputFile> inputs = new ArrayList<>();
        for (FileMetaData f : c.inputs) {
            inputs.add(new CompactionExecutor.InputFile(c.level, f.number, f.size));
        }
        for (FileMetaData f : c.overlapping) {
            inputs.add(new CompactionExecutor.InputFile(c.outputLevel, f.number, f.size));
        }
        int n = inputs.size() + 2 * (int) (c.inputBytes() / options.targetFileSize()) + 4;
        long[] numbers = new long[n];
        for (int i = 0; i < n; i++) {
            numbers[i] = versions.newFileNumber();
        }
        CompactionExecutor.CompactionRequest req = new CompactionExecutor.CompactionRequest(dir, versions.epoch(),
                inputs, c.outputLevel, c.bottommost, keep, numbers, options.targetFileSize(), options.blockSize(),
                options.blockRestartInterval(), options.compression(), options.bloomBitsPerKey());
        CompactionExecutor.CompactionResult result = compactionExecutor.execute(req);
        java.util.Set<Long> allowed = new java.util.HashSet<>();
        for (long x : numbers) {
            allowed.add(x);
        }
        for (CompactionExecutor.OutputFile o : result.outputs()) {
            if (!allowed.remove(o.number())) {
                throw new O3Exception("compaction executor returned file #" + o.number()
                        + ", which was not one of its pre-allocated output numbers");
            }
            edit.addFile(c.outputLevel, new FileMetaData(o.number(), o.size(), o.smallest(), o.largest(),
                    o.smallestSequence(), o.largestSequence()));
        }
        for (FileMetaData f : c.inputs) {
            edit.deleteFile(c.level, f.number);
        }
        for (FileMetaData f : c.overlapping) {
            edit.deleteFile(c.outputLevel, f.number);
        }
        stats.compactionBytesRead.add(result.bytesRead());
        stats.compactionBytesWritten.add(result.bytesWritten());
        installCompaction(edit, c.all());
    }

    private void installCompaction(VersionEdit edit, List<FileMetaData> obsolete) throws IOException {
        installLock.lock();
        try {
            mutex.lock();
            try {
                edit.lastSequence = lastSequence;
            } finally {
                mutex.unlock();
            }
            Version v = versions.logAndApply(edit);
            mutex.lock();
            try {
                installSv(sv.withVersion(v));
                for (FileMetaData f : obsolete) {
                    pendingDeletion.add(f.number);
                }
                bgChanged.signalAll();
            } finally {
                mutex.unlock();
            }
        } finally {
            installLock.unlock();
        }
        stats.compactions.increment();
        deleteObsoleteTables();
    }

    /** Deletes compacted-away tables that no live version uses any more. Any thread. */
    private void deleteObsoleteTables() {
        List<Long> dead = new ArrayList<>();
        java.util.Set<Long> live = versions.liveFiles();
        mutex.lock();
        try {
            for (java.util.Iterator<Long> it = pendingDeletion.iterator(); it.hasNext();) {
                long n = it.next();
                if (!live.contains(n)) {
                    dead.add(n);
                    it.remove();
                }
            }
        } finally {
            mutex.unlock();
        }
        for (long n : dead) {
            tableCache.evict(n);
            try {
                fs.delete(dir.resolve(FileNames.table(n)));
            } catch (IOException e) {
                LOG.warning("cannot delete obsolete table " + n + ": " + e);
            }
        }
    }

    /** A version was released: its files may be obsolete now. Runs the deletion off the caller's thread. */
    private void scheduleObsoleteDeletion() {
        if (closing) {
            return;
        }
        try {
            compactionPool.execute(this::deleteObsoleteTables);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: obsolete files are collected at the next open
        }
    }

    /**
     * Mutex held. The oldest WAL still needed: the first log of every non-empty shard except the
     * {@code excluded} oldest sealed shards of {@code range}, and the current WAL.
     */
    private long minLiveLog(int range, int excluded) {
        long min = walNumber;
        SuperVersion cur = sv;
        for (int r = 0; r < cur.active.length; r++) {
            MemShard[] sealed = cur.sealed[r];
            int keep = r == range ? sealed.length - excluded : sealed.length;
            for (int i = 0; i < keep; i++) {
                if (sealed[i].firstLog >= 0) {
                    min = Math.min(min, sealed[i].firstLog);
                }
            }
            if (cur.active[r].firstLog >= 0) {
                min = Math.min(min, cur.active[r].firstLog);
            }
        }
        return min;
    }

    private void deleteObsoleteWals() {
        List<Long> dead = new ArrayList<>();
        long logNumber = versions.logNumber();
        mutex.lock();
        try {
            while (!liveWals.isEmpty() && liveWals.first() < logNumber) {
                dead.add(liveWals.pollFirst());
            }
        } finally {
            mutex.unlock();
        }
        for (long n : dead) {
            try {
                fs.delete(dir.resolve(FileNames.log(n)));
            } catch (IOException e) {
                LOG.warning("cannot delete obsolete WAL " + n + ": " + e);
            }
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public byte[] get(byte[] key) {
        return get(io.o3lsm.ReadOptions.defaults(), key);
    }

    @Override
    public int get(ByteBuffer key, ByteBuffer value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException((key == null ? "key" : "value") + " buffer must not be null");
        }
        byte[] k = new byte[key.remaining()];
        key.duplicate().get(k);
        byte[] v = get(k);
        if (v == null) {
            return -1;
        }
        value.put(v, 0, Math.min(v.length, value.remaining()));
        return v.length;
    }

    @Override
    public byte[] get(io.o3lsm.ReadOptions ro, byte[] key) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        checkOpen();
        while (true) {
            long[] seqOut = new long[1];
            SuperVersion cur = pin(ro, seqOut);
            try {
                long seq = seqOut[0];
                Lookup l = lookup(cur, key, seq, ro.fillCache(), ro.verifyChecksums(), new Lookup());
                return l.state == Lookup.FOUND ? l.value : null;
            } catch (DmLostException e) {
                if (!e.stale) {
                    dmLost(e); // rebuilds offloaded shards from the WAL; then read again
                }
            } finally {
                cur.unref();
            }
        }
    }

    @Override
    public List<byte[]> multiGet(io.o3lsm.ReadOptions ro, List<byte[]> keys) {
        if (ro == null || keys == null) {
            throw new IllegalArgumentException((ro == null ? "read options" : "keys") + " must not be null");
        }
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i) == null) {
                throw new IllegalArgumentException("keys[" + i + "] must not be null");
            }
        }
        checkOpen();
        while (true) {
            long[] seqOut = new long[1];
            SuperVersion cur = pin(ro, seqOut);
            try {
                long seq = seqOut[0];
                List<byte[]> out = new ArrayList<>(keys.size());
                Lookup l = new Lookup();
                for (byte[] k : keys) {
                    lookup(cur, k, seq, ro.fillCache(), ro.verifyChecksums(), l.reset());
                    out.add(l.state == Lookup.FOUND ? l.value : null);
                }
                return out;
            } catch (DmLostException e) {
                if (!e.stale) {
                    dmLost(e);
                }
            } finally {
                cur.unref();
            }
        }
    }

    /**
     * The sequence a read runs at: its snapshot's, or the latest published one. Read after the view
     * is pinned: every flush or compaction in the pinned version chose what to keep at a sequence no
     * higher than the one read now, so nothing visible at it was dropped. (Reading the sequence first
     * would let a flush and compaction drop the version it needs in between.) The leader swaps the
     * view before it publishes a sequence, so the pinned view holds everything up to it.
     */
    private long readSequence(io.o3lsm.ReadOptions ro) {
        io.o3lsm.Snapshot s = ro.snapshot();
        if (s == null) {
            return lastSequence; // callers check that the pinned view is still current (pinLatest)
        }
        if (!(s instanceof SnapshotImpl si) || si.owner != this) {
            throw new IllegalArgumentException("the snapshot in the read options belongs to another DB");
        }
        if (si.isClosed()) {
            throw new IllegalStateException("the snapshot in the read options is closed");
        }
        return si.sequence();
    }

    /**
     * Newest entry of {@code key} at {@code seq}: sources from newest to oldest (active shard, sealed
     * shards, L0 newest first, then one file per deeper level). A range tombstone newer than the entry
     * found, in the same or a newer source, deletes it; since newer data never sits below older data
     * for one key, the search stops at the first source holding the key or a covering tombstone.
     */
    private Lookup lookup(SuperVersion cur, byte[] key, long seq, boolean fillCache, boolean verify, Lookup out) {
        int r = ranges.rangeOf(key);
        long tomb = 0;
        MemShard a = cur.active[r];
        if (a.hasTombstones()) {
            tomb = Math.max(tomb, a.maxCoveringTombstone(key, seq));
        }
        if (resolve(a.reader.get(key, seq, out), tomb, out)) {
            return out;
        }
        MemShard[] sealed = cur.sealed[r];
        for (int i = 0; i < sealed.length; i++) {
            MemShard s = sealed[i];
            if (s.hasTombstones()) {
                tomb = Math.max(tomb, s.maxCoveringTombstone(key, seq));
            }
            ShardReader rd = s.reader;
            if (rd != null) {
                if (resolve(rd.get(key, seq, out), tomb, out)) {
                    return out;
                }
                continue;
            }
            // offloaded: the run of consecutive remote-only shards, filtered by their local blooms,
            // is searched by the memory node in one delegated get
            List<MemoryNode.RemoteShard> batch = new ArrayList<>();
            int j = i;
            for (; j < sealed.length && sealed[j].reader == null; j++) {
                MemShard m = sealed[j];
                if (j > i && m.hasTombstones()) {
                    tomb = Math.max(tomb, m.maxCoveringTombstone(key, seq));
                }
                MemoryNode.RemoteShard rs = m.remote;
                if (rs == null) {
                    throw new DmLostException("shard of range " + r + " is neither local nor remote", sv != cur);
                }
                if (m.bloom == null || m.bloom.mayContain(key)) {
                    batch.add(rs);
                }
            }
            i = j - 1;
            if (!batch.isEmpty()) {
                MemoryNode.GetResult g;
                try {
                    stats.delegatedGets.increment();
                    g = dm.client().get(batch, key, seq);
                } catch (IOException | RuntimeException e) {
                    // a flush may have freed the segment after this view was pinned: then just retry
                    throw new DmLostException("delegated get failed: " + e, sv != cur);
                }
                out.state = g.state();
                out.sequence = g.sequence();
                out.value = g.value();
                if (resolve(g.state() != Lookup.NOT_FOUND, tomb, out)) {
                    return out;
                }
            } else if (tomb > 0 && resolve(false, tomb, out)) {
                return out;
            }
        }
        for (FileMetaData f : cur.version.files(0)) {
            if (f.mayContainUserKey(key)) {
                tomb = Math.max(tomb, searchTable(f, key, seq, fillCache, verify, out));
                if (resolve(out.state != Lookup.NOT_FOUND, tomb, out)) {
                    return out;
                }
            }
        }
        for (int level = 1; level < Version.NUM_LEVELS; level++) {
            FileMetaData f = cur.version.findFile(level, key);
            if (f != null) {
                tomb = Math.max(tomb, searchTable(f, key, seq, fillCache, verify, out));
                if (resolve(out.state != Lookup.NOT_FOUND, tomb, out)) {
                    return out;
                }
            }
        }
        out.state = Lookup.NOT_FOUND;
        out.value = null;
        return out;
    }

    /** Looks {@code key} up in one table; returns its covering tombstone sequence (0 if none). */
    private long searchTable(FileMetaData f, byte[] key, long seq, boolean fillCache, boolean verify, Lookup out) {
        TableCache.Handle h = tableCache.acquire(f.number);
        try {
            long tomb = 0;
            for (RangeTombstone t : h.reader.rangeTombstones()) {
                if (t.sequence <= seq && t.sequence > tomb && t.covers(key)) {
                    tomb = t.sequence;
                }
            }
            out.state = Lookup.NOT_FOUND;
            h.reader.get(key, seq, out, fillCache, verify);
            return tomb;
        } finally {
            h.release();
        }
    }

    /** Applies the tombstone bound to a source's answer; true if the search can stop. */
    private static boolean resolve(boolean found, long tomb, Lookup out) {
        if (found && out.state != Lookup.NOT_FOUND) {
            if (out.sequence < tomb) {
                out.state = Lookup.DELETED;
                out.value = null;
            }
            return true;
        }
        if (tomb > 0) {
            out.state = Lookup.DELETED; // everything older is covered
            out.value = null;
            return true;
        }
        return false;
    }

    @Override
    public io.o3lsm.DBIterator iterator(io.o3lsm.ReadOptions ro) {
        while (true) {
            try {
                return iteratorOnce(ro);
            } catch (DmLostException e) {
                if (!e.stale) {
                    dmLost(e);
                }
            }
        }
    }

    private io.o3lsm.DBIterator iteratorOnce(io.o3lsm.ReadOptions ro) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        checkOpen();
        long[] seqOut = new long[1];
        SuperVersion cur = pin(ro, seqOut);
        List<InternalIterator> children = new ArrayList<>();
        try {
            long seq = seqOut[0];
            List<RangeTombstone> tombs = new ArrayList<>();
            cur.collectMemTombstones(tombs);
            List<MemShard> offloaded = new ArrayList<>();
            List<MemoryNode.RemoteShard> pinned = new ArrayList<>();
            try {
                for (int r = 0; r < cur.active.length; r++) {
                    children.add(cur.active[r].reader.iterator());
                    for (MemShard s : cur.sealed[r]) {
                        ShardReader rd = s.reader;
                        if (rd != null) {
                            children.add(rd.iterator());
                            continue;
                        }
                        MemoryNode.RemoteShard rs = s.pinRemote();
                        if (rs == null) {
                            throw new DmLostException("shard of range " + r + " is neither local nor remote", sv != cur);
                        }
                        offloaded.add(s);
                        pinned.add(rs);
                    }
                }
            } catch (RuntimeException e) {
                for (int i = 0; i < pinned.size(); i++) {
                    freeRemote(offloaded.get(i).unpinRemote(pinned.get(i)));
                }
                throw e;
            }
            if (!offloaded.isEmpty()) {
                children.add(offloadedShardsIterator(offloaded, pinned));
            }
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                List<FileMetaData> files = cur.version.files(level);
                for (FileMetaData f : files) {
                    TableCache.Handle h = tableCache.acquire(f.number);
                    try {
                        tombs.addAll(h.reader.rangeTombstones());
                    } finally {
                        h.release();
                    }
                }
                if (files.isEmpty()) {
                    continue;
                }
                if (level == 0) {
                    for (FileMetaData f : files) {
                        children.add(new LevelIterator(tableCache, List.of(f), ro.fillCache(), ro.verifyChecksums()));
                    }
                } else {
                    children.add(new LevelIterator(tableCache, files, ro.fillCache(), ro.verifyChecksums()));
                }
            }
            RangeTombstoneSet set = RangeTombstoneSet.build(tombs, seq);
            return new DBIter(cur, new MergingIterator(children), seq, set, ro.lowerBound(), ro.upperBound(),
                    () -> closed || closing);
        } catch (RuntimeException | Error e) {
            for (InternalIterator c : children) {
                c.close();
            }
            cur.unref();
            throw e;
        }
    }

    /** A live snapshot; registered in {@link #snapshots} until closed. */
    private static final class SnapshotImpl implements io.o3lsm.Snapshot {
        final DBImpl owner;
        final long sequence;
        private final java.util.concurrent.atomic.AtomicBoolean closedFlag =
                new java.util.concurrent.atomic.AtomicBoolean();

        SnapshotImpl(DBImpl owner, long sequence) {
            this.owner = owner;
            this.sequence = sequence;
        }

        @Override
        public long sequence() {
            if (closedFlag.get()) {
                throw new IllegalStateException("snapshot is closed");
            }
            return sequence;
        }

        boolean isClosed() {
            return closedFlag.get();
        }

        @Override
        public void close() {
            if (closedFlag.compareAndSet(false, true)) {
                owner.releaseSnapshot(sequence);
            }
        }

        @Override
        public String toString() {
            return "Snapshot@" + sequence + (closedFlag.get() ? " (closed)" : "");
        }
    }

    @Override
    public io.o3lsm.Snapshot snapshot() {
        checkOpen();
        mutex.lock();
        try {
            long seq = lastSequence;
            snapshots.merge(seq, 1, Integer::sum);
            return new SnapshotImpl(this, seq);
        } finally {
            mutex.unlock();
        }
    }

    private void releaseSnapshot(long seq) {
        mutex.lock();
        try {
            snapshots.computeIfPresent(seq, (k, v) -> v == 1 ? null : v - 1);
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        deleteRange(fromInclusive, toExclusive, WriteOptions.defaults());
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions wo) {
        WriteBatch b = threadBatch.get();
        b.clear();
        b.deleteRange(fromInclusive, toExclusive);
        write(b, wo);
    }

    @Override
    public void flush() {
        checkOpen();
        mutex.lock();
        flushRequests++;
        try {
            for (int r = 0; r < ranges.count(); r++) {
                maybeScheduleFlush(r);
            }
            enterWriterQueueAlone(); // become the only writer
            try {
                if (closing) {
                    throw new DBClosedException("DB " + dir + " is closed");
                }
                checkBackgroundError();
                for (int r = 0; r < ranges.count(); r++) {
                    MemShard a = sv.active[r];
                    if (a.isEmpty()) {
                        maybeScheduleFlush(r);
                        continue;
                    }
                    reserveArenaMemory(arenaSize);
                    sealActive(r, a, arenaSize);
                    maybeScheduleFlush(r);
                }
            } finally {
                leaveWriterQueue();
            }
            // wait for the shards sealed up to now, not for ones later writers seal
            java.util.Set<MemShard> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (MemShard[] list : sv.sealed) {
                mine.addAll(Arrays.asList(list));
            }
            while (stillSealed(mine) && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
            }
            if (closing) {
                throw new DBClosedException("DB " + dir + " closed during flush");
            }
            checkBackgroundError();
        } finally {
            flushRequests--;
            mutex.unlock();
        }
    }

    @Override
    public void compactRange(byte[] from, byte[] to) {
        checkOpen();
        flush();
        manualLock.lock();
        try {
            compactRangeLocked(from, to);
        } finally {
            manualLock.unlock();
        }
    }

    private void compactRangeLocked(byte[] from, byte[] to) {
        mutex.lock();
        try {
            if (closing) {
                throw new DBClosedException("DB " + dir + " is closed");
            }
            manualCompactions++;
            // let running background compactions finish; none start while a manual one runs
            while (runningCompactions > 0 && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
            }
        } finally {
            mutex.unlock();
        }
        try {
            for (int level = 0; level < Version.NUM_LEVELS - 1; level++) {
                checkOpen();
                checkBackgroundError();
                Version v = versions.current();
                boolean deeper = false;
                for (int l = level + 1; l < Version.NUM_LEVELS; l++) {
                    deeper |= v.numFiles(l) > 0;
                }
                if (v.numFiles(level) == 0 && !deeper) {
                    break;
                }
                Compaction c;
                mutex.lock();
                try {
                    c = CompactionPicker.manual(v, level, from, to, busyFiles);
                    if (c != null) {
                        for (FileMetaData f : c.all()) {
                            busyFiles.add(f.number);
                        }
                    }
                } finally {
                    mutex.unlock();
                }
                if (c == null) {
                    continue;
                }
                try {
                    runCompaction(c);
                } catch (IOException e) {
                    O3Exception err = new O3Exception("manual compaction " + c + " failed: " + e, e);
                    setBackgroundError(err);
                    throw err;
                } finally {
                    mutex.lock();
                    try {
                        for (FileMetaData f : c.all()) {
                            busyFiles.remove(f.number);
                        }
                    } finally {
                        mutex.unlock();
                    }
                }
            }
        } finally {
            mutex.lock();
            try {
                manualCompactions--;
                maybeScheduleCompaction();
                bgChanged.signalAll();
            } finally {
                mutex.unlock();
            }
        }
    }

    @Override
    public String property(String name) {
        if (name == null) {
            throw new IllegalArgumentException("property name must not be null");
        }
        checkOpen();
        Version v = versions.current();
        if (name.equals("o3.stats")) {
            return formatStats(stats());
        }
        if (name.startsWith("o3.num-files-at-level")) {
            try {
                int level = Integer.parseInt(name.substring("o3.num-files-at-level".length()));
                return level >= 0 && level < Version.NUM_LEVELS ? Integer.toString(v.numFiles(level)) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        if (name.equals("o3.dm")) {
            DmLink link = dm;
            if (link == null) {
                return "mode=embedded";
            }
            int remoteOnly = 0;
            int offloaded = 0;
            mutex.lock();
            try {
                for (MemShard[] list : sv.sealed) {
                    for (MemShard m : list) {
                        if (m.remote != null) {
                            offloaded++;
                        }
                        if (!m.isLocal()) {
                            remoteOnly++;
                        }
                    }
                }
            } finally {
                mutex.unlock();
            }
            return "mode=dm attached=" + link.connected() + " dmBytes=" + link.used() + " offloadedShards=" + offloaded
                    + " remoteOnlyShards=" + remoteOnly + " offloads=" + stats.offloads.sum() + " offloadBytes="
                    + stats.offloadBytes.sum() + " delegatedGets=" + stats.delegatedGets.sum() + " delegatedScans=" + stats.delegatedScans.sum() + " droppedLocal="
                    + stats.droppedLocal.sum() + " rebuiltFromWal=" + stats.rebuilt.sum();
        }
        if (name.equals("o3.sstables")) {
            StringBuilder sb = new StringBuilder();
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                sb.append("--- level ").append(l).append(" ---\n");
                for (FileMetaData f : v.files(l)) {
                    sb.append(' ').append(f.number).append(": ").append(f.size).append(" bytes, seq ")
                            .append(f.smallestSeq).append("..").append(f.largestSeq).append('\n');
                }
            }
            return sb.toString();
        }
        return null;
    }

    private static String formatStats(io.o3lsm.DBStats st) {
        StringBuilder sb = new StringBuilder();
        sb.append("Level  Files  Size(MB)\n");
        for (int l = 0; l < st.levels(); l++) {
            sb.append(String.format("  L%d  %5d  %9.2f%n", l, st.filesAtLevel(l), st.bytesAtLevel(l) / 1048576.0));
        }
        sb.append(String.format("user bytes written: %d, WAL: %d, flush: %d, compaction read/written: %d/%d%n",
                st.userBytesWritten(), st.walBytesWritten(), st.flushBytesWritten(), st.compactionBytesRead(),
                st.compactionBytesWritten()));
        sb.append(String.format("write amplification: %.2f%n", st.writeAmplification()));
        sb.append(String.format("flushes: %d, compactions: %d, stall: %.3f s%n", st.flushes(), st.compactions(),
                st.stallMicros() / 1e6));
        sb.append(String.format("block cache: %d hits, %d misses, hit ratio %.3f%n", st.blockCacheHits(),
                st.blockCacheMisses(), st.blockCacheHitRatio()));
        sb.append(String.format("memtable: %d bytes%n", st.memtableBytes()));
        return sb.toString();
    }

    @Override
    public io.o3lsm.DBStats stats() {
        checkOpen();
        Version v = versions.current();
        int[] files = new int[Version.NUM_LEVELS];
        long[] bytes = new long[Version.NUM_LEVELS];
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            files[l] = v.numFiles(l);
            bytes[l] = v.levelBytes(l);
        }
        long mem;
        mutex.lock();
        try {
            mem = memoryUsed;
        } finally {
            mutex.unlock();
        }
        return new io.o3lsm.DBStats(files, bytes, stats.userBytes.sum(), stats.walBytes.sum(),
                stats.flushBytes.sum(), stats.compactionBytesRead.sum(), stats.compactionBytesWritten.sum(),
                stats.flushes.sum(), stats.compactions.sum(), stats.stallNanos.sum() / 1000,
                blockCache == null ? 0 : blockCache.hits(), blockCache == null ? 0 : blockCache.misses(), mem);
    }

    // ------------------------------------------------------------------ lifecycle and errors

    private void checkOpen() {
        if (closed || closing) {
            throw new DBClosedException("DB " + dir + " is closed");
        }
    }

    private void checkBackgroundError() {
        Throwable e = bgError;
        if (e != null) {
            throw new O3Exception("DB " + dir + " refuses writes after an earlier failure: " + e.getMessage(), e);
        }
    }

    private void setBackgroundError(Throwable t) {
        mutex.lock();
        try {
            if (bgError == null) {
                bgError = t;
                LOG.severe(t.getMessage());
            }
            bgChanged.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public void close() {
        mutex.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
            bgChanged.signalAll();
            // a compactRange runs in its caller's thread: let it stop before files are released
            while (manualCompactions > 0) {
                bgChanged.awaitUninterruptibly();
            }
            // wait for the writer queue to drain: queued writers see `closing` and fail
            enterWriterQueueAlone();
            leaveWriterQueue(); // any writer still queued behind us will find `closing` set
        } finally {
            mutex.unlock();
        }
        for (ExecutorService pool : List.of(flushPool, compactionPool)) {
            pool.shutdown();
            try {
                if (!pool.awaitTermination(120, TimeUnit.SECONDS)) {
                    LOG.warning("background threads of " + dir + " did not stop within 120 s");
                    pool.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        DmLink link = dm;
        if (link != null) {
            link.close();
        }
        IOException failure = null;
        try {
            if (wal != null) {
                try {
                    wal.sync();
                } finally {
                    wal.close();
                }
            }
        } catch (IOException e) {
            failure = bgError == null ? e : null; // an already-reported WAL failure is not news
        }
        tableCache.close();
        try {
            versions.close();
        } catch (IOException e) {
            failure = failure == null ? e : failure;
        }
        try {
            dirLock.close();
        } catch (IOException e) {
            failure = failure == null ? e : failure;
        }
        closed = true;
        if (failure != null) {
            throw new O3Exception("closing " + dir + " failed: " + failure, failure);
        }
    }

    // ------------------------------------------------------------------ for tests and stats

    /** Live sequence number. */
    public long lastSequence() {
        return lastSequence;
    }

    /** Blocks until no sealed shard is waiting for flush (test hook until db.flush() arrives). */
    public void waitForFlushes() {
        mutex.lock();
        flushRequests++;
        try {
            for (int r = 0; r < ranges.count(); r++) {
                maybeScheduleFlush(r);
            }
            while ((hasSealed() || runningFlushes > 0) && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
            }
            checkBackgroundError();
        } finally {
            flushRequests--;
            mutex.unlock();
        }
    }

    /** Blocks until no flush is running, without asking for any (test hook). */
    public void waitForRunningFlushes() {
        mutex.lock();
        try {
            while (runningFlushes > 0 && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
            }
        } finally {
            mutex.unlock();
        }
    }

    /** Blocks until no compaction runs or is due (test hook). */
    public void waitForCompactions() {
        mutex.lock();
        try {
            maybeScheduleCompaction();
            while (runningCompactions > 0 && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
                maybeScheduleCompaction();
            }
            checkBackgroundError();
        } finally {
            mutex.unlock();
        }
    }

    public Version currentVersion() {
        return versions.current();
    }

    /** Parses write batch bytes; the positions of the current operation are in the fields. */
    static final class BatchCursor {
        final byte[] rep;
        final int limit;
        final String file;
        final long fileOffset;
        private final int[] pos = {WriteBatch.HEADER_SIZE};
        int type;
        int keyOff;
        int keyLen;
        int valueOff;
        int valueLen;

        BatchCursor(byte[] rep, int limit, String file, long fileOffset) {
            this.rep = rep;
            this.limit = limit;
            this.file = file;
            this.fileOffset = fileOffset;
        }

        /** A copy of the current key (for range deletions: the inclusive start). */
        byte[] key() {
            return Arrays.copyOfRange(rep, keyOff, keyOff + keyLen);
        }

        /** A copy of the current value (for range deletions: the exclusive end). */
        byte[] value() {
            return Arrays.copyOfRange(rep, valueOff, valueOff + valueLen);
        }

        boolean next() {
            if (pos[0] >= limit) {
                return false;
            }
            int at = pos[0];
            type = rep[pos[0]++] & 0xFF;
            if (!InternalKey.isKnownType(type)) {
                throw corrupt(at, "operation type 0, 1 or 2", "type " + type);
            }
            keyLen = len(at, "key length");
            keyOff = pos[0];
            pos[0] += keyLen;
            if (type != InternalKey.TYPE_DELETION) {
                valueLen = len(at, "value length");
                valueOff = pos[0];
                pos[0] += valueLen;
            } else {
                valueLen = 0;
                valueOff = pos[0];
            }
            return true;
        }

        private int len(int at, String what) {
            long n = Coding.getVarint32(rep, pos, limit);
            if (n < 0 || n > limit - pos[0]) {
                throw corrupt(at, what + " within the batch", n < 0 ? "a malformed varint" : n + " bytes past the end");
            }
            return (int) n;
        }

        private CorruptionException corrupt(int at, String expected, String found) {
            return new CorruptionException(file, fileOffset, "write batch byte " + at + ": expected " + expected
                    + ", found " + found);
        }
    }

    @Override
    public String toString() {
        return "DB(" + dir + ")";
    }

}
