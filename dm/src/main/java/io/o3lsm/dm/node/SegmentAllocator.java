package io.o3lsm.dm.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Carves segments out of the pool's slabs: first fit over each slab's free extents (kept sorted by
 * offset and coalesced on free), every extent a multiple of {@link #ALIGNMENT} bytes. A segment
 * never spans slabs. Thread-safe (synchronized); allocation is rare (one per offloaded shard).
 */
final class SegmentAllocator {
    static final int ALIGNMENT = 64;

    /** A reserved range of one slab. */
    record Extent(int slab, long offset, long length) {
    }

    private final long[] slabLengths;
    private final List<TreeMap<Long, Long>> free = new ArrayList<>();
    private long used;

    SegmentAllocator(long[] slabLengths) {
        this.slabLengths = slabLengths.clone();
        for (long len : slabLengths) {
            TreeMap<Long, Long> m = new TreeMap<>();
            m.put(0L, len - len % ALIGNMENT);
            free.add(m);
        }
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    long largestSlab() {
        long max = 0;
        for (long l : slabLengths) {
            max = Math.max(max, l);
        }
        return max;
    }

    /** @return the extent, or null if no slab has a free range that large */
    synchronized Extent allocate(long length) {
        long need = align(length);
        for (int s = 0; s < free.size(); s++) {
            TreeMap<Long, Long> m = free.get(s);
            for (Map.Entry<Long, Long> e : m.entrySet()) {
                if (e.getValue() >= need) {
                    long off = e.getKey();
                    long rest = e.getValue() - need;
                    m.remove(off);
                    if (rest > 0) {
                        m.put(off + need, rest);
                    }
                    used += need;
                    return new Extent(s, off, need);
                }
            }
        }
        return null;
    }

    synchronized void free(Extent x) {
        TreeMap<Long, Long> m = free.get(x.slab());
        long off = x.offset();
        long len = x.length();
        Map.Entry<Long, Long> before = m.floorEntry(off);
        if (before != null && before.getKey() + before.getValue() > off) {
            throw new IllegalStateException("double free of " + x);
        }
        if (before != null && before.getKey() + before.getValue() == off) {
            off = before.getKey();
            len += before.getValue();
            m.remove(before.getKey());
        }
        Long after = m.ceilingKey(x.offset());
        if (after != null && after < x.offset() + x.length()) {
            throw new IllegalStateException("double free of " + x);
        }
        if (after != null && after == x.offset() + x.length()) {
            len += m.remove(after);
        }
        m.put(off, len);
        used -= x.length();
    }

    synchronized long used() {
        return used;
    }
}
