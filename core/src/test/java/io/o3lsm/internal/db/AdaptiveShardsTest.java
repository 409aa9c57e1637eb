package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adaptive shard boundaries in a DB: the boundaries move when the keys written use the shards
 * unevenly (decimal, prefixed, skewed keys), stay for uniform binary keys, and every read — gets,
 * iterators opened before and after a move, snapshots, reopen and WAL replay with the MANIFEST
 * before and after the move — agrees with a model.
 */
class AdaptiveShardsTest {
    @TempDir
    Path dir;
    @TempDir
    Path copy;

    private static final Comparator CMP = new Comparator();

    private static final class Comparator implements java.util.Comparator<byte[]> {
        @Override
        public int compare(byte[] a, byte[] b) {
            return Arrays.compareUnsigned(a, b);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Options options() {
        // 4 shards of 64 KiB arenas: a move is decided after 16K writes, a shard seals every few hundred
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(4 << 20);
    }

    private static Engine engine(DB db) {
        return ((DBImpl) db).engine();
    }

    /** Writes {@code n} keys from {@code key} with values naming their index; records them in {@code model}. */
    private static void write(DB db, TreeMap<byte[], byte[]> model, IntFunction<byte[]> key, int from, int n) {
        for (int i = from; i < from + n; i++) {
            byte[] k = key.apply(i);
            byte[] v = b("v" + i);
            db.put(k, v);
            model.put(k, v);
        }
    }

    private static void assertMatches(DB db, TreeMap<byte[], byte[]> model, ReadOptions ro) {
        for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
            assertArrayEquals(en.getValue(), db.get(ro, en.getKey()), () -> new String(en.getKey()));
        }
        try (DBIterator it = db.iterator(ro)) {
            it.seekToFirst();
            for (Map.Entry<byte[], byte[]> en : model.entrySet()) {
                assertTrue(it.isValid(), "iterator ended early before " + new String(en.getKey()));
                assertArrayEquals(en.getKey(), it.key());
                assertArrayEquals(en.getValue(), it.value());
                it.next();
            }
            assertFalse(it.isValid(), "iterator holds keys the model does not");
        }
    }

    private static long[] inserts(Engine e) {
        ShardRanges l = e.ranges;
        long[] out = new long[l.count()];
        for (int r = 0; r < out.length; r++) {
            out[r] = l.inserts(r);
        }
        return out;
    }

    private static IntFunction<byte[]> decimal(long seed) {
        Random rnd = new Random(seed);
        return i -> b(String.format("%016d", (long) rnd.nextInt(10_000_000)));
    }

    @Test
    void decimalKeysMoveTheBoundariesSoEveryShardIsUsed() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        IntFunction<byte[]> key = decimal(1);
        try (DB db = DB.open(dir, options())) {
            Engine e = engine(db);
            write(db, model, key, 0, 40_000);
            assertTrue(e.stats.layoutChanges.sum() >= 1, db.property("o3.shards"));
            // after the move, writes spread over every range
            long[] before = inserts(e);
            write(db, model, key, 40_000, 20_000);
            long[] after = inserts(e);
            for (int r = 0; r < after.length; r++) {
                long c = after[r] - before[r];
                assertTrue(c > 20_000 / 4 / 2, "range " + r + " got " + c + " of 20000: " + db.property("o3.shards"));
            }
            assertTrue(db.property("o3.shards").contains("adaptive=true"), db.property("o3.shards"));
            assertMatches(db, model, ReadOptions.defaults());
        }
        // the boundaries in use carry over to the next open
        try (DB db = DB.open(dir, options())) {
            Engine e = engine(db);
            assertFalse(e.ranges.boundaries().get(0)[0] >= '@', "the decimal boundaries were kept: " + db.property("o3.shards"));
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    @Test
    void uniformBinaryKeysKeepTheDefaultBoundaries() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        Random rnd = new Random(2);
        try (DB db = DB.open(dir, options())) {
            write(db, model, i -> {
                byte[] k = new byte[16];
                rnd.nextBytes(k);
                return k;
            }, 0, 40_000);
            assertEquals(0, engine(db).stats.layoutChanges.sum(), db.property("o3.shards"));
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    @Test
    void explicitBoundariesOrTheOptionOffNeverMove() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        try (DB db = DB.open(dir, options().adaptiveShardBoundaries(false))) {
            write(db, model, decimal(3), 0, 30_000);
            assertEquals(0, engine(db).stats.layoutChanges.sum());
            assertTrue(db.property("o3.shards").contains("adaptive=false"));
        }
        try (DB db = DB.open(dir, options().shardBoundaries(java.util.List.of(b("2"), b("5"), b("8"))))) {
            write(db, model, decimal(4), 30_000, 30_000);
            assertEquals(0, engine(db).stats.layoutChanges.sum());
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    @Test
    void skewedPrefixedKeysWithDeletesAndRangeDeletesStayCorrectAcrossMoves() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        Random rnd = new Random(5);
        // user:<number>, a few hot numbers taking half the writes, deletes and range deletes mixed in
        IntFunction<byte[]> key = i -> b(String.format("user:%07d",
                rnd.nextInt(4) < 2 ? rnd.nextInt(8) * 1000 : rnd.nextInt(2_000_000)));
        try (DB db = DB.open(dir, options())) {
            for (int i = 0; i < 60_000; i++) {
                byte[] k = key.apply(i);
                int op = rnd.nextInt(100);
                if (op < 5) {
                    db.delete(k);
                    model.remove(k);
                } else if (op == 5) {
                    byte[] end = Arrays.copyOf(k, k.length);
                    end[end.length - 3]++; // about a thousand numbers
                    db.deleteRange(k, end);
                    model.subMap(k, true, end, false).clear();
                } else {
                    byte[] v = b("v" + i);
                    db.put(k, v);
                    model.put(k, v);
                }
            }
            assertTrue(engine(db).stats.layoutChanges.sum() >= 1, db.property("o3.shards"));
            assertMatches(db, model, ReadOptions.defaults());
            ((DBImpl) db).waitForFlushes();
            assertMatches(db, model, ReadOptions.defaults());
        }
        try (DB db = DB.open(dir, options())) {
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    /**
     * Holds every flush (so shards of the old layout stay sealed next to the new one's), moves the
     * boundaries, and checks reads over both layouts: gets, a snapshot and an iterator opened before
     * the move, and one opened after.
     */
    @Test
    void readsAndIteratorsSpanShardsOfTheOldAndTheNewLayout() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        IntFunction<byte[]> key = decimal(6);
        CountDownLatch release = new CountDownLatch(1);
        try (DB db = DB.open(dir, options().writeBufferSize(64 << 20))) {
            Engine e = engine(db);
            e.flushes.beforeFlush = () -> {
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS); // bounded: a failed assertion must not hang close
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            write(db, model, key, 0, 15_000); // not yet a full sample: no move
            assertEquals(0, e.stats.layoutChanges.sum());
            TreeMap<byte[], byte[]> atSnapshot = new TreeMap<>(model);
            Snapshot snap = db.snapshot();
            DBIterator before = db.iterator(ReadOptions.defaults());
            // overwrite some old keys and add new ones until the boundaries move
            int i = 15_000;
            while (e.stats.layoutChanges.sum() == 0 && i < 60_000) {
                write(db, model, key, i, 500);
                i += 500;
            }
            assertEquals(1, e.stats.layoutChanges.sum(), db.property("o3.shards"));
            write(db, model, key, i, 20_000); // enough for every range of the new layout to seal a shard
            assertEquals(2, e.sv.layouts.length, "shards of both layouts are sealed while flushes wait");
            // asked to flush everything, only ranges whose oldest shard has the old layout may start
            e.mutex.lock();
            try {
                e.flushes.beginRequest();
                e.flushes.maybeScheduleAll();
                ShardRanges old = e.sv.oldestLayout();
                int newOnly = 0;
                for (int r = 0; r < e.sv.sealed.length; r++) {
                    MemShard[] list = e.sv.sealed[r];
                    if (list.length == 0) {
                        continue;
                    }
                    boolean oldest = list[list.length - 1].layout == old;
                    newOnly += oldest ? 0 : 1;
                    assertEquals(oldest, e.flushes.isScheduled(r), "range " + r);
                }
                assertTrue(newOnly > 0, "some range holds only shards of the new layout");
                e.flushes.endRequest();
            } finally {
                e.mutex.unlock();
            }
            // overwrite, after the move, keys first written before it; delete some
            for (byte[] k : atSnapshot.keySet().stream().limit(300).toList()) {
                byte[] v = b("new");
                db.put(k, v);
                model.put(k, v);
            }
            for (byte[] k : atSnapshot.keySet().stream().skip(300).limit(100).toList()) {
                db.delete(k);
                model.remove(k);
            }
            // the iterator opened before the move sees exactly what was there then
            before.seekToFirst();
            for (Map.Entry<byte[], byte[]> en : atSnapshot.entrySet()) {
                assertTrue(before.isValid());
                assertArrayEquals(en.getKey(), before.key());
                assertArrayEquals(en.getValue(), before.value());
                before.next();
            }
            assertFalse(before.isValid());
            before.close();
            assertMatches(db, atSnapshot, ReadOptions.defaults().snapshot(snap));
            assertMatches(db, model, ReadOptions.defaults());
            // seeks land in the right range of each layout
            try (DBIterator it = db.iterator(ReadOptions.defaults())) {
                for (int s = 0; s < 200; s++) {
                    byte[] target = decimal(100 + s).apply(0);
                    it.seek(target);
                    Map.Entry<byte[], byte[]> want = model.ceilingEntry(target);
                    if (want == null) {
                        assertFalse(it.isValid());
                    } else {
                        assertTrue(it.isValid());
                        assertArrayEquals(want.getKey(), it.key());
                    }
                }
            }
            snap.close();
            release.countDown();
            ((DBImpl) db).waitForFlushes();
            assertEquals(1, e.sv.layouts.length);
            assertSame(e.ranges, e.manifestLayout, "the MANIFEST took the new boundaries");
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    /**
     * A crash (a copy of the directory, writes synced) while the old layout's shards are unflushed —
     * the MANIFEST still holds the old boundaries — and another after the new layout's first flush
     * (the MANIFEST took the new boundaries with their watermarks): replaying the WAL loses nothing
     * and resurrects nothing.
     */
    @Test
    void replayAfterACrashOnEitherSideOfTheManifestsBoundaryChangeLosesNothing() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        IntFunction<byte[]> key = decimal(7);
        CountDownLatch release = new CountDownLatch(1);
        WriteOptions sync = WriteOptions.defaults().sync(true);
        try (DB db = DB.open(dir, options().writeBufferSize(64 << 20))) {
            Engine e = engine(db);
            e.flushes.beforeFlush = () -> {
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS); // bounded: a failed assertion must not hang close
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            int i = 0;
            while (e.stats.layoutChanges.sum() == 0 && i < 60_000) {
                write(db, model, key, i, 500);
                i += 500;
            }
            assertEquals(1, e.stats.layoutChanges.sum());
            write(db, model, key, i, 2_000);
            i += 2_000;
            byte[] gone = model.firstKey();
            db.delete(gone, sync);
            model.remove(gone);
            copyTo(copy.resolve("a"));
            TreeMap<byte[], byte[]> atA = new TreeMap<>(model);
            release.countDown();
            ((DBImpl) db).waitForFlushes();
            db.flush();
            write(db, model, key, i, 3_000);
            db.delete(model.lastKey(), sync);
            model.remove(model.lastKey());
            copyTo(copy.resolve("b"));
            assertMatches(db, model, ReadOptions.defaults());
            try (DB a = DB.open(copy.resolve("a"), options())) {
                assertMatches(a, atA, ReadOptions.defaults());
            }
        }
        try (DB b = DB.open(copy.resolve("b"), options())) {
            assertMatches(b, model, ReadOptions.defaults());
        }
    }

    private void copyTo(Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> st = Files.list(dir)) {
            for (Path p : (Iterable<Path>) st::iterator) {
                if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
