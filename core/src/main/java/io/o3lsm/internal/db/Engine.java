package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.internal.version.VersionSet;
import io.o3lsm.spi.FileSystem;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * What the parts of one open database share: its settings, the one {@link #mutex}, the read view
 * ({@link #sv}), the published sequence, the error and closing flags, the counters — and the parts
 * themselves, one file each (the way Pebble's {@code DB} struct is shared by {@code open.go},
 * {@code flush.go}, {@code compaction.go}). {@link DBImpl} builds it and wires the parts once, at
 * open; after that no field of this class is reassigned except the volatile ones documented below.
 *
 * <h2>Concurrency</h2>
 * <ul>
 * <li>{@link #mutex} guards the writer queue ({@link WriteQueue}), the memory account
 * ({@link MemtableSet}), the live WAL set, flush and compaction scheduling, snapshots, pending
 * deletions and every swap of {@link #sv}. It is never held across file or network I/O (logging
 * aside). Each part's header says which of its fields it guards.</li>
 * <li>Readers take no lock: they pin {@link #sv} first and read {@link #lastSequence} after, retrying
 * if the view changed meanwhile ({@link ReadPath#pin}). The write leader swaps {@code sv} before
 * publishing the sequence, and a flush installs its SST and drops its shards in one swap, so a
 * reader always finds everything up to its sequence.</li>
 * <li>{@link VersionInstaller} orders MANIFEST installs with its own lock (flushes of different
 * ranges run in parallel); it takes {@link #mutex} inside it, never the other way round.</li>
 * </ul>
 */
final class Engine {
    static final Logger LOG = Logger.getLogger("io.o3lsm");

    final Path dir;
    /** The handle of the default family of a DB created without families (its API is the plain one). */
    final io.o3lsm.ColumnFamilyHandle plainDefault = new io.o3lsm.ColumnFamilyHandle() {
        @Override
        public String name() {
            return io.o3lsm.DB.DEFAULT_COLUMN_FAMILY;
        }

        @Override
        public int id() {
            return 0;
        }

        @Override
        public String toString() {
            return "ColumnFamily(default, id 0)";
        }
    };

    final Options options;
    final FileSystem fs;
    final VersionSet versions;
    /**
     * The lock of the DB directory. {@link WalSet} consults it ({@link FileSystem.Lock#checkHeld})
     * before creating a WAL, {@link VersionSet} before switching CURRENT: on shared storage another
     * writer may have taken it over from this one, presumed dead (docs/design/storage.md, section 3).
     */
    final FileSystem.Lock dirLock;
    /**
     * The current shard layout (the one {@code sv.layout} has): written by the write leader with the
     * mutex held when the boundaries move ({@link MemtableSet#maybeRelayout}), read by the leader.
     */
    volatile ShardRanges ranges;
    /** The layout the MANIFEST's boundaries and watermarks describe. Guarded by the installer's lock. */
    ShardRanges manifestLayout;
    final BlockCache blockCache;
    final TableCache tableCache;
    final TableOptions tableOptions;
    /** Bytes of a standard memtable arena. */
    final int arenaSize;
    /** Bytes of memtable arenas kept in this process. */
    final long localBudget;
    /** The counters of this open (per-open: a reopen starts from zero). */
    final EngineStats stats;
    /** DM mode: locations of entries in offloaded shards, for one-sided gets. */
    final ReadCache readCache;
    /** DM mode: one-sided read or delegated get for a cached shard, from their measured latencies. */
    final RemoteReadChoice readChoice = new RemoteReadChoice();

    final ReentrantLock mutex = new ReentrantLock();
    /** Signalled when memory is freed, a flush or compaction finishes, an error is set, or the DB closes. */
    final Condition bgChanged = mutex.newCondition();

    /** The read view. Swapped with the mutex held ({@link #installSv}); read without a lock. */
    volatile SuperVersion sv;
    /** Flushes installed so far; written with the mutex held, read without (iterators refresh on a change). */
    volatile long flushInstalls;
    /**
     * Installs in progress that a snapshot taken meanwhile could see change: a flush or compaction
     * whose outputs a compaction filter shaped (VersionInstaller), an ingest keeping its entries at
     * sequence 0 (IngestJob). Snapshots (and iterators' held sequences) wait while it is above 0
     * ({@link Snapshots#awaitFilteredInstall}). A count: a filtered flush may install during an ingest.
     * Guarded by mutex.
     */
    int filteredInstall;
    /** The last sequence visible to readers; written by the write leader (and recovery) only. */
    volatile long lastSequence;
    /** The first background failure; once set, writes are refused until the DB is reopened. */
    volatile Throwable bgError;
    volatile boolean closing;
    volatile boolean closed;
    /** Checkpoints running (CheckpointWriter): close() waits until none is. Guarded by mutex. */
    int checkpoints;

    /**
     * A replica (DB.openReplica) that installs its primary's tables: writes come only from its primary;
     * it never flushes or compacts. False for a replica that rebuilds its own tables (the baseline):
     * that one is an ordinary engine its applier writes into.
     */
    final boolean replica;
    /**
     * A read-only open ({@code DB.openReadOnly}): no lock, no file written; its memtables hold the
     * WALs' writes past the MANIFEST's watermarks; nothing is written, flushed or compacted.
     */
    final boolean readOnly;
    /** {@link #replica} or {@link #readOnly}: takes no writes of its own, never flushes or compacts. */
    final boolean passive;
    /** A replication primary's side (null unless Options.replicationListen); set at open before any write. */
    volatile ReplicationSource replication;
    /** The epoch before this open's, and the last sequence recovered at open (set by Recovery). */
    long previousEpoch;
    long epochStart;
    /** A replica's side (null unless {@link #replica}). */
    ReplicaApplier replicaApplier;

    // the parts, wired once by DBImpl
    Snapshots snapshots;
    WalSet wals;
    MemtableSet memtables;
    WriteQueue writes;
    DmOffloader dm;
    DmRecovery dmRecovery;
    FlushScheduler flushes;
    FlushOffloader flushOffloader;
    /**
     * Job ids of offloaded flushes and compactions, one sequence for both: the coordinator knows a
     * job by its owner's session, id and attempt, whatever its kind, so a flush and a compaction of
     * one DB must never share an id (they did, each offloader counting from 1: the second one
     * submitted was refused as "already submitted" and ran locally).
     */
    final java.util.concurrent.atomic.AtomicLong offloadJobIds = new java.util.concurrent.atomic.AtomicLong();
    CompactionScheduler compactions;
    CompactionOffloader compactionOffloader;
    VersionInstaller installer;
    ObsoleteFiles obsolete;
    ReadPath reads;

    /** The name of {@link Options#mergeOperator} that jobs carry, or null when there is none. */
    String mergeOperatorName() {
        io.o3lsm.MergeOperator op = options.mergeOperator();
        return op == null ? null : op.name();
    }

    /**
     * The filter jobs apply: the TTL filter (wrapping {@link Options#compactionFilter} if set) under
     * {@link Options#ttl}, else {@link Options#compactionFilter}; null when neither is set.
     */
    final io.o3lsm.CompactionFilter compactionFilter;
    /** {@link Options#ttl} in milliseconds, 0 when off (always 0 in a family-aware DB: see {@link #ttlFor}). */
    final long ttlMillis;
    /** Where listener events go ({@link ListenerProxy}; inert without listeners). */
    final ListenerProxy listeners;
    /** Ids of flush and compaction jobs for listeners: one sequence per open, shared by both kinds. */
    final java.util.concurrent.atomic.AtomicLong listenerJobIds = new java.util.concurrent.atomic.AtomicLong();
    /** The file systems local flush and compaction jobs write tables through: rate-limited when {@code Options.rateLimiter}. */
    final FileSystem flushFs;
    final FileSystem compactionFs;
    /** Stall conditions in force, for listeners: count of writers waiting, and since when. Guarded by mutex. */
    private final int[] stallWaiters = new int[io.o3lsm.EventListener.StallReason.values().length];
    private final long[] stallSince = new long[io.o3lsm.EventListener.StallReason.values().length];

    /** A family-aware DB's families (null for a DB created without them). */
    Families families;

    /** What a flush or compaction job carries about the families (empty for a DB without them). */
    List<io.o3lsm.spi.CompactionExecutor.FamilyTable> familyTables() {
        return families == null ? List.of() : families.tables();
    }

    /** The time to live of {@code key}'s values in milliseconds, 0 when they do not expire. */
    long ttlFor(byte[] key) {
        return families == null ? ttlMillis : families.ttlMillis(key);
    }

    /**
     * REQUIRES: mutex held. What a job created now carries about {@link #compactionFilter}, or null:
     * its name, the clock, and the newest live snapshot. {@code flush}: null unless
     * {@link Options#compactionFilterOnFlush}.
     */
    io.o3lsm.spi.CompactionExecutor.Filter jobFilter(boolean flush) {
        if (compactionFilter == null || (flush && !options.compactionFilterOnFlush())
                || (compactionFilter instanceof io.o3lsm.internal.util.FamilyFunctions.Filter f && f.isEmpty())) {
            return null;
        }
        return new io.o3lsm.spi.CompactionExecutor.Filter(compactionFilter.name(), options.clock().getAsLong(),
                snapshots.newestLive());
    }

    Engine(Path dir, Options options, VersionSet versions, FileSystem.Lock dirLock) {
        this(dir, options, versions, dirLock, false);
    }

    Engine(Path dir, Options options, VersionSet versions, FileSystem.Lock dirLock, boolean readOnly) {
        this(dir, options, versions, dirLock, readOnly, null);
    }

    /**
     * {@code sharedBlockCache}: the block cache to use instead of one of its own (null: its own, of
     * {@code options.blockCacheSize()}); a secondary's successive engines share one, over the same
     * files (blocks are keyed by file number, never reused in a directory).
     */
    Engine(Path dir, Options options, VersionSet versions, FileSystem.Lock dirLock, boolean readOnly,
            BlockCache sharedBlockCache) {
        java.time.Duration ttl = options.ttl();
        this.ttlMillis = ttl == null ? 0 : ttl.toMillis();
        this.compactionFilter = ttl != null ? io.o3lsm.CompactionFilters.ttl(ttl, options.compactionFilter())
                : options.compactionFilter();
        this.dir = dir;
        this.options = options;
        this.stats = new EngineStats(options.statistics());
        this.fs = options.fileSystem();
        this.versions = versions;
        this.dirLock = dirLock;
        this.replica = options.replicaOf() != null && !options.replicaRebuildsTables();
        this.readOnly = readOnly;
        this.passive = replica || readOnly;
        // adaptive boundaries: the ones the MANIFEST recorded (those last in use) carry over
        List<byte[]> recorded = versions.shardBoundaries();
        this.ranges = new ShardRanges(options.adaptiveShardBoundaries() && !recorded.isEmpty()
                && recorded.size() == options.shardCount() - 1 ? recorded : options.shardBoundaries());
        this.blockCache = sharedBlockCache != null ? sharedBlockCache
                : options.blockCacheSize() > 0 ? new BlockCache(options.blockCacheSize()) : null;
        this.tableCache = new TableCache(fs, dir, options.maxOpenFiles(), blockCache);
        this.tableOptions = new TableOptions(options.blockSize(), options.blockRestartInterval(),
                options.compression(), options.bloomBitsPerKey());
        this.arenaSize = options.shardArenaSize();
        this.localBudget = options.memoryNodeAddress() != null ? options.localMemoryBudget() : options.writeBufferSize();
        this.listeners = new ListenerProxy(readOnly ? List.of() : options.listeners(), options.listenerQueueCapacity(),
                dir.toString(), stats.listenerEventsDropped);
        io.o3lsm.RateLimiter limiter = options.rateLimiter();
        this.flushFs = limiter == null ? fs : new RateLimitedFileSystem(fs, limiter, true, stats, () -> closing);
        this.compactionFs = limiter == null ? fs : new RateLimitedFileSystem(fs, limiter, false, stats, () -> closing);
        this.readCache = new ReadCache(options.memoryNodeAddress() != null ? options.dmReadCacheBytes() : 0);
    }

    /**
     * REQUIRES: mutex held (or recovery, before the DB is visible). Publishes a new read view and
     * releases the DB's reference on the old one.
     */
    void installSv(SuperVersion next) {
        SuperVersion old = sv;
        sv = next;
        if (old != null) {
            old.unref();
        }
    }

    /** Pins the current read view. Release with {@link SuperVersion#unref()}. Any thread, no lock. */
    SuperVersion acquireSv() {
        while (true) {
            SuperVersion s = sv;
            if (s.tryRef()) {
                return s;
            }
        }
    }

    void checkOpen() {
        if (closed || closing) {
            throw new DBClosedException("DB " + dir + " is closed");
        }
    }

    void checkBackgroundError() {
        Throwable e = bgError;
        if (e != null) {
            throw new O3Exception("DB " + dir + " refuses writes after an earlier failure: " + e.getMessage(), e);
        }
    }

    /** What an error message says about acknowledged writes: the WAL holds them, unless buffered (manualWalFlush). */
    String acknowledgedWritesNote() {
        return options.manualWalFlush()
                ? "with manualWalFlush, acknowledged writes still in the WAL's buffer are lost if it cannot be written"
                : "acknowledged writes are safe in the WAL";
    }

    /** {@link #setBackgroundError(Throwable, io.o3lsm.EventListener.ErrorSource)} from an unnamed source. */
    void setBackgroundError(Throwable t) {
        setBackgroundError(t, io.o3lsm.EventListener.ErrorSource.OTHER);
    }

    /**
     * REQUIRES: mutex held. A writer begins to wait for {@code reason}: the first one opens the
     * stall for listeners ({@code onStallBegin}).
     */
    void stallBegin(io.o3lsm.EventListener.StallReason reason) {
        int i = reason.ordinal();
        if (stallWaiters[i]++ == 0) {
            stallSince[i] = System.nanoTime();
            io.o3lsm.EventListener.StallInfo info = new io.o3lsm.EventListener.StallInfo(reason,
                    versions.current().l0Depth(), 0);
            listeners.post(l -> l.onStallBegin(info));
        }
    }

    /** REQUIRES: mutex held. That writer stopped waiting: the last one closes the stall ({@code onStallEnd}). */
    void stallEnd(io.o3lsm.EventListener.StallReason reason) {
        int i = reason.ordinal();
        if (stallWaiters[i] > 0 && --stallWaiters[i] == 0) {
            endStall(reason);
        }
    }

    /**
     * REQUIRES: mutex held. The L0 slowdown delays each write group by itself; consecutive delayed
     * groups are one stall for listeners, opened by the first ({@link #stallBegin}, never ended per
     * group) and closed here, when a write group or a finished compaction finds L0 below the trigger.
     */
    void slowdownDelayed() {
        int i = io.o3lsm.EventListener.StallReason.L0_SLOWDOWN.ordinal();
        if (stallWaiters[i] == 0) {
            stallBegin(io.o3lsm.EventListener.StallReason.L0_SLOWDOWN);
        }
    }

    /** REQUIRES: mutex held. Closes the L0 slowdown stall if one is open and L0 is now below the trigger (or closing). */
    void slowdownMaybeOver() {
        int i = io.o3lsm.EventListener.StallReason.L0_SLOWDOWN.ordinal();
        if (stallWaiters[i] > 0 && (closing || versions.current().l0Depth() < options.level0SlowdownTrigger())) {
            stallWaiters[i] = 0;
            endStall(io.o3lsm.EventListener.StallReason.L0_SLOWDOWN);
        }
    }

    private void endStall(io.o3lsm.EventListener.StallReason reason) {
        io.o3lsm.EventListener.StallInfo info = new io.o3lsm.EventListener.StallInfo(reason,
                versions.current().l0Depth(), System.nanoTime() - stallSince[reason.ordinal()]);
        listeners.post(l -> l.onStallEnd(info));
    }

    /**
     * Records the first background failure and wakes everyone waiting on background state; listeners
     * hear of the first one ({@code onBackgroundError}, naming {@code source}). Any thread.
     */
    void setBackgroundError(Throwable t, io.o3lsm.EventListener.ErrorSource source) {
        boolean first = false;
        mutex.lock();
        try {
            if (bgError == null) {
                bgError = t;
                first = true;
            }
            bgChanged.signalAll();
        } finally {
            mutex.unlock();
        }
        if (first) { // after the state is settled: a failing log handler cannot leave waiters asleep
            io.o3lsm.EventListener.BackgroundErrorInfo info = new io.o3lsm.EventListener.BackgroundErrorInfo(t, source);
            listeners.post(l -> l.onBackgroundError(info));
            LOG.severe(t.getMessage());
        }
    }
}
