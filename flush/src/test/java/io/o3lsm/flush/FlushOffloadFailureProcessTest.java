package io.o3lsm.flush;

import static io.o3lsm.flush.FlushOffloadProcessTest.b;
import static io.o3lsm.flush.FlushOffloadProcessTest.k;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flush offloading when a process dies with jobs in flight — a worker, the memory node, the owner —
 * all real processes over UCX. A worker whose storage syncs are slow ({@link SlowStorageFlushWorker})
 * is caught mid-job (an output file created, not yet synced) and the process in question is
 * SIGKILLed there. Nothing acknowledged may be lost, and an abandoned attempt's output must go.
 */
@Tag("dm")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class FlushOffloadFailureProcessTest {
    @TempDir
    Path dir;

    private static final int KEYS = 60_000;

    private TreeMap<String, String> write(DB db, int from, int to) {
        TreeMap<String, String> model = new TreeMap<>();
        for (int i = from; i < to; i++) {
            db.put(b(k(i)), b("v" + i));
            model.put(k(i), "v" + i);
        }
        return model;
    }

    private static long dmField(DB db, String name) {
        for (String part : db.property("o3.dm").split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + db.property("o3.dm"));
    }

    private static void awaitGone(Path p, DB db) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.exists(p) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(p), p + " (an abandoned attempt's output) still exists; "
                + (db == null ? "" : db.property("o3.dm")));
    }

    @Test
    void shouldReassignTheJobOfAWorkerKilledMidJobAndLoseNothing() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "flush-failure-secret-1");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess slow = FlushWorkerProcess.slowStorage(dir, "slow", 120_000, port, secret, storage)
                        .start();
                FlushWorkerProcess healthy = new FlushWorkerProcess(dir, "healthy", port, secret, storage);
                DB db = DB.open(storage.resolve("db"),
                        FlushOffloadProcessTest.options(port, secret, Duration.ofSeconds(5)))) {
            FlushOffloadProcessTest.waitAttached(db);
            TreeMap<String, String> model = write(db, 0, KEYS);
            CompletableFuture<Void> flush = CompletableFuture.runAsync(db::flush);
            Path partial = slow.awaitSlowSync(); // the slow worker holds a job, its output created
            assertTrue(Files.exists(partial), partial.toString());
            healthy.start();
            slow.kill9();
            flush.get(120, TimeUnit.SECONDS);
            System.out.println("after the kill: " + db.property("o3.stats") + "\n" + db.property("o3.dm"));
            assertTrue(db.stats().flushesOffloaded() > 0, db.property("o3.stats") + "\n" + healthy.output());
            // the worker logs a job done after its report was answered, which may be after the owner installed it
            assertTrue(healthy.awaitLog(" done: "), "the job was reassigned to the healthy worker:\n" + healthy.output());
            // the killed attempt's output is deleted while the DB runs, once its deadline passed
            awaitGone(partial, db);
            assertTrue(dmField(db, "orphanOutputsDeleted") >= 1, db.property("o3.dm"));
            FlushOffloadProcessTest.verify(db, model);
        }
    }

    @Test
    void shouldGoOnWithLocalFlushesWhenTheMemoryNodeIsKilledWithJobsInFlight() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "flush-failure-secret-2");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, String> model;
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess slow = FlushWorkerProcess.slowStorage(dir, "slow", 120_000, port, secret, storage)
                        .start();
                DB db = DB.open(dbDir, FlushOffloadProcessTest.options(port, secret, Duration.ofSeconds(30)))) {
            FlushOffloadProcessTest.waitAttached(db);
            model = write(db, 0, KEYS);
            CompletableFuture<Void> flush = CompletableFuture.runAsync(db::flush);
            slow.awaitSlowSync();
            node.kill9();
            assertTrue(node.waitForExit());
            flush.get(120, TimeUnit.SECONDS);
            System.out.println("after the memory node died: " + db.property("o3.stats") + "\n" + db.property("o3.dm"));
            assertTrue(db.stats().flushesFallback() + db.stats().flushesLocal() > 0, db.property("o3.stats"));
            model.putAll(write(db, KEYS, KEYS + 20_000)); // and the DB goes on, flushing locally
            db.flush();
            FlushOffloadProcessTest.verify(db, model);
            slow.kill9();
        }
        try (DB db = DB.open(dbDir, FlushOffloadProcessTest.options(port, secret))) {
            FlushOffloadProcessTest.verify(db, model); // no memory node now: reopen needs none
        }
    }

    @Test
    void shouldRecoverFromTheWalAndDropTheStaleResultWhenTheOwnerIsKilledWithJobsInFlight() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "flush-failure-secret-3");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess slow = FlushWorkerProcess.slowStorage(dir, "slow", 3_000, port, secret, storage)
                        .start()) {
            Process owner = startOwner(dbDir, port, secret, KEYS);
            try {
                awaitLine(owner, "written " + KEYS);
                Path zombieOutput = slow.awaitSlowSync(); // a job of the owner is mid-flight on the worker
                owner.destroyForcibly(); // SIGKILL
                assertTrue(owner.waitFor(10, TimeUnit.SECONDS));
                // the zombie finishes its sync, its result is refused (the job ended with its owner), and it
                // deletes what it wrote
                assertTrue(slow.awaitLog("result not taken") || slow.awaitLog("cancelled"), slow.output());
                awaitGone(zombieOutput, null);
            } finally {
                owner.destroyForcibly();
            }
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < KEYS; i++) {
                model.put(k(i), "v" + i);
            }
            try (DB db = DB.open(dbDir, FlushOffloadProcessTest.options(port, secret))) {
                FlushOffloadProcessTest.verify(db, model); // every acknowledged write, from the WAL
                for (int i = 0; i < KEYS; i += 997) {
                    assertArrayEquals(b("v" + i), db.get(b(k(i))));
                }
            }
            assertFalse(node.output().contains("Exception in thread"), node.output());
        }
    }

    @Test
    void shouldCloseWithoutWaitingOutTheDeadlineOfAJobInFlight() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "flush-failure-secret-4");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, String> model;
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess slow = FlushWorkerProcess.slowStorage(dir, "slow", 600_000, port, secret, storage)
                        .start()) {
            DB db = DB.open(dbDir, FlushOffloadProcessTest.options(port, secret, Duration.ofSeconds(600)));
            CompletableFuture<Void> flush;
            try {
                FlushOffloadProcessTest.waitAttached(db);
                model = write(db, 0, KEYS);
                flush = CompletableFuture.runAsync(db::flush);
                slow.awaitSlowSync(); // a job is held by a worker that will not finish within the test
            } finally {
                // the close cancels the job rather than wait out its 600 s deadline (the test's timeout is 240 s)
                long t0 = System.nanoTime();
                db.close();
                System.out.printf("close with a job in flight took %.0f ms%n", (System.nanoTime() - t0) / 1e6);
            }
            assertTrue(flush.isDone() || flush.handle((v, t) -> t).get(30, TimeUnit.SECONDS) != null,
                    "the flush waiting for the job ended with the close");
            assertTrue(slow.awaitLog("cancelled"), slow.output());
        }
        try (DB db = DB.open(dbDir, FlushOffloadProcessTest.options(port, secret))) {
            FlushOffloadProcessTest.verify(db, model); // everything from the WAL
        }
    }

    private Process startOwner(Path dbDir, int port, Path secret, int keys) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.o3lsm.flush.OwnerChild",
                dbDir.toString(), Integer.toString(port), secret.toString(), Integer.toString(keys)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("owner.err").toFile());
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        Process p = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        return p;
    }

    private void awaitLine(Process p, String want) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Boolean> seen = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = r.readLine()) != null;) {
                    if (line.equals(want)) {
                        return true;
                    }
                }
                return false;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        boolean ok = seen.get(120, TimeUnit.SECONDS);
        assertEquals(true, ok, "owner never printed '" + want + "':\n" + Files.readString(dir.resolve("owner.err")));
    }
}
