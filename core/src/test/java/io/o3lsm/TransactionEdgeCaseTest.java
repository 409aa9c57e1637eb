package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionConflictException;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteOptions;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Optimistic transactions at the edges: merges, bottom-level compactions dropping tombstones, snapshot release, misuse, close. */
class TransactionEdgeCaseTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static ReadOptions ro() {
        return ReadOptions.defaults();
    }

    static WriteOptions wo() {
        return WriteOptions.defaults();
    }

    static Options tiny() {
        return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .blockSize(256).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
    }

    /** Live snapshot count of the engine (reflection: Engine.snapshots.live). */
    static int liveSnapshots(DB db) throws Exception {
        Field ef = db.getClass().getDeclaredField("e");
        ef.setAccessible(true);
        Object engine = ef.get(db);
        Field sf = engine.getClass().getDeclaredField("snapshots");
        sf.setAccessible(true);
        Object snaps = sf.get(engine);
        Field lf = snaps.getClass().getDeclaredField("live");
        lf.setAccessible(true);
        Object live = lf.get(snaps);
        synchronized (live) {
            int n = 0;
            for (Object c : ((Map<?, ?>) live).values()) {
                n += (Integer) c;
            }
            return n;
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mergeAfterGetForUpdateConflictsInMemtableAndAfterCompaction(boolean setSnapshot) {
        for (boolean compact : new boolean[] {false, true}) {
            try (DB db = DB.open(dir.resolve("m" + setSnapshot + compact),
                    tiny().mergeOperator(MergeOperators.int64Add()))) {
                byte[] k = b("k");
                db.merge(k, MergeOperators.int64(1));
                Transaction txn = db.beginTransaction(wo(), TransactionOptions.defaults().setSnapshot(setSnapshot));
                assertEquals(1, MergeOperators.int64(txn.getForUpdate(ro(), k)));
                txn.put(k, MergeOperators.int64(100));
                db.merge(k, MergeOperators.int64(1));
                if (compact) {
                    db.flush();
                    db.compactRange(null, null);
                }
                assertThrows(TransactionConflictException.class, txn::commit, "merge after getForUpdate, compact=" + compact);
                txn.close();
                assertEquals(2, MergeOperators.int64(db.get(k)));
            }
        }
    }

    /**
     * Without a snapshot the second tracked key's read sequence T is above the held snapshot S; its
     * operands before and after T share one stripe (S, now] and a partial merge must keep the newest sequence.
     */
    @Test
    void mergesAroundTheReadSequenceOfALaterTrackedKeyConflictAfterCompaction() {
        try (DB db = DB.open(dir, tiny().mergeOperator(MergeOperators.int64Add()))) {
            byte[] k1 = b("k1");
            byte[] k2 = b("k2");
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), k1); // holds a snapshot here
                db.merge(k2, MergeOperators.int64(1)); // before k2 is tracked: no conflict
                db.merge(k2, MergeOperators.int64(1));
                assertEquals(2, MergeOperators.int64(txn.getForUpdate(ro(), k2)));
                db.merge(k2, MergeOperators.int64(1)); // after: conflict
                db.flush();
                db.compactRange(null, null);
                assertThrows(TransactionConflictException.class, txn::commit);
            }
        }
    }

    /** The key had no entry at all; a put and delete of it after the read leave the key absent for every reader. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void putThenDeleteOfAnAbsentKeyAfterGetForUpdateConflictsAfterBottomCompaction(boolean setSnapshot) {
        try (DB db = DB.open(dir, tiny())) {
            db.put(b("a"), b("1"));
            db.put(b("z"), b("1"));
            byte[] k = b("k");
            try (Transaction txn = db.beginTransaction(wo(), TransactionOptions.defaults().setSnapshot(setSnapshot))) {
                assertNull(txn.getForUpdate(ro(), k));
                txn.put(k, b("mine"));
                db.put(k, b("other"));
                db.delete(k);
                db.flush();
                db.compactRange(null, null);
                assertThrows(TransactionConflictException.class, txn::commit);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void deleteRangeOverAnAbsentKeyAfterGetForUpdateConflictsAfterBottomCompaction(boolean setSnapshot) {
        try (DB db = DB.open(dir, tiny())) {
            db.put(b("a"), b("1"));
            db.put(b("z"), b("1"));
            byte[] k = b("k");
            try (Transaction txn = db.beginTransaction(wo(), TransactionOptions.defaults().setSnapshot(setSnapshot))) {
                assertNull(txn.getForUpdate(ro(), k));
                txn.put(k, b("mine"));
                db.deleteRange(b("j"), b("l"));
                db.flush();
                db.compactRange(null, null);
                assertThrows(TransactionConflictException.class, txn::commit);
            }
        }
    }

    /** Second tracked key (read sequence above the held snapshot): put then delete after it, compacted to the bottom. */
    @Test
    void putThenDeleteOfALaterTrackedKeyConflictsAfterBottomCompaction() {
        try (DB db = DB.open(dir, tiny())) {
            byte[] k1 = b("k1");
            byte[] k2 = b("k2");
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), k1);
                db.put(b("x"), b("1"));
                db.put(b("y"), b("1"));
                assertNull(txn.getForUpdate(ro(), k2));
                db.put(k2, b("other"));
                db.delete(k2);
                db.flush();
                db.compactRange(null, null);
                assertThrows(TransactionConflictException.class, txn::commit);
            }
        }
    }

    /** A write before a key is first tracked (without snapshot) is no conflict, even after compaction. */
    @Test
    void writeBeforeALaterKeyIsTrackedIsNoConflictAfterCompaction() {
        try (DB db = DB.open(dir, tiny())) {
            byte[] k1 = b("k1");
            byte[] k2 = b("k2");
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), k1);
                db.put(k2, b("other"));
                db.deleteRange(b("k2"), b("k3"));
                db.flush();
                db.compactRange(null, null);
                assertNull(txn.getForUpdate(ro(), k2));
                txn.put(k2, b("mine"));
                db.flush();
                db.compactRange(null, null);
                txn.commit();
            }
            assertArrayEquals(b("mine"), db.get(k2));
        }
    }

    @Test
    void everyEndOfATransactionReleasesItsSnapshots() throws Exception {
        try (DB db = DB.open(dir, Options.defaults())) {
            assertEquals(0, liveSnapshots(db));
            // commit
            Transaction t = db.beginTransaction(wo(), TransactionOptions.defaults().setSnapshot(true));
            t.getForUpdate(ro(), b("a"));
            t.put(b("a"), b("1"));
            assertEquals(1, liveSnapshots(db));
            t.commit();
            assertEquals(0, liveSnapshots(db), "after commit");
            // conflict
            t = db.beginTransaction(wo());
            t.getForUpdate(ro(), b("a"));
            assertEquals(1, liveSnapshots(db));
            db.put(b("a"), b("2"));
            assertThrows(TransactionConflictException.class, t::commit);
            assertEquals(0, liveSnapshots(db), "after a conflict");
            // rollback, close
            t = db.beginTransaction(wo(), TransactionOptions.defaults().setSnapshot(true));
            t.put(b("b"), b("1"));
            t.rollback();
            assertEquals(0, liveSnapshots(db), "after rollback");
            t = db.beginTransaction(wo());
            t.put(b("b"), b("1"));
            t.close();
            assertEquals(0, liveSnapshots(db), "after close");
            // write options the DB cannot honour are refused when the transaction begins, not at commit
            assertThrows(IllegalArgumentException.class,
                    () -> db.beginTransaction(WriteOptions.defaults().sync(true).disableWal(true)));
            assertThrows(io.o3lsm.ReplicationException.class,
                    () -> db.beginTransaction(WriteOptions.defaults().replicationAcks(1)));
            assertEquals(0, liveSnapshots(db), "after refused begins");
        }
    }

    @Test
    void misuseIsRefusedClearlyAndLeavesTheTransactionUsable() throws Exception {
        try (DB db = DB.open(dir, Options.defaults())) {
            try (Transaction t = db.beginTransaction(wo())) {
                assertThrows(IllegalArgumentException.class, () -> t.put(null, b("v")));
                assertThrows(IllegalArgumentException.class, () -> t.put(b("k"), null));
                assertThrows(IllegalArgumentException.class, () -> t.delete(null));
                assertThrows(IllegalArgumentException.class, () -> t.get(ro(), null));
                assertThrows(IllegalArgumentException.class, () -> t.getForUpdate(ro(), null));
                assertThrows(IllegalArgumentException.class, () -> t.getForUpdate(null, b("k")));
                assertThrows(IllegalArgumentException.class, () -> t.iterator(null));
                byte[] huge = new byte[DB.MAX_KEY_SIZE + 1];
                assertThrows(IllegalArgumentException.class, () -> t.put(huge, b("v")));
                assertThrows(IllegalArgumentException.class, () -> t.getForUpdate(ro(), huge));
                assertThrows(IllegalStateException.class, () -> t.merge(b("k"), b("1")), "no merge operator");
                assertEquals(0, t.count());
                assertEquals(0, liveSnapshots(db), "nothing tracked by refused calls");
                t.put(b("k"), b("v"));
                t.commit();
            }
            assertArrayEquals(b("v"), db.get(b("k")));
        }
    }

    /** Transactions committing in several threads while the DB closes: every commit returns or throws, none hangs. */
    @Test
    void closeWhileTransactionsCommitNeverHangs() throws Exception {
        for (int round = 0; round < 5; round++) {
            DB db = DB.open(dir.resolve("r" + round), tiny());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            AtomicBoolean stop = new AtomicBoolean();
            Future<?>[] fs = new Future<?>[4];
            for (int t = 0; t < 4; t++) {
                int id = t;
                fs[t] = pool.submit(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        try (Transaction txn = db.beginTransaction(wo(), TransactionOptions.defaults()
                                .setSnapshot(id % 2 == 0))) {
                            byte[] k = b("k" + (i % 7));
                            txn.getForUpdate(ro(), k);
                            txn.put(k, b("v" + id + "." + i + "x".repeat(200)));
                            txn.commit();
                            if (id == 3 && i % 50 == 49) {
                                db.put(b("k1"), b("plain")); // the close may come here too
                            }
                        } catch (TransactionConflictException ex) {
                            // retry
                        } catch (io.o3lsm.DBClosedException ex) {
                            return;
                        }
                        i++;
                    }
                });
            }
            Thread.sleep(150);
            db.close();
            stop.set(true);
            for (Future<?> f : fs) {
                f.get(20, TimeUnit.SECONDS);
            }
            pool.shutdownNow();
        }
    }

}
