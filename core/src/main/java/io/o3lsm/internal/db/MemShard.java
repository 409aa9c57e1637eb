package io.o3lsm.internal.db;

import io.o3lsm.internal.format.RangeTombstone;
import io.o3lsm.internal.memtable.MemtableShard;
import io.o3lsm.internal.memtable.ShardReader;
import java.util.Arrays;
import java.util.List;

/**
 * A memtable shard as the DB tracks it: the arena, a reader over it, the key range it serves, the
 * WAL file that holds its oldest entry, and the range tombstones it holds (also stored in the arena
 * as entries; kept here too so reads need not scan the skiplist for them).
 */
final class MemShard {
    private static final RangeTombstone[] NONE = new RangeTombstone[0];

    final MemtableShard shard;
    final ShardReader reader;
    final int range;
    /** Number of the WAL holding this shard's first entry; -1 while empty. Written by the write leader. */
    volatile long firstLog = -1;
    /** Appended by the write leader (copy on write); readers filter by sequence. */
    private volatile RangeTombstone[] tombstones = NONE;

    MemShard(MemtableShard shard, int range) {
        this.shard = shard;
        this.range = range;
        this.reader = shard.reader();
    }

    boolean isEmpty() {
        return shard.entryCount() == 0;
    }

    /** Write leader only, after the entry is in the arena. */
    void addTombstone(RangeTombstone t) {
        RangeTombstone[] cur = tombstones;
        RangeTombstone[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = t;
        tombstones = next;
    }

    boolean hasTombstones() {
        return tombstones.length > 0;
    }

    /** Highest sequence ≤ {@code snapshot} of a tombstone here covering {@code userKey}; 0 if none. */
    long maxCoveringTombstone(byte[] userKey, long snapshot) {
        long max = 0;
        for (RangeTombstone t : tombstones) {
            if (t.sequence <= snapshot && t.sequence > max && t.covers(userKey)) {
                max = t.sequence;
            }
        }
        return max;
    }

    void collectTombstones(List<RangeTombstone> out) {
        out.addAll(Arrays.asList(tombstones));
    }
}
