package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delegated scans asked ahead (in-process {@link FakeMemoryNode}, whose answers to a scan asked
 * ahead come on another thread): a long scan uses batches asked for while it consumed the one
 * before; a seek with a few nexts asks nothing ahead; turns, re-seeks and failed requests ahead
 * never change what the iterator returns.
 */
class DmScanPrefetchTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private DB open() throws Exception {
        // fixed boundaries: a move of adaptive ones can flush the old layout's shards, and these tests need
        // shards that stay on the node
        return FakeMemoryNode.openAttached(dir.resolve("db"), FakeMemoryNode.options(dir, 0).adaptiveShardBoundaries(false));
    }

    private static TreeMap<byte[], byte[]> fill(DB db) {
        TreeMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
        Random rnd = new Random(3);
        for (int i = 0; i < 30_000; i++) {
            byte[] k = b(String.format("%08d", rnd.nextInt(20_000)));
            byte[] v = b("v" + i);
            db.put(k, v);
            model.put(k, v);
        }
        String dm = db.property("o3.dm");
        assertTrue(dm.matches(".*remoteOnlyShards=[1-9].*"), dm);
        return model;
    }

    private static void forwardAll(DB db, TreeMap<byte[], byte[]> model) {
        try (DBIterator it = db.iterator()) {
            it.seekToFirst();
            for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
                assertTrue(it.isValid(), () -> "missing " + new String(en.getKey()));
                assertArrayEquals(en.getKey(), it.key());
                assertArrayEquals(en.getValue(), it.value());
                it.next();
            }
            assertFalse(it.isValid());
        }
    }

    @Test
    void aLongScanUsesBatchesAskedAheadAndReturnsEveryEntryInOrder() throws Exception {
        try (DB db = open()) {
            TreeMap<byte[], byte[]> model = fill(db);
            forwardAll(db, model);
            String dm = db.property("o3.dm");
            assertTrue(FakeMemoryNode.SCANS_AHEAD.get() > 0, dm);
            assertTrue(dm.matches(".*scanBatchesAhead=[1-9].*"), dm);
            // backwards, whole
            try (DBIterator it = db.iterator()) {
                it.seekToLast();
                for (Map.Entry<byte[], byte[]> en : model.descendingMap().entrySet()) {
                    assertTrue(it.isValid());
                    assertArrayEquals(en.getKey(), it.key());
                    it.prev();
                }
                assertFalse(it.isValid());
            }
        }
    }

    @Test
    void seeksWithAFewNextsAskNothingAhead() throws Exception {
        try (DB db = open()) {
            TreeMap<byte[], byte[]> model = fill(db);
            long before = FakeMemoryNode.SCANS_AHEAD.get();
            Random rnd = new Random(4);
            try (DBIterator it = db.iterator()) {
                for (int s = 0; s < 200; s++) {
                    byte[] target = b(String.format("%08d", rnd.nextInt(20_000)));
                    it.seek(target);
                    byte[] want = model.ceilingKey(target);
                    for (int n = 0; n < 10 && want != null; n++) {
                        assertArrayEquals(want, it.key());
                        it.next();
                        want = model.higherKey(want);
                    }
                }
            }
            assertEquals(before, FakeMemoryNode.SCANS_AHEAD.get(), db.property("o3.dm"));
        }
    }

    @Test
    void turnsReseeksAndFailedRequestsAheadKeepTheIteratorExact() throws Exception {
        try (DB db = open()) {
            TreeMap<byte[], byte[]> model = fill(db);
            List<byte[]> keys = new ArrayList<>(model.keySet());
            Random rnd = new Random(5);
            FakeMemoryNode.FAIL_SCANS_AHEAD.set(5);
            try (DBIterator it = db.iterator()) {
                int pos = rnd.nextInt(keys.size());
                it.seek(keys.get(pos));
                for (int step = 0; step < 40_000; step++) {
                    if (step % 3_000 == 2_999) { // a re-seek while a request may be ahead
                        pos = rnd.nextInt(keys.size());
                        it.seek(keys.get(pos));
                    }
                    boolean forward = (step / 1_500) % 3 != 2; // long runs forward, shorter ones back
                    if (forward) {
                        it.next();
                        pos++;
                    } else {
                        it.prev();
                        pos--;
                    }
                    if (pos < 0 || pos >= keys.size()) {
                        assertFalse(it.isValid(), "past an end at step " + step);
                        pos = rnd.nextInt(keys.size());
                        it.seek(keys.get(pos));
                        continue;
                    }
                    assertTrue(it.isValid(), "step " + step);
                    assertArrayEquals(keys.get(pos), it.key(), "step " + step);
                    assertArrayEquals(model.get(keys.get(pos)), it.value(), "step " + step);
                }
            }
            assertEquals(0, FakeMemoryNode.FAIL_SCANS_AHEAD.get(), "every injected failure was met");
            forwardAll(db, model);
        }
    }
}
