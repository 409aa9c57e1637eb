package io.o3lsm.flush;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flush offloading with real processes: a memory node (hosting the coordinator), two flush
 * workers and the DB (this JVM), over UCX. Offloaded flushes are checked key by key against a
 * model, after reopen too.
 */
@Tag("dm")
class FlushOffloadProcessTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    static String str(byte[] x) {
        return new String(x, StandardCharsets.UTF_8);
    }

    static Options options(int port, Path secret, Duration deadline) {
        return options(port, secret).flushOffloadDeadline(deadline);
    }

    static Options options(int port, Path secret) {
        return Options.defaults().shardCount(4).shardArenaSize(256 << 10).writeBufferSize(16 << 20)
                .memoryNode("127.0.0.1:" + port, secret).localMemoryBudget(5 * (256 << 10)).dmBudget(256L << 20)
                .targetFileSize(4 << 20).flushOffload(true).flushOffloadMinBytes(1)
                .flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadDeadline(Duration.ofSeconds(60));
    }

    static void waitAttached(DB db) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!db.property("o3.dm").contains("attached=true") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(db.property("o3.dm").contains("attached=true"), db.property("o3.dm"));
    }

    @Test
    void shouldFlushOffloadedShardsOnWorkersAndKeepEveryKey() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-flush-1");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess w1 = new FlushWorkerProcess(dir, "w1", port, secret, storage).start();
                FlushWorkerProcess w2 = new FlushWorkerProcess(dir, "w2", port, secret, storage).start()) {
            try (DB db = DB.open(dbDir, options(port, secret))) {
                waitAttached(db);
                for (int i = 0; i < 200_000; i++) {
                    String v = "value-" + i + "-" + "x".repeat(i % 50);
                    db.put(b(k(i)), b(v));
                    model.put(k(i), v);
                    if (i % 7 == 3) {
                        db.delete(b(k(i / 2)));
                        model.remove(k(i / 2));
                    }
                }
                db.flush();
                DBStats st = db.stats();
                System.out.println("stats: " + db.property("o3.stats"));
                assertTrue(st.flushesOffloaded() > 0, "no flush was offloaded: " + db.property("o3.stats"));
                assertEquals(0, st.flushesFallback(), db.property("o3.stats") + "\n" + w1.output() + w2.output());
                verify(db, model);
            }
            // a worker logs a job done once its report was answered, which may be after the owner installed it
            assertTrue(w1.awaitLog(" done: ") && w2.awaitLog(" done: "),
                    "both workers should have run jobs:\n" + w1.output() + w2.output());
            try (DB db = DB.open(dbDir, options(port, secret))) {
                verify(db, model);
            }
        }
    }

    @Test
    void shouldRunFlushesOfOneDbOnTheWorkerAnotherDbOffersInItsProcess() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-flush-2");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        TreeMap<String, String> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                // b writes nothing: it only offers two slots of this process as a flush worker
                DB b = DB.open(storage.resolve("b"), Options.defaults().memoryNode("127.0.0.1:" + port, secret)
                        .flushWorkerSlots(2));
                DB a = DB.open(storage.resolve("a"), options(port, secret))) {
            waitAttached(a);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!node.output().contains("-worker registered") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(node.output().contains("-worker registered"),
                    node.output());
            for (int i = 0; i < 100_000; i++) {
                a.put(b(k(i)), b("v" + i));
                model.put(k(i), "v" + i);
            }
            a.flush();
            assertTrue(a.stats().flushesOffloaded() > 0, a.property("o3.stats"));
            verify(a, model);
        }
    }

    static void verify(DB db, TreeMap<String, String> model) {
        for (Map.Entry<String, String> e : model.entrySet()) {
            byte[] v = db.get(b(e.getKey()));
            assertArrayEquals(b(e.getValue()), v, e.getKey());
        }
        try (DBIterator it = db.iterator()) {
            Iterator<Map.Entry<String, String>> want = model.entrySet().iterator();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                Map.Entry<String, String> e = want.next();
                assertEquals(e.getKey(), str(it.key()));
                assertEquals(e.getValue(), str(it.value()));
            }
            assertTrue(!want.hasNext(), "the scan saw every key");
        }
    }
}
