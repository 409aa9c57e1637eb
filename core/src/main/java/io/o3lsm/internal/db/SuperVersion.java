package io.o3lsm.internal.db;

import io.o3lsm.format.RangeTombstone;
import io.o3lsm.internal.version.Version;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a read sees, swapped atomically: the memtable view (per range: the active shard and the
 * sealed shards newest first) and the SST version. Immutable; a flush installs its SST and drops its
 * shards in one swap, so no read can miss data in between.
 *
 * <p>Reference counted: the DB holds one reference while it is current, and every read (get,
 * iterator) holds one while it runs. The last release drops the reference on the {@link Version},
 * after which that version's obsolete files may be deleted.
 */
final class SuperVersion {
    final MemShard[] active;
    final MemShard[][] sealed; // per range, newest first
    final Version version;
    private final AtomicInteger refs = new AtomicInteger(1);

    SuperVersion(MemShard[] active, MemShard[][] sealed, Version version) {
        this.active = active;
        this.sealed = sealed;
        this.version = version;
        version.ref();
    }

    /** Takes a reference unless this view was already released. */
    boolean tryRef() {
        while (true) {
            int n = refs.get();
            if (n == 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void unref() {
        int n = refs.decrementAndGet();
        if (n == 0) {
            version.unref();
        } else if (n < 0) {
            throw new IllegalStateException("SuperVersion released more often than referenced");
        }
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

    /** Replaces an (empty) active shard without sealing anything. */
    SuperVersion replaceActive(int range, MemShard fresh, Version v) {
        MemShard[] a = active.clone();
        a[range] = fresh;
        return new SuperVersion(a, sealed, v);
    }

    /** Drops the {@code count} oldest sealed shards of {@code range}. */
    SuperVersion dropOldest(int range, int count, Version v) {
        MemShard[][] s = sealed.clone();
        MemShard[] list = new MemShard[s[range].length - count];
        System.arraycopy(s[range], 0, list, 0, list.length);
        s[range] = list;
        return new SuperVersion(active, s, v);
    }

    /** Every memtable range tombstone of every shard (for iterators). */
    void collectMemTombstones(java.util.List<RangeTombstone> out) {
        for (int r = 0; r < active.length; r++) {
            active[r].collectTombstones(out);
            for (MemShard s : sealed[r]) {
                s.collectTombstones(out);
            }
        }
    }
}
