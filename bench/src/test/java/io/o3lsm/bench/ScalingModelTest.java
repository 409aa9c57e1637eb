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
