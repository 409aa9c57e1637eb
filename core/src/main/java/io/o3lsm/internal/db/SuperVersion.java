package io.o3lsm.internal.db;

import io.o3lsm.internal.version.Version;

/**
 * What a read sees, swapped atomically: the memtable view (per range: the active shard and the
 * sealed shards newest first) and the SST version. Immutable; a flush installs its SST and drops its
 * shards in one swap, so no read can miss data in between.
 */
final class SuperVersion {
    final MemShard[] active;
    final MemShard[][] sealed; // per range, newest first
    final Version version;

    SuperVersion(MemShard[] active, MemShard[][] sealed, Version version) {
        this.active = active;
        this.sealed = sealed;
        this.version = version;
    }

    SuperVersion withVersion(Version v) {
        return new SuperVersion(active, sealed, v);
    }

    /** Replaces the active shard of {@code range} with {@code fresh}, pushing the old one to sealed. */
    SuperVersion seal(int range, MemShard fresh, Version v) {
        MemShard[] a = active.clone();
        MemShard[][] s = sealed.clone();
        MemShard old = a[range];
        a[range] = fresh;
        MemShard[] list = new MemShard[s[range].length + 1];
        list[0] = old;
        System.arraycopy(s[range], 0, list, 1, s[range].length);
        s[range] = list;
        return new SuperVersion(a, s, v);
    }

    /** Drops the {@code count} oldest sealed shards of {@code range}. */
    SuperVersion dropOldest(int range, int count, Version v) {
        MemShard[][] s = sealed.clone();
        MemShard[] list = new MemShard[s[range].length - count];
        System.arraycopy(s[range], 0, list, 0, list.length);
        s[range] = list;
        return new SuperVersion(active, s, v);
    }
}
