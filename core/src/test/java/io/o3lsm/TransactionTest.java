package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Optimistic transactions: visibility, rollback, conflicts with every kind of write, save points, concurrency. */
class TransactionTest {
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

    static TransactionOptions snap(boolean setSnapshot) {
        return TransactionOptions.defaults().setSnapshot(setSnapshot);
    }

    /** Tiny memtables and files: flushes and compactions happen within a few hundred writes. */
    static Options tiny() {
        return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .blockSize(256).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
    }

    @Test
    void shouldShowWritesOnlyToTheTransactionUntilCommit() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("a"), b("1"));
            db.put(b("c"), b("3"));
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.put(b("a"), b("10"));
                txn.put(b("b"), b("20"));
                txn.delete(b("c"));
                assertEquals(3, txn.count());
                assertArrayEquals(b("10"), txn.get(ro(), b("a")));
                assertArrayEquals(b("20"), txn.get(ro(), b("b")));
                assertNull(txn.get(ro(), b("c")), "deleted in the transaction");
                assertArrayEquals(b("1"), db.get(b("a")), "not visible outside before commit");
                assertNull(db.get(b("b")));
                assertArrayEquals(b("3"), db.get(b("c")));
                try (DBIterator it = txn.iterator(ro())) {
                    List<String> seen = new ArrayList<>();
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        seen.add(new String(it.key(), StandardCharsets.UTF_8) + "=" + new String(it.value(),
                                StandardCharsets.UTF_8));
                    }
                    assertEquals(List.of("a=10", "b=20"), seen);
                }
                txn.commit();
                assertThrows(IllegalStateException.class, txn::commit, "a transaction commits once");
                assertThrows(IllegalStateException.class, () -> txn.put(b("x"), b("y")));
            }
            assertArrayEquals(b("10"), db.get(b("a")));
            assertArrayEquals(b("20"), db.get(b("b")));
            assertNull(db.get(b("c")));
        }
    }

    @Test
    void shouldDiscardWritesOnRollbackAndOnClose() {
        try (DB db = DB.open(dir, Options.defaults())) {
            Transaction t1 = db.beginTransaction(wo());
            t1.put(b("a"), b("1"));
            t1.rollback();
            assertThrows(IllegalStateException.class, () -> t1.get(ro(), b("a")));
            t1.close();
            try (Transaction t2 = db.beginTransaction(wo(), snap(true))) {
                t2.put(b("b"), b("2"));
            }
            assertNull(db.get(b("a")));
            assertNull(db.get(b("b")));
            long seq = ((io.o3lsm.internal.db.DBImpl) db).lastSequence();
            assertEquals(0, seq, "nothing was written");
        }
    }

    @Test
    void shouldReadAtTheSnapshotTakenAtBegin() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("k"), b("old"));
            try (Transaction withSnap = db.beginTransaction(wo(), snap(true));
                    Transaction latest = db.beginTransaction(wo(), snap(false))) {
                db.put(b("k"), b("new"));
                assertArrayEquals(b("old"), withSnap.get(ro(), b("k")));
                assertArrayEquals(b("new"), latest.get(ro(), b("k")));
                try (DBIterator it = withSnap.iterator(ro())) {
                    it.seekToFirst();
                    assertArrayEquals(b("old"), it.value());
                }
            }
        }
    }

    /** The writes another party may do to a key a transaction has read for update. */
    enum Interference {
        PUT((db, k) -> db.put(k, b("other"))),
        DELETE((db, k) -> db.delete(k)),
        DELETE_RANGE((db, k) -> db.deleteRange(b("j"), b("l"))),
        BATCH((db, k) -> {
            try (WriteBatch wb = new WriteBatch()) {
                db.write(wb.put(b("unrelated"), b("x")).delete(k));
            }
        }),
        TRANSACTION((db, k) -> {
            try (Transaction other = db.beginTransaction(wo())) {
                other.put(k, b("other txn"));
                other.commit();
            }
        });

        final BiConsumer<DB, byte[]> write;

        Interference(BiConsumer<DB, byte[]> write) {
            this.write = write;
        }
    }

    private void assertConflict(Interference how, boolean setSnapshot, boolean flushAndCompact) {
        try (DB db = DB.open(dir.resolve(how + "-" + setSnapshot + "-" + flushAndCompact), tiny())) {
            byte[] k = b("k");
            db.put(k, b("1"));
            db.put(b("filler"), b("f"));
            Transaction txn = db.beginTransaction(wo(), snap(setSnapshot));
            assertArrayEquals(b("1"), txn.getForUpdate(ro(), k));
            txn.put(k, b("2"));
            txn.put(b("also-written"), b("by the failed txn"));
            how.write.accept(db, k);
            if (flushAndCompact) {
                // a deletion at the bottom level would be dropped here unless the transaction holds its sequence
                db.flush();
                db.compactRange(null, null);
            }
            long before = ((io.o3lsm.internal.db.DBImpl) db).lastSequence();
            TransactionConflictException ex = assertThrows(TransactionConflictException.class, txn::commit,
                    how + " after getForUpdate must conflict");
            assertArrayEquals(k, ex.key());
            assertTrue(ex.conflictSequence() > ex.readSequence(), ex.getMessage());
            assertTrue(ex.getMessage().contains("0x6b"), ex.getMessage());
            assertEquals(before, ((io.o3lsm.internal.db.DBImpl) db).lastSequence(), "the failed commit wrote nothing");
            assertNull(db.get(b("also-written")));
            assertThrows(IllegalStateException.class, () -> txn.put(k, b("3")), "a failed transaction has ended");
            txn.close();
            // the DB still takes writes, transactional or not
            db.put(b("after"), b("ok"));
            try (Transaction again = db.beginTransaction(wo(), snap(setSnapshot))) {
                byte[] v = again.getForUpdate(ro(), k);
                again.put(k, b("retried"));
                again.commit();
                assertTrue(v == null || v.length > 0);
            }
            assertArrayEquals(b("retried"), db.get(k));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "DELETE", "DELETE_RANGE", "BATCH", "TRANSACTION"})
    void shouldConflictWhenAReadKeyWasWrittenAfterTheSnapshot(String how) {
        assertConflict(Interference.valueOf(how), true, false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "DELETE", "DELETE_RANGE", "BATCH", "TRANSACTION"})
    void shouldConflictWhenAReadKeyWasWrittenAfterGetForUpdateWithoutSnapshot(String how) {
        assertConflict(Interference.valueOf(how), false, false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "DELETE", "DELETE_RANGE", "TRANSACTION"})
    void shouldConflictAfterFlushAndFullCompactionDroppedOrMovedTheWrite(String how) {
        assertConflict(Interference.valueOf(how), false, true);
        assertConflict(Interference.valueOf(how), true, true);
    }

    @Test
    void shouldNotConflictWithWritesBeforeTheSnapshotOrBeforeTracking() {
        try (DB db = DB.open(dir, tiny())) {
            db.put(b("k"), b("1"));
            // with a snapshot: a write before begin is fine
            try (Transaction txn = db.beginTransaction(wo(), snap(true))) {
                txn.getForUpdate(ro(), b("k"));
                txn.put(b("k"), b("2"));
                db.put(b("other"), b("x")); // another key: no conflict
                txn.commit();
            }
            assertArrayEquals(b("2"), db.get(b("k")));
            // without a snapshot: a write after begin but before the key is tracked is fine
            try (Transaction txn = db.beginTransaction(wo(), snap(false))) {
                db.put(b("k"), b("3"));
                db.deleteRange(b("a"), b("z"));
                db.put(b("k"), b("4"));
                db.flush();
                db.compactRange(null, null);
                assertArrayEquals(b("4"), txn.getForUpdate(ro(), b("k")));
                txn.put(b("k"), b("5"));
                txn.commit();
            }
            assertArrayEquals(b("5"), db.get(b("k")));
            // with a snapshot, the same write is a conflict
            try (Transaction txn = db.beginTransaction(wo(), snap(true))) {
                db.put(b("k"), b("6"));
                assertArrayEquals(b("5"), txn.getForUpdate(ro(), b("k")));
                txn.put(b("k"), b("7"));
                assertThrows(TransactionConflictException.class, txn::commit);
            }
            assertArrayEquals(b("6"), db.get(b("k")));
        }
    }

    @Test
    void shouldNotTrackKeysReadWithPlainGet() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("k"), b("1"));
            try (Transaction txn = db.beginTransaction(wo(), snap(true))) {
                assertArrayEquals(b("1"), txn.get(ro(), b("k")));
                db.put(b("k"), b("2"));
                txn.put(b("other"), b("x"));
                txn.commit();
            }
            assertArrayEquals(b("x"), db.get(b("other")));
        }
    }

    @Test
    void shouldConflictOnABlindWriteToAKeyWrittenAfterTheSnapshot() {
        try (DB db = DB.open(dir, Options.defaults())) {
            try (Transaction txn = db.beginTransaction(wo(), snap(true))) {
                db.put(b("k"), b("outside"));
                txn.put(b("k"), b("inside")); // tracked at the snapshot, like RocksJava's optimistic put
                assertThrows(TransactionConflictException.class, txn::commit);
            }
            assertArrayEquals(b("outside"), db.get(b("k")));
        }
    }

    @Test
    void shouldCheckReadOnlyTransactionsToo() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("k"), b("1"));
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), b("k"));
                txn.commit(); // nothing written, nothing changed
            }
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), b("k"));
                db.delete(b("k"));
                assertThrows(TransactionConflictException.class, txn::commit);
            }
        }
    }

    @Test
    void shouldRollBackToSavePointsWritesAndTrackedKeys() {
        try (DB db = DB.open(dir, Options.defaults())) {
            try (Transaction txn = db.beginTransaction(wo(), snap(true))) {
                assertThrows(IllegalStateException.class, txn::rollbackToSavePoint);
                txn.put(b("a"), b("1"));
                txn.setSavePoint();
                txn.put(b("a"), b("2"));
                txn.put(b("b"), b("2"));
                txn.setSavePoint();
                txn.delete(b("a"));
                assertNull(txn.get(ro(), b("a")));
                txn.rollbackToSavePoint();
                assertArrayEquals(b("2"), txn.get(ro(), b("a")));
                assertArrayEquals(b("2"), txn.get(ro(), b("b")));
                txn.rollbackToSavePoint();
                assertArrayEquals(b("1"), txn.get(ro(), b("a")));
                assertNull(txn.get(ro(), b("b")));
                assertEquals(1, txn.count());
                assertThrows(IllegalStateException.class, txn::rollbackToSavePoint, "both save points are used up");
                // b was first tracked after the first save point: rolled back, it is no longer checked
                db.put(b("b"), b("outside"));
                txn.commit();
            }
            assertArrayEquals(b("1"), db.get(b("a")));
            assertArrayEquals(b("outside"), db.get(b("b")));
        }
    }

    @Test
    void shouldRefuseGetForUpdateAtAnotherSnapshot() {
        try (DB db = DB.open(dir, Options.defaults()); Snapshot s = db.snapshot();
                Transaction txn = db.beginTransaction(wo(), snap(true))) {
            assertThrows(IllegalArgumentException.class, () -> txn.getForUpdate(ReadOptions.defaults().snapshot(s),
                    b("k")));
            assertNull(txn.get(ReadOptions.defaults().snapshot(s), b("k")), "a plain get may use any snapshot");
        }
    }

    @Test
    void shouldCombineMergesWithTheTransactionsOwnPut() {
        Options o = Options.defaults().mergeOperator(MergeOperators.int64Add());
        try (DB db = DB.open(dir, o); Transaction txn = db.beginTransaction(wo())) {
            txn.put(b("n"), MergeOperators.int64(10));
            txn.merge(b("n"), MergeOperators.int64(5));
            txn.merge(b("n"), MergeOperators.int64(-2));
            assertEquals(13, MergeOperators.int64(txn.get(ro(), b("n"))));
            txn.delete(b("m"));
            txn.merge(b("m"), MergeOperators.int64(7));
            assertEquals(7, MergeOperators.int64(txn.get(ro(), b("m"))), "operands after a delete start from nothing");
            try (DBIterator it = txn.iterator(ro())) {
                it.seek(b("n"));
                assertArrayEquals(b("n"), it.key());
                assertEquals(13, MergeOperators.int64(it.value()));
            }
        }
        try (DB db = DB.open(dir, Options.defaults()); Transaction txn = db.beginTransaction(wo())) {
            assertThrows(IllegalStateException.class, () -> txn.merge(b("n"), MergeOperators.int64(1)),
                    "no merge operator");
        }
    }

    /** Operands already in the DB (memtable and tables) sit under a transaction's and a batch's own operands. */
    @Test
    void shouldCombineMergesOverTheDatabasesOperandsAndCommitThem() {
        Options o = tiny().mergeOperator(MergeOperators.int64Add());
        try (DB db = DB.open(dir, o)) {
            db.put(b("n"), MergeOperators.int64(100));
            db.merge(b("n"), MergeOperators.int64(1));
            db.flush();
            db.merge(b("n"), MergeOperators.int64(2)); // value and one operand in a table, one in the memtable
            try (Transaction txn = db.beginTransaction(wo())) {
                assertEquals(103, MergeOperators.int64(txn.getForUpdate(ro(), b("n"))));
                txn.merge(b("n"), MergeOperators.int64(10));
                assertEquals(113, MergeOperators.int64(txn.get(ro(), b("n"))));
                try (DBIterator it = txn.iterator(ro())) {
                    it.seek(b("n"));
                    assertEquals(113, MergeOperators.int64(it.value()));
                }
                txn.commit();
            }
            assertEquals(113, MergeOperators.int64(db.get(b("n"))));
            try (WriteBatchWithIndex batch = new WriteBatchWithIndex()) {
                batch.merge(b("n"), MergeOperators.int64(1000));
                assertEquals(1113, MergeOperators.int64(batch.getFromBatchAndDB(db, ro(), b("n"))));
                db.write(batch.writeBatch(), wo());
            }
            db.compactRange(null, null);
            assertEquals(1113, MergeOperators.int64(db.get(b("n"))));
            // a merge by someone else after the transaction read the key is a conflict
            try (Transaction txn = db.beginTransaction(wo())) {
                txn.getForUpdate(ro(), b("n"));
                db.merge(b("n"), MergeOperators.int64(1));
                txn.merge(b("n"), MergeOperators.int64(1));
                assertThrows(TransactionConflictException.class, txn::commit);
            }
            assertEquals(1114, MergeOperators.int64(db.get(b("n"))));
        }
    }

    /**
     * Threads increment counters by read-modify-write transactions, retrying on conflict, while a
     * writer puts other keys (group commits mix both) and flushes run: every increment counts once. A
     * check not atomic with the write would lose increments.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void shouldCountEveryIncrementOfConcurrentTransactions(boolean setSnapshot) throws Exception {
        int threads = 4;
        int perThread = 150;
        int counters = 3;
        AtomicLong conflicts = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try (DB db = DB.open(dir, tiny())) {
            ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
            try {
                Future<?> noise = pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        db.put(b("noise" + (i % 500)), new byte[200]);
                        if (i % 400 == 399) {
                            db.flush();
                        }
                    }
                    return null;
                });
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            byte[] key = b("counter" + ((id + i) % counters));
                            while (true) {
                                try (Transaction txn = db.beginTransaction(wo(), snap(setSnapshot))) {
                                    byte[] v = txn.getForUpdate(ro(), key);
                                    long n = v == null ? 0 : MergeOperators.int64(v);
                                    txn.put(key, MergeOperators.int64(n + 1));
                                    txn.commit();
                                    break;
                                } catch (TransactionConflictException ex) {
                                    conflicts.incrementAndGet();
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(120, TimeUnit.SECONDS);
                }
                stop.set(true);
                noise.get(60, TimeUnit.SECONDS);
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
            long total = 0;
            for (int c = 0; c < counters; c++) {
                byte[] v = db.get(b("counter" + c));
                total += v == null ? 0 : MergeOperators.int64(v);
            }
            System.out.println("TransactionTest concurrent counters (setSnapshot=" + setSnapshot + "): " + conflicts.get()
                    + " conflicts retried");
            assertEquals((long) threads * perThread, total, "every committed increment counts exactly once");
        }
    }

    @Test
    void shouldRefuseUseAfterTheDbCloses() {
        DB db = DB.open(dir, Options.defaults());
        Transaction txn = db.beginTransaction(wo(), snap(true));
        txn.put(b("a"), b("1"));
        db.close();
        assertThrows(DBClosedException.class, txn::commit);
        txn.close();
        assertThrows(DBClosedException.class, () -> db.beginTransaction(wo()));
        assertFalse(txn.toString().isEmpty());
    }
}
