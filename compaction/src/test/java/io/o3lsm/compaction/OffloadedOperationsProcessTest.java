package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.BackupEngine;
import io.o3lsm.BackupInfo;
import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.EventListener;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.Secondary;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations features (checkpoint, backup, secondary and read-only opens, listeners, metrics) of
 * a DB in DM mode with every job offloaded to real processes — a memory node, a flush worker and a
 * compactor, each a JVM of its own on 127.0.0.1 — while a writer keeps writing. Each test checks
 * exact state against a model of the writer's acknowledged writes.
 *
 * <p>The model: one writer thread, one put or delete per call on a fresh DB, so operation {@code i}
 * (from 0) carries sequence number {@code i + 1} (checked: the DB's last sequence equals the count of
 * acknowledged operations once the writer stops). The state at sequence {@code S} is the replay of the
 * first {@code S} operations. The operations are a function of the seed ({@code -Dtests.seed=N}).
 */
@Tag("dm")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class OffloadedOperationsProcessTest {
    private static final int REGION_KEYS = 1000;
    private static final int REGION_OPS = 20_000;
    private static final long SEED = Long.getLong("tests.seed", System.nanoTime());

    /** One directory for the class: the cluster's storage, logs, copies (the cluster serves every test). */
    private Path dir;

    private Path shared;
    private Path secret;
    private MemNodeProcess node;
    private CompactorProcess flusher;
    private CompactorProcess compactor;

    @BeforeAll
    void startCluster(@TempDir Path tmp) throws Exception {
        dir = tmp;
        System.out.println("OffloadedOperationsProcessTest seed " + SEED + " (-Dtests.seed=" + SEED + ")");
        shared = Files.createDirectories(dir.resolve("shared"));
        secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "128m", secret).start();
        flusher = CompactorProcess.flushWorker(dir, "ops-w1", node.port, secret, shared.toString()).start();
        compactor = new CompactorProcess(dir, "ops-c1", node.port, secret, shared.toString()).start();
    }

    @AfterAll
    void stopCluster() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {compactor, flusher, node}) {
            if (c != null) {
                c.close();
            }
        }
    }

    // ---- the model -----------------------------------------------------------------------------

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static String key(int k) {
        return String.format("k%05d", k);
    }

    /**
     * The key of operation {@code op}: the writes move through the key space, {@link #REGION_KEYS} keys
     * every {@link #REGION_OPS} operations, so tables of regions no longer written stay unchanged
     * through later compactions (what incremental backups share), while each region is overwritten
     * many times (compactions have work).
     */
    static int keyOf(int op) {
        return (op / REGION_OPS) * REGION_KEYS + (int) Long.remainderUnsigned(mix(SEED + op), REGION_KEYS);
    }

    /** Every key the first {@code n} operations may have written lies below this. */
    static int keySpace(long n) {
        return (int) ((n / REGION_OPS) + 1) * REGION_KEYS;
    }

    static boolean isDelete(int op) {
        return Long.remainderUnsigned(mix(SEED ^ 0x5bd1e995L + op), 10) == 0;
    }

    static String value(int op) {
        return "v" + op + "-" + "x".repeat(40 + (int) Long.remainderUnsigned(mix(op * 31L + SEED), 160));
    }

    /** The state after the first {@code n} operations. */
    static TreeMap<String, String> stateAt(long n) {
        int[] lastOp = new int[keySpace(n)];
        java.util.Arrays.fill(lastOp, -1);
        for (int i = 0; i < n; i++) {
            lastOp[keyOf(i)] = i;
        }
        TreeMap<String, String> m = new TreeMap<>();
        for (int k = 0; k < lastOp.length; k++) {
            if (lastOp[k] >= 0 && !isDelete(lastOp[k])) {
                m.put(key(k), value(lastOp[k]));
            }
        }
        return m;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    /** One thread writing the model's operations in order until stopped; {@code acked} counts the acknowledged ones. */
    static final class Writer extends Thread {
        final DB db;
        final AtomicInteger acked = new AtomicInteger();
        volatile boolean stop;
        volatile Throwable failure;

        Writer(DB db) {
            super("model-writer");
            this.db = db;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                for (int i = 0; !stop; i++) {
                    if (isDelete(i)) {
                        db.delete(b(key(keyOf(i))));
                    } else {
                        db.put(b(key(keyOf(i))), b(value(i)));
                    }
                    acked.set(i + 1);
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        int finish() throws InterruptedException {
            stop = true;
            join(30_000);
            assertTrue(!isAlive(), "the writer did not stop");
            if (failure != null) {
                throw new AssertionError("an acknowledged-write writer failed after " + acked.get() + " writes", failure);
            }
            return acked.get();
        }
    }

    /** Every key and value of {@code db} (iterator) and a get of every key of the key space, against {@code want}. */
    static void assertState(String what, TreeMap<String, String> want, DB db) {
        TreeMap<String, String> got = new TreeMap<>();
        try (DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                got.put(str(it.key()), str(it.value()));
            }
        }
        if (!want.equals(got)) {
            Set<String> diff = new TreeSet<>();
            for (String k : want.keySet()) {
                if (!want.get(k).equals(got.get(k))) {
                    diff.add(k + " want " + abbrev(want.get(k)) + " got " + abbrev(got.get(k)));
                }
            }
            for (String k : got.keySet()) {
                if (!want.containsKey(k)) {
                    diff.add(k + " want none got " + abbrev(got.get(k)));
                }
            }
            fail(what + ": the iterator differs from the model in " + diff.size() + " keys, first: "
                    + diff.stream().limit(8).toList());
        }
        String last = want.isEmpty() ? key(0) : want.lastKey();
        for (int k = 0, n = Integer.parseInt(last.substring(1)) + 2; k < n; k++) {
            assertEquals(want.get(key(k)), str(db.get(b(key(k)))), what + ": get " + key(k));
        }
    }

    private static String abbrev(String v) {
        return v == null ? "none" : v.substring(0, Math.min(v.length(), 12));
    }

    // ---- the DB --------------------------------------------------------------------------------

    /**
     * DM mode with small budgets, so shards go to the memory node and are dropped locally, flushes go
     * to the flush worker and compactions to the compactor.
     */
    private Options dmOptions(EventListener... listeners) {
        Options o = Options.defaults().memoryNode("127.0.0.1:" + node.port, secret).shardCount(2)
                .shardArenaSize(128 << 10).localMemoryBudget(512 << 10).dmBudget(16 << 20).writeBufferSize(1 << 20)
                .flushOffload(true).flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadMinBytes(1)
                .flushOffloadDeadline(Duration.ofSeconds(60)).compactionOffload(true)
                .compactionOffloadDeadline(Duration.ofSeconds(60)).targetFileSize(128 << 10)
                .maxBytesForLevelBase(1 << 20).compression(Compression.NONE).statistics(true);
        for (EventListener l : listeners) {
            o.addListener(l);
        }
        return o;
    }

    /** Plain local options: no memory node, nothing offloaded. */
    private static Options localOptions() {
        return Options.defaults().compression(Compression.NONE);
    }

    private Path dbDir(String name) {
        return shared.resolve(name);
    }

    private String logs() throws IOException {
        return "\nflush worker:\n" + tail(flusher.output()) + "\ncompactor:\n" + tail(compactor.output());
    }

    private static String tail(String s) {
        return s.length() < 4000 ? s : s.substring(s.length() - 4000);
    }

    private static void waitAttached(DB db) throws InterruptedException {
        await("attached to the memory node", 20, () -> db.property("o3.dm").contains("attached=true"), db);
    }

    private static void await(String what, int seconds, BooleanSupplier done, DB db) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not " + what + " within " + seconds + " s: " + db.stats() + "\n" + db.property("o3.dm"));
            }
            Thread.sleep(20);
        }
    }

    /** Waits until at least {@code flushes} offloaded flushes and {@code compactions} offloaded compactions were installed. */
    private void awaitOffloadedJobs(DB db, long flushes, long compactions) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (db.stats().flushesOffloaded() < flushes || db.stats().compactionsOffloaded() < compactions) {
            if (System.nanoTime() > deadline) {
                fail("offloaded jobs: want " + flushes + " flushes and " + compactions + " compactions; "
                        + db.property("o3.stats") + logs());
            }
            Thread.sleep(20);
        }
    }

    private static long lastSequence(DB db) {
        return Long.parseLong(db.property("o3.last-sequence").trim());
    }

    private static Map<Long, Long> liveTables(DB db) {
        Map<Long, Long> out = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^ (\\d+): (\\d+) ").matcher(db.property("o3.sstables"));
        while (m.find()) {
            out.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        }
        return out;
    }

    private static Set<String> tableNames(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sst"))
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    // ---- 1. checkpoint -------------------------------------------------------------------------

    @Test
    void shouldOpenACheckpointOfAnOffloadingDbLocallyAtExactlyItsSequence() throws Exception {
        Path db1 = dbDir("ckpt-src");
        Path copy = dir.resolve("ckpt");
        long seq;
        int before;
        int after;
        int total;
        try (DB db = DB.open(db1, dmOptions())) {
            waitAttached(db);
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 3, 2);
            assertTrue(db.stats().ticker(DBStats.DM_OFFLOADS) > 0, db.property("o3.dm"));
            before = w.acked.get();
            seq = db.checkpoint(copy);
            after = w.acked.get();
            awaitOffloadedJobs(db, db.stats().flushesOffloaded() + 1, 0); // the source goes on offloading
            total = w.finish();
            assertEquals(total, lastSequence(db), "one sequence number per acknowledged write");
            assertState("the source", stateAt(total), db);
        }
        // every acknowledged write before the call, none begun after it returned
        assertTrue(before <= seq && seq <= after + 1, "checkpoint at " + seq + ", writes acknowledged " + before
                + " before and " + after + " after");
        try (DB c = DB.open(copy, localOptions())) {
            assertEquals(seq, lastSequence(c));
            assertEquals("mode=embedded", c.property("o3.dm").trim().split(" ")[0], c.property("o3.dm"));
            assertState("the checkpoint at " + seq, stateAt(seq), c);
        }
    }

    /**
     * A checkpoint opened in DM mode beside its still-writing source, on the same memory node and
     * workers: it is a DB of its own (a new identity, so its own segments and jobs), its offloaded
     * flushes and compactions touch neither the source's files nor its state, and the other way round.
     */
    @Test
    void shouldRunACheckpointInDmModeBesideItsOffloadingSourceWithoutEitherSeeingTheOther() throws Exception {
        Path src = dbDir("ckpt2-src");
        Path copy = dbDir("ckpt2-copy");
        try (DB db = DB.open(src, dmOptions())) {
            waitAttached(db);
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 2, 1);
            long seq = db.checkpoint(copy);
            TreeMap<String, String> want = stateAt(seq);
            long t0 = System.nanoTime();
            try (DB c = DB.open(copy, dmOptions())) {
                waitAttached(c);
                System.out.println("the copy opened in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                assertTrue(!Files.readString(src.resolve("IDENTITY")).equals(Files.readString(copy.resolve("IDENTITY"))));
                assertState("the checkpoint at " + seq + " opened in DM mode", want, c);
                System.out.println("the copy checked at " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                // its own writes, flushed and compacted by the same worker and compactor
                long t1 = System.nanoTime();
                for (int i = 0; i < 20_000; i++) {
                    String k = String.format("c%06d", i % 3000);
                    String v = "copy-" + i + "-" + "y".repeat(100);
                    c.put(b(k), b(v));
                    want.put(k, v);
                }
                c.flush();
                c.compactRange(null, null);
                System.out.println("the copy: 20000 writes, a flush and a full compaction in "
                        + (System.nanoTime() - t1) / 1_000_000 + " ms: " + c.stats());
                assertTrue(c.stats().flushesOffloaded() > 0 && c.stats().compactionsOffloaded() > 0,
                        c.property("o3.stats") + logs());
                assertEquals(0, c.stats().flushesFallback() + c.stats().compactionsFallback(), c.property("o3.stats") + logs());
                assertState("the checkpoint after its own offloaded jobs", want, c);
            }
            int total = w.finish();
            assertState("the source beside its checkpoint", stateAt(total), db);
        }
    }

    // ---- 2. backups ----------------------------------------------------------------------------

    @Test
    void shouldRestoreBackupsOfAnOffloadingDbExactlyAndShareUnchangedTables() throws Exception {
        Path db2 = dbDir("backup-src");
        Path backups = dir.resolve("backups");
        BackupInfo first;
        BackupInfo second;
        int total;
        long compactionsAtFirst;
        try (DB db = DB.open(db2, dmOptions()); BackupEngine engine = BackupEngine.open(backups)) {
            waitAttached(db);
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 3, 2);
            int before = w.acked.get();
            first = engine.createBackup(db);
            int after = w.acked.get();
            assertTrue(before <= first.sequence() && first.sequence() <= after + 1, first + " " + before + " " + after);
            compactionsAtFirst = db.stats().compactionsOffloaded();
            awaitOffloadedJobs(db, 0, compactionsAtFirst + 2);
            Set<String> sharedBefore = listing(backups.resolve("shared"));
            before = w.acked.get();
            second = engine.createBackup(db);
            after = w.acked.get();
            assertTrue(before <= second.sequence() && second.sequence() <= after + 1, second + " " + before + " " + after);
            total = w.finish();
            assertState("the source", stateAt(total), db);
            Set<String> added = listing(backups.resolve("shared"));
            added.removeAll(sharedBefore);
            int privateFiles = listing(backups.resolve("private").resolve(Integer.toString(second.id()))).size();
            // the second backup copied only the tables the first lacks, plus its own WALs, MANIFEST, ...
            assertEquals(added.size() + privateFiles, second.newFiles(), second + " added " + added);
            engine.verify(first.id());
            engine.verify(second.id());
            engine.restore(first.id(), dir.resolve("restored-1"));
            engine.restore(second.id(), dir.resolve("restored-2"));
        }
        Set<String> t1 = tableNames(dir.resolve("restored-1"));
        Set<String> t2 = tableNames(dir.resolve("restored-2"));
        Set<String> both = new TreeSet<>(t1);
        both.retainAll(t2);
        System.out.println("backups: " + first + " " + second + "; tables " + t1.size() + " / " + t2.size()
                + ", shared " + both.size());
        assertTrue(!both.isEmpty(), "no table shared between " + t1 + " and " + t2);
        assertTrue(second.newFiles() < second.fileCount(), second.toString());
        try (DB r = DB.open(dir.resolve("restored-1"), localOptions())) {
            assertEquals(first.sequence(), lastSequence(r));
            assertState("backup " + first.id(), stateAt(first.sequence()), r);
        }
        try (DB r = DB.open(dir.resolve("restored-2"), localOptions())) {
            assertEquals(second.sequence(), lastSequence(r));
            assertState("backup " + second.id(), stateAt(second.sequence()), r);
        }
    }

    private static Set<String> listing(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            return new TreeSet<>();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    // ---- 3. secondary and read-only ------------------------------------------------------------

    @Test
    void shouldFollowAnOffloadingPrimaryWithASecondaryAndOpenItReadOnlyAtConsistentPrefixes() throws Exception {
        Path db3 = dbDir("secondary-src");
        try (DB db = DB.open(db3, dmOptions())) {
            waitAttached(db);
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 1, 0);
            try (Secondary sec = openSecondary(db3)) {
                long last = -1;
                for (int round = 0; round < 3; round++) {
                    awaitOffloadedJobs(db, db.stats().flushesOffloaded() + 1, round == 2 ? 2 : 0);
                    int before = w.acked.get();
                    long s = catchUp(sec);
                    assertTrue(s >= before && s >= last, "caught up to " + s + " with " + before + " acknowledged");
                    assertEquals(s, sec.sequence());
                    assertState("the secondary at " + s, stateAt(s), sec);
                    last = s;
                }
                int before = w.acked.get();
                try (DB ro = openReadOnly(db3)) {
                    long s = lastSequence(ro);
                    assertTrue(s >= before, "read-only open at " + s + " with " + before + " acknowledged");
                    assertState("the read-only open at " + s, stateAt(s), ro);
                }
                int total = w.finish();
                assertTrue(db.stats().compactionsOffloaded() >= 2, db.property("o3.stats"));
                long s = catchUp(sec);
                assertEquals(total, s);
                assertState("the secondary after the writer stopped", stateAt(total), sec);
            }
        }
    }

    /** tryCatchUp, again when the primary moved its files under each attempt (documented; it happens under load). */
    private static long catchUp(Secondary sec) throws InterruptedException {
        for (int i = 0;; i++) {
            try {
                return sec.tryCatchUp();
            } catch (O3Exception e) {
                if (i == 5 || !String.valueOf(e.getMessage()).contains("changed during each")) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * DB.openSecondary, again when the primary moved its files under each of its attempts: documented
     * (docs/operations/secondary.md, "a primary that flushes faster than a catch-up can read"); with
     * these small arenas the primary's WAL rolls every few milliseconds.
     */
    private static Secondary openSecondary(Path d) throws InterruptedException {
        for (int i = 0;; i++) {
            try {
                return DB.openSecondary(d, localOptions());
            } catch (O3Exception e) {
                if (i == 10 || !String.valueOf(e.getMessage()).contains("changed during each")) {
                    throw e;
                }
                System.out.println("secondary open again: " + e.getMessage());
                Thread.sleep(50);
            }
        }
    }

    private static DB openReadOnly(Path d) throws InterruptedException {
        for (int i = 0;; i++) {
            try {
                return DB.openReadOnly(d, localOptions());
            } catch (O3Exception e) {
                if (i == 5) {
                    throw e;
                }
                System.out.println("read-only open again: " + e.getMessage());
                Thread.sleep(50);
            }
        }
    }

    // ---- 4. listeners: memory node lost and recovered -------------------------------------------

    @Test
    void shouldTellListenersOfAKilledMemoryNodeOffTheWritePathAndLoseNoAcknowledgedWrite() throws Exception {
        Path shared4 = Files.createDirectories(dir.resolve("shared4"));
        Path db4 = shared4.resolve("db");
        int port = MemNodeProcess.freePort();
        List<String> events = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<EventListener.MemoryNodeInfo> recovered = new CopyOnWriteArrayList<>();
        EventListener l = new EventListener() {
            @Override
            public void onMemoryNodeLost(MemoryNodeInfo info) {
                events.add("lost");
                threads.add(Thread.currentThread().getName());
            }

            @Override
            public void onMemoryNodeRecovered(MemoryNodeInfo info) {
                events.add("recovered");
                recovered.add(info);
                threads.add(Thread.currentThread().getName());
            }

            @Override
            public void onFlushCompleted(FlushJobInfo info) {
                threads.add(Thread.currentThread().getName());
            }
        };
        MemNodeProcess n = new MemNodeProcess(dir, port, "64m", secret).start();
        MemNodeProcess n2 = null;
        try (CompactorProcess w1 = CompactorProcess.flushWorker(dir, "lost-w1", port, secret, shared4.toString()).start();
                CompactorProcess c1 = new CompactorProcess(dir, "lost-c1", port, secret, shared4.toString()).start()) {
            int total;
            Options o = dmOptions(l).memoryNode("127.0.0.1:" + port, secret);
            try (DB db = DB.open(db4, o)) {
                waitAttached(db);
                Writer w = new Writer(db);
                w.start();
                awaitOffloadedJobs(db, 2, 0);
                await("shards only on the node", 30, () -> field(db.property("o3.dm"), "remoteOnlyShards") > 0, db);
                int atKill = w.acked.get();
                n.kill9();
                assertTrue(n.waitForExit());
                // reads of shards only the node held go on (rebuilt from the WAL); the writes go on
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!events.contains("recovered")) {
                    if (System.nanoTime() > deadline || w.failure != null) {
                        fail("no recovery within 60 s (events " + events + ", writer " + w.failure + "): "
                                + db.property("o3.dm") + "\n" + db.property("o3.stats"));
                    }
                    int k = keyOf(Math.max(0, w.acked.get() - 1000));
                    db.get(b(key(k)));
                    Thread.sleep(5);
                }
                assertEquals(List.of("lost", "recovered"), events);
                // the loss may be acted on before the writer's next put returns: the writes go on after it
                await("the writes went on", 30, () -> w.acked.get() > atKill || w.failure != null, db);
                assertNull(w.failure, () -> "the writer failed: " + w.failure);
                // with the node still away, a checkpoint holds exactly its cut (it never needed the node)
                Path ckpt = dir.resolve("ckpt-node-lost");
                int before = w.acked.get();
                long seq = db.checkpoint(ckpt);
                assertTrue(seq >= before, seq + " < " + before);
                try (DB c = DB.open(ckpt, localOptions())) {
                    assertState("a checkpoint taken with the memory node lost, at " + seq, stateAt(seq), c);
                }
                assertTrue(db.stats().ticker(DBStats.DM_REBUILT) >= recovered.get(0).shardsRebuilt(),
                        db.property("o3.dm"));
                // a memory node back on the address: the DB attaches again and offloads to it
                n2 = new MemNodeProcess(dir, port, "64m", secret).start();
                await("attached again", 60, () -> db.property("o3.dm").contains("attached=true"), db);
                long offloads = db.stats().ticker(DBStats.DM_OFFLOADS);
                await("offloading again", 60, () -> db.stats().ticker(DBStats.DM_OFFLOADS) > offloads, db);
                total = w.finish();
                assertEquals(total, lastSequence(db));
                assertState("after the loss", stateAt(total), db);
                assertEquals(0, db.stats().ticker(DBStats.LISTENER_EVENTS_DROPPED));
            }
            assertEquals(List.of("lost", "recovered"), events, "one loss, one recovery");
            for (String t : threads) {
                assertTrue(t.startsWith("o3lsm-listener-"), "a listener was called on " + t);
            }
            try (DB db = DB.open(db4, localOptions())) {
                assertState("reopened without a memory node", stateAt(total), db);
            }
        } finally {
            n.close();
            if (n2 != null) {
                n2.close();
            }
        }
    }

    static long field(String s, String name) {
        Matcher m = Pattern.compile("\\b" + name + "=(-?\\d+)").matcher(s);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    // ---- 5. metrics ----------------------------------------------------------------------------

    @Test
    void shouldCountOffloadedJobsAndDmTrafficExactly() throws Exception {
        Path db5 = dbDir("metrics-src");
        List<EventListener.FlushJobInfo> flushes = new CopyOnWriteArrayList<>();
        List<EventListener.CompactionJobInfo> compactions = new CopyOnWriteArrayList<>();
        EventListener l = new EventListener() {
            @Override
            public void onFlushCompleted(FlushJobInfo info) {
                flushes.add(info);
            }

            @Override
            public void onCompactionCompleted(CompactionJobInfo info) {
                compactions.add(info);
            }
        };
        try (DB db = DB.open(db5, dmOptions(l));
                DmClient probe = DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port,
                        CompactionOffloadProcessTest.SECRET.getBytes(StandardCharsets.UTF_8), "metrics-probe", 1, 0, 4,
                        Duration.ofSeconds(10)))) {
            waitAttached(db);
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 4, 3);
            int total = w.finish();
            System.out.println("after the writes: " + db.property("o3.dm"));
            // gets while shards are only on the node
            DBStats s0 = db.stats();
            TreeMap<String, String> want = stateAt(total);
            for (int k = 0; k < keySpace(total); k++) {
                assertEquals(want.get(key(k)), str(db.get(b(key(k)))), key(k));
            }
            DBStats s1 = db.stats();
            long delegated = s1.ticker(DBStats.DM_DELEGATED_GETS) - s0.ticker(DBStats.DM_DELEGATED_GETS);
            long cached = s1.ticker(DBStats.DM_CACHED_GETS) - s0.ticker(DBStats.DM_CACHED_GETS);
            System.out.println("gets: delegated " + delegated + " cached " + cached + "; " + db.property("o3.dm"));
            // quiet: no job running, every event delivered
            await("quiet", 60, () -> db.property("o3.num-running-compactions").trim().equals("0")
                    && db.property("o3.num-running-flushes").trim().equals("0")
                    && flushes.size() == db.stats().flushes() && compactions.size() == db.stats().compactions(), db);
            Thread.sleep(200);
            DBStats st = db.stats();
            String dm = db.property("o3.dm");
            System.out.println("quiet: " + dm + "\n" + st);
            // flush and compaction counters against the jobs the listener was told of, and the files
            assertEquals(flushes.size(), st.flushes());
            assertEquals(flushes.stream().filter(f -> f.place() == EventListener.Place.OFFLOADED).count(),
                    st.flushesOffloaded());
            assertEquals(compactions.stream().filter(c -> c.place() == EventListener.Place.OFFLOADED).count(),
                    st.compactionsOffloaded());
            assertTrue(st.flushesOffloaded() > 0 && st.compactionsOffloaded() > 0, st.toString());
            long flushBytes = flushes.stream().mapToLong(EventListener.FlushJobInfo::bytesWritten).sum();
            assertEquals(flushBytes, st.ticker(DBStats.FLUSH_BYTES));
            assertEquals(flushBytes, st.flushBytesWritten());
            long compactionBytes = compactions.stream().filter(c -> !c.trivialMove())
                    .flatMap(c -> c.outputs().stream()).mapToLong(EventListener.TableFileInfo::sizeBytes).sum();
            assertEquals(compactionBytes, st.ticker(DBStats.COMPACTION_WRITE_BYTES));
            assertEquals(compactionBytes, compactions.stream().mapToLong(EventListener.CompactionJobInfo::bytesWritten).sum());
            // replaying the events gives the live tables, each of the size on disk the events said
            Map<Long, Long> live = new HashMap<>();
            for (EventListener.FlushJobInfo f : flushes) {
                f.outputs().forEach(t -> live.put(t.number(), t.sizeBytes()));
            }
            for (EventListener.CompactionJobInfo c : compactions) {
                c.inputs().forEach(t -> live.remove(t.number()));
                c.outputs().forEach(t -> live.put(t.number(), t.sizeBytes()));
            }
            assertEquals(new TreeMap<>(live), new TreeMap<>(liveTables(db)), db.property("o3.sstables"));
            for (Map.Entry<Long, Long> t : live.entrySet()) {
                assertEquals(t.getValue(), Files.size(db5.resolve(String.format("%06d.sst", t.getKey()))), "table " + t);
            }
            // the shards the memory node holds for this DB are the DB's offloaded ones, byte for byte
            String dbId = Files.readString(db5.resolve("IDENTITY")).trim();
            Messages.Stats ns = probe.stats();
            Messages.DbStats mine = null;
            for (Messages.DbStats d : ns.dbs()) {
                if (d.dbId().equals(dbId)) {
                    mine = d;
                }
            }
            // (a DB holding nothing may be missing from the node's list)
            int nodeSegments = mine == null ? 0 : mine.segments();
            long nodeUsed = mine == null ? 0 : mine.used();
            System.out.println("node holds " + nodeSegments + " segments, " + nodeUsed + " bytes: " + ns);
            assertEquals(field(dm, "offloadedShards"), nodeSegments, dm + "\n" + ns);
            // the node counts whole 64-byte units per segment (docs/operations/memnode.md), the DB the bytes shipped
            long slack = nodeUsed - field(dm, "dmBytes");
            assertTrue(slack >= 0 && slack < 64L * Math.max(1, nodeSegments), dm + "\n" + ns);
            assertEquals(st.ticker(DBStats.DM_DELEGATED_GETS), field(dm, "delegatedGets"));
            assertEquals(st.ticker(DBStats.DM_OFFLOADS), field(dm, "offloads"));
            long inputShards = flushes.stream().mapToLong(EventListener.FlushJobInfo::inputShards).sum();
            long offloadedInputs = flushes.stream().filter(f -> f.place() == EventListener.Place.OFFLOADED)
                    .mapToLong(EventListener.FlushJobInfo::inputShards).sum();
            long sealed = field(dm, "sealedShards");
            long offloads = st.ticker(DBStats.DM_OFFLOADS);
            System.out.println("offloads " + offloads + ", flushed shards " + inputShards + " (" + offloadedInputs
                    + " by the worker; local flushes " + st.flushesLocal() + ", fallbacks " + st.flushesFallback()
                    + "), sealed now " + sealed);
            // every shard still sealed is on the node, and so was every input of an offloaded flush (the worker
            // read it there); a local flush may have taken a shard before its offload was installed (a shard with
            // no remote copy is flushed here: FlushOffloader), so the count lies between, equal without local flushes
            assertEquals(sealed, field(dm, "offloadedShards"), dm);
            assertTrue(offloadedInputs + sealed <= offloads && offloads <= inputShards + sealed, offloads + " offloads: "
                    + dm + "\n" + st);
            if (st.flushesLocal() + st.flushesFallback() == 0) {
                assertEquals(inputShards + sealed, offloads, dm + "\n" + st);
            }
            assertState("the DB", want, db);
        }
    }
    /**
     * A DB closed cleanly frees its segments on the memory node: its unflushed shards are in its WAL
     * (the next open replays them, and a new epoch would free the segments anyway), so nothing needs
     * them, and a DB closed for good must not hold node memory until the node restarts.
     */
    @Test
    void shouldFreeItsSegmentsOnTheMemoryNodeWhenClosed() throws Exception {
        Path db6 = dbDir("close-src");
        String dbId;
        int total;
        try (DB db = DB.open(db6, dmOptions())) {
            waitAttached(db);
            dbId = Files.readString(db6.resolve("IDENTITY")).trim();
            Writer w = new Writer(db);
            w.start();
            awaitOffloadedJobs(db, 2, 0);
            total = w.finish();
            await("shards on the node", 30, () -> field(db.property("o3.dm"), "offloadedShards") > 0, db);
            Messages.DbStats held = nodeStats(dbId);
            assertTrue(held != null && held.segments() > 0, "the node holds nothing of " + dbId + ": " + held);
        }
        Messages.DbStats after = nodeStats(dbId);
        assertTrue(after == null || (after.segments() == 0 && after.used() == 0),
                "the node still holds segments of the closed DB " + dbId + ": " + after);
        try (DB db = DB.open(db6, localOptions())) {
            assertState("reopened", stateAt(total), db);
        }
    }

    /** What the memory node says it holds for {@code dbId} (null: nothing known), asked by a client of its own. */
    private Messages.DbStats nodeStats(String dbId) throws Exception {
        try (DmClient probe = DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port,
                CompactionOffloadProcessTest.SECRET.getBytes(StandardCharsets.UTF_8), "probe-" + System.nanoTime(), 1, 0,
                4, Duration.ofSeconds(10)))) {
            for (Messages.DbStats d : probe.stats().dbs()) {
                if (d.dbId().equals(dbId)) {
                    return d;
                }
            }
            return null;
        }
    }
}
