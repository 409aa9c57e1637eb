package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionConflictException;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Read-modify-write transactions and plain merges (and merge batches) on the same
 * counters, with flushes and compactions running: a merge landing between the check and the write
 * would be overwritten by the transaction's put (a lost increment).
 */
class TransactionMergeAtomicityTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void transactionsAndPlainMergesOnTheSameCountersLoseNoIncrement(boolean setSnapshot) throws Exception {
        int counters = 2;
        AtomicLong added = new AtomicLong();
        try (DB db = DB.open(dir, Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10)
                .targetFileSize(64 << 10).blockSize(256).level0CompactionTrigger(2)
                .mergeOperator(MergeOperators.int64Add()))) {
            ExecutorService pool = Executors.newFixedThreadPool(5);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 300; i++) {
                            byte[] key = b("c" + ((id + i) % counters));
                            while (true) {
                                try (Transaction txn = db.beginTransaction(WriteOptions.defaults(),
                                        TransactionOptions.defaults().setSnapshot(setSnapshot))) {
                                    byte[] v = txn.getForUpdate(ReadOptions.defaults(), key);
                                    long n = v == null ? 0 : MergeOperators.int64(v);
                                    txn.put(key, MergeOperators.int64(n + 1));
                                    txn.put(b("pad" + id), new byte[300]);
                                    txn.commit();
                                    added.incrementAndGet();
                                    break;
                                } catch (TransactionConflictException ex) {
                                    // retry
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (int t = 0; t < 2; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 1500; i++) {
                            byte[] key = b("c" + (i % counters));
                            if (i % 3 == 0) {
                                try (WriteBatch wb = new WriteBatch()) {
                                    wb.put(b("noise" + id + "." + (i % 100)), new byte[300]);
                                    wb.merge(key, MergeOperators.int64(1));
                                    db.write(wb);
                                }
                            } else {
                                db.merge(key, MergeOperators.int64(1));
                            }
                            added.incrementAndGet();
                            if (i % 300 == 299) {
                                db.flush();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(180, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            long total = 0;
            for (int c = 0; c < counters; c++) {
                byte[] v = db.get(b("c" + c));
                total += v == null ? 0 : MergeOperators.int64(v);
            }
            assertEquals(added.get(), total, "every increment counts once");
        }
    }
}
