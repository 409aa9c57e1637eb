package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.hdfs.MiniHdfs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/o3 cluster up --storage hdfs://…}: the cluster's flush worker and compactor (real
 * processes) share an HDFS storage root (a MiniDFSCluster, its NameNode and DataNode reached over
 * TCP); a DB in o3 mode on it, in a JVM of its own, has its flushes and compactions offloaded, finds
 * every key, also after a reopen, and its files are on HDFS; the runner ({@code bench --cluster})
 * makes its DB there too. A storage that cannot be reached fails up without starting anything.
 */
@Tag("hdfs")
@Tag("dm")
class ClusterOnHdfsProcessTest {
    private static MiniHdfs hdfs;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startHdfs() throws Exception {
        hdfs = MiniHdfs.start(1);
    }

    @AfterAll
    static void stopHdfs() throws Exception {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Cluster.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }

    @Test
    @Timeout(300)
    void anO3WorkloadOnAClusterWithHdfsStorageOffloadsAndFindsEveryKey() throws Exception {
        Path dir = tmp.resolve("cluster");
        String storage = hdfs.uri("/o3-cluster").toString();
        String[] up = run("up", "--dir", dir.toString(), "--storage", storage, "--flush-workers", "1", "--compactors",
                "1", "--pin", "false", "--capacity", "256m");
        try {
            assertEquals("0", up[0], String.join("\n", up));
            Properties p = new Properties();
            try (var r = Files.newBufferedReader(dir.resolve("cluster.properties"))) {
                p.load(r);
            }
            assertEquals(storage, p.getProperty("storage"));
            String[] status = run("status", "--dir", dir.toString());
            assertTrue(status[1].contains(storage + " (remote"), String.join("\n", status));
            String cp = Cluster.productionClassPath() + java.io.File.pathSeparator
                    + Path.of("target", "test-classes").toAbsolutePath();
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", cp,
                    ClusterWorkloadMain.class.getName(), p.getProperty("memnode"), p.getProperty("secret-file"),
                    storage + "/db", "60000")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("workload.log").toFile());
            pb.environment().putAll(io.o3lsm.dm.transport.UcxEnvironment.VARIABLES);
            Process w = pb.start();
            boolean ended;
            try {
                ended = w.waitFor(200, TimeUnit.SECONDS);
            } finally {
                w.destroyForcibly();
            }
            String wout = Files.readString(tmp.resolve("workload.log"));
            assertTrue(ended, "the workload did not end within 200 s:\n" + wout);
            assertEquals(0, w.exitValue(), wout);
            assertTrue(wout.contains("every key found: 60000"), wout);
            assertTrue(wout.matches("(?s).*flushes offloaded [1-9][0-9]* .*"), wout);
            assertTrue(wout.matches("(?s).*compactions offloaded [1-9][0-9]* .*"), wout);
            FileStatus[] files = hdfs.cluster().getFileSystem().listStatus(new org.apache.hadoop.fs.Path("/o3-cluster/db"));
            long ssts = java.util.Arrays.stream(files).filter(f -> f.getPath().getName().endsWith(".sst")).count();
            assertTrue(ssts > 0, "the DB's tables are on HDFS: " + java.util.List.of(files));
            // the runner against the same cluster: its DB is made on the cluster's HDFS storage
            String text = BenchRunTest.run(0, "--mode", "o3", "--cluster", dir.toString(), "--num", "20000", "--reads",
                    "5000", "--local-budget", "1m", "--dm-budget", "16m", "--benchmarks", "fillrandom,readrandom",
                    "--seed", "3", "--progress", "off");
            assertTrue(text.contains("Dir:        " + storage + "/o3-bench-"), text);
            assertTrue(text.contains("(5000 of 5000 found)"), text);
        } catch (Throwable t) {
            t.addSuppressed(new AssertionError("down after the failure: " + String.join("\n", ClusterTestSupport.down(dir))));
            throw t; // the first failure is the one reported
        }
        String[] down = ClusterTestSupport.down(dir);
        assertEquals("0", down[0], String.join("\n", down));
    }

    @Test
    void upFailsWithoutStartingAnythingWhenTheStorageCannotBeReached() throws Exception {
        Path dir = tmp.resolve("unreachable");
        int port = MemNodeLauncher.freePort(); // nothing listens there
        String[] up = run("up", "--dir", dir.toString(), "--storage", "hdfs://127.0.0.1:" + port + "/o3", "--pin",
                "false", "--timeout", "30");
        assertEquals(Integer.toString(Cluster.EXIT_FAILED), up[0], String.join("\n", up));
        assertTrue(up[2].contains("cannot use the storage hdfs://127.0.0.1:" + port), String.join("\n", up));
        assertTrue(!Files.exists(dir.resolve("run/memnode.pid")), "nothing started");
        ClusterTestSupport.down(dir); // in case a regression started something after all
        for (String storage : new String[] {"file:relative", "hdfs:/no-host", "hdfs:///no-host", "s3://bucket/o3"}) {
            String[] bad = run("up", "--dir", dir.toString(), "--storage", storage);
            assertEquals(Integer.toString(Cluster.EXIT_USAGE), bad[0], storage + ": " + String.join("\n", bad));
            assertTrue(bad[2].contains("storage"), String.join("\n", bad));
        }
    }
}
