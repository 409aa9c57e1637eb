package io.o3lsm;

/**
 * A copy of one of a DB's histograms ({@link DBStats#histogram}): how many values were recorded and
 * their distribution. Durations are in <b>microseconds</b> (RocksDB's unit), as doubles so that
 * sub-microsecond gets keep their precision. Percentiles come from log-linear buckets (exact below
 * 16 ns, then 8 buckets per power of two): within 12.5% of a recorded value, never above
 * {@link #max}. All zero when nothing was recorded.
 *
 * @param name  the histogram's name, e.g. {@code o3.db.get.micros}
 * @param count values recorded since the DB was opened
 * @param sum   their sum
 * @param min   the smallest
 * @param p50   the median
 * @param p95   the 95th percentile
 * @param p99   the 99th percentile
 * @param max   the largest
 */
public record HistogramSnapshot(String name, long count, double sum, double min, double p50, double p95, double p99,
        double max) {
    /** {@link #sum} / {@link #count}, or 0 when empty. */
    public double mean() {
        return count == 0 ? 0 : sum / count;
    }

    @Override
    public String toString() {
        return String.format("%s count %d sum %.1f min %.2f P50 %.2f P95 %.2f P99 %.2f max %.2f", name, count, sum, min,
                p50, p95, p99, max);
    }
}
