package io.o3lsm.internal.db;

import io.o3lsm.internal.util.Bytes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Adaptive shard boundaries: a sample of recently written keys, and the rule that moves the
 * boundaries to its quantiles when the current ones use the ranges unevenly
 * (docs/design/write-path.md, "Adaptive shard boundaries").
 *
 * <p>The sample is a ring of the last {@value #SAMPLE_SIZE} keys out of every {@value #SAMPLE_EVERY}
 * point entries inserted (range deletions are not sampled). The rule ({@link #propose}), applied by
 * the write leader after a shard was sealed: with a full sample, if the busiest range of the current
 * layout holds at least twice its fair share of the sample ({@code 2 / n}), boundaries are chosen at
 * the sample's {@code n}-quantiles (a cut that would fall inside a run of equal keys moves to the
 * nearer end of the run, and each is shortened to the
 * shortest prefix of the key above the cut that still sorts after the key below it); they are taken
 * if their busiest range holds at most three quarters of what the current busiest holds. Otherwise
 * nothing changes. The sample is cleared when a new layout takes over, so the next decision rests on
 * keys written under it.
 *
 * <p>Write leader only (not thread-safe): {@link #offer} on every point insert, {@link #propose} and
 * {@link #reset} with the DB mutex held.
 */
final class AdaptiveBoundaries {
    static final int SAMPLE_SIZE = 1024;
    static final int SAMPLE_EVERY = 16;

    private final byte[][] ring = new byte[SAMPLE_SIZE][];
    private int next;
    private int filled;
    private int skip;

    /** Write leader: samples every {@value #SAMPLE_EVERY}th key (reusing the slot's array when the length matches). */
    void offer(byte[] key, int off, int len) {
        if (++skip < SAMPLE_EVERY) {
            return;
        }
        skip = 0;
        byte[] slot = ring[next];
        if (slot == null || slot.length != len) {
            slot = new byte[len];
            ring[next] = slot;
        }
        System.arraycopy(key, off, slot, 0, len);
        next = next + 1 == SAMPLE_SIZE ? 0 : next + 1;
        if (filled < SAMPLE_SIZE) {
            filled++;
        }
    }

    /** Keys sampled since the last {@link #reset}, at most {@value #SAMPLE_SIZE}. */
    int sampled() {
        return filled;
    }

    void reset() {
        filled = 0;
        next = 0;
        skip = 0;
    }

    /**
     * New boundaries for {@code current}'s number of ranges if the rule above says so; null to keep
     * the current ones.
     */
    List<byte[]> propose(ShardRanges current) {
        int n = current.count();
        if (n < 2 || filled < SAMPLE_SIZE) {
            return null;
        }
        int busiest = busiest(current, ring, filled);
        if ((long) busiest * n < 2L * filled) {
            return null; // even enough
        }
        byte[][] sorted = Arrays.copyOf(ring, filled);
        Arrays.sort(sorted, Bytes::compare);
        List<byte[]> b = quantiles(sorted, n);
        if (b == null) {
            return null;
        }
        int candidate = busiest(new ShardRanges(b), sorted, sorted.length);
        return 4L * candidate <= 3L * busiest ? b : null;
    }

    /** Sample keys in the fullest range of {@code layout}. */
    static int busiest(ShardRanges layout, byte[][] keys, int count) {
        int[] hist = new int[layout.count()];
        int max = 0;
        for (int i = 0; i < count; i++) {
            int r = layout.rangeOf(keys[i]);
            max = Math.max(max, ++hist[r]);
        }
        return max;
    }

    /**
     * {@code n - 1} strictly increasing boundaries cutting {@code sorted} (ascending, duplicates
     * allowed) into {@code n} parts as equal as its runs of equal keys allow; null if it has too few
     * distinct keys for {@code n} parts.
     */
    static List<byte[]> quantiles(byte[][] sorted, int n) {
        List<byte[]> out = new ArrayList<>(n - 1);
        int last = 0;
        for (int i = 1; i < n; i++) {
            int q = Math.max((int) ((long) i * sorted.length / n), last + 1);
            if (q < sorted.length && Bytes.compare(sorted[q - 1], sorted[q]) == 0) {
                // never cut between equal keys: cut before or after their run, whichever is nearer
                int start = q - 1;
                while (start > 0 && Bytes.compare(sorted[start - 1], sorted[q]) == 0) {
                    start--;
                }
                int end = q + 1;
                while (end < sorted.length && Bytes.compare(sorted[end], sorted[q]) == 0) {
                    end++;
                }
                boolean before = start > last && start >= 1;
                boolean after = end < sorted.length;
                if (!before && !after) {
                    return null;
                }
                q = before && (!after || q - start <= end - q) ? start : end;
            }
            if (q >= sorted.length) {
                return null;
            }
            out.add(separator(sorted[q - 1], sorted[q]));
            last = q;
        }
        return out;
    }

    /** The shortest prefix of {@code hi} that sorts after {@code lo}. REQUIRES: lo &lt; hi. */
    static byte[] separator(byte[] lo, byte[] hi) {
        for (int len = 1; len < hi.length; len++) {
            if (Bytes.compare(hi, 0, len, lo, 0, lo.length) > 0) {
                return Arrays.copyOf(hi, len);
            }
        }
        return hi.clone();
    }
}
