package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.bench.ScalingModel.Calibration;
import io.o3lsm.bench.ScalingModel.Point;
import io.o3lsm.bench.ScalingModel.Resource;
import io.o3lsm.bench.ScalingModel.Spec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scaling model on a small synthetic results.json whose per-op costs are known: calibration
 * recovers them, X(1) on the calibration host is the measured throughput of a CPU-bound run, the
 * bottleneck moves from the compute node to a shared resource as N grows, and bad input is refused
 * with a message that says what is wrong.
 */
class ScalingModelTest {
    private static final double EPS = 1e-9;

    /**
     * caas and o3 fillrandom, 1M writes each, both CPU-bound on the compute node (CPU-s = wall s):
     * o3 at 10 µs of compute CPU per write (100,000 writes/s), with 1 µs on the memory node, 3 µs on
     * the two flush workers (80 MB flushed there: 0.0375 CPU-s per MB) and 2 µs on the compactor (400
     * MB compacted: 0.005 CPU-s per MB); caas at 20 µs per write, 4 µs on its compactor. o3 readrandom
     * (100k reads) with no byte through the memory node: its daemons are idle there.
     */
    static Map<String, Object> synthetic() {
        List<Object> results = new ArrayList<>();
        Map<String, Object> caas = result("caas", "fillrandom", 1_000_000, 20.0, 20.0);
        caas.put("daemon_cpu_seconds", map("memnode", 0.2, "bench-c1", 4.0));
        caas.put("memnode_bytes_in", 0L);
        caas.put("memnode_bytes_out", 0L);
        caas.put("storage_bytes_written", 580_000_000L);
        caas.put("storage_bytes_by_kind", map("wal", 100_000_000L, "flush", 80_000_000L, "compaction", 400_000_000L));
        caas.put("flushes_by_place", map("local", 50L, "offloaded", 0L, "fallback", 0L));
        caas.put("compactions_by_place", map("local", 2L, "offloaded", 40L, "fallback", 0L));
        results.add(caas);
        Map<String, Object> o3 = result("o3", "fillrandom", 1_000_000, 10.0, 10.0);
        o3.put("daemon_cpu_seconds", map("memnode", 1.0, "bench-w1", 1.5, "bench-w2", 1.5, "bench-c1", 2.0));
        o3.put("memnode_bytes_in", 100_000_000L);
        o3.put("memnode_bytes_out", 80_000_000L);
        o3.put("storage_bytes_written", 580_000_000L);
        o3.put("storage_bytes_by_kind", map("wal", 100_000_000L, "flush", 80_000_000L, "compaction", 400_000_000L));
        o3.put("flushes_by_place", map("local", 0L, "offloaded", 50L, "fallback", 0L));
        o3.put("compactions_by_place", map("local", 0L, "offloaded", 40L, "fallback", 0L));
        results.add(o3);
        Map<String, Object> reads = result("o3", "readrandom", 100_000, 2.0, 2.0);
        reads.put("daemon_cpu_seconds", map("memnode", 0.1, "bench-w1", 0.0, "bench-w2", 0.0, "bench-c1", 0.0));
        reads.put("memnode_bytes_in", 0L);
        reads.put("memnode_bytes_out", 0L);
        reads.put("storage_bytes_by_kind", map("wal", 0L, "flush", 0L, "compaction", 0L));
        reads.put("flushes_by_place", map("local", 0L, "offloaded", 0L, "fallback", 0L));
        reads.put("compactions_by_place", map("local", 0L, "offloaded", 0L, "fallback", 0L));
        results.add(reads);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("tool", "o3lsm bench");
        root.put("command", "bin/o3 bench --compare-modes caas,o3 --pin --num 1000000 --benchmarks fillrandom,readrandom");
        root.put("results", results);
        return root;
    }

    private static Map<String, Object> result(String mode, String workload, long ops, double seconds, double cpu) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("engine", mode);
        r.put("mode", mode);
        r.put("workload", workload);
        r.put("status", "ok");
        r.put("settings", map("threads", 1L, "key_size", 16L, "value_size", 84L, "dm_budget", 1L << 30));
        r.put("ops", ops);
        r.put("seconds", seconds);
        r.put("ops_per_sec", ops / seconds);
        r.put("cpu_seconds", cpu);
        r.put("stall_millis", 0.0);
        r.put("write_amplification", 5.8);
        return r;
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Path write(Path dir, Map<String, Object> root) throws Exception {
        Path p = dir.resolve("results.json");
        Files.writeString(p, Json.write(root), StandardCharsets.UTF_8);
        return p;
    }

    private static List<Calibration> calibrate(Path file, String idle) {
        List<ScalingModel.Sample> samples = ScalingModel.pool(ScalingModel.readSamples(file));
        return ScalingModel.calibrate(samples, ScalingModel.idleRates(samples, idle), 0.1e-9, 1.0);
    }

    private static Calibration find(List<Calibration> cals, String mode, String workload) {
        for (Calibration c : cals) {
            if (c.mode.equals(mode) && c.workload.equals(workload)) {
                return c;
            }
        }
        throw new AssertionError("no " + mode + "/" + workload);
    }

    /** The cluster of the docs: M=1 memory node (2 cores), K=2 workers (1 core), C=1 compactor (2 cores), 100 Gb/s RDMA. */
    private static Spec cluster() {
        return new Spec(1, 0, 100e9 / 8, 2e-6, 1, 2, 2, 1, 1, 2, 10e9, 2e9, true, false, false);
    }

    @Test
    void shouldRecoverThePerOperationCostsOfTheSyntheticRun(@TempDir Path dir) throws Exception {
        List<Calibration> cals = calibrate(write(dir, synthetic()), "0");
        Calibration o3 = find(cals, "o3", "fillrandom");
        assertEquals(100_000, o3.measured, 1e-6);
        assertEquals(10e-6, o3.compute, EPS);
        assertEquals(1e-6, o3.memnode, EPS);
        assertEquals(3e-6, o3.workers, EPS);
        assertEquals(2e-6, o3.compactors, EPS);
        assertEquals(100, o3.mnIn, EPS);
        assertEquals(80, o3.mnOut, EPS);
        assertEquals(100, o3.wal, EPS);
        assertEquals(80, o3.flush, EPS);
        assertEquals(400, o3.compaction, EPS);
        assertEquals(400, o3.compactionRead, EPS, "compaction read = written x 1.0");
        assertEquals(0.0375, o3.workerCpuPerMB, EPS);
        assertEquals(0.005, o3.compactorCpuPerMB, EPS);
        assertEquals(1.0, o3.flushOffloaded, EPS);
        assertTrue(o3.compactionOffloaded);
        assertEquals(0, o3.roundTrips, EPS, "writes wait for no round trip");
        // rdma: the memory node's write-benchmark CPU is moving bytes (κ per byte), CRC32C remains
        assertEquals(1e-6 / 180, o3.kappa, 1e-15);
        assertEquals(0.1e-9 * 100, o3.memnodeRdma, 1e-15);
        // o3 keeps compaction bytes on the storage tier; the compute node sends shards and WAL only
        assertEquals(100 + 100, o3.computeNicOut(), EPS);
        assertEquals(0, o3.computeNicIn(), EPS, "flush inputs go to the workers");
        assertEquals(100 + 80 + 100 + 80, o3.wireBytes(), EPS);
        assertEquals(100 + 80 + 400 + 400, o3.storageBytes(), EPS);

        Calibration caas = find(cals, "caas", "fillrandom");
        assertEquals(20e-6, caas.compute, EPS);
        assertEquals(4e-6, caas.compactors, EPS);
        assertEquals(0.01, caas.compactorCpuPerMB, EPS);
        assertEquals(0, caas.flushOffloaded, EPS);
        assertEquals(100 + 80, caas.computeNicOut(), EPS, "WAL and flushed tables to shared storage");
    }

    @Test
    void shouldChargeIdleDaemonCpuAsLostCapacityAndNotPerOperation(@TempDir Path dir) throws Exception {
        List<Calibration> cals = calibrate(write(dir, synthetic()), "auto");
        Calibration reads = find(cals, "o3", "readrandom");
        assertEquals(0, reads.memnode, EPS, "no byte through the node: its CPU there is not per read");
        assertEquals(0.05, reads.idle.floor("memnode"), EPS, "0.1 CPU-s over 2 s");
        Calibration o3 = find(cals, "o3", "fillrandom");
        assertEquals((1.0 - 0.05 * 10) / 1e6, o3.memnode, EPS, "the idle floor comes off the busy window");
        assertEquals(3e-6, o3.workers, EPS, "workers were seen idle at 0 CPU-s/s");
    }

    @Test
    void shouldReproduceTheMeasuredThroughputAtOneNodeOnTheCalibrationHost(@TempDir Path dir) throws Exception {
        List<Calibration> cals = calibrate(write(dir, synthetic()), "0");
        for (Calibration c : cals) {
            Point p = ScalingModel.predict(c, Spec.calibrationHost(), 1);
            assertEquals(c.measured, p.opsPerSec(), c.measured * 1e-9, c.mode + "/" + c.workload);
            assertEquals(Resource.COMPUTE_CPU, p.binding(), c.mode + "/" + c.workload);
        }
        // the daemons' shared core is a bound too: o3's 6 µs of daemon CPU per write allow 166,667/s
        Calibration o3 = find(cals, "o3", "fillrandom");
        ScalingModel.Bound core = ScalingModel.bounds(o3, Spec.calibrationHost(), 1).stream()
                .filter(b -> b.resource() == Resource.DAEMON_CORE).findFirst().orElseThrow();
        assertEquals(1 / 6e-6, core.opsPerSec(), 1e-3);
    }

    @Test
    void shouldMoveTheBottleneckFromTheComputeNodeToASharedResourceAsNGrows(@TempDir Path dir) throws Exception {
        List<Calibration> cals = calibrate(write(dir, synthetic()), "0");
        Calibration o3 = find(cals, "o3", "fillrandom");
        Spec s = cluster();
        Point one = ScalingModel.predict(o3, s, 1);
        assertEquals(Resource.COMPUTE_CPU, one.binding());
        assertEquals(100_000, one.opsPerSec(), 1e-6);
        // two 1-core workers at 3 µs per write: 666,667 writes/s for the whole cluster; N = 7 is past it
        assertEquals(7, ScalingModel.knee(o3, s, 1, 64));
        Point many = ScalingModel.predict(o3, s, 64);
        assertEquals(Resource.WORKER_CPU, many.binding());
        assertFalse(many.binding().perNode);
        assertEquals(2 / 3e-6, many.opsPerSec(), 1e-3);
        assertEquals(600_000, ScalingModel.predict(o3, s, 6).opsPerSec(), 1e-6, "linear until then");
        // caas: 20 µs per write on the compute node, its 2-core compactor at 4 µs per write = 500,000/s
        Calibration caas = find(cals, "caas", "fillrandom");
        assertEquals(Resource.COMPUTE_CPU, ScalingModel.predict(caas, s, 1).binding());
        assertEquals(Resource.COMPACTOR_CPU, ScalingModel.predict(caas, s, 64).binding());
        assertEquals(11, ScalingModel.knee(caas, s, 1, 64));
        // more workers move o3's bottleneck: to the compactor (1,000,000/s) at N = 11
        Spec moreWorkers = new Spec(1, 0, 100e9 / 8, 2e-6, 1, 2, 8, 1, 1, 2, 10e9, 2e9, true, false, false);
        assertEquals(Resource.COMPACTOR_CPU, ScalingModel.predict(o3, moreWorkers, 64).binding());
        assertEquals(11, ScalingModel.knee(o3, moreWorkers, 1, 64));
    }

    @Test
    void shouldWriteTheReportAndChartsFromTheCommandLine(@TempDir Path dir) throws Exception {
        Path json = write(dir, synthetic());
        Path md = dir.resolve("out/model.md");
        Path charts = dir.resolve("charts");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScalingModel.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), json.toString(), "--n", "1..16", "--out",
                md.toString(), "--charts", charts.toString());
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String report = Files.readString(md);
        assertTrue(report.contains("## 1-node check"), report);
        assertTrue(report.contains("| o3 | fillrandom | 100.0K | 100.0K | +0.0% | compute CPU |"), report);
        assertTrue(report.contains("o3: compute CPU up to N = 6, flush worker CPU from N = 7 (666.7K)"), report);
        assertTrue(Files.size(charts.resolve("scaling-fillrandom.png")) > 1000);
        assertTrue(Files.size(charts.resolve("bounds-o3-fillrandom.png")) > 1000);
        assertTrue(Files.size(charts.resolve("bounds-caas-fillrandom.png")) > 1000);
    }

    @Test
    void shouldRefuseAMissingFile(@TempDir Path dir) {
        String err = fails(dir.resolve("nope/results.json").toString());
        assertTrue(err.contains("cannot read") && err.contains("nope/results.json"), err);
    }

    @Test
    void shouldRefuseAResultWithoutCpuSeconds(@TempDir Path dir) throws Exception {
        Map<String, Object> root = synthetic();
        @SuppressWarnings("unchecked")
        Map<String, Object> first = (Map<String, Object>) ((List<Object>) root.get("results")).get(1);
        first.put("cpu_seconds", null);
        String err = fails(write(dir, root).toString());
        assertTrue(err.contains("o3/fillrandom has no cpu_seconds"), err);
    }

    @Test
    void shouldRefuseAnUnknownFlagAndBadValues(@TempDir Path dir) throws Exception {
        String json = write(dir, synthetic()).toString();
        assertTrue(fails(json, "--memnode-count", "2").contains("Unknown option: '--memnode-count'"));
        assertTrue(fails(json, "--n", "8..2").contains("--n must be A..B"));
        assertTrue(fails(json, "--transport", "tcp").contains("--transport must be rdma or shm"));
        assertTrue(fails(json, "--modes", "dm").contains("no usable result"));
        Files.writeString(dir.resolve("bad.json"), "{\"results\": [");
        assertTrue(fails(dir.resolve("bad.json").toString()).contains("not JSON"));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> results(Map<String, Object> root) {
        return (List<Object>) root.get("results");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> resultAt(Map<String, Object> root, int i) {
        return (Map<String, Object>) results(root).get(i);
    }

    @Test
    void shouldTakeKappaFromTheWriteBenchmarkNotFromOneThatMovesMoreBytesPerOp(@TempDir Path dir) throws Exception {
        Map<String, Object> root = synthetic();
        // o3 seekrandom: 600 B/op through the memory node (more than the fill's 180) at 10 µs per op of its
        // CPU, mostly searching shards for the scans: not the cost of moving bytes
        Map<String, Object> seek = result("o3", "seekrandom", 100_000, 5.0, 5.0);
        seek.put("daemon_cpu_seconds", map("memnode", 1.0, "bench-w1", 0.0, "bench-w2", 0.0, "bench-c1", 0.0));
        seek.put("memnode_bytes_in", 10_000_000L);
        seek.put("memnode_bytes_out", 50_000_000L);
        seek.put("storage_bytes_by_kind", map("wal", 0L, "flush", 0L, "compaction", 0L));
        seek.put("flushes_by_place", map("local", 0L, "offloaded", 0L, "fallback", 0L));
        seek.put("compactions_by_place", map("local", 0L, "offloaded", 0L, "fallback", 0L));
        results(root).add(seek);
        List<Calibration> cals = calibrate(write(dir, root), "0");
        Calibration s = find(cals, "o3", "seekrandom");
        assertEquals(1e-6 / 180, s.kappa, 1e-15, "κ of the write benchmark (1 µs over 180 B), not 10 µs over 600 B");
        assertEquals("o3/fillrandom", s.kappaFrom);
        assertEquals(10e-6 - 1e-6 / 180 * 600 + 0.1e-9 * 100, s.memnodeRdma, 1e-12,
                "rdma keeps the per-request work above κ x bytes, plus CRC32C on the bytes in");
        assertEquals(1e-6 / 180, find(cals, "o3", "fillrandom").kappa, 1e-15);
    }

    @Test
    void shouldLabelASingleModeRunByItsModeNotByItsEngine(@TempDir Path dir) throws Exception {
        // bin/o3 bench --mode dm --out DIR: engine "o3", mode "dm" ("o3" is also a mode's name)
        Map<String, Object> root = synthetic();
        Map<String, Object> o3 = resultAt(root, 1);
        o3.put("engine", "o3");
        o3.put("mode", "dm");
        List<ScalingModel.Sample> samples = ScalingModel.readSamples(write(dir, root));
        assertEquals("dm", samples.get(1).mode);
        assertEquals("caas", samples.get(0).mode, "--compare-modes results: engine = mode");
        Map<String, Object> plain = resultAt(root, 2);
        plain.put("engine", "o3");
        plain.put("mode", null);
        assertEquals("o3", ScalingModel.readSamples(write(dir, root)).get(2).mode, "no mode recorded: the engine");
    }

    @Test
    void shouldSendDelegatedReadAnswersToTheComputeNodeWhateverTheFlushesDo(@TempDir Path dir) throws Exception {
        Map<String, Object> root = synthetic();
        // o3 ycsbc: 100k reads, each one delegated GET (56 B in, 36 + 84 = 120 B out), plus 8 MB of
        // shards read by the one flush in the window, which ran on a worker
        Map<String, Object> r = result("o3", "ycsbc", 100_000, 2.0, 2.0);
        r.put("daemon_cpu_seconds", map("memnode", 0.2, "bench-w1", 0.1, "bench-w2", 0.0, "bench-c1", 0.0));
        r.put("memnode_bytes_in", 100_000L * 56);
        r.put("memnode_bytes_out", 100_000L * 120 + 8_000_000L);
        r.put("storage_bytes_by_kind", map("wal", 0L, "flush", 8_000_000L, "compaction", 0L));
        r.put("flushes_by_place", map("local", 0L, "offloaded", 1L, "fallback", 0L));
        r.put("compactions_by_place", map("local", 0L, "offloaded", 0L, "fallback", 0L));
        results(root).add(r);
        Calibration c = find(calibrate(write(dir, root), "0"), "o3", "ycsbc");
        assertEquals(1.0, c.roundTrips, EPS);
        assertEquals(120, c.mnOutReads, EPS);
        assertEquals(120, c.computeNicIn(), EPS, "the answers go to the compute node, though every flush was offloaded");
        assertEquals(80, c.workerNicIn(), EPS, "the workers get the rest: the flush's shards");
    }

    @Test
    void shouldKeepLabelledInputsApartAndPoolUnlabelledOnes(@TempDir Path dir) throws Exception {
        Path a = write(Files.createDirectories(dir.resolve("a")), synthetic());
        Path b = write(Files.createDirectories(dir.resolve("b")), synthetic());
        Path md = dir.resolve("model.md");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScalingModel.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "wal-off=" + a, "wal-on=" + b, "--n", "1..4",
                "--out", md.toString());
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String report = Files.readString(md);
        assertTrue(report.contains("| o3 | fillrandom@wal-off | 100.0K |"), report);
        assertTrue(report.contains("| o3 | fillrandom@wal-on | 100.0K |"), report);
        assertTrue(report.contains("## fillrandom@wal-on: predicted"), report);
        assertTrue(report.contains("- `wal-off=" + a + "`"), report);
        // without labels the same mode and benchmark pool: 2M writes in 20 s
        List<ScalingModel.Sample> pooled = new ArrayList<>(ScalingModel.readSamples(a));
        pooled.addAll(ScalingModel.readSamples(b));
        pooled = ScalingModel.pool(pooled);
        assertEquals(3, pooled.size());
        assertEquals(2_000_000, pooled.get(1).ops);
        assertEquals(new ScalingModel.Input("x.y-1", Path.of("some/results.json")),
                ScalingModel.parseInput("x.y-1=some/results.json"));
        assertEquals(new ScalingModel.Input("", a), ScalingModel.parseInput(a.toString()));
        assertTrue(fails("a b=" + a).contains("a label (before '=') must be"));
    }

    @Test
    void shouldRefuseNoCapacityForARoleWithDemand(@TempDir Path dir) throws Exception {
        String json = write(dir, synthetic()).toString();
        assertTrue(fails(json, "--workers", "0").contains("--workers 0: o3/fillrandom puts work on flush workers"));
        assertTrue(fails(json, "--memnodes", "0").contains("--memnodes 0: o3/fillrandom puts work on the memory node"));
        assertTrue(fails(json, "--compactors", "0").contains("--compactors 0"));
        assertTrue(fails(json, "--worker-cores", "0").contains("--worker-cores 0"));
        // auto: the memory node idles at 0.05 CPU-s per s (o3 readrandom), charged to each as lost capacity
        String e = fails(json, "--memnode-cores", "0.05");
        assertTrue(e.contains("--memnode-cores 0.05") && e.contains("background"), e);
        // a role no modelled result uses may have none
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScalingModel.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), json, "--modes", "caas", "--workers", "0");
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldWriteTheReportAndExitNonZeroWhenTheChartsCannotBeDrawn(@TempDir Path dir) throws Exception {
        Path json = write(dir, synthetic());
        Path md = dir.resolve("model.md");
        ScalingModel.ChartWriter real = ScalingModel.chartWriter;
        ScalingModel.chartWriter = (d, cals, s, n, modes, label) -> {
            throw new InternalError("no fonts"); // as AWT does on a host without them
        };
        try {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = ScalingModel.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), json.toString(), "--out", md.toString(),
                    "--charts", dir.resolve("charts").toString());
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, status, e);
            assertTrue(e.contains("warning") && e.contains("charts were not") && e.contains("no fonts"), e);
            assertTrue(Files.readString(md).contains("## 1-node check"), "the report is written first");
        } finally {
            ScalingModel.chartWriter = real;
        }
    }

    @Test
    void shouldRefuseNonPositiveCpuAndABadDaemonFigure(@TempDir Path dir) throws Exception {
        Map<String, Object> root = synthetic();
        resultAt(root, 1).put("cpu_seconds", -1.0);
        String e = fails(write(dir, root).toString());
        assertTrue(e.contains("o3/fillrandom has cpu_seconds -1.0") && e.contains("must be > 0"), e);
        root = synthetic();
        resultAt(root, 1).put("daemon_cpu_seconds", map("memnode", 1.0, "bench-w1", "1.5"));
        e = fails(write(dir, root).toString());
        assertTrue(e.contains("o3/fillrandom: bad input: daemon_cpu_seconds.bench-w1 is 1.5, not a number"), e);
        root = synthetic();
        resultAt(root, 1).put("daemon_cpu_seconds", List.of(1.0));
        assertTrue(fails(write(dir, root).toString()).contains("bad input: daemon_cpu_seconds is not an object"));
    }

    @Test
    void shouldNoteAGoneDaemonAndMissingStorageBytes(@TempDir Path dir) throws Exception {
        Map<String, Object> root = synthetic();
        // bench-w2 was gone in readrandom (bin/o3 bench leaves it out); caas fillrandom has no storage bytes
        resultAt(root, 2).put("daemon_cpu_seconds", map("memnode", 0.1, "bench-w1", 0.0, "bench-c1", 0.0));
        resultAt(root, 0).remove("storage_bytes_written");
        resultAt(root, 0).remove("storage_bytes_by_kind");
        Path md = dir.resolve("model.md");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScalingModel.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), write(dir, root).toString(), "--out", md.toString());
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String report = Files.readString(md);
        assertTrue(report.contains("o3/readrandom: daemon_cpu_seconds has no figure for bench-w2"), report);
        assertTrue(report.contains("caas/fillrandom: no storage bytes"), report);
        // a mode whose role has no daemon at all in the file
        root = synthetic();
        resultAt(root, 1).put("daemon_cpu_seconds", map("memnode", 1.0, "bench-c1", 2.0));
        resultAt(root, 2).put("daemon_cpu_seconds", map("memnode", 0.1, "bench-c1", 0.0));
        List<ScalingModel.Sample> samples = ScalingModel.readSamples(write(dir, root));
        assertTrue(samples.get(1).notes.stream().anyMatch(n -> n.contains("no workers figure although o3 uses them")),
                samples.get(1).notes.toString());
    }

    /** Runs the command expecting exit status 2; returns what it printed to stderr. */
    private static String fails(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScalingModel.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, status, "stdout: " + out.toString(StandardCharsets.UTF_8) + " stderr: " + e);
        assertNotNull(e);
        return e;
    }
}
