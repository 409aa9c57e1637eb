package io.o3lsm.dm.node;

import io.o3lsm.format.memtable.ShardReader;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One DB's segment of the pool: allocated, then (after the client's RMA put) committed and
 * served, then freed. The memory returns to the allocator when the last reader releases it, so a
 * FREE racing with a delegated GET never lets the GET read reused bytes.
 */
final class Segment {
    static final int ALLOCATED = 0;
    static final int COMMITTING = 1;
    static final int COMMITTED = 2;
    static final int FREED = 3;

    final long id;
    final DbAccount owner;
    final long epoch;
    final SegmentAllocator.Extent extent;
    final long address;
    final int length;
    final AtomicInteger state = new AtomicInteger(ALLOCATED);
    private final AtomicInteger refs = new AtomicInteger(1);
    private final SegmentAllocator allocator;
    /** Set once when committed (before state becomes COMMITTED). */
    volatile ShardReader reader;
    /** CRC32C of the bytes, verified at COMMIT (set before state becomes COMMITTED). */
    volatile int checksum;
    /**
     * Set by the scrubber when the bytes no longer match {@link #checksum} (something wrote into a
     * committed segment): reads from it are refused with CORRUPT from then on.
     */
    volatile String damage;

    Segment(long id, DbAccount owner, long epoch, SegmentAllocator.Extent extent, long address, int length,
            SegmentAllocator allocator) {
        this.id = id;
        this.owner = owner;
        this.epoch = epoch;
        this.extent = extent;
        this.address = address;
        this.length = length;
        this.allocator = allocator;
    }

    /** A view of the segment's bytes [0, length). */
    UnsafeBuffer view() {
        return new UnsafeBuffer(address, length);
    }

    /** Pins the memory for a read; false if the segment was freed. */
    boolean retain() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (refs.decrementAndGet() == 0) {
            allocator.free(extent);
        }
    }

    /** Marks freed and drops the allocation's own reference; true on the first call. */
    boolean free() {
        int s = state.getAndSet(FREED);
        if (s == FREED) {
            return false;
        }
        release();
        return true;
    }
}
