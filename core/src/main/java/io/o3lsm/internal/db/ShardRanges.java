package io.o3lsm.internal.db;

import io.o3lsm.internal.util.Bytes;
import java.util.List;

/**
 * The memtable's key ranges: {@code n} boundaries give {@code n + 1} ranges; range 0 holds every
 * key below boundary 0, range i holds {@code [boundary[i-1], boundary[i])}. Immutable.
 */
final class ShardRanges {
    private final byte[][] boundaries;

    ShardRanges(List<byte[]> boundaries) {
        this.boundaries = boundaries.toArray(new byte[0][]);
    }

    int count() {
        return boundaries.length + 1;
    }

    /** Index of the range holding {@code key[off, off+len)}. */
    int rangeOf(byte[] key, int off, int len) {
        int lo = 0;
        int hi = boundaries.length;
        // first boundary > key, its index is the range
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Bytes.compare(boundaries[mid], 0, boundaries[mid].length, key, off, len) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    int rangeOf(byte[] key) {
        return rangeOf(key, 0, key.length);
    }
}
