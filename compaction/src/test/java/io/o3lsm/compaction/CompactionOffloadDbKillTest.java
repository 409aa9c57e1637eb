package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.dm.MemNodeProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DB with {@code compactionOffload} on, a real memory node and a real compactor process that is
 * SIGKILLed in the middle of the DB's compaction: the DB's submission fails, its retry is declined
 * (no compactor is left), the compaction runs locally, and every write is still there — in this
 * process and after a reopen.
 */
@Tag("dm")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CompactionOffloadDbKillTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldCompactLocallyAndLoseNothingWhenTheCompactorIsKilledMidJob() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = shared.resolve("db");
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        TreeMap<String, String> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess slow = CompactorProcess.slowStorage(dir, "doomed", 120_000, node.port, secret,
                        shared.toString()).start()) {
            Options o = Options.defaults().writeBufferSize(1 << 20).targetFileSize(256 << 10)
                    .level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300)
                    .memoryNode("127.0.0.1:" + node.port, secret).memtableOffload(false).compactionOffload(true)
                    .compactionOffloadDeadline(Duration.ofMinutes(5));
            try (DB db = DB.open(dbDir, o)) {
                for (int i = 0; i < 200 && !db.property("o3.dm").contains("attached=true"); i++) {
                    Thread.sleep(50);
                }
                assertTrue(db.property("o3.dm").contains("attached=true"), db.property("o3.dm"));
                Random rnd = new Random(42);
                for (int i = 0; i < 30_000; i++) {
                    String k = String.format("k%06d", rnd.nextInt(20_000));
                    String v = "v" + i + "-" + "x".repeat(rnd.nextInt(50));
                    db.put(b(k), b(v));
                    model.put(k, v);
                    if (i % 7_500 == 7_499) {
                        db.flush();
                    }
                }
                db.flush();
                CompletableFuture<Void> manual = CompletableFuture.runAsync(() -> db.compactRange(null, null));
                slow.awaitSlowSync(); // the compactor is writing an output of the DB's compaction
                slow.kill9();
                manual.get(180, TimeUnit.SECONDS);
                DBStats st = db.stats();
                assertEquals(0, st.compactionsOffloaded(), db.property("o3.stats"));
                assertTrue(st.compactionsFallback() > 0, "the compaction fell back to a local run: "
                        + db.property("o3.stats"));
                check(db, model);
            }
            try (DB db = DB.open(dbDir, Options.defaults())) {
                check(db, model);
            }
        }
    }

    private static void check(DB db, TreeMap<String, String> model) {
        for (Map.Entry<String, String> en : model.entrySet()) {
            assertArrayEquals(b(en.getValue()), db.get(b(en.getKey())), en.getKey());
        }
        assertNull(db.get(b("k999999")));
        int n = 0;
        try (io.o3lsm.DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
            }
        }
        assertEquals(model.size(), n, "no key more or less");
        assertFalse(model.isEmpty());
    }
}
