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
    /** The layout of the active shards: the one new writes use. */
    final ShardRanges layout;
    final MemShard[] active;
    /**
     * Per range, newest first. After the boundaries moved, a range's list may also hold shards of
     * older layouts (at its index in their layout): they are older than every shard of a newer
     * layout, so each list is still newest first, and a layout's shards are contiguous in it.
     */
    final MemShard[][] sealed;
    /** {@link #layout} first, then every older layout some sealed shard still has, newest first. */
    final ShardRanges[] layouts;
    final Version version;
    /**
     * A replica: reads on this view run at no lower sequence (0: no floor). A replica's view that takes
     * tables reaching past its published sequence carries the sequence they need, so a reader that
     * pins it before the sequence is published still reads a consistent prefix.
     */
    final long floor;
    private final AtomicInteger refs = new AtomicInteger(1);

    SuperVersion(ShardRanges layout, MemShard[] active, MemShard[][] sealed, Version version) {
        this(layout, active, sealed, version, 0);
    }

    SuperVersion(ShardRanges layout, MemShard[] active, MemShard[][] sealed, Version version, long floor) {
        this.floor = floor;
        this.layout = layout;
        this.active = active;
        this.sealed = sealed;
        this.layouts = layoutsOf(layout, sealed);
        this.version = version;
        version.ref();
    }

    private static ShardRanges[] layoutsOf(ShardRanges current, MemShard[][] sealed) {
        ShardRanges[] out = null;
        for (MemShard[] list : sealed) {
            for (int i = list.length - 1; i >= 0 && list[i].layout != current; i--) {
                ShardRanges l = list[i].layout;
                boolean seen = false;
                for (int j = 0; out != null && j < out.length; j++) {
                    seen |= out[j] == l;
                }
                if (!seen) {
                    out = out == null ? new ShardRanges[] {current, l} : java.util.Arrays.copyOf(out, out.length + 1);
                    out[out.length - 1] = l;
                }
            }
        }
        if (out == null) {
            return new ShardRanges[] {current};
        }
        java.util.Arrays.sort(out, 1, out.length, (a, b) -> Integer.compare(b.generation, a.generation));
        return out;
    }

    /** The oldest layout a sealed shard of this view has (the current one if none is older). */
    ShardRanges oldestLayout() {
        return layouts[layouts.length - 1];
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
        return new SuperVersion(layout, active, sealed, v, floor);
    }

    /** This view with version {@code v} and read floor {@code floor} (a replica's install). */
    SuperVersion withVersion(Version v, long floor) {
        return new SuperVersion(layout, active, sealed, v, floor);
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
        return new SuperVersion(layout, a, s, v, floor);
    }

    /** Replaces an (empty) active shard without sealing anything. */
    SuperVersion replaceActive(int range, MemShard fresh, Version v) {
        MemShard[] a = active.clone();
        a[range] = fresh;
        return new SuperVersion(layout, a, sealed, v, floor);
    }

    /** Drops the {@code count} oldest sealed shards of {@code range}. */
    SuperVersion dropOldest(int range, int count, Version v) {
        MemShard[][] s = sealed.clone();
        MemShard[] list = new MemShard[s[range].length - count];
        System.arraycopy(s[range], 0, list, 0, list.length);
        s[range] = list;
        return new SuperVersion(layout, active, s, v, floor);
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
