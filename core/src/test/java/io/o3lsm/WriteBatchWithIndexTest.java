package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WriteBatchWithIndex}: reads of the batch alone and over a DB, merges over the batch's own
 * put, save points, and iterators over a DB iterator checked against a {@link TreeMap} model
 * (randomized: prints its seed, accepts {@code -Dtests.seed=}).
 */
class WriteBatchWithIndexTest {
    private static final long SEED = Long.getLong("tests.seed", System.nanoTime());

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadItsOwnPutsAndDeletesAlone() {
        try (WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            assertNull(wb.getFromBatch(b("a")));
            byte[] value = b("1");
            wb.put(b("a"), value);
            value[0] = 'X'; // copied on the way in
            wb.put(b("b"), b("2")).delete(b("b")).put(b("c"), b("3")).put(b("c"), b("4"));
            assertArrayEquals(b("1"), wb.getFromBatch(b("a")));
            assertNull(wb.getFromBatch(b("b")), "deleted in the batch");
            assertArrayEquals(b("4"), wb.getFromBatch(b("c")), "the last put wins");
            assertEquals(5, wb.count());
            assertEquals(5, wb.writeBatch().count());
        }
    }

    @Test
    void shouldShadowTheDbWithTheBatchsPutsAndDeletes() {
        try (DB db = DB.open(dir, Options.defaults()); WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            db.put(b("a"), b("db-a"));
            db.put(b("b"), b("db-b"));
            db.put(b("c"), b("db-c"));
            wb.put(b("a"), b("batch-a")).delete(b("b"));
            ReadOptions ro = ReadOptions.defaults();
            assertArrayEquals(b("batch-a"), wb.getFromBatchAndDB(db, ro, b("a")));
            assertNull(wb.getFromBatchAndDB(db, ro, b("b")), "the batch's delete hides the DB's value");
            assertArrayEquals(b("db-c"), wb.getFromBatchAndDB(db, ro, b("c")), "untouched keys come from the DB");
            assertNull(wb.getFromBatchAndDB(db, ro, b("d")));
            try (Snapshot s = db.snapshot()) {
                db.put(b("c"), b("db-c2"));
                assertArrayEquals(b("db-c"), wb.getFromBatchAndDB(db, ReadOptions.defaults().snapshot(s), b("c")));
            }
            db.write(wb.writeBatch(), WriteOptions.defaults());
            assertArrayEquals(b("batch-a"), db.get(b("a")));
            assertNull(db.get(b("b")));
        }
    }

    @Test
    void shouldCombineMergeOperandsWithTheBatchsOwnPut() {
        try (WriteBatchWithIndex wb = new WriteBatchWithIndex(MergeOperators.int64Add())) {
            wb.put(b("n"), MergeOperators.int64(40)).merge(b("n"), MergeOperators.int64(1))
                    .merge(b("n"), MergeOperators.int64(1));
            assertEquals(42, MergeOperators.int64(wb.getFromBatch(b("n"))));
            wb.delete(b("m")).merge(b("m"), MergeOperators.int64(3));
            assertEquals(3, MergeOperators.int64(wb.getFromBatch(b("m"))), "after a delete the operands start from nothing");
            wb.merge(b("only"), MergeOperators.int64(1));
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> wb.getFromBatch(b("only")));
            assertTrue(ex.getMessage().contains("getFromBatchAndDB"), ex.getMessage());
            wb.put(b("n"), MergeOperators.int64(7));
            assertEquals(7, MergeOperators.int64(wb.getFromBatch(b("n"))), "a later put ends the operands' reach");
        }
        try (DB db = DB.open(dir, Options.defaults().mergeOperator(MergeOperators.int64Add()));
                WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            wb.put(b("n"), MergeOperators.int64(10)).merge(b("n"), MergeOperators.int64(5));
            db.put(b("n"), MergeOperators.int64(1000));
            assertEquals(15, MergeOperators.int64(wb.getFromBatchAndDB(db, ReadOptions.defaults(), b("n"))),
                    "the DB's operator combines the operands with the batch's put, the DB's value shadowed");
            try (DBIterator it = wb.newIteratorWithBase(db, db.iterator(), ReadOptions.defaults())) {
                it.seekToFirst();
                assertArrayEquals(b("n"), it.key());
                assertEquals(15, MergeOperators.int64(it.value()));
            }
        }
        try (WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            wb.put(b("n"), MergeOperators.int64(1)).merge(b("n"), MergeOperators.int64(1));
            assertThrows(IllegalStateException.class, () -> wb.getFromBatch(b("n")), "no merge operator known");
        }
    }

    @Test
    void shouldRefuseDeleteRangeWithAReason() {
        try (WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class,
                    () -> wb.deleteRange(b("a"), b("b")));
            assertTrue(ex.getMessage().contains("deleteRange"), ex.getMessage());
            assertEquals(0, wb.count());
        }
    }

    @Test
    void shouldRollBackToSavePoints() {
        try (DB db = DB.open(dir, Options.defaults()); WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
            assertThrows(IllegalStateException.class, wb::rollbackToSavePoint);
            wb.put(b("a"), b("1"));
            wb.setSavePoint();
            wb.put(b("a"), b("2")).put(b("b"), b("2"));
            wb.setSavePoint();
            wb.delete(b("a"));
            wb.rollbackToSavePoint();
            assertArrayEquals(b("2"), wb.getFromBatch(b("a")));
            wb.rollbackToSavePoint();
            assertArrayEquals(b("1"), wb.getFromBatch(b("a")));
            assertNull(wb.getFromBatch(b("b")));
            assertEquals(1, wb.writeBatch().count(), "the WriteBatch is cut back too");
            db.write(wb.writeBatch(), WriteOptions.defaults());
            assertArrayEquals(b("1"), db.get(b("a")));
            assertNull(db.get(b("b")));
        }
    }

    // ------------------------------------------------------------------ iterator with base, against a model

    private static final byte[][] KEYS;

    static {
        KEYS = new byte[40][];
        for (int i = 0; i < KEYS.length; i++) {
            // both sides of the sign bit, and a prefix pair
            KEYS[i] = i % 3 == 0 ? new byte[] {(byte) (i * 6), 1} : i % 3 == 1 ? new byte[] {(byte) (i * 6)}
                    : new byte[] {(byte) (i * 6), 1, 0};
        }
    }

    @Test
    void shouldIterateTheBatchOverTheDbLikeTheModelInBothDirections() {
        System.out.println("WriteBatchWithIndexTest: -Dtests.seed=" + SEED);
        Random rnd = new Random(SEED);
        try (DB db = DB.open(dir, Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10)
                .targetFileSize(64 << 10).blockSize(256))) {
            TreeMap<byte[], byte[]> dbModel = new TreeMap<>(Arrays::compareUnsigned);
            for (int round = 0; round < 30; round++) {
                // change the DB a little, sometimes flushing so the base spans memtable and tables
                for (int i = 0; i < 15; i++) {
                    byte[] k = KEYS[rnd.nextInt(KEYS.length)];
                    if (rnd.nextInt(4) == 0) {
                        db.delete(k);
                        dbModel.remove(k);
                    } else {
                        byte[] v = b("db" + round + "." + i);
                        db.put(k, v);
                        dbModel.put(k, v);
                    }
                }
                if (rnd.nextInt(5) == 0) {
                    db.flush();
                }
                try (WriteBatchWithIndex wb = new WriteBatchWithIndex()) {
                    TreeMap<byte[], byte[]> model = new TreeMap<>(dbModel);
                    int ops = rnd.nextInt(25);
                    for (int i = 0; i < ops; i++) {
                        byte[] k = KEYS[rnd.nextInt(KEYS.length)];
                        if (rnd.nextInt(3) == 0) {
                            wb.delete(k);
                            model.remove(k);
                        } else {
                            byte[] v = b("wb" + round + "." + i);
                            wb.put(k, v);
                            model.put(k, v);
                        }
                    }
                    for (byte[] k : KEYS) {
                        assertArrayEquals(model.get(k), wb.getFromBatchAndDB(db, ReadOptions.defaults(), k),
                                () -> "getFromBatchAndDB " + Arrays.toString(k) + " (seed " + SEED + ")");
                    }
                    byte[] lower = rnd.nextBoolean() ? null : KEYS[rnd.nextInt(KEYS.length)];
                    byte[] upper = rnd.nextBoolean() ? null : KEYS[rnd.nextInt(KEYS.length)];
                    ReadOptions ro = ReadOptions.defaults().lowerBound(lower).upperBound(upper);
                    TreeMap<byte[], byte[]> view = bounded(model, lower, upper);
                    try (DBIterator it = wb.newIteratorWithBase(db, db.iterator(ro), ro)) {
                        walk(it, view, rnd);
                    }
                    if (lower == null && upper == null) {
                        try (DBIterator it = wb.newIteratorWithBase(db.iterator())) {
                            walk(it, view, rnd);
                        }
                    }
                }
            }
        }
    }

    private static TreeMap<byte[], byte[]> bounded(TreeMap<byte[], byte[]> m, byte[] lower, byte[] upper) {
        TreeMap<byte[], byte[]> out = new TreeMap<>(Arrays::compareUnsigned);
        for (var e : m.entrySet()) {
            if ((lower == null || Arrays.compareUnsigned(e.getKey(), lower) >= 0)
                    && (upper == null || Arrays.compareUnsigned(e.getKey(), upper) < 0)) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** Full scans both ways, then random seeks and steps mixing next and prev, each checked against {@code view}. */
    private static void walk(DBIterator it, TreeMap<byte[], byte[]> view, Random rnd) {
        byte[] expect = view.isEmpty() ? null : view.firstKey();
        for (it.seekToFirst(); it.isValid(); it.next()) {
            check(it, view, expect, "forward scan");
            expect = view.higherKey(expect);
        }
        assertNull(expect, "forward scan ended early (seed " + SEED + ")");
        expect = view.isEmpty() ? null : view.lastKey();
        for (it.seekToLast(); it.isValid(); it.prev()) {
            check(it, view, expect, "backward scan");
            expect = view.lowerKey(expect);
        }
        assertNull(expect, "backward scan ended early (seed " + SEED + ")");
        for (int s = 0; s < 20; s++) {
            byte[] target = rnd.nextBoolean() ? KEYS[rnd.nextInt(KEYS.length)]
                    : new byte[] {(byte) rnd.nextInt(256)};
            byte[] cur;
            String what;
            if (rnd.nextBoolean()) {
                it.seek(target);
                cur = view.ceilingKey(target);
                what = "seek " + Arrays.toString(target);
            } else {
                it.seekForPrev(target);
                cur = view.floorKey(target);
                what = "seekForPrev " + Arrays.toString(target);
            }
            check(it, view, cur, what);
            for (int step = 0; step < 8 && cur != null; step++) {
                if (rnd.nextBoolean()) {
                    it.next();
                    cur = view.higherKey(cur);
                    what += " next";
                } else {
                    it.prev();
                    cur = view.lowerKey(cur);
                    what += " prev";
                }
                check(it, view, cur, what);
            }
        }
    }

    private static void check(DBIterator it, TreeMap<byte[], byte[]> view, byte[] expect, String what) {
        if (expect == null) {
            assertFalse(it.isValid(), () -> what + ": expected the end, at " + (it.isValid() ? Arrays.toString(it.key())
                    : "") + " (seed " + SEED + ")");
            return;
        }
        assertTrue(it.isValid(), () -> what + ": expected " + Arrays.toString(expect) + ", at the end (seed " + SEED + ")");
        assertArrayEquals(expect, it.key(), () -> what + " (seed " + SEED + ")");
        assertArrayEquals(view.get(expect), it.value(), () -> what + " value (seed " + SEED + ")");
        ByteBuffer kb = it.keyBuffer();
        assertEquals(expect.length, kb.remaining());
        ByteBuffer dst = ByteBuffer.allocate(64);
        assertEquals(view.get(expect).length, it.value(dst));
    }
}
