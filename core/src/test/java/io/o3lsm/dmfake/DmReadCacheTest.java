package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.db.DBImpl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read cache of entry locations in offloaded shards, and the one-sided reads it serves, against
 * a model: gets answer what the model holds while shards are offloaded, flushed (their segments
 * freed), evicted from a full cache, and rebuilt after the node is lost; reads at a snapshot older
 * than a cached entry fall back to delegation; no read ever touches a freed segment. Against the
 * in-process {@link FakeMemoryNode}; the dm module's process tests run the same path over UCX.
 */
class DmReadCacheTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Options options(long cacheBytes) throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(8 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(5 * (64 << 10)).dmBudget(64L << 20)
                .targetFileSize(1 << 20).dmReadCacheBytes(cacheBytes).dmReadFlushTrigger(0);
    }

    private static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    static long field(DB d, String name) {
        String p = d.property("o3.dm");
        Matcher m = Pattern.compile(name + "=(\\d+)").matcher(p);
        assertTrue(m.find(), name + " in " + p);
        return Long.parseLong(m.group(1));
    }

    /** Puts, overwrites, deletes and range deletes at random, checking a sample of keys against the model as it goes. */
    private static void randomOps(DB d, TreeMap<String, String> model, Random rnd, int ops, int keySpace) {
        for (int i = 0; i < ops; i++) {
            int r = rnd.nextInt(100);
            String key = k(rnd.nextInt(keySpace));
            if (r < 80) {
                String v = "v" + i + "-" + "x".repeat(rnd.nextInt(40));
                d.put(b(key), b(v));
                model.put(key, v);
            } else if (r < 97) {
                d.delete(b(key));
                model.remove(key);
            } else {
                String end = k(rnd.nextInt(keySpace));
                if (key.compareTo(end) > 0) {
                    String t = key;
                    key = end;
                    end = t;
                }
                if (key.equals(end)) {
                    continue;
                }
                d.deleteRange(b(key), b(end), WriteOptions.defaults());
                model.subMap(key, end).clear();
            }
        }
    }

    private static void assertModel(DB d, Map<String, String> model, int keySpace, ReadOptions ro) {
        for (int i = 0; i < keySpace; i++) {
            String v = model.get(k(i));
            byte[] got = d.get(ro, b(k(i)));
            if (v == null) {
                assertNull(got, k(i));
            } else {
                assertArrayEquals(b(v), got, k(i));
            }
        }
    }

    @Test
    void shouldAnswerGetsFromCachedLocationsAsTheModelWhileShardsOffloadFlushAndTheNodeIsLost() throws Exception {
        int keySpace = 6000;
        Random rnd = new Random(20261206L);
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20))) {
            ((DBImpl) d).forceRemoteReadChoice(true); // these gets must take the cached path, whatever it measures
            for (int round = 0; round < 6; round++) {
                randomOps(d, model, rnd, 15_000, keySpace);
                assertModel(d, model, keySpace, ReadOptions.defaults());
                if (round == 3) {
                    // Offloads and flushes complete asynchronously: a flush running when the node is killed
                    // may free every shard only the node held, and then no read finds the node gone. Go on
                    // (more writes, another kill) until a read found it gone and shards were rebuilt.
                    for (int attempt = 0; attempt < 20 && field(d, "rebuiltFromWal") == 0; attempt++) {
                        ((DBImpl) d).waitForRunningFlushes();
                        for (int more = 0; more < 100 && field(d, "remoteOnlyShards") == 0; more++) {
                            randomOps(d, model, rnd, 500, keySpace);
                            ((DBImpl) d).waitForRunningFlushes();
                        }
                        assertTrue(field(d, "remoteOnlyShards") > 0, d.property("o3.dm"));
                        FakeMemoryNode.kill(); // the next remote read finds it gone: shards are rebuilt from the WAL
                        assertModel(d, model, keySpace, ReadOptions.defaults());
                        FakeMemoryNode.revive();
                        if (field(d, "rebuiltFromWal") == 0) {
                            randomOps(d, model, rnd, 2_000, keySpace);
                        }
                    }
                    assertTrue(field(d, "rebuiltFromWal") > 0, d.property("o3.dm"));
                }
            }
            ((DBImpl) d).waitForRunningFlushes();
            assertModel(d, model, keySpace, ReadOptions.defaults());
            assertTrue(field(d, "cachedGets") > 0, d.property("o3.dm"));
            assertTrue(field(d, "rebuiltFromWal") > 0, d.property("o3.dm"));
            assertTrue(FakeMemoryNode.READS.get() > 0);
            assertEquals(0, FakeMemoryNode.READS_OF_FREED.get(), "no one-sided read of a freed segment");
        }
    }

    @Test
    void shouldReadAtASnapshotOlderThanTheCachedEntryByDelegation() throws Exception {
        int keySpace = 3000;
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20))) {
            for (int i = 0; i < keySpace; i++) {
                d.put(b(k(i)), b("old" + i));
            }
            try (Snapshot s = d.snapshot()) {
                // overwrite everything until the new versions sit in shards that only the node holds
                for (int round = 0; round < 20 && field(d, "remoteOnlyShards") == 0; round++) {
                    for (int i = 0; i < keySpace; i++) {
                        d.put(b(k(i)), b("new" + i + "-" + round));
                    }
                    ((DBImpl) d).waitForRunningFlushes();
                }
                assertTrue(field(d, "remoteOnlyShards") > 0, "the new versions sit in shards only the node holds: "
                        + d.property("o3.dm"));
                ReadOptions at = ReadOptions.defaults().snapshot(s);
                long fallbacks = field(d, "cachedFallbacks");
                for (int i = 0; i < keySpace; i++) {
                    assertArrayEquals(b("old" + i), d.get(at, b(k(i))), k(i));
                }
                assertTrue(field(d, "cachedFallbacks") > fallbacks, "entries newer than the snapshot were delegated: "
                        + d.property("o3.dm"));
            }
        }
    }

    @Test
    void shouldDelegateLookupsInCachedShardsWhileOneSidedReadsMeasureSlowerAndReturnWhenTheyRecover()
            throws Exception {
        int keySpace = 6000;
        Random rnd = new Random(11);
        TreeMap<String, String> model = new TreeMap<>();
        // fixed boundaries: a move would leave fewer, smaller shards only the node holds
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20).adaptiveShardBoundaries(false))) {
            randomOps(d, model, rnd, 20_000, keySpace);
            ((DBImpl) d).waitForRunningFlushes(); // a flush still running would free shards counted below
            for (int more = 0; more < 100 && field(d, "remoteOnlyShards") < 3; more++) {
                randomOps(d, model, rnd, 500, keySpace);
                ((DBImpl) d).waitForRunningFlushes();
            }
            assertTrue(field(d, "remoteOnlyShards") >= 3, d.property("o3.dm"));
            assertModel(d, model, keySpace, ReadOptions.defaults()); // both paths measured (probes)
            // one-sided reads become 2 ms slower than delegated gets: lookups delegate, answers unchanged
            FakeMemoryNode.READ_DELAY_NANOS = 2_000_000;
            long cached0 = field(d, "cachedReads");
            long delegated0 = field(d, "cachedDelegated");
            long slowCached = 0;
            long slowDelegated = 0;
            for (int pass = 0; pass < 50 && slowCached + slowDelegated < 300; pass++) {
                assertModel(d, model, keySpace, ReadOptions.defaults());
                slowCached = field(d, "cachedReads") - cached0;
                slowDelegated = field(d, "cachedDelegated") - delegated0;
            }
            assertTrue(slowDelegated > 4 * slowCached, "mostly delegated while one-sided reads are slow: "
                    + slowDelegated + " delegated, " + slowCached + " one-sided; " + d.property("o3.dm"));
            // they recover: the probes (one choice in 64) notice, and one-sided reads take over again
            FakeMemoryNode.READ_DELAY_NANOS = 0;
            long fastCached = 0;
            long fastDelegated = 0;
            for (int pass = 0; pass < 200 && fastCached <= 4 * fastDelegated; pass++) {
                long cached1 = field(d, "cachedReads");
                long delegated1 = field(d, "cachedDelegated");
                assertModel(d, model, keySpace, ReadOptions.defaults());
                fastCached = field(d, "cachedReads") - cached1;
                fastDelegated = field(d, "cachedDelegated") - delegated1;
            }
            assertTrue(fastCached > 4 * fastDelegated, "mostly one-sided again: " + fastCached + " one-sided, "
                    + fastDelegated + " delegated; " + d.property("o3.dm"));
        }
    }

    @Test
    void shouldEvictTheOldestShardsWhenTheCacheIsFullAndStillAnswerAsTheModel() throws Exception {
        int keySpace = 8000;
        Random rnd = new Random(7);
        TreeMap<String, String> model = new TreeMap<>();
        // room for about two shards' tables; fixed boundaries: a move of them would seal small shards
        // whose tables crowd the cache in an order this test does not control
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(24 << 10).adaptiveShardBoundaries(false))) {
            ((DBImpl) d).forceRemoteReadChoice(true); // these gets must take the cached path, whatever it measures
            randomOps(d, model, rnd, 40_000, keySpace);
            assertModel(d, model, keySpace, ReadOptions.defaults());
            assertTrue(field(d, "readCacheEvicted") > 0, d.property("o3.dm"));
            assertTrue(field(d, "readCacheBytes") <= 24 << 10, d.property("o3.dm"));
            // then distinct keys until some shard only the node holds has no table: it is read by delegation
            int n = 0;
            ((DBImpl) d).waitForRunningFlushes(); // a flush still running would free shards counted below
            for (int round = 0; round < 50 && field(d, "remoteOnlyShards") <= field(d, "readCacheTables"); round++) {
                for (int end = n + 2000; n < end; n++) {
                    String key = "z" + k(n);
                    d.put(b(key), b("w" + n));
                    model.put(key, "w" + n);
                }
                ((DBImpl) d).waitForRunningFlushes();
            }
            String p = d.property("o3.dm");
            assertTrue(field(d, "remoteOnlyShards") > field(d, "readCacheTables"), p);
            long delegated = field(d, "delegatedGets");
            // the tables left may all belong to shards still held locally too (their gets are local):
            // then more shards go to the node until one with a table is only there
            for (int round = 0; round < 20; round++) {
                for (Map.Entry<String, String> e : model.entrySet()) {
                    assertArrayEquals(b(e.getValue()), d.get(b(e.getKey())), e.getKey());
                }
                if (field(d, "cachedGets") > 0) {
                    break;
                }
                for (int end = n + 2000; n < end; n++) {
                    String key = "z" + k(n);
                    d.put(b(key), b("w" + n));
                    model.put(key, "w" + n);
                }
                ((DBImpl) d).waitForRunningFlushes();
            }
            p = d.property("o3.dm");
            assertTrue(field(d, "cachedGets") > 0, "the tables that fit serve gets: " + p);
            assertTrue(field(d, "delegatedGets") > delegated, "shards without a table delegate: " + p);
            assertTrue(field(d, "readCacheBytes") <= 24 << 10, p);
            assertEquals(0, FakeMemoryNode.READS_OF_FREED.get());
        }
    }

    @Test
    void shouldFindAPutNewerThanItsShardsRangeTombstoneWhenANewerShardIsAskedFirst() throws Exception {
        // one key range: its shards seal one after another, m before n
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20).shardCount(1))) {
            // the path under test is the one-sided read's; the measured choice may prefer delegation
            ((DBImpl) d).forceRemoteReadChoice(true);
            String target = "k-target";
            d.deleteRange(b(target), b(target + "\0")); // shard m: a tombstone covering the key ...
            d.put(b(target), b("v2")); // ... and a newer put of it
            int n = 0;
            for (int chunk = 0; chunk < 100 && field(d, "remoteOnlyShards") == 0; chunk++) {
                for (int end = n + 200; n < end; n++) {
                    d.put(b(k(n)), b("filler-" + n)); // seals m, offloads it, drops its local copy
                }
            }
            try (Snapshot s = d.snapshot()) {
                long remoteAtSnapshot = field(d, "remoteOnlyShards");
                d.put(b(target), b("v3")); // shard n, newer than the snapshot
                for (int chunk = 0; chunk < 100 && field(d, "remoteOnlyShards") < remoteAtSnapshot + 6; chunk++) {
                    for (int end = n + 200; n < end; n++) {
                        d.put(b(k(n)), b("filler-" + n));
                    }
                }
                ((DBImpl) d).waitForRunningFlushes();
                long fallbacks = field(d, "cachedFallbacks");
                long gets = field(d, "cachedGets");
                assertArrayEquals(b("v2"), d.get(ReadOptions.defaults().snapshot(s), b(target)), d.property("o3.dm"));
                assertArrayEquals(b("v3"), d.get(b(target)));
                // the path under test ran: n's entry was too new for the snapshot (delegated), m's was read
                assertTrue(field(d, "cachedFallbacks") > fallbacks && field(d, "cachedGets") > gets,
                        d.property("o3.dm"));
            }
        }
    }

    @Test
    void shouldDelegateWhenAOneSidedReadFails() throws Exception {
        int keySpace = 3000;
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20))) {
            for (int round = 0; round < 20 && field(d, "remoteOnlyShards") == 0; round++) {
                for (int i = 0; i < keySpace; i++) {
                    d.put(b(k(i)), b("v" + i + "-" + round));
                }
                ((DBImpl) d).waitForRunningFlushes();
            }
            assertTrue(field(d, "remoteOnlyShards") > 0, d.property("o3.dm"));
            FakeMemoryNode.FAIL_READS.set(Long.MAX_VALUE);
            long gets = FakeMemoryNode.GETS.get();
            for (int i = 0; i < keySpace; i++) {
                assertTrue(new String(d.get(b(k(i))), StandardCharsets.UTF_8).startsWith("v" + i + "-"), k(i));
            }
            assertTrue(FakeMemoryNode.GETS.get() > gets, "failed reads were delegated");
            assertEquals(0, field(d, "rebuiltFromWal"), "a failed one-sided read is not a lost node");
        }
    }

    @Test
    void shouldNeverReadAFreedSegmentWhileFlushesFreeThemUnderConcurrentGets() throws Exception {
        int keySpace = 4000;
        try (DB d = FakeMemoryNode.openAttached(dir.resolve("db"), options(64L << 20))) {
            ((DBImpl) d).forceRemoteReadChoice(true); // these gets must take the cached path, whatever it measures
            for (int i = 0; i < keySpace; i++) {
                d.put(b(k(i)), b(k(i) + "#0"));
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            long stopAt = System.nanoTime() + 3_000_000_000L;
            for (int t = 0; t < 2; t++) {
                int seed = t;
                Thread r = new Thread(() -> {
                    Random rnd = new Random(seed);
                    try {
                        while (System.nanoTime() < stopAt && failure.get() == null) {
                            String key = k(rnd.nextInt(keySpace));
                            byte[] v = d.get(b(key));
                            String s = v == null ? null : new String(v, StandardCharsets.UTF_8);
                            if (s == null || !s.startsWith(key + "#")) {
                                throw new AssertionError(key + " read as " + s);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                r.start();
                readers.add(r);
            }
            for (int round = 1; System.nanoTime() < stopAt && failure.get() == null; round++) {
                for (int i = 0; i < keySpace; i++) {
                    d.put(b(k(i)), b(k(i) + "#" + round)); // sealed shards offload, flush and are freed meanwhile
                }
            }
            for (Thread r : readers) {
                r.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertTrue(field(d, "cachedGets") > 0, d.property("o3.dm"));
            assertEquals(0, FakeMemoryNode.READS_OF_FREED.get(), "no one-sided read of a freed segment");
        }
    }
}
