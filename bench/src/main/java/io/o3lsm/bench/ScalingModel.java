package io.o3lsm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * A calibrated bottleneck model of an o3lsm cluster: {@code scripts/scaling-model.sh}. It reads the
 * {@code results.json} of {@code bin/o3 bench --compare-modes ...} runs, turns each (mode, benchmark)
 * into costs per operation (CPU-seconds of the compute node, the memory node, the flush workers and
 * the compactors; bytes through the memory node, to storage and over each node's NIC) and predicts
 * the throughput of N compute nodes sharing M memory nodes, K flush workers, C compactors and one
 * storage tier: X(N) = min over resources r of capacity(r) / demand per op(r), where per-node
 * resources (the compute node's cores, its client threads, its NIC) have N times the capacity and
 * the shared ones do not. It names the binding resource at each N. docs/scaling.md states every
 * assumption; {@link #ASSUMPTIONS} is the short form printed with every report.
 *
 * <p>Stateless apart from one run's options; not thread-safe (a command-line tool).
 */
@Command(name = "scaling-model", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        sortOptions = false, description = {"Predicts the throughput of N compute nodes sharing memory nodes, flush "
                + "workers, compactors and storage, from per-operation costs measured by "
                + "bin/o3 bench --compare-modes ... --out DIR (DIR/results.json). See docs/scaling.md."})
public final class ScalingModel implements Callable<Integer> {

    /** The resources of the model, in the order tables and charts list them. */
    public enum Resource {
        COMPUTE_CPU("compute CPU", true),
        COMPUTE_THREAD("compute client threads", true),
        COMPUTE_NIC("compute NIC", true),
        LOCAL_DISK("local disk", true),
        MEMNODE_CPU("memory node CPU", false),
        MEMNODE_NIC("memory node NIC", false),
        WORKER_CPU("flush worker CPU", false),
        WORKER_NIC("flush worker NIC", false),
        COMPACTOR_CPU("compactor CPU", false),
        STORAGE("shared storage", false),
        /** Only on the measured host: every daemon on one shared core. */
        DAEMON_CORE("daemons' shared core", false);

        public final String label;
        /** Whether each compute node brings its own (capacity grows with N). */
        public final boolean perNode;

        Resource(String label, boolean perNode) {
            this.label = label;
            this.perNode = perNode;
        }
    }

    /** The model's assumptions in one line each; docs/scaling.md explains them. */
    static final List<String> ASSUMPTIONS = List.of(
            "Costs per operation are those measured at one node and do not change with N (no contention, no "
                    + "queueing, no skew; each compute node runs its own DB with the measured settings).",
            "Every cost in a benchmark's window is charged to its operations: flushes and compactions that were "
                    + "still owed when the benchmark ended (data left in memory, L0 debt) are not charged; work an "
                    + "earlier benchmark left that ran in the window is (flagged when it is over 12x the bytes written).",
            "Resources overlap perfectly (a pipeline with no stalls): X = min over resources of capacity / demand.",
            "A daemon's CPU is charged per op only in benchmarks where it had per-op work, minus its idle floor "
                    + "(CPU-s per s in benchmarks where it had none); the highest such idle rate is charged as a "
                    + "fixed loss of capacity per daemon.",
            "rdma transport: the memory node's CPU per byte moved over UCX shared memory in the mode's write "
                    + "benchmark (no reads; the one moving the most bytes per op) is taken as the cost of moving "
                    + "bytes, which an RDMA NIC does instead; what remains "
                    + "is the CRC32C check at COMMIT per byte shipped, and the per-request work (delegated reads). "
                    + "Compute, worker and compactor CPU stay as measured (pessimistic for RDMA).",
            "NICs are full duplex: a NIC's demand per op is the larger of its bytes in and out. The memory node's "
                    + "bytes out go to the compute node for delegated-read answers; the rest is split between the "
                    + "compute node and the flush workers by the count of flushes at each place in the window "
                    + "(results.json has no flushed bytes by place).",
            "Compactions of caas and o3 run on the storage tier next to the data: their bytes load storage, not a "
                    + "NIC. Compaction bytes read = written x --compaction-read-ratio (not measured per run).",
            "local mode is shared-nothing: each compute node has its own disk; every other mode keeps WAL and "
                    + "SSTs on the shared storage tier.",
            "A client thread of dm, dm-flush or o3 waits for the memory node's CPU on reads (share: the "
                    + "benchmark's read fraction) and "
                    + "for one network round trip per delegated request, estimated from the bytes into and out "
                    + "of the memory node; writes ship shards asynchronously and wait for nothing remote.",
            "The memory node's capacity (GiB) is not a resource: each DB is assumed to keep the measured DM budget.");

    // ------------------------------------------------------------------ options

    @Parameters(arity = "1..*", paramLabel = "[LABEL=]RESULTS.json", description = "results.json of bin/o3 bench "
            + "--compare-modes runs. Several files: the same mode and benchmark are pooled, unless a file is given "
            + "as LABEL=FILE (LABEL: letters, digits, . _ -): its benchmarks are then named BENCHMARK@LABEL and "
            + "pooled only with files of the same label (e.g. wal-off=A/results.json wal-on=B/results.json)")
    List<String> inputs;

    @Option(names = "--n", defaultValue = "1..64", description = "compute nodes, A..B (default ${DEFAULT-VALUE})")
    String nRange;

    @Option(names = "--memnodes", defaultValue = "1", description = "memory nodes M (default ${DEFAULT-VALUE})")
    int memnodes;

    @Option(names = "--memnode-cores", defaultValue = "2", description = "cores per memory node (default ${DEFAULT-VALUE})")
    double memnodeCores;

    @Option(names = "--workers", defaultValue = "2", description = "flush workers K (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--worker-cores", defaultValue = "1", description = "cores per flush worker (default ${DEFAULT-VALUE})")
    double workerCores;

    @Option(names = "--compactors", defaultValue = "1", description = "compactors C (default ${DEFAULT-VALUE})")
    int compactors;

    @Option(names = "--compactor-cores", defaultValue = "2", description = "cores per compactor (default ${DEFAULT-VALUE})")
    double compactorCores;

    @Option(names = "--compute-cores", defaultValue = "1", description = "cores per compute node (default ${DEFAULT-VALUE})")
    double computeCores;

    @Option(names = "--threads", description = "client threads per compute node (default: as in the measured run)")
    Integer threads;

    @Option(names = "--net-gbps", defaultValue = "100", description = "NIC bandwidth of every node, Gb/s, each "
            + "direction (default ${DEFAULT-VALUE}; 0 = no network limit)")
    double netGbps;

    @Option(names = "--net-latency-us", defaultValue = "2", description = "round trip of one request over the network, "
            + "microseconds (default ${DEFAULT-VALUE})")
    double netLatencyUs;

    @Option(names = "--transport", defaultValue = "rdma", description = "rdma (the NIC moves the bytes) or shm (the "
            + "memory node's CPU per byte as measured over UCX shared memory) (default ${DEFAULT-VALUE})")
    String transport;

    @Option(names = "--storage-gbs", defaultValue = "10", description = "shared storage tier, GB/s of reads plus "
            + "writes in all, after replication (default ${DEFAULT-VALUE}; 0 = no limit)")
    double storageGBs;

    @Option(names = "--local-disk-gbs", defaultValue = "2", description = "local mode: each compute node's own disk, "
            + "GB/s (default ${DEFAULT-VALUE}; 0 = no limit)")
    double localDiskGBs;

    @Option(names = "--crc-ns-per-byte", defaultValue = "0.1", description = "rdma: the memory node's CRC32C check at "
            + "COMMIT, ns per byte shipped (default ${DEFAULT-VALUE}: about 100 us per MiB, dm-protocol.md)")
    double crcNsPerByte;

    @Option(names = "--compaction-read-ratio", defaultValue = "1.0", description = "compaction bytes read per byte "
            + "written (default ${DEFAULT-VALUE}; caas on a local directory measured 1.02-1.03)")
    double compactionReadRatio;

    @Option(names = "--daemon-idle-cpu", defaultValue = "auto", description = "CPU-s per second a daemon burns with "
            + "nothing to do: auto (per role, from the benchmarks where it had no per-op work: the lowest rate is "
            + "subtracted from busy benchmarks, the highest charged as lost capacity) or one number for both "
            + "(default ${DEFAULT-VALUE})")
    String daemonIdleCpu;

    @Option(names = "--compute-bound", defaultValue = "cpu", description = "cpu (the compute node's bound from its CPU "
            + "per op) or measured (from its measured time per op) (default ${DEFAULT-VALUE})")
    String computeBound;

    @Option(names = "--modes", split = ",", description = "modes to model (default: all in the inputs)")
    List<String> modes;

    @Option(names = "--workloads", split = ",", description = "benchmarks to model (default: all in the inputs)")
    List<String> workloads;

    @Option(names = "--bounds-modes", split = ",", defaultValue = "caas,o3", description = "modes that get a chart "
            + "of every resource's bound against N (default ${DEFAULT-VALUE})")
    List<String> boundsModes;

    @Option(names = "--out", description = "write the markdown report to this file (default: stdout)")
    Path out;

    @Option(names = "--label", description = "a label for the report's title and every chart's, e.g. 'dev run, 300K keys'")
    String label;

    @Option(names = "--charts", description = "write PNG charts into this directory: scaling-BENCHMARK.png and "
            + "bounds-MODE-BENCHMARK.png")
    Path charts;

    @Option(names = "--chart-workloads", split = ",", description = "benchmarks that get charts (BENCHMARK or "
            + "BENCHMARK@LABEL; default: every benchmark in the report)")
    List<String> chartWorkloads;

    /** Results of the inputs that were not used, one line each (for the report). */
    private final List<String> skipped = new ArrayList<>();
    private PrintStream stdout = System.out;
    private PrintStream stderr = System.err;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs with {@code args}; the report (without --out) goes to {@code out}, errors to {@code err}. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        ScalingModel m = new ScalingModel();
        m.stdout = out;
        m.stderr = err;
        CommandLine cl = new CommandLine(m);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        try {
            Spec cluster = clusterSpec();
            int[] n = parseRange(nRange);
            List<Sample> samples = new ArrayList<>();
            for (String in : inputs) {
                Input input = parseInput(in);
                samples.addAll(readSamples(input.path(), input.label(), skipped));
            }
            List<Sample> pooled = pool(samples);
            // calibrated on every benchmark of the inputs (the idle rates and each mode's memory-node CPU
            // per byte come from several), then --modes/--workloads pick what is reported
            Idle idle = idleRates(pooled, daemonIdleCpu);
            List<Calibration> cals = calibrate(pooled, idle, crcNsPerByte * 1e-9, compactionReadRatio);
            cals.removeIf(c -> modes != null && !modes.contains(c.mode)
                    || workloads != null && !workloads.contains(c.workload) && !workloads.contains(c.benchmark));
            if (cals.isEmpty()) {
                throw new IllegalArgumentException("no usable result (mode and benchmark) in " + inputs
                        + (modes != null || workloads != null ? " after --modes/--workloads" : ""));
            }
            checkCapacities(cals, cluster);
            List<Calibration> charted = new ArrayList<>(cals);
            charted.removeIf(c -> chartWorkloads != null && !chartWorkloads.contains(c.workload)
                    && !chartWorkloads.contains(c.benchmark));
            String md = report(cals, idle, cluster, n, charted);
            if (out != null) {
                if (out.getParent() != null) {
                    Files.createDirectories(out.getParent());
                }
                Files.writeString(out, md, StandardCharsets.UTF_8);
                stdout.println("Wrote " + out);
            } else {
                stdout.print(md);
            }
            if (charts != null) {
                // the report is written: a chart that cannot be drawn (AWT, fonts, a value the log axes
                // refuse) is a warning and a non-zero exit, not a stack trace
                try {
                    List<Path> files = chartWriter.write(charts, charted, cluster, n, boundsModes, label);
                    stdout.println("Wrote " + files.size() + " charts into " + charts);
                } catch (IOException | RuntimeException | Error e) {
                    stdout.flush();
                    stderr.println("scaling-model: warning: the report was written" + (out != null ? " (" + out + ")" : "")
                            + " but the charts were not: " + e);
                    stderr.flush();
                    return 1;
                }
            }
            stdout.flush();
            return 0;
        } catch (IllegalArgumentException e) {
            stderr.println("scaling-model: " + e.getMessage());
            stderr.flush();
            return 2;
        } catch (IOException e) {
            stderr.println("scaling-model: " + e);
            stderr.flush();
            return 1;
        }
    }

    private Spec clusterSpec() {
        if (!transport.equals("rdma") && !transport.equals("shm")) {
            throw new IllegalArgumentException("--transport must be rdma or shm, was " + transport);
        }
        if (!computeBound.equals("cpu") && !computeBound.equals("measured")) {
            throw new IllegalArgumentException("--compute-bound must be cpu or measured, was " + computeBound);
        }
        for (double v : new double[] {memnodeCores, workerCores, compactorCores, netGbps, netLatencyUs, storageGBs,
                localDiskGBs, crcNsPerByte, compactionReadRatio}) {
            if (v < 0 || Double.isNaN(v)) {
                throw new IllegalArgumentException("sizes, rates and core counts must be >= 0");
            }
        }
        if (memnodes < 0 || workers < 0 || compactors < 0) {
            throw new IllegalArgumentException("--memnodes, --workers and --compactors must be >= 0");
        }
        if (computeCores <= 0 || threads != null && threads <= 0) {
            throw new IllegalArgumentException("--compute-cores and --threads must be > 0");
        }
        return new Spec(computeCores, threads == null ? 0 : threads, netGbps == 0 ? INF : netGbps * 1e9 / 8,
                netLatencyUs * 1e-6, memnodes, memnodeCores, workers, workerCores, compactors, compactorCores,
                storageGBs == 0 ? INF : storageGBs * 1e9, localDiskGBs == 0 ? INF : localDiskGBs * 1e9,
                transport.equals("rdma"), computeBound.equals("measured"), false);
    }

    static final double INF = Double.POSITIVE_INFINITY;

    /** One input: a results.json and its label ("" = none). */
    record Input(String label, Path path) {
    }

    /**
     * "LABEL=FILE" or "FILE". A string that names an existing file is a file even if it looks like
     * LABEL=FILE; a label is letters, digits, '.', '_' and '-'.
     */
    static Input parseInput(String s) {
        int eq = s.indexOf('=');
        if (eq > 0 && !Files.isRegularFile(Path.of(s))) {
            String label = s.substring(0, eq);
            if (!label.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("input '" + s + "': a label (before '=') must be letters, digits, "
                        + "'.', '_' or '-'");
            }
            if (eq == s.length() - 1) {
                throw new IllegalArgumentException("input '" + s + "': no file after '='");
            }
            return new Input(label, Path.of(s.substring(eq + 1)));
        }
        return new Input("", Path.of(s));
    }

    /**
     * Refuses a cluster with no capacity for a role the modelled results put demand on: --memnodes 0,
     * --workers 0 or --compactors 0, or cores per daemon at or below the background CPU charged to each
     * daemon of the role (X(N) would be 0 at every N).
     */
    static void checkCapacities(List<Calibration> cals, Spec s) {
        for (Calibration c : cals) {
            if (c.localStorage) {
                continue; // shared-nothing: no shared resource is modelled
            }
            String what = c.mode + "/" + c.workload;
            double memCpu = s.rdma() ? c.memnodeRdma : c.memnode;
            if (memCpu > 0 || c.mnIn > 0 || c.mnOut > 0) {
                requireRole("--memnodes", s.memnodes(), "--memnode-cores", s.memnodeCores(), memCpu,
                        c.idle.background(MEMNODE), what, "the memory node");
            }
            if (c.workers > 0 || c.workerNicIn() > 0 || c.flush * c.flushOffloaded > 0) {
                requireRole("--workers", s.workers(), "--worker-cores", s.workerCores(), c.workers,
                        c.idle.background(WORKERS), what, "flush workers");
            }
            if (c.compactors > 0) {
                requireRole("--compactors", s.compactors(), "--compactor-cores", s.compactorCores(), c.compactors,
                        c.idle.background(COMPACTORS), what, "compactors");
            }
        }
    }

    private static void requireRole(String countFlag, int count, String coresFlag, double cores, double cpuPerOp,
            double background, String what, String role) {
        if (count <= 0) {
            throw new IllegalArgumentException(countFlag + " " + count + ": " + what + " puts work on " + role
                    + ", which would then bound the throughput to 0; give " + countFlag + " >= 1 or leave that mode "
                    + "or benchmark out (--modes, --workloads)");
        }
        if (cpuPerOp > 0 && cores <= background) {
            throw new IllegalArgumentException(coresFlag + " " + g(cores) + ": " + what + " puts CPU on " + role
                    + ", but each has only " + g(cores) + " core(s) against " + f(background, 3) + " CPU-s per s of "
                    + "background (charged as lost capacity), which leaves nothing for work; give " + coresFlag
                    + " above " + f(background, 3) + " (or set --daemon-idle-cpu)");
        }
    }

    /** "A..B" (or "B", meaning 1..B) as {A, B}. */
    static int[] parseRange(String s) {
        try {
            String[] p = s.trim().split("\\.\\.");
            int a = p.length == 2 ? Integer.parseInt(p[0].trim()) : 1;
            int b = Integer.parseInt(p[p.length - 1].trim());
            if (p.length > 2 || a < 1 || b < a || b > 100_000) {
                throw new NumberFormatException();
            }
            return new int[] {a, b};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--n must be A..B with 1 <= A <= B, was '" + s + "'");
        }
    }

    // ------------------------------------------------------------------ input

    /** One (mode, benchmark): the sums of one or more results. */
    static final class Sample {
        String mode;
        /** The benchmark as reported: BENCHMARK, or BENCHMARK@LABEL for a labelled input. */
        String workload;
        /** The benchmark's name in results.json (what it does: reads, writes). */
        String benchmark;
        /** The input's label ("" = none). */
        String group = "";
        final List<String> sources = new ArrayList<>();
        final Set<String> commands = new LinkedHashSet<>();
        int runs;
        long ops;
        double seconds;
        double cpu;
        /** CPU-s per role: memnode, workers, compactors, other. */
        final Map<String, Double> daemonCpu = new LinkedHashMap<>();
        /** Daemon processes per role in the run (the largest count among the pooled runs). */
        final Map<String, Integer> daemonCount = new LinkedHashMap<>();
        /** The daemons with a CPU figure (names as in daemon_cpu_seconds). */
        final Set<String> daemonNames = new LinkedHashSet<>();
        double mnIn;
        double mnOut;
        boolean hasMemnodeBytes;
        double wal;
        double flush;
        double compaction;
        boolean hasByKind;
        boolean compactionEstimated;
        long flushesLocal;
        long flushesOffloaded;
        long compactionsLocal;
        long compactionsOffloaded;
        double stallMillis;
        /** Cumulative since the DB opened (the last pooled run's); NaN if not reported. */
        double writeAmplification = Double.NaN;
        int threads = 1;
        int keySize = 16;
        int valueSize = 100;
        long dmBudget;
        /** settings.wal: true, false, or null when not recorded. */
        Boolean walOn;
        boolean pinned;
        final List<String> notes = new ArrayList<>();
    }

    static final String MEMNODE = "memnode";
    static final String WORKERS = "workers";
    static final String COMPACTORS = "compactors";
    static final String OTHER = "other";

    /** The role of a daemon of a run, by its name (as {@link Report#nodeRole}). */
    static String role(String daemon) {
        return switch (Report.nodeRole(daemon)) {
            case "memory node" -> MEMNODE;
            case "flush workers" -> WORKERS;
            case "compactors" -> COMPACTORS;
            default -> OTHER;
        };
    }

    /** The usable results of one results.json, one sample each; results not OK are skipped. */
    static List<Sample> readSamples(Path file) {
        return readSamples(file, "", new ArrayList<>());
    }

    /**
     * As {@link #readSamples(Path)}, with the input's {@code group} label ("" = none: benchmarks keep
     * their names), adding a line per skipped result (failed or n/a) to {@code skipped}.
     */
    static List<Sample> readSamples(Path file, String group, List<String> skipped) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() != null && !e.getMessage().equals(file.toString()) ? ": " + e.getMessage() : "")
                    + ")");
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top) || !(top.get("results") instanceof List<?> list)) {
            throw new IllegalArgumentException(file + ": no \"results\" list (is it a bin/o3 bench results.json?)");
        }
        String command = top.get("command") instanceof String c ? c : "(command not recorded)";
        List<Sample> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> r)) {
                throw new IllegalArgumentException(file + ": a result is not an object");
            }
            String engine = str(r, "engine");
            String mode = str(r, "mode");
            String workload = str(r, "workload");
            // --compare-modes writes engine = mode name; a single-mode run (--mode dm) writes engine "o3"
            // with its mode: o3 is itself a mode's name, so the engine's mode field decides first
            String label = "o3".equals(engine) && mode != null ? mode : engine;
            if (label == null || workload == null) {
                throw new IllegalArgumentException(file + ": a result without engine or workload");
            }
            String where = file + ": result " + label + "/" + workload;
            if (!"ok".equals(r.get("status"))) {
                skipped.add(where + ": skipped, status " + r.get("status") + (r.get("note") != null ? " (" + r.get("note")
                        + ")" : ""));
                continue;
            }
            Sample s = new Sample();
            s.mode = label;
            s.benchmark = workload;
            s.group = group;
            s.workload = group.isEmpty() ? workload : workload + "@" + group;
            s.sources.add((group.isEmpty() ? "" : group + "=") + file);
            s.commands.add(command);
            s.runs = 1;
            s.ops = (long) num(r, "ops", where, true);
            s.seconds = num(r, "seconds", where, true);
            if (s.ops <= 0 || s.seconds <= 0) {
                throw new IllegalArgumentException(where + " has no operations or no time (ops " + s.ops
                        + ", seconds " + s.seconds + ")");
            }
            if (r.get("cpu_seconds") == null) {
                throw new IllegalArgumentException(where + " has no cpu_seconds (the compute node's CPU): the "
                        + "model needs the CPU figures of bin/o3 bench on Linux (/proc/PID/stat)");
            }
            s.cpu = num(r, "cpu_seconds", where, true);
            if (!(s.cpu > 0)) {
                throw new IllegalArgumentException(where + " has cpu_seconds " + s.cpu + ": the compute node's CPU "
                        + "must be > 0 (a negative figure means it was not measured); the model divides by it");
            }
            Object dcs = r.get("daemon_cpu_seconds");
            if (dcs != null && !(dcs instanceof Map<?, ?>)) {
                throw new IllegalArgumentException(where + ": bad input: daemon_cpu_seconds is not an object of "
                        + "daemon name -> CPU-s (was " + dcs + ")");
            }
            if (dcs instanceof Map<?, ?> d) {
                for (Map.Entry<?, ?> e : d.entrySet()) {
                    String name = String.valueOf(e.getKey());
                    if (e.getValue() == null) {
                        continue; // no figure: reported as missing below
                    }
                    if (!(e.getValue() instanceof Number v) || !(v.doubleValue() >= 0)) {
                        throw new IllegalArgumentException(where + ": bad input: daemon_cpu_seconds." + name
                                + " is " + e.getValue() + ", not a number of CPU-seconds >= 0");
                    }
                    String role = role(name);
                    s.daemonCpu.merge(role, v.doubleValue(), Double::sum);
                    s.daemonCount.merge(role, 1, Integer::sum);
                    s.daemonNames.add(name);
                }
            }
            if (r.get("memnode_bytes_in") != null) {
                s.hasMemnodeBytes = true;
                s.mnIn = num(r, "memnode_bytes_in", where, true);
                s.mnOut = num(r, "memnode_bytes_out", where, false);
            } else if (Modes.isDm(label)) {
                s.notes.add("no memnode_bytes_in/out: no bytes through the memory node are charged (its NIC, the "
                        + "compute NIC's share and the rdma adjustment understate)");
            }
            Map<?, ?> settings = r.get("settings") instanceof Map<?, ?> m ? m : Map.of();
            s.threads = (int) Math.max(1, numOr(settings, "threads", 1));
            s.keySize = (int) numOr(settings, "key_size", 16);
            s.valueSize = (int) numOr(settings, "value_size", 100);
            s.dmBudget = (long) numOr(settings, "dm_budget", 0);
            s.walOn = settings.get("wal") instanceof Boolean w ? w : null;
            s.pinned = command.contains("--pin");
            if (r.get("storage_bytes_by_kind") instanceof Map<?, ?> k) {
                s.hasByKind = true;
                s.wal = numOr(k, "wal", 0);
                s.flush = numOr(k, "flush", 0);
                s.compaction = numOr(k, "compaction", 0);
            } else if (r.get("storage_bytes_written") != null) {
                // older results: no split by kind. WAL ~ user bytes; the rest flushed and compacted,
                // split with the write amplification (cumulative since open: an approximation)
                double total = num(r, "storage_bytes_written", where, true);
                double wa = r.get("write_amplification") instanceof Number w ? w.doubleValue() : 0;
                double user = (Boolean.FALSE.equals(s.walOn) ? 0 : writeFraction(workload)) * s.ops
                        * (s.keySize + s.valueSize);
                s.wal = Math.min(total, user);
                double rest = total - s.wal;
                double flushShare = wa > 2 ? 1 / (wa - 1) : 1;
                s.flush = rest * flushShare;
                s.compaction = rest - s.flush;
                s.compactionEstimated = true;
                s.notes.add("no storage_bytes_by_kind: WAL, flush and compaction bytes estimated from "
                        + "storage_bytes_written and the write amplification");
            } else {
                s.notes.add("no storage bytes (neither storage_bytes_by_kind nor storage_bytes_written): WAL, flush "
                        + "and compaction bytes taken as 0, so storage, disk and NIC bounds are missing or too high");
            }
            if (r.get("flushes_by_place") instanceof Map<?, ?> f) {
                s.flushesLocal = (long) (numOr(f, "local", 0) + numOr(f, "fallback", 0));
                s.flushesOffloaded = (long) numOr(f, "offloaded", 0);
            }
            if (r.get("compactions_by_place") instanceof Map<?, ?> c) {
                s.compactionsLocal = (long) (numOr(c, "local", 0) + numOr(c, "fallback", 0));
                s.compactionsOffloaded = (long) numOr(c, "offloaded", 0);
            }
            s.stallMillis = r.get("stall_millis") instanceof Number st ? st.doubleValue() : 0;
            if (r.get("write_amplification") instanceof Number wa) {
                s.writeAmplification = wa.doubleValue();
            }
            out.add(s);
        }
        noteMissingDaemons(out);
        return out;
    }

    /**
     * Notes, per result, a daemon that the mode needs but that has no CPU figure: one that other results
     * of the same mode in the file have (it was gone at the start or end of this benchmark: bin/o3 bench
     * leaves a gone daemon out of daemon_cpu_seconds), or a role the mode uses with no daemon at all.
     */
    private static void noteMissingDaemons(List<Sample> samples) {
        Map<String, Set<String>> byMode = new LinkedHashMap<>();
        for (Sample s : samples) {
            byMode.computeIfAbsent(s.mode, k -> new LinkedHashSet<>()).addAll(s.daemonNames);
        }
        for (Sample s : samples) {
            List<String> gone = new ArrayList<>();
            for (String d : byMode.get(s.mode)) {
                if (!s.daemonNames.contains(d)) {
                    gone.add(d);
                }
            }
            if (!gone.isEmpty()) {
                s.notes.add("daemon_cpu_seconds has no figure for " + String.join(", ", gone) + " (present in this "
                        + "mode's other benchmarks: gone at the start or end of this one): its CPU is not charged");
            }
            List<String> roles = new ArrayList<>();
            if (Modes.isDm(s.mode)) {
                roles.add(MEMNODE);
            }
            if (Modes.offloadsFlushes(s.mode)) {
                roles.add(WORKERS);
            }
            if (Modes.offloadsCompactions(s.mode)) {
                roles.add(COMPACTORS);
            }
            for (String role : roles) {
                if (!s.daemonCount.containsKey(role) && byMode.get(s.mode).stream().noneMatch(d -> role(d).equals(role))) {
                    s.notes.add("daemon_cpu_seconds has no " + role + " figure although " + s.mode + " uses them "
                            + "(gone, or daemons the runner did not start): their CPU is not charged");
                }
            }
        }
    }

    private static String str(Map<?, ?> m, String k) {
        return m.get(k) instanceof String s ? s : null;
    }

    private static double num(Map<?, ?> m, String k, String where, boolean required) {
        Object v = m.get(k);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (required || v != null) {
            throw new IllegalArgumentException(where + ": " + k + " is " + (v == null ? "missing" : "not a number"));
        }
        return 0;
    }

    private static double numOr(Map<?, ?> m, String k, double dflt) {
        return m.get(k) instanceof Number n ? n.doubleValue() : dflt;
    }

    /** Pools samples of the same mode and benchmark (sums: costs become ratios of sums). */
    static List<Sample> pool(List<Sample> samples) {
        Map<String, Sample> byKey = new LinkedHashMap<>();
        for (Sample s : samples) {
            String key = s.mode + "\u0000" + s.workload;
            Sample p = byKey.get(key);
            if (p == null) {
                byKey.put(key, s);
                continue;
            }
            if (p.keySize != s.keySize || p.valueSize != s.valueSize || p.threads != s.threads) {
                p.notes.add("pooled runs with different key/value sizes or threads (" + p.keySize + "/" + p.valueSize
                        + "/" + p.threads + " and " + s.keySize + "/" + s.valueSize + "/" + s.threads + ")");
            }
            p.sources.addAll(s.sources);
            p.commands.addAll(s.commands);
            p.runs += s.runs;
            p.ops += s.ops;
            p.seconds += s.seconds;
            p.cpu += s.cpu;
            s.daemonCpu.forEach((k, v) -> p.daemonCpu.merge(k, v, Double::sum));
            s.daemonCount.forEach((k, v) -> p.daemonCount.merge(k, v, Math::max));
            p.daemonNames.addAll(s.daemonNames);
            if (!java.util.Objects.equals(p.walOn, s.walOn)) {
                p.notes.add("pooled runs with the WAL on and off (give the files different labels: LABEL=FILE)");
                p.walOn = null;
            }
            p.hasMemnodeBytes |= s.hasMemnodeBytes;
            p.mnIn += s.mnIn;
            p.mnOut += s.mnOut;
            p.wal += s.wal;
            p.flush += s.flush;
            p.compaction += s.compaction;
            p.hasByKind &= s.hasByKind;
            p.compactionEstimated |= s.compactionEstimated;
            p.flushesLocal += s.flushesLocal;
            p.flushesOffloaded += s.flushesOffloaded;
            p.compactionsLocal += s.compactionsLocal;
            p.compactionsOffloaded += s.compactionsOffloaded;
            p.stallMillis += s.stallMillis;
            p.pinned &= s.pinned;
            if (!Double.isNaN(s.writeAmplification)) {
                p.writeAmplification = s.writeAmplification;
            }
            for (String n : s.notes) {
                if (!p.notes.contains(n)) {
                    p.notes.add(n);
                }
            }
        }
        return new ArrayList<>(byKey.values());
    }

    /**
     * Daemon CPU that is not caused by the benchmark's operations, per role (CPU-s per second per
     * daemon process). {@code floor}: subtracted from every window before dividing by the operations;
     * {@code background}: charged as lost capacity of each daemon in the model.
     */
    public record Idle(Map<String, Double> floor, Map<String, Double> background) {
        double floor(String role) {
            return floor.getOrDefault(role, 0.0);
        }

        /** The capacity a daemon of {@code role} loses to work that is not per operation. */
        double background(String role) {
            return Math.max(floor(role), background.getOrDefault(role, 0.0));
        }
    }

    /**
     * Whether a daemon of {@code role} had per-operation work in the window: the memory node moved
     * at least 8 bytes per op (a delegated read moves ~100) or coordinated an offloaded job; a flush
     * worker or compactor ran a job that was installed in the window. Other daemons: always.
     */
    static boolean active(Sample s, String role) {
        return switch (role) {
            case MEMNODE -> (s.mnIn + s.mnOut) / s.ops >= 8 || s.flushesOffloaded > 0 || s.compactionsOffloaded > 0;
            case WORKERS -> s.flushesOffloaded > 0;
            case COMPACTORS -> s.compactionsOffloaded > 0;
            default -> true;
        };
    }

    /**
     * The idle rates: {@code spec} as a number (floor and background alike), or "auto": per role,
     * over the windows where such a daemon had no per-operation work ({@link #active}), the lowest
     * rate is the floor and the highest the background; a role never seen idle has neither.
     */
    static Idle idleRates(List<Sample> samples, String spec) {
        Map<String, Double> floor = new LinkedHashMap<>();
        Map<String, Double> background = new LinkedHashMap<>();
        if (!spec.equals("auto")) {
            double v;
            try {
                v = Double.parseDouble(spec);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--daemon-idle-cpu must be auto or a number, was " + spec);
            }
            if (v < 0 || v >= 1) {
                throw new IllegalArgumentException("--daemon-idle-cpu must be in [0, 1), was " + spec);
            }
            for (String r : List.of(MEMNODE, WORKERS, COMPACTORS, OTHER)) {
                floor.put(r, v);
                background.put(r, v);
            }
            return new Idle(floor, background);
        }
        for (Sample s : samples) {
            s.daemonCpu.forEach((role, cpu) -> {
                if (!active(s, role)) {
                    double rate = cpu / s.seconds / s.daemonCount.getOrDefault(role, 1);
                    floor.merge(role, rate, Math::min);
                    background.merge(role, rate, Math::max);
                }
            });
        }
        return new Idle(floor, background);
    }

    // ------------------------------------------------------------------ calibration

    /** Per-operation costs of one (mode, benchmark): what the model charges each resource. */
    public static final class Calibration {
        public String mode;
        /** BENCHMARK or BENCHMARK@LABEL (as reported). */
        public String workload;
        /** The benchmark's name in results.json. */
        public String benchmark;
        public Sample sample;
        /** Measured throughput (pooled: all ops over all seconds). */
        public double measured;
        /** CPU-s per op of the compute node (the bench process). */
        public double compute;
        /** CPU-s per op of the memory node, idle removed, as measured over UCX shared memory. */
        public double memnode;
        /** The same with the transport's per-byte CPU replaced by the CRC32C check (rdma). */
        public double memnodeRdma;
        /** The memory node's CPU-s per byte moved in the mode's write benchmark (0 if none moved). */
        public double kappa;
        /** Where κ came from: MODE/BENCHMARK, or null if no write benchmark of the mode moved bytes. */
        public String kappaFrom;
        public double workers;
        public double compactors;
        public double other;
        /** Bytes per op into and out of the memory node. */
        public double mnIn;
        public double mnOut;
        /** Of {@link #mnOut}: answers to delegated reads (to the compute node), estimated (B/op). */
        public double mnOutReads;
        /** Storage bytes per op: written by kind, and compaction bytes read (estimated). */
        public double wal;
        public double flush;
        public double compaction;
        public double compactionRead;
        /** The share of flushes offloaded to workers (0 when none ran). */
        public double flushOffloaded;
        public boolean compactionOffloaded;
        /** local (shared-nothing, own disk). */
        public boolean localStorage;
        /** The share of the memory node's CPU a client thread waits for; round trips per op. */
        public double syncShare;
        public double roundTrips;
        /** Flush-worker CPU-s per MB flushed on workers, compactor CPU-s per MB compacted; NaN if n/a. */
        public double workerCpuPerMB = Double.NaN;
        public double compactorCpuPerMB = Double.NaN;
        /** The daemons' CPU that is not per operation; its background is charged as lost capacity. */
        public Idle idle = new Idle(Map.of(), Map.of());
        public final List<String> notes = new ArrayList<>();

        /** The compute node's NIC: bytes per op out and in. */
        double computeNicOut() {
            return localStorage ? 0 : mnIn + wal + flush * (1 - flushOffloaded) + (compactionOffloaded ? 0 : compaction);
        }

        /**
         * Into the compute node: the answers to its delegated reads, then the rest of the memory node's
         * bytes out (shards read back for flushes) by the local share of the window's flushes, and the
         * reads of local compactions.
         */
        double computeNicIn() {
            return localStorage ? 0 : mnOutReads + (mnOut - mnOutReads) * (1 - flushOffloaded)
                    + (compactionOffloaded ? 0 : compactionRead);
        }

        /**
         * Into the flush workers (all of them): the memory node's bytes out that are not read answers,
         * by the offloaded share of the window's flushes (by count: results.json has no flushed bytes by
         * place).
         */
        double workerNicIn() {
            return (mnOut - mnOutReads) * flushOffloaded;
        }

        /** Bytes per op over any network link (each transfer counted once). */
        public double wireBytes() {
            return localStorage ? 0 : mnIn + mnOut + wal + flush + (compactionOffloaded ? 0 : compaction + compactionRead);
        }

        /** Bytes per op the storage tier (or local disk) reads and writes. */
        public double storageBytes() {
            return wal + flush + compaction + compactionRead;
        }
    }

    /** The fraction of a benchmark's operations that read (its client waits for answers); 0 = a write benchmark. */
    static double readFraction(String workload) {
        return switch (workload) {
            case "fillseq", "fillrandom", "load", "overwrite", "deleterandom" -> 0;
            case "ycsba" -> 0.5;
            case "ycsbb", "ycsbd", "ycsbe" -> 0.95;
            default -> 1; // readrandom, readseq, seekrandom, multireadrandom, readwhilewriting, ycsbc, ycsbf (reads + read-modify-writes)
        };
    }

    /** The fraction of a benchmark's operations that write. */
    static double writeFraction(String workload) {
        return switch (workload) {
            case "fillseq", "fillrandom", "load", "overwrite", "deleterandom" -> 1;
            case "ycsba", "ycsbf" -> 0.5;
            case "ycsbb", "ycsbd", "ycsbe" -> 0.05;
            default -> 0;
        };
    }

    /** Flush + compaction bytes above this many times the user bytes written: debt of an earlier window. */
    static final double DEBT_FACTOR = 12;

    /**
     * Per-op costs of each pooled sample. {@code crcPerByte}: the memory node's CPU-s per byte
     * shipped left on RDMA; {@code readRatio}: compaction bytes read per byte written.
     */
    static List<Calibration> calibrate(List<Sample> samples, Idle idle, double crcPerByte,
            double readRatio) {
        List<Calibration> out = new ArrayList<>();
        for (Sample s : samples) {
            Calibration c = new Calibration();
            c.mode = s.mode;
            c.workload = s.workload;
            c.benchmark = s.benchmark;
            c.sample = s;
            c.idle = idle;
            double ops = s.ops;
            c.measured = s.ops / s.seconds;
            c.compute = s.cpu / ops;
            c.memnode = busy(s, MEMNODE, idle) / ops;
            c.workers = busy(s, WORKERS, idle) / ops;
            c.compactors = busy(s, COMPACTORS, idle) / ops;
            c.other = busy(s, OTHER, idle) / ops;
            c.mnIn = s.mnIn / ops;
            c.mnOut = s.mnOut / ops;
            c.wal = s.wal / ops;
            c.flush = s.flush / ops;
            c.compaction = s.compaction / ops;
            c.compactionRead = c.compaction * readRatio;
            long flushes = s.flushesLocal + s.flushesOffloaded;
            c.flushOffloaded = flushes == 0 ? 0 : s.flushesOffloaded / (double) flushes;
            c.compactionOffloaded = Modes.offloadsCompactions(s.mode) || s.compactionsOffloaded > 0;
            c.localStorage = !Modes.isDm(s.mode) && !Modes.offloadsCompactions(s.mode);
            c.syncShare = readFraction(s.benchmark);
            // one delegated GET: 16 B frame + 8 snapshot + 4 count + 4+key + 8 per candidate; answer 16 + 20 + 4+value
            double perGetIn = 40 + s.keySize;
            double perGetOut = 36 + s.valueSize;
            c.roundTrips = Modes.isDm(s.mode) ? Math.min(c.syncShare, Math.min(c.mnIn / perGetIn, c.mnOut / perGetOut)) : 0;
            // their answers go to the compute node whatever the flushes do
            c.mnOutReads = Math.min(c.mnOut, c.roundTrips * perGetOut);
            double flushedOnWorkers = s.flush * c.flushOffloaded;
            if (flushedOnWorkers > 0) {
                c.workerCpuPerMB = busy(s, WORKERS, idle) / (flushedOnWorkers / 1e6);
            }
            if (c.compactionOffloaded && s.compaction > 0) {
                c.compactorCpuPerMB = busy(s, COMPACTORS, idle) / (s.compaction / 1e6);
            }
            if (s.compactionEstimated) {
                c.notes.add("compaction bytes estimated from the write amplification");
            }
            c.notes.addAll(s.notes);
            for (String role : List.of(MEMNODE, WORKERS, COMPACTORS)) {
                double cpu = s.daemonCpu.getOrDefault(role, 0.0);
                if (!s.daemonCount.containsKey(role) || cpu <= 0) {
                    continue;
                }
                if (!active(s, role)) {
                    if (cpu >= 0.05) {
                        c.notes.add(role + ": " + f(cpu, 2) + " CPU-s (" + f(cpu / s.seconds, 3) + " per s) with no "
                                + "work per operation: background, not charged per op");
                    }
                } else if (busy(s, role, idle) < 0.1) {
                    c.notes.add(role + ": " + f(busy(s, role, idle), 2) + " CPU-s above idle in all: within ~10x the "
                            + "0.01 s resolution of the figures, its per-op cost is noise-level");
                }
            }
            double added = writeFraction(s.benchmark) * (s.keySize + s.valueSize);
            double background = (s.flush + s.compaction) / ops;
            if (background > DEBT_FACTOR * added + 8) {
                c.notes.add(String.format(Locale.ROOT, "%.0f B/op flushed and compacted in the window, more than %.0f "
                        + "times the %.1f B/op its writes added: work owed by an earlier benchmark ran in this window and "
                        + "is charged to its operations (flush-worker, compactor and storage bounds too low)", background,
                        DEBT_FACTOR, added));
            }
            if (s.wal > 0 && writeFraction(s.benchmark) > 0 && s.flush < 0.5 * s.wal) {
                c.notes.add(String.format(Locale.ROOT, "only %.0f%% of the bytes logged were flushed in the benchmark "
                        + "window: the rest (in memory or on the memory node) is not charged", 100 * s.flush / s.wal));
            }
            out.add(c);
        }
        // κ, the memory node's transport CPU per byte: from the mode's write benchmark (no reads: its CPU
        // there is shipping shards and serving flush reads, not searching for delegated reads), the one
        // moving the most bytes per op; from the same input (label) if it has one, else any input's
        for (Calibration c : out) {
            Calibration from = kappaSource(out, c, true);
            if (from == null) {
                from = kappaSource(out, c, false);
            }
            c.kappa = from == null ? 0 : from.memnode / (from.mnIn + from.mnOut);
            c.kappaFrom = from == null ? null : from.mode + "/" + from.workload;
            c.memnodeRdma = Math.max(0, c.memnode - c.kappa * (c.mnIn + c.mnOut)) + crcPerByte * c.mnIn;
            if (from == null && c.mnIn + c.mnOut >= 16 && c.memnode > 0) {
                c.notes.add("no write benchmark of " + c.mode + " moved bytes through the memory node: no κ, so the "
                        + "rdma figure keeps its CPU per byte as measured over shm");
            }
        }
        return out;
    }

    /** The write benchmark (readFraction 0, >= 16 B/op through the memory node) of c's mode with the most bytes per op. */
    private static Calibration kappaSource(List<Calibration> cals, Calibration c, boolean sameGroup) {
        Calibration best = null;
        for (Calibration x : cals) {
            double bytes = x.mnIn + x.mnOut;
            if (x.mode.equals(c.mode) && readFraction(x.benchmark) == 0 && bytes >= 16
                    && (!sameGroup || x.sample.group.equals(c.sample.group))
                    && (best == null || bytes > best.mnIn + best.mnOut)) {
                best = x;
            }
        }
        return best;
    }

    /**
     * A role's CPU-s in a window that the operations caused: above its daemons' idle floor, and 0
     * when the daemon had no per-operation work ({@link #active}).
     */
    private static double busy(Sample s, String role, Idle idle) {
        if (!active(s, role)) {
            return 0;
        }
        double cpu = s.daemonCpu.getOrDefault(role, 0.0);
        int count = s.daemonCount.getOrDefault(role, 0);
        return Math.max(0, cpu - idle.floor(role) * s.seconds * count);
    }

    // ------------------------------------------------------------------ the model

    /**
     * A cluster: capacities. Rates in bytes per second ({@link #INF} = no limit), latency in seconds.
     * {@code threads} 0 = as measured. {@code measuredHost}: the measured host (every daemon on one shared
     * core, no network, no storage limit).
     */
    public record Spec(double computeCores, int threads, double nicBytesPerSec, double latencySec, int memnodes,
            double memnodeCores, int workers, double workerCores, int compactors, double compactorCores,
            double storageBytesPerSec, double localDiskBytesPerSec, boolean rdma, boolean computeAsMeasured,
            boolean measuredHost) {
        /** The host the calibration ran on: 1 compute core, 1 core for all daemons, no network or storage limit. */
        public static Spec calibrationHost() {
            return new Spec(1, 0, INF, 0, 1, 1, 1, 1, 1, 1, INF, INF, false, false, true);
        }
    }

    /** One resource's throughput bound (ops/s over all N nodes). */
    public record Bound(Resource resource, double opsPerSec) {
    }

    /** X(N), the binding resource and every bound. */
    public record Point(int n, double opsPerSec, Resource binding, List<Bound> bounds) {
    }

    /** Every resource's bound on X(n) for {@code c} on cluster {@code s}. */
    public static List<Bound> bounds(Calibration c, Spec s, int n) {
        List<Bound> b = new ArrayList<>();
        int threads = s.threads() > 0 ? s.threads() : c.sample.threads;
        double memnodeCpu = s.rdma() ? c.memnodeRdma : c.memnode;
        if (s.computeAsMeasured()) {
            double perThread = c.sample.threads / c.measured + c.roundTrips * s.latencySec();
            add(b, Resource.COMPUTE_THREAD, n * threads, perThread);
        } else {
            add(b, Resource.COMPUTE_CPU, n * s.computeCores(), c.compute);
            // reads wait for the memory node only where it holds data (dm, dm-flush, o3); caas's memory node
            // only coordinates compactions
            double wait = Modes.isDm(c.mode) ? c.syncShare * memnodeCpu : 0;
            double perThread = c.compute + wait + c.roundTrips * s.latencySec();
            add(b, Resource.COMPUTE_THREAD, n * threads, perThread);
        }
        if (s.measuredHost()) {
            Sample sm = c.sample;
            double idle = 0;
            for (String role : List.of(MEMNODE, WORKERS, COMPACTORS, OTHER)) {
                idle += c.idle.background(role) * sm.daemonCount.getOrDefault(role, 0);
            }
            add(b, Resource.DAEMON_CORE, Math.max(0, 1 - idle), c.memnode + c.workers + c.compactors + c.other);
            return b;
        }
        if (c.localStorage) {
            add(b, Resource.LOCAL_DISK, n * s.localDiskBytesPerSec(), c.storageBytes());
            return b;
        }
        add(b, Resource.COMPUTE_NIC, n * s.nicBytesPerSec(), Math.max(c.computeNicOut(), c.computeNicIn()));
        add(b, Resource.MEMNODE_CPU, s.memnodes() * Math.max(0, s.memnodeCores() - c.idle.background(MEMNODE)),
                memnodeCpu);
        add(b, Resource.MEMNODE_NIC, s.memnodes() * s.nicBytesPerSec(), Math.max(c.mnIn, c.mnOut));
        add(b, Resource.WORKER_CPU, s.workers() * Math.max(0, s.workerCores() - c.idle.background(WORKERS)),
                c.workers);
        add(b, Resource.WORKER_NIC, s.workers() * s.nicBytesPerSec(),
                Math.max(c.workerNicIn(), c.flush * c.flushOffloaded));
        add(b, Resource.COMPACTOR_CPU,
                s.compactors() * Math.max(0, s.compactorCores() - c.idle.background(COMPACTORS)), c.compactors);
        add(b, Resource.STORAGE, s.storageBytesPerSec(), c.storageBytes());
        return b;
    }

    private static void add(List<Bound> b, Resource r, double capacity, double demandPerOp) {
        if (demandPerOp <= 0 || capacity == INF) {
            return; // not a limit
        }
        b.add(new Bound(r, capacity / demandPerOp));
    }

    /** X(n): the smallest bound (ties go to the resource listed first). */
    public static Point predict(Calibration c, Spec s, int n) {
        List<Bound> b = bounds(c, s, n);
        Bound min = null;
        for (Bound x : b) {
            if (min == null || x.opsPerSec() < min.opsPerSec() * (1 - 1e-9)) {
                min = x;
            }
        }
        return min == null ? new Point(n, INF, null, b) : new Point(n, min.opsPerSec(), min.resource(), b);
    }

    /** One compute node's own bound: the smallest per-node bound at N = 1 (shared resources left out). */
    static Point perNode(Calibration c, Spec s) {
        Bound min = null;
        for (Bound x : bounds(c, s, 1)) {
            if (x.resource().perNode && (min == null || x.opsPerSec() < min.opsPerSec() * (1 - 1e-9))) {
                min = x;
            }
        }
        return min == null ? new Point(1, INF, null, List.of()) : new Point(1, min.opsPerSec(), min.resource(), List.of());
    }

    /** The smallest N in [a, b] at which a shared resource binds, or -1. */
    static int knee(Calibration c, Spec s, int a, int b) {
        for (int n = a; n <= b; n++) {
            Point p = predict(c, s, n);
            if (p.binding() != null && !p.binding().perNode) {
                return n;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ report

    private String report(List<Calibration> cals, Idle idle, Spec s, int[] n, List<Calibration> charted) {
        StringBuilder sb = new StringBuilder();
        List<String> modeOrder = new ArrayList<>();
        List<String> workloadOrder = new ArrayList<>();
        for (Calibration c : cals) {
            if (!modeOrder.contains(c.mode)) {
                modeOrder.add(c.mode);
            }
            if (!workloadOrder.contains(c.workload)) {
                workloadOrder.add(c.workload);
            }
        }
        sb.append("# Scaling model: predicted throughput for N compute nodes").append(label == null ? "" : " (" + label + ")")
                .append("\n\n");
        sb.append("Generated by `scripts/scaling-model.sh ").append(String.join(" ", argsShown())).append("`.\n\n");
        sb.append("Inputs (a labelled input's benchmarks are named BENCHMARK@LABEL and pooled with no other "
                + "input's):\n\n");
        Map<String, Sample> bySource = new LinkedHashMap<>();
        for (Calibration c : cals) {
            for (String src : c.sample.sources) {
                bySource.putIfAbsent(src, c.sample);
            }
        }
        for (Map.Entry<String, Sample> e : bySource.entrySet()) {
            Sample x = e.getValue();
            sb.append(String.format(Locale.ROOT, "- `%s`: %d-byte keys, %d-byte values, %d client thread(s) per "
                    + "compute node, WAL %s, %s; measured with `%s`%n", e.getKey(), x.keySize, x.valueSize, x.threads,
                    x.walOn == null ? "not recorded" : x.walOn ? "on" : "off", x.pinned ? "pinned (--pin: the compute node on "
                    + "CPU 0, every daemon on CPU 1)" : "NOT pinned (the host check assumes --pin)",
                    String.join("; ", x.commands)));
        }
        sb.append('\n');

        sb.append("## Cluster modelled\n\n");
        sb.append("| resource | count | capacity each | shared by the N compute nodes |\n|---|---:|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| compute node | N = %d..%d | %s core(s), %s client thread(s), NIC %s | no (one per node) |%n",
                n[0], n[1], g(s.computeCores()), s.threads() > 0 ? s.threads() : "as measured", gbps(s.nicBytesPerSec())));
        sb.append(String.format(Locale.ROOT, "| memory node | M = %d | %s core(s), NIC %s | yes |%n", s.memnodes(),
                g(s.memnodeCores()), gbps(s.nicBytesPerSec())));
        sb.append(String.format(Locale.ROOT, "| flush worker | K = %d | %s core(s), NIC %s | yes |%n", s.workers(),
                g(s.workerCores()), gbps(s.nicBytesPerSec())));
        sb.append(String.format(Locale.ROOT, "| compactor (on the storage tier) | C = %d | %s core(s) | yes |%n",
                s.compactors(), g(s.compactorCores())));
        sb.append(String.format(Locale.ROOT, "| shared storage tier | 1 | %s reads + writes | yes (not in local mode) |%n",
                gbs(s.storageBytesPerSec())));
        sb.append(String.format(Locale.ROOT, "| local disk (local mode only) | N | %s | no |%n", gbs(s.localDiskBytesPerSec())));
        sb.append(String.format(Locale.ROOT, "%nNetwork: %s per NIC each way, %s µs round trip per request; transport "
                + "`%s`%s. Compute bound: `%s`.%n%n", gbps(s.nicBytesPerSec()), g(s.latencySec() * 1e6),
                s.rdma() ? "rdma" : "shm", s.rdma() ? " (the memory node's per-byte CPU replaced by "
                        + g(crcNsPerByte) + " ns/B of CRC32C)" : " (the memory node's CPU per byte as measured)",
                s.computeAsMeasured() ? "measured" : "cpu"));

        sb.append("## Calibrated costs per operation\n\n");
        sb.append("CPU in µs per operation (CPU-s per op × 10⁶). A daemon's CPU counts only in windows where it had "
                + "work per operation (the memory node moved >= 8 B/op or coordinated an offloaded job; a worker or "
                + "compactor ran a job installed in the window), above its idle floor. Idle floor / background per "
                + "daemon, CPU-s per s (the background is charged as lost capacity): ");
        List<String> idl = new ArrayList<>();
        for (String role : idle.floor().keySet()) {
            idl.add(role + " " + f(idle.floor(role), 3) + " / " + f(idle.background(role), 3));
        }
        sb.append(idl.isEmpty() ? "none (no daemons)" : String.join(", ", idl)).append(".\n\n");
        sb.append("| mode | benchmark | measured ops/s | compute µs | memory node µs (shm → rdma) | flush workers µs | "
                + "compactors µs | worker CPU-s / MB flushed | compactor CPU-s / MB compacted | flushes local / offloaded | "
                + "compactions local / offloaded |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Calibration c : cals) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s → %s | %s | %s | %s | %s | %d / %d | %d / %d |%n",
                    c.mode, c.workload, ops(c.measured), f(c.compute * 1e6, 2), f(c.memnode * 1e6, 3),
                    f(c.memnodeRdma * 1e6, 3), f(c.workers * 1e6, 3), f(c.compactors * 1e6, 3),
                    Double.isNaN(c.workerCpuPerMB) ? "-" : f(c.workerCpuPerMB, 4),
                    Double.isNaN(c.compactorCpuPerMB) ? "-" : f(c.compactorCpuPerMB, 4), c.sample.flushesLocal,
                    c.sample.flushesOffloaded, c.sample.compactionsLocal, c.sample.compactionsOffloaded));
        }
        sb.append("\nBytes per operation (B/op). Over the wire: every transfer between nodes counted once (memory node "
                + "in + out, WAL, flushed tables, and compaction reads + writes where compactions run on the compute "
                + "node); compaction reads = writes × " + g(compactionReadRatio) + ". The memory node's bytes out go to "
                + "the compute node for the answers to delegated reads (estimated: delegated reads per op × (36 + value "
                + "size)); the rest (shards read for flushes) is split between the compute node and the flush workers "
                + "by the share of the window's flushes that ran on each, by count: results.json has no flushed bytes "
                + "by place, so flushes are taken as equal in size. κ comes from the mode's write benchmark with the "
                + "most bytes through the memory node per op (from the same input when it has one):");
        Map<String, String> kappaFrom = new LinkedHashMap<>();
        for (Calibration c : cals) {
            if (c.kappaFrom != null) {
                kappaFrom.merge(c.mode, c.kappaFrom, (a, b2) -> a.contains(b2) ? a : a + ", " + b2);
            }
        }
        List<String> kf = new ArrayList<>();
        kappaFrom.forEach((m, from) -> kf.add(m + " from " + from));
        sb.append(kf.isEmpty() ? " none (no bytes through a memory node)" : " " + String.join("; ", kf)).append(".\n\n");
        sb.append("| mode | benchmark | memory node in / out | WAL | flush | compaction written / read | storage total | "
                + "write amp. (since open) | over the wire | compute NIC out / in | memory node κ (ns per byte moved, shm) | "
                + "delegated reads per op | memory node µs per delegated read (shm / rdma) |\n"
                + "|---|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|\n");
        for (Calibration c : cals) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s / %s | %s | %s | %s / %s | %s | %s | %s | %s / %s | %s | %s | %s |%n",
                    c.mode, c.workload, f(c.mnIn, 1), f(c.mnOut, 1), f(c.wal, 1), f(c.flush, 1), f(c.compaction, 1),
                    f(c.compactionRead, 1), f(c.storageBytes(), 1),
                    Double.isNaN(c.sample.writeAmplification) ? "-" : f(c.sample.writeAmplification, 2),
                    c.localStorage ? "0 (local disk)" : f(c.wireBytes(), 1), f(c.computeNicOut(), 1),
                    f(c.computeNicIn(), 1), f(c.kappa * 1e9, 2), f(c.roundTrips, 3),
                    c.roundTrips >= 0.01 && c.memnode > 0 ? f(c.syncShare * c.memnode / c.roundTrips * 1e6, 2) + " / "
                            + f(c.syncShare * c.memnodeRdma / c.roundTrips * 1e6, 2) : "-"));
        }
        List<String> notes = new ArrayList<>(skipped);
        for (Calibration c : cals) {
            for (String note : c.notes) {
                notes.add(c.mode + "/" + c.workload + ": " + note);
            }
        }
        if (!notes.isEmpty()) {
            sb.append("\nCaveats of the input:\n\n");
            for (String note : notes) {
                sb.append("- ").append(note).append('\n');
            }
        }

        sb.append("\n## 1-node check: the model on the measured host against the measured throughput\n\n");
        sb.append("The host: 1 compute core (CPU 0), every daemon on one shared core (CPU 1), no network and no "
                + "storage limit, the memory node's CPU as measured (shm), no added latency. Error = model / measured − 1. "
                + "Utilization = compute CPU-s / wall seconds (1.00 = the compute core was never idle).\n\n");
        sb.append("| mode | benchmark | measured ops/s | model X(1) | error | binding on the host | compute utilization | stall ms |\n"
                + "|---|---|---:|---:|---:|---|---:|---:|\n");
        Spec host = Spec.calibrationHost();
        for (Calibration c : cals) {
            Point p = predict(c, host, 1);
            double error = 100 * (p.opsPerSec() / c.measured - 1);
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %+.1f%% | %s | %.2f | %.0f |%n", c.mode, c.workload,
                    ops(c.measured), ops(p.opsPerSec()), Math.abs(error) < 0.05 ? 0.0 : error, label(p.binding()),
                    c.sample.cpu / c.sample.seconds, c.sample.stallMillis));
        }

        for (String w : workloadOrder) {
            sb.append("\n## ").append(w).append(": predicted throughput (ops/s, all nodes together) and the binding resource\n\n");
            List<Calibration> row = new ArrayList<>();
            for (String m : modeOrder) {
                for (Calibration c : cals) {
                    if (c.mode.equals(m) && c.workload.equals(w)) {
                        row.add(c);
                    }
                }
            }
            sb.append("| N |");
            for (Calibration c : row) {
                sb.append(' ').append(c.mode).append(" |");
            }
            sb.append("\n|---:|").append("---|".repeat(row.size())).append('\n');
            for (int pt : tablePoints(n)) {
                sb.append("| ").append(pt).append(" |");
                for (Calibration c : row) {
                    Point p = predict(c, s, pt);
                    sb.append(' ').append(ops(p.opsPerSec())).append(" (").append(label(p.binding())).append(") |");
                }
                sb.append('\n');
            }
            sb.append("\nWhere the bottleneck moves: ");
            List<String> moves = new ArrayList<>();
            for (Calibration c : row) {
                int k = knee(c, s, n[0], n[1]);
                Point p1 = predict(c, s, n[0]);
                if (k < 0) {
                    moves.add(c.mode + ": " + label(p1.binding()) + " up to N = " + n[1]);
                } else if (k == n[0]) {
                    moves.add(c.mode + ": " + label(predict(c, s, k).binding()) + " from N = " + k);
                } else {
                    moves.add(c.mode + ": " + label(p1.binding()) + " up to N = " + (k - 1) + ", "
                            + label(predict(c, s, k).binding()) + " from N = " + k + " ("
                            + ops(predict(c, s, k).opsPerSec()) + ")");
                }
            }
            sb.append(String.join("; ", moves)).append(".\n\n");
            sb.append("Per compute node at N = 1: its throughput, the per-node resource that binds it, and each shared "
                    + "resource's bound on the whole cluster (ops/s) with the N at which it saturates (bound / per-node "
                    + "throughput; — = not a limit):\n\n| mode | per node |");
            List<Resource> shown = new ArrayList<>();
            for (Resource r : Resource.values()) {
                if (r.perNode || r == Resource.DAEMON_CORE) {
                    continue;
                }
                for (Calibration c : row) {
                    if (bound(bounds(c, s, 1), r) != null && !shown.contains(r)) {
                        shown.add(r);
                    }
                }
            }
            for (Resource r : shown) {
                sb.append(' ').append(r.label).append(" |");
            }
            sb.append("\n|---|---|").append("---:|".repeat(shown.size())).append('\n');
            for (Calibration c : row) {
                Point node = perNode(c, s);
                sb.append("| ").append(c.mode).append(" | ").append(ops(node.opsPerSec())).append(" (")
                        .append(label(node.binding())).append(") |");
                List<Bound> b = bounds(c, s, 1);
                for (Resource r : shown) {
                    Bound x = bound(b, r);
                    double at = x == null ? 0 : x.opsPerSec() / node.opsPerSec();
                    sb.append(' ').append(x == null ? "—" : at > 1e4 ? "(N > 10,000)" : ops(x.opsPerSec()) + " (N = "
                            + f(at, 1) + ")").append(" |");
                }
                sb.append('\n');
            }
            if (charts != null && charted.stream().anyMatch(c -> c.workload.equals(w))) {
                sb.append("\nCharts: `scaling-").append(fileName(w)).append(".png`");
                for (String m : boundsModes) {
                    if (row.stream().anyMatch(c -> c.mode.equals(m))) {
                        sb.append(", `bounds-").append(m).append('-').append(fileName(w)).append(".png`");
                    }
                }
                sb.append(".\n");
            }
        }
        sb.append("\n## Assumptions (docs/scaling.md explains each)\n\n");
        for (String a : ASSUMPTIONS) {
            sb.append("- ").append(a).append('\n');
        }
        return sb.toString();
    }

    private List<String> argsShown() {
        List<String> a = new ArrayList<>(inputs);
        a.add("--n " + nRange);
        a.add("--memnodes " + memnodes + " --memnode-cores " + g(memnodeCores));
        a.add("--workers " + workers + " --worker-cores " + g(workerCores));
        a.add("--compactors " + compactors + " --compactor-cores " + g(compactorCores));
        a.add("--compute-cores " + g(computeCores) + (threads != null ? " --threads " + threads : ""));
        a.add("--net-gbps " + g(netGbps) + " --net-latency-us " + g(netLatencyUs) + " --transport " + transport);
        a.add("--storage-gbs " + g(storageGBs) + " --local-disk-gbs " + g(localDiskGBs));
        a.add("--compute-bound " + computeBound + " --daemon-idle-cpu " + daemonIdleCpu);
        if (modes != null) {
            a.add("--modes " + String.join(",", modes));
        }
        if (workloads != null) {
            a.add("--workloads " + String.join(",", workloads));
        }
        if (label != null) {
            a.add("--label '" + label + "'");
        }
        if (chartWorkloads != null) {
            a.add("--chart-workloads " + String.join(",", chartWorkloads));
        }
        if (!boundsModes.equals(List.of("caas", "o3"))) {
            a.add("--bounds-modes " + String.join(",", boundsModes));
        }
        return a;
    }

    private static Bound bound(List<Bound> b, Resource r) {
        for (Bound x : b) {
            if (x.resource() == r) {
                return x;
            }
        }
        return null;
    }

    /** 1, 2, 4, ... within [a, b], plus b. */
    static List<Integer> tablePoints(int[] n) {
        List<Integer> pts = new ArrayList<>();
        for (int x = 1; x <= n[1]; x *= 2) {
            if (x >= n[0]) {
                pts.add(x);
            }
        }
        if (pts.isEmpty() || pts.get(0) != n[0]) {
            pts.add(0, n[0]);
        }
        if (pts.get(pts.size() - 1) != n[1]) {
            pts.add(n[1]);
        }
        return pts;
    }

    static String label(Resource r) {
        return r == null ? "no limit" : r.label;
    }

    static String ops(double v) {
        if (v == INF) {
            return "∞";
        }
        if (v >= 1e9) {
            return String.format(Locale.ROOT, "%.2fG", v / 1e9);
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fK", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String f(double v, int digits) {
        return String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    private static String g(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static String gbps(double bytesPerSec) {
        return bytesPerSec == INF ? "unlimited" : g(bytesPerSec * 8 / 1e9) + " Gb/s";
    }

    private static String gbs(double bytesPerSec) {
        return bytesPerSec == INF ? "unlimited" : g(bytesPerSec / 1e9) + " GB/s";
    }

    // ------------------------------------------------------------------ charts

    /** A benchmark's name in chart file names: BENCHMARK@LABEL becomes BENCHMARK-LABEL. */
    static String fileName(String workload) {
        return workload.replace('@', '-');
    }

    /** Writes the charts; a field so that a test can make drawing fail. */
    interface ChartWriter {
        List<Path> write(Path dir, List<Calibration> cals, Spec s, int[] n, List<String> boundsModes, String label)
                throws IOException;
    }

    static ChartWriter chartWriter = ScalingModel::writeCharts;

    /** Whether every value can go on a log axis (finite and > 0). */
    private static boolean loggable(double[] ys) {
        for (double y : ys) {
            if (!(y > 0) || !Double.isFinite(y)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code scaling-W.png} per benchmark (X(N) per mode, log-log) and {@code bounds-M-W.png} for the
     * modes in {@code boundsModes} (every resource's bound and X(N): the lowest line binds).
     */
    static List<Path> writeCharts(Path dir, List<Calibration> cals, Spec s, int[] n, List<String> boundsModes,
            String label) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        Map<String, List<Calibration>> byWorkload = new LinkedHashMap<>();
        for (Calibration c : cals) {
            byWorkload.computeIfAbsent(c.workload, k -> new ArrayList<>()).add(c);
        }
        double[] xs = new double[n[1] - n[0] + 1];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = n[0] + i;
        }
        String net = s.nicBytesPerSec() == INF ? "no network limit" : gbps(s.nicBytesPerSec()) + " " + (s.rdma() ? "RDMA" : "shm costs");
        if (label != null) {
            net = net + "; " + label;
        }
        for (Map.Entry<String, List<Calibration>> e : byWorkload.entrySet()) {
            String w = e.getKey();
            XYChart chart = new XYChartBuilder().width(1000).height(560)
                    .title("Predicted " + w + " ops/s vs N (M=" + s.memnodes() + ", K=" + s.workers()
                            + ", C=" + s.compactors() + ", " + net + ")")
                    .xAxisTitle("compute nodes N").yAxisTitle("ops/s, all nodes (log)").build();
            styleLog(chart);
            for (Calibration c : e.getValue()) {
                double[] ys = new double[xs.length];
                for (int i = 0; i < xs.length; i++) {
                    ys[i] = predict(c, s, (int) xs[i]).opsPerSec();
                }
                if (loggable(ys)) {
                    int k = knee(c, s, n[0], n[1]);
                    String name = c.mode + (k < 0 ? "" : " (shared from N=" + k + ": "
                            + label(predict(c, s, k).binding()) + ")");
                    chart.addSeries(name, xs, ys).setMarker(SeriesMarkers.NONE);
                }
            }
            if (chart.getSeriesMap().isEmpty()) {
                continue; // no mode with a finite, positive prediction: nothing to draw on log axes
            }
            files.add(save(chart, dir.resolve("scaling-" + fileName(w))));
            for (Calibration c : e.getValue()) {
                if (!boundsModes.contains(c.mode)) {
                    continue;
                }
                XYChart bc = new XYChartBuilder().width(1000).height(560)
                        .title("Bounds: " + c.mode + ", " + w + " (the lowest line binds; " + net + ")")
                        .xAxisTitle("compute nodes N").yAxisTitle("ops/s, all nodes (log)").build();
                styleLog(bc);
                double[] x = new double[xs.length];
                double top = 0;
                for (int i = 0; i < xs.length; i++) {
                    x[i] = predict(c, s, (int) xs[i]).opsPerSec();
                    top = Math.max(top, x[i]);
                }
                Map<Resource, double[]> lines = new EnumMap<>(Resource.class);
                for (int i = 0; i < xs.length; i++) {
                    for (Bound b : bounds(c, s, (int) xs[i])) {
                        lines.computeIfAbsent(b.resource(), r -> new double[xs.length])[i] = b.opsPerSec();
                    }
                }
                double cap = top * 30;
                for (Map.Entry<Resource, double[]> l : lines.entrySet()) {
                    double lo = INF;
                    for (double v : l.getValue()) {
                        lo = Math.min(lo, v);
                    }
                    if (lo > cap || !(lo > 0)) {
                        continue; // far above the prediction everywhere (listed in the report's table), or 0
                    }
                    // only the stretch within the plotted range (a per-node bound rises out of it)
                    List<Double> px = new ArrayList<>();
                    List<Double> py = new ArrayList<>();
                    for (int i = 0; i < xs.length; i++) {
                        if (l.getValue()[i] <= cap) {
                            px.add(xs[i]);
                            py.add(l.getValue()[i]);
                        }
                    }
                    XYSeries series = bc.addSeries(l.getKey().label + (l.getKey().perNode ? " (per node ×N)" : " (shared)"),
                            px, py);
                    series.setMarker(SeriesMarkers.NONE);
                    series.setLineWidth(2.5f);
                }
                if (loggable(x)) {
                    XYSeries pred = bc.addSeries("X(N) predicted", xs, x);
                    pred.setMarker(SeriesMarkers.NONE);
                    pred.setLineWidth(6f);
                    pred.setLineStyle(new java.awt.BasicStroke(6f, java.awt.BasicStroke.CAP_ROUND,
                            java.awt.BasicStroke.JOIN_ROUND, 10f, new float[] {2f, 10f}, 0f));
                }
                if (bc.getSeriesMap().isEmpty()) {
                    continue;
                }
                files.add(save(bc, dir.resolve("bounds-" + c.mode + "-" + fileName(w))));
            }
        }
        return files;
    }

    private static void styleLog(XYChart chart) {
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        chart.getStyler().setXAxisDecimalPattern("#");
    }

    private static Path save(XYChart chart, Path base) throws IOException {
        return Report.save(chart, base);
    }
}
