package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's DM logic (offload, dropping local copies, delegated reads, rebuild from the WAL when
 * the node is lost) against the in-process {@link FakeMemoryNode}. The real memory node over UCX is
 * proven by the dm module's integration tests.
 */
class DmModeTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private Options dmOptions() throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        // local budget: 4 shards x 64 KiB active + 1 spare; the DM budget holds much more. No read
        // cache: these tests prove the delegated gets (DmReadCacheTest proves the cached path)
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(8 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(5 * (64 << 10)).dmBudget(64L << 20)
                .targetFileSize(1 << 20).dmReadCacheBytes(0).dmReadFlushTrigger(0);
    }

    private static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    @Test
    void shouldServeReadsFromOffloadedShardsAndFlushThem() throws Exception {
        Path db = dir.resolve("db");
        try (DB d = DB.open(db, dmOptions())) {
            int n = writeUntilRemoteOnly(d, 0, new java.util.TreeMap<>());
            assertTrue(FakeMemoryNode.OFFLOADS.get() > 0, "sealed shards were shipped");
            assertTrue(d.property("o3.dm").matches(".*remoteOnlyShards=[1-9].*"), d.property("o3.dm"));
            for (int i = 0; i < n; i += 7) {
                assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
            }
            assertTrue(FakeMemoryNode.GETS.get() > 0, "some reads were delegated to the node: " + d.property("o3.dm"));
            try (DBIterator it = d.iterator()) {
                int count = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    count++;
                }
                assertEquals(n, count);
            }
            d.flush();
            // segments are freed in the background, and offloads still in flight free theirs on completion
            long deadline = System.currentTimeMillis() + 30_000;
            while (!FakeMemoryNode.SEGMENTS.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, FakeMemoryNode.SEGMENTS.size(), "flushed shards are freed on the node");
            assertArrayEquals(b("v3"), d.get(b(k(3))));
        }
    }

    @Test
    void shouldKeepEveryAcknowledgedWriteWhenTheNodeDies() throws Exception {
        Path db = dir.resolve("db");
        try (DB d = DB.open(db, dmOptions())) {
            for (int i = 0; i < 10000; i++) {
                d.put(b(k(i)), b("v" + i));
            }
            d.delete(b(k(5)));
            FakeMemoryNode.kill(); // every offloaded byte is gone
            for (int i = 10000; i < 15000; i++) {
                d.put(b(k(i)), b("v" + i)); // writes go on, locally
            }
            for (int i = 0; i < 15000; i++) {
                if (i == 5) {
                    assertNull(d.get(b(k(5))));
                } else {
                    assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
                }
            }
            FakeMemoryNode.revive();
            long before = FakeMemoryNode.OFFLOADS.get();
            for (int i = 15000; i < 25000; i++) {
                d.put(b(k(i)), b("v" + i));
            }
            long deadline = System.currentTimeMillis() + 10_000;
            while (FakeMemoryNode.OFFLOADS.get() == before && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
                d.put(b("tick"), b("x"));
            }
            assertTrue(FakeMemoryNode.OFFLOADS.get() > before, "offloading resumed after the node came back");
            ((DBImpl) d).waitForFlushes();
            for (int i = 0; i < 25000; i += 3) {
                if (i != 5) {
                    assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
                }
            }
        }
        try (DB d = DB.open(db, Options.defaults())) {
            assertArrayEquals(b("v24999"), d.get(b(k(24999))));
            assertNull(d.get(b(k(5))));
        }
    }

    /** Writes until some shards live only on the node; returns the keys written (all "v" + index). */
    private static java.util.TreeMap<String, String> fillUntilRemoteOnly(DB d) throws Exception {
        java.util.TreeMap<String, String> model = new java.util.TreeMap<>();
        int n = 20000;
        for (int i = 0; i < n; i++) {
            d.put(b(k(i)), b("v" + i));
            model.put(k(i), "v" + i);
        }
        for (int i = 0; i < n; i += 97) { // some deletes and overwrites, so versions differ per shard
            d.delete(b(k(i)));
            model.remove(k(i));
            d.put(b(k(i + 1)), b("w" + i));
            model.put(k(i + 1), "w" + i);
        }
        writeUntilRemoteOnly(d, n, model);
        return model;
    }

    private static boolean remoteOnly(DB d) {
        return d.property("o3.dm").matches(".*remoteOnlyShards=[1-9].*");
    }

    /**
     * Puts k(i) = "v" + i from {@code from} on (at least up to 20000) until some shards live only on
     * the node and stay there: offloads complete asynchronously, and a writer short of local memory
     * forces a flush of everything sealed, so the state is checked again once no flush runs.
     * Returns the next index.
     */
    private static int writeUntilRemoteOnly(DB d, int from, java.util.Map<String, String> model) throws Exception {
        int n = from;
        for (int round = 0; round < 50; round++) {
            while (n < 400000 && (n < 20000 || !remoteOnly(d))) {
                d.put(b(k(n)), b("v" + n));
                model.put(k(n), "v" + n);
                n++;
            }
            ((DBImpl) d).waitForRunningFlushes();
            if (remoteOnly(d)) {
                return n;
            }
        }
        throw new AssertionError("no shard stayed only on the node: " + d.property("o3.dm"));
    }

    /**
     * DM is soft state: with shards only on the node, a checkpoint (WAL cut, tables) and a read-only
     * open of the directory (no node attached) hold every write, from the files alone.
     */
    @Test
    void shouldCheckpointAndOpenReadOnlyWithShardsOnlyOnTheNode() throws Exception {
        Path db = dir.resolve("db");
        java.util.Map<String, String> model = new java.util.TreeMap<>();
        int n;
        try (DB d = DB.open(db, dmOptions())) {
            n = writeUntilRemoteOnly(d, 0, model);
            d.checkpoint(dir.resolve("ckpt"));
            d.put(b("after"), b("x")); // not in the checkpoint
            try (DB ro = DB.openReadOnly(db, dmOptions())) { // its memory-node setting is ignored
                for (int i = 0; i < n; i += 11) {
                    assertArrayEquals(b("v" + i), ro.get(b(k(i))), k(i));
                }
                assertArrayEquals(b("x"), ro.get(b("after")));
            }
        }
        try (DB c = DB.open(dir.resolve("ckpt"), Options.defaults().shardCount(4)); DBIterator it = c.iterator()) {
            int seen = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                assertEquals(model.get(str(it.key())), str(it.value()), str(it.key()));
                seen++;
            }
            assertEquals(n, seen, "every write, none after");
        }
    }

    private static String str(byte[] x) {
        return new String(x, StandardCharsets.UTF_8);
    }

    @Test
    void shouldIterateOffloadedShardsThroughDelegatedScans() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            long scansBefore = FakeMemoryNode.SCANS.get();
            try (DBIterator it = d.iterator()) {
                java.util.Iterator<java.util.Map.Entry<String, String>> want = model.entrySet().iterator();
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    java.util.Map.Entry<String, String> e = want.next();
                    assertEquals(e.getKey(), str(it.key()));
                    assertEquals(e.getValue(), str(it.value()));
                }
                assertTrue(!want.hasNext(), "forward scan saw every key");
                java.util.Iterator<java.util.Map.Entry<String, String>> back = model.descendingMap().entrySet().iterator();
                for (it.seekToLast(); it.isValid(); it.prev()) {
                    java.util.Map.Entry<String, String> e = back.next();
                    assertEquals(e.getKey(), str(it.key()));
                    assertEquals(e.getValue(), str(it.value()));
                }
                assertTrue(!back.hasNext(), "backward scan saw every key");
                java.util.Random rnd = new java.util.Random(7);
                for (int round = 0; round < 300; round++) {
                    String target = k(rnd.nextInt(model.size() * 2));
                    it.seek(b(target));
                    String at = model.ceilingKey(target);
                    for (int step = 0; step < 12; step++) {
                        if (at == null) {
                            assertTrue(!it.isValid(), "seek past the end");
                            break;
                        }
                        assertEquals(at, str(it.key()), "round " + round + " step " + step);
                        assertEquals(model.get(at), str(it.value()));
                        if (rnd.nextInt(3) == 0) {
                            it.prev();
                            at = model.lowerKey(at);
                        } else {
                            it.next();
                            at = model.higherKey(at);
                        }
                    }
                }
            }
            assertTrue(FakeMemoryNode.SCANS.get() > scansBefore, "iterators scanned on the node");
        }
    }

    @Test
    void shouldKeepScannedSegmentsUntilTheIteratorClosesEvenAfterAFlush() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            DBIterator it = d.iterator();
            it.seekToFirst();
            String first = str(it.key());
            d.flush(); // frees the flushed shards' segments, except those the open iterator reads
            ((DBImpl) d).waitForFlushes();
            assertTrue(FakeMemoryNode.SEGMENTS.size() > 0, "segments pinned by the iterator survive the flush");
            int count = 0;
            for (; it.isValid(); it.next()) {
                count++;
            }
            assertEquals(model.firstKey(), first);
            assertEquals(model.size(), count, "the iterator reads its whole view after the flush");
            it.close();
            long deadline = System.currentTimeMillis() + 10_000;
            while (!FakeMemoryNode.SEGMENTS.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, FakeMemoryNode.SEGMENTS.size(), "closing the last iterator frees the flushed segments");
        }
    }

    @Test
    void shouldFinishAnIteratorOverRebuiltShardsWhenTheNodeDiesMidScan() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            try (DBIterator it = d.iterator()) {
                java.util.Iterator<java.util.Map.Entry<String, String>> want = model.entrySet().iterator();
                int seen = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    java.util.Map.Entry<String, String> e = want.next();
                    assertEquals(e.getKey(), str(it.key()));
                    assertEquals(e.getValue(), str(it.value()));
                    if (++seen == 1000) {
                        FakeMemoryNode.kill(); // every offloaded byte is gone
                    }
                }
                assertTrue(!want.hasNext(), "the scan went on over shards rebuilt from the WAL");
            }
            assertTrue(d.property("o3.dm").matches(".*rebuiltFromWal=[1-9].*"), d.property("o3.dm"));
        }
    }

    @Test
    void shouldKeepAnIteratorOnItsRebuiltCopiesAfterScansFailedRepeatedlyWithTheNodeStillUp() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            try (DBIterator it = d.iterator()) {
                it.seekToFirst();
                assertEquals(model.firstKey(), str(it.key()));
                // failed scans in a row (the node stays attached): the third declares it lost
                FakeMemoryNode.FAIL_SCANS.set(3);
                java.util.Random rnd = new java.util.Random(11);
                for (int round = 0; round < 200; round++) {
                    String target = k(rnd.nextInt(model.size() * 2));
                    it.seek(b(target));
                    String at = model.ceilingKey(target);
                    for (int step = 0; step < 5 && at != null; step++) {
                        assertEquals(at, str(it.key()), "round " + round);
                        assertEquals(model.get(at), str(it.value()));
                        it.next();
                        at = model.higherKey(at);
                    }
                }
            }
            assertTrue(d.property("o3.dm").matches(".*rebuiltFromWal=[1-9].*"), d.property("o3.dm"));
        }
    }

    @Test
    void shouldNotTreatAnInterruptedReaderAsALostNode() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            try (DBIterator it = d.iterator()) {
                it.seekToFirst();
                FakeMemoryNode.FAIL_SCANS.set(1); // the scan fails as an interrupted wait would
                Thread.currentThread().interrupt();
                io.o3lsm.O3Exception e = org.junit.jupiter.api.Assertions.assertThrows(io.o3lsm.O3Exception.class, () -> {
                    for (int i = 0; i < model.size(); i++) {
                        it.next(); // until a batch is fetched
                    }
                });
                assertTrue(Thread.interrupted(), "the interrupt stays visible to the caller");
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            }
            d.put(b("after"), b("interrupt")); // no background error: writes go on
            assertArrayEquals(b("interrupt"), d.get(b("after")));
            assertTrue(d.property("o3.dm").contains("rebuiltFromWal=0"), d.property("o3.dm"));
            try (DBIterator it = d.iterator()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    n++;
                }
                assertEquals(model.size() + 1, n);
            }
        }
    }

    @Test
    void shouldRebuildAShardWhoseReadBackFailsItsChecksumBeforeFlushingIt() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            java.util.TreeMap<String, String> model = fillUntilRemoteOnly(d);
            for (byte[] seg : FakeMemoryNode.SEGMENTS.values()) {
                seg[seg.length / 2] ^= 0x5a; // damaged on the node after COMMIT
            }
            d.flush(); // reads the shards back: the CRC32C check sends them to the WAL instead
            ((DBImpl) d).waitForFlushes();
            assertTrue(d.property("o3.dm").matches(".*rebuiltFromWal=[1-9].*"), d.property("o3.dm"));
            for (java.util.Map.Entry<String, String> e : model.entrySet()) {
                assertEquals(e.getValue(), str(d.get(b(e.getKey()))), e.getKey());
            }
        }
    }

    @Test
    void shouldGiveConsistentScansWhileWritesOffloadAndFlushShards() throws Exception {
        int n = 20000;
        try (DB d = DB.open(dir.resolve("db"), dmOptions())) {
            for (int i = 0; i < n; i++) {
                d.put(b(k(i)), b(k(i) + ":0"));
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicLong scans = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                java.util.Random rnd = new java.util.Random(1);
                try {
                    for (int v = 1; !stop.get(); v++) { // overwrites only: every scan must see all n keys
                        int i = rnd.nextInt(n);
                        d.put(b(k(i)), b(k(i) + ":" + v));
                        if (v % 20000 == 0) {
                            d.flush();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            List<Thread> readers = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                readers.add(new Thread(() -> {
                    java.util.Random rnd = new java.util.Random(100 + seed);
                    try {
                        while (!stop.get()) {
                            try (DBIterator it = d.iterator()) {
                                boolean forward = rnd.nextBoolean();
                                String prev = null;
                                int count = 0;
                                for (if0(it, forward); it.isValid(); step(it, forward)) {
                                    String key = str(it.key());
                                    if (prev != null && (forward ? key.compareTo(prev) <= 0 : key.compareTo(prev) >= 0)) {
                                        throw new AssertionError("out of order: " + prev + " then " + key);
                                    }
                                    if (!str(it.value()).startsWith(key + ":")) {
                                        throw new AssertionError("value " + str(it.value()) + " under key " + key);
                                    }
                                    prev = key;
                                    count++;
                                    if (count % 5000 == 0) {
                                        Thread.yield(); // let flushes retire the shards this scan reads
                                    }
                                }
                                if (count != n) {
                                    throw new AssertionError("scan saw " + count + " of " + n + " keys");
                                }
                                scans.incrementAndGet();
                            }
                        }
                    } catch (Throwable t2) {
                        failure.compareAndSet(null, t2);
                    }
                }));
            }
            writer.start();
            readers.forEach(Thread::start);
            long deadline = System.currentTimeMillis() + 2500;
            while (System.currentTimeMillis() < deadline && failure.get() == null) {
                Thread.sleep(20);
            }
            stop.set(true);
            writer.join(30_000);
            for (Thread r : readers) {
                r.join(30_000);
            }
            if (failure.get() != null) {
                throw new AssertionError("failed after " + scans.get() + " scans: " + failure.get(), failure.get());
            }
            System.out.println("concurrent scans: " + scans.get() + " full scans, " + d.property("o3.dm"));
            assertTrue(scans.get() >= 2, "scans completed: " + scans.get());
            assertTrue(FakeMemoryNode.SCANS.get() > 0, "some scans were delegated: " + d.property("o3.dm"));
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!FakeMemoryNode.SEGMENTS.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }

    private static void if0(DBIterator it, boolean forward) {
        if (forward) {
            it.seekToFirst();
        } else {
            it.seekToLast();
        }
    }

    private static void step(DBIterator it, boolean forward) {
        if (forward) {
            it.next();
        } else {
            it.prev();
        }
    }
}
