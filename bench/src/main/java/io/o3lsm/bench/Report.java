package io.o3lsm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Turns {@link Result}s into what people read: the summary table, the side-by-side comparison with
 * ratios against the first engine, {@code results.json}, {@code summary.md} and the PNG charts.
 * Stateless.
 */
public final class Report {
    /** Percentiles drawn in the latency charts; 100 = max. */
    static final double[] CHART_PERCENTILES = {50, 90, 99, 99.9, 99.99, 100};

    private Report() {
    }

    /**
     * {@code r}'s throughput divided by {@code base}'s, or null when either is missing or not OK
     * (a ratio above 1 means {@code r} is faster).
     */
    public static Double ratio(Result r, Result base) {
        if (r == null || base == null || !r.ok() || !base.ok() || base.opsPerSec() <= 0) {
            return null;
        }
        return r.opsPerSec() / base.opsPerSec();
    }

    static Result find(List<Result> results, String engine, String workload) {
        for (Result r : results) {
            if (r.engine.equals(engine) && r.workload.equals(workload)) {
                return r;
            }
        }
        return null;
    }

    static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
    }

    static String writeAmp(Result r) {
        if (r.writeAmplification != null) {
            return String.format(Locale.ROOT, "%.2f", r.writeAmplification);
        }
        return "no writes".equals(r.writeAmplificationNote) ? "-" : "n/a";
    }

    /** The db_bench-like table: one row per engine and benchmark. */
    public static void printSummary(PrintStream out, List<Result> results) {
        out.println();
        out.println("Summary (latencies in microseconds; w-amp = bytes the engine wrote (WAL + flush + compaction)"
                + " / key+value bytes written, cumulative since open; disk = DB directory size afterwards;"
                + " live = largest heap right after a GC, or <= the heap's peak when no GC ran)");
        String fmt = "%-8s %-16s %12s %9s %8s %9s %9s %9s %10s %6s %9s %9s%n";
        out.printf(Locale.ROOT, fmt, "engine", "benchmark", "ops/s", "us/op", "MB/s", "P50", "P99", "P99.9", "max",
                "w-amp", "disk MiB", "live MiB");
        for (Result r : results) {
            if (!r.ok()) {
                out.printf(Locale.ROOT, "%-8s %-16s %s: %s%n", r.engine, r.workload,
                        r.status == Result.Status.NA ? "n/a" : "FAILED", r.note);
                continue;
            }
            out.printf(Locale.ROOT, fmt, r.engine, r.workload, String.format(Locale.ROOT, "%,.0f", r.opsPerSec()),
                    String.format(Locale.ROOT, "%.3f", r.microsPerOp()), String.format(Locale.ROOT, "%.1f", r.mbPerSec()),
                    f2(r.micros(50)), f2(r.micros(99)), f2(r.micros(99.9)), f2(r.micros(100)), writeAmp(r),
                    mib(r.diskBytes), liveHeap(r));
        }
        for (String note : writeAmpNotes(results)) {
            out.println(note);
        }
        printMemory(out, results);
    }

    /**
     * CPU, GC pauses and heap per engine and benchmark. "live" is the largest heap in use right after
     * a collection (what the engine keeps, plus old garbage not collected yet); "peak" is the sum of
     * the heap pools' peaks, mostly the young generation filling up between collections, which G1
     * sizes from the free heap (so it grows with -Xms/-Xmx, not with what the engine holds).
     */
    static void printMemory(PrintStream out, List<Result> results) {
        out.println();
        out.println("Memory and GC (CPU = process CPU seconds, all threads; GC = stop-the-world pauses: count, total,"
                + " longest; stall = writers held back by the engine's own back-pressure; live = largest heap right after a GC; peak = sum of the heap pools' peaks, mostly young"
                + " generation; RocksDB's memory is native and shows in RSS only)");
        String fmt = "%-8s %-16s %12s %7s %10s %8s %10s %9s %9s %9s %8s%n";
        out.printf(Locale.ROOT, fmt, "engine", "benchmark", "ops/s", "CPU s", "GC pauses", "GC ms", "GC max ms",
                "stall ms", "live MiB", "peak MiB", "RSS MiB");
        for (Result r : results) {
            if (!r.ok()) {
                continue;
            }
            out.printf(Locale.ROOT, fmt, r.engine, r.workload, String.format(Locale.ROOT, "%,.0f", r.opsPerSec()),
                    r.cpuSeconds < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", r.cpuSeconds),
                    Integer.toString(r.gcPauses), Long.toString(r.gcPauseMillis), Long.toString(r.gcMaxPauseMillis),
                    r.stallMillis < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f", r.stallMillis),
                    liveHeap(r), mib(r.peakHeapBytes), mib(r.rssBytes));
        }
    }

    /**
     * The heap the engine holds: the largest heap right after a GC during the benchmark; when no GC
     * ran, "<=" the pools' peak sum (the heap never held more).
     */
    static String liveHeap(Result r) {
        if (r.heapAfterGcBytes >= 0) {
            return mib(r.heapAfterGcBytes);
        }
        return r.peakHeapBytes < 0 ? "n/a" : "<=" + mib(r.peakHeapBytes);
    }

    /** One line per engine whose write amplification is missing, saying why. */
    static List<String> writeAmpNotes(List<Result> results) {
        Map<String, String> notes = new LinkedHashMap<>();
        for (Result r : results) {
            if (r.ok() && r.writeAmplification == null && r.writeAmplificationNote != null
                    && !"no writes".equals(r.writeAmplificationNote)) {
                notes.putIfAbsent(r.engine, "w-amp n/a for " + r.engine + ": " + r.writeAmplificationNote);
            }
        }
        return new ArrayList<>(notes.values());
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, v >= 1000 ? "%.0f" : "%.2f", v);
    }

    /** Side-by-side throughput and P99 with ratios against the first engine. */
    public static void printComparison(PrintStream out, List<Result> results, List<String> engines,
            List<String> workloads) {
        String base = engines.get(0);
        out.println();
        out.println("Comparison: ops/s (ratio vs " + base + ", >1 = faster than " + base + ") and P99 latency in us"
                + " (ratio vs " + base + ", <1 = lower than " + base + ")");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s", "benchmark"));
        for (String e : engines) {
            head.append(String.format(Locale.ROOT, " %24s %20s", e + " ops/s", e + " P99"));
        }
        out.println(head);
        for (String w : workloads) {
            Result b = find(results, base, w);
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-16s", w));
            for (String e : engines) {
                Result r = find(results, e, w);
                row.append(String.format(Locale.ROOT, " %24s %20s", opsCell(r, b, e.equals(base)), p99Cell(r, b, e.equals(base))));
            }
            out.println(row);
        }
    }

    private static String opsCell(Result r, Result base, boolean isBase) {
        if (r == null || !r.ok()) {
            return "n/a";
        }
        String v = String.format(Locale.ROOT, "%,.0f", r.opsPerSec());
        if (isBase) {
            return v;
        }
        Double q = ratio(r, base);
        return v + (q == null ? " (-)" : String.format(Locale.ROOT, " (%.2fx)", q));
    }

    private static String p99Cell(Result r, Result base, boolean isBase) {
        if (r == null || !r.ok()) {
            return "n/a";
        }
        String v = f2(r.micros(99));
        if (isBase || base == null || !base.ok() || base.micros(99) <= 0) {
            return v;
        }
        return v + String.format(Locale.ROOT, " (%.2fx)", r.micros(99) / base.micros(99));
    }

    /** The comparison as a Markdown table (for docs/benchmarks.md). */
    public static String markdown(List<Result> results, List<String> engines, List<String> workloads) {
        String base = engines.get(0);
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark |");
        for (String e : engines) {
            sb.append(' ').append(e).append(" ops/s |");
        }
        for (String e : engines) {
            sb.append(' ').append(e).append(" P50 / P99 / P99.9 µs |");
        }
        sb.append(" w-amp (").append(String.join(" / ", engines)).append(") |\n|---|");
        sb.append("---:|".repeat(engines.size() * 2)).append("---|\n");
        for (String w : workloads) {
            Result b = find(results, base, w);
            sb.append("| ").append(w).append(" |");
            for (String e : engines) {
                sb.append(' ').append(opsCell(find(results, e, w), b, e.equals(base))).append(" |");
            }
            for (String e : engines) {
                Result r = find(results, e, w);
                sb.append(' ').append(r == null || !r.ok() ? "n/a"
                        : f2(r.micros(50)) + " / " + f2(r.micros(99)) + " / " + f2(r.micros(99.9))).append(" |");
            }
            List<String> wa = new ArrayList<>();
            for (String e : engines) {
                Result r = find(results, e, w);
                wa.add(r == null || !r.ok() ? "n/a" : writeAmp(r));
            }
            sb.append(' ').append(String.join(" / ", wa)).append(" |\n");
        }
        for (Result r : results) {
            if (!r.ok()) {
                sb.append("\n").append(r.engine).append(' ').append(r.workload).append(": ")
                        .append(r.status == Result.Status.NA ? "n/a — " : "failed — ").append(r.note).append("  ");
            }
        }
        for (String note : writeAmpNotes(results)) {
            sb.append("\n").append(note).append("  ");
        }
        return sb.toString();
    }

    /**
     * The per-mode costs of a mode comparison as a markdown table: one row per benchmark and mode
     * with throughput (and its ratio against the first mode), latency percentiles, stall, the
     * compute node's CPU per operation, every other node's CPU seconds, the bytes through the
     * memory node and to storage, write amplification and where flushes and compactions ran.
     */
    public static String modeCostsMarkdown(List<Result> results, List<String> modes, List<String> workloads) {
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | mode | ops/s | vs ").append(modes.get(0))
                .append(" | P50 / P99 / P99.9 µs | stall ms | compute CPU µs/op | memory node CPU s | flush workers CPU s"
                        + " | compactors CPU s | memory node MB in / out | storage MB written | w-amp"
                        + " | flushes local / offloaded | compactions local / offloaded |\n");
        sb.append("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|\n");
        for (String w : workloads) {
            Result base = find(results, modes.get(0), w);
            for (String m : modes) {
                Result r = find(results, m, w);
                if (r == null) {
                    continue;
                }
                sb.append("| ").append(w).append(" | ").append(m).append(" | ");
                if (!r.ok()) {
                    sb.append(r.status == Result.Status.NA ? "n/a" : "failed").append(" |").append(" |".repeat(12))
                            .append("\n");
                    continue;
                }
                double[] cpu = cpuByRole(r);
                sb.append(String.format(Locale.ROOT, "%,d", Math.round(r.opsPerSec()))).append(" | ");
                sb.append(base != null && base.ok() && base != r && base.opsPerSec() > 0
                        ? String.format(Locale.ROOT, "%.2fx", r.opsPerSec() / base.opsPerSec()) : "").append(" | ");
                sb.append(f2(r.micros(50))).append(" / ").append(f2(r.micros(99))).append(" / ")
                        .append(f2(r.micros(99.9))).append(" | ");
                sb.append(r.stallMillis < 0 ? "-" : String.format(Locale.ROOT, "%.0f", r.stallMillis)).append(" | ");
                sb.append(r.cpuSeconds < 0 || r.ops == 0 ? "-"
                        : String.format(Locale.ROOT, "%.2f", r.cpuSeconds * 1e6 / r.ops)).append(" | ");
                for (int i = 1; i <= 3; i++) { // "-": the mode has no such node (or its CPU was not measured)
                    String role = NODE_ROLES.get(i);
                    boolean present = r.daemonCpuSeconds.keySet().stream().anyMatch(d -> nodeRole(d).equals(role));
                    sb.append(present ? String.format(Locale.ROOT, "%.2f", cpu[i]) : "-").append(" | ");
                }
                sb.append(r.memnodeBytesIn < 0 ? "-" : String.format(Locale.ROOT, "%.1f / %.1f", r.memnodeBytesIn / 1e6,
                        r.memnodeBytesOut / 1e6)).append(" | ");
                sb.append(r.storageBytesWritten < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.storageBytesWritten / 1e6))
                        .append(" | ");
                sb.append(writeAmp(r)).append(" | ");
                sb.append(r.flushesByPlace == null ? "-" : r.flushesByPlace[0] + " / " + r.flushesByPlace[1]).append(" | ");
                sb.append(r.compactionsByPlace == null ? "-" : r.compactionsByPlace[0] + " / " + r.compactionsByPlace[1])
                        .append(" |\n");
            }
        }
        return sb.toString();
    }

    /** One result as a JSON object. */
    static Map<String, Object> toJson(Result r, Map<String, Object> settings, Result base) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", r.engine);
        m.put("mode", r.mode);
        m.put("workload", r.workload);
        m.put("status", r.status == Result.Status.NA ? "n/a" : r.status.name().toLowerCase(Locale.ROOT));
        m.put("note", r.note);
        if (r.engineState != null) {
            m.put("engine_state", r.engineState);
        }
        if (r.shardState != null) {
            m.put("shard_state", r.shardState);
        }
        m.put("settings", settings);
        m.put("ops", r.ops);
        m.put("seconds", r.seconds);
        m.put("ops_per_sec", r.ok() ? r.opsPerSec() : null);
        m.put("micros_per_op", r.ok() ? r.microsPerOp() : null);
        m.put("mb_per_sec", r.ok() ? r.mbPerSec() : null);
        m.put("found", r.found);
        m.put("percentiles_us", r.ok() ? percentiles(r.latency) : null);
        if (!r.opLatency.isEmpty()) {
            Map<String, Object> ops = new LinkedHashMap<>();
            r.opLatency.forEach((k, h) -> {
                Map<String, Object> p = percentiles(h);
                p.put("count", h.getTotalCount());
                ops.put(k, p);
            });
            m.put("op_latency_us", ops);
        }
        m.put("write_amplification", r.writeAmplification);
        m.put("write_amplification_note", r.writeAmplificationNote);
        m.put("disk_bytes", r.diskBytes);
        m.put("peak_heap_bytes", r.peakHeapBytes);
        m.put("heap_after_gc_bytes", r.heapAfterGcBytes);
        m.put("gc_pauses", r.gcPauses);
        m.put("gc_pause_millis", r.gcPauseMillis);
        m.put("gc_max_pause_millis", r.gcMaxPauseMillis);
        m.put("stall_millis", r.stallMillis < 0 ? null : r.stallMillis);
        m.put("cpu_seconds", r.cpuSeconds < 0 ? null : r.cpuSeconds);
        m.put("rss_bytes", r.rssBytes);
        // the other nodes: each daemon's CPU, the bytes through the memory node, where flushes and compactions ran
        m.put("daemon_cpu_seconds", r.daemonCpuSeconds.isEmpty() ? null : new LinkedHashMap<>(r.daemonCpuSeconds));
        m.put("storage_bytes_written", r.storageBytesWritten < 0 ? null : r.storageBytesWritten);
        m.put("backup_disk_write_bytes", r.daemonDiskWriteBytes.isEmpty() ? null : new LinkedHashMap<>(r.daemonDiskWriteBytes));
        m.put("replication_bytes_sent", r.daemonDiskWriteBytes.isEmpty() ? null : r.replicationBytesSent);
        m.put("storage_bytes_by_kind", r.storageBytesByKind == null ? null
                : ordered("wal", r.storageBytesByKind[0], "flush", r.storageBytesByKind[1], "compaction",
                        r.storageBytesByKind[2]));
        m.put("memnode_bytes_in", r.memnodeBytesIn < 0 ? null : r.memnodeBytesIn);
        m.put("memnode_bytes_out", r.memnodeBytesOut < 0 ? null : r.memnodeBytesOut);
        m.put("flushes_by_place", r.flushesByPlace == null ? null : ordered("local", r.flushesByPlace[0],
                "offloaded", r.flushesByPlace[1], "fallback", r.flushesByPlace[2]));
        m.put("compactions_by_place", r.compactionsByPlace == null ? null : ordered("local", r.compactionsByPlace[0],
                "offloaded", r.compactionsByPlace[1], "fallback", r.compactionsByPlace[2]));
        m.put("ratio_vs_first", base == null ? null : ratio(r, base));
        List<Object> series = new ArrayList<>();
        synchronized (r.throughputSeries) {
            for (double[] p : r.throughputSeries) {
                series.add(List.of(round(p[0], 3), round(p[1], 0)));
            }
        }
        m.put("throughput_series", series);
        return m;
    }

    /** Three named counts in the order given (Map.of's order changes from run to run). */
    private static Map<String, Object> ordered(String k1, long v1, String k2, long v2, String k3, long v3) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        m.put(k3, v3);
        return m;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static Map<String, Object> percentiles(org.HdrHistogram.Histogram h) {
        Map<String, Object> p = new LinkedHashMap<>();
        boolean empty = h.getTotalCount() == 0;
        p.put("p50", empty ? 0.0 : h.getValueAtPercentile(50) / 1e3);
        p.put("p90", empty ? 0.0 : h.getValueAtPercentile(90) / 1e3);
        p.put("p99", empty ? 0.0 : h.getValueAtPercentile(99) / 1e3);
        p.put("p99_9", empty ? 0.0 : h.getValueAtPercentile(99.9) / 1e3);
        p.put("p99_99", empty ? 0.0 : h.getValueAtPercentile(99.99) / 1e3);
        p.put("max", empty ? 0.0 : h.getMaxValue() / 1e3);
        p.put("mean", empty ? 0.0 : h.getMean() / 1e3);
        return p;
    }

    /** Writes {@code results.json} into {@code dir}. */
    public static Path writeJson(Path dir, Map<String, Object> header, List<Result> results, List<String> engines,
            Map<String, Object> settings) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>(header);
        List<Object> list = new ArrayList<>();
        for (Result r : results) {
            Result base = engines.size() > 1 ? find(results, engines.get(0), r.workload) : null;
            list.add(toJson(r, settings, base));
        }
        root.put("results", list);
        Files.createDirectories(dir);
        Path p = dir.resolve("results.json");
        Files.writeString(p, Json.write(root), StandardCharsets.UTF_8);
        return p;
    }

    /**
     * Writes per benchmark {@code throughput-NAME.png} (ops/s over time, one line per engine) and
     * {@code latency-NAME.png} (percentiles, one bar series per engine, log scale), {@code
     * latency-cdf-NAME.png} (the latency CDF per engine, log scale), {@code
     * cpu-NAME.png} (CPU seconds per node, stacked, where the results have CPU figures) and {@code
     * summary-throughput.png}. Returns the files written.
     */
    public static List<Path> writeCharts(Path dir, List<Result> results, List<String> engines, List<String> workloads)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        for (String w : workloads) {
            XYChart tp = new XYChartBuilder().width(900).height(480).title("Throughput over time: " + w)
                    .xAxisTitle("seconds since start").yAxisTitle("ops/s").build();
            tp.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            tp.getStyler().setYAxisDecimalPattern("#,###");
            CategoryChart lat = new CategoryChartBuilder().width(900).height(480).title("Latency percentiles: " + w)
                    .xAxisTitle("percentile").yAxisTitle("microseconds (log scale)").build();
            lat.getStyler().setYAxisLogarithmic(true);
            // bars start at zero, which a log axis cannot show: draw each engine's percentiles as a line
            lat.getStyler().setDefaultSeriesRenderStyle(CategorySeriesRenderStyle.Line);
            lat.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
            boolean anyTp = false;
            boolean anyLat = false;
            XYChart cdf = new XYChartBuilder().width(900).height(480).title("Latency CDF: " + w)
                    .xAxisTitle("microseconds (log scale)").yAxisTitle("fraction of operations at or below").build();
            cdf.getStyler().setXAxisLogarithmic(true);
            cdf.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
            List<String> cats = new ArrayList<>();
            for (double p : CHART_PERCENTILES) {
                cats.add(p >= 100 ? "max" : "P" + (p == Math.rint(p) ? String.valueOf((int) p) : String.valueOf(p)));
            }
            for (String e : engines) {
                Result r = find(results, e, w);
                if (r == null || !r.ok()) {
                    continue;
                }
                List<double[]> s;
                synchronized (r.throughputSeries) {
                    s = new ArrayList<>(r.throughputSeries);
                }
                if (!s.isEmpty()) {
                    double[] x = new double[s.size()];
                    double[] y = new double[s.size()];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = s.get(i)[0];
                        y[i] = s.get(i)[1];
                    }
                    tp.addSeries(e, x, y).setMarker(SeriesMarkers.NONE);
                    anyTp = true;
                }
                if (r.latency.getTotalCount() > 0) {
                    List<Number> ys = new ArrayList<>();
                    for (double p : CHART_PERCENTILES) {
                        ys.add(Math.max(0.01, r.micros(p)));
                    }
                    lat.addSeries(e, cats, ys);
                    double[][] pts = cdfPoints(r.latency);
                    cdf.addSeries(e, pts[0], pts[1]).setMarker(SeriesMarkers.NONE);
                    anyLat = true;
                }
            }
            if (anyTp) {
                files.add(save(tp, dir.resolve("throughput-" + w)));
            }
            if (anyLat) {
                files.add(save(lat, dir.resolve("latency-" + w)));
                files.add(save(cdf, dir.resolve("latency-cdf-" + w)));
            }
        }
        for (String w : workloads) {
            Path cpu = writeCpuChart(dir, results, engines, w);
            if (cpu != null) {
                files.add(cpu);
            }
        }
        CategoryChart sum = new CategoryChartBuilder().width(900).height(480).title("Throughput by benchmark")
                .xAxisTitle("benchmark").yAxisTitle("ops/s").build();
        sum.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        sum.getStyler().setYAxisDecimalPattern("#,###");
        boolean any = false;
        for (String e : engines) {
            List<String> xs = new ArrayList<>();
            List<Number> ys = new ArrayList<>();
            for (String w : workloads) {
                Result r = find(results, e, w);
                xs.add(w);
                ys.add(r != null && r.ok() ? r.opsPerSec() : 0.0);
                any |= r != null && r.ok();
            }
            sum.addSeries(e, xs, ys);
        }
        if (any) {
            files.add(save(sum, dir.resolve("summary-throughput")));
        }
        return files;
    }

    /**
     * The latency CDF of a histogram: {x = microseconds, y = fraction of operations at or below},
     * from the lowest recorded value to the highest, at the percentiles 0, 1, …, 90, then halving
     * the distance to 100 (95, 97.5, 98.75, … past 99.9999) so the tail shows; x is at least 0.01 µs
     * (a log axis).
     */
    static double[][] cdfPoints(org.HdrHistogram.Histogram h) {
        List<double[]> pts = new ArrayList<>();
        for (int p = 0; p <= 90; p++) {
            pts.add(new double[] {h.getValueAtPercentile(p) / 1e3, p / 100.0});
        }
        for (double tail = 5; tail > 1e-4; tail /= 2) {
            double p = 100 - tail;
            pts.add(new double[] {h.getValueAtPercentile(p) / 1e3, p / 100.0});
        }
        pts.add(new double[] {h.getMaxValue() / 1e3, 1.0});
        double[][] xy = new double[2][pts.size()];
        for (int i = 0; i < pts.size(); i++) {
            xy[0][i] = Math.max(0.01, pts.get(i)[0]);
            xy[1][i] = pts.get(i)[1];
        }
        return xy;
    }

    /** The node roles of the CPU chart, in stacking order. */
    static final List<String> NODE_ROLES = List.of("compute node", "memory node", "flush workers", "compactors", "backups",
            "other");

    /**
     * The node a daemon of a run stands for, from its name: the memory node ({@code memnode}), a
     * flush worker ({@code bench-wN} started by the runner, {@code flushworker-N} of a cluster) or a
     * compactor ({@code bench-cN}, {@code compactor-N}).
     */
    static String nodeRole(String daemon) {
        if (daemon.equals("memnode")) {
            return "memory node";
        }
        if (daemon.startsWith("flushworker") || daemon.matches("bench-w\\d+")) {
            return "flush workers";
        }
        if (daemon.startsWith("compactor") || daemon.matches("bench-c\\d+")) {
            return "compactors";
        }
        if (daemon.startsWith("replica")) {
            return "backups";
        }
        return "other";
    }

    /**
     * CPU seconds per node role during benchmark {@code w}, per engine (mode): index i of the
     * result is {@link #NODE_ROLES}.get(i). The compute node is the bench process.
     */
    static double[] cpuByRole(Result r) {
        double[] v = new double[NODE_ROLES.size()];
        v[0] = Math.max(0, r.cpuSeconds);
        r.daemonCpuSeconds.forEach((d, c) -> v[NODE_ROLES.indexOf(nodeRole(d))] += c);
        return v;
    }

    /**
     * {@code cpu-NAME.png}: CPU seconds during benchmark {@code w} per mode, stacked by node (the
     * compute node, the memory node, the flush workers, the compactors); null if no result has CPU
     * figures.
     */
    private static Path writeCpuChart(Path dir, List<Result> results, List<String> engines, String w)
            throws IOException {
        CategoryChart c = new CategoryChartBuilder().width(900).height(480).title("CPU seconds per node: " + w)
                .xAxisTitle("mode").yAxisTitle("CPU seconds during the benchmark").build();
        c.getStyler().setStacked(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        List<String> xs = new ArrayList<>();
        List<double[]> per = new ArrayList<>();
        for (String e : engines) {
            Result r = find(results, e, w);
            if (r != null && r.ok() && r.cpuSeconds >= 0) {
                xs.add(e);
                per.add(cpuByRole(r));
            }
        }
        if (xs.isEmpty()) {
            return null;
        }
        for (int i = 0; i < NODE_ROLES.size(); i++) {
            List<Number> ys = new ArrayList<>();
            boolean any = false;
            for (double[] v : per) {
                ys.add(v[i]);
                any |= v[i] > 0;
            }
            if (any || i == 0) {
                c.addSeries(NODE_ROLES.get(i), xs, ys);
            }
        }
        return save(c, dir.resolve("cpu-" + w));
    }

    /** Writes {@code chart} as {@code base.png}; returns that file. */
    static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path base) throws IOException {
        BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
        return base.resolveSibling(base.getFileName() + ".png");
    }
}
