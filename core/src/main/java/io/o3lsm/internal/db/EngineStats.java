package io.o3lsm.internal.db;

import io.o3lsm.DBStats;
import io.o3lsm.HistogramSnapshot;
import io.o3lsm.internal.util.Histogram;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters. Each is written by the owner of its event (the write leader, flush and
 * compaction threads, readers, offload completions) and summed by {@link DbProperties}; lock-free.
 *
 * <p>Two kinds (docs/operations/metrics.md): counters of background events and of write groups
 * (flushes, compactions, stalls, bytes and keys written, DM offloads) are always kept — they cost
 * nothing per operation and the engine's own properties report them; the per-operation ones (keys and
 * bytes read, bloom checks, the latency histograms) only when {@link #enabled}
 * ({@code Options.statistics}, on by default). All count from the DB's open: they live and die with
 * this object, are never reset while it is open, and start from zero at the next open (as RocksDB's
 * {@code Statistics} do).
 */
final class EngineStats {
    /** {@code Options.statistics}: record the per-operation tickers and the histograms. */
    final boolean enabled;
    /** Wall-clock time of the open these counters count from. */
    final long openedAtMillis = System.currentTimeMillis();

    EngineStats(boolean enabled) {
        this.enabled = enabled;
    }

    /** Operations (puts, deletes, merges, range deletions) in write groups applied. Always kept. */
    final LongAdder keysWritten = new LongAdder();
    /** Writes that stalled (waited for memtable memory or L0 to drain), each counted once per wait. */
    final LongAdder stalls = new LongAdder();
    /** Per operation (enabled only): keys looked up by get and multiGet, those found, value bytes returned. */
    final LongAdder keysRead = new LongAdder();
    final LongAdder keysFound = new LongAdder();
    final LongAdder bytesRead = new LongAdder();
    /** Per operation (enabled only): SST bloom filters consulted by point lookups, and those that ruled the table out. */
    final LongAdder bloomChecked = new LongAdder();
    final LongAdder bloomUseful = new LongAdder();
    /** Latencies of API calls (enabled only), in nanoseconds; reported in microseconds. */
    final Histogram getNanos = new Histogram(DBStats.GET_MICROS);
    final Histogram multiGetNanos = new Histogram(DBStats.MULTIGET_MICROS);
    final Histogram writeNanos = new Histogram(DBStats.WRITE_MICROS);
    final Histogram putNanos = new Histogram(DBStats.PUT_MICROS);
    /** Durations of installed flushes (pick to install) and compactions; always kept (one value per job). */
    final Histogram flushNanos = new Histogram(DBStats.FLUSH_MICROS);
    final Histogram compactionNanos = new Histogram(DBStats.COMPACTION_MICROS);
    final LongAdder flushes = new LongAdder();
    /** A replica: bytes of tables received from its primary, and of log records applied. */
    final LongAdder replicaTableBytes = new LongAdder();
    final LongAdder replicaLogBytes = new LongAdder();
    /** A replica: memtable shards replaced by a copy without the entries its tables hold (ReplicaApplier). */
    final LongAdder replicaShardCopies = new LongAdder();
    final LongAdder flushBytes = new LongAdder();
    final LongAdder stallNanos = new LongAdder();
    final LongAdder userBytes = new LongAdder();
    final LongAdder walBytes = new LongAdder();
    final LongAdder compactions = new LongAdder();
    final LongAdder compactionBytesRead = new LongAdder();
    final LongAdder compactionBytesWritten = new LongAdder();
    final LongAdder offloads = new LongAdder();
    final LongAdder offloadBytes = new LongAdder();
    final LongAdder delegatedGets = new LongAdder();
    final LongAdder delegatedScans = new LongAdder();
    /** Delegated scan batches that were asked for ahead (while the caller consumed the one before) and used. */
    final LongAdder scanBatchesAhead = new LongAdder();
    /** MULTI_GET requests of multiGet calls (several keys' delegated gets in one). */
    final LongAdder multiGets = new LongAdder();
    /** One-sided reads a multiGet posted together (also counted in cachedReads). */
    final LongAdder batchedReads = new LongAdder();
    /** Delegated gets answered from a multiGet's MULTI_GET instead of one request each. */
    final LongAdder batchedGets = new LongAdder();
    /** Gets answered by a one-sided read of an entry whose location the read cache held. */
    final LongAdder cachedGets = new LongAdder();
    /** Gets and multiGet keys whose value combined merge operands. */
    final LongAdder mergeGets = new LongAdder();
    /** Filtered flush or compaction results not installed: a snapshot appeared that could see what the filter did. */
    final LongAdder filteredInstallsRefused = new LongAdder();
    /** Of those, the ones resolved by an iterator over the key's sources (an operand on the memory node; multiGet). */
    final LongAdder mergeIteratorGets = new LongAdder();
    /** One-sided reads of entries (a fingerprint collision costs one more than the get it serves). */
    final LongAdder cachedReads = new LongAdder();
    /** Cache lookups that had to delegate after all (entry newer than the snapshot, reads unavailable). */
    final LongAdder cachedFallbacks = new LongAdder();
    /** Lookups in a cached shard that delegated because delegation measured faster (RemoteReadChoice). */
    final LongAdder cachedDelegated = new LongAdder();
    final LongAdder droppedLocal = new LongAdder();
    /** Times the shard boundaries moved (adaptive boundaries). */
    final LongAdder layoutChanges = new LongAdder();
    final LongAdder rebuilt = new LongAdder();
    /** Flushes installed that ran here without an offload attempt failing (embedded mode counts every flush). */
    final LongAdder flushesLocal = new LongAdder();
    /** Flushes installed from a flush worker's result. */
    final LongAdder flushesOffloaded = new LongAdder();
    /** Flushes run here after an offload attempt failed or its result was refused. */
    final LongAdder flushesFallback = new LongAdder();
    /** Flush-worker results that failed validation (each also leads to a fallback). */
    final LongAdder offloadResultsRefused = new LongAdder();
    /** Compactions installed that ran here without an offload attempt failing (trivial moves included). */
    final LongAdder compactionsLocal = new LongAdder();
    /** Compactions installed whose every part came from a compactor. */
    final LongAdder compactionsOffloaded = new LongAdder();
    /** Compactions with a part run here after its offload failed or its result was refused. */
    final LongAdder compactionsFallback = new LongAdder();
    /** Compactor results that failed validation (each part refused ran here instead). */
    final LongAdder compactionResultsRefused = new LongAdder();
    /** Compactions split into sub-compactions, and the parts they ran. */
    final LongAdder splitCompactions = new LongAdder();
    final LongAdder subcompactions = new LongAdder();
    /** Listener events dropped: the listener queue was full (or close gave up on a slow listener). */
    final LongAdder listenerEventsDropped = new LongAdder();
    /** Bytes of compaction table writes that waited for the rate limiter, and the time waited. */
    final LongAdder rateLimitThrottledBytes = new LongAdder();
    final LongAdder rateLimitWaitNanos = new LongAdder();
    /** Output files of abandoned offload attempts deleted by the running orphan sweep. */
    final LongAdder orphanOutputsDeleted = new LongAdder();

    /** Every histogram, in the order {@link #histograms()} lists them. */
    Histogram[] allHistograms() {
        return new Histogram[] {getNanos, multiGetNanos, putNanos, writeNanos, flushNanos, compactionNanos};
    }

    /** A copy of every histogram by name, in microseconds. */
    Map<String, HistogramSnapshot> histograms() {
        Map<String, HistogramSnapshot> out = new LinkedHashMap<>();
        for (Histogram h : allHistograms()) {
            out.put(h.name(), h.snapshot(1000.0));
        }
        return out;
    }

    /** A copy of every ticker by name ({@link DBStats}' constants), the block cache's from {@code e}. */
    Map<String, Long> tickers(Engine e) {
        Map<String, Long> t = new LinkedHashMap<>();
        t.put(DBStats.BYTES_WRITTEN, userBytes.sum());
        t.put(DBStats.WAL_BYTES, walBytes.sum());
        t.put(DBStats.KEYS_WRITTEN, keysWritten.sum());
        t.put(DBStats.KEYS_READ, keysRead.sum());
        t.put(DBStats.KEYS_FOUND, keysFound.sum());
        t.put(DBStats.BYTES_READ, bytesRead.sum());
        t.put(DBStats.FLUSH_COUNT, flushes.sum());
        t.put(DBStats.FLUSH_BYTES, flushBytes.sum());
        t.put(DBStats.COMPACTION_COUNT, compactions.sum());
        t.put(DBStats.COMPACTION_READ_BYTES, compactionBytesRead.sum());
        t.put(DBStats.COMPACTION_WRITE_BYTES, compactionBytesWritten.sum());
        t.put(DBStats.STALL_COUNT, stalls.sum());
        t.put(DBStats.STALL_MICROS, stallNanos.sum() / 1000);
        io.o3lsm.format.table.BlockCache c = e.blockCache;
        t.put(DBStats.BLOCK_CACHE_HIT, c == null ? 0 : c.hits());
        t.put(DBStats.BLOCK_CACHE_MISS, c == null ? 0 : c.misses());
        t.put(DBStats.BLOCK_CACHE_ADD, c == null ? 0 : c.inserts());
        t.put(DBStats.BLOCK_CACHE_EVICT, c == null ? 0 : c.evictions());
        t.put(DBStats.BLOOM_CHECKED, bloomChecked.sum());
        t.put(DBStats.BLOOM_USEFUL, bloomUseful.sum());
        t.put(DBStats.FLUSH_LOCAL, flushesLocal.sum());
        t.put(DBStats.FLUSH_OFFLOADED, flushesOffloaded.sum());
        t.put(DBStats.FLUSH_FALLBACK, flushesFallback.sum());
        t.put(DBStats.COMPACTION_LOCAL, compactionsLocal.sum());
        t.put(DBStats.COMPACTION_OFFLOADED, compactionsOffloaded.sum());
        t.put(DBStats.COMPACTION_FALLBACK, compactionsFallback.sum());
        t.put(DBStats.DM_OFFLOADS, offloads.sum());
        t.put(DBStats.DM_OFFLOAD_BYTES, offloadBytes.sum());
        t.put(DBStats.DM_DELEGATED_GETS, delegatedGets.sum());
        t.put(DBStats.DM_DELEGATED_SCANS, delegatedScans.sum());
        t.put(DBStats.DM_CACHED_GETS, cachedGets.sum());
        t.put(DBStats.DM_REBUILT, rebuilt.sum());
        t.put(DBStats.MERGE_GETS, mergeGets.sum());
        t.put(DBStats.LISTENER_EVENTS_DROPPED, listenerEventsDropped.sum());
        t.put(DBStats.RATE_LIMIT_THROTTLED_BYTES, rateLimitThrottledBytes.sum());
        t.put(DBStats.RATE_LIMIT_DELAY_MICROS, rateLimitWaitNanos.sum() / 1000);
        return t;
    }
}
