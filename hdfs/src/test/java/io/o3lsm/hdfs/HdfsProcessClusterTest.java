package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.testing.ChildJvm;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HDFS as real processes: a NameNode and 3 DataNodes started by {@link LocalHdfs} (what
 * {@code bin/o3 hdfs up} runs: a launcher JVM that starts the daemons in the background and
 * exits), one cluster for the class, always stopped by {@code LocalHdfs down} at the end — the test
 * then checks that no daemon is left.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HdfsProcessClusterTest {
    private static final int DATANODES = 3;
    private static Path state;
    private static URI hdfs;
    private static final Map<String, Long> PIDS = new LinkedHashMap<>();
    private static Thread safetyNet;

    /** What one run of the launcher printed. */
    record Launch(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    static Launch launcher(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaBinary(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), LocalHdfs.class.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(state, "launcher-", ".out");
        Path err = Files.createTempFile(state, "launcher-", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("launcher " + List.of(args) + " did not exit within 240 s:\n" + Files.readString(err));
        }
        return new Launch(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void startCluster() throws Exception {
        state = Files.createTempDirectory("o3-hdfs-processes-");
        // if this JVM dies before @AfterAll, its daemons die with it
        safetyNet = new Thread(HdfsProcessClusterTest::killRecordedDaemons, "kill-hdfs-daemons");
        Runtime.getRuntime().addShutdownHook(safetyNet);
        Launch up = launcher("up", "--dir", state.toString(), "--datanodes", Integer.toString(DATANODES),
                "--port", "0", "--http-port", "0", "--timeout", "180");
        recordPids();
        assertEquals(LocalHdfs.EXIT_OK, up.exit(), up.toString());
        hdfs = URI.create(up.stdout().strip());
        assertTrue(hdfs.toString().matches("hdfs://127\\.0\\.0\\.1:\\d+"), up.toString());
        assertEquals(DATANODES + 1, PIDS.size(), "pid files: " + PIDS);

        Launch again = launcher("up", "--dir", state.toString());
        assertEquals(LocalHdfs.EXIT_ALREADY_RUNNING, again.exit(), again.toString());
        assertTrue(again.stderr().contains("already up"), again.toString());
        Launch status = launcher("status", "--dir", state.toString());
        assertEquals(LocalHdfs.EXIT_OK, status.exit(), status.toString());
        assertTrue(status.stdout().contains("live DataNodes: 3 of 3"), status.toString());
    }

    private static void recordPids() throws IOException {
        Path run = state.resolve("run");
        if (!Files.isDirectory(run)) {
            return;
        }
        try (var s = Files.list(run)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                String n = f.getFileName().toString();
                PIDS.put(n.substring(0, n.length() - ".pid".length()), Long.parseLong(Files.readString(f).trim()));
            }
        }
    }

    private static void killRecordedDaemons() {
        for (long pid : PIDS.values()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (state == null) {
            return;
        }
        try {
            recordPids();
            Launch down = launcher("down", "--dir", state.toString(), "--grace", "20");
            List<String> left = new ArrayList<>();
            PIDS.forEach((role, pid) -> {
                if (LocalHdfs.isRunning(pid)) {
                    left.add(role + " (pid " + pid + ")");
                }
            });
            killRecordedDaemons();
            assertEquals(LocalHdfs.EXIT_OK, down.exit(), down.toString());
            assertTrue(left.isEmpty(), "still running after down: " + left + "\n" + down);
            try (var s = Files.list(state.resolve("run"))) {
                assertEquals(0, s.count(), "pid files left after down");
            }
        } finally {
            killRecordedDaemons();
            Runtime.getRuntime().removeShutdownHook(safetyNet);
            MiniHdfs.deleteTree(state);
        }
    }

    private static byte[] key(int thread, long i) {
        return String.format("t%d-%08d", thread, i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int thread, long i) {
        byte[] v = new byte[200];
        byte[] k = key(thread, i);
        for (int j = 0; j < v.length; j++) {
            v[j] = k[j % k.length];
        }
        return v;
    }

    @Test
    void shouldLoseNoAcknowledgedWriteWhenADataNodeIsKilledUnderLoad() throws Exception {
        URI db = URI.create(hdfs + "/kill/db");
        int threads = 4;
        int batch = 8;
        long killAt = 4_000;       // keys acknowledged before the kill
        long afterKill = 8_000;    // keys acknowledged after it
        // a small write buffer: SSTs are written (and the WAL rolled) while the DataNode dies
        Options options = Options.defaults().createIfMissing(true).writeBufferSize(1 << 20);
        AtomicLongArray acked = new AtomicLongArray(threads);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        long killedPid = PIDS.get("datanode-2");
        long ackedAtKill;
        try (DB d = DB.open(db, options)) {
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread w = new Thread(() -> {
                    try {
                        long i = 0;
                        while (!stop.get()) {
                            WriteBatch b = new WriteBatch();
                            for (int j = 0; j < batch; j++) {
                                b.put(key(thread, i + j), value(thread, i + j));
                            }
                            d.write(b, WriteOptions.defaults().sync(true));
                            i += batch;
                            acked.set(thread, i); // keys [0, i) of this thread are acknowledged
                        }
                    } catch (Throwable ex) {
                        failures.add(ex);
                    }
                }, "writer-" + t);
                w.start();
                writers.add(w);
            }
            try {
                awaitAcked(acked, killAt, failures);
                assertTrue(ProcessHandle.of(killedPid).map(ProcessHandle::destroyForcibly).orElse(false),
                        "SIGKILL datanode-2 (pid " + killedPid + ")");
                ackedAtKill = total(acked);
                awaitAcked(acked, ackedAtKill + afterKill, failures);
            } finally {
                stop.set(true);
                for (Thread w : writers) {
                    w.join(TimeUnit.MINUTES.toMillis(2));
                }
            }
            assertTrue(failures.isEmpty(), () -> "writes failed after the DataNode was killed: " + failures);
            assertFalse(LocalHdfs.isRunning(killedPid), "datanode-2 still runs after SIGKILL");
        }
        long total = total(acked);
        assertTrue(total >= ackedAtKill + afterKill, "acknowledged " + total);
        try (DB d = DB.open(db, Options.defaults().createIfMissing(false))) {
            for (int t = 0; t < threads; t++) {
                for (long i = 0; i < acked.get(t); i++) {
                    byte[] got = d.get(key(t, i));
                    int thread = t;
                    long n = i;
                    assertArrayEquals(value(t, i), got, () -> "acknowledged key " + new String(key(thread, n),
                            StandardCharsets.UTF_8) + " after reopening (killed at " + ackedAtKill + " of " + total + ")");
                }
            }
        }
    }

    private static long total(AtomicLongArray a) {
        long s = 0;
        for (int i = 0; i < a.length(); i++) {
            s += a.get(i);
        }
        return s;
    }

    /** Waits until the writers acknowledged {@code n} keys in all, or one failed (then fails). */
    private static void awaitAcked(AtomicLongArray acked, long n, ConcurrentLinkedQueue<Throwable> failures)
            throws InterruptedException {
        while (total(acked) < n) {
            if (!failures.isEmpty()) {
                throw new AssertionError("a writer failed at " + total(acked) + " acknowledged keys: " + failures.peek(),
                        failures.peek());
            }
            Thread.sleep(10); // the class timeout bounds this loop
        }
    }

    @Test
    void shouldRefuseASecondOpenOfTheSameDirectoryInTheSameProcess() throws Exception {
        URI db = URI.create(hdfs + "/lock-same-process/db");
        try (DB first = DB.open(db, Options.defaults().createIfMissing(true))) {
            first.put("key0".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
            O3Exception refused = assertThrows(O3Exception.class, () -> DB.open(db, Options.defaults()).close());
            // DB.open(URI) opens an HDFS client of its own: refused by the lock's live heartbeat, as from another process
            assertTrue(causes(refused).contains("held by a live writer"), () -> causes(refused));
        }
        // the control: once the first closed, the directory opens again
        try (DB again = DB.open(db, Options.defaults().createIfMissing(false))) {
            assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), again.get("key0".getBytes(StandardCharsets.UTF_8)));
        }
    }

    private static String causes(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append('\n');
        }
        return sb.toString();
    }

    /** A second writer in another process is refused while the first holds the lock and heartbeats. */
    @Test
    void shouldRefuseASecondWriterFromAnotherProcessWhileTheFirstIsOpen() throws Exception {
        URI db = URI.create(hdfs + "/lock-other-process/db");
        Path work = Files.createDirectories(state.resolve("child"));
        List<String> child = List.of("-Xmx256m",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), SecondWriterChild.class.getName(), db.toString());
        try (DB first = DB.open(db, Options.defaults().createIfMissing(true))) {
            first.put("key0".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
            // another process: refused by the HDFS lease and the live heartbeat of the first
            ChildJvm.Result other = ChildJvm.run(work, 180, child);
            assertEquals(SecondWriterChild.REFUSED, other.exitCode(), other.toString());
            assertTrue(other.output().contains("held by a live writer"), other.toString());
            // and the first still writes: it was not fenced
            first.put("key1".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8),
                    WriteOptions.defaults().sync(true));
        }
        // the control: once the first closed, the same child opens it
        ChildJvm.Result after = ChildJvm.run(work, 180, child);
        assertEquals(SecondWriterChild.OPENED, after.exitCode(), after.toString());
        assertTrue(after.output().contains("key0=true"), after.toString());
    }
}
