package io.o3lsm.format;

import io.o3lsm.internal.util.Bytes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;

/**
 * Range tombstones cut into non-overlapping fragments, each carrying the sequences of every
 * tombstone that covers it (descending), for fast "is this entry deleted by a range?" queries.
 * Built once per iterator or compaction; immutable and thread-safe afterwards.
 */
public final class RangeTombstoneSet {
    public static final RangeTombstoneSet EMPTY = new RangeTombstoneSet(new byte[0][], new long[0][]);

    /** Fragment i is {@code [bounds[i], bounds[i+1])} with sequences {@code seqs[i]}; the last bound only closes. */
    private final byte[][] bounds;
    private final long[][] seqs;

    private RangeTombstoneSet(byte[][] bounds, long[][] seqs) {
        this.bounds = bounds;
        this.seqs = seqs;
    }

    public boolean isEmpty() {
        return seqs.length == 0;
    }

    /** Fragments the tombstones with sequence ≤ {@code maxSequence}. */
    public static RangeTombstoneSet build(Collection<RangeTombstone> tombstones, long maxSequence) {
        List<RangeTombstone> ts = new ArrayList<>();
        for (RangeTombstone t : tombstones) {
            if (t.sequence <= maxSequence && Bytes.compare(t.start, t.end) < 0) {
                ts.add(t);
            }
        }
        if (ts.isEmpty()) {
            return EMPTY;
        }
        TreeMap<byte[], List<long[]>> events = new TreeMap<>(Bytes::compare); // key -> {+1/-1, seq}
        for (RangeTombstone t : ts) {
            events.computeIfAbsent(t.start, k -> new ArrayList<>()).add(new long[] {1, t.sequence});
            events.computeIfAbsent(t.end, k -> new ArrayList<>()).add(new long[] {-1, t.sequence});
        }
        TreeMap<Long, Integer> active = new TreeMap<>();
        List<byte[]> b = new ArrayList<>();
        List<long[]> s = new ArrayList<>();
        for (var e : events.entrySet()) {
            for (long[] ev : e.getValue()) {
                if (ev[0] > 0) {
                    active.merge(ev[1], 1, Integer::sum);
                } else {
                    active.merge(ev[1], -1, (x, y) -> x + y == 0 ? null : x + y);
                }
            }
            b.add(e.getKey());
            long[] cur = new long[active.size()];
            int i = 0;
            for (Long q : active.descendingKeySet()) {
                cur[i++] = q;
            }
            s.add(cur);
        }
        // s.get(i) belongs to [b[i], b[i+1]); the last entry (after the final end) is empty
        s.remove(s.size() - 1);
        return new RangeTombstoneSet(b.toArray(new byte[0][]), s.toArray(new long[0][]));
    }

    /** Index of the fragment holding {@code key}, or -1. */
    private int find(byte[] key, int off, int len) {
        int lo = 0;
        int hi = bounds.length - 1; // fragments 0..n-2
        if (hi <= 0 || Bytes.compare(key, off, len, bounds[0], 0, bounds[0].length) < 0
                || Bytes.compare(key, off, len, bounds[hi], 0, bounds[hi].length) >= 0) {
            return -1;
        }
        while (lo + 1 < hi) { // invariant: bounds[lo] <= key < bounds[hi]
            int mid = (lo + hi) >>> 1;
            if (Bytes.compare(bounds[mid], 0, bounds[mid].length, key, off, len) <= 0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The highest tombstone sequence covering {@code key}, or 0. */
    public long maxCovering(byte[] key, int off, int len) {
        int f = find(key, off, len);
        return f < 0 || seqs[f].length == 0 ? 0 : seqs[f][0];
    }

    /** True if a tombstone newer than {@code seq} covers {@code key}. */
    public boolean covers(byte[] key, int off, int len, long seq) {
        return maxCovering(key, off, len) > seq;
    }

    /**
     * True if a tombstone newer than {@code seq} covers {@code key} and no snapshot lies between them
     * (same snapshot stripe): then no reader can see the entry any more.
     */
    public boolean coversInStripe(byte[] key, int off, int len, long seq, long[] snapshots) {
        int f = find(key, off, len);
        if (f < 0) {
            return false;
        }
        int stripe = stripe(seq, snapshots);
        for (long t : seqs[f]) {
            if (t <= seq) {
                return false; // descending
            }
            if (stripe(t, snapshots) == stripe) {
                return true;
            }
        }
        return false;
    }

    /** Index of the first snapshot ≥ seq (snapshots.length if none): entries in one stripe look alike. */
    public static int stripe(long seq, long[] snapshots) {
        int lo = 0;
        int hi = snapshots.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (snapshots[mid] < seq) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("RangeTombstoneSet{");
        for (int i = 0; i < seqs.length; i++) {
            sb.append('[').append(Arrays.toString(bounds[i])).append(',').append(Arrays.toString(bounds[i + 1]))
                    .append(")=").append(Arrays.toString(seqs[i])).append(' ');
        }
        return sb.append('}').toString();
    }
}
