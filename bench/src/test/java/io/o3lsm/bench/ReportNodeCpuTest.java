package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU-per-node figures of a mode comparison: which node each daemon stands for, and the chart. */
class ReportNodeCpuTest {
    @Test
    void shouldAttributeEachDaemonToTheNodeItStandsFor() {
        assertEquals("memory node", Report.nodeRole("memnode"));
        assertEquals("flush workers", Report.nodeRole("bench-w1"));
        assertEquals("flush workers", Report.nodeRole("flushworker-12"));
        assertEquals("compactors", Report.nodeRole("bench-c2"));
        assertEquals("compactors", Report.nodeRole("compactor-1"));
        assertEquals("backups", Report.nodeRole("replica1"));
        assertEquals("other", Report.nodeRole("bench-wx"));
        assertEquals("other", Report.nodeRole("namenode"));
    }

    @Test
    void shouldSumCpuSecondsPerNodeWithTheBenchProcessAsTheComputeNode() {
        Result r = new Result();
        r.cpuSeconds = 4.5;
        r.daemonCpuSeconds.put("memnode", 1.25);
        r.daemonCpuSeconds.put("bench-w1", 0.5);
        r.daemonCpuSeconds.put("bench-w2", 0.75);
        r.daemonCpuSeconds.put("bench-c1", 2.0);
        r.daemonCpuSeconds.put("replica1", 0.5);
        assertArrayEquals(new double[] {4.5, 1.25, 1.25, 2.0, 0.5, 0.0}, Report.cpuByRole(r), 1e-9);
    }

    @Test
    void shouldDrawOneCpuChartPerBenchmarkWithCpuFigures(@TempDir Path dir) throws Exception {
        Result local = result("local", "fillrandom", 3.0);
        Result o3 = result("o3", "fillrandom", 2.0);
        o3.daemonCpuSeconds.put("memnode", 1.0);
        Result noCpu = result("local", "readrandom", -1);
        List<Path> files = Report.writeCharts(dir, List.of(local, o3, noCpu), List.of("local", "o3"),
                List.of("fillrandom", "readrandom"));
        assertTrue(files.contains(dir.resolve("cpu-fillrandom.png")), files.toString());
        assertTrue(Files.size(dir.resolve("cpu-fillrandom.png")) > 1000);
        assertTrue(Files.notExists(dir.resolve("cpu-readrandom.png")), "no CPU figures, no chart");
        assertTrue(files.contains(dir.resolve("latency-cdf-fillrandom.png")), files.toString());
    }

    @Test
    void shouldDrawTheLatencyCdfFromLowestToHighestRisingToOne() {
        org.HdrHistogram.Histogram h = Result.newHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.recordValue(i * 1000L); // 1 .. 1000 µs
        }
        double[][] xy = Report.cdfPoints(h);
        for (int i = 1; i < xy[0].length; i++) {
            assertTrue(xy[0][i] >= xy[0][i - 1] && xy[1][i] >= xy[1][i - 1], "non-decreasing at " + i);
        }
        assertEquals(1.0, xy[0][0], 0.01);
        assertEquals(1000.0, xy[0][xy[0].length - 1], 1.0);
        assertEquals(1.0, xy[1][xy[1].length - 1], 0.0);
        assertEquals(500.0, xy[0][50], 1.0); // the median
    }

    private static Result result(String engine, String workload, double cpu) {
        Result r = new Result();
        r.engine = engine;
        r.mode = engine;
        r.workload = workload;
        r.ops = 1000;
        r.seconds = 1;
        r.cpuSeconds = cpu;
        r.latency.recordValue(1000);
        return r;
    }
}
