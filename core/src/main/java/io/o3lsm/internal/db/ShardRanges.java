package io.o3lsm.internal.db;

import io.o3lsm.internal.util.Bytes;
import java.util.List;

/**
 * A layout of the memtable's key ranges: {@code n} boundaries give {@code n + 1} ranges; range 0
 * holds every key below boundary 0, range i holds {@code [boundary[i-1], boundary[i])}. Immutable
 * apart from its insert counters.
 *
 * <p>Layouts follow one another ({@link AdaptiveBoundaries}): each has a generation (0 at open) and the
 * last sequence number written before it took over ({@link #startSeq}): every entry of a shard of
 * this layout has a larger sequence, every entry of an older layout's shard one at most as large.
 */
final class ShardRanges {
    private final byte[][] boundaries;
    /** First 8 bytes of each boundary, big-endian, zero padded: most comparisons end here. */
    private final long[] prefixes;
    final int generation;
    final long startSeq;
    /** Point entries inserted per range while this layout was current (the write leader counts). */
    private final java.util.concurrent.atomic.AtomicLongArray inserts;

    ShardRanges(List<byte[]> boundaries) {
        this(boundaries, 0, 0);
    }

    ShardRanges(List<byte[]> boundaries, int generation, long startSeq) {
        this.generation = generation;
        this.startSeq = startSeq;
        this.boundaries = boundaries.toArray(new byte[0][]);
        for (int i = 1; i < this.boundaries.length; i++) {
            if (Bytes.compare(this.boundaries[i - 1], this.boundaries[i]) >= 0) {
                throw new IllegalArgumentException("shard boundaries must ascend strictly; boundary " + i
                        + " is not greater than boundary " + (i - 1));
            }
        }
        this.inserts = new java.util.concurrent.atomic.AtomicLongArray(this.boundaries.length + 1);
        this.prefixes = new long[this.boundaries.length];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = prefix(this.boundaries[i], 0, this.boundaries[i].length);
        }
    }

    private static long prefix(byte[] k, int off, int len) {
        long p = 0;
        int n = Math.min(8, len);
        for (int i = 0; i < n; i++) {
            p |= (long) (k[off + i] & 0xFF) << (56 - 8 * i);
        }
        return p;
    }

    int count() {
        return boundaries.length + 1;
    }

    /** The boundaries, copied. */
    List<byte[]> boundaries() {
        List<byte[]> out = new java.util.ArrayList<>(boundaries.length);
        for (byte[] b : boundaries) {
            out.add(b.clone());
        }
        return out;
    }

    /** Write leader only: counts one point entry inserted into range {@code r}. */
    void counted(int r) {
        inserts.lazySet(r, inserts.get(r) + 1);
    }

    /** Point entries inserted into range {@code r} while this layout was current. */
    long inserts(int r) {
        return inserts.get(r);
    }

    /** The memtable shard id of range {@code r} of this layout (docs/format/dm-memtable.md, shard-id). */
    int shardId(int r) {
        return (generation & 0xFFFF) << 16 | r;
    }

    /** Index of the range holding {@code key[off, off+len)}. */
    int rangeOf(byte[] key, int off, int len) {
        int lo = 0;
        int hi = boundaries.length;
        long kp = prefix(key, off, len);
        // first boundary > key, its index is the range
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(prefixes[mid], kp);
            if (c == 0) {
                c = Bytes.compare(boundaries[mid], 0, boundaries[mid].length, key, off, len);
            }
            if (c <= 0) {
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

    /** Inclusive lower bound of range {@code r}; null for the first range. */
    byte[] lower(int r) {
        return r == 0 ? null : boundaries[r - 1];
    }

    /** Exclusive upper bound of range {@code r}; null for the last range. */
    byte[] upper(int r) {
        return r == boundaries.length ? null : boundaries[r];
    }

    /** A piece of a key interval that lies in one range. */
    record Piece(int range, byte[] start, byte[] end) {
    }

    /** Splits {@code [from, to)} along the range boundaries; empty pieces are left out. */
    java.util.List<Piece> split(byte[] from, byte[] to) {
        java.util.List<Piece> out = new java.util.ArrayList<>();
        if (Bytes.compare(from, to) >= 0) {
            return out;
        }
        int r0 = rangeOf(from);
        int r1 = rangeOf(to);
        for (int r = r0; r <= r1 && r < count(); r++) {
            byte[] lo = lower(r);
            byte[] hi = upper(r);
            byte[] s = lo != null && Bytes.compare(lo, from) > 0 ? lo : from;
            byte[] e = hi != null && Bytes.compare(hi, to) < 0 ? hi : to;
            if (Bytes.compare(s, e) < 0) {
                out.add(new Piece(r, s, e));
            }
        }
        return out;
    }
}
