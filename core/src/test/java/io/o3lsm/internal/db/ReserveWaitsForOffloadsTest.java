package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.EventListener;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer short of local memory while a sealed shard is still on its way to the memory node
 * ({@code MemtableSet.reserve}): it waits for that offload and drops the shard's local copy rather
 * than forcing a flush; it falls back to the forced flush when the offload does not complete within
 * the request timeout; and a close ends the wait. Offloads are held in flight by the in-process
 * {@link FakeMemoryNode} ({@code holdOffloads}); the writer's wait is observed through its memory
 * stall ({@code onStallBegin}), not through sleeps.
 *
 * <p>The layout: one shard range of 64 KiB arenas and room for two of them locally (the active shard
 * and one sealed copy), so the second seal needs the first sealed shard's local copy gone; the write
 * buffer and DM budget are large, so no flush is due by the usual rules.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReserveWaitsForOffloadsTest {
    private static final int ARENA = 64 << 10;

    @TempDir
    Path dir;

    private final CountDownLatch memoryStall = new CountDownLatch(1);

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    @AfterEach
    void release() {
        FakeMemoryNode.reset();
    }

    private Options options(Duration requestTimeout) throws Exception {
        return FakeMemoryNode.options(dir, 0).shardCount(1).adaptiveShardBoundaries(false)
                .localMemoryBudget(2L * ARENA).dmRequestTimeout(requestTimeout)
                .addListener(new EventListener() {
                    @Override
                    public void onStallBegin(StallInfo info) {
                        if (info.reason() == StallReason.MEMORY) {
                            memoryStall.countDown();
                        }
                    }
                });
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    /** Writes from key {@code from} on until {@code sealed} shards are sealed; returns the next key. */
    private static int writeUntilSealed(DB d, Map<String, String> model, int from, int sealed) {
        int n = from;
        while (field(d.property("o3.dm"), "sealedShards") < sealed) {
            assertTrue(n < from + 100_000, "no seal after " + (n - from) + " puts: " + d.property("o3.dm"));
            d.put(b(k(n)), b("v" + n));
            model.put(k(n), "v" + n);
            n++;
        }
        return n;
    }

    /**
     * A writer thread that puts {@code count} keys from {@code from} on, enough to fill another arena
     * (so it needs memory once), recording them in {@code model} and any failure in {@code failure}.
     */
    private static Thread writer(DB d, Map<String, String> model, int from, int count,
            AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                for (int n = from; n < from + count; n++) {
                    d.put(b(k(n)), b("v" + n));
                    synchronized (model) {
                        model.put(k(n), "v" + n);
                    }
                }
            } catch (Throwable ex) {
                failure.set(ex);
            }
        }, "test-writer");
        t.start();
        return t;
    }

    private static void assertAll(DB d, Map<String, String> model) {
        for (Map.Entry<String, String> en : model.entrySet()) {
            assertArrayEquals(b(en.getValue()), d.get(b(en.getKey())), en.getKey());
        }
    }

    @Test
    void shouldWaitForAnOffloadInFlightAndDropTheLocalCopyInsteadOfForcingAFlush() throws Exception {
        CompletableFuture<Void> hold = new CompletableFuture<>();
        FakeMemoryNode.holdOffloads = hold;
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(Duration.ofSeconds(30)))) {
            Engine e = ((DBImpl) d).engine();
            Map<String, String> model = new TreeMap<>();
            int n = writeUntilSealed(d, model, 0, 1); // its offload is in flight, held
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread w = writer(d, model, n, n + 100, failure); // the next seal finds no room
            assertTrue(memoryStall.await(30, TimeUnit.SECONDS), "the writer ran short of memory: " + d.property("o3.dm"));
            hold.complete(null); // the offload arrives: the writer may drop the local copy now
            w.join();
            assertNull(failure.get());
            ((DBImpl) d).waitForRunningFlushes();
            String p = d.property("o3.dm");
            assertEquals(0, e.stats.flushes.sum(), "no flush was forced while the offload was in flight: " + p);
            assertTrue(field(p, "droppedLocal") >= 1, "the offloaded shard's local copy was dropped: " + p);
            assertTrue(field(p, "remoteOnlyShards") >= 1, p);
            assertTrue(e.stats.stalls.sum() >= 1, "the wait counts as a memory stall");
            assertAll(d, model);
        }
    }

    @Test
    void shouldForceTheFlushWhenAnOffloadInFlightDoesNotCompleteWithinTheRequestTimeout() throws Exception {
        FakeMemoryNode.holdOffloads = new CompletableFuture<>(); // never completes, never fails
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(Duration.ofMillis(200)))) {
            Engine e = ((DBImpl) d).engine();
            Map<String, String> model = new TreeMap<>();
            int n = writeUntilSealed(d, model, 0, 1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread w = writer(d, model, n, n + 100, failure);
            w.join(); // bounded: the @Timeout fails the test if the writer hangs on the offload
            assertNull(failure.get());
            ((DBImpl) d).waitForRunningFlushes();
            String p = d.property("o3.dm");
            assertTrue(e.stats.flushes.sum() >= 1, "the writer fell back to a forced flush: " + p);
            assertEquals(0, field(p, "offloadedShards"), p);
            assertAll(d, model);
        }
        // acknowledged writes survive a reopen (the WAL, or the flushed tables)
        FakeMemoryNode.reset();
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(Duration.ofSeconds(2)))) {
            assertArrayEquals(b("v0"), d.get(b(k(0))));
        }
    }

    @Test
    void shouldEndTheWaitForAnOffloadWhenTheDbCloses() throws Exception {
        FakeMemoryNode.holdOffloads = new CompletableFuture<>();
        // a request timeout far beyond the test's own: only the close can end the writer's wait in time
        DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(Duration.ofMinutes(10)));
        Map<String, String> model = new TreeMap<>();
        int n = writeUntilSealed(d, model, 0, 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread w = writer(d, model, n, n + 100, failure);
        assertTrue(memoryStall.await(30, TimeUnit.SECONDS), "the writer ran short of memory: " + d.property("o3.dm"));
        d.close();
        w.join();
        assertTrue(failure.get() instanceof DBClosedException, "the waiting writer was told the DB closed: "
                + failure.get());
        FakeMemoryNode.reset();
        try (DB again = FakeMemoryNode.openAttached(dir.resolve("db"), options(Duration.ofSeconds(2)))) {
            for (int i = 0; i < n; i++) {
                assertArrayEquals(b("v" + i), again.get(b(k(i))), k(i));
            }
        }
    }
}
