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
import io.o3lsm.internal.table.TableOptions;
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
    private final AtomicInteger flushThreadIds = new AtomicInteger();
    final Stats stats = new Stats();

    /** Counters; read without locks, written by the owners of each event. */
    static final class Stats {
        volatile long flushes;
        volatile long flushBytes;
        volatile long stallNanos;
    }

    private DBImpl(Path dir, Options options, Closeable dirLock, VersionSet versions) {
        this.dir = dir;
        this.options = options;
        this.fs = options.fileSystem();
        this.dirLock = dirLock;
        this.versions = versions;
        this.ranges = new ShardRanges(options.shardBoundaries());
        this.tableCache = new TableCache(fs, dir);
        this.tableOptions = new TableOptions(options.blockSize(), options.blockRestartInterval(),
                options.compression(), options.bloomBitsPerKey());
        this.arenaSize = options.shardArenaSize();
        this.flushScheduled = new boolean[ranges.count()];
        this.threadWriter = ThreadLocal.withInitial(() -> new Writer(mutex.newCondition()));
        this.flushPool = Executors.newFixedThreadPool(options.maxBackgroundFlushes(), r -> {
            Thread t = new Thread(r, "o3lsm-flush-" + flushThreadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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
            return db;
        } catch (IOException e) {
            cleanupFailedOpen(db, versions, lock);
            throw new O3Exception("cannot open " + dir + ": " + e, e);
        } catch (RuntimeException | Error e) {
            cleanupFailedOpen(db, versions, lock);
            throw e;
        }
    }

    private static void cleanupFailedOpen(DBImpl db, VersionSet versions, Closeable lock) {
        if (db != null) {
            db.flushPool.shutdownNow();
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
        sv = new SuperVersion(active, sealed, versions.current());
        fs.syncDirectory(dir);
        deleteObsoleteFiles();
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
            Path p = dir.resolve(FileNames.log(number));
            try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
                LogReader reader = new LogReader(f, LogFormat.KIND_WAL, number, newest);
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
                        long s = seq + n;
                        n++;
                        int oldRange = oldRanges.rangeOf(rec, c.keyOff, c.keyLen);
                        if (s <= oldWatermarks[oldRange]) {
                            continue; // already in an SST
                        }
                        insert(s, c);
                    }
                    if (n != count) {
                        throw new CorruptionException(p.toString(), offset, "expected " + count
                                + " operations in the write batch, found " + n);
                    }
                    if (count > 0) {
                        lastSequence = Math.max(lastSequence, seq + count - 1);
                    }
                }
                if (reader.droppedTailBytes() > 0) {
                    LOG.warning("WAL " + p + ": dropped a torn tail of " + reader.droppedTailBytes()
                            + " bytes (an append interrupted by a crash)");
                }
            }
        }

        private void insert(long seq, BatchCursor c) throws IOException {
            int r = ranges.rangeOf(c.rep, c.keyOff, c.keyLen);
            for (int attempt = 0; ; attempt++) {
                if (shards[r] == null) {
                    int need = Math.max(arenaSize, jumboSize(c.keyLen, c.valueLen));
                    shards[r] = newShard(r, need);
                }
                if (shards[r].shard.add(seq, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff, c.valueLen)) {
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
            FlushJob job = new FlushJob(fs, dir, tableOptions, options.targetFileSize(), versions::newFileNumber);
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
            // group followers
            int bytes = 0;
            int limit = leader.batch.size() <= (128 << 10) ? leader.batch.size() + (128 << 10) : MAX_GROUP_BYTES;
            for (Writer x : writers) {
                if (x != leader) {
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
            if (walTouched && bgError == null && !closing) {
                // sequence numbers of this group may be in the WAL or memtable: no write may reuse them
                bgError = e;
                LOG.severe("write failed in " + dir + "; refusing further writes: " + e);
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
            int r = ranges.rangeOf(c.rep, c.keyOff, c.keyLen);
            while (true) {
                MemShard s = sv.active[r];
                if (s.firstLog < 0) {
                    s.firstLog = walNumber;
                }
                if (s.shard.add(seq, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff, c.valueLen)) {
                    break;
                }
                sealAndReplace(r, s, c.keyLen, c.valueLen);
            }
            seq++;
        }
    }

    /** Leader only, mutex not held: seals the full active shard of {@code range}, waits for memory. */
    private void sealAndReplace(int range, MemShard full, int keyLen, int valueLen) {
        // a standard arena, or a bigger one when the entry that did not fit would not fit that either
        int need = Math.max(arenaSize, jumboSize(keyLen, valueLen));
        mutex.lock();
        try {
            long start = 0;
            while (memoryUsed + need > options.writeBufferSize() && hasSealed() && !closing && bgError == null) {
                if (start == 0) {
                    start = System.nanoTime();
                }
                bgChanged.awaitUninterruptibly();
            }
            if (start != 0) {
                stats.stallNanos += System.nanoTime() - start;
            }
            if (closing) {
                throw new DBClosedException("DB " + dir + " closed while a write waited for memory");
            }
            checkBackgroundError();
            MemShard fresh = newShard(range, need);
            memoryUsed += need;
            if (full.isEmpty()) {
                // an empty arena too small for a jumbo entry: replace it without sealing anything
                memoryUsed -= full.shard.capacity();
                MemShard[] a = sv.active.clone();
                a[range] = fresh;
                sv = new SuperVersion(a, sv.sealed, sv.version);
                return;
            }
            full.shard.seal();
            sv = sv.seal(range, fresh, sv.version);
            rollPending = true;
            maybeScheduleFlush(range);
        } finally {
            mutex.unlock();
        }
    }

    private boolean hasSealed() {
        for (MemShard[] s : sv.sealed) {
            if (s.length > 0) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ flush

    /** Mutex held. */
    private void maybeScheduleFlush(int range) {
        if (flushScheduled[range] || sv.sealed[range].length == 0 || closing || bgError != null) {
            return;
        }
        flushScheduled[range] = true;
        runningFlushes++;
        flushPool.execute(() -> backgroundFlush(range));
    }

    private void backgroundFlush(int range) {
        MemShard[] inputs;
        mutex.lock();
        try {
            inputs = sv.sealed[range].clone(); // newest first
        } finally {
            mutex.unlock();
        }
        FlushJob job = new FlushJob(fs, dir, tableOptions, options.targetFileSize(), versions::newFileNumber);
        Throwable error = null;
        try {
            if (inputs.length > 0 && bgError == null) {
                flushAndInstall(range, inputs, job);
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
            bgChanged.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    private void flushAndInstall(int range, MemShard[] inputs, FlushJob job) throws IOException {
        List<InternalIterator> its = new ArrayList<>();
        long maxSeq = 0;
        long bytes = 0;
        for (MemShard s : inputs) {
            its.add(s.reader.iterator());
            maxSeq = Math.max(maxSeq, s.shard.maxSequence());
        }
        List<FileMetaData> files = job.run(its, new long[0]);
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
                // the inputs are the oldest sealed shards of this range
                if (sealed.length < inputs.length || sealed[sealed.length - inputs.length] != inputs[0]) {
                    throw new IllegalStateException("sealed shards of range " + range + " changed during flush");
                }
                sv = cur.dropOldest(range, inputs.length, v);
                for (MemShard s : inputs) {
                    freed += s.shard.capacity();
                }
                memoryUsed -= freed;
                bgChanged.signalAll();
            } finally {
                mutex.unlock();
            }
        } finally {
            installLock.unlock();
        }
        stats.flushes++;
        stats.flushBytes += bytes;
        deleteObsoleteWals();
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
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        checkOpen();
        Lookup l = lookup(key, new Lookup());
        return l.state == Lookup.FOUND ? l.value : null;
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

    private Lookup lookup(byte[] key, Lookup out) {
        long seq = lastSequence;
        SuperVersion cur = sv;
        int r = ranges.rangeOf(key);
        if (cur.active[r].reader.get(key, seq, out)) {
            return out;
        }
        for (MemShard s : cur.sealed[r]) {
            if (s.reader.get(key, seq, out)) {
                return out;
            }
        }
        for (FileMetaData f : cur.version.files(0)) {
            if (f.mayContainUserKey(key) && tableCache.get(f).get(key, seq, out)) {
                return out;
            }
        }
        for (int level = 1; level < Version.NUM_LEVELS; level++) {
            FileMetaData f = cur.version.findFile(level, key);
            if (f != null && tableCache.get(f).get(key, seq, out)) {
                return out;
            }
        }
        out.state = Lookup.NOT_FOUND;
        return out;
    }

    // ------------------------------------------------------------------ Core engine II (in progress)

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        deleteRange(fromInclusive, toExclusive, WriteOptions.defaults());
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions wo) {
        throw new UnsupportedOperationException("deleteRange: not built yet");
    }

    @Override
    public byte[] get(io.o3lsm.ReadOptions ro, byte[] key) {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public List<byte[]> multiGet(io.o3lsm.ReadOptions ro, List<byte[]> keys) {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public io.o3lsm.DBIterator iterator(io.o3lsm.ReadOptions ro) {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public io.o3lsm.Snapshot snapshot() {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public void flush() {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public void compactRange(byte[] from, byte[] to) {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public String property(String name) {
        throw new UnsupportedOperationException("not built yet");
    }

    @Override
    public io.o3lsm.DBStats stats() {
        throw new UnsupportedOperationException("not built yet");
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
            // wait for the writer queue to drain: queued writers see `closing` and fail
            Writer me = new Writer(mutex.newCondition());
            writers.addLast(me);
            while (writers.peekFirst() != me) {
                me.cond.awaitUninterruptibly();
            }
            writers.pollFirst();
            // any writer still queued behind us will find `closing` set
            Writer next = writers.peekFirst();
            if (next != null) {
                next.cond.signal();
            }
        } finally {
            mutex.unlock();
        }
        flushPool.shutdown();
        try {
            if (!flushPool.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warning("flush threads of " + dir + " did not stop within 60 s");
                flushPool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
        try {
            while ((hasSealed() || runningFlushes > 0) && bgError == null && !closing) {
                bgChanged.awaitUninterruptibly();
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

        boolean next() {
            if (pos[0] >= limit) {
                return false;
            }
            int at = pos[0];
            type = rep[pos[0]++] & 0xFF;
            if (type != InternalKey.TYPE_VALUE && type != InternalKey.TYPE_DELETION) {
                throw corrupt(at, "operation type 0 or 1", "type " + type);
            }
            keyLen = len(at, "key length");
            keyOff = pos[0];
            pos[0] += keyLen;
            if (type == InternalKey.TYPE_VALUE) {
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
