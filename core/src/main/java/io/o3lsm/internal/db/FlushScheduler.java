package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.internal.util.OwnedThreads;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Flushes, one key range at a time, in three separate steps — the seam flush offloading plugs into:
 * <ol>
 * <li><b>pick</b> ({@link #pick}, mutex held): the sealed shards of the range (newest first, as
 * the view holds them; after the shard boundaries moved, the oldest ones of one layout) and the
 * sequences that must stay readable;</li>
 * <li><b>execute</b> ({@link #execute}, no lock): the shards (local, or read back from the memory
 * node) merged into L0 SSTs by a {@link FlushJob} — a pure function of its inputs; or, with flush
 * offloading, by a flush worker ({@link FlushOffloader#offload}: validated before install, and
 * flushed here instead if the offload is declined, fails or is refused);</li>
 * <li><b>install</b> ({@link VersionInstaller#installFlush}): the VersionEdit logged, the view swapped,
 * the shards' memory and segments released.</li>
 * </ol>
 * Also decides when a range is due, runs flushes on its own pool, and serves {@code DB.flush()}.
 *
 * <p>Locks: {@link #scheduled}, {@link #running} and {@link #requests} are guarded by
 * {@code Engine.mutex}. At most one flush per range runs at a time.
 */
final class FlushScheduler {
    private final Engine e;
    private final ExecutorService pool;
    private final OwnedThreads threads;
    // guarded by mutex
    private final boolean[] scheduled;
    private int running;
    /** Callers waiting for a flush (flush(), a writer short of memory): everything sealed is due while positive. */
    private int requests;
    /**
     * Read-aware flushing: requests the memory node answered for each range's offloaded shards
     * (delegated gets and scan batches), counted by readers without a lock ...
     */
    private final java.util.concurrent.atomic.AtomicLongArray remoteReads;
    /** ... and the count when the range's last flush was scheduled (guarded by mutex). */
    private final long[] remoteReadsAtFlush;
    /** {@code Options.dmReadFlushTrigger}: a range is due after this many remote reads since its last flush; 0 = never. */
    private final long readFlushTrigger;

    /** Step 1's result: what one flush of one range works on. */
    static final class Pick {
        final int range;
        /** The range's oldest sealed shards of one layout at pick time, newest first. */
        final MemShard[] inputs;
        /** Sequences that must stay readable, ascending. */
        final long[] keep;
        /** The compaction filter the flush applies, or null ({@link Engine#jobFilter}). */
        final io.o3lsm.spi.CompactionExecutor.Filter filter;
        /** Set before the edit is handed to the MANIFEST: from then on a failure must not delete outputs. */
        volatile boolean installStarted;
        /** When the shards were picked: a flush's duration runs from here to its install. */
        final long pickedNanos = System.nanoTime();
        /**
         * Run by the installer right after the view swap, before another install can begin (the
         * listeners' "completed" event, so a compaction of this flush's tables is never reported
         * before it); null for none.
         */
        volatile Runnable onInstalled;

        Pick(int range, MemShard[] inputs, long[] keep, io.o3lsm.spi.CompactionExecutor.Filter filter) {
            this.range = range;
            this.inputs = inputs;
            this.keep = keep;
            this.filter = filter;
        }

        /** The layout of the inputs (one flush takes shards of one layout). */
        ShardRanges layout() {
            return inputs[0].layout;
        }

        long maxSequence() {
            long max = 0;
            for (MemShard s : inputs) {
                max = Math.max(max, s.maxSeq());
            }
            return max;
        }
    }

    FlushScheduler(Engine e) {
        this.e = e;
        this.scheduled = new boolean[e.ranges.count()];
        this.picked = new ShardRanges[e.ranges.count()];
        this.remoteReads = new java.util.concurrent.atomic.AtomicLongArray(e.ranges.count());
        this.remoteReadsAtFlush = new long[e.ranges.count()];
        this.readFlushTrigger = e.options.dmReadFlushTrigger();
        this.threads = new OwnedThreads("o3lsm-flush", e.dir.toString());
        this.pool = Executors.newFixedThreadPool(e.options.maxBackgroundFlushes(), threads);
    }

    /**
     * REQUIRES: mutex held. Starts a flush of {@code range} if it is due and none runs for it.
     *
     * <p>After the shard boundaries moved, only the oldest layout still in the view flushes
     * (docs/design/write-path.md, "Adaptive shard boundaries"). A range whose oldest shards belong to
     * a newer layout waits; if it is due meanwhile, the older layout's ranges become due too
     * ({@link #drainOlder}), so the wait ends as soon as their flushes do.
     */
    void maybeSchedule(int range) {
        if (e.passive) {
            return; // a replica's tables come from its primary; a read-only DB writes none
        }
        SuperVersion sv = e.sv;
        if (sv.layouts.length == 1) {
            drainOlder = false;
        }
        if (scheduled[range] || sv.sealed[range].length == 0 || e.closing || e.bgError != null) {
            return;
        }
        MemShard[] list = sv.sealed[range];
        ShardRanges layout = list[list.length - 1].layout;
        boolean due = due(range, sv);
        if (layout != sv.oldestLayout()) {
            if (due && !drainOlder) {
                drainOlder = true;
                for (int r = 0; r < sv.sealed.length; r++) {
                    MemShard[] l = sv.sealed[r];
                    if (l.length > 0 && l[l.length - 1].layout == sv.oldestLayout()) {
                        maybeSchedule(r);
                    }
                }
            }
            return;
        }
        if (!due && !(drainOlder && layout != sv.layout)) {
            return;
        }
        remoteReadsAtFlush[range] = remoteReads.get(range);
        scheduled[range] = true;
        running++;
        pool.execute(() -> backgroundFlush(range));
    }

    /** Per range, the layout of the shards its last flush picked (guarded by mutex). */
    private final ShardRanges[] picked;

    /** A range of a newer layout is due but waits for the older layout's flushes: those are due (guarded by mutex). */
    private boolean drainOlder;

    /** REQUIRES: mutex held. The flush rule for one range, apart from the order of layouts. */
    private boolean due(int range, SuperVersion sv) {
        // Let a few generations of a range accumulate so one flush merges them into one larger L0
        // file (fewer, bigger L0 files: less compaction work), unless memory is getting tight.
        long sealedBytes = 0;
        for (MemShard m : sv.sealed[range]) {
            sealedBytes += m.capacity;
        }
        DmLink dm = e.options.memtableOffload() ? e.dm.link() : null; // coordinator only: memory is all local
        long total = e.localBudget + (dm != null ? e.options.dmBudget() : 0);
        long memoryUsed = e.memtables.used();
        return requests > 0 || sealedBytes >= Math.max(2L * e.arenaSize, total / (2L * e.ranges.count()))
                || memoryUsed >= e.localBudget - e.localBudget / 4 && (dm == null || !dm.connected())
                || (dm != null && dm.used() >= e.options.dmBudget() - e.options.dmBudget() / 4)
                || readHot(range, sv);
    }

    /**
     * REQUIRES: mutex held. The read-aware rule: a range whose offloaded shards made the memory node
     * answer {@code dmReadFlushTrigger} requests since its last flush (a delegated get counts 1, a
     * scan batch {@link #SCAN_WEIGHT}) is due, if it still has a shard only the node holds. Its SSTs then serve those reads from
     * the block cache and local files (one-sided reads of cached entries are not counted: they cost
     * the node nothing and the compute node about what an SST read costs).
     */
    private boolean readHot(int range, SuperVersion sv) {
        if (readFlushTrigger <= 0 || remoteReads.get(range) - remoteReadsAtFlush[range] < readFlushTrigger) {
            return false;
        }
        for (MemShard m : sv.sealed[range]) {
            if (m.reader == null) {
                return true;
            }
        }
        return false;
    }

    /** Weight of one delegated scan batch in {@link #remoteRead}: it merges every offloaded shard of the range. */
    static final int SCAN_WEIGHT = 8;

    /**
     * Any thread, no lock: the memory node answered a read of {@code range}'s offloaded shards, of
     * {@code weight} requests' worth (a delegated get 1, a scan batch {@link #SCAN_WEIGHT}). Past the
     * trigger, tries (without waiting for the mutex) to schedule the range's flush, about once per 64.
     */
    void remoteRead(int range, int weight) {
        long n = remoteReads.addAndGet(range, weight);
        // scheduled[] is read without the mutex: only a hint that spares a tryLock (maybeSchedule rechecks)
        if (readFlushTrigger <= 0 || (n & ~63L) == ((n - weight) & ~63L) || scheduled[range]) {
            return;
        }
        if (e.mutex.tryLock()) {
            try {
                maybeSchedule(range);
            } finally {
                e.mutex.unlock();
            }
        }
    }

    /** REQUIRES: mutex held. True while a flush of {@code range} is queued or running (tests). */
    boolean isScheduled(int range) {
        return scheduled[range];
    }

    /** Remote reads counted for {@code range} so far (tests, properties). */
    long remoteReads(int range) {
        return remoteReads.get(range);
    }

    /** REQUIRES: mutex held. {@link #maybeSchedule} for every range. */
    void maybeScheduleAll() {
        for (int r = 0; r < e.ranges.count(); r++) {
            maybeSchedule(r);
        }
    }

    /** REQUIRES: mutex held. While a request is open, every sealed shard is due. */
    void beginRequest() {
        requests++;
    }

    /** REQUIRES: mutex held. */
    void endRequest() {
        requests--;
    }

    private void backgroundFlush(int range) {
        Throwable error = null;
        try {
            error = flushOnce(range);
        } catch (Throwable t) { // before the job ran (pick, job set-up): still report, never leave the range stuck
            error = t;
        } finally {
            e.mutex.lock();
            try {
                if (error != null) {
                    e.setBackgroundError(new O3Exception("flush of shard range " + range + " in " + e.dir
                            + " failed; the DB refuses further writes until reopened (" + e.acknowledgedWritesNote()
                            + "): " + error, error), io.o3lsm.EventListener.ErrorSource.FLUSH);
                }
                scheduled[range] = false;
                running--;
                // after the boundaries moved (perhaps after this flush was scheduled, before its pick),
                // every range: if this flush took the last shards of the older layout, ranges of the
                // newer one that had to wait may flush now
                if (e.sv.layouts.length > 1 || picked[range] != e.sv.layout) {
                    maybeScheduleAll();
                } else {
                    maybeSchedule(range);
                }
                e.compactions.maybeSchedule();
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
        }
    }

    /** REQUIRES: mutex held. Flushes running now (property {@code o3.num-running-flushes}). */
    int running() {
        return running;
    }

    /** Test hook: runs on the flush thread before each flush picks its shards (no lock held). */
    volatile Runnable beforeFlush;

    /** Pick, execute, install for one range; returns the failure to report, or null. */
    private Throwable flushOnce(int range) {
        Runnable hook = beforeFlush;
        if (hook != null) {
            hook.run();
        }
        Pick p;
        e.mutex.lock();
        try {
            p = pick(range);
        } finally {
            e.mutex.unlock();
        }
        List<RangeTombstone> tombs = new ArrayList<>();
        for (MemShard m : p.inputs) {
            m.collectTombstones(tombs);
        }
        FlushJob job = newJob(tombs, p.filter);
        FlushEvents ev = p.inputs.length > 0 && e.bgError == null && !e.closing && e.listeners.active()
                ? new FlushEvents(p) : null;
        io.o3lsm.EventListener.Place place = null;
        try {
            if (p.inputs.length > 0 && e.bgError == null && !e.closing) { // closing: the WAL keeps them
                FlushOffloader.Result off = e.flushOffloader.offload(p, tombs);
                if (off.files() != null) {
                    p.onInstalled = ev == null ? null
                            : () -> ev.completed(off.files(), io.o3lsm.EventListener.Place.OFFLOADED, off.worker(), null);
                    boolean installed;
                    try {
                        installed = installOffloaded(p, off);
                    } finally {
                        p.onInstalled = null;
                    }
                    if (installed) {
                        return null;
                    }
                } // refused: a snapshot appeared that could see what the worker's filter did; run it here
                if (off.fallback() && (e.closing || e.bgError != null)) {
                    if (ev != null) {
                        ev.completed(List.of(), null, null, new DBClosedException("offloaded flush ended: the DB "
                                + (e.closing ? "closes" : "failed") + "; its shards stay in the WAL"));
                    }
                    return null; // the offload failed because the DB is closing: the WAL keeps the shards
                }
                place = off.fallback() || off.files() != null ? io.o3lsm.EventListener.Place.FALLBACK
                        : io.o3lsm.EventListener.Place.LOCAL;
                io.o3lsm.spi.CompactionExecutor.Filter filter = p.filter;
                if (off.files() != null) {
                    filter = currentFlushFilter();
                    job = newJob(tombs, filter);
                }
                List<FileMetaData> files = execute(p, job);
                syncWalBeforeInstall();
                while (!installReporting(p, files, filter, ev, place)) {
                    // a snapshot appeared that could see what the filter did: again, with it counted
                    job.abandon();
                    filter = currentFlushFilter();
                    job = newJob(tombs, filter);
                    files = execute(p, job);
                    syncWalBeforeInstall();
                }
                (off.fallback() ? e.stats.flushesFallback : e.stats.flushesLocal).increment();
            }
            return null;
        } catch (DmLostException ex) {
            if (ev != null) {
                ev.completed(List.of(), place, null, ex);
            }
            job.abandon(); // an input could not be read back: rebuild it from the WAL, then flush again
            if (!ex.stale) {
                try {
                    e.dmRecovery.failed(ex, ex.attempt); // a slow read-back is just retried by the next flush
                } catch (Throwable t) {
                    return t; // the rebuild failed: report it rather than leave the range unflushable
                }
            }
            return null;
        } catch (Throwable t) {
            if (ev != null) {
                ev.completed(List.of(), place, null, t);
            }
            if (!p.installStarted) {
                job.abandon(); // once the edit may be in the MANIFEST, the outputs must stay
            }
            return t;
        }
    }

    /** Installs a local flush's outputs; its "completed" event is posted with the view swap (Pick.onInstalled). */
    private boolean installReporting(Pick p, List<FileMetaData> files, io.o3lsm.spi.CompactionExecutor.Filter filter,
            FlushEvents ev, io.o3lsm.EventListener.Place place) throws IOException {
        p.onInstalled = ev == null ? null : () -> ev.completed(files, place, null, null);
        try {
            return e.installer.installFlush(p, files, filter);
        } finally {
            p.onInstalled = null;
        }
    }

    /** One flush's listener events: begin when made, {@link #completed} once. */
    private final class FlushEvents {
        private final long jobId = e.listenerJobIds.incrementAndGet();
        private final Pick p;
        private final int shards;
        private final long entries;
        private final long bytes;

        FlushEvents(Pick p) {
            this.p = p;
            long n = 0;
            long b = 0;
            for (MemShard m : p.inputs) {
                io.o3lsm.format.memtable.MemtableShard s = m.shard;
                io.o3lsm.format.memtable.ShardReader r = m.reader;
                if (s != null) {
                    n = n < 0 ? n : n + s.entryCount();
                    b += s.usedBytes();
                } else if (r != null) {
                    n = n < 0 ? n : n + r.entryCount();
                    b += r.usedBytes();
                } else { // only on the memory node
                    n = -1;
                    b += m.capacity;
                }
            }
            this.shards = p.inputs.length;
            this.entries = n;
            this.bytes = b;
            io.o3lsm.EventListener.FlushJobInfo info = new io.o3lsm.EventListener.FlushJobInfo(jobId, p.range, shards,
                    entries, bytes, List.of(), null, null, 0, null);
            e.listeners.post(l -> l.onFlushBegin(info));
        }

        void completed(List<FileMetaData> files, io.o3lsm.EventListener.Place place, String worker, Throwable error) {
            io.o3lsm.EventListener.FlushJobInfo info = new io.o3lsm.EventListener.FlushJobInfo(jobId, p.range, shards,
                    entries, bytes, tableInfos(e, 0, files), place, worker, System.nanoTime() - p.pickedNanos, error);
            e.listeners.post(l -> l.onFlushCompleted(info));
        }
    }

    /** What listeners are told of {@code files} at {@code level}. */
    static List<io.o3lsm.EventListener.TableFileInfo> tableInfos(Engine e, int level, List<FileMetaData> files) {
        List<io.o3lsm.EventListener.TableFileInfo> out = new ArrayList<>(files.size());
        for (FileMetaData f : files) {
            out.add(new io.o3lsm.EventListener.TableFileInfo(f.number, level, f.size,
                    e.dir.resolve(FileNames.table(f.number))));
        }
        return out;
    }

    /**
     * Before a flush installs its tables: the current WAL may hold writes of other ranges older than
     * the flushed shards' newest — unsynced, or with {@code manualWalFlush} still in its buffer (when
     * no write came since the shards were sealed, the WAL was not rolled, so not synced). Syncing it
     * first keeps what any crash leaves a prefix of the acknowledged writes. Usually cheap: a roll
     * synced the WAL when the shards were sealed.
     */
    private void syncWalBeforeInstall() throws IOException {
        e.wals.flushNow(true);
    }

    /** A local flush job over {@code tombs} with the DB's merge operator and {@code filter}. */
    private FlushJob newJob(List<RangeTombstone> tombs, io.o3lsm.spi.CompactionExecutor.Filter filter) {
        return new FlushJob(e.flushFs, e.dir, e.tableOptions, e.options.targetFileSize(), e.versions::newFileNumber, tombs)
                .mergeOperator(e.options.mergeOperator()).compactionFilter(e.compactionFilter, filter)
                .familyTables(e.familyTables());
    }

    /** The filter a flush starting now applies (its newest snapshot read now). */
    private io.o3lsm.spi.CompactionExecutor.Filter currentFlushFilter() {
        e.mutex.lock();
        try {
            return e.jobFilter(true);
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * Step 3 for a worker's validated result; drops its files if the install fails before the
     * MANIFEST write, or is refused (false: a snapshot appeared that could see the filter's work).
     */
    private boolean installOffloaded(Pick p, FlushOffloader.Result off) throws IOException {
        syncWalBeforeInstall();
        try {
            if (!e.installer.installFlush(p, off.files())) {
                e.flushOffloader.installFailed(off);
                return false;
            }
        } catch (Throwable t) {
            if (!p.installStarted) {
                e.flushOffloader.installFailed(off);
            }
            throw t;
        }
        e.flushOffloader.installed(off);
        return true;
    }

    /** Step 1. REQUIRES: mutex held. */
    private Pick pick(int range) {
        MemShard[] list = e.sv.sealed[range];
        picked[range] = list.length == 0 ? null : list[list.length - 1].layout;
        if (list.length == 0) {
            return new Pick(range, list, e.snapshots.toKeep(), e.jobFilter(true));
        }
        // the oldest shards, all of one layout (maybeSchedule let only the view's oldest layout flush)
        ShardRanges layout = list[list.length - 1].layout;
        int from = list.length - 1;
        while (from > 0 && list[from - 1].layout == layout) {
            from--;
        }
        return new Pick(range, java.util.Arrays.copyOfRange(list, from, list.length), e.snapshots.toKeep(),
                e.jobFilter(true));
    }

    /** Step 2. No lock: merges the picked shards into L0 SSTs (not yet installed). */
    private List<FileMetaData> execute(Pick p, FlushJob job) throws IOException {
        List<InternalIterator> its = new ArrayList<>();
        try {
            for (MemShard s : p.inputs) {
                its.add(e.dm.shardIterator(s));
            }
        } catch (Throwable t) { // a later input could not be read back: release the ones already open
            for (InternalIterator it : its) {
                try {
                    it.close();
                } catch (RuntimeException suppressed) {
                    t.addSuppressed(suppressed);
                }
            }
            throw t;
        }
        List<FileMetaData> files = new ArrayList<>();
        for (CompactionExecutor.OutputFile o : job.run(its, p.keep)) {
            files.add(FileMetaData.of(o));
        }
        return files;
    }

    /** {@code DB.flush()}: seals every non-empty active shard and waits until those shards are flushed. */
    /**
     * Seals the active shards of the ranges holding keys in {@code [from, to)} and schedules their
     * flushes, without waiting for them (a family over its own write buffer). Any thread without the
     * mutex; gives up quietly on a closing DB or after a background error.
     */
    void sealRanges(byte[] from, byte[] to) {
        e.mutex.lock();
        try {
            if (e.closing || e.bgError != null) {
                return;
            }
            e.writes.enterAlone(); // sealing swaps the active shards: no write group may be inserting
            try {
                if (e.closing || e.bgError != null) {
                    return;
                }
                int first = e.ranges.rangeOf(from);
                int last = Math.min(e.ranges.rangeOf(to), e.ranges.count() - 1);
                for (int r = first; r <= last; r++) {
                    MemShard a = e.sv.active[r];
                    if (!a.isEmpty()) {
                        e.memtables.reserve(e.arenaSize);
                        e.memtables.sealActive(r, a, e.arenaSize);
                    }
                    maybeSchedule(r);
                }
            } finally {
                e.writes.leave();
            }
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * REQUIRES: mutex held and the caller heads the writer queue ({@code WriteQueue.enterAlone}).
     * Seals the non-empty active shards of {@code ranges} and waits (mutex released meanwhile, the
     * queue still held) until every sealed shard of those ranges is flushed (an ingest whose keys
     * overlap them). Returns with the mutex held.
     */
    void flushRangesAlone(java.util.BitSet ranges) {
        requests++; // flush the sealed shards now, however small
        try {
            for (int r = ranges.nextSetBit(0); r >= 0; r = ranges.nextSetBit(r + 1)) {
                MemShard a = e.sv.active[r];
                if (!a.isEmpty()) {
                    e.memtables.reserve(e.arenaSize);
                    e.memtables.sealActive(r, a, e.arenaSize);
                }
                maybeSchedule(r);
            }
            Set<MemShard> mine = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int r = ranges.nextSetBit(0); r >= 0; r = ranges.nextSetBit(r + 1)) {
                mine.addAll(Arrays.asList(e.sv.sealed[r]));
            }
            while (e.memtables.stillSealedOrReplaced(mine) && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
        } finally {
            requests--;
        }
        if (e.closing) {
            throw new DBClosedException("DB " + e.dir + " closed during an ingest's flush");
        }
        e.checkBackgroundError();
    }

    void flushAll() {
        e.checkOpen();
        e.mutex.lock();
        requests++;
        try {
            maybeScheduleAll();
            e.writes.enterAlone(); // become the only writer
            try {
                if (e.closing) {
                    throw new DBClosedException("DB " + e.dir + " is closed");
                }
                e.checkBackgroundError();
                for (int r = 0; r < e.ranges.count(); r++) {
                    MemShard a = e.sv.active[r];
                    if (a.isEmpty()) {
                        maybeSchedule(r);
                        continue;
                    }
                    e.memtables.reserve(e.arenaSize);
                    e.memtables.sealActive(r, a, e.arenaSize);
                    maybeSchedule(r);
                }
            } finally {
                e.writes.leave();
            }
            // wait for the shards sealed up to now, not for ones later writers seal
            Set<MemShard> mine = Collections.newSetFromMap(new IdentityHashMap<>());
            for (MemShard[] list : e.sv.sealed) {
                mine.addAll(Arrays.asList(list));
            }
            while (e.memtables.stillSealedOrReplaced(mine) && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
            if (e.closing) {
                throw new DBClosedException("DB " + e.dir + " closed during flush");
            }
            e.checkBackgroundError();
        } finally {
            requests--;
            e.mutex.unlock();
        }
    }

    /** Blocks until no sealed shard is waiting for flush (test hook). */
    void waitForFlushes() {
        e.mutex.lock();
        requests++;
        try {
            maybeScheduleAll();
            while ((e.memtables.hasSealed() || running > 0) && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
            e.checkBackgroundError();
        } finally {
            requests--;
            e.mutex.unlock();
        }
    }

    /** Blocks until no flush is running, without asking for any (test hook). */
    void waitForRunning() {
        e.mutex.lock();
        try {
            while (running > 0 && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * Close, or a failed open: takes no new flushes and waits until every flush thread has
     * terminated. A running flush is let finish (it is bounded by a few memtables); one that sees
     * {@code closing} before it starts writing does not start.
     */
    void stop() {
        pool.shutdown();
        threads.join(30);
    }

    /** Flush threads still alive (for tests). */
    List<Thread> liveThreads() {
        return threads.alive();
    }
}
