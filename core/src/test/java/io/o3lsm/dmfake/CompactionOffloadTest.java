package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.spi.CompactionOffloadExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The owner's side of compaction offloading (CompactionOffloader and the execute step of
 * CompactionScheduler) against the in-process {@link FakeMemoryNode} and
 * {@link FakeCompactionOffloadExecutor}, in the baseline set-up: the memory node serves only as the
 * coordinator ({@code memtableOffload(false)}), flushes are local. Which compactions are offloaded,
 * how results are validated, what falls back to a local compaction, and close. The real compactor
 * daemon is proven by the compaction module's tests.
 */
class CompactionOffloadTest {
    @TempDir
    Path dir;

    private final OffloadTestSupport log = new OffloadTestSupport();
    private final List<String> warnings = log.messages;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
        FakeCompactionOffloadExecutor.reset();
        log.attach();
    }

    @AfterEach
    void detach() {
        log.detach();
        FakeCompactionOffloadExecutor.reset();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Options options(int maxSubcompactions) throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(2 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(2 << 20).memtableOffload(false)
                .compactionOffload(true).compactionOffloadDeadline(Duration.ofMinutes(10)).targetFileSize(64 << 10)
                .maxBytesForLevelBase(1 << 20).level0CompactionTrigger(100).level0SlowdownTrigger(200)
                .level0StopTrigger(300).maxSubcompactions(maxSubcompactions);
    }

    /** Opens and waits until the link to the (fake) memory node is up, so compactions may be offloaded. */
    private DB open(Path db, Options o) throws InterruptedException {
        DB d = DB.open(db, o);
        OffloadTestSupport.waitFor("attached to the memory node", () -> d.property("o3.dm").contains("attached=true"));
        return d;
    }

    /** Puts, overwrites, deletes and a range delete into {@code d} and {@code model}, flushed in several L0 files. */
    private static void write(DB d, TreeMap<String, String> model, int n, long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) {
            String key = String.format("%08x", rnd.nextInt(n) * 2654435761L & 0xffffffffL);
            String v = "v" + i + "-" + "x".repeat(rnd.nextInt(60));
            d.put(b(key), b(v));
            model.put(key, v);
            if (i % 13 == 0) {
                String del = String.format("%08x", rnd.nextInt(n) * 2654435761L & 0xffffffffL);
                d.delete(b(del));
                model.remove(del);
            }
            if (i % (n / 4) == n / 4 - 1) {
                d.flush();
            }
        }
        d.deleteRange(b("10"), b("12"));
        model.subMap("10", "12").clear();
        d.flush();
    }

    private static Set<Long> requestedNumbers() {
        Set<Long> out = new HashSet<>();
        for (CompactionOffloadExecutor.OffloadRequest r : FakeCompactionOffloadExecutor.REQUESTS) {
            for (long n : r.job().outputFileNumbers()) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void shouldInstallAnOffloadedCompactionAndReadItBack() throws Exception {
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1))) {
            write(d, model, 20000, 1);
            d.compactRange(null, null);
            DBStats st = d.stats();
            assertTrue(st.compactionsOffloaded() > 0, d.property("o3.stats"));
            assertEquals(0, st.compactionsFallback());
            assertEquals(0, st.compactionResultsRefused());
            assertEquals(st.compactions(), st.compactionsLocal() + st.compactionsOffloaded()
                    + st.compactionsFallback(), "the places add up");
            assertTrue(d.property("o3.stats").contains("compactions by place: local " + st.compactionsLocal()
                    + ", offloaded " + st.compactionsOffloaded()), d.property("o3.stats"));
            Version v = ((DBImpl) d).currentVersion();
            assertEquals(0, v.numFiles(0), "everything moved below L0");
            Set<Long> requested = requestedNumbers();
            int installed = 0;
            for (int level = 1; level < Version.NUM_LEVELS; level++) {
                for (FileMetaData f : v.files(level)) {
                    installed += requested.contains(f.number) ? 1 : 0;
                }
            }
            assertTrue(installed > 0, "the compactor's outputs are in the version");
            for (CompactionOffloadExecutor.OffloadRequest r : FakeCompactionOffloadExecutor.REQUESTS) {
                assertTrue(r.job().directory().isAbsolute(), "a compactor gets the absolute DB directory");
                assertEquals(1, r.attempt());
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldRunOffloadedSubcompactionsInParallelJobsAndInstallThemTogether() throws Exception {
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(4))) {
            write(d, model, 20000, 2);
            d.compactRange(null, null);
            assertTrue(d.stats().compactionsOffloaded() > 0);
            Set<Long> jobs = new HashSet<>();
            int bounded = 0;
            for (CompactionOffloadExecutor.OffloadRequest r : FakeCompactionOffloadExecutor.REQUESTS) {
                assertTrue(jobs.add(r.jobId()), "each sub-compaction is a job of its own");
                bounded += r.job().lowerBound() != null || r.job().upperBound() != null ? 1 : 0;
            }
            assertTrue(bounded > 1, "some compaction was split into bounded jobs: " + d.property("o3.stats"));
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldCountADeclinedOffloadAsALocalCompaction() throws Exception {
        FakeCompactionOffloadExecutor.mode = FakeCompactionOffloadExecutor.Mode.LOCAL;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1))) {
            write(d, model, 20000, 3);
            d.compactRange(null, null);
            DBStats st = d.stats();
            assertFalse(FakeCompactionOffloadExecutor.REQUESTS.isEmpty(), "the compactions were submitted");
            assertTrue(st.compactionsLocal() > 0);
            assertEquals(0, st.compactionsOffloaded());
            assertEquals(0, st.compactionsFallback(), "a decline is not a failure");
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldResubmitOnceWithFreshNumbersThenCompactLocallyWhenTheOffloadFails() throws Exception {
        FakeCompactionOffloadExecutor.mode = FakeCompactionOffloadExecutor.Mode.FAIL;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1))) {
            write(d, model, 20000, 4);
            d.compactRange(null, null);
            DBStats st = d.stats();
            assertTrue(st.compactionsFallback() > 0, d.property("o3.stats"));
            assertEquals(0, st.compactionsOffloaded());
            List<CompactionOffloadExecutor.OffloadRequest> reqs = FakeCompactionOffloadExecutor.REQUESTS;
            assertEquals(0, reqs.size() % 2, "every job is submitted twice");
            for (int i = 0; i < reqs.size(); i += 2) {
                CompactionOffloadExecutor.OffloadRequest a = reqs.get(i);
                CompactionOffloadExecutor.OffloadRequest b2 = reqs.get(i + 1);
                assertEquals(a.jobId(), b2.jobId());
                assertEquals(1, a.attempt());
                assertEquals(2, b2.attempt());
                Set<Long> first = new HashSet<>();
                for (long n : a.job().outputFileNumbers()) {
                    first.add(n);
                }
                for (long n : b2.job().outputFileNumbers()) {
                    assertFalse(first.contains(n), "the second attempt gets fresh numbers");
                }
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @ParameterizedTest
    @CsvSource({"WRONG_NUMBER, number", "MISSING_FILE, exists", "WRONG_SIZE, size", "WRONG_CRC, crc32c",
            "KEYS_OUTSIDE_RANGE, range", "OVERLAPPING_OUTPUTS, overlap"})
    void shouldRefuseATamperedResultAndCompactLocally(FakeCompactionOffloadExecutor.Mode mode, String check)
            throws Exception {
        FakeCompactionOffloadExecutor.mode = mode;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1).targetFileSize(64 << 10))) {
            write(d, model, 20000, 5);
            d.compactRange(null, null);
            DBStats st = d.stats();
            assertTrue(st.compactionResultsRefused() > 0, d.property("o3.stats"));
            assertTrue(st.compactionsFallback() > 0);
            assertEquals(0, st.compactionsOffloaded());
            assertTrue(warnings.stream().anyMatch(w -> w.contains("refused the result") && w.contains(check
                    + " check failed")), "a warning names the " + check + " check: " + warnings);
            Set<Long> live = new HashSet<>(((DBImpl) d).currentVersion().liveFiles());
            for (long n : requestedNumbers()) {
                assertFalse(live.contains(n), "nothing of a refused result is installed: #" + n);
            }
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldNotInstallAnEmptyResultForInputsHoldingEntriesButCompactThemLocally() throws Exception {
        FakeCompactionOffloadExecutor.mode = FakeCompactionOffloadExecutor.Mode.EMPTY_RESULT;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1))) {
            write(d, model, 20000, 8);
            d.compactRange(null, null);
            DBStats st = d.stats();
            assertEquals(0, st.compactionsOffloaded(), d.property("o3.stats"));
            assertTrue(st.compactionsFallback() > 0, d.property("o3.stats"));
            assertEquals(0, st.compactionResultsRefused(), "an empty result is re-run, not counted as refused");
            OffloadTestSupport.assertSameAsModel(d, model);
        }
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldEndARightlyEmptyCompactionWithNothingLeftAndNoRefusal() throws Exception {
        Path db = dir.resolve("db");
        try (DB d = open(db, options(1))) {
            for (int i = 0; i < 2000; i++) {
                d.put(b(String.format("k%06d", i)), b("v" + i));
            }
            d.flush();
            for (int i = 0; i < 2000; i++) {
                d.delete(b(String.format("k%06d", i)));
            }
            d.flush();
            d.compactRange(null, null);
            assertEquals(null, d.get(b("k000001")));
            assertEquals(0, d.stats().compactionResultsRefused(), d.property("o3.stats"));
            assertEquals("0", d.property("o3.num-files-at-level0"));
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // without the executor's close first, close would wait 10 minutes
    void shouldNotHoldCloseUpForACompactRangeWaitingOnItsCompactor() throws Exception {
        FakeCompactionOffloadExecutor.mode = FakeCompactionOffloadExecutor.Mode.BLOCK_UNTIL_CLOSED;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        DB d = open(db, options(1));
        Thread manual = new Thread(() -> {
            try {
                d.compactRange(null, null);
            } catch (RuntimeException expected) {
                // the DB closed under it
            }
        }, "test-compactRange");
        try {
            write(d, model, 20000, 7);
            manual.start();
            OffloadTestSupport.waitFor("compactRange's compaction waits on its compactor",
                    () -> FakeCompactionOffloadExecutor.BLOCKED.get() > 0);
        } finally {
            d.close(); // closes the executor before waiting for compactRange, which then gives up
        }
        manual.join(60_000);
        assertFalse(manual.isAlive(), "compactRange returned once the DB closed");
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // without the executor's close first, close would wait 10 minutes
    void shouldNotHoldCloseUpForACompactionWaitingOnItsCompactor() throws Exception {
        FakeCompactionOffloadExecutor.mode = FakeCompactionOffloadExecutor.Mode.BLOCK_UNTIL_CLOSED;
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        DB d = open(db, options(1).level0CompactionTrigger(2).level0SlowdownTrigger(200));
        try {
            write(d, model, 20000, 6);
            OffloadTestSupport.waitFor("a compaction waits on its compactor", () -> FakeCompactionOffloadExecutor.BLOCKED.get() > 0);
        } finally {
            d.close(); // closes the executor, which fails the waiting submission
        }
        assertEquals(1, FakeCompactionOffloadExecutor.REQUESTS.size(), "no second attempt while closing");
        OffloadTestSupport.assertReopenedSameAsModel(db, model);
    }

    @Test
    void shouldKeepTheCoordinatorConnectionButOffloadNoShardWithMemtableOffloadOff() throws Exception {
        Path db = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = open(db, options(1))) {
            write(d, model, 20000, 7);
            assertTrue(d.property("o3.dm").contains("attached=true"));
            assertTrue(d.property("o3.dm").contains("offloadedShards=0"), d.property("o3.dm"));
            assertEquals(0, FakeMemoryNode.OFFLOADS.get(), "no shard reached the memory node");
            OffloadTestSupport.assertSameAsModel(d, model);
        }
    }

    @Test
    void shouldRefuseToOpenWithCompactionOffloadWhenNoExecutorIsOnTheClassPath() throws Exception {
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        ClassLoader hiding = new ClassLoader(before) { // the class path without the compaction module's registration
            @Override
            public java.util.Enumeration<java.net.URL> getResources(String name) throws java.io.IOException {
                if (name.equals("META-INF/services/" + CompactionOffloadExecutor.Provider.class.getName())) {
                    return java.util.Collections.emptyEnumeration();
                }
                return super.getResources(name);
            }
        };
        Path db = dir.resolve("db");
        Options o = options(1);
        Thread.currentThread().setContextClassLoader(hiding);
        try {
            io.o3lsm.O3Exception ex = assertThrows(io.o3lsm.O3Exception.class, () -> DB.open(db, o));
            assertTrue(ex.getMessage().contains("o3lsm-compaction"), ex.getMessage());
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
        assertFalse(Files.exists(db), "nothing was created on disk");
    }

    @Test
    void shouldRejectCompactionOffloadWithoutAMemoryNode() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir.resolve("db"), Options.defaults().compactionOffload(true)));
        assertTrue(ex.getMessage().contains("compactionOffload needs memoryNode"), ex.getMessage());
        assertNotEquals(null, ex.getMessage());
        assertFalse(Files.exists(dir.resolve("db")), "nothing was created");
    }
}
