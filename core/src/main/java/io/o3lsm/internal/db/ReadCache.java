package io.o3lsm.internal.db;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The compute node's cache of entry locations in offloaded shards ({@link EntryLocations}, one table
 * per shard), bounded by {@code Options.dmReadCacheBytes}. A shard's table is built when its offload
 * completes, before the local copy may be dropped; when the budget is full the oldest shards' tables
 * go first (the oldest shards are flushed first, too). A shard without a table is read through its
 * bloom filter and a delegated get. Tables of flushed or forgotten shards are released here at the
 * next admission. Guarded by this object's monitor; reads of {@link MemShard#locations} take no lock.
 */
final class ReadCache {
    private record Held(MemShard shard, EntryLocations table) {
    }

    private final long budget;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private long used;
    private long evicted;

    ReadCache(long budget) {
        this.budget = budget;
    }

    boolean enabled() {
        return budget > 0;
    }

    /** Builds and keeps the table of a shard whose offload completed (any thread, before its local copy is dropped). */
    void admit(MemShard m) {
        if (budget <= 0 || m.locations != null) {
            return;
        }
        io.o3lsm.format.memtable.ShardReader rd = m.reader;
        if (rd == null) {
            return;
        }
        EntryLocations t = EntryLocations.build(rd); // outside the monitor
        if (t.bytes() > budget) {
            return; // would empty the cache and still not fit
        }
        synchronized (this) {
            releaseDropped();
            while (used + t.bytes() > budget && !held.isEmpty()) {
                Held h = held.pollFirst();
                if (h.shard.locations == h.table) {
                    h.shard.locations = null;
                    evicted++;
                }
                used -= h.table.bytes();
            }
            if (used + t.bytes() > budget) {
                return;
            }
            used += t.bytes();
            held.addLast(new Held(m, t));
            m.locations = t;
        }
    }

    /**
     * Releases the table of a shard whose remote copy was retired or forgotten (its {@code locations}
     * is already null), so the table and the shard it keeps reachable go now, not at the next admission.
     */
    synchronized void release(MemShard m) {
        for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.shard == m) {
                it.remove();
                used -= h.table.bytes();
                if (m.locations == h.table) {
                    m.locations = null;
                }
            }
        }
    }

    private void releaseDropped() {
        for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.shard.locations != h.table) {
                it.remove();
                used -= h.table.bytes();
            }
        }
    }

    synchronized long usedBytes() {
        releaseDropped();
        return used;
    }

    synchronized int tables() {
        releaseDropped();
        return held.size();
    }

    synchronized long evicted() {
        return evicted;
    }
}
