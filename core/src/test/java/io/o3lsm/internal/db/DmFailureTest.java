package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeMemoryNode;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the engine reacts to DM failures (against the in-process {@link FakeMemoryNode}, with
 * injected failures and latches, no sleeps): a slow request is retried, a lost node costs one WAL
 * pass and frees what the node still holds, a rebuild racing a flush is harmless, read-back copies
 * count in the memory budget, and offload work runs on the DB's own thread.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DmFailureTest {
    @TempDir
    Path dir;

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

    private Options dmOptions() throws IOException {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        // no read cache: these failures are those of delegated gets (DmReadCacheTest: the cached path)
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(8 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(5 * (64 << 10)).dmBudget(64L << 20)
                .targetFileSize(1 << 20).dmReadCacheBytes(0).dmReadFlushTrigger(0);
    }

    private static String dm(DB d) {
        return d.property("o3.dm");
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    /** Writes until some shards live only on the node and no flush runs; returns the model. */
    private static TreeMap<String, String> fillUntilRemoteOnly(DB d) {
        return fillUntilRemoteOnly(d, 1);
    }

    /** Writes until at least {@code min} shards stay only on the node once no flush runs. */
    private static TreeMap<String, String> fillUntilRemoteOnly(DB d, int min) {
        TreeMap<String, String> model = new TreeMap<>();
        int n = 0;
        for (int round = 0; round < 50; round++) {
            while (n < 400000 && (n < 20000 || field(dm(d), "remoteOnlyShards") < min)) {
                d.put(b(k(n)), b("v" + n));
                model.put(k(n), "v" + n);
                n++;
            }
            ((DBImpl) d).waitForRunningFlushes();
            if (field(dm(d), "remoteOnlyShards") >= min) {
                return model;
            }
        }
        throw new AssertionError("no shard stayed only on the node: " + dm(d));
    }

    private static void assertAll(DB d, Map<String, String> model) {
        for (Map.Entry<String, String> e : model.entrySet()) {
            assertArrayEquals(b(e.getValue()), d.get(b(e.getKey())), e.getKey());
        }
    }

    @Test
    void shouldNotRebuildWhenOneRequestTimesOut() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            TreeMap<String, String> model = fillUntilRemoteOnly(d);
            java.util.Set<Long> segments = new java.util.HashSet<>(FakeMemoryNode.SEGMENTS.keySet());
            FakeMemoryNode.FAIL_GETS.set(1); // one slow get; the node and its segments stay
            assertAll(d, model);
            FakeMemoryNode.FAIL_SCANS.set(1); // and one slow scan
            try (DBIterator it = d.iterator()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    n++;
                }
                assertEquals(model.size(), n);
            }
            assertEquals(0, FakeMemoryNode.FAIL_GETS.get(), "the injected get failure was hit");
            assertEquals(0, FakeMemoryNode.FAIL_SCANS.get(), "the injected scan failure was hit");
            assertEquals(0, field(dm(d), "rebuiltFromWal"), dm(d));
            assertTrue(field(dm(d), "remoteOnlyShards") > 0, dm(d));
            // (an offload still in flight may add one meanwhile)
            assertTrue(FakeMemoryNode.SEGMENTS.keySet().containsAll(segments), "nothing was forgotten or freed");
        }
    }

    @Test
    void shouldTreatRepeatedFailuresAsALostNodeAndFreeItsSegments() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            TreeMap<String, String> model = fillUntilRemoteOnly(d);
            assertTrue(FakeMemoryNode.SEGMENTS.size() > 0);
            FakeMemoryNode.FAIL_GETS.set(Long.MAX_VALUE); // the node answers nothing, yet stays attached
            String someRemoteKey = null;
            for (String key : model.keySet()) {
                long before = FakeMemoryNode.GETS.get();
                assertArrayEquals(b(model.get(key)), d.get(b(key)), key);
                if (FakeMemoryNode.GETS.get() > before) {
                    someRemoteKey = key;
                    break;
                }
            }
            assertTrue(someRemoteKey != null, "a get went to the node");
            FakeMemoryNode.FAIL_GETS.set(0);
            String p = dm(d);
            assertTrue(field(p, "rebuiltFromWal") > 0, p);
            assertEquals(0, field(p, "remoteOnlyShards"), p);
            Engine e = ((DBImpl) d).engine();
            e.mutex.lock();
            try {
                assertEquals(localArenaBytes(e), e.memtables.used(), "rebuilt arenas are in the memory account");
            } finally {
                e.mutex.unlock();
            }
            // the node is still there: the segments it held for the lost shards are freed (asynchronously);
            // what it holds afterwards is exactly what the DB has offloaded since (an offload that was
            // in flight may ship a rebuilt shard again, the node being attached)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (FakeMemoryNode.SEGMENTS.size() != field(dm(d), "offloadedShards") && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.yield();
            }
            assertEquals(field(dm(d), "offloadedShards"), FakeMemoryNode.SEGMENTS.size(),
                    "segments of the rebuilt shards are freed on the node: " + dm(d));
            assertAll(d, model);
            d.put(b("after"), b("loss"));
            assertArrayEquals(b("loss"), d.get(b("after")));
        }
    }

    /** Counts WAL files opened for reading. */
    private static final class CountingFs extends ForwardingFileSystem {
        final AtomicInteger walOpens = new AtomicInteger();

        @Override
        public FileSystem.ReadableFile newReadableFile(Path path) throws IOException {
            if (path.getFileName().toString().endsWith(".log")) {
                walOpens.incrementAndGet();
            }
            return super.newReadableFile(path);
        }
    }

    @Test
    void shouldReplayEachWalOnceForAllLostShards() throws Exception {
        CountingFs fs = new CountingFs();
        Path db = dir.resolve("db");
        try (DB d = DB.open(db, dmOptions().fileSystem(fs))) {
            TreeMap<String, String> model = fillUntilRemoteOnly(d, 2);
            long remoteOnly = field(dm(d), "remoteOnlyShards");
            assertTrue(remoteOnly >= 2, "several shards to rebuild: " + dm(d));
            long logs;
            try (var files = Files.list(db)) {
                logs = files.filter(f -> f.getFileName().toString().endsWith(".log")).count();
            }
            fs.walOpens.set(0);
            FakeMemoryNode.kill(); // lost: the transport reports it
            assertAll(d, model);
            String p = dm(d);
            assertEquals(remoteOnly, field(p, "rebuiltFromWal"), p);
            assertTrue(fs.walOpens.get() <= logs, "one pass over at most " + logs + " WALs for " + remoteOnly
                    + " shards, opened " + fs.walOpens.get());
        }
    }

    @Test
    void shouldSkipShardsAFlushInstalledWhileTheRebuildWasStarting() throws Exception {
        DB d = DB.open(dir.resolve("db"), dmOptions());
        try {
            TreeMap<String, String> model = fillUntilRemoteOnly(d);
            Engine e = ((DBImpl) d).engine();
            AtomicBoolean hookRan = new AtomicBoolean();
            e.dmRecovery.beforeOpen = () -> {
                // the rebuild saw that a WAL exists; a flush that can still read the shards back
                // installs them all and deletes that WAL before the rebuild opens it
                if (hookRan.compareAndSet(false, true)) {
                    d.flush();
                    ((DBImpl) d).waitForFlushes();
                }
            };
            FakeMemoryNode.FAIL_GETS.set(Long.MAX_VALUE); // gets fail until the node is declared lost
            assertAll(d, model);
            FakeMemoryNode.FAIL_GETS.set(0);
            assertTrue(hookRan.get(), "a rebuild started");
            assertNull(e.bgError, "no background error: the data is safe in SSTs");
            d.put(b("still"), b("writable"));
            assertArrayEquals(b("writable"), d.get(b("still")));
            assertAll(d, model);
        } finally {
            d.close();
        }
    }

    /** REQUIRES: mutex held. Arena bytes of every local shard in the view. */
    private static long localArenaBytes(Engine e) {
        long sum = 0;
        for (MemShard m : e.sv.active) {
            sum += m.capacity;
        }
        for (MemShard[] list : e.sv.sealed) {
            for (MemShard m : list) {
                if (m.isLocal()) {
                    sum += m.capacity;
                }
            }
        }
        return sum;
    }

    @Test
    void shouldCountReadBackCopiesInTheMemoryBudget() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            fillUntilRemoteOnly(d);
            Engine e = ((DBImpl) d).engine();
            CountDownLatch inReadBack = new CountDownLatch(1);
            CountDownLatch resume = new CountDownLatch(1);
            AtomicLong length = new AtomicLong();
            AtomicBoolean first = new AtomicBoolean(true);
            FakeMemoryNode.onReadBack = rs -> {
                if (first.compareAndSet(true, false)) {
                    length.set(rs.length());
                    inReadBack.countDown();
                    try {
                        resume.await();
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread flusher = new Thread(() -> {
                try {
                    d.flush();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            flusher.start();
            assertTrue(inReadBack.await(60, TimeUnit.SECONDS), "a flush read a shard back");
            long outside;
            e.mutex.lock();
            try {
                outside = e.memtables.used() - localArenaBytes(e);
            } finally {
                e.mutex.unlock();
            }
            resume.countDown();
            flusher.join();
            assertNull(failure.get());
            assertTrue(outside >= length.get(), "the read-back copy of " + length.get()
                    + " bytes is in the memory account (found " + outside + " bytes beyond the arenas)");
            ((DBImpl) d).waitForRunningFlushes();
            e.mutex.lock();
            try {
                assertEquals(localArenaBytes(e), e.memtables.used(), "read-back copies are released after the flush");
            } finally {
                e.mutex.unlock();
            }
        }
    }

    @Test
    void shouldRunOffloadWorkOnTheDbsOwnThreadAndJoinItOnClose() throws Exception {
        Path db = dir.resolve("db");
        String name = "o3lsm-dm-offload-1 " + db;
        try (DB d = DB.open(db, dmOptions())) {
            fillUntilRemoteOnly(d);
            assertEquals(java.util.Set.of(name), FakeMemoryNode.OFFLOAD_THREADS,
                    "offloads start on the DB's own named thread, not the common pool or the writer's");
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertTrue(!t.getName().equals(name), "the offload thread is joined by close(): " + t);
        }
    }
}
