package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With flushes and compactions both offloaded (o3 mode), the jobs of one DB carry distinct ids:
 * the coordinator knows a job by its owner's session, id and attempt whatever its kind, and refuses
 * a second submission under an id it holds.
 */
class OffloadJobIdsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
        FakeFlushExecutor.reset();
        FakeCompactionOffloadExecutor.reset();
    }

    @AfterEach
    void after() {
        FakeFlushExecutor.reset();
        FakeCompactionOffloadExecutor.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldNeverGiveAFlushAndACompactionOfOneDbTheSameJobId() throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        Options o = Options.defaults().shardCount(2).shardArenaSize(64 << 10).writeBufferSize(1 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(1 << 20).dmBudget(2 << 20)
                .targetFileSize(64 << 10).flushOffload(true).flushOffloadMinBytes(0)
                .flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadDeadline(Duration.ofMinutes(10))
                .compactionOffload(true).compactionOffloadDeadline(Duration.ofMinutes(10))
                .maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), o)) {
            int n = 0;
            for (int round = 0; round < 200
                    && (FakeFlushExecutor.REQUESTS.isEmpty() || FakeCompactionOffloadExecutor.REQUESTS.isEmpty()); round++) {
                for (int end = n + 2000; n < end; n++) {
                    d.put(b(String.format("%08x", n * 2654435761L & 0xffffffffL)), b("value-" + n + "-" + "x".repeat(40)));
                }
                ((DBImpl) d).waitForRunningFlushes();
            }
            ((DBImpl) d).waitForCompactions();
            assertFalse(FakeFlushExecutor.REQUESTS.isEmpty(), "a flush was offloaded");
            assertFalse(FakeCompactionOffloadExecutor.REQUESTS.isEmpty(), "a compaction was offloaded");
            Set<Long> flushIds = new HashSet<>();
            FakeFlushExecutor.REQUESTS.forEach(r -> flushIds.add(r.jobId()));
            for (var r : FakeCompactionOffloadExecutor.REQUESTS) {
                assertFalse(flushIds.contains(r.jobId()), "compaction job " + r.jobId() + " has a flush's id " + flushIds);
            }
            assertTrue(d.stats().flushesOffloaded() > 0 && d.stats().compactionsOffloaded() > 0, d.stats().toString());
            for (int i = 0; i < n; i += 97) {
                assertArrayEquals(b("value-" + i + "-" + "x".repeat(40)),
                        d.get(b(String.format("%08x", i * 2654435761L & 0xffffffffL))), "key " + i);
            }
        }
    }
}
