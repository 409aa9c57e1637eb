package io.o3lsm.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one benchmark on one engine measured. Filled by {@link Workloads}, printed and written by
 * {@link Report}. Latencies are in nanoseconds in the histograms and reported in microseconds.
 */
public final class Result {
    /** Outcome of a benchmark. */
    public enum Status { OK, NA, FAILED }

    /** Highest trackable latency: one hour in ns. */
    static final long MAX_LATENCY_NANOS = 3_600_000_000_000L;

    String engine;
    String mode;
    String workload;
    Status status = Status.OK;
    /** Why n/a or failed, or extra information (readwhilewriting's writer). */
    String note;
    long ops;
    long found;
    /** Key + value bytes moved (found entries only for reads). */
    long bytes;
    /** Key + value bytes written by puts, key bytes of deletes: the denominator of write amplification. */
    long userBytesWritten;
    double seconds;
    Histogram latency = newHistogram();
    /** Per operation type (YCSB: read, update, insert, scan, readmodifywrite). */
    final Map<String, Histogram> opLatency = new LinkedHashMap<>();
    /**
     * Cumulative since the engine was opened, at the end of this benchmark: bytes the engine wrote
     * (WAL + flush + compaction) / key+value bytes the benchmarks gave it. Cumulative because
     * flushes and compactions of one benchmark's writes run on during the next ones. Null if the
     * engine does not count or nothing was written yet.
     */
    Double writeAmplification;
    /** Why there is no write amplification (read-only benchmark, or the engine does not count). */
    String writeAmplificationNote;
    /**
     * Bytes the engine wrote to its storage during this benchmark (WAL, flushed and compacted
     * tables, wherever the flush or compaction ran: offloaded jobs' outputs are counted when
     * installed); -1 if the engine does not count them.
     */
    long storageBytesWritten = -1;
    /** {@link #storageBytesWritten} by kind: {WAL, flushed tables, compacted tables}; null if not counted. */
    long[] storageBytesByKind;
    long diskBytes = -1;
    /** Sum of the heap pools' peaks (mostly young generation between collections; see {@link MemoryMeter}). */
    long peakHeapBytes = -1;
    /** Largest heap in use right after a collection during the benchmark; -1 if none ran. */
    long heapAfterGcBytes = -1;
    /** Stop-the-world collections during the benchmark (System.gc() of the runner excluded). */
    int gcPauses;
    long gcPauseMillis;
    long gcMaxPauseMillis;
    /** Milliseconds writers were stalled by the engine's back-pressure during the benchmark; -1 if not counted. */
    double stallMillis = -1;
    /** CPU seconds of the whole process during the benchmark (all threads); -1 if unknown. */
    double cpuSeconds = -1;
    long rssBytes = -1;
    /** CPU seconds of each daemon the run uses (memory node, workers, compactors) during the benchmark, by name. */
    final Map<String, Double> daemonCpuSeconds = new LinkedHashMap<>();
    /** Per backup daemon: bytes it wrote to storage during the benchmark (/proc/PID/io write_bytes). */
    final Map<String, Long> daemonDiskWriteBytes = new LinkedHashMap<>();
    /** Bytes the primary sent its backups during the benchmark; 0 without replication. */
    long replicationBytesSent;
    /** Bytes the memory node received and sent during the benchmark (every byte over UCX to or from it); -1 if unknown. */
    long memnodeBytesIn = -1;
    long memnodeBytesOut = -1;
    /** Flushes and compactions during the benchmark by place (local, offloaded, fallback); null if unknown. */
    long[] flushesByPlace;
    long[] compactionsByPlace;
    /** The engine's mode state at the end of the benchmark (o3 in dm mode: its o3.dm property), or null. */
    String engineState;
    /** The memtable shards' use at the end of the benchmark (o3's o3.shards property), or null. */
    String shardState;
    /** Whether every operation should have found its key (readrandom after a fill). */
    boolean expectAllFound;
    /** Keys one operation reads (multireadrandom: the batch size); {@link #found} counts keys. */
    int keysPerOp = 1;

    /** Keys the operations read. */
    long keysRead() {
        return ops * keysPerOp;
    }
    /** {seconds since start, ops/s over the interval ending then}. */
    final List<double[]> throughputSeries = new ArrayList<>();

    static Histogram newHistogram() {
        return new Histogram(MAX_LATENCY_NANOS, 3);
    }

    public boolean ok() {
        return status == Status.OK;
    }

    public double opsPerSec() {
        return ops / Math.max(seconds, 1e-9);
    }

    public double microsPerOp() {
        return ops == 0 ? 0 : seconds * 1e6 / ops;
    }

    public double mbPerSec() {
        return bytes / 1048576.0 / Math.max(seconds, 1e-9);
    }

    /** Latency at {@code percentile} in microseconds; 100 = max. */
    public double micros(double percentile) {
        if (latency.getTotalCount() == 0) {
            return 0;
        }
        return (percentile >= 100 ? latency.getMaxValue() : latency.getValueAtPercentile(percentile)) / 1e3;
    }

    /** The db_bench-style line printed as each benchmark ends. */
    public String line() {
        if (status != Status.OK) {
            return String.format(Locale.ROOT, "%-12s : %s (%s)", workload, status == Status.NA ? "n/a" : "FAILED", note);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-12s : %10.3f micros/op %9d ops/sec; %7.1f MB/s  ops=%d secs=%.3f",
                workload, microsPerOp(), (long) opsPerSec(), mbPerSec(), ops, seconds));
        sb.append(String.format(Locale.ROOT, "  latency us: P50 %.2f P99 %.2f P99.9 %.2f max %.2f",
                micros(50), micros(99), micros(99.9), micros(100)));
        if (expectAllFound || workload.equals("seekrandom")) {
            sb.append(" (").append(found).append(" of ").append(keysRead()).append(" found)");
        }
        return sb.toString();
    }
}
