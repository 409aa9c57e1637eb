package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * multiGet in DM mode (in-process {@link FakeMemoryNode}): keys whose search reaches the memory
 * node are asked for in one multiGet of the client, and every answer equals the model's, at the
 * current sequence and at a snapshot, with point deletes and range deletes in offloaded shards,
 * with and without the read cache, and after the node is lost.
 */
class DmMultiGetTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Options options(long cacheBytes) throws Exception {
        // fixed boundaries: a move of adaptive ones can flush the old layout's shards, and these tests need
        // shards that stay on the node (the decimal keys all fall in one range then)
        return FakeMemoryNode.options(dir, cacheBytes).adaptiveShardBoundaries(false);
    }

    private static byte[] key(int k) {
        return b(String.format("%08d", k));
    }

    /** Asks for random batches of keys (present, deleted, never written) and checks each against the model. */
    private static void check(DB db, ReadOptions ro, TreeMap<byte[], byte[]> model, Random rnd, int batches) {
        for (int n = 0; n < batches; n++) {
            List<byte[]> keys = new ArrayList<>();
            int size = 1 + rnd.nextInt(64);
            for (int i = 0; i < size; i++) {
                keys.add(key(rnd.nextInt(12_000)));
            }
            List<byte[]> got = db.multiGet(ro, keys);
            assertEquals(keys.size(), got.size());
            for (int i = 0; i < keys.size(); i++) {
                byte[] k = keys.get(i);
                assertArrayEquals(model.get(k), got.get(i), () -> "multiGet of " + new String(k));
                assertArrayEquals(got.get(i), db.get(ro, k), () -> "get of " + new String(k));
            }
        }
    }

    private void run(long cacheBytes) throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Random rnd = new Random(cacheBytes + 5);
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"), options(cacheBytes))) {
            for (int i = 0; i < 30_000; i++) {
                int k = rnd.nextInt(10_000);
                byte[] v = b("v" + i + "-" + "x".repeat(rnd.nextInt(40)));
                db.put(key(k), v);
                model.put(key(k), v);
                if (i % 40 == 0) {
                    db.delete(key(k));
                    model.remove(key(k));
                }
                if (i % 5_000 == 4_999) {
                    int from = rnd.nextInt(10_000);
                    db.deleteRange(key(from), key(from + 50));
                    model.subMap(key(from), key(from + 50)).clear();
                }
            }
            String dm = db.property("o3.dm");
            assertTrue(dm.matches(".*remoteOnlyShards=[1-9].*"), dm);
            if (cacheBytes > 0) {
                // one-sided reads win: a multiGet posts its keys' reads together
                check(db, ReadOptions.defaults(), model, rnd, 100);
                dm = db.property("o3.dm");
                assertTrue(dm.matches(".*batchedReads=[1-9].*"), dm);
                // one-sided reads made slow: delegation wins, so cached shards are asked in the batch too
                // (every 16th choice still probes a one-sided read)
                FakeMemoryNode.READ_DELAY_NANOS = 300_000;
            }
            TreeMap<byte[], byte[]> atSnapshot = new TreeMap<>(model);
            try (Snapshot snap = db.snapshot()) {
                for (int i = 0; i < 3_000; i++) { // newer writes the snapshot must not see
                    int k = rnd.nextInt(10_000);
                    byte[] v = b("w" + i);
                    db.put(key(k), v);
                    model.put(key(k), v);
                }
                check(db, ReadOptions.defaults(), model, rnd, 200);
                check(db, ReadOptions.defaults().snapshot(snap), atSnapshot, rnd, 200);
            }
            FakeMemoryNode.READ_DELAY_NANOS = 0;
            dm = db.property("o3.dm");
            if (cacheBytes > 0) {
                assertTrue(dm.matches(".*cachedDelegated=[1-9].*"), dm);
                assertTrue(dm.matches(".*cachedGets=[1-9].*"), dm);
            }
            assertTrue(FakeMemoryNode.MULTI_GETS.get() > 0, dm);
            assertTrue(dm.matches(".*multiGets=[1-9].*"), dm);
            assertTrue(dm.matches(".*batchedGets=[1-9].*"), dm);

            // the node is lost: multiGet rebuilds the remote-only shards from the WAL and answers
            FakeMemoryNode.kill();
            check(db, ReadOptions.defaults(), model, rnd, 20);
            assertTrue(db.property("o3.dm").matches(".*rebuiltFromWal=[1-9].*"), db.property("o3.dm"));
            FakeMemoryNode.revive();
        }
    }

    @Test
    void multiGetAsksTheNodeOnceForManyKeysAndAgreesWithTheModel() throws Exception {
        run(0);
    }

    @Test
    void multiGetBatchesOneSidedReadsOrCachedShardsAsTheReadChoiceSaysAndAgreesWithTheModel() throws Exception {
        run(64L << 20);
    }

    @Test
    void multiGetOfOneOrNoKeysAndBadInput() throws Exception {
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db1"), options(0))) {
            db.put(key(1), b("one"));
            assertEquals(List.of(), db.multiGet(ReadOptions.defaults(), List.of()));
            assertArrayEquals(b("one"), db.multiGet(ReadOptions.defaults(), List.of(key(1))).get(0));
            List<byte[]> withNull = new ArrayList<>();
            withNull.add(key(1));
            withNull.add(null);
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> db.multiGet(ReadOptions.defaults(), withNull));
            assertTrue(bad.getMessage().contains("keys[1]"), bad.getMessage());
        }
    }
}
