package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.format.InternalKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Logger;
import org.junit.jupiter.api.Tag;
import io.o3lsm.testing.LogCapture;
import io.o3lsm.testing.NamedInt64Add;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merge operands through compactions offloaded to a real compactor process (issue 16): the job
 * carries the operator's name and the compactor resolves it (a built-in here), which the outputs
 * show — a full compaction leaves one value per key. A compactor lacking the DB's operator fails
 * the job naming it, and the owner compacts locally. Values are checked against a model by get,
 * multiGet and scans both ways, after a reopen too.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompactionOffloadMergeProcessTest {
    /** int64 add under a name no worker can resolve: no META-INF/services entry names it. */
    static final String NOT_ON_WORKER = "test.not-on-compactor";

    private static final int COUNTERS = 1000;

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    static String ck(int c) {
        return String.format("counter-%05d", c);
    }

    private static Options options(int port, Path secret, MergeOperator op) {
        // no automatic compactions: compactRange runs them, while the compactor is known to be registered
        return Options.defaults().writeBufferSize(1 << 20).targetFileSize(64 << 10)
                .level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300)
                .memoryNode("127.0.0.1:" + port, secret).memtableOffload(false).compactionOffload(true)
                .compactionOffloadDeadline(Duration.ofSeconds(60)).mergeOperator(op);
    }

    @Test
    void shouldCombineOperandsInCompactionsOffloadedToACompactorWithABuiltInOperator() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = shared.resolve("db");
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        TreeMap<String, Long> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess c = new CompactorProcess(dir, "compactor-m", node.port, secret, shared.toString())
                        .start()) {
            try (DB db = DB.open(dbDir, options(node.port, secret, MergeOperators.int64Add()))) {
                waitAttached(db);
                write(db, model);
                check(db, model, "before compaction");
                db.compactRange(null, null);
                System.out.println("stats: " + db.property("o3.stats"));
                assertTrue(db.stats().compactionsOffloaded() > 0, "no compaction was offloaded: "
                        + db.property("o3.stats") + "\n" + c.output());
                assertEquals(0, db.stats().compactionsFallback(), db.property("o3.stats") + "\n" + c.output());
                // a full compaction reaches every key's base (or the bottom): one value per key, which
                // only the named operator could produce from the operands
                Map<String, Integer> types = liveEntryTypes(db, dbDir);
                System.out.println("entries after the full compaction, by type: " + types);
                assertEquals(Map.of("type " + InternalKey.TYPE_VALUE, model.size()), types);
                // and the compactor wrote those tables (the local compactions were trivial moves)
                assertTrue(c.awaitLog(" done: "), c.output());
                List<long[]> written = compactorOutputs(c.output());
                for (long number : liveTables(db)) {
                    assertTrue(written.stream().anyMatch(r -> r[0] <= number && number <= r[1]),
                            "table " + number + " was written by the compactor:\n" + c.output());
                }
                check(db, model, "after the offloaded compaction");
            }
            assertFalse(c.output().contains(" failed: "), c.output());
            try (DB db = DB.open(dbDir, options(node.port, secret, MergeOperators.int64Add()))) {
                check(db, model, "after reopen");
            }
        }
    }

    @Test
    void shouldCompactLocallyWhenTheCompactorLacksTheDbsOperator() throws Exception {
        // on the compactor's class path (it is this JVM's) but registered nowhere: ServiceLoader cannot find it
        assertThrows(IllegalArgumentException.class, () -> MergeOperators.byName(NOT_ON_WORKER, null));
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = shared.resolve("db");
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        TreeMap<String, Long> model = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        Handler capture = LogCapture.into(warnings);
        Logger log = Logger.getLogger("io.o3lsm");
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess c = new CompactorProcess(dir, "compactor-m", node.port, secret, shared.toString())
                        .start()) {
            log.addHandler(capture);
            try (DB db = DB.open(dbDir, options(node.port, secret, new NamedInt64Add(NOT_ON_WORKER)))) {
                waitAttached(db);
                write(db, model);
                db.compactRange(null, null);
                System.out.println("stats: " + db.property("o3.stats"));
                assertTrue(db.stats().compactionsFallback() > 0, "the compaction fell back to a local run: "
                        + db.property("o3.stats"));
                assertEquals(0, db.stats().compactionsOffloaded(), db.property("o3.stats"));
                Map<String, Integer> types = liveEntryTypes(db, dbDir);
                assertEquals(Map.of("type " + InternalKey.TYPE_VALUE, model.size()), types, "the local run merged");
                check(db, model, "after the compaction run locally");
            } finally {
                log.removeHandler(capture);
            }
            assertTrue(c.awaitLog("merge operator \"" + NOT_ON_WORKER + "\" is neither built in"), c.output());
            assertTrue(c.output().contains(" failed: "), c.output());
            assertFalse(c.output().contains(" done: "), c.output());
            String warned;
            synchronized (warnings) {
                warned = String.join("\n", warnings);
            }
            System.out.println("owner's warnings:\n" + warned);
            assertTrue(warned.contains(NOT_ON_WORKER), warned);
            try (DB db = DB.open(dbDir, options(node.port, secret, new NamedInt64Add(NOT_ON_WORKER)))) {
                check(db, model, "after reopen");
            }
        }
    }

    /**
     * Five flushed rounds: bases for most counters, then operands (some over nothing), deletions, a
     * range deletion with operands after it, and puts over operands.
     */
    private static void write(DB db, TreeMap<String, Long> model) {
        for (int c = 0; c < COUNTERS; c++) {
            if (c % 7 != 0) { // every seventh has only operands
                db.put(b(ck(c)), MergeOperators.int64(c * 1000L));
                model.put(ck(c), c * 1000L);
            }
        }
        db.flush();
        for (int round = 1; round <= 4; round++) {
            for (int r = 0; r < 10; r++) {
                for (int c = 0; c < COUNTERS; c++) {
                    merge(db, model, ck(c), round * 100 + r - c % 13);
                }
            }
            if (round == 2) {
                db.deleteRange(b(ck(100)), b(ck(200)));
                model.subMap(ck(100), ck(200)).clear();
                for (int c = 0; c < COUNTERS; c += 11) {
                    db.delete(b(ck(c)));
                    model.remove(ck(c));
                }
            }
            if (round == 3) {
                for (int c = 5; c < COUNTERS; c += 17) {
                    db.put(b(ck(c)), MergeOperators.int64(-c));
                    model.put(ck(c), (long) -c);
                }
            }
            db.flush();
        }
        for (int c = 150; c < 160; c++) { // operands after the range deletion, over nothing
            merge(db, model, ck(c), 1);
        }
        db.flush();
    }

    private static void merge(DB db, TreeMap<String, Long> model, String key, long delta) {
        db.merge(b(key), MergeOperators.int64(delta));
        model.merge(key, delta, Long::sum);
    }

    private static void check(DB db, TreeMap<String, Long> model, String when) {
        List<byte[]> keys = new ArrayList<>();
        for (int c = 0; c < COUNTERS; c++) {
            Long want = model.get(ck(c));
            byte[] got = db.get(b(ck(c)));
            assertEquals(want, got == null ? null : MergeOperators.int64(got), ck(c) + " " + when);
            keys.add(b(ck(c)));
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
        for (int c = 0; c < COUNTERS; c++) {
            Long want = model.get(ck(c));
            assertEquals(want, got.get(c) == null ? null : MergeOperators.int64(got.get(c)), "multiGet " + ck(c) + " " + when);
        }
        assertNull(db.get(b("counter-absent")));
        try (DBIterator it = db.iterator()) {
            Iterator<Map.Entry<String, Long>> want = model.entrySet().iterator();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                Map.Entry<String, Long> e = want.next();
                assertEquals(e.getKey(), str(it.key()), when);
                assertEquals(e.getValue(), MergeOperators.int64(it.value()), e.getKey() + " scanned " + when);
            }
            assertFalse(want.hasNext(), "the forward scan saw every key " + when);
            Iterator<Map.Entry<String, Long>> back = model.descendingMap().entrySet().iterator();
            for (it.seekToLast(); it.isValid(); it.prev()) {
                Map.Entry<String, Long> e = back.next();
                assertEquals(e.getKey(), str(it.key()), when);
                assertEquals(e.getValue(), MergeOperators.int64(it.value()), e.getKey() + " scanned back " + when);
            }
            assertFalse(back.hasNext(), "the backward scan saw every key " + when);
        }
    }

    /** The numbers of the DB's live tables, from its {@code o3.sstables} property (" N: size ..." lines). */
    private static List<Long> liveTables(DB db) {
        List<Long> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^ (\\d+): ").matcher(db.property("o3.sstables"));
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }

    /** Entries of the DB's live tables, counted by type; fails if a key has two entries. */
    private static Map<String, Integer> liveEntryTypes(DB db, Path dbDir) throws Exception {
        Map<String, Integer> types = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (long number : liveTables(db)) {
            for (String e : Tables.entries(dbDir, number)) { // "user-key@sequence/type=value"
                int at = e.indexOf('@');
                String key = e.substring(0, at);
                assertTrue(seen.add(key), key + " has more than one entry: " + e);
                types.merge("type " + e.substring(e.indexOf('/', at) + 1, e.indexOf('=', at)), 1, Integer::sum);
            }
        }
        return types;
    }

    /** The output-number ranges of the compactor's jobs, from its "started: ... outputs A..B in DIR" lines. */
    private static List<long[]> compactorOutputs(String log) {
        List<long[]> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" outputs (\\d+)(?:\\.\\.(\\d+))? in ").matcher(log);
        while (m.find()) {
            long from = Long.parseLong(m.group(1));
            out.add(new long[] {from, m.group(2) == null ? from : Long.parseLong(m.group(2))});
        }
        return out;
    }

    private static void waitAttached(DB db) throws InterruptedException {
        for (int i = 0; i < 400 && !db.property("o3.dm").contains("attached=true"); i++) {
            Thread.sleep(50);
        }
        assertTrue(db.property("o3.dm").contains("attached=true"), db.property("o3.dm"));
    }

}
