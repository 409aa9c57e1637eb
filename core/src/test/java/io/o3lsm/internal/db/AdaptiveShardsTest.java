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
            db.flush(); // the MANIFEST takes the new boundaries with the first flush that uses them
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
            holdFlushes(e, release);
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
            holdFlushes(e, release);
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
            ((DBImpl) db).waitForCompactions(); // a copy must not race a compaction's deletions
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

    /**
     * A flush scheduled before the boundaries moved picks, after the move, the last shards of the old
     * layout: when it ends, the new layout's ranges that had to wait are flushed too (a flush request
     * waiting on them returns).
     */
    @Test
    void aFlushThatDrainsTheOldLayoutLetsTheNewLayoutsRangesFlush() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        IntFunction<byte[]> key = decimal(8);
        try (DB db = DB.open(dir, options().writeBufferSize(64 << 20))) {
            Engine e = engine(db);
            e.flushes.beforeFlush = () -> {
                entered.countDown();
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS); // bounded: a failed assertion must not hang close
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            int i = 0;
            for (; i < 3000; i++) {
                db.put(key.apply(i), b("v" + i));
            }
            // range 0 (every decimal key) is asked to flush before the move: its thread has started
            e.mutex.lock();
            try {
                e.flushes.beginRequest();
                e.flushes.maybeScheduleAll();
                e.flushes.endRequest();
            } finally {
                e.mutex.unlock();
            }
            assertTrue(entered.await(10, java.util.concurrent.TimeUnit.SECONDS));
            for (; e.stats.layoutChanges.sum() == 0 && i < 100_000; i++) {
                db.put(key.apply(i), b("v" + i));
            }
            assertEquals(1, e.stats.layoutChanges.sum());
            // then only keys of the new layout's top range, which seal shards there
            Random rnd = new Random(9);
            for (int j = 0; j < 5000; j++, i++) {
                db.put(b(String.format("%016d", 9_000_000L + rnd.nextInt(1_000_000))), b("v" + i));
            }
            Thread waiter = new Thread(((DBImpl) db)::waitForFlushes);
            waiter.start();
            release.countDown();
            waiter.join(30_000);
            boolean stuck = waiter.isAlive();
            if (stuck) {
                db.flush(); // a seal reschedules: frees the waiter before the assertion fails
                waiter.join(30_000);
            }
            assertFalse(stuck, "waitForFlushes returned once the old layout's flush ended");
            assertEquals(1, e.sv.layouts.length);
        }
    }

    /**
     * A crash (a copy of the directory) after the first flush of the new layout installed — the
     * MANIFEST holds the new boundaries with the layout's start as the watermark of every range not
     * flushed yet — while other ranges of the new layout are still unflushed: replay loses nothing.
     */
    @Test
    void replayAfterTheNewLayoutsFirstFlushKeepsTheOtherRangesUnflushedWrites() throws Exception {
        TreeMap<byte[], byte[]> model = new TreeMap<>(CMP);
        IntFunction<byte[]> key = decimal(3);
        java.util.concurrent.atomic.AtomicInteger allowed = new java.util.concurrent.atomic.AtomicInteger();
        try (DB db = DB.open(dir, options().writeBufferSize(64 << 20))) {
            Engine e = engine(db);
            e.flushes.beforeFlush = () -> {
                long until = System.currentTimeMillis() + 30_000;
                while (allowed.get() <= 0 && System.currentTimeMillis() < until) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException ex) {
                        return;
                    }
                }
                allowed.decrementAndGet();
            };
            int moved = -1;
            for (int i = 0; (moved < 0 || i < moved + 20_000) && i < 150_000; i++) {
                if (moved < 0 && e.stats.layoutChanges.sum() > 0) {
                    moved = i; // then 20k more, sealing shards in every range of the new layout
                }
                byte[] k = key.apply(i);
                db.put(k, b("v" + i));
                model.put(k, b("v" + i));
                if (i % 7 == 0) {
                    db.delete(k);
                    model.remove(k);
                }
            }
            assertEquals(1, e.stats.layoutChanges.sum());
            // drain the old layout (one flush of range 0)
            allowed.set(1);
            requestFlushes(e, -1);
            long t = System.currentTimeMillis();
            while (e.sv.layouts.length > 1 && System.currentTimeMillis() - t < 20_000) {
                Thread.sleep(10);
            }
            assertEquals(1, e.sv.layouts.length);
            assertNotSame(e.ranges, e.manifestLayout);
            // one flush of the new layout: range 2
            allowed.set(1);
            requestFlushes(e, 2);
            t = System.currentTimeMillis();
            while (e.manifestLayout != e.ranges && System.currentTimeMillis() - t < 20_000) {
                Thread.sleep(10);
            }
            assertSame(e.ranges, e.manifestLayout);
            int sealed = 0;
            for (MemShard[] l : e.sv.sealed) {
                sealed += l.length;
            }
            assertTrue(sealed > 0, "other ranges of the new layout are unflushed");
            byte[] k = b("0000000000000001");
            db.put(k, b("last"), WriteOptions.defaults().sync(true));
            model.put(k, b("last"));
            ((DBImpl) db).waitForCompactions();
            copyTo(copy.resolve("c"));
            allowed.set(1000);
        }
        try (DB db = DB.open(copy.resolve("c"), options())) {
            assertMatches(db, model, ReadOptions.defaults());
        }
    }

    /** Schedules the flush of {@code range} (-1: of every range) as if a flush were requested. */
    private static void requestFlushes(Engine e, int range) {
        e.mutex.lock();
        try {
            e.flushes.beginRequest();
            if (range < 0) {
                e.flushes.maybeScheduleAll();
            } else {
                e.flushes.maybeSchedule(range);
            }
            e.flushes.endRequest();
        } finally {
            e.mutex.unlock();
        }
    }

    /** Makes every flush wait (at most 60 s: a failed assertion must not hang close) until {@code release} opens. */
    private static void holdFlushes(Engine e, CountDownLatch release) {
        e.flushes.beforeFlush = () -> {
            try {
                release.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        };
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
