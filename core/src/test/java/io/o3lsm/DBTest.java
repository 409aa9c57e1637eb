package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.internal.db.DBImpl;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DBTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Tiny buffers so that a few thousand writes cause many seals and flushes. */
    static Options small() {
        return Options.defaults().writeBufferSize(1 << 20).shardArenaSize(64 << 10).shardCount(4)
                .targetFileSize(128 << 10).blockSize(1024);
    }

    @Test
    void shouldReadBackPutsAndHonourDeletes() {
        try (DB db = DB.open(dir, Options.defaults())) {
            assertNull(db.get(b("a")));
            db.put(b("a"), b("1"));
            db.put(b("b"), b("2"));
            db.put(b("a"), b("3"));
            assertArrayEquals(b("3"), db.get(b("a")));
            assertArrayEquals(b("2"), db.get(b("b")));
            db.delete(b("b"));
            assertNull(db.get(b("b")));
            db.put(b(""), b("empty key"));
            assertArrayEquals(b("empty key"), db.get(b("")));
            db.put(b("z"), new byte[0]);
            assertArrayEquals(new byte[0], db.get(b("z")));
        }
    }

    @Test
    void shouldRecoverFromWalAfterReopen() {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < 1000; i++) {
                db.put(b("key" + i), b("value" + i));
            }
            db.delete(b("key7"));
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < 1000; i++) {
                if (i == 7) {
                    assertNull(db.get(b("key7")));
                } else {
                    assertArrayEquals(b("value" + i), db.get(b("key" + i)), "key" + i);
                }
            }
        }
    }

    @Test
    void shouldFlushManyGenerationsAndRecoverThemAcrossReopens() {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        System.out.println("DBTest seed " + seed + " (-Dtests.seed=" + seed + ")");
        Random rnd = new Random(seed);
        Map<String, byte[]> model = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            try (DB db = DB.open(dir, small())) {
                for (int i = 0; i < 20000; i++) {
                    String k = "k" + rnd.nextInt(3000);
                    if (rnd.nextInt(10) == 0) {
                        db.delete(b(k));
                        model.remove(k);
                    } else {
                        byte[] v = new byte[rnd.nextInt(200)];
                        rnd.nextBytes(v);
                        db.put(b(k), v);
                        model.put(k, v);
                    }
                }
                ((DBImpl) db).waitForFlushes();
                assertTrue(((DBImpl) db).currentVersion().numFiles(0) > 0, "expected flushes to L0");
                verify(db, model, 3000);
            }
            try (DB db = DB.open(dir, small())) {
                verify(db, model, 3000);
            }
        }
    }

    private static void verify(DB db, Map<String, byte[]> model, int keys) {
        for (int i = 0; i < keys; i++) {
            String k = "k" + i;
            byte[] expected = model.get(k);
            byte[] got = db.get(b(k));
            if (expected == null) {
                assertNull(got, k);
            } else {
                assertArrayEquals(expected, got, k);
            }
        }
    }

    @Test
    void shouldApplyBatchesAtomicallyAndKeepThemReusable() {
        try (DB db = DB.open(dir, Options.defaults()); WriteBatch batch = new WriteBatch()) {
            db.put(b("x"), b("old"));
            batch.put(b("a"), b("1")).put(b("b"), b("2")).delete(b("x"));
            assertEquals(3, batch.count());
            db.write(batch, WriteOptions.defaults().sync(true));
            batch.clear();
            assertEquals(0, batch.count());
            batch.put(b("c"), b("3"));
            db.write(batch);
            assertArrayEquals(b("1"), db.get(b("a")));
            assertArrayEquals(b("2"), db.get(b("b")));
            assertArrayEquals(b("3"), db.get(b("c")));
            assertNull(db.get(b("x")));
        }
    }

    @Test
    void shouldSupportByteBufferOverloads() {
        try (DB db = DB.open(dir, Options.defaults())) {
            ByteBuffer k = ByteBuffer.allocateDirect(8).put(b("direct")).flip();
            ByteBuffer v = ByteBuffer.wrap(b("hello world"), 6, 5);
            db.put(k, v);
            assertEquals(0, k.position(), "key position must not move");
            assertArrayEquals(b("world"), db.get(b("direct")));
            ByteBuffer out = ByteBuffer.allocate(3);
            assertEquals(5, db.get(k, out), "full length reported");
            assertEquals(3, out.position());
            assertArrayEquals(b("wor"), out.array());
            assertEquals(-1, db.get(ByteBuffer.wrap(b("nope")), out));
        }
    }

    @Test
    void shouldRejectBadInputWithClearErrors() {
        try (DB db = DB.open(dir, Options.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> db.put(null, b("v")));
            assertTrue(e.getMessage().contains("key"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> db.put(b("k"), null));
            assertThrows(IllegalArgumentException.class, () -> db.get((byte[]) null));
            assertThrows(IllegalArgumentException.class, () -> db.delete(null));
            e = assertThrows(IllegalArgumentException.class, () -> db.put(new byte[DB.MAX_KEY_SIZE + 1], b("v")));
            assertTrue(e.getMessage().contains("limit"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> db.put(b("k"), new byte[DB.MAX_VALUE_SIZE + 1]));
            assertTrue(e.getMessage().contains("value"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> db.put(b("k"), b("v"), WriteOptions.defaults().sync(true).disableWal(true)));
            assertThrows(IllegalArgumentException.class, () -> db.write(null, WriteOptions.defaults()));
            // the largest allowed key and a large value work
            db.put(new byte[DB.MAX_KEY_SIZE], new byte[4 << 20]);
            assertEquals(4 << 20, db.get(new byte[DB.MAX_KEY_SIZE]).length);
        }
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir, Options.defaults().shardCount(0)));
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir, Options.defaults().blockSize(1)));
        assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir, Options.defaults().shardBoundaries(List.of(b("b"), b("a")))));
    }

    @Test
    void shouldStoreValuesLargerThanAnArena() {
        try (DB db = DB.open(dir, small())) {
            byte[] big = new byte[3 << 20];
            new Random(1).nextBytes(big);
            db.put(b("big"), big);
            db.put(b("small"), b("s"));
            assertArrayEquals(big, db.get(b("big")));
        }
        try (DB db = DB.open(dir, small())) {
            assertEquals(3 << 20, db.get(b("big")).length);
            assertArrayEquals(b("s"), db.get(b("small")));
        }
    }

    @Test
    void shouldNotHangOnAnEntryLargerThanAnArenaWhenLittleIsSealed() {
        // one sealed 64 KiB arena is below the flush threshold; the 200 KiB entry needs a jumbo arena
        Options o = Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).shardCount(1);
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 700; i++) {
                db.put(b("k" + i), new byte[100]);
            }
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                    () -> db.put(b("big"), new byte[200 << 10]));
            assertEquals(200 << 10, db.get(b("big")).length);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Compression.class)
    void shouldReturnCorrectValuesUnderConcurrentGetsAndScansWithAChurningCache(Compression compression) throws Exception {
        // a block cache far smaller than the data: blocks are evicted and their arrays recycled
        // (for LZ4 the recycled array is the decompression target)
        Options o = Options.defaults().blockCacheSize(256 << 10).compression(compression);
        int n = 30000;
        try (DB db = DB.open(dir.resolve(compression.name()), o)) {
            for (int i = 0; i < n; i++) {
                db.put(b(String.format("k%06d", i)), b(String.format("value-%06d-%s", i, "x".repeat(i % 50))));
            }
            db.flush();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                fs.add(pool.submit(() -> {
                    Random rnd = new Random(seed);
                    for (int round = 0; round < 4000; round++) {
                        int i = rnd.nextInt(n);
                        assertArrayEquals(b(String.format("value-%06d-%s", i, "x".repeat(i % 50))),
                                db.get(b(String.format("k%06d", i))));
                        if (round % 500 == 0) {
                            try (DBIterator it = db.iterator()) {
                                int j = rnd.nextInt(n - 200);
                                it.seek(b(String.format("k%06d", j)));
                                for (int m = 0; m < 200; m++, j++) {
                                    assertArrayEquals(b(String.format("k%06d", j)), it.key());
                                    assertArrayEquals(b(String.format("value-%06d-%s", j, "x".repeat(j % 50))),
                                            it.value());
                                    it.next();
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
        }
    }

    @Test
    void shouldRefuseUseAfterClose() {
        DB db = DB.open(dir, Options.defaults());
        db.put(b("a"), b("1"));
        db.close();
        db.close(); // idempotent
        assertThrows(DBClosedException.class, () -> db.get(b("a")));
        assertThrows(DBClosedException.class, () -> db.put(b("a"), b("2")));
        assertThrows(DBClosedException.class, () -> db.delete(b("a")));
    }

    @Test
    void shouldRefuseASecondOpenOfTheSameDirectory() {
        try (DB db = DB.open(dir, Options.defaults())) {
            O3Exception e = assertThrows(O3Exception.class, () -> DB.open(dir, Options.defaults()));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        DB.open(dir, Options.defaults()).close(); // released on close
    }

    @Test
    void shouldHonourCreateIfMissingAndErrorIfExists() {
        Path missing = dir.resolve("missing");
        assertThrows(O3Exception.class, () -> DB.open(missing, Options.defaults().createIfMissing(false)));
        DB.open(missing, Options.defaults()).close();
        assertThrows(O3Exception.class, () -> DB.open(missing, Options.defaults().errorIfExists(true)));
        DB.open(missing, Options.defaults().createIfMissing(false)).close();
    }

    @Test
    void shouldGroupCommitConcurrentWritersWithoutLosingAny() throws Exception {
        int threads = 8;
        int perThread = 5000;
        try (DB db = DB.open(dir, small())) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        WriteOptions wo = WriteOptions.defaults().sync(i % 100 == 0);
                        db.put(b("t" + tt + "-" + i), b("v" + i), wo);
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < perThread; i++) {
                    assertArrayEquals(b("v" + i), db.get(b("t" + t + "-" + i)));
                }
            }
        }
        try (DB db = DB.open(dir, small())) {
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < perThread; i += 7) {
                    assertArrayEquals(b("v" + i), db.get(b("t" + t + "-" + i)));
                }
            }
        }
    }

    @Test
    void shouldNotPersistDisabledWalWritesButServeThem() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("durable"), b("1"));
            db.put(b("volatile"), b("2"), WriteOptions.defaults().disableWal(true));
            assertArrayEquals(b("2"), db.get(b("volatile")));
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            assertArrayEquals(b("1"), db.get(b("durable")));
            assertNull(db.get(b("volatile")), "a write without WAL is lost unless flushed");
        }
    }

    @Test
    void shouldKeepOnlyNeededFilesAfterReopen() throws Exception {
        try (DB db = DB.open(dir, small())) {
            for (int i = 0; i < 20000; i++) {
                db.put(b("key" + i), new byte[100]);
            }
            ((DBImpl) db).waitForFlushes();
        }
        try (DB db = DB.open(dir, small())) {
            long logs;
            try (var s = Files.list(dir)) {
                logs = s.filter(p -> p.toString().endsWith(".log")).count();
            }
            assertEquals(1, logs, "one WAL after recovery");
            long manifests;
            try (var s = Files.list(dir)) {
                manifests = s.filter(p -> p.getFileName().toString().startsWith("MANIFEST-")).count();
            }
            assertEquals(1, manifests);
        }
    }
}
