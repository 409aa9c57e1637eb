package io.o3lsm.dm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DM mode of DB.open against a real memory-node process over UCX: offload, delegated reads,
 * flush of offloaded shards, and a memory node killed with SIGKILL under write load with nothing
 * acknowledged lost.
 */
@Tag("dm")
class DmDbProcessTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    /** Without the read cache: these tests prove delegated gets (the cached path: {@link #options(int, Path, long)}). */
    private Options options(int port, Path secret) {
        return options(port, secret, 0);
    }

    private Options options(int port, Path secret, long readCacheBytes) {
        return Options.defaults().shardCount(4).shardArenaSize(256 << 10).writeBufferSize(16 << 20)
                .memoryNode("127.0.0.1:" + port, secret).localMemoryBudget(5 * (256 << 10)).dmBudget(256L << 20)
                .targetFileSize(4 << 20).dmReadCacheBytes(readCacheBytes).dmReadFlushTrigger(0);
    }

    @Test
    void shouldServeGetsByOneSidedReadsOfCachedLocationsAndKeepThemRightWhenTheNodeIsKilled() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-6");
        MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
        try (DB db = DB.open(dir.resolve("db"), options(port, secret, 64L << 20))) {
            waitAttached(db);
            int total = writeUntilRemoteOnly(db);
            assertTrue(field(dmProperty(db), "remoteOnlyShards") > 0, dmProperty(db));
            for (int i = 0; i < total; i += 3) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
            }
            String p = dmProperty(db);
            System.out.println("after " + total + " puts and reads: " + p);
            assertTrue(field(p, "cachedGets") > 0 && field(p, "cachedReads") >= field(p, "cachedGets"), p);
            assertTrue(field(p, "readCacheTables") > 0, p);
            // absent keys are answered from the tables without any remote read
            long reads = field(p, "cachedReads");
            long delegated = field(p, "delegatedGets");
            for (int i = 0; i < 2000; i++) {
                assertEquals(null, db.get(b("absent-" + i)));
            }
            p = dmProperty(db);
            assertTrue(field(p, "cachedReads") - reads < 20, "fingerprint collisions only: " + p);
            assertTrue(field(p, "delegatedGets") - delegated < 20, p);
            // multiGet: the keys' one-sided reads (or delegated gets, as the read choice says) go together
            multiGets(db, total, new java.util.Random(3));
            p = dmProperty(db);
            if (field(p, "remoteOnlyShards") > 0) { // still on the node at the end, so all along (no flush since)
                assertTrue(field(p, "batchedReads") + field(p, "batchedGets") > 0, p);
            }

            node.kill9();
            node.waitForExit();
            multiGets(db, total, new java.util.Random(4));
            for (int i = 0; i < total; i += 2) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i) + " after the node was killed");
            }
            // (over shared memory a one-sided read may still find a dead node's bytes mapped: immutable, so right)
            System.out.println("after the kill: " + dmProperty(db));
        } finally {
            node.close();
        }
    }

    /** multiGets of 30 written keys and a few absent ones, each checked. */
    private static void multiGets(DB db, int written, java.util.Random rnd) {
        for (int round = 0; round < 50; round++) {
            java.util.List<byte[]> keys = new java.util.ArrayList<>();
            java.util.List<byte[]> want = new java.util.ArrayList<>();
            for (int j = 0; j < 30; j++) {
                int i = rnd.nextInt(written + 100);
                keys.add(b(k(i)));
                want.add(i < written ? b("value-" + i) : null);
            }
            java.util.List<byte[]> got = db.multiGet(io.o3lsm.ReadOptions.defaults(), keys);
            for (int j = 0; j < keys.size(); j++) {
                assertArrayEquals(want.get(j), got.get(j), str(keys.get(j)));
            }
        }
    }

    private static String dmProperty(DB db) {
        return db.property("o3.dm");
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    /** Writes {@code value-i} under {@code k(i)} until some shards live only on the node (offloads complete asynchronously); returns how many. */
    private static int writeUntilRemoteOnly(DB db) {
        int total = 0;
        while (total < 600000 && (total < 60000 || field(dmProperty(db), "remoteOnlyShards") == 0)) {
            db.put(b(k(total)), b("value-" + total));
            total++;
        }
        return total;
    }

    private static void waitAttached(DB db) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!dmProperty(db).contains("attached=true") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(dmProperty(db).contains("attached=true"), dmProperty(db));
    }

    @Test
    void shouldExtendTheWriteBufferIntoTheMemoryNodeAndServeReadsFromIt() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-1");
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                DB db = DB.open(dir.resolve("db"), options(port, secret))) {
            waitAttached(db);
            // offloads complete asynchronously: write until some shards live only on the node
            int total = writeUntilRemoteOnly(db);
            final int written = total;
            String p = dmProperty(db);
            System.out.println("after " + written + " puts: " + p);
            assertTrue(field(p, "offloads") > 0 && field(p, "droppedLocal") > 0, p);
            assertTrue(field(p, "remoteOnlyShards") > 0, p);
            // the hex keys use the default ranges unevenly: the boundaries moved, and the node took
            // the shards of the new layout (their shard-id names layout 1, which COMMIT checks)
            String shards = db.property("o3.shards");
            assertTrue(shards.matches(".*layoutChanges=[1-9].*"), shards);
            for (int i = 0; i < written; i += 11) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
            }
            assertTrue(field(dmProperty(db), "delegatedGets") > 0, dmProperty(db));
            // multiGet: the keys the node holds are asked for in MULTI_GETs, with absent keys among them
            java.util.Random rnd = new java.util.Random(7);
            for (int round = 0; round < 50; round++) {
                java.util.List<byte[]> keys = new java.util.ArrayList<>();
                for (int j = 0; j < 40; j++) {
                    keys.add(b(k(rnd.nextInt(written + 500))));
                }
                java.util.List<byte[]> got = db.multiGet(io.o3lsm.ReadOptions.defaults(), keys);
                for (int j = 0; j < keys.size(); j++) {
                    assertArrayEquals(db.get(keys.get(j)), got.get(j), str(keys.get(j)));
                }
            }
            p = dmProperty(db);
            if (field(p, "remoteOnlyShards") > 0) { // still on the node at the end, so all along (no flush since)
                assertTrue(field(p, "multiGets") > 0 && field(p, "batchedGets") > 0, p);
            }
            java.util.TreeMap<String, String> model = model(written);
            long scansBefore = field(dmProperty(db), "delegatedScans");
            try (DBIterator it = db.iterator()) {
                java.util.Iterator<java.util.Map.Entry<String, String>> want = model.entrySet().iterator();
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    java.util.Map.Entry<String, String> e = want.next();
                    assertEquals(e.getKey(), str(it.key()));
                    assertEquals(e.getValue(), str(it.value()));
                }
                assertTrue(!want.hasNext(), "the forward scan saw every key");
                java.util.Iterator<String> back = model.descendingKeySet().iterator();
                for (it.seekToLast(); it.isValid(); it.prev()) {
                    assertEquals(back.next(), str(it.key()));
                }
                assertTrue(!back.hasNext(), "the backward scan saw every key");
            }
            assertTrue(field(dmProperty(db), "delegatedScans") > scansBefore, dmProperty(db));
            assertTrue(field(dmProperty(db), "scanBatchesAhead") > 0, dmProperty(db)); // the whole-range scans went ahead
            db.flush(); // reads offloaded shards back from the node
            for (int i = 0; i < written; i += 13) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
            }
        }
    }

    private static java.util.TreeMap<String, String> model(int written) {
        java.util.TreeMap<String, String> model = new java.util.TreeMap<>();
        for (int i = 0; i < written; i++) {
            model.put(k(i), "value-" + i);
        }
        return model;
    }

    private static String str(byte[] x) {
        return new String(x, StandardCharsets.UTF_8);
    }

    @Test
    void shouldFinishAScanWhenTheMemoryNodeIsKilledMidway() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-3");
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                DB db = DB.open(dir.resolve("db"), options(port, secret))) {
            waitAttached(db);
            int total = writeUntilRemoteOnly(db);
            assertTrue(field(dmProperty(db), "remoteOnlyShards") > 0, dmProperty(db));
            java.util.TreeMap<String, String> model = model(total);
            try (DBIterator it = db.iterator()) {
                java.util.Iterator<java.util.Map.Entry<String, String>> want = model.entrySet().iterator();
                int seen = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    java.util.Map.Entry<String, String> e = want.next();
                    assertEquals(e.getKey(), str(it.key()));
                    assertEquals(e.getValue(), str(it.value()));
                    if (++seen == 2000) {
                        node.kill9(); // the shards the scan reads are gone with it
                        node.waitForExit();
                    }
                }
                assertTrue(!want.hasNext(), "the scan went on over shards rebuilt from the WAL");
            }
            String p = dmProperty(db);
            System.out.println("scan finished after the kill: " + p);
            assertTrue(field(p, "rebuiltFromWal") > 0, p);
        }
    }

    @Test
    void shouldLoseNothingAcknowledgedWhenTheMemoryNodeIsKilledUnderLoad() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-2");
        Path dbDir = dir.resolve("db");
        MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
        AtomicInteger acked = new AtomicInteger();
        try (DB db = DB.open(dbDir, options(port, secret))) {
            waitAttached(db);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        db.put(b(k(i)), b("value-" + i));
                        acked.set(i + 1);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            while (acked.get() < 40000 && failure.get() == null) {
                Thread.sleep(5);
            }
            long offloadsBefore = field(dmProperty(db), "offloads");
            System.out.println("before kill: " + dmProperty(db));
            node.kill9(); // every offloaded shard is gone with it
            node.waitForExit();
            int atKill = acked.get();
            while (acked.get() < atKill + 40000 && failure.get() == null) {
                Thread.sleep(5); // writes go on without the node
            }
            stop.set(true);
            writer.join(30_000);
            assertTrue(failure.get() == null, "writer failed: " + failure.get());
            assertTrue(offloadsBefore > 0, "shards were offloaded before the kill: " + dmProperty(db));
            int n = acked.get();
            for (int i = 0; i < n; i++) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i) + " (of " + n + " acknowledged)");
            }
            System.out.println("after kill, " + n + " acknowledged writes verified: " + dmProperty(db));
            // the node comes back: the DB re-attaches and offloads again
            node = new MemNodeProcess(dir, port, "512m", secret).start();
            waitAttached(db);
            long before = field(dmProperty(db), "offloads");
            long deadline = System.nanoTime() + 20_000_000_000L;
            for (int i = n; field(dmProperty(db), "offloads") == before && System.nanoTime() < deadline; i++) {
                db.put(b(k(i)), b("value-" + i));
            }
            assertTrue(field(dmProperty(db), "offloads") > before, "offloading resumed: " + dmProperty(db));
        } finally {
            node.close();
        }
        try (DB db = DB.open(dbDir, Options.defaults())) {
            int n = acked.get();
            for (int i = 0; i < n; i += 3) {
                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
            }
        }
    }

    /**
     * A log handler that counts the engine's "slow memory-node request" reports in {@code slow} and
     * resumes the stopped node (SIGCONT) at the first: no timing guess decides when it comes back.
     */
    private static java.util.logging.Handler resumeOnFirstSlowRequest(MemNodeProcess node, AtomicInteger slow) {
        return new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("slow memory-node request")
                        && slow.getAndIncrement() == 0) {
                    try {
                        signal(node, "CONT");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
    }

    private static void signal(MemNodeProcess node, String sig) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(node.pid())).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    @Test
    void shouldRideOutAMemoryNodeThatStallsForOneRequest() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-4");
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.o3lsm");
        java.util.logging.Level level = log.getLevel();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                DB db = DB.open(dir.resolve("db"), options(port, secret).dmRequestTimeout(java.time.Duration.ofSeconds(2)))) {
            waitAttached(db);
            int total = writeUntilRemoteOnly(db);
            long remoteOnly = field(dmProperty(db), "remoteOnlyShards");
            assertTrue(remoteOnly > 0, dmProperty(db));
            // the node stalls (SIGSTOP) and resumes (SIGCONT) as soon as the engine reports the first
            // request that timed out as slow: no timing guess decides when it comes back
            AtomicInteger slow = new AtomicInteger();
            java.util.logging.Handler resume = resumeOnFirstSlowRequest(node, slow);
            log.setLevel(java.util.logging.Level.FINE);
            log.addHandler(resume);
            long getsBefore = field(dmProperty(db), "delegatedGets");
            signal(node, "STOP");
            try {
                for (int i = 0; i < total; i += 7) {
                    assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
                }
            } finally {
                log.removeHandler(resume);
                log.setLevel(level);
                signal(node, "CONT");
            }
            String p = dmProperty(db);
            System.out.println("after one stalled request: " + p);
            // a flush still running from the fill may meet the stall too (its read-back is slow as
            // well, and its install may change how many shards are remote-only): what must hold is
            // that the stall was seen as slow, nothing was rebuilt, and the node is still in use
            assertTrue(slow.get() >= 1, "the stalled request was reported as slow");
            assertTrue(field(p, "delegatedGets") > getsBefore, p);
            assertEquals(0, field(p, "rebuiltFromWal"), "one stall rebuilt nothing: " + p);
            assertTrue(p.contains("attached=true"), p);
        }
    }
    /**
     * Three readers wait on the same stalled node; their requests time out together. That is one
     * stall, not three signs of a lost node: nothing is rebuilt. The node resumes as soon as the
     * engine reports the first slow request, and the readers stop after each has read again.
     */
    @Test
    void shouldTreatOneStallSeenByConcurrentReadersAsOneSlowRequest() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-5");
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.o3lsm");
        java.util.logging.Level level = log.getLevel();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
                DB db = DB.open(dir.resolve("db"), options(port, secret).dmRequestTimeout(java.time.Duration.ofSeconds(2)))) {
            waitAttached(db);
            int total = writeUntilRemoteOnly(db);
            assertTrue(field(dmProperty(db), "remoteOnlyShards") > 0, dmProperty(db));
            AtomicInteger slow = new AtomicInteger();
            java.util.logging.Handler resume = resumeOnFirstSlowRequest(node, slow);
            int readers = 3;
            int n = total;
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicLongArray reads = new java.util.concurrent.atomic.AtomicLongArray(readers);
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            log.setLevel(java.util.logging.Level.FINE);
            log.addHandler(resume);
            try {
                for (int t = 0; t < readers; t++) {
                    int id = t;
                    Thread th = new Thread(() -> {
                        try {
                            for (int i = id; !stop.get(); i = (i + readers * 7) % n) {
                                assertArrayEquals(b("value-" + i), db.get(b(k(i))), k(i));
                                reads.incrementAndGet(id);
                            }
                        } catch (Throwable x) {
                            failure.compareAndSet(null, x);
                        }
                    }, "reader-" + t);
                    th.start();
                    threads.add(th);
                }
                for (int t = 0; t < readers; t++) { // every reader is reading before the stall
                    while (reads.get(t) < 10 && failure.get() == null) {
                        Thread.onSpinWait();
                    }
                }
                signal(node, "STOP");
                while (slow.get() == 0 && failure.get() == null) {
                    Thread.sleep(10); // the first request times out after dmRequestTimeout
                }
                long[] atResume = new long[readers];
                for (int t = 0; t < readers; t++) {
                    atResume[t] = reads.get(t);
                }
                for (int t = 0; t < readers; t++) { // each reader reads again after the stall
                    while (reads.get(t) < atResume[t] + 10 && failure.get() == null) {
                        Thread.sleep(1);
                    }
                }
            } finally {
                stop.set(true);
                signal(node, "CONT");
                for (Thread th : threads) {
                    th.join();
                }
                log.removeHandler(resume);
                log.setLevel(level);
            }
            assertEquals(null, failure.get());
            String p = dmProperty(db);
            System.out.println("after one stall seen by " + readers + " readers (" + slow.get() + " slow reports): " + p);
            assertEquals(0, field(p, "rebuiltFromWal"), "one stall seen by several readers rebuilt shards: " + p);
            assertTrue(p.contains("attached=true"), p);
        }
    }
}
