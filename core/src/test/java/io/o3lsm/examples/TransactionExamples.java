package io.o3lsm.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.ReadOptions;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionConflictException;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteBatchWithIndex;
import io.o3lsm.WriteOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The code of docs/transactions.md: each region between {@code // DOCS:transactions/NAME begin} and
 * {@code end} is shown there as it is (checked by DocsExampleTest; TransactionExamplesTest runs them).
 * Edit here, then copy into the doc.
 */
final class TransactionExamples {
    private TransactionExamples() {
    }

    // DOCS:transactions/counter begin
    /** Adds {@code delta} to the counter at {@code key}, retrying while other writers get in the way. */
    static long increment(DB db, byte[] key, long delta) {
        while (true) {
            try (Transaction txn = db.beginTransaction(WriteOptions.defaults(),
                    TransactionOptions.defaults().setSnapshot(true))) {
                byte[] v = txn.getForUpdate(ReadOptions.defaults(), key);   // tracked for the commit check
                long n = (v == null ? 0 : MergeOperators.int64(v)) + delta;
                txn.put(key, MergeOperators.int64(n));
                txn.commit();                                               // atomic check-and-write
                return n;
            } catch (TransactionConflictException conflict) {
                // someone wrote key after our snapshot; nothing of ours was written: try again
            }
        }
    }
    // DOCS:transactions/counter end

    // DOCS:transactions/transfer begin
    /** Moves {@code amount} between two accounts, all or nothing; false if the balance is too low. */
    static boolean transfer(DB db, byte[] from, byte[] to, long amount) {
        try (Transaction txn = db.beginTransaction(WriteOptions.defaults().sync(true))) {
            long a = MergeOperators.int64(txn.getForUpdate(ReadOptions.defaults(), from));
            long b = MergeOperators.int64(txn.getForUpdate(ReadOptions.defaults(), to));
            if (a < amount) {
                return false;                                  // close() rolls back: nothing written
            }
            txn.put(from, MergeOperators.int64(a - amount));
            txn.setSavePoint();
            txn.put("audit:last".getBytes(UTF_8), from);
            txn.rollbackToSavePoint();                         // undoes the audit put only
            txn.put(to, MergeOperators.int64(b + amount));
            txn.commit();                                      // may throw TransactionConflictException
            return true;
        }
    }
    // DOCS:transactions/transfer end

    // DOCS:transactions/wbwi begin
    /** Stages writes, reads them back over the DB, then applies them as one batch. */
    static List<String> stageAndApply(DB db) {
        List<String> seen = new ArrayList<>();
        try (WriteBatchWithIndex batch = new WriteBatchWithIndex()) {
            batch.put("user:1".getBytes(UTF_8), "Ada".getBytes(UTF_8))
                    .delete("user:2".getBytes(UTF_8));
            byte[] one = batch.getFromBatchAndDB(db, ReadOptions.defaults(), "user:1".getBytes(UTF_8)); // "Ada"
            seen.add("get user:1 = " + new String(one, UTF_8));

            ReadOptions users = ReadOptions.defaults()
                    .lowerBound("user:".getBytes(UTF_8)).upperBound("user;".getBytes(UTF_8));
            try (DBIterator it = batch.newIteratorWithBase(db, db.iterator(users), users)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {  // the batch over the DB: user:2 is gone
                    seen.add(new String(it.key(), UTF_8) + " = " + new String(it.value(), UTF_8));
                }
            }
            db.write(batch.writeBatch(), WriteOptions.defaults());
        }
        return seen;
    }
    // DOCS:transactions/wbwi end
}
