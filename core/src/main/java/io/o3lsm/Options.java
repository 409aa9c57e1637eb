package io.o3lsm;

import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.util.Limits;
import io.o3lsm.spi.FileSystem;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How a database is opened and run. Start from {@link #defaults()} (a new object on every call) and
 * chain setters; like {@link ReadOptions} and {@link WriteOptions}, each setter changes this object
 * and returns it, so a setter whose result is ignored still takes effect. Values are checked when
 * {@link DB#open} is called ({@link #validate()}), which throws {@link IllegalArgumentException}
 * naming the bad setting. {@code open} keeps its own {@link #copy()}: changing the object afterwards
 * does not reach the open DB. Not thread-safe while being built.
 *
 * <table>
 * <caption>Settings and defaults</caption>
 * <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 * <tr><td>createIfMissing</td><td>true</td><td>create the directory and an empty DB if absent</td></tr>
 * <tr><td>errorIfExists</td><td>false</td><td>fail if a DB already exists there</td></tr>
 * <tr><td>createMissingColumnFamilies</td><td>false</td><td>an open naming families the DB lacks creates them</td></tr>
 * <tr><td>writeBufferSize</td><td>64 MiB</td><td>memtable budget: active plus sealed shards</td></tr>
 * <tr><td>shardCount</td><td>4</td><td>memtable shards, each owning a disjoint key range</td></tr>
 * <tr><td>shardBoundaries</td><td>even split of the first two key bytes</td><td>explicit range starts (turns adaptiveShardBoundaries off)</td></tr>
 * <tr><td>adaptiveShardBoundaries</td><td>true</td><td>move the shard boundaries to quantiles of recently written keys when the ranges are unevenly used</td></tr>
 * <tr><td>shardArenaSize</td><td>writeBufferSize (DM mode: localMemoryBudget) / (4 * shardCount), capped at 64 MiB</td><td>bytes per shard arena</td></tr>
 * <tr><td>targetFileSize</td><td>64 MiB</td><td>SST size target</td></tr>
 * <tr><td>blockSize</td><td>4 KiB</td><td>uncompressed data block size target</td></tr>
 * <tr><td>blockRestartInterval</td><td>16</td><td>keys between restart points</td></tr>
 * <tr><td>compression</td><td>LZ4</td><td>per-block compression</td></tr>
 * <tr><td>bloomBitsPerKey</td><td>10</td><td>bloom filter bits per key (0 disables)</td></tr>
 * <tr><td>maxBackgroundFlushes</td><td>2</td><td>threads that flush sealed shards</td></tr>
 * <tr><td>maxBackgroundCompactions</td><td>1</td><td>threads that compact</td></tr>
 * <tr><td>level0CompactionTrigger</td><td>4</td><td>L0 depth (files overlapping at one key) that starts a compaction into L1</td></tr>
 * <tr><td>level0SlowdownTrigger</td><td>20</td><td>L0 depth at which each write group is delayed 1 ms</td></tr>
 * <tr><td>level0StopTrigger</td><td>36</td><td>L0 depth at which writes wait for compaction</td></tr>
 * <tr><td>maxBytesForLevelBase</td><td>256 MiB</td><td>target size of L1</td></tr>
 * <tr><td>levelSizeMultiplier</td><td>10</td><td>each level's target is this times the one above</td></tr>
 * <tr><td>blockCacheSize</td><td>64 MiB</td><td>on-heap cache of uncompressed blocks (0 disables)</td></tr>
 * <tr><td>maxOpenFiles</td><td>1000</td><td>SST readers kept open by the table cache</td></tr>
 * <tr><td>fileSystem</td><td>local</td><td>where files live</td></tr>
 * <tr><td>memoryNode</td><td>none</td><td>DM mode: {@code host:port} of a memory node and the cluster secret file</td></tr>
 * <tr><td>localMemoryBudget</td><td>writeBufferSize</td><td>DM mode: bytes of memtable arenas kept in this process</td></tr>
 * <tr><td>dmBudget</td><td>1 GiB</td><td>DM mode: bytes of sealed shards this DB may hold on the memory node</td></tr>
 * <tr><td>dmReadFlushTrigger</td><td>1024</td><td>DM mode: remote reads of a range's offloaded shards after which it is flushed</td></tr>
 * <tr><td>dmReadCacheBytes</td><td>64 MiB</td><td>DM mode: heap for the locations of entries in offloaded shards (one-sided gets)</td></tr>
 * <tr><td>offloadInflightLimit</td><td>4</td><td>DM mode: shard offloads in flight at once</td></tr>
 * <tr><td>dmRequestTimeout</td><td>2 s</td><td>DM mode: a memory-node request not answered in time fails</td></tr>
 * <tr><td>flushOffload</td><td>false</td><td>DM mode: flushes may run on flush workers (needs the o3lsm-flush module)</td></tr>
 * <tr><td>flushOffloadMinBytes</td><td>16 MiB</td><td>a flush with fewer sealed input bytes runs locally</td></tr>
 * <tr><td>flushOffloadPlacement</td><td>LOAD</td><td>how the coordinator places offloaded flushes</td></tr>
 * <tr><td>flushOffloadDeadline</td><td>60 s</td><td>how long an offloaded flush may take once placed</td></tr>
 * <tr><td>flushWorkerSlots</td><td>0</td><td>DM mode: this process also runs flush jobs of any DB (a worker)</td></tr>
 * <tr><td>flushWorkerStorage</td><td>the DB directory's parent</td><td>shared storage root of that worker</td></tr>
 * <tr><td>maxSubcompactions</td><td>1</td><td>key ranges a large compaction is split into, run in parallel</td></tr>
 * <tr><td>compactionOffload</td><td>false</td><td>DM mode: compactions may run on compactors (needs the o3lsm-compaction module)</td></tr>
 * <tr><td>compactionOffloadDeadline</td><td>10 min</td><td>how long an offloaded compaction may take once submitted</td></tr>
 * <tr><td>memtableOffload</td><td>true</td><td>DM mode: sealed shards go to the memory node; false = coordinator only</td></tr>
 * <tr><td>manualWalFlush</td><td>false</td><td>unsynced writes stay in the WAL's buffer until {@code DB.flushWal} or it fills</td></tr>
 * <tr><td>replicationListen</td><td>none</td><td>a primary: {@code host:port} backups connect to, and the cluster secret file</td></tr>
 * <tr><td>replicaOf</td><td>none</td><td>a backup ({@code DB.openReplica}): the primary's {@code host:port} and the cluster secret file</td></tr>
 * <tr><td>replicationAckTimeout</td><td>5 s</td><td>how long a write waits for backups' acknowledgements; a backup whose log buffer stays full this long is dropped</td></tr>
 * <tr><td>replicationShipTables</td><td>true</td><td>a primary ships the tables it builds; false: the baseline where backups rebuild their own</td></tr>
 * <tr><td>replicaRebuildsTables</td><td>false</td><td>a backup replays the log as writes and flushes and compacts itself (the baseline Talos compares against)</td></tr>
 * <tr><td>statistics</td><td>true</td><td>keep the per-operation tickers and the latency histograms ({@code docs/operations/metrics.md})</td></tr>
 * <tr><td>jmx</td><td>true</td><td>register an MBean {@code io.o3lsm:type=DB,name="<dir>"} for the DB while it is open</td></tr>
 * <tr><td>listeners</td><td>none</td><td>{@link EventListener}s called on one listener thread per DB ({@code docs/operations/listeners.md})</td></tr>
 * <tr><td>listenerQueueCapacity</td><td>1024</td><td>events waiting for that thread; beyond it events are dropped and counted</td></tr>
 * <tr><td>rateLimiter</td><td>none</td><td>bytes per second for flush and compaction table writes ({@code docs/operations/rate-limiter.md})</td></tr>
 * <tr><td>replicaLogBuffer</td><td>64 MiB</td><td>a backup: bytes of the registered buffer the primary writes its log into</td></tr>
 * </table>
 *
 * <p>In DM mode ({@link #memoryNode}), the write buffer extends into the memory node: sealed shards
 * are shipped there and their local copies dropped when the local budget needs room, so the
 * memtable can hold {@code localMemoryBudget + dmBudget} bytes. Needs the {@code o3lsm-dm} module on
 * the class path.
 */
public final class Options {
    public static final long DEFAULT_WRITE_BUFFER_SIZE = 64L << 20;
    /** Arenas are addressed by 32-bit offsets and backed by one direct buffer: at most 1 GiB. */
    public static final int MAX_SHARD_ARENA_SIZE = 1 << 30;
    public static final int MIN_SHARD_ARENA_SIZE = 64 * 1024;

    private boolean createIfMissing = true;
    private boolean errorIfExists = false;
    private long writeBufferSize = DEFAULT_WRITE_BUFFER_SIZE;
    private int shardCount = 4;
    private List<byte[]> shardBoundaries = null;
    private boolean adaptiveShardBoundaries = true;
    private int shardArenaSize = 0; // 0 = derived
    private long targetFileSize = 64L << 20;
    private int blockSize = 4096;
    private int blockRestartInterval = 16;
    private Compression compression = Compression.LZ4;
    private int bloomBitsPerKey = 10;
    private int maxBackgroundFlushes = 2;
    private FileSystem fileSystem = LocalFileSystem.INSTANCE;
    private int maxBackgroundCompactions = 1;
    private int level0CompactionTrigger = 4;
    private int level0SlowdownTrigger = 20;
    private int level0StopTrigger = 36;
    private long maxBytesForLevelBase = 256L << 20;
    private int levelSizeMultiplier = 10;
    private long blockCacheSize = 64L << 20;
    private int maxOpenFiles = 1000;
    private io.o3lsm.spi.CompactionExecutor compactionExecutor = null;
    private String memoryNodeAddress = null;
    private java.nio.file.Path memoryNodeSecretFile = null;
    private long localMemoryBudget = 0; // 0 = writeBufferSize
    private long dmBudget = 1L << 30;
    private int offloadInflightLimit = 4;
    private java.time.Duration dmRequestTimeout = java.time.Duration.ofSeconds(2);
    private long dmReadCacheBytes = 64L << 20;
    private int dmReadFlushTrigger = 1024;
    private boolean flushOffload = false;
    private long flushOffloadMinBytes = 16L << 20;
    private io.o3lsm.spi.FlushExecutor.Placement flushOffloadPlacement = io.o3lsm.spi.FlushExecutor.Placement.LOAD;
    private java.time.Duration flushOffloadDeadline = java.time.Duration.ofSeconds(60);
    private int flushWorkerSlots = 0;
    private java.nio.file.Path flushWorkerStorage;
    private int maxSubcompactions = 1;
    private boolean compactionOffload = false;
    private java.time.Duration compactionOffloadDeadline = java.time.Duration.ofMinutes(10);
    private boolean memtableOffload = true;
    private boolean manualWalFlush = false;
    private String replicationListen = null;
    private java.nio.file.Path replicationSecretFile = null;
    private String replicaOf = null;
    private java.time.Duration replicationAckTimeout = java.time.Duration.ofSeconds(5);
    private long replicaLogBuffer = 64L << 20;
    private boolean replicationShipTables = true;
    private boolean replicaRebuildsTables = false;
    private io.o3lsm.spi.Replication.Provider replicationProvider = null;
    private MergeOperator mergeOperator = null;
    private CompactionFilter compactionFilter = null;
    private boolean compactionFilterOnFlush = false;
    private java.util.function.LongSupplier clock = System::currentTimeMillis;
    private java.time.Duration ttl = null;
    private boolean createMissingColumnFamilies = false;
    private boolean statistics = true;
    private boolean jmx = true;
    private List<EventListener> listeners = List.of();
    private int listenerQueueCapacity = 1024;
    private RateLimiter rateLimiter = null;

    /** A new object with every setting at its default. */
    public static Options defaults() {
        return new Options();
    }

    /**
     * A new object with the same settings as this one; shard boundaries are copied, the file system
     * and compaction executor are shared.
     */
    public Options copy() {
        Options c = new Options();
        c.createIfMissing = createIfMissing;
        c.errorIfExists = errorIfExists;
        c.writeBufferSize = writeBufferSize;
        c.shardCount = shardCount;
        if (shardBoundaries != null) {
            c.shardBoundaries = new ArrayList<>(shardBoundaries.size());
            for (byte[] b : shardBoundaries) {
                c.shardBoundaries.add(b == null ? null : b.clone());
            }
        }
        c.shardArenaSize = shardArenaSize;
        c.targetFileSize = targetFileSize;
        c.blockSize = blockSize;
        c.blockRestartInterval = blockRestartInterval;
        c.compression = compression;
        c.bloomBitsPerKey = bloomBitsPerKey;
        c.maxBackgroundFlushes = maxBackgroundFlushes;
        c.fileSystem = fileSystem;
        c.maxBackgroundCompactions = maxBackgroundCompactions;
        c.level0CompactionTrigger = level0CompactionTrigger;
        c.level0SlowdownTrigger = level0SlowdownTrigger;
        c.level0StopTrigger = level0StopTrigger;
        c.maxBytesForLevelBase = maxBytesForLevelBase;
        c.levelSizeMultiplier = levelSizeMultiplier;
        c.blockCacheSize = blockCacheSize;
        c.maxOpenFiles = maxOpenFiles;
        c.compactionExecutor = compactionExecutor;
        c.memoryNodeAddress = memoryNodeAddress;
        c.memoryNodeSecretFile = memoryNodeSecretFile;
        c.localMemoryBudget = localMemoryBudget;
        c.dmBudget = dmBudget;
        c.offloadInflightLimit = offloadInflightLimit;
        c.dmRequestTimeout = dmRequestTimeout;
        c.dmReadCacheBytes = dmReadCacheBytes;
        c.dmReadFlushTrigger = dmReadFlushTrigger;
        c.adaptiveShardBoundaries = adaptiveShardBoundaries;
        c.flushOffload = flushOffload;
        c.flushOffloadMinBytes = flushOffloadMinBytes;
        c.flushOffloadPlacement = flushOffloadPlacement;
        c.flushOffloadDeadline = flushOffloadDeadline;
        c.flushWorkerSlots = flushWorkerSlots;
        c.flushWorkerStorage = flushWorkerStorage;
        c.maxSubcompactions = maxSubcompactions;
        c.compactionOffload = compactionOffload;
        c.compactionOffloadDeadline = compactionOffloadDeadline;
        c.memtableOffload = memtableOffload;
        c.manualWalFlush = manualWalFlush;
        c.replicationListen = replicationListen;
        c.replicationSecretFile = replicationSecretFile;
        c.replicaOf = replicaOf;
        c.replicationAckTimeout = replicationAckTimeout;
        c.replicaLogBuffer = replicaLogBuffer;
        c.replicationShipTables = replicationShipTables;
        c.replicaRebuildsTables = replicaRebuildsTables;
        c.replicationProvider = replicationProvider;
        c.mergeOperator = mergeOperator;
        c.compactionFilter = compactionFilter;
        c.compactionFilterOnFlush = compactionFilterOnFlush;
        c.clock = clock;
        c.ttl = ttl;
        c.createMissingColumnFamilies = createMissingColumnFamilies;
        c.statistics = statistics;
        c.jmx = jmx;
        c.listeners = listeners;
        c.listenerQueueCapacity = listenerQueueCapacity;
        c.rateLimiter = rateLimiter;
        return c;
    }

    public Options createIfMissing(boolean v) {
        this.createIfMissing = v;
        return this;
    }

    public Options errorIfExists(boolean v) {
        this.errorIfExists = v;
        return this;
    }

    /** Total bytes of memtable arenas (active and sealed) before writes wait for flush. */
    public Options writeBufferSize(long bytes) {
        this.writeBufferSize = bytes;
        return this;
    }

    /** Number of memtable shards; ignored when {@link #shardBoundaries} is set. 1 to 256. */
    public Options shardCount(int n) {
        this.shardCount = n;
        return this;
    }

    /**
     * Explicit shard key ranges: {@code n} strictly increasing, non-empty start keys give
     * {@code n + 1} shards, the first covering everything below the first boundary.
     */
    public Options shardBoundaries(List<byte[]> boundaries) {
        this.shardBoundaries = boundaries == null ? null : new ArrayList<>(boundaries);
        return this;
    }

    /**
     * Whether the shard boundaries follow the keys written (default true): when the recently
     * written keys use the shards unevenly (keys sharing a prefix, such as decimal numbers or
     * {@code user:} strings, all fall into one range of the default split), the boundaries move to
     * quantiles of a sample of those keys, at the next write after a shard is sealed. New boundaries
     * apply to new shards; sealed shards keep theirs until flushed. The MANIFEST takes new boundaries
     * with the first flush of shards that use them, and an open with this on reuses the boundaries
     * the MANIFEST holds (if their number matches {@link #shardCount}). Explicit
     * {@link #shardBoundaries} turn this off.
     * See docs/design/write-path.md, "Adaptive shard boundaries".
     */
    public Options adaptiveShardBoundaries(boolean on) {
        this.adaptiveShardBoundaries = on;
        return this;
    }

    /** True if the shard boundaries adapt to the keys written: set, not overridden by explicit boundaries, and more than one shard. */
    public boolean adaptiveShardBoundaries() {
        return adaptiveShardBoundaries && shardBoundaries == null && shardCount() > 1;
    }

    /** Bytes per shard arena; a shard is sealed when its arena is full. */
    public Options shardArenaSize(int bytes) {
        this.shardArenaSize = bytes;
        return this;
    }

    public Options targetFileSize(long bytes) {
        this.targetFileSize = bytes;
        return this;
    }

    public Options blockSize(int bytes) {
        this.blockSize = bytes;
        return this;
    }

    public Options blockRestartInterval(int n) {
        this.blockRestartInterval = n;
        return this;
    }

    public Options compression(Compression c) {
        this.compression = c;
        return this;
    }

    public Options bloomBitsPerKey(int bits) {
        this.bloomBitsPerKey = bits;
        return this;
    }

    public Options maxBackgroundFlushes(int n) {
        this.maxBackgroundFlushes = n;
        return this;
    }

    public Options fileSystem(FileSystem fs) {
        this.fileSystem = fs;
        return this;
    }

    public Options maxBackgroundCompactions(int n) {
        this.maxBackgroundCompactions = n;
        return this;
    }

    public Options level0CompactionTrigger(int files) {
        this.level0CompactionTrigger = files;
        return this;
    }

    public Options level0SlowdownTrigger(int files) {
        this.level0SlowdownTrigger = files;
        return this;
    }

    public Options level0StopTrigger(int files) {
        this.level0StopTrigger = files;
        return this;
    }

    public Options maxBytesForLevelBase(long bytes) {
        this.maxBytesForLevelBase = bytes;
        return this;
    }

    public Options levelSizeMultiplier(int m) {
        this.levelSizeMultiplier = m;
        return this;
    }

    /** Bytes of uncompressed blocks cached on the Java heap; 0 disables the cache. */
    public Options blockCacheSize(long bytes) {
        this.blockCacheSize = bytes;
        return this;
    }

    public Options maxOpenFiles(int n) {
        this.maxOpenFiles = n;
        return this;
    }

    /**
     * Where compaction jobs run; null (the default) runs them in this process. The compaction module
     * supplies an executor that runs them on a worker at the storage tier.
     */
    public Options compactionExecutor(io.o3lsm.spi.CompactionExecutor executor) {
        this.compactionExecutor = executor;
        return this;
    }

    public io.o3lsm.spi.CompactionExecutor compactionExecutor() {
        return compactionExecutor;
    }

    /**
     * Attaches the DB to a memory node ({@code host:port}); {@code secretFile} holds the cluster
     * secret. Null address: embedded mode (the default).
     */
    public Options memoryNode(String address, java.nio.file.Path secretFile) {
        this.memoryNodeAddress = address;
        this.memoryNodeSecretFile = secretFile;
        return this;
    }

    /**
     * Makes this DB a replication primary: backups ({@code DB.openReplica}, {@code bin/o3 replica})
     * connect to {@code address} ({@code host:port}; port 0 picks a free one, see the property
     * {@code o3.replication}) and prove they hold the secret in {@code secretFile}. Null address: no
     * replication (the default). Needs the {@code o3lsm-dm} module. docs/design/replication.md.
     */
    public Options replicationListen(String address, java.nio.file.Path secretFile) {
        this.replicationListen = address;
        this.replicationSecretFile = secretFile;
        return this;
    }

    public String replicationListen() {
        return replicationListen;
    }

    /** The cluster secret file of {@link #replicationListen} or {@link #replicaOf}. */
    public java.nio.file.Path replicationSecretFile() {
        return replicationSecretFile;
    }

    /** For {@code DB.openReplica}: the primary's replication address ({@code host:port}) and the secret file. */
    public Options replicaOf(String primary, java.nio.file.Path secretFile) {
        this.replicaOf = primary;
        this.replicationSecretFile = secretFile;
        return this;
    }

    public String replicaOf() {
        return replicaOf;
    }

    /**
     * A primary: how long a write with {@code replicationAcks} waits, and how long a backup's full log
     * buffer is waited for before that backup is dropped. A backup: twice this without a message from
     * its primary and it presumes the primary lost (it reconnects). Default 5 s.
     */
    public Options replicationAckTimeout(java.time.Duration d) {
        this.replicationAckTimeout = d;
        return this;
    }

    public java.time.Duration replicationAckTimeout() {
        return replicationAckTimeout;
    }

    /** A backup's log buffer, in bytes (default 64 MiB; 1 MiB .. 4 GiB). */
    public Options replicaLogBuffer(long bytes) {
        this.replicaLogBuffer = bytes;
        return this;
    }

    public long replicaLogBuffer() {
        return replicaLogBuffer;
    }

    /**
     * A primary: whether it ships every table it builds to its backups (default true: index shipping,
     * backups never flush or compact). False is the baseline Talos compares against, for backups that
     * {@link #replicaRebuildsTables}: only the log travels.
     */
    public Options replicationShipTables(boolean ship) {
        this.replicationShipTables = ship;
        return this;
    }

    public boolean replicationShipTables() {
        return replicationShipTables;
    }

    /**
     * A backup: whether it replays its primary's log as its own writes and flushes and compacts for
     * itself (the baseline Talos compares against; the primary should not ship tables then). Default
     * false: it installs the tables its primary ships. Such a backup keeps its own sequence numbers and
     * MANIFEST; it can be promoted only as an ordinary DB directory (opened with {@code DB.open}).
     */
    public Options replicaRebuildsTables(boolean rebuild) {
        this.replicaRebuildsTables = rebuild;
        return this;
    }

    public boolean replicaRebuildsTables() {
        return replicaRebuildsTables;
    }

    /**
     * The replication transport to use instead of the one found with {@link java.util.ServiceLoader}
     * (the dm module's, over UCX): for embedding another transport, and for tests. Default null.
     */
    public Options replicationProvider(io.o3lsm.spi.Replication.Provider provider) {
        this.replicationProvider = provider;
        return this;
    }

    public io.o3lsm.spi.Replication.Provider replicationProvider() {
        return replicationProvider;
    }

    public String memoryNodeAddress() {
        return memoryNodeAddress;
    }

    public java.nio.file.Path memoryNodeSecretFile() {
        return memoryNodeSecretFile;
    }

    /** DM mode: bytes of memtable arenas kept locally (default: writeBufferSize). */
    public Options localMemoryBudget(long bytes) {
        this.localMemoryBudget = bytes;
        return this;
    }

    public long localMemoryBudget() {
        return localMemoryBudget > 0 ? localMemoryBudget : writeBufferSize;
    }

    /** DM mode: bytes of sealed shards this DB may keep on the memory node. */
    public Options dmBudget(long bytes) {
        this.dmBudget = bytes;
        return this;
    }

    public long dmBudget() {
        return dmBudget;
    }

    public Options offloadInflightLimit(int n) {
        this.offloadInflightLimit = n;
        return this;
    }

    public int offloadInflightLimit() {
        return offloadInflightLimit;
    }

    public Options dmRequestTimeout(java.time.Duration d) {
        this.dmRequestTimeout = d;
        return this;
    }

    public java.time.Duration dmRequestTimeout() {
        return dmRequestTimeout;
    }

    /**
     * DM mode: heap bytes for the cache of entry locations in offloaded shards (about 11 bytes per
     * key; default 64 MiB, 0 turns it off). A get whose key is in a cached shard fetches its entry with
     * one one-sided read instead of a delegated get; when the cache is full, the oldest shards fall
     * back to their bloom filter and delegation ({@code docs/design/dm-mode.md}, "Cached reads").
     */
    public Options dmReadCacheBytes(long bytes) {
        this.dmReadCacheBytes = bytes;
        return this;
    }

    public long dmReadCacheBytes() {
        return dmReadCacheBytes;
    }

    /**
     * DM mode, read-aware flushing: a key range whose offloaded shards made the memory node answer
     * this many requests since the range's last flush is flushed, so its SSTs serve those reads
     * locally (default 1024; 0 turns the rule off). A delegated get counts 1, a delegated scan batch
     * 8 (it merges every offloaded shard of the range); gets answered by a one-sided read of a cached
     * entry do not count.
     */
    public Options dmReadFlushTrigger(int requests) {
        this.dmReadFlushTrigger = requests;
        return this;
    }

    public int dmReadFlushTrigger() {
        return dmReadFlushTrigger;
    }

    /**
     * DM mode: lets flushes run on flush workers that the memory node's coordinator places them on
     * (design: {@code docs/design/flush-offload.md}). Default {@code false}. Valid only with
     * {@link #memoryNode} set, and needs the {@code o3lsm-flush} module on the class path (checked at
     * open). A flush is offloaded only when every input shard is on the memory node and the inputs
     * reach {@link #flushOffloadMinBytes}; otherwise, or when no worker takes it, it runs locally.
     */
    public Options flushOffload(boolean v) {
        this.flushOffload = v;
        return this;
    }

    public boolean flushOffload() {
        return flushOffload;
    }

    /**
     * With {@link #flushOffload}: a flush whose sealed input bytes are below this runs locally
     * (shipping a small job costs more than it saves). Default 16 MiB; must be &gt;= 0.
     */
    public Options flushOffloadMinBytes(long bytes) {
        this.flushOffloadMinBytes = bytes;
        return this;
    }

    public long flushOffloadMinBytes() {
        return flushOffloadMinBytes;
    }

    /**
     * With {@link #flushOffload}: how the coordinator places a flush. Default
     * {@link io.o3lsm.spi.FlushExecutor.Placement#LOAD} (only on a worker less loaded than this
     * process); {@code ALWAYS} takes any worker with a free slot (benchmarks, tests).
     */
    public Options flushOffloadPlacement(io.o3lsm.spi.FlushExecutor.Placement p) {
        this.flushOffloadPlacement = p;
        return this;
    }

    public io.o3lsm.spi.FlushExecutor.Placement flushOffloadPlacement() {
        return flushOffloadPlacement;
    }

    /**
     * With {@link #flushOffload}: how long an offloaded flush may take once placed; after it the
     * submission fails, the flush runs locally, and the attempt's output files (a worker may still be
     * writing them) are deleted by a sweep once this much time has passed again. Default 60 s; must
     * be positive and at most 24 hours.
     */
    public Options flushOffloadDeadline(java.time.Duration d) {
        this.flushOffloadDeadline = d;
        return this;
    }

    public java.time.Duration flushOffloadDeadline() {
        return flushOffloadDeadline;
    }

    /**
     * DM mode: this process also offers {@code n} flush-job slots to the memory node's coordinator,
     * running flushes of any DB there (in O3-LSM every compute node is a potential flush executor),
     * as {@code bin/o3 flushworker} does. The worker connects in the background and stops when this
     * DB closes. Default 0 (none); 0..1024; needs {@link #memoryNode} and the {@code o3lsm-flush}
     * module. Jobs run on their own threads: {@link #flushOffloadPlacement} LOAD keeps them off a
     * busy process.
     */
    public Options flushWorkerSlots(int n) {
        this.flushWorkerSlots = n;
        return this;
    }

    public int flushWorkerSlots() {
        return flushWorkerSlots;
    }

    /**
     * With {@link #flushWorkerSlots}: the shared-storage root of this process's worker; it runs
     * only jobs whose DB directory lies under it. Default null: the parent of this DB's directory.
     */
    public Options flushWorkerStorage(java.nio.file.Path root) {
        this.flushWorkerStorage = root;
        return this;
    }

    public java.nio.file.Path flushWorkerStorage() {
        return flushWorkerStorage;
    }

    /**
     * The number of key ranges a large compaction is split into (<em>sub-compactions</em>), run in
     * parallel — on this process's sub-compaction threads, or, with {@link #compactionOffload}, as
     * parallel jobs on compactors — and installed together in one MANIFEST edit once every part
     * succeeded. A compaction is split only where its input files provide boundaries and each part
     * gets about {@link #targetFileSize} of input or more (design:
     * {@code docs/design/compaction-offload.md}). Default 1 (never split); 1..64.
     */
    public Options maxSubcompactions(int n) {
        this.maxSubcompactions = n;
        return this;
    }

    public int maxSubcompactions() {
        return maxSubcompactions;
    }

    /**
     * Lets compactions run on compactors at the storage tier that the memory node's coordinator
     * places them on (design: {@code docs/design/compaction-offload.md}). Default {@code false}.
     * Valid only with {@link #memoryNode} set (the coordinator lives there; combine with
     * {@code memtableOffload(false)} for the compaction-offload-only baseline), and needs the
     * {@code o3lsm-compaction} module on the class path (checked at open). A compaction no compactor
     * takes, or whose offload fails twice or whose result is refused, runs locally.
     */
    public Options compactionOffload(boolean v) {
        this.compactionOffload = v;
        return this;
    }

    public boolean compactionOffload() {
        return compactionOffload;
    }

    /**
     * With {@link #compactionOffload}: how long an offloaded compaction (or sub-compaction) may take
     * from its submission; it is sent with the job, and after a failed or refused attempt its output
     * files (a compactor may still be writing them) are deleted once this much time has passed.
     * Default 10 minutes; must be positive and at most 24 hours.
     */
    public Options compactionOffloadDeadline(java.time.Duration d) {
        this.compactionOffloadDeadline = d;
        return this;
    }

    public java.time.Duration compactionOffloadDeadline() {
        return compactionOffloadDeadline;
    }

    /**
     * DM mode: whether sealed memtable shards are shipped to the memory node (the write buffer
     * extends into DM, reads may be delegated there). Default {@code true}. {@code false} connects to
     * the memory node only for its coordinator — for {@link #compactionOffload}: no shard is
     * offloaded, no read is delegated, flushes read local shards (the compaction-offload-only
     * baseline). {@code false} needs {@link #memoryNode} and is incompatible with {@link #flushOffload}
     * (an offloaded flush reads its shards from DM).
     */
    public Options memtableOffload(boolean v) {
        this.memtableOffload = v;
        return this;
    }

    public boolean memtableOffload() {
        return memtableOffload;
    }

    /**
     * The operator that combines values with operands written by {@link DB#merge} (default none:
     * {@code merge} is refused). Shared, not copied, by {@link #copy()}. Its
     * {@link MergeOperator#name()} travels with offloaded flush and compaction jobs; see
     * {@link MergeOperator}.
     */
    public Options mergeOperator(MergeOperator op) {
        this.mergeOperator = op;
        return this;
    }

    public MergeOperator mergeOperator() {
        return mergeOperator;
    }

    /**
     * The filter compactions apply to the newest values no live snapshot can read (default none);
     * see {@link CompactionFilter} and {@code docs/compaction-filters.md}. Shared, not copied, by
     * {@link #copy()}. Its {@link CompactionFilter#name()} travels with offloaded jobs. With
     * {@link #ttl} it sees values without their stamp, and only those not yet expired.
     */
    public Options compactionFilter(CompactionFilter filter) {
        this.compactionFilter = filter;
        return this;
    }

    public CompactionFilter compactionFilter() {
        return compactionFilter;
    }

    /**
     * Whether flushes apply {@link #compactionFilter} (and the TTL filter of {@link #ttl}) too
     * (default false: only compactions do, as in RocksDB).
     */
    public Options compactionFilterOnFlush(boolean v) {
        this.compactionFilterOnFlush = v;
        return this;
    }

    public boolean compactionFilterOnFlush() {
        return compactionFilterOnFlush;
    }

    /**
     * The wall clock, in milliseconds since the epoch, that stamps values under {@link #ttl}, decides
     * expiry on reads, and is handed to compaction filters as
     * {@link CompactionFilter.Context#nowMillis} (default {@link System#currentTimeMillis}). Tests
     * pass a fake clock. Called from any thread; it should not go backwards.
     */
    public Options clock(java.util.function.LongSupplier millis) {
        this.clock = millis;
        return this;
    }

    public java.util.function.LongSupplier clock() {
        return clock;
    }

    /**
     * Time to live of values (default null: off; {@link java.time.Duration#ZERO} also means off).
     * Each value is stamped with {@link #clock} when the DB writes it; reads treat a value whose
     * stamp plus {@code ttl} is before now as absent, and compactions remove such values (the
     * built-in filter {@link CompactionFilters#ttl}). A DB written with TTL must always be opened
     * with TTL, and one written without it without: the {@code TTL} file in the DB directory
     * records it, and a mismatch fails the open. The duration itself may change between opens.
     * Cannot be combined with {@link #mergeOperator}. See {@code docs/compaction-filters.md}.
     * Per DB for now; it will move to per-column-family options.
     */
    public Options ttl(java.time.Duration ttl) {
        this.ttl = ttl;
        return this;
    }

    /**
     * Whether {@link DB#open(java.nio.file.Path, Options, java.util.List)} creates the column
     * families its descriptors name that an existing DB lacks (default false: it refuses to open).
     * A new DB always gets every family named.
     */
    public Options createMissingColumnFamilies(boolean v) {
        this.createMissingColumnFamilies = v;
        return this;
    }

    public boolean createMissingColumnFamilies() {
        return createMissingColumnFamilies;
    }

    /** The TTL, or null when off (a zero duration reads back as null). */
    public java.time.Duration ttl() {
        return ttl == null || ttl.isZero() ? null : ttl;
    }

    /**
     * Whether a write without {@code sync} leaves its WAL records in the WAL's buffer instead of
     * handing them to the file system at once. Default {@code false}: every acknowledged write
     * reaches the file system (on a local disk the OS, which survives a process kill; on HDFS an
     * {@code hflush} to the DataNodes, ~0.1–2 ms each). {@code true} (RocksDB's
     * {@code manual_wal_flush}): records reach the file system when the buffer fills, at
     * {@link io.o3lsm.DB#flushWal}, at a write with {@code sync}, before a flush installs its tables,
     * and when the WAL is rolled or the DB closed; a process crash, or a WAL write that fails, loses
     * the writes acknowledged since then (what survives is always a prefix of the acknowledged
     * writes). Incompatible with
     * memtable offloading ({@link #memtableOffload}, the default in DM mode): rebuilding a lost
     * shard reads its records back from the WAL.
     */
    /**
     * Whether to keep the per-operation statistics: keys and bytes read, bloom filter checks, and the
     * get, multiGet, put and write latency histograms (each timed call reads {@code System.nanoTime}
     * twice). Default true: their cost is measured in {@code docs/operations/metrics.md}. The counters
     * of background events and write groups (flushes, compactions, stalls, bytes and keys written,
     * block cache hits and misses, DM offloads) are kept either way. {@code DBStats.statisticsEnabled}
     * and {@code o3.stats} say which.
     */
    public Options statistics(boolean v) {
        this.statistics = v;
        return this;
    }

    public boolean statistics() {
        return statistics;
    }

    /**
     * Whether the DB registers an MBean with the platform MBean server while it is open: object name
     * {@code io.o3lsm:type=DB,name="<the directory>"} (a quoted value; a second open DB of the same
     * name in one JVM, such as a read-only open beside the read-write one, gets {@code ,instance=N} appended),
     * attributes for every ticker, histogram percentile and the main properties; unregistered at
     * close. Default true. A failed registration (no {@code java.management} module, a security
     * manager refusing it) is logged and the DB opens anyway. See {@code docs/operations/metrics.md}.
     */
    public Options jmx(boolean v) {
        this.jmx = v;
        return this;
    }

    public boolean jmx() {
        return jmx;
    }

    /**
     * The listeners told about flushes, compactions, stalls, background errors and (DM mode) memory
     * node loss, replacing any set before; called on one listener thread per DB, off the write path
     * ({@link EventListener}, {@code docs/operations/listeners.md}). Default none (and no thread).
     */
    public Options listeners(List<EventListener> listeners) {
        if (listeners == null) {
            throw new IllegalArgumentException("listeners must not be null (use List.of() for none)");
        }
        for (EventListener l : listeners) {
            if (l == null) {
                throw new IllegalArgumentException("listeners must not contain null");
            }
        }
        this.listeners = List.copyOf(listeners);
        return this;
    }

    /** Adds one listener after those already set ({@link #listeners(List)}). */
    public Options addListener(EventListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        List<EventListener> all = new ArrayList<>(listeners);
        all.add(listener);
        this.listeners = List.copyOf(all);
        return this;
    }

    public List<EventListener> listeners() {
        return listeners;
    }

    /**
     * Events waiting for the listener thread; when full, new events are dropped and counted
     * ({@code DBStats.LISTENER_EVENTS_DROPPED}), so a slow listener never slows the engine. Default 1024.
     */
    public Options listenerQueueCapacity(int events) {
        this.listenerQueueCapacity = events;
        return this;
    }

    public int listenerQueueCapacity() {
        return listenerQueueCapacity;
    }

    /**
     * The limiter the table writes of flushes and compactions run in this process go through
     * ({@link RateLimiter}, {@code docs/operations/rate-limiter.md}); null (the default) = unlimited.
     * Not applied to the WAL, the MANIFEST, reads, a custom {@link #compactionExecutor}, or jobs run by
     * flush workers and compactors (those processes have their own options). May be shared by DBs.
     */
    public Options rateLimiter(RateLimiter limiter) {
        this.rateLimiter = limiter;
        return this;
    }

    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    public Options manualWalFlush(boolean v) {
        this.manualWalFlush = v;
        return this;
    }

    public boolean manualWalFlush() {
        return manualWalFlush;
    }

    public int maxBackgroundCompactions() {
        return maxBackgroundCompactions;
    }

    public int level0CompactionTrigger() {
        return level0CompactionTrigger;
    }

    public int level0SlowdownTrigger() {
        return level0SlowdownTrigger;
    }

    public int level0StopTrigger() {
        return level0StopTrigger;
    }

    public long maxBytesForLevelBase() {
        return maxBytesForLevelBase;
    }

    public int levelSizeMultiplier() {
        return levelSizeMultiplier;
    }

    public long blockCacheSize() {
        return blockCacheSize;
    }

    public int maxOpenFiles() {
        return maxOpenFiles;
    }

    public boolean createIfMissing() {
        return createIfMissing;
    }

    public boolean errorIfExists() {
        return errorIfExists;
    }

    public long writeBufferSize() {
        return writeBufferSize;
    }

    /** The effective number of shards. */
    public int shardCount() {
        return shardBoundaries != null ? shardBoundaries.size() + 1 : shardCount;
    }

    /** The effective shard boundaries (start keys of shards 1..n-1), derived when not set. */
    public List<byte[]> shardBoundaries() {
        if (shardBoundaries != null) {
            return Collections.unmodifiableList(shardBoundaries);
        }
        List<byte[]> out = new ArrayList<>();
        for (int i = 1; i < shardCount; i++) {
            int v = (int) ((i * 65536L) / shardCount);
            out.add(new byte[] {(byte) (v >>> 8), (byte) v});
        }
        return out;
    }

    /** The effective arena size. */
    public int shardArenaSize() {
        if (shardArenaSize > 0) {
            return shardArenaSize;
        }
        long base = memoryNodeAddress != null ? localMemoryBudget() : writeBufferSize;
        long derived = base / (4L * shardCount());
        derived = Math.max(MIN_SHARD_ARENA_SIZE, Math.min(64L << 20, derived));
        return (int) derived;
    }

    public long targetFileSize() {
        return targetFileSize;
    }

    public int blockSize() {
        return blockSize;
    }

    public int blockRestartInterval() {
        return blockRestartInterval;
    }

    public Compression compression() {
        return compression;
    }

    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public int maxBackgroundFlushes() {
        return maxBackgroundFlushes;
    }

    public FileSystem fileSystem() {
        return fileSystem;
    }

    /**
     * Checks every setting; called by {@link DB#open}.
     *
     * @throws IllegalArgumentException naming the first bad setting
     */
    public Options validate() {
        if (listenerQueueCapacity < 1) {
            throw new IllegalArgumentException("listenerQueueCapacity must be at least 1, was " + listenerQueueCapacity);
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null");
        }
        if (ttl != null && (ttl.isNegative() || (!ttl.isZero() && ttl.toMillis() < 1))) {
            throw new IllegalArgumentException("ttl must be zero (off) or at least 1 ms, was " + ttl);
        }
        if (ttl() != null && mergeOperator != null) {
            throw new IllegalArgumentException("ttl cannot be combined with mergeOperator (" + mergeOperator.name()
                    + "): merge operands are not stamped; open without one of them");
        }
        if (compactionFilter != null) {
            String n;
            try {
                n = compactionFilter.name();
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException("compactionFilter.name() threw " + ex, ex);
            }
            MergeOperators.checkName(n, "compactionFilter");
            if (n.startsWith(CompactionFilters.TTL + ":")) {
                throw new IllegalArgumentException("compactionFilter \"" + n + "\": names starting with "
                        + CompactionFilters.TTL + ": are the built-in TTL filter's; use Options.ttl");
            }
        }
        if (mergeOperator != null) {
            String n;
            try {
                n = mergeOperator.name();
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException("mergeOperator.name() threw " + ex, ex);
            }
            MergeOperators.checkName(n, "mergeOperator");
        }
        if (shardBoundaries == null && (shardCount < 1 || shardCount > 256)) {
            throw new IllegalArgumentException("shardCount must be in [1, 256], was " + shardCount);
        }
        if (shardBoundaries != null) {
            if (shardBoundaries.size() > 255) {
                throw new IllegalArgumentException("at most 255 shardBoundaries, got " + shardBoundaries.size());
            }
            byte[] prev = null;
            for (int i = 0; i < shardBoundaries.size(); i++) {
                byte[] b = shardBoundaries.get(i);
                if (b == null || b.length == 0) {
                    throw new IllegalArgumentException("shardBoundaries[" + i + "] is null or empty");
                }
                Limits.checkKeyLength(b.length, "shardBoundaries[" + i + "]");
                if (prev != null && Bytes.compare(prev, b) >= 0) {
                    throw new IllegalArgumentException("shardBoundaries must be strictly increasing; entry "
                            + i + " is not greater than entry " + (i - 1));
                }
                prev = b;
            }
        }
        if (shardArenaSize != 0 && (shardArenaSize < MIN_SHARD_ARENA_SIZE || shardArenaSize > MAX_SHARD_ARENA_SIZE)) {
            throw new IllegalArgumentException("shardArenaSize must be in [" + MIN_SHARD_ARENA_SIZE + ", "
                    + MAX_SHARD_ARENA_SIZE + "], was " + shardArenaSize);
        }
        if (writeBufferSize < 2L * shardArenaSize()) {
            throw new IllegalArgumentException("writeBufferSize (" + writeBufferSize
                    + ") must hold at least two shard arenas of " + shardArenaSize() + " bytes");
        }
        if (writeBufferSize < (long) shardCount() * shardArenaSize()) {
            throw new IllegalArgumentException("writeBufferSize (" + writeBufferSize + ") must hold one arena ("
                    + shardArenaSize() + " bytes) per shard (" + shardCount() + ")");
        }
        if (targetFileSize < 64 * 1024) {
            throw new IllegalArgumentException("targetFileSize must be at least 64 KiB, was " + targetFileSize);
        }
        if (blockSize < 256 || blockSize > (4 << 20)) {
            throw new IllegalArgumentException("blockSize must be in [256, 4 MiB], was " + blockSize);
        }
        if (blockRestartInterval < 1 || blockRestartInterval > 1024) {
            throw new IllegalArgumentException("blockRestartInterval must be in [1, 1024], was " + blockRestartInterval);
        }
        if (compression == null) {
            throw new IllegalArgumentException("compression must not be null");
        }
        if (bloomBitsPerKey < 0 || bloomBitsPerKey > 64) {
            throw new IllegalArgumentException("bloomBitsPerKey must be in [0, 64], was " + bloomBitsPerKey);
        }
        if (maxBackgroundFlushes < 1 || maxBackgroundFlushes > 64) {
            throw new IllegalArgumentException("maxBackgroundFlushes must be in [1, 64], was " + maxBackgroundFlushes);
        }
        if (fileSystem == null) {
            throw new IllegalArgumentException("fileSystem must not be null");
        }
        if (maxBackgroundCompactions < 1 || maxBackgroundCompactions > 64) {
            throw new IllegalArgumentException("maxBackgroundCompactions must be in [1, 64], was " + maxBackgroundCompactions);
        }
        if (level0CompactionTrigger < 1) {
            throw new IllegalArgumentException("level0CompactionTrigger must be at least 1, was " + level0CompactionTrigger);
        }
        if (level0SlowdownTrigger < level0CompactionTrigger) {
            throw new IllegalArgumentException("level0SlowdownTrigger (" + level0SlowdownTrigger
                    + ") must be >= level0CompactionTrigger (" + level0CompactionTrigger + ")");
        }
        if (level0StopTrigger < level0SlowdownTrigger) {
            throw new IllegalArgumentException("level0StopTrigger (" + level0StopTrigger
                    + ") must be >= level0SlowdownTrigger (" + level0SlowdownTrigger + ")");
        }
        if (maxBytesForLevelBase < (1 << 20)) {
            throw new IllegalArgumentException("maxBytesForLevelBase must be at least 1 MiB, was " + maxBytesForLevelBase);
        }
        if (levelSizeMultiplier < 2 || levelSizeMultiplier > 100) {
            throw new IllegalArgumentException("levelSizeMultiplier must be in [2, 100], was " + levelSizeMultiplier);
        }
        if (blockCacheSize < 0) {
            throw new IllegalArgumentException("blockCacheSize must be >= 0, was " + blockCacheSize);
        }
        if (memoryNodeAddress != null) {
            int colon = memoryNodeAddress.lastIndexOf(':');
            if (colon <= 0 || colon == memoryNodeAddress.length() - 1) {
                throw new IllegalArgumentException("memoryNode address must be host:port, was " + memoryNodeAddress);
            }
            try {
                int port = Integer.parseInt(memoryNodeAddress.substring(colon + 1));
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("memoryNode port must be 1..65535 in " + memoryNodeAddress);
            }
            if (memoryNodeSecretFile == null) {
                throw new IllegalArgumentException("memoryNode needs a secret file");
            }
            if (localMemoryBudget() < (long) (shardCount() + 1) * shardArenaSize()) {
                throw new IllegalArgumentException("localMemoryBudget (" + localMemoryBudget() + ") must hold one arena ("
                        + shardArenaSize() + " bytes) per shard (" + shardCount() + ") plus one");
            }
            if (dmReadFlushTrigger < 0) {
                throw new IllegalArgumentException("dmReadFlushTrigger must be >= 0, was " + dmReadFlushTrigger);
            }
            if (dmReadCacheBytes < 0) {
                throw new IllegalArgumentException("dmReadCacheBytes must be >= 0, was " + dmReadCacheBytes);
            }
            if (dmBudget < 0) {
                throw new IllegalArgumentException("dmBudget must be >= 0, was " + dmBudget);
            }
            if (offloadInflightLimit < 1 || offloadInflightLimit > 1024) {
                throw new IllegalArgumentException("offloadInflightLimit must be in [1, 1024], was " + offloadInflightLimit);
            }
            if (dmRequestTimeout == null || dmRequestTimeout.isNegative() || dmRequestTimeout.isZero()) {
                throw new IllegalArgumentException("dmRequestTimeout must be positive, was " + dmRequestTimeout);
            }
        }
        if (flushOffload && memoryNodeAddress == null) {
            throw new IllegalArgumentException("flushOffload needs memoryNode: flushes are offloaded through a memory "
                    + "node's coordinator (set memoryNode(address, secretFile) or leave flushOffload false)");
        }
        if (flushWorkerSlots < 0 || flushWorkerSlots > 1024) {
            throw new IllegalArgumentException("flushWorkerSlots must be in [0, 1024], was " + flushWorkerSlots);
        }
        if (flushWorkerSlots > 0 && memoryNodeAddress == null) {
            throw new IllegalArgumentException("flushWorkerSlots needs memoryNode: the worker takes jobs from a memory "
                    + "node's coordinator (set memoryNode(address, secretFile) or leave flushWorkerSlots 0)");
        }
        if (flushOffloadMinBytes < 0) {
            throw new IllegalArgumentException("flushOffloadMinBytes must be >= 0, was " + flushOffloadMinBytes);
        }
        if (flushOffloadPlacement == null) {
            throw new IllegalArgumentException("flushOffloadPlacement must not be null");
        }
        if (flushOffloadDeadline == null || flushOffloadDeadline.isNegative() || flushOffloadDeadline.isZero()
                || flushOffloadDeadline.compareTo(java.time.Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("flushOffloadDeadline must be positive and at most 24 hours, was "
                    + flushOffloadDeadline);
        }
        if (maxSubcompactions < 1 || maxSubcompactions > 64) {
            throw new IllegalArgumentException("maxSubcompactions must be in [1, 64], was " + maxSubcompactions);
        }
        if (compactionOffload && memoryNodeAddress == null) {
            throw new IllegalArgumentException("compactionOffload needs memoryNode: compactions are offloaded through a "
                    + "memory node's coordinator (set memoryNode(address, secretFile) or leave compactionOffload false)");
        }
        if (compactionOffloadDeadline == null || compactionOffloadDeadline.isNegative()
                || compactionOffloadDeadline.isZero()
                || compactionOffloadDeadline.compareTo(java.time.Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("compactionOffloadDeadline must be positive and at most 24 hours, was "
                    + compactionOffloadDeadline);
        }
        if (!memtableOffload && memoryNodeAddress == null) {
            throw new IllegalArgumentException("memtableOffload(false) needs memoryNode: it keeps the connection to a "
                    + "memory node for its coordinator only (without memoryNode nothing is offloaded anyway)");
        }
        if (manualWalFlush && memoryNodeAddress != null && memtableOffload) {
            throw new IllegalArgumentException("manualWalFlush is incompatible with memtable offloading: a shard lost "
                    + "with the memory node is rebuilt from the WAL, which must hold every acknowledged write (set "
                    + "memtableOffload(false) or manualWalFlush(false))");
        }
        if (!memtableOffload && flushOffload) {
            throw new IllegalArgumentException("flushOffload needs memtableOffload: an offloaded flush reads its shards "
                    + "from the memory node (set memtableOffload(true) or flushOffload(false))");
        }
        if (maxOpenFiles < 16) {
            throw new IllegalArgumentException("maxOpenFiles must be at least 16, was " + maxOpenFiles);
        }
        if (replicationListen != null && replicaOf != null) {
            throw new IllegalArgumentException("replicationListen and replicaOf are exclusive: a DB is a primary or a "
                    + "backup (a promoted backup is opened as a primary)");
        }
        if ((replicationListen != null || replicaOf != null) && replicationSecretFile == null) {
            throw new IllegalArgumentException("replication needs the cluster secret file (replicationListen or "
                    + "replicaOf with a non-null secretFile)");
        }
        String addr = replicationListen != null ? replicationListen : replicaOf;
        if (addr != null) {
            int colon = addr.lastIndexOf(':');
            boolean ok = colon > 0 && colon < addr.length() - 1;
            if (ok) {
                try {
                    int port = Integer.parseInt(addr.substring(colon + 1));
                    ok = port >= 0 && port <= 65535 && (port > 0 || replicationListen != null);
                } catch (NumberFormatException ex) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new IllegalArgumentException((replicationListen != null ? "replicationListen" : "replicaOf")
                        + " must be host:port" + (replicationListen != null ? " (port 0: any free port)" : "")
                        + ", was \"" + addr + "\"");
            }
        }
        if (replicationAckTimeout == null || replicationAckTimeout.isNegative() || replicationAckTimeout.isZero()
                || replicationAckTimeout.compareTo(java.time.Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("replicationAckTimeout must be positive and at most 1 hour, was "
                    + replicationAckTimeout);
        }
        if (replicaRebuildsTables && replicaOf == null) {
            throw new IllegalArgumentException("replicaRebuildsTables needs replicaOf (it is a backup's setting)");
        }
        if (replicaLogBuffer < (1L << 20) || replicaLogBuffer > (4L << 30)) {
            throw new IllegalArgumentException("replicaLogBuffer must be in [1 MiB, 4 GiB], was " + replicaLogBuffer);
        }
        return this;
    }

    @Override
    public String toString() {
        return "Options{createIfMissing=" + createIfMissing + ", errorIfExists=" + errorIfExists
                + ", writeBufferSize=" + writeBufferSize + ", shardCount=" + shardCount()
                + ", shardArenaSize=" + shardArenaSize() + ", targetFileSize=" + targetFileSize
                + ", blockSize=" + blockSize + ", blockRestartInterval=" + blockRestartInterval
                + ", compression=" + compression + ", bloomBitsPerKey=" + bloomBitsPerKey
                + ", maxBackgroundFlushes=" + maxBackgroundFlushes + ", maxBackgroundCompactions="
                + maxBackgroundCompactions + ", level0Triggers=" + level0CompactionTrigger + "/"
                + level0SlowdownTrigger + "/" + level0StopTrigger + ", maxBytesForLevelBase=" + maxBytesForLevelBase
                + ", levelSizeMultiplier=" + levelSizeMultiplier + ", blockCacheSize=" + blockCacheSize
                + ", maxOpenFiles=" + maxOpenFiles
                + (memoryNodeAddress == null ? "" : ", memoryNode=" + memoryNodeAddress + ", localMemoryBudget="
                        + localMemoryBudget() + ", dmBudget=" + dmBudget + ", offloadInflightLimit=" + offloadInflightLimit)
                + (flushOffload ? ", flushOffload=true, flushOffloadMinBytes=" + flushOffloadMinBytes
                        + ", flushOffloadPlacement=" + flushOffloadPlacement + ", flushOffloadDeadline="
                        + flushOffloadDeadline : "")
                + (flushWorkerSlots > 0 ? ", flushWorkerSlots=" + flushWorkerSlots + ", flushWorkerStorage="
                        + flushWorkerStorage : "")
                + (memoryNodeAddress != null && !memtableOffload ? ", memtableOffload=false" : "")
                + (maxSubcompactions > 1 ? ", maxSubcompactions=" + maxSubcompactions : "")
                + (compactionOffload ? ", compactionOffload=true, compactionOffloadDeadline="
                        + compactionOffloadDeadline : "")
                + (manualWalFlush ? ", manualWalFlush=true" : "")
                + (statistics ? "" : ", statistics=false") + (jmx ? "" : ", jmx=false")
                + (replicationListen != null ? ", replicationListen=" + replicationListen : "")
                + (replicationListen != null && !replicationShipTables ? ", replicationShipTables=false" : "")
                + (replicaOf != null ? ", replicaOf=" + replicaOf + ", replicaLogBuffer=" + replicaLogBuffer
                        + (replicaRebuildsTables ? ", replicaRebuildsTables=true" : "") : "")
                + '}';
    }
}
