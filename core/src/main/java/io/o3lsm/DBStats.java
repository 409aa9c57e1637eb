package io.o3lsm;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A point-in-time copy of a DB's counters ({@link DB#stats()}); {@link DB#property} with
 * {@code "o3.stats"} renders the same numbers as text. Immutable.
 *
 * <p>Flushes by where they ran ({@code docs/design/flush-offload.md}): every installed flush is
 * exactly one of {@link #flushesLocal()} (ran in this process without an offload attempt failing —
 * in embedded mode, every flush), {@link #flushesOffloaded()} (a flush worker's result, validated
 * and installed) and {@link #flushesFallback()} (ran here after an offload failed or its result was
 * refused), so the three add up to {@link #flushes()}. {@link #offloadResultsRefused()} counts
 * worker results that failed the owner's checks (each is also a fallback). In {@code o3.stats}:
 * the line {@code flushes by place: local L, offloaded O, fallback F, refused results R}.
 *
 * <p>Compactions by where they ran ({@code docs/design/compaction-offload.md}), counted per
 * installed compaction (trivial moves included, as local): {@link #compactionsOffloaded()} when every
 * sub-compaction's result came from a compactor, {@link #compactionsFallback()} when at least one
 * ran here after its offload failed, was refused, or came back empty (an empty result is re-run
 * here, not trusted), {@link #compactionsLocal()} otherwise; the three add up to
 * {@link #compactions()}. {@link #compactionResultsRefused()} counts compactor results that failed
 * the owner's checks (not empty ones). In {@code o3.stats}: the line
 * {@code compactions by place: local L, offloaded O, fallback F, refused results R}.
 *
 * <h2>Tickers and histograms</h2>
 * Besides the getters above, every counter is a named <em>ticker</em> ({@link #ticker},
 * {@link #tickers()}; RocksDB's ticker names with the {@code o3.} prefix, the constants below) and
 * every latency or job duration a named <em>histogram</em> ({@link #histogram}, {@link #histograms()})
 * with count, sum and percentiles in microseconds. They count from the DB's open (as RocksDB's
 * {@code Statistics} do): reading never resets them, closing the DB ends them, the next open starts
 * from zero ({@link #openedAtMillis()} says when). With {@code Options.statistics(false)} the
 * per-operation ones ({@link #KEYS_READ}, {@link #KEYS_FOUND}, {@link #BYTES_READ},
 * {@link #BLOOM_CHECKED}, {@link #BLOOM_USEFUL} and the get/put/write histograms) stay zero and
 * {@link #statisticsEnabled()} is false; the rest cost nothing per operation and are always kept.
 * Every name and its meaning: {@code docs/operations/metrics.md}.
 */
public final class DBStats {
    // ---- ticker names (always kept unless marked "per operation")
    /** Bytes of write batches applied (keys, values and batch headers), with the WAL or without. */
    public static final String BYTES_WRITTEN = "o3.bytes.written";
    /** Bytes of write batches appended to the WAL (0 for writes with disableWal). */
    public static final String WAL_BYTES = "o3.wal.bytes";
    /** Operations applied: puts, deletes, merges and range deletions, counted per key. */
    public static final String KEYS_WRITTEN = "o3.number.keys.written";
    /** Per operation: keys looked up by get and multiGet. */
    public static final String KEYS_READ = "o3.number.keys.read";
    /** Per operation: of those, keys that had a value. */
    public static final String KEYS_FOUND = "o3.number.keys.found";
    /** Per operation: bytes of values returned by get and multiGet. */
    public static final String BYTES_READ = "o3.bytes.read";
    /** Flushes installed. */
    public static final String FLUSH_COUNT = "o3.flush.count";
    /** Bytes of SST files flushes installed. */
    public static final String FLUSH_BYTES = "o3.flush.write.bytes";
    /** Compactions installed (trivial moves included). */
    public static final String COMPACTION_COUNT = "o3.compaction.count";
    /** Bytes of input SSTs compactions read (trivial moves read nothing). */
    public static final String COMPACTION_READ_BYTES = "o3.compact.read.bytes";
    /** Bytes of SST files compactions wrote. */
    public static final String COMPACTION_WRITE_BYTES = "o3.compact.write.bytes";
    /** Write stalls: a write waited for memtable memory, or was delayed or stopped by L0's depth. */
    public static final String STALL_COUNT = "o3.stall.count";
    /** Time writes spent stalled, in microseconds. */
    public static final String STALL_MICROS = "o3.stall.micros";
    /** Data-block lookups the block cache answered. */
    public static final String BLOCK_CACHE_HIT = "o3.block.cache.hit";
    /** Data-block lookups it did not (each read the block from its file); 0 without a block cache. */
    public static final String BLOCK_CACHE_MISS = "o3.block.cache.miss";
    /** Blocks inserted into the block cache. */
    public static final String BLOCK_CACHE_ADD = "o3.block.cache.add";
    /** Blocks evicted from the block cache. */
    public static final String BLOCK_CACHE_EVICT = "o3.block.cache.evict";
    /** Per operation: SST bloom filters a point lookup consulted. */
    public static final String BLOOM_CHECKED = "o3.bloom.filter.checked";
    /** Per operation: of those, the ones that ruled the table out (a read saved). */
    public static final String BLOOM_USEFUL = "o3.bloom.filter.useful";
    /** Flushes by place ({@link #flushesLocal()}, {@link #flushesOffloaded()}, {@link #flushesFallback()}). */
    public static final String FLUSH_LOCAL = "o3.flush.local";
    public static final String FLUSH_OFFLOADED = "o3.flush.offloaded";
    public static final String FLUSH_FALLBACK = "o3.flush.fallback";
    /** Compactions by place (see the class comment). */
    public static final String COMPACTION_LOCAL = "o3.compaction.local";
    public static final String COMPACTION_OFFLOADED = "o3.compaction.offloaded";
    public static final String COMPACTION_FALLBACK = "o3.compaction.fallback";
    /** DM mode: sealed shards shipped to the memory node, and their bytes. */
    public static final String DM_OFFLOADS = "o3.dm.offloads";
    public static final String DM_OFFLOAD_BYTES = "o3.dm.offload.bytes";
    /** DM mode: gets the memory node answered (delegated reads), and delegated scan batches. */
    public static final String DM_DELEGATED_GETS = "o3.dm.delegated.gets";
    public static final String DM_DELEGATED_SCANS = "o3.dm.delegated.scans";
    /** DM mode: gets answered by a one-sided read at a cached entry location. */
    public static final String DM_CACHED_GETS = "o3.dm.cached.gets";
    /** DM mode: shards rebuilt from the WAL after a memory node was lost. */
    public static final String DM_REBUILT = "o3.dm.rebuilt";
    /** Gets whose value combined merge operands. */
    public static final String MERGE_GETS = "o3.merge.gets";
    /** Listener events dropped because the listener queue was full ({@link EventListener}). */
    public static final String LISTENER_EVENTS_DROPPED = "o3.listener.events.dropped";
    /** Bytes of this DB's compaction table writes that waited for the rate limiter ({@link RateLimiter}). */
    public static final String RATE_LIMIT_THROTTLED_BYTES = "o3.rate.limit.throttled.bytes";
    /** Time this DB's compactions slept waiting for the rate limiter. */
    public static final String RATE_LIMIT_DELAY_MICROS = "o3.rate.limit.delay.micros";

    // ---- histogram names (microseconds)
    /** Per operation: latency of {@code get}. */
    public static final String GET_MICROS = "o3.db.get.micros";
    /** Per operation: latency of {@code multiGet} (one value per call). */
    public static final String MULTIGET_MICROS = "o3.db.multiget.micros";
    /** Per operation: latency of {@code put} (also counted in {@link #WRITE_MICROS}). */
    public static final String PUT_MICROS = "o3.db.put.micros";
    /** Per operation: latency of every write call: put, delete, merge, deleteRange, write(batch). */
    public static final String WRITE_MICROS = "o3.db.write.micros";
    /** Duration of each installed flush, from picking its shards to installing its files. */
    public static final String FLUSH_MICROS = "o3.flush.micros";
    /** Duration of each installed compaction (trivial moves included). */
    public static final String COMPACTION_MICROS = "o3.compaction.times.micros";

    private final Map<String, Long> tickers;
    private final Map<String, HistogramSnapshot> histograms;
    private final boolean statisticsEnabled;
    private final long openedAtMillis;
    private final int[] filesPerLevel;
    private final long[] bytesPerLevel;
    private final long userBytesWritten;
    private final long walBytesWritten;
    private final long flushBytesWritten;
    private final long compactionBytesRead;
    private final long compactionBytesWritten;
    private final long flushes;
    private final long compactions;
    private final long stallMicros;
    private final long blockCacheHits;
    private final long blockCacheMisses;
    private final long memtableBytes;
    private final long flushesLocal;
    private final long flushesOffloaded;
    private final long flushesFallback;
    private final long offloadResultsRefused;
    private final long compactionsLocal;
    private final long compactionsOffloaded;
    private final long compactionsFallback;
    private final long compactionResultsRefused;

    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes) {
        this(filesPerLevel, bytesPerLevel, userBytesWritten, walBytesWritten, flushBytesWritten, compactionBytesRead,
                compactionBytesWritten, flushes, compactions, stallMicros, blockCacheHits, blockCacheMisses,
                memtableBytes, flushes, 0, 0, 0);
    }

    /** As above, with the flushes by place (see the class comment). */
    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes,
            long flushesLocal, long flushesOffloaded, long flushesFallback, long offloadResultsRefused) {
        this(filesPerLevel, bytesPerLevel, userBytesWritten, walBytesWritten, flushBytesWritten, compactionBytesRead,
                compactionBytesWritten, flushes, compactions, stallMicros, blockCacheHits, blockCacheMisses,
                memtableBytes, flushesLocal, flushesOffloaded, flushesFallback, offloadResultsRefused, compactions, 0, 0,
                0);
    }

    /** As above, with the compactions by place (see the class comment). */
    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes,
            long flushesLocal, long flushesOffloaded, long flushesFallback, long offloadResultsRefused,
            long compactionsLocal, long compactionsOffloaded, long compactionsFallback, long compactionResultsRefused) {
        this(filesPerLevel, bytesPerLevel, userBytesWritten, walBytesWritten, flushBytesWritten, compactionBytesRead,
                compactionBytesWritten, flushes, compactions, stallMicros, blockCacheHits, blockCacheMisses,
                memtableBytes, flushesLocal, flushesOffloaded, flushesFallback, offloadResultsRefused, compactionsLocal,
                compactionsOffloaded, compactionsFallback, compactionResultsRefused, Map.of(), Map.of(), false, 0);
    }

    /**
     * As above, with the named tickers and histograms (copied), whether the per-operation statistics
     * were kept, and the wall-clock time of the open they count from.
     */
    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes,
            long flushesLocal, long flushesOffloaded, long flushesFallback, long offloadResultsRefused,
            long compactionsLocal, long compactionsOffloaded, long compactionsFallback, long compactionResultsRefused,
            Map<String, Long> tickers, Map<String, HistogramSnapshot> histograms, boolean statisticsEnabled,
            long openedAtMillis) {
        this.tickers = Collections.unmodifiableMap(new LinkedHashMap<>(tickers));
        this.histograms = Collections.unmodifiableMap(new LinkedHashMap<>(histograms));
        this.statisticsEnabled = statisticsEnabled;
        this.openedAtMillis = openedAtMillis;
        this.compactionsLocal = compactionsLocal;
        this.compactionsOffloaded = compactionsOffloaded;
        this.compactionsFallback = compactionsFallback;
        this.compactionResultsRefused = compactionResultsRefused;
        this.flushesLocal = flushesLocal;
        this.flushesOffloaded = flushesOffloaded;
        this.flushesFallback = flushesFallback;
        this.offloadResultsRefused = offloadResultsRefused;
        this.filesPerLevel = filesPerLevel.clone();
        this.bytesPerLevel = bytesPerLevel.clone();
        this.userBytesWritten = userBytesWritten;
        this.walBytesWritten = walBytesWritten;
        this.flushBytesWritten = flushBytesWritten;
        this.compactionBytesRead = compactionBytesRead;
        this.compactionBytesWritten = compactionBytesWritten;
        this.flushes = flushes;
        this.compactions = compactions;
        this.stallMicros = stallMicros;
        this.blockCacheHits = blockCacheHits;
        this.blockCacheMisses = blockCacheMisses;
        this.memtableBytes = memtableBytes;
    }

    /**
     * The ticker {@code name} (one of the constants above), counted since the open.
     *
     * @throws IllegalArgumentException for a name this DB does not count, listing those it does
     */
    public long ticker(String name) {
        Long v = tickers.get(name);
        if (v == null) {
            throw new IllegalArgumentException("unknown ticker " + name + "; known: " + tickers.keySet());
        }
        return v;
    }

    /** Every ticker by name, in a stable order. Unmodifiable. */
    public Map<String, Long> tickers() {
        return tickers;
    }

    /**
     * The histogram {@code name} (one of the {@code *_MICROS} constants), in microseconds.
     *
     * @throws IllegalArgumentException for a name this DB does not keep, listing those it does
     */
    public HistogramSnapshot histogram(String name) {
        HistogramSnapshot h = histograms.get(name);
        if (h == null) {
            throw new IllegalArgumentException("unknown histogram " + name + "; known: " + histograms.keySet());
        }
        return h;
    }

    /** Every histogram by name, in a stable order. Unmodifiable. */
    public Map<String, HistogramSnapshot> histograms() {
        return histograms;
    }

    /** False when the DB was opened with {@code Options.statistics(false)}: the per-operation tickers and histograms stay zero. */
    public boolean statisticsEnabled() {
        return statisticsEnabled;
    }

    /** Wall-clock time (ms since the epoch) of the open the counters count from. */
    public long openedAtMillis() {
        return openedAtMillis;
    }

    public int levels() {
        return filesPerLevel.length;
    }

    public int filesAtLevel(int level) {
        return filesPerLevel[level];
    }

    public long bytesAtLevel(int level) {
        return bytesPerLevel[level];
    }

    /** Key and value bytes accepted by put/delete/write (with WAL or not). */
    public long userBytesWritten() {
        return userBytesWritten;
    }

    public long walBytesWritten() {
        return walBytesWritten;
    }

    public long flushBytesWritten() {
        return flushBytesWritten;
    }

    public long compactionBytesRead() {
        return compactionBytesRead;
    }

    public long compactionBytesWritten() {
        return compactionBytesWritten;
    }

    public long flushes() {
        return flushes;
    }

    /** Flushes that ran in this process without an offload attempt failing (embedded mode: every flush). */
    public long flushesLocal() {
        return flushesLocal;
    }

    /** Flushes a flush worker ran whose result was validated and installed. */
    public long flushesOffloaded() {
        return flushesOffloaded;
    }

    /** Flushes that ran in this process after an offload attempt failed or its result was refused. */
    public long flushesFallback() {
        return flushesFallback;
    }

    /** Flush-worker results refused by the owner's checks (size, CRC32C, numbers, keys, ...); each led to a fallback. */
    public long offloadResultsRefused() {
        return offloadResultsRefused;
    }

    public long compactions() {
        return compactions;
    }

    /** Compactions that ran in this process without an offload attempt failing (trivial moves included). */
    public long compactionsLocal() {
        return compactionsLocal;
    }

    /** Compactions whose every part a compactor ran, validated and installed. */
    public long compactionsOffloaded() {
        return compactionsOffloaded;
    }

    /** Compactions of which some part ran in this process after its offload failed or its result was refused. */
    public long compactionsFallback() {
        return compactionsFallback;
    }

    /** Compactor results refused by the owner's checks; each part refused ran here instead. */
    public long compactionResultsRefused() {
        return compactionResultsRefused;
    }

    /** Time writers spent waiting for memory or for L0 to drain, in microseconds. */
    public long stallMicros() {
        return stallMicros;
    }

    public long blockCacheHits() {
        return blockCacheHits;
    }

    public long blockCacheMisses() {
        return blockCacheMisses;
    }

    /** Hits / (hits + misses), or 0 before any lookup. */
    public double blockCacheHitRatio() {
        long total = blockCacheHits + blockCacheMisses;
        return total == 0 ? 0 : (double) blockCacheHits / total;
    }

    /** Bytes of memtable arenas in use. */
    public long memtableBytes() {
        return memtableBytes;
    }

    /**
     * (WAL + flush + compaction bytes written) / user bytes written; 0 before any write. The usual
     * LSM measure: how many bytes reach the disk per byte the application wrote.
     */
    public double writeAmplification() {
        if (userBytesWritten == 0) {
            return 0;
        }
        return (double) (walBytesWritten + flushBytesWritten + compactionBytesWritten) / userBytesWritten;
    }

    @Override
    public String toString() {
        return "DBStats{files=" + Arrays.toString(filesPerLevel) + ", bytes=" + Arrays.toString(bytesPerLevel)
                + ", writeAmp=" + String.format("%.2f", writeAmplification()) + ", stallMicros=" + stallMicros
                + ", cacheHitRatio=" + String.format("%.3f", blockCacheHitRatio()) + '}';
    }
}
