package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeCompactionOffloadExecutor;
import io.o3lsm.dmfake.FakeMemoryNode;
import io.o3lsm.format.InternalKey;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner's bookkeeping of offloaded compactions: an installed attempt's numbers stop being
 * pending and its unused ones become orphans; and the range check of a sub-compaction's result
 * against its bounds (exclusive upper bound, inclusive for the last part).
 */
class CompactionOffloadBookkeepingTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
        FakeCompactionOffloadExecutor.reset();
    }

    @AfterEach
    void after() {
        FakeCompactionOffloadExecutor.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReleaseAnInstalledAttemptsNumbersAndOrphanOnlyItsUnusedOnes() throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        Options o = Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(2 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(2 << 20).memtableOffload(false)
                .compactionOffload(true).compactionOffloadDeadline(Duration.ofMinutes(10)).targetFileSize(64 << 10)
                .level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300).maxSubcompactions(3);
        try (DB db = DB.open(dir.resolve("db"), o)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!db.property("o3.dm").contains("attached=true")) {
                assertTrue(System.nanoTime() < deadline, "attached to the fake memory node");
                Thread.sleep(5);
            }
            for (int i = 0; i < 20000; i++) {
                db.put(b(String.format("%08x", i * 2654435761L & 0xffffffffL)), b("value-" + i + "-".repeat(i % 50)));
                if (i % 5000 == 4999) {
                    db.flush();
                }
            }
            db.compactRange(null, null);
            Engine e = ((DBImpl) db).engine();
            assertTrue(e.stats.compactionsOffloaded.sum() > 0);
            assertEquals(Set.of(), e.obsolete.pendingOutputs(), "nothing is pending once installed");
            Set<Long> live = new HashSet<>(e.versions.current().liveFiles());
            int allocated = 0;
            int inVersion = 0;
            for (CompactionOffloadExecutor.OffloadRequest r : FakeCompactionOffloadExecutor.REQUESTS) {
                allocated += r.job().outputFileNumbers().length;
                for (long n : r.job().outputFileNumbers()) {
                    inVersion += live.contains(n) ? 1 : 0;
                }
            }
            assertTrue(inVersion > 0, "offloaded outputs are in the version");
            // every result was installed (some outputs were compacted again since): the numbers not
            // reported as outputs are the orphans
            assertEquals(allocated - FakeCompactionOffloadExecutor.REPORTED.size(), e.obsolete.orphanCount(),
                    "the unused numbers are orphans");
        }
    }

    private static OffloadResultCheck.Reported file(long n, String from, String to, boolean exclusiveEnd) {
        byte[] largest = exclusiveEnd
                ? InternalKey.encode(b(to), InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION)
                : InternalKey.encode(b(to), 10, InternalKey.TYPE_VALUE);
        return new OffloadResultCheck.Reported(new OutputFile(n, 1000, InternalKey.encode(b(from), 10,
                InternalKey.TYPE_VALUE), largest, 10, 10), 0);
    }

    private String check(OffloadResultCheck.Expect x, OffloadResultCheck.Reported r) {
        OffloadResultCheck.Refused refused = assertThrows(OffloadResultCheck.Refused.class,
                () -> OffloadResultCheck.validate(io.o3lsm.spi.FileSystem.local(), dir, x, new long[] {7}, List.of(r)));
        return refused.check;
    }

    @Test
    void shouldHoldASubCompactionsOutputsToItsBounds() {
        OffloadResultCheck.Expect middle = new OffloadResultCheck.Expect("sub-compaction 1", b("d"), b("m"), false, 1,
                20, false);
        assertEquals("range", check(middle, file(7, "c", "f", false)), "below the lower bound");
        assertEquals("range", check(middle, file(7, "d", "m", false)), "a point key at the exclusive upper bound");
        assertEquals("exists", check(middle, file(7, "d", "m", true)), "a tombstone's exclusive end may reach it");
        OffloadResultCheck.Expect last = new OffloadResultCheck.Expect("sub-compaction 2", b("m"), b("z"), true, 1, 20,
                false);
        assertEquals("exists", check(last, file(7, "m", "z", false)), "the last part includes the largest key");
        assertEquals("range", check(last, file(7, "m", "zz", false)));
        assertEquals("sequence", check(last, new OffloadResultCheck.Reported(new OutputFile(7, 1000,
                InternalKey.encode(b("m"), 30, InternalKey.TYPE_VALUE), InternalKey.encode(b("n"), 30,
                        InternalKey.TYPE_VALUE), 30, 30), 0)), "a sequence newer than the inputs'");
    }
}
