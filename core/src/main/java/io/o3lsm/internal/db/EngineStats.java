package io.o3lsm.internal.db;

import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters. Each is written by the owner of its event (the write leader, flush and
 * compaction threads, readers, offload completions) and summed by {@link DbProperties}; lock-free.
 */
final class EngineStats {
    final LongAdder flushes = new LongAdder();
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
    final LongAdder droppedLocal = new LongAdder();
    final LongAdder rebuilt = new LongAdder();
}
