package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/o3 cluster} with real processes: up starts a memory node, a flush worker and a
 * compactor; a DB in o3 mode (memtables offloaded to the node, flushes on the worker, compactions
 * on the compactor, all on the cluster's storage) writes and finds every key, also after a reopen;
 * status reports the jobs; down stops every process cleanly.
 */
@Tag("dm")
class ClusterProcessTest {
    @TempDir
    Path tmp;

    private static final class Run {
        final int code;
        final String out;
        final String err;

        Run(String... args) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            code = Cluster.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                    new PrintStream(e, true, StandardCharsets.UTF_8));
            out = o.toString(StandardCharsets.UTF_8);
            err = e.toString(StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + code + "\nstdout:\n" + out + "stderr:\n" + err;
        }
    }

    @Test
    @Timeout(300)
    void upRunsAnO3WorkloadThatFindsEveryKeyAndDownStopsEveryProcess() throws Exception {
        Path dir = tmp.resolve("cluster");
        Run up = new Run("up", "--dir", dir.toString(), "--flush-workers", "1", "--compactors", "1", "--pin", "false",
                "--capacity", "256m");
        Map<String, Long> pids = new java.util.LinkedHashMap<>();
        try {
            assertEquals(0, up.code, up.toString());
            Properties p = new Properties();
            try (var r = Files.newBufferedReader(dir.resolve("cluster.properties"))) {
                p.load(r);
            }
            String address = p.getProperty("memnode");
            assertEquals(address, up.out.trim(), "up prints the memory node's address alone on stdout");
            for (String role : List.of("memnode", "flushworker-1", "compactor-1")) {
                pids.put(role, Long.parseLong(Files.readString(dir.resolve("run").resolve(role + ".pid")).trim()));
            }
            Run again = new Run("up", "--dir", dir.toString());
            assertEquals(Cluster.EXIT_RUNNING_OR_NOT, again.code, again.toString());
            Run status = new Run("status", "--dir", dir.toString());
            assertEquals(0, status.code, status.toString());
            assertTrue(status.out.contains("running") && status.out.contains("compactor-1    up"), status.toString());

            // a DB in o3 mode on the cluster's storage, in a JVM of its own (this one's class path has
            // core's in-process test stand-ins): small budgets, so shards go to the node, flushes to the
            // worker and compactions to the compactor
            Path db = Path.of(p.getProperty("storage")).resolve("db");
            String cp = Cluster.productionClassPath() + java.io.File.pathSeparator
                    + Path.of("target", "test-classes").toAbsolutePath();
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", cp,
                    ClusterWorkloadMain.class.getName(), address, p.getProperty("secret-file"), db.toString(), "120000")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("workload.log").toFile());
            pb.environment().putAll(io.o3lsm.dm.transport.UcxEnvironment.VARIABLES);
            Process w = pb.start();
            boolean ended;
            try {
                ended = w.waitFor(200, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                w.destroyForcibly(); // never left behind, whatever failed
            }
            String wout = Files.readString(tmp.resolve("workload.log"));
            assertTrue(ended, "the workload did not end within 200 s:\n" + wout);
            assertEquals(0, w.exitValue(), wout);
            assertTrue(wout.contains("every key found: 120000"), wout);
            assertTrue(wout.matches("(?s).*flushes offloaded [1-9][0-9]* .*"), wout);
            assertTrue(wout.matches("(?s).*compactions offloaded [1-9][0-9]* .*"), wout);
            // each worker logs a job as done just after reporting it: wait for the lines
            long deadline = System.nanoTime() + 20_000_000_000L;
            String workerLog = "";
            String compactorLog = "";
            do {
                Thread.sleep(50);
                status = new Run("status", "--dir", dir.toString());
            } while (System.nanoTime() < deadline && !(status.out.matches("(?s).*flushworker-1 +up .* [1-9][0-9]* job\\(s\\) done.*")
                    && status.out.matches("(?s).*compactor-1 +up .* [1-9][0-9]* job\\(s\\) done.*")));
            workerLog = Files.readString(dir.resolve("logs/flushworker-1.log"));
            compactorLog = Files.readString(dir.resolve("logs/compactor-1.log"));
            assertTrue(status.out.matches("(?s).*flushworker-1 +up .* [1-9][0-9]* job\\(s\\) done.*"), status + workerLog);
            assertTrue(status.out.matches("(?s).*compactor-1 +up .* [1-9][0-9]* job\\(s\\) done.*"), status + compactorLog);
        } catch (Throwable t) { // the first failure is the one reported
            t.addSuppressed(new AssertionError("down after the failure: " + String.join("\n",
                    ClusterTestSupport.down(dir))));
            throw t;
        }
        Run down = new Run("down", "--dir", dir.toString());
        assertEquals(0, down.code, down.toString());
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            assertFalse(Cluster.isRunning(e.getValue()), e.getKey() + " still runs");
            String log = Files.readString(dir.resolve("logs").resolve(e.getKey() + ".log"));
            assertTrue(log.contains("closed cleanly"), e.getKey() + " log:\n" + log);
        }
        assertTrue(down.err.contains("closed cleanly"), down.toString());
        Run status = new Run("status", "--dir", dir.toString());
        assertEquals(Cluster.EXIT_RUNNING_OR_NOT, status.code, status.toString());
        assertTrue(status.out.contains("not running"), status.toString());
    }

    @Test
    void badArgumentsAreRefusedWithTheirName() throws Exception {
        List<String[]> bad = new ArrayList<>();
        bad.add(new String[] {"up", "--flush-workers", "-1"});
        bad.add(new String[] {"up", "--compactor-slots", "zero"});
        bad.add(new String[] {"up", "--capacity", "1m"});
        bad.add(new String[] {"up", "--pin", "maybe"});
        bad.add(new String[] {"up", "--nodes", "3"});
        bad.add(new String[] {"launch"});
        bad.add(new String[] {"up", "--dir"});
        for (String[] a : bad) {
            Run r = new Run(a);
            assertEquals(Cluster.EXIT_USAGE, r.code, String.join(" ", a) + ": " + r);
            assertFalse(r.err.isBlank(), String.join(" ", a));
        }
        Path config = tmp.resolve("c.properties");
        Files.writeString(config, "flush-workers=3\nworkers=2\n");
        Run r = new Run("up", "--dir", tmp.resolve("x").toString(), "--config", config.toString());
        assertEquals(Cluster.EXIT_USAGE, r.code, r.toString());
        assertTrue(r.err.contains("workers"), r.toString());
        Run status = new Run("status", "--dir", tmp.resolve("none").toString());
        assertEquals(Cluster.EXIT_RUNNING_OR_NOT, status.code, status.toString());
        Run down = new Run("down", "--dir", tmp.resolve("none").toString());
        assertEquals(0, down.code, down.toString());
        assertFalse(Files.exists(tmp.resolve("none")), "down does not create a run directory");
        // the bench against a cluster that is not there, or with daemons of its own on top
        BenchRunTest.run(2, "--mode", "o3", "--cluster", tmp.resolve("none").toString());
        String text = BenchRunTest.refused("--mode", "o3", "--cluster", tmp.resolve("none").toString());
        assertTrue(text.contains("does not run"), text);
        Files.createDirectories(tmp.resolve("stale"));
        Files.writeString(tmp.resolve("stale").resolve("cluster.properties"), "memnode=127.0.0.1:9\n");
        text = BenchRunTest.refused("--mode", "o3", "--cluster", tmp.resolve("stale").toString());
        assertTrue(text.contains("does not run"), text);
        text = BenchRunTest.refused("--mode", "o3", "--cluster", tmp.resolve("stale").toString(), "--compactors", "1");
        assertTrue(text.contains("--compactors"), text);
        text = BenchRunTest.refused("--mode", "local", "--cluster", tmp.resolve("stale").toString());
        assertTrue(text.contains("not local"), text);
    }
}
