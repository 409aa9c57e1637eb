package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code MemtableSet.reserve} (3fa9360) waits up to one {@code dmRequestTimeout} for offloads in
 * flight before it forces a flush. With a memory node that stops completing offloads (slow, or its
 * puts time out one by one, which never counts as a failed request), that wait must not be paid
 * again by every later writer short of memory: once a wait timed out, writers fall back to the
 * forced flush as they did before, until offloads complete again. Otherwise each memory stall costs
 * a full request timeout and write throughput collapses to one arena per timeout.
 *
 * <p>Layout as in {@link ReserveWaitsForOffloadsTest}: one range of 64 KiB arenas, room for two locally.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReserveSlowMemoryNodeTest {
    private static final int ARENA = 64 << 10;
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    @BeforeEach
    @AfterEach
    void reset() {
        FakeMemoryNode.reset();
    }

    @Test
    void shouldNotWaitTheRequestTimeoutAtEveryMemoryStallWhileOffloadsDoNotComplete() throws Exception {
        FakeMemoryNode.holdOffloads = new CompletableFuture<>(); // the node never completes an offload
        Options o = FakeMemoryNode.options(dir, 0).shardCount(1).adaptiveShardBoundaries(false)
                .localMemoryBudget(2L * ARENA).dmRequestTimeout(TIMEOUT);
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), o)) {
            Engine e = ((DBImpl) d).engine();
            long t0 = System.nanoTime();
            int n = 0;
            while (e.stats.stalls.sum() < 6) {
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60), "6 memory stalls within 60 s: "
                        + e.stats.stalls.sum() + " " + d.property("o3.dm"));
                d.put(b(k(n)), b("v" + n + "-" + "x".repeat(40)));
                n++;
            }
            long stalls = e.stats.stalls.sum();
            long stallMs = TimeUnit.NANOSECONDS.toMillis(e.stats.stallNanos.sum());
            long wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println(n + " puts, " + stalls + " memory stalls, " + stallMs + " ms stalled, " + wallMs
                    + " ms in all, " + e.stats.flushes.sum() + " flushes");
            // one wait of a request timeout is the design; one per stall is the collapse
            long timedOut;
            e.mutex.lock();
            try {
                timedOut = e.memtables.offloadWaitTimeouts;
            } finally {
                e.mutex.unlock();
            }
            assertEquals(1, timedOut, stalls + " memory stalls (" + stallMs + " ms) waited out the request timeout "
                    + timedOut + " times: every stall waited for offloads that were not completing ("
                    + d.property("o3.dm") + ")");
        }
    }
}
