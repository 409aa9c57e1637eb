package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.internal.db.DBImpl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DB iterator whose view held shards only the memory node had moves to the current view at its
 * next seek once a flush installed: it stops reading (and pinning) the flushed shards' segments, and
 * still shows exactly what was visible at its own sequence, not the writes made after it.
 */
class RefreshingIteratorTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return new String(x, StandardCharsets.UTF_8);
    }

    private static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    private Options options() throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(8 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(5 * (64 << 10)).dmBudget(64L << 20)
                .targetFileSize(1 << 20).dmReadFlushTrigger(0);
    }

    private static int fill(DB d, TreeMap<String, String> model) throws Exception {
        int n = 0;
        for (int round = 0; round < 50; round++) {
            while (n < 400000 && (n < 20000 || DmReadCacheTest.field(d, "remoteOnlyShards") == 0)) {
                d.put(b(k(n)), b("v" + n));
                model.put(k(n), "v" + n);
                n++;
            }
            ((DBImpl) d).waitForRunningFlushes();
            if (DmReadCacheTest.field(d, "remoteOnlyShards") > 0) {
                return n;
            }
        }
        throw new AssertionError("no shard stayed only on the node: " + d.property("o3.dm"));
    }

    private static void assertSeeks(DBIterator it, TreeMap<String, String> model, int step) {
        int checked = 0;
        for (Map.Entry<String, String> want : model.entrySet()) {
            if (checked++ % step != 0) {
                continue;
            }
            it.seek(b(want.getKey()));
            assertTrue(it.isValid(), want.getKey());
            assertEquals(want.getKey(), str(it.key()));
            assertEquals(want.getValue(), str(it.value()), want.getKey());
            it.next();
            Map.Entry<String, String> after = model.higherEntry(want.getKey());
            if (after == null) {
                assertFalse(it.isValid());
            } else {
                assertEquals(after.getKey(), str(it.key()));
                assertEquals(after.getValue(), str(it.value()));
            }
        }
    }

    @Test
    void shouldMoveToTheFlushedViewAtTheNextSeekAndStillShowOnlyItsOwnSequence() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(dir.resolve("db"), options())) {
            int n = fill(d, model);
            TreeMap<String, String> atOpen = new TreeMap<>(model);
            try (DBIterator it = d.iterator()) {
                assertSeeks(it, atOpen, 97);
                long scans = DmReadCacheTest.field(d, "delegatedScans");
                assertTrue(scans > 0, d.property("o3.dm"));
                // after the iterator: overwrite some keys, delete others, add new ones; then flush everything
                for (int i = 0; i < n; i += 3) {
                    d.put(b(k(i)), b("new" + i));
                }
                for (int i = 1; i < n; i += 7) {
                    d.delete(b(k(i)));
                }
                for (int i = n; i < n + 500; i++) {
                    d.put(b(k(i)), b("v" + i));
                }
                d.flush();
                ((DBImpl) d).waitForRunningFlushes();
                assertEquals(0, DmReadCacheTest.field(d, "remoteOnlyShards"), d.property("o3.dm"));
                assertSeeks(it, atOpen, 31); // the seeks rebuild the children over the flushed view
                assertEquals(scans, DmReadCacheTest.field(d, "delegatedScans"), "no scan of a flushed shard: "
                        + d.property("o3.dm"));
                long deadline = System.currentTimeMillis() + 30_000;
                while (!FakeMemoryNode.SEGMENTS.isEmpty() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(10); // frees are sent in the background
                }
                assertEquals(0, FakeMemoryNode.SEGMENTS.size(), "the open iterator no longer pins flushed segments");
                int count = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    count++;
                }
                assertEquals(atOpen.size(), count, "a full scan sees the iterator's own sequence");
            }
        }
    }

    @Test
    void shouldKeepAUserSnapshotsSequenceAcrossTheMove() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        try (DB d = DB.open(dir.resolve("db"), options())) {
            int n = fill(d, model);
            try (Snapshot s = d.snapshot()) {
                TreeMap<String, String> atSnapshot = new TreeMap<>(model);
                for (int i = 0; i < n; i += 2) {
                    d.put(b(k(i)), b("later" + i));
                }
                try (DBIterator it = d.iterator(ReadOptions.defaults().snapshot(s))) {
                    for (int i = 1; i < n; i += 2) {
                        d.put(b(k(i)), b("later" + i));
                    }
                    d.flush();
                    ((DBImpl) d).waitForRunningFlushes();
                    assertSeeks(it, atSnapshot, 53);
                }
            }
        }
    }
}
