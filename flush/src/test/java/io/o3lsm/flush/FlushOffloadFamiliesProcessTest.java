package io.o3lsm.flush;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Column families through flushes offloaded to a real flush-worker process: the job carries the
 * DB's table of its families' merge operators and their table options; the worker's outputs each
 * hold one family's keys, written with that family's compression, the counters' operands combined
 * by the counters' operator. Values are checked per family, after a reopen too.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FlushOffloadFamiliesProcessTest {
    private static final int COUNTERS = 1000;

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Options options(int port, Path secret) {
        // no compactions: the tables a flush wrote stay as it wrote them
        return FlushOffloadProcessTest.options(port, secret).compression(Compression.NONE).level0CompactionTrigger(100)
                .level0SlowdownTrigger(200).level0StopTrigger(300);
    }

    private static List<ColumnFamilyDescriptor> families() {
        return List.of(new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults()
                .mergeOperator(MergeOperators.int64Add()).compression(Compression.LZ4)),
                new ColumnFamilyDescriptor("plain"));
    }

    @Test
    void shouldCutCompressAndMergeByFamilyInFlushesOffloadedToAWorker() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-flush-families-1");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, Long> counters = new TreeMap<>();
        TreeMap<String, String> plain = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                FlushWorkerProcess w = new FlushWorkerProcess(dir, "w1", port, secret, storage).start()) {
            try (DB db = DB.open(dbDir, options(port, secret), families())) {
                FlushOffloadProcessTest.waitAttached(db);
                ColumnFamilyHandle cnt = db.columnFamily("counters");
                ColumnFamilyHandle pl = db.columnFamily("plain");
                Set<Path> before = FlushOffloadMergeProcessTest.tables(dbDir);
                for (int c = 0; c < COUNTERS; c++) {
                    String k = String.format("counter-%05d", c);
                    db.put(cnt, b(k), MergeOperators.int64(c * 1000L));
                    counters.put(k, c * 1000L);
                }
                for (int r = 0; r < 20; r++) {
                    for (int c = 0; c < COUNTERS; c++) {
                        String k = String.format("counter-%05d", c);
                        db.merge(cnt, b(k), MergeOperators.int64(r - 7 + c % 3));
                        counters.merge(k, (long) (r - 7 + c % 3), Long::sum);
                    }
                }
                for (int i = 0; i < 12_000; i++) { // the other families, so that every shard seals
                    String k = String.format("key-%06d", i);
                    db.put(pl, b(k), b("plain-" + i));
                    db.put(b(k), b("default-" + i));
                    plain.put(k, "plain-" + i);
                }
                flushSealed(db, List.of(db.defaultColumnFamily(), cnt, pl));
                assertEquals(0, db.stats().flushesFallback() + db.stats().flushesLocal(),
                        db.property("o3.stats") + "\n" + w.output());
                assertTrue(db.stats().flushesOffloaded() > 0, "no flush was offloaded: " + db.property("o3.stats"));
                Map<Integer, Map<Integer, Integer>> typesByFamily = new TreeMap<>();
                for (Path p : FlushOffloadMergeProcessTest.tables(dbDir)) {
                    if (before.contains(p)) {
                        continue;
                    }
                    String name = p.getFileName().toString();
                    long number = Long.parseLong(name.substring(0, name.length() - ".sst".length()));
                    Set<Integer> families = new HashSet<>();
                    try (TableReader r = TableReader.open(FileSystem.local().newReadableFile(p), p.toString(), number);
                            InternalIterator it = r.iterator()) {
                        for (it.seekToFirst(); it.isValid(); it.next()) {
                            byte[] k = new byte[it.key().capacity()];
                            it.key().getBytes(0, k);
                            int family = k[0];
                            families.add(family);
                            typesByFamily.computeIfAbsent(family, f -> new TreeMap<>())
                                    .merge(InternalKey.typeOf(InternalKey.trailer(k)), 1, Integer::sum);
                        }
                        assertEquals(1, families.size(), p + " holds the keys of families " + families);
                        assertEquals(families.contains(cnt.id()) ? Compression.LZ4 : Compression.NONE,
                                r.properties().compression(), p + " of family " + families);
                    }
                }
                System.out.println("entry types by family in the offloaded flushes' tables: " + typesByFamily);
                // 21 entries were written per counter (a base, 20 operands): the worker combined each flush's
                // entries of a key into one (a full or a partial merge, by the counters' operator from the
                // job's family table), so the tables hold a few per counter, not 21
                int counterEntries = typesByFamily.get(cnt.id()).values().stream().mapToInt(Integer::intValue).sum();
                assertTrue(counterEntries >= COUNTERS && counterEntries <= 4 * COUNTERS, typesByFamily.toString());
                check(db, counters, plain, "after the offloaded flushes");
            }
            assertTrue(w.awaitLog(" done: "), w.output());
            assertFalse(w.output().contains(" failed: "), w.output());
            try (DB db = DB.open(dbDir, options(port, secret), families())) {
                check(db, counters, plain, "after reopen");
            }
        }
    }

    /** Waits until every sealed shard is on the node, then scans the families until read-aware flushing has flushed them. */
    private static void flushSealed(DB db, List<ColumnFamilyHandle> families) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (dm(db, "offloadedShards") != dm(db, "sealedShards") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(dm(db, "sealedShards") > 0 && dm(db, "offloadedShards") == dm(db, "sealedShards"),
                db.property("o3.dm"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (dm(db, "sealedShards") > 0 && System.nanoTime() < until) {
            for (ColumnFamilyHandle cf : families) {
                try (DBIterator it = db.iterator(cf)) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        it.key();
                    }
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

    private static void check(DB db, TreeMap<String, Long> counters, TreeMap<String, String> plain, String when) {
        ColumnFamilyHandle cnt = db.columnFamily("counters");
        ColumnFamilyHandle pl = db.columnFamily("plain");
        for (Map.Entry<String, Long> e : counters.entrySet()) {
            assertEquals(e.getValue(), MergeOperators.int64(db.get(cnt, b(e.getKey()))), e.getKey() + " " + when);
        }
        for (Map.Entry<String, String> e : plain.entrySet()) {
            assertEquals(e.getValue(), new String(db.get(pl, b(e.getKey())), StandardCharsets.UTF_8), when);
        }
        assertEquals("default-7", new String(db.get(b("key-000007")), StandardCharsets.UTF_8), when);
        int n = 0;
        try (DBIterator it = db.iterator(cnt)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
            }
        }
        assertEquals(COUNTERS, n, "the counters' scan " + when);
    }
}
