package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The owner's side of flush offloading (FlushOffloader) against the in-process
 * {@link FakeMemoryNode} and {@link FakeFlushExecutor}: which flushes are offloaded, how results are
 * validated, what falls back to a local flush, and how orphaned outputs are collected. The real
 * coordinator and workers are proven by the flush module's tests.
 */
class FlushOffloadTest {
    @TempDir
    Path dir;

    private final OffloadTestSupport log = new OffloadTestSupport();
    private final List<String> warnings = log.messages;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
        FakeFlushExecutor.reset();
        log.attach();
    }

    @AfterEach
    void detach() {
        log.detach();
        FakeFlushExecutor.reset();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    /**
     * DM mode with flush offloading; the local budget is large enough that no flush is due while the
     * tests write (each range's sealed bytes stay far below a due flush), so flushes happen only when
     * a test asks for them, after every sealed shard reached the node.
     */
    private Options options(Duration deadline) throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(32 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(32 << 20).dmBudget(256L << 20)
                .targetFileSize(256 << 10).flushOffload(true).flushOffloadMinBytes(0)
                .flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadDeadline(deadline);
    }

    /** Puts, overwrites, deletes and a range delete into {@code d} and {@code model}; seals many shards per range. */
    private static void write(DB d, TreeMap<String, String> model, int n, long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            String key = k(rnd.nextInt(n));
            String v = "v" + i + "-" + "x".repeat(rnd.nextInt(40));
            d.put(b(key), b(v));
            model.put(key, v);
            if (i % 13 == 0) {
                String del = k(rnd.nextInt(n));
                d.delete(b(del));
                model.remove(del);
            }
        }
        d.deleteRange(b("10"), b("12"));
        model.subMap("10", "12").clear();
    }

    private static int field(DB d, String name) {
        Matcher m = Pattern.compile(name + "=(\\d+)").matcher(d.property("o3.dm"));
        assertTrue(m.find(), name + " in " + d.property("o3.dm"));
        return Integer.parseInt(m.group(1));
    }

    /** Waits until every sealed shard is on the node, then flushes everything sealed. */
    private static void flushOffloadable(DB d) throws InterruptedException {
        assertTrue(field(d, "sealedShards") > 0, "the writes sealed shards: " + d.property("o3.dm"));
        OffloadTestSupport.waitFor("every sealed shard is on the node", () -> field(d, "offloadedShards") == field(d, "sealedShards"));
        ((DBImpl) d).waitForFlushes();
    }

    private static Set<Path> filesOf(List<FlushExecutor.FlushRequest> reqs) {
        Set<Path> out = new HashSet<>();
        for (FlushExecutor.FlushRequest r : reqs) {
            for (long n : r.outputFileNumbers()) {
                out.add(r.directory().resolve(FileNames.table(n)));
            }
        }
        return out;
    }

    @Test
    void shouldInstallOffloadedFlushesWithTheSameDataAsLocalFlushes() throws Exception {
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofSeconds(60)))) {
            write(d, model, 30000, 1);
            flushOffloadable(d);
            DBStats st = d.stats();
            assertTrue(st.flushesOffloaded() > 0, "flushes were offloaded: " + d.property("o3.stats"));
            assertEquals(0, st.flushesLocal(), d.property("o3.stats"));
            assertEquals(0, st.flushesFallback(), d.property("o3.stats"));
            assertEquals(0, st.offloadResultsRefused(), d.property("o3.stats") + " " + warnings);
            assertEquals(st.flushes(), st.flushesLocal() + st.flushesOffloaded() + st.flushesFallback());
            assertEquals(st.flushesOffloaded(), FakeFlushExecutor.RAN.get());
            assertTrue(d.property("o3.stats").contains("offloaded " + st.flushesOffloaded()), d.property("o3.stats"));
            assertTrue(d.stats().filesAtLevel(0) + d.stats().filesAtLevel(1) > 0, "the offloaded outputs are installed");
            OffloadTestSupport.assertSameAsModel(d, model);
            // another round on top: newer versions of the same keys over the offloaded L0 files
            write(d, model, 30000, 2);
            flushOffloadable(d);
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        assertTrue(FakeFlushExecutor.CLOSED.get() > 0, "the executor was closed with the DB");
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldCountADeclinedOffloadAsALocalFlush() throws Exception {
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.LOCAL;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofSeconds(60)))) {
            write(d, model, 20000, 3);
            flushOffloadable(d);
            DBStats st = d.stats();
            assertFalse(FakeFlushExecutor.REQUESTS.isEmpty(), "flushes were submitted");
            assertTrue(st.flushesLocal() > 0, d.property("o3.stats"));
            assertEquals(0, st.flushesOffloaded());
            assertEquals(0, st.flushesFallback(), "a declined offload is no failure");
            assertEquals(st.flushes(), st.flushesLocal());
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldFlushPicksBelowTheMinimumSizeLocally() throws Exception {
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofSeconds(60)).flushOffloadMinBytes(1L << 40))) {
            write(d, model, 20000, 4);
            flushOffloadable(d);
            assertTrue(FakeFlushExecutor.REQUESTS.isEmpty(), "nothing was submitted");
            assertTrue(d.stats().flushesLocal() > 0);
            assertEquals(0, d.stats().flushesOffloaded());
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldResubmitOnceWithFreshNumbersThenFlushLocallyWhenTheOffloadFails() throws Exception {
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.FAIL;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofSeconds(60)))) {
            write(d, model, 20000, 5);
            flushOffloadable(d);
            DBStats st = d.stats();
            assertTrue(st.flushesFallback() > 0, d.property("o3.stats"));
            assertEquals(0, st.flushesOffloaded());
            assertEquals(0, st.flushesLocal());
            assertEquals(2 * st.flushesFallback(), FakeFlushExecutor.REQUESTS.size(), "each pick was submitted twice");
            Set<Long> seen = new HashSet<>();
            for (FlushExecutor.FlushRequest r : FakeFlushExecutor.REQUESTS) {
                for (long n : r.outputFileNumbers()) {
                    assertTrue(seen.add(n), "output number " + n + " was given to two attempts");
                }
                assertTrue(r.attempt() == 1 || r.attempt() == 2, "attempt " + r.attempt());
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @ParameterizedTest
    @CsvSource({"WRONG_SIZE, size", "WRONG_CRC, crc32c", "WRONG_NUMBER, number", "KEYS_OUTSIDE_RANGE, range"})
    void shouldRefuseATamperedResultAndFlushLocally(FakeFlushExecutor.Mode mode, String check) throws Exception {
        FakeFlushExecutor.mode = mode;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofSeconds(60)))) {
            write(d, model, 20000, 6);
            flushOffloadable(d);
            DBStats st = d.stats();
            assertTrue(st.offloadResultsRefused() > 0, d.property("o3.stats"));
            assertEquals(st.offloadResultsRefused(), st.flushesFallback(), d.property("o3.stats"));
            assertEquals(0, st.flushesOffloaded());
            assertEquals(FakeFlushExecutor.RAN.get(), st.offloadResultsRefused(), "every result was refused");
            assertTrue(warnings.stream().anyMatch(w -> w.contains("refused") && w.contains(check + " check failed")
                    && w.contains("fake-worker")), "a warning names the check '" + check + "': " + warnings);
            for (Path p : filesOf(FakeFlushExecutor.REQUESTS)) {
                assertFalse(Files.exists(p), "the refused attempt's file " + p + " is deleted");
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldDeleteAFailedAttemptsOrphanOutputWhileRunningOnceTheDeadlinePassed() throws Exception {
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.FAIL_AFTER_WRITE;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(db, options(Duration.ofMillis(300)))) {
            write(d, model, 20000, 7);
            flushOffloadable(d);
            assertFalse(FakeFlushExecutor.LEFTOVERS.isEmpty(), "the fake worker left files behind");
            List<Path> left = new ArrayList<>(FakeFlushExecutor.LEFTOVERS);
            OffloadTestSupport.waitFor("the orphan sweep deleted " + left, () -> left.stream().noneMatch(Files::exists));
            assertTrue(field(d, "orphanOutputsDeleted") >= left.size(), d.property("o3.dm"));
            assertTrue(d.stats().flushesFallback() > 0);
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldKeepAnOrphanOutputUntilTheDeadlineAndDeleteItAtTheNextOpen() throws Exception {
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.FAIL_AFTER_WRITE;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        List<Path> left;
        try (DB d = DB.open(db, options(Duration.ofMinutes(10)))) {
            write(d, model, 20000, 8);
            flushOffloadable(d);
            left = new ArrayList<>(FakeFlushExecutor.LEFTOVERS);
            assertFalse(left.isEmpty());
            for (Path p : left) {
                assertTrue(Files.exists(p), p + " stays while a zombie may still write it");
            }
            assertEquals(0, field(d, "orphanOutputsDeleted"));
        }
        try (DB d = DB.open(db, Options.defaults())) {
            for (Path p : left) {
                assertFalse(Files.exists(p), p + " is deleted by the open-time sweep");
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // without the executor's close first, close would wait for the worker
    void shouldNotHoldCloseUpForAFlushWaitingOnItsWorker() throws Exception {
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.BLOCK_UNTIL_CLOSED;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        DB d = DB.open(db, options(Duration.ofMinutes(10)));
        Thread flusher;
        try {
            write(d, model, 20000, 9);
            OffloadTestSupport.waitFor("every sealed shard is on the node", () -> field(d, "offloadedShards") == field(d, "sealedShards"));
            flusher = new Thread(() -> {
                try {
                    ((DBImpl) d).waitForFlushes();
                } catch (RuntimeException expected) {
                    // closed meanwhile
                }
            });
            flusher.start();
            OffloadTestSupport.waitFor("a flush waits on its worker", () -> FakeFlushExecutor.BLOCKED.get() > 0);
        } finally {
            d.close(); // closes the executor, which fails the waiting submission: close does not wait 10 minutes
        }
        flusher.join();
        assertTrue(FakeFlushExecutor.CLOSED.get() > 0);
        assertEquals(FakeFlushExecutor.BLOCKED.get(), FakeFlushExecutor.REQUESTS.size(),
                "no second attempt once the DB is closing");
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldRejectFlushOffloadWithoutAMemoryNode() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> Options.defaults().flushOffload(true).validate());
        assertTrue(ex.getMessage().contains("flushOffload") && ex.getMessage().contains("memoryNode"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir.resolve("db"),
                Options.defaults().flushOffload(true)));
        assertFalse(Files.exists(dir.resolve("db")), "nothing was created");
    }

    @Test
    void shouldRejectFlushWorkerSlotsWithoutAMemoryNodeOrOutOfRange() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> Options.defaults().flushWorkerSlots(1).validate());
        assertTrue(ex.getMessage().contains("flushWorkerSlots") && ex.getMessage().contains("memoryNode"),
                ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> Options.defaults().flushWorkerSlots(-1).validate());
        assertTrue(ex.getMessage().contains("flushWorkerSlots must be in [0, 1024]"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().flushWorkerSlots(1025).validate());
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir.resolve("db"),
                Options.defaults().flushWorkerSlots(2)));
        assertFalse(Files.exists(dir.resolve("db")), "nothing was created");
    }

    @Test
    void shouldRefuseToOpenWithFlushOffloadWhenNoFlushExecutorIsOnTheClassPath() throws Exception {
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        ClassLoader hiding = new ClassLoader(before) { // the class path without the flush module's registration
            @Override
            public java.util.Enumeration<java.net.URL> getResources(String name) throws java.io.IOException {
                if (name.equals("META-INF/services/" + FlushExecutor.Provider.class.getName())) {
                    return java.util.Collections.emptyEnumeration();
                }
                return super.getResources(name);
            }
        };
        Path db = dir.resolve("db");
        Options o = options(Duration.ofSeconds(60));
        Thread.currentThread().setContextClassLoader(hiding);
        try {
            io.o3lsm.O3Exception ex = assertThrows(io.o3lsm.O3Exception.class, () -> DB.open(db, o));
            assertTrue(ex.getMessage().contains("o3lsm-flush"), ex.getMessage());
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
        assertFalse(Files.exists(db), "nothing was created on disk");
    }

    @Test
    void shouldRejectAFlushOffloadDeadlineNotPositiveOrOverADay() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> options(Duration.ZERO).validate());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> options(Duration.ofDays(365 * 300)).validate()); // toNanos() would overflow
        assertTrue(ex.getMessage().contains("at most 24 hours"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> options(Duration.ofSeconds(1)).flushOffloadMinBytes(-1)
                .validate());
    }
}
