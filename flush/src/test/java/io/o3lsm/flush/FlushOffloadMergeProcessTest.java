package io.o3lsm.flush;

import static io.o3lsm.flush.FlushOffloadProcessTest.b;
import static io.o3lsm.flush.FlushOffloadProcessTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import io.o3lsm.testing.LogCapture;
import io.o3lsm.testing.NamedInt64Add;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merge operands through flushes offloaded to a real flush-worker process (issue 16): the job
 * carries the operator's name and the worker resolves it (a built-in here), which the outputs
 * show — one value per key where the flush holds the key's base, one combined operand where it
 * does not. A worker lacking the DB's operator fails the job naming it, and the owner flushes
 * locally. Values are checked against a model by get, multiGet and a scan, after a reopen too.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FlushOffloadMergeProcessTest {
    /** int64 add under a name no worker can resolve: no META-INF/services entry names it. */
    static final String NOT_ON_WORKER = "test.not-on-worker";

    private static final int COUNTERS = 1000;

    @TempDir
    Path dir;

    static String ck(int c) {
        return String.format("counter-%05d", c);
    }

    private static Options options(int port, Path secret, MergeOperator op) {
        // no compactions: the tables a flush wrote stay as it wrote them
        return FlushOffloadProcessTest.options(port, secret).mergeOperator(op).level0CompactionTrigger(100)
                .level0SlowdownTrigger(200).level0StopTrigger(300);
    }

    @Test
    void shouldCombineOperandsInFlushesOffloadedToAWorkerWithABuiltInOperator() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-flush-merge-1");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, Long> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess w = new FlushWorkerProcess(dir, "w1", port, secret, storage).start()) {
            try (DB db = DB.open(dbDir, options(port, secret, MergeOperators.int64Add()))) {
                FlushOffloadProcessTest.waitAttached(db);
                // round 1: a base under every key's operands (a deletion among them for some)
                basesAndOperands(db, model);
                fillers(db, model, 0);
                Set<Path> before = tables(dbDir);
                flushSealed(db);
                assertEquals(0, db.stats().flushesFallback() + db.stats().flushesLocal(),
                        db.property("o3.stats") + "\n" + w.output());
                long offloaded = db.stats().flushesOffloaded();
                assertTrue(offloaded > 0, "no flush was offloaded: " + db.property("o3.stats"));
                List<String> round1 = counterEntries(dbDir, before);
                System.out.println("round 1: " + offloaded + " offloaded flush(es), " + histogram(round1));
                // the worker combined each key's entries in a flush into one: a value where the flush
                // held the key's base; a worker without the operator would have kept them all
                assertTrue(count(round1, InternalKey.TYPE_VALUE) > COUNTERS / 2, histogram(round1));
                check(db, model, "after the first offloaded flushes");

                // round 2: operands only, their bases in older tables: the worker combines each key's
                // operands into one (a partial merge), which only the named operator can do
                for (int r = 1; r <= 10; r++) {
                    for (int c = 0; c < COUNTERS; c++) {
                        merge(db, model, ck(c), r * 3 - c % 5);
                    }
                }
                fillers(db, model, 1);
                before = tables(dbDir);
                flushSealed(db);
                assertEquals(0, db.stats().flushesFallback() + db.stats().flushesLocal(), db.property("o3.stats"));
                assertTrue(db.stats().flushesOffloaded() > offloaded, db.property("o3.stats"));
                List<String> round2 = counterEntries(dbDir, before);
                System.out.println("round 2: " + (db.stats().flushesOffloaded() - offloaded)
                        + " offloaded flush(es), " + histogram(round2));
                assertTrue(count(round2, InternalKey.TYPE_MERGE) > COUNTERS / 2, histogram(round2));
                assertEquals(0, count(round2, InternalKey.TYPE_VALUE), "no base in these flushes: " + histogram(round2));
                check(db, model, "after the second offloaded flushes");
                System.out.println("stats: " + db.property("o3.stats"));
            }
            assertTrue(w.awaitLog(" done: "), w.output());
            assertFalse(w.output().contains(" failed: "), w.output());
            try (DB db = DB.open(dbDir, options(port, secret, MergeOperators.int64Add()))) {
                check(db, model, "after reopen");
            }
        }
    }

    @Test
    void shouldFlushLocallyWhenTheWorkerLacksTheDbsOperator() throws Exception {
        // on the worker's class path (it is this JVM's) but registered nowhere: ServiceLoader cannot find it
        assertThrows(IllegalArgumentException.class, () -> MergeOperators.byName(NOT_ON_WORKER, null));
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-flush-merge-2");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, Long> model = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        Handler capture = LogCapture.into(warnings);
        Logger log = Logger.getLogger("io.o3lsm");
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess w = new FlushWorkerProcess(dir, "w1", port, secret, storage).start()) {
            log.addHandler(capture);
            try (DB db = DB.open(dbDir, options(port, secret, new NamedInt64Add(NOT_ON_WORKER)))) {
                FlushOffloadProcessTest.waitAttached(db);
                basesAndOperands(db, model);
                fillers(db, model, 0);
                flushSealed(db);
                System.out.println("stats: " + db.property("o3.stats"));
                assertTrue(db.stats().flushesFallback() > 0, "the flush fell back: " + db.property("o3.stats"));
                assertEquals(0, db.stats().flushesOffloaded(), db.property("o3.stats"));
                check(db, model, "after flushes run locally");
                for (int c = 0; c < COUNTERS; c += 3) {
                    merge(db, model, ck(c), c);
                }
                db.flush();
                assertEquals(0, db.stats().flushesOffloaded(), db.property("o3.stats"));
                check(db, model, "after a second flush");
            } finally {
                log.removeHandler(capture);
            }
            assertTrue(w.awaitLog("failed: this worker cannot run the job: merge operator \"" + NOT_ON_WORKER + "\""),
                    w.output());
            assertFalse(w.output().contains(" done: "), w.output());
            String warned;
            synchronized (warnings) {
                warned = String.join("\n", warnings);
            }
            System.out.println("owner's warnings:\n" + warned);
            assertTrue(warned.contains(NOT_ON_WORKER) && warned.contains("flushing it locally"), warned);
            try (DB db = DB.open(dbDir, options(port, secret, new NamedInt64Add(NOT_ON_WORKER)))) {
                check(db, model, "after reopen");
            }
        }
    }

    /** For every counter a put (a deletion for every tenth, after a few operands), then operands. */
    private static void basesAndOperands(DB db, TreeMap<String, Long> model) {
        for (int c = 0; c < COUNTERS; c++) {
            db.put(b(ck(c)), MergeOperators.int64(c * 1000L));
            model.put(ck(c), c * 1000L);
        }
        for (int r = 0; r < 20; r++) {
            for (int c = 0; c < COUNTERS; c++) {
                if (r == 5 && c % 10 == 7) {
                    db.delete(b(ck(c)));
                    model.remove(ck(c));
                }
                merge(db, model, ck(c), r - 7 + c % 3);
            }
        }
    }

    /** Puts after the counters' keys (same range) so the shards holding the counters' entries are sealed. */
    private static void fillers(DB db, TreeMap<String, Long> model, int round) {
        for (int i = 0; i < 12_000; i++) {
            String key = String.format("counter-~%d-%06d", round, i);
            db.put(b(key), MergeOperators.int64(i));
            model.put(key, (long) i);
        }
    }

    /**
     * Waits until every sealed shard is on the node (so a flush may be offloaded), then scans the DB
     * until read-aware flushing (`Options.dmReadFlushTrigger`, on by default) has flushed every sealed
     * shard: the scans' delegated reads count against the ranges they read.
     */
    private static void flushSealed(DB db) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (dm(db, "offloadedShards") != dm(db, "sealedShards") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(dm(db, "sealedShards") > 0 && dm(db, "offloadedShards") == dm(db, "sealedShards"),
                db.property("o3.dm"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (dm(db, "sealedShards") > 0 && System.nanoTime() < until) {
            try (io.o3lsm.DBIterator it = db.iterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    it.key();
                }
            }
        }
        assertEquals(0, dm(db, "sealedShards"), "read-aware flushing flushed every sealed shard: " + db.property("o3.dm"));
    }

    private static long dm(DB db, String field) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" " + field + "=(\\d+)").matcher(db.property("o3.dm"));
        assertTrue(m.find(), field + " in " + db.property("o3.dm"));
        return Long.parseLong(m.group(1));
    }

    private static void merge(DB db, TreeMap<String, Long> model, String key, long delta) {
        db.merge(b(key), MergeOperators.int64(delta));
        model.merge(key, delta, Long::sum);
    }

    static void check(DB db, TreeMap<String, Long> model, String when) {
        List<byte[]> keys = new ArrayList<>();
        for (Map.Entry<String, Long> e : model.entrySet()) {
            assertEquals(e.getValue(), MergeOperators.int64(db.get(b(e.getKey()))), e.getKey() + " " + when);
            keys.add(b(e.getKey()));
        }
        keys.add(b("counter-absent"));
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
        for (int i = 0; i < keys.size() - 1; i++) {
            assertEquals(model.get(str(keys.get(i))), MergeOperators.int64(got.get(i)), "multiGet " + when);
        }
        assertEquals(null, got.get(keys.size() - 1));
        try (DBIterator it = db.iterator()) {
            Iterator<Map.Entry<String, Long>> want = model.entrySet().iterator();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                Map.Entry<String, Long> e = want.next();
                assertEquals(e.getKey(), str(it.key()), when);
                assertEquals(e.getValue(), MergeOperators.int64(it.value()), e.getKey() + " scanned " + when);
            }
            assertFalse(want.hasNext(), "the scan saw every key " + when);
        }
    }

    static Set<Path> tables(Path db) throws IOException {
        try (Stream<Path> s = Files.list(db)) {
            return new HashSet<>(s.filter(p -> p.getFileName().toString().endsWith(".sst")).toList());
        }
    }

    /**
     * The counters' entries in the tables not in {@code before}, as "user-key/type"; fails if a table
     * holds two entries of one key (a flush with the operator writes one per key: no snapshots).
     */
    static List<String> counterEntries(Path db, Set<Path> before) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path p : tables(db)) {
            if (before.contains(p)) {
                continue;
            }
            String name = p.getFileName().toString();
            long number = Long.parseLong(name.substring(0, name.length() - ".sst".length()));
            Set<String> seen = new HashSet<>();
            try (TableReader r = TableReader.open(FileSystem.local().newReadableFile(p), p.toString(), number);
                    InternalIterator it = r.iterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = new byte[it.key().capacity()];
                    it.key().getBytes(0, k);
                    String user = str(InternalKey.userKey(k));
                    assertTrue(seen.add(user), user + " twice in " + p);
                    if (!user.startsWith("counter-~")) {
                        out.add(user + "/" + InternalKey.typeOf(InternalKey.trailer(k)));
                    }
                }
            }
        }
        return out;
    }

    static long count(List<String> entries, int type) {
        return entries.stream().filter(e -> e.endsWith("/" + type)).count();
    }

    static String histogram(List<String> entries) {
        Map<String, Integer> h = new TreeMap<>();
        for (String e : entries) {
            h.merge("type " + e.substring(e.lastIndexOf('/') + 1), 1, Integer::sum);
        }
        return h.toString();
    }

}
