package io.o3lsm.internal.db;

import io.o3lsm.internal.memtable.MemtableShard;
import io.o3lsm.internal.memtable.ShardReader;

/**
 * A memtable shard as the DB tracks it: the arena, a reader over it, the key range it serves and
 * the WAL file that holds its oldest entry.
 */
final class MemShard {
    final MemtableShard shard;
    final ShardReader reader;
    final int range;
    /** Number of the WAL holding this shard's first entry; -1 while empty. Written by the write leader. */
    volatile long firstLog = -1;

    MemShard(MemtableShard shard, int range) {
        this.shard = shard;
        this.range = range;
        this.reader = shard.reader();
    }

    boolean isEmpty() {
        return shard.entryCount() == 0;
    }
}
