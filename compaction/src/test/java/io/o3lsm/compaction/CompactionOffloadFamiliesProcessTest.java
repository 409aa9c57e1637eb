package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.dm.MemNodeProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Column families through compactions offloaded to a real compactor process: the job carries the
 * DB's table of its families' functions ({@code o3.cf:...}) and the compactor rebuilds it, applying
 * each family's own merge operator and TTL to that family's keys only — which the outputs show: a
 * full compaction leaves one value per live key, and the expired values of the TTL family (by the
 * owner's clock, which the job carries) are gone. Values are checked per family after a reopen.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompactionOffloadFamiliesProcessTest {
    private static final int KEYS = 300;

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    private static Options options(int port, Path secret, AtomicLong clock) {
        return Options.defaults().writeBufferSize(1 << 20).targetFileSize(64 << 10)
                .level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300)
                .memoryNode("127.0.0.1:" + port, secret).memtableOffload(false).compactionOffload(true)
                .compactionOffloadDeadline(Duration.ofSeconds(60)).clock(clock::get).compression(Compression.NONE);
    }

    private static List<ColumnFamilyDescriptor> families() {
        return List.of(
                new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("logs", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.stringAppend(":"))),
                new ColumnFamilyDescriptor("sessions", ColumnFamilyOptions.defaults().ttl(Duration.ofSeconds(10))
                        .compression(Compression.LZ4)));
    }

    @Test
    void shouldApplyEachFamilysFunctionsInCompactionsOffloadedToACompactor() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = shared.resolve("db");
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        TreeMap<String, Long> counters = new TreeMap<>();
        TreeMap<String, String> logs = new TreeMap<>();
        TreeMap<String, String> plain = new TreeMap<>();
        Set<String> liveSessions = new HashSet<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess c = new CompactorProcess(dir, "compactor-f", node.port, secret, shared.toString())
                        .start()) {
            try (DB db = DB.open(dbDir, options(node.port, secret, clock), families())) {
                waitAttached(db);
                ColumnFamilyHandle cnt = db.columnFamily("counters");
                ColumnFamilyHandle log = db.columnFamily("logs");
                ColumnFamilyHandle ses = db.columnFamily("sessions");
                for (int round = 0; round < 4; round++) {
                    for (int k = 0; k < KEYS; k++) {
                        String key = String.format("k%04d", k);
                        try (WriteBatch batch = new WriteBatch()) { // one atomic batch over three families
                            batch.merge(cnt, b(key), MergeOperators.int64(k + round));
                            batch.merge(log, b(key), b("r" + round));
                            batch.put(b(key), b("plain" + round));
                            db.write(batch);
                        }
                        counters.merge(key, (long) k + round, Long::sum);
                        logs.merge(key, "r" + round, (a, x) -> a + ":" + x);
                        plain.put(key, "plain" + round);
                    }
                    if (round < 2) { // sessions of the first rounds expire before the compaction
                        for (int k = 0; k < KEYS; k++) {
                            db.put(ses, b("old" + round + "-" + k), b("session"));
                        }
                    }
                    db.flush();
                }
                clock.addAndGet(20_000);
                for (int k = 0; k < KEYS / 2; k++) {
                    db.put(ses, b("new-" + k), b("session"));
                    liveSessions.add("new-" + k);
                }
                db.flush();
                for (ColumnFamilyHandle cf : List.of(db.defaultColumnFamily(), cnt, log, ses)) {
                    db.compactRange(cf, null, null);
                }
                System.out.println("stats: " + db.property("o3.stats"));
                assertTrue(db.stats().compactionsOffloaded() > 0, "no compaction was offloaded: "
                        + db.property("o3.stats") + "\n" + c.output());
                assertEquals(0, db.stats().compactionsFallback(), db.property("o3.stats") + "\n" + c.output());
                assertTrue(c.awaitLog(" done: "), c.output());
                // one entry per live key, all values: the operands were combined per family, the expired
                // sessions dropped (the compactor's TTL filter, by the owner's clock)
                // and every table holds one family's keys (the compactor cut its outputs at families),
                // written with that family's compression (the sessions' LZ4, the DB's NONE otherwise)
                int entries = 0;
                for (long number : liveTables(db)) {
                    Set<Character> familiesInTable = new HashSet<>();
                    for (String e : Tables.entries(dbDir, number)) {
                        assertTrue(e.contains("/1="), "a value: " + e);
                        familiesInTable.add(e.charAt(0));
                        entries++;
                    }
                    assertEquals(1, familiesInTable.size(), "table " + number + " holds families " + familiesInTable);
                    boolean sessions = familiesInTable.contains((char) ses.id());
                    assertEquals(sessions ? Compression.LZ4 : Compression.NONE, Tables.compression(dbDir, number),
                            "table " + number);
                }
                assertEquals(3 * KEYS + liveSessions.size(), entries);
                check(db, counters, logs, plain, liveSessions);
            }
            assertFalse(c.output().contains(" failed: "), c.output());
            try (DB db = DB.open(dbDir, options(node.port, secret, clock), families())) {
                check(db, counters, logs, plain, liveSessions);
            }
        }
    }

    private static void check(DB db, TreeMap<String, Long> counters, TreeMap<String, String> logs,
            TreeMap<String, String> plain, Set<String> liveSessions) {
        ColumnFamilyHandle cnt = db.columnFamily("counters");
        ColumnFamilyHandle log = db.columnFamily("logs");
        ColumnFamilyHandle ses = db.columnFamily("sessions");
        for (String key : counters.keySet()) {
            assertEquals(counters.get(key), MergeOperators.int64(db.get(cnt, b(key))), key);
            assertEquals(logs.get(key), str(db.get(log, b(key))), key);
            assertEquals(plain.get(key), str(db.get(b(key))), key);
        }
        assertNull(db.get(ses, b("old0-1")));
        assertEquals("session", str(db.get(ses, b("new-1"))));
        int n = 0;
        try (DBIterator it = db.iterator(ses)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                assertTrue(liveSessions.contains(str(it.key())), str(it.key()));
                n++;
            }
        }
        assertEquals(liveSessions.size(), n);
    }

    private static List<Long> liveTables(DB db) {
        List<Long> out = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^ (\\d+): ").matcher(db.property("o3.sstables"));
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
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
