package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteBatchWithIndex;
import io.o3lsm.WriteOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WriteBatchWithIndex and transaction iterators with merges (int64 add) on both sides,
 * deletes, bounds, seeks and direction switches, against a TreeMap.
 */
class WriteBatchWithIndexMergeModelTest {
    private static final long SEED = Long.getLong("tests.seed", System.nanoTime());
    private static final byte[][] KEYS = new byte[24][];

    static {
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = new byte[] {(byte) (i * 10)};
        }
    }

    @TempDir
    Path dir;

    @Test
    void iteratorsWithMergesMatchTheModel() {
        System.out.println("WriteBatchWithIndexMergeModelTest -Dtests.seed=" + SEED);
        Random rnd = new Random(SEED);
        try (DB db = DB.open(dir, Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10)
                .targetFileSize(64 << 10).blockSize(256).mergeOperator(MergeOperators.int64Add()))) {
            TreeMap<byte[], Long> dbModel = new TreeMap<>(Arrays::compareUnsigned);
            for (int round = 0; round < 40; round++) {
                for (int i = 0; i < 15; i++) {
                    byte[] k = KEYS[rnd.nextInt(KEYS.length)];
                    int op = rnd.nextInt(4);
                    if (op == 0) {
                        db.delete(k);
                        dbModel.remove(k);
                    } else if (op == 1) {
                        long v = rnd.nextInt(1000);
                        db.put(k, MergeOperators.int64(v));
                        dbModel.put(k, v);
                    } else {
                        long v = rnd.nextInt(10) + 1;
                        db.merge(k, MergeOperators.int64(v));
                        dbModel.merge(k, v, Long::sum);
                    }
                }
                if (rnd.nextInt(4) == 0) {
                    db.flush();
                }
                boolean useTxn = rnd.nextBoolean();
                TreeMap<byte[], Long> model = new TreeMap<>(dbModel);
                try (WriteBatchWithIndex wb = new WriteBatchWithIndex();
                        Transaction txn = db.beginTransaction(WriteOptions.defaults(), TransactionOptions.defaults())) {
                    int ops = rnd.nextInt(25);
                    for (int i = 0; i < ops; i++) {
                        byte[] k = KEYS[rnd.nextInt(KEYS.length)];
                        int op = rnd.nextInt(3);
                        if (op == 0) {
                            if (useTxn) {
                                txn.delete(k);
                            } else {
                                wb.delete(k);
                            }
                            model.remove(k);
                        } else if (op == 1) {
                            long v = rnd.nextInt(1000);
                            if (useTxn) {
                                txn.put(k, MergeOperators.int64(v));
                            } else {
                                wb.put(k, MergeOperators.int64(v));
                            }
                            model.put(k, v);
                        } else {
                            long v = rnd.nextInt(10) + 1;
                            if (useTxn) {
                                txn.merge(k, MergeOperators.int64(v));
                            } else {
                                wb.merge(k, MergeOperators.int64(v));
                            }
                            model.merge(k, v, Long::sum);
                        }
                    }
                    for (byte[] k : KEYS) {
                        byte[] got = useTxn ? txn.get(ReadOptions.defaults(), k)
                                : wb.getFromBatchAndDB(db, ReadOptions.defaults(), k);
                        Long want = model.get(k);
                        assertEquals(want, got == null ? null : MergeOperators.int64(got),
                                "get " + Arrays.toString(k) + " seed " + SEED);
                    }
                    byte[] lower = rnd.nextBoolean() ? null : KEYS[rnd.nextInt(KEYS.length)];
                    byte[] upper = rnd.nextBoolean() ? null : KEYS[rnd.nextInt(KEYS.length)];
                    ReadOptions ro = ReadOptions.defaults().lowerBound(lower).upperBound(upper);
                    TreeMap<byte[], Long> view = new TreeMap<>(Arrays::compareUnsigned);
                    for (var e : model.entrySet()) {
                        if ((lower == null || Arrays.compareUnsigned(e.getKey(), lower) >= 0)
                                && (upper == null || Arrays.compareUnsigned(e.getKey(), upper) < 0)) {
                            view.put(e.getKey(), e.getValue());
                        }
                    }
                    try (DBIterator it = useTxn ? txn.iterator(ro) : wb.newIteratorWithBase(db, db.iterator(ro), ro)) {
                        walk(it, view, rnd);
                    }
                    if (!useTxn) {
                        // the base without bounds, the batch's bounds from the read options
                        try (DBIterator it = wb.newIteratorWithBase(db, db.iterator(), ro)) {
                            walk(it, view, rnd);
                        }
                    }
                }
            }
        }
    }

    private static void walk(DBIterator it, TreeMap<byte[], Long> view, Random rnd) {
        byte[] expect = view.isEmpty() ? null : view.firstKey();
        for (it.seekToFirst(); it.isValid(); it.next()) {
            check(it, view, expect, "forward");
            expect = view.higherKey(expect);
        }
        check(it, view, expect, "forward end");
        expect = view.isEmpty() ? null : view.lastKey();
        for (it.seekToLast(); it.isValid(); it.prev()) {
            check(it, view, expect, "backward");
            expect = view.lowerKey(expect);
        }
        check(it, view, expect, "backward end");
        for (int s = 0; s < 30; s++) {
            byte[] target = new byte[] {(byte) rnd.nextInt(256)};
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
            for (int step = 0; step < 10 && cur != null; step++) {
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

    private static void check(DBIterator it, TreeMap<byte[], Long> view, byte[] expect, String what) {
        if (expect == null) {
            assertFalse(it.isValid(), () -> what + ": expected the end, at "
                    + (it.isValid() ? Arrays.toString(it.key()) : "") + " seed " + SEED);
            return;
        }
        assertTrue(it.isValid(), () -> what + ": expected " + Arrays.toString(expect) + " seed " + SEED);
        assertArrayEquals(expect, it.key(), () -> what + " seed " + SEED);
        assertEquals(view.get(expect), MergeOperators.int64(it.value()), () -> what + " value seed " + SEED);
    }
}
