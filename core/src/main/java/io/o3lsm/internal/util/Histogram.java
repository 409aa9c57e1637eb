package io.o3lsm.internal.util;

import io.o3lsm.HistogramSnapshot;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free, allocation-free histogram of non-negative {@code long} values (nanoseconds, for the
 * engine's latencies and job durations), with log-linear buckets: exact below 16, then 8 buckets per
 * power of two, so a percentile read from it is within 12.5% of the recorded value (and never above
 * the maximum recorded).
 *
 * <p>Thread safety: {@link #record} from any number of threads. The buckets are striped by thread
 * (4 stripes, far apart in memory) so that concurrent readers on different cores do not fight over
 * one cache line; {@link #snapshot} sums the stripes without stopping writers, so a snapshot taken
 * during recording may count a value in {@code count} whose {@code sum} it misses, never the other
 * way round across calls. Counts never decrease and are never reset.
 */
public final class Histogram {
    /** Values below this are their own bucket. */
    private static final int LINEAR = 16;
    /** log2 of the buckets per power of two above {@link #LINEAR}. */
    private static final int SUB_BITS = 3;
    private static final int SUB = 1 << SUB_BITS;
    /** Buckets: 16 exact ones, then 8 per power of two from 2^4 to 2^62. */
    static final int BUCKETS = LINEAR + (63 - 4) * SUB;
    private static final int STRIPES = 4;
    /** Longs per stripe: the buckets, then the sum; rounded up so stripes start on distinct cache lines. */
    private static final int STRIDE = (BUCKETS + 1 + 15) & ~15;
    private static final int SUM = BUCKETS;

    private final String name;
    private final AtomicLongArray cells = new AtomicLongArray(STRIPES * STRIDE);
    private final AtomicLong max = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong min = new AtomicLong(Long.MAX_VALUE);

    public Histogram(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The bucket of {@code v} (v >= 0). */
    static int bucket(long v) {
        if (v < LINEAR) {
            return (int) Math.max(v, 0);
        }
        int exp = 63 - Long.numberOfLeadingZeros(v); // >= 4
        int sub = (int) (v >>> (exp - SUB_BITS)) & (SUB - 1);
        return LINEAR + (exp - 4) * SUB + sub;
    }

    /** The smallest value of bucket {@code b}. */
    static long lowerBound(int b) {
        if (b < LINEAR) {
            return b;
        }
        int exp = (b - LINEAR) / SUB + 4;
        int sub = (b - LINEAR) % SUB;
        return (long) (SUB + sub) << (exp - SUB_BITS);
    }

    /** The largest value of bucket {@code b}. */
    static long upperBound(int b) {
        return b + 1 >= BUCKETS ? Long.MAX_VALUE : lowerBound(b + 1) - 1;
    }

    /** Records one value (negative values count as 0). Lock-free, allocation-free. */
    public void record(long v) {
        if (v < 0) {
            v = 0;
        }
        // min and max first: a snapshot that sees the count sees them set (or clamps, below)
        if (v > max.get()) {
            max.accumulateAndGet(v, Math::max);
        }
        if (v < min.get()) {
            min.accumulateAndGet(v, Math::min);
        }
        int base = (int) (Thread.currentThread().getId() & (STRIPES - 1)) * STRIDE;
        cells.getAndIncrement(base + bucket(v));
        cells.getAndAdd(base + SUM, v);
    }

    /** Values recorded so far. */
    public long count() {
        long n = 0;
        for (int s = 0; s < STRIPES; s++) {
            for (int b = 0; b < BUCKETS; b++) {
                n += cells.get(s * STRIDE + b);
            }
        }
        return n;
    }

    /**
     * A copy of the distribution, each value divided by {@code unit} (1000 turns nanoseconds into
     * the microseconds the snapshot reports). Percentiles are interpolated linearly inside their
     * bucket and capped at the maximum.
     */
    public HistogramSnapshot snapshot(double unit) {
        long[] counts = new long[BUCKETS];
        long n = 0;
        long sum = 0;
        for (int s = 0; s < STRIPES; s++) {
            for (int b = 0; b < BUCKETS; b++) {
                long c = cells.get(s * STRIDE + b);
                counts[b] += c;
                n += c;
            }
            sum += cells.get(s * STRIDE + SUM);
        }
        if (n == 0) {
            return new HistogramSnapshot(name, 0, 0, 0, 0, 0, 0, 0);
        }
        long mx = max.get();
        long mn = min.get();
        // the cells are read one by one while values arrive: keep min and max within the buckets seen
        int lowest = 0;
        while (counts[lowest] == 0) {
            lowest++;
        }
        int highest = BUCKETS - 1;
        while (counts[highest] == 0) {
            highest--;
        }
        mn = Math.max(Math.min(mn, upperBound(lowest)), lowerBound(lowest));
        mx = Math.max(Math.min(mx, upperBound(highest)), lowerBound(highest));
        if (mx < mn) {
            mx = mn;
        }
        return new HistogramSnapshot(name, n, sum / unit, mn / unit, percentile(counts, n, 0.50, mn, mx) / unit,
                percentile(counts, n, 0.95, mn, mx) / unit, percentile(counts, n, 0.99, mn, mx) / unit, mx / unit);
    }

    private static double percentile(long[] counts, long n, double p, long mn, long mx) {
        double rank = p * n;
        long seen = 0;
        for (int b = 0; b < counts.length; b++) {
            long c = counts[b];
            if (c == 0) {
                continue;
            }
            if (seen + c >= rank) {
                double lo = Math.max(lowerBound(b), mn);
                double hi = Math.min(upperBound(b), mx);
                double frac = c == 0 ? 0 : (rank - seen) / c;
                return Math.min(Math.max(lo + (hi - lo) * frac, lo), mx);
            }
            seen += c;
        }
        return mx;
    }
}
