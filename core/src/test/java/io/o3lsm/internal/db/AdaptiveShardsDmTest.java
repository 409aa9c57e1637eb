package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adaptive shard boundaries in DM mode (in-process {@link FakeMemoryNode}): with flushes held, the
 * memory node holds shards of the old and the new layout, some only there; gets (one-sided cached
 * reads and delegated ones), delegated scans and seeks, and the rebuild from the WAL after the node
 * is lost all route each shard by its own layout, and agree with a model.
 */
class AdaptiveShardsDmTest {
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
        return FakeMemoryNode.options(dir, cacheBytes);
    }

    private static void assertModel(DB db, TreeMap<byte[], byte[]> model) {
        for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
            assertArrayEquals(en.getValue(), db.get(en.getKey()), () -> new String(en.getKey()));
        }
        try (DBIterator it = db.iterator()) {
            it.seekToFirst();
            for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
                assertTrue(it.isValid());
                assertArrayEquals(en.getKey(), it.key());
                assertArrayEquals(en.getValue(), it.value());
                it.next();
            }
            assertFalse(it.isValid());
            Random rnd = new Random(9);
            for (int s = 0; s < 100; s++) {
                byte[] target = b(String.format("%016d", (long) rnd.nextInt(10_000_000)));
                it.seek(target);
                Map.Entry<byte[], byte[]> want = model.ceilingEntry(target);
                assertEquals(want != null, it.isValid());
                if (want != null) {
                    assertArrayEquals(want.getKey(), it.key());
                }
            }
        }
    }

    private static boolean remoteOnlyInBothLayouts(Engine e) {
        boolean oldOnly = false;
        boolean newOnly = false;
        for (MemShard[] list : e.sv.sealed) {
            for (MemShard m : list) {
                if (!m.isLocal()) {
                    oldOnly |= m.layout != e.sv.layout;
                    newOnly |= m.layout == e.sv.layout;
                }
            }
        }
        return oldOnly && newOnly;
    }

    private void run(long cacheBytes) throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Random rnd = new Random(cacheBytes);
        CountDownLatch release = new CountDownLatch(1);
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"), options(cacheBytes))) {
            Engine e = ((DBImpl) db).engine();
            e.flushes.beforeFlush = () -> {
                try {
                    release.await(60, TimeUnit.SECONDS); // bounded: a failed assertion must not hang close
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            int i = 0;
            for (; i < 200_000 && (e.stats.layoutChanges.sum() == 0 || !remoteOnlyInBothLayouts(e)); i++) {
                byte[] k = b(String.format("%016d", (long) rnd.nextInt(10_000_000)));
                byte[] v = b("v" + i);
                db.put(k, v);
                model.put(k, v);
                if (i % 50 == 0) {
                    db.delete(k);
                    model.remove(k);
                }
            }
            assertEquals(1, e.stats.layoutChanges.sum(), db.property("o3.shards"));
            assertTrue(remoteOnlyInBothLayouts(e), db.property("o3.dm"));
            assertModel(db, model);
            String dm = db.property("o3.dm");
            if (cacheBytes > 0) {
                assertTrue(dm.matches(".*cachedGets=[1-9].*"), dm);
            } else {
                assertTrue(dm.matches(".*delegatedGets=[1-9].*"), dm);
            }
            // the node is lost: every remote-only shard, of either layout, is rebuilt from the WAL
            FakeMemoryNode.kill();
            assertModel(db, model);
            assertTrue(db.property("o3.dm").matches(".*rebuiltFromWal=[1-9].*"), db.property("o3.dm"));
            FakeMemoryNode.revive();
            release.countDown();
            ((DBImpl) db).waitForFlushes();
            assertEquals(1, e.sv.layouts.length);
            assertModel(db, model);
        }
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"), options(cacheBytes))) {
            assertModel(db, model);
        }
    }

    @Test
    void cachedGetsScansAndTheRebuildRouteEachShardByItsLayout() throws Exception {
        run(64L << 20);
    }

    @Test
    void delegatedGetsScansAndTheRebuildRouteEachShardByItsLayout() throws Exception {
        run(0);
    }
}
