package io.o3lsm.internal.db;

import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters. Each is written by the owner of its event (the write leader, flush and
 * compaction threads, readers, offload completions) and summed by {@link DbProperties}; lock-free.
 */
final class EngineStats {
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
    /** Output files of abandoned offload attempts deleted by the running orphan sweep. */
    final LongAdder orphanOutputsDeleted = new LongAdder();
}
