package io.o3lsm.bench.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.hdfs.MiniHdfs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash test with the DB on HDFS ({@code --storage hdfs://…}): an in-JVM MiniDFSCluster with 3
 * DataNodes and replication 3, a child JVM writing with sync (hsync) that is SIGKILLed, the parent
 * reopening over HDFS (waiting out the dead writer's lock, recovering the leases of LOCK, MANIFEST
 * and WALs) and verifying. Each cycle takes ~10 s, most of it the lock's 5 s dead-after wait and
 * lease recovery, so the default suite runs few cycles; {@code -Dtests.slow=true} runs five times
 * as many. Seeded from {@code -Dtests.seed} when given (the seed is printed either way).
 */
@Tag("crash")
@Tag("hdfs")
class CrashTestOnHdfsTest {
    private static final boolean SLOW = Boolean.getBoolean("tests.slow");
    private static MiniHdfs hdfs;

    @BeforeAll
    static void startHdfs() throws IOException {
        hdfs = MiniHdfs.start(3);
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    /** A run's result and its printed output. */
    private record Run(CrashTest.Result result, String out) {
    }

    private static Run run(Path local, URI storage, int cycles, long minRunMs, long maxRunMs,
            CrashTest.Disturbance whileWriting) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Config c = new CrashTest.Config();
        c.cycles = SLOW ? cycles * 5 : cycles;
        String seed = System.getProperty("tests.seed");
        c.seed = seed == null || seed.isEmpty() ? null : Long.parseLong(seed);
        c.sync = true;
        c.dir = local.resolve("db");
        c.storage = storage;
        c.minRunMs = minRunMs;
        c.maxRunMs = maxRunMs;
        c.whileWriting = whileWriting;
        c.out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        CrashTest.Result r = CrashTest.run(c);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(out.contains("crashtest: db " + storage + ","), out);
        assertEquals(0, r.lost(), out);
        assertEquals(0, r.holes(), out);
        assertEquals(0, r.corrupt(), out);
        assertEquals(0, r.errors(), out);
        assertEquals(c.cycles, r.cycles(), out);
        long productive = Arrays.stream(r.ackedPerCycle()).filter(a -> a > 0).count();
        assertTrue(productive >= (r.cycles() * 2 + 2) / 3,
                "too few cycles acknowledged any batch: " + Arrays.toString(r.ackedPerCycle()) + "\n" + out);
        String[] lines = out.trim().split("\n");
        assertEquals(r.summary(), lines[lines.length - 1]);
        return new Run(r, out);
    }

    /** Kill, reopen over HDFS, verify: nothing acknowledged lost, no holes, nothing corrupt. */
    @Test
    @Timeout(600)
    void shouldRecoverEveryAcknowledgedWriteOnHdfsWithSync(@TempDir Path local) {
        Run run = run(local, hdfs.uri("/crash-sync"), 4, 800, 2000, null);
        assertTrue(run.result().ok(), run.out());
    }

    /**
     * A DataNode of the write pipeline stops while the child writes (odd cycles: one of the three
     * is stopped; even cycles: it is started again), and the child is killed soon after: with
     * replication 3 the writes it acknowledged after the stop went to the two DataNodes left, and
     * the reopened DB must hold every one. Fails if the child's writes fail on the lost DataNode
     * (the child would exit by itself: an error) or if no write was acknowledged after a stop.
     */
    @Test
    @Timeout(600)
    void shouldLoseNoAcknowledgedWriteWhenDataNodeStopsWhileWriting(@TempDir Path local) throws IOException {
        MiniDFSCluster cluster = hdfs.cluster();
        List<MiniDFSCluster.DataNodeProperties> stopped = new ArrayList<>();
        CrashTest.Disturbance stopOrRestart = cycle -> {
            if (stopped.isEmpty()) {
                int i = cycle / 2 % cluster.getDataNodes().size();
                String name = cluster.getDataNodes().get(i).getDisplayName();
                stopped.add(cluster.stopDataNode(i));
                return "stopped DataNode " + name + " (" + cluster.getDataNodes().size() + " left)";
            }
            MiniDFSCluster.DataNodeProperties p = stopped.remove(0);
            cluster.restartDataNode(p, true);
            return "restarted a DataNode (" + cluster.getDataNodes().size() + " up)";
        };
        try {
            Run run = run(local, hdfs.uri("/crash-datanode"), 3, 2000, 3000, stopOrRestart);
            assertTrue(run.result().ok(), run.out());
            // writes acknowledged after a DataNode began to stop, summed over the cycles that stopped one
            Matcher m = Pattern.compile("during: stopped DataNode .*? \\(acked before/after it: \\d+/(\\d+)\\)").matcher(run.out());
            int stops = 0;
            long ackedAfterStops = 0;
            while (m.find()) {
                stops++;
                ackedAfterStops += Long.parseLong(m.group(1));
            }
            assertTrue(stops >= 2, "expected a DataNode stopped in cycles 1 and 3:\n" + run.out());
            // not asserted: whether the pipeline recovered within a 2-3 s cycle depends on the machine's load
            System.out.println("writes acknowledged after a DataNode stopped, over " + stops + " cycles: "
                    + ackedAfterStops);
        } finally {
            for (MiniDFSCluster.DataNodeProperties p : stopped) {
                cluster.restartDataNode(p, true);
            }
            cluster.waitActive();
        }
    }
}
