package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.ReadOptions;
import io.o3lsm.Transaction;
import io.o3lsm.TransactionConflictException;
import io.o3lsm.TransactionOptions;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reviewer B: conflicting deletes, range deletions and merges that only the memory node holds. */
class ReviewBDmTransactionTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void pushAway(DB db, int round) {
        for (int i = 0; i < 6_000; i++) {
            db.put(b(String.format("%08d", i)), b("filler-" + round + "-" + "x".repeat(40)));
        }
    }

    @ParameterizedTest
    @CsvSource({"DELETE,0", "DELETE_RANGE,0", "MERGE,0", "DELETE,1048576", "DELETE_RANGE,1048576", "MERGE,1048576",
            "FAILING_GETS,0"})
    void shouldFindConflictingWritesOfEveryKindInOffloadedShards(String how, long readCache) throws Exception {
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"), FakeMemoryNode.options(dir, readCache)
                .adaptiveShardBoundaries(false).mergeOperator(MergeOperators.int64Add()))) {
            byte[] k = b("00000042x");
            db.put(k, MergeOperators.int64(1));
            pushAway(db, 0);
            for (boolean setSnapshot : new boolean[] {false, true}) {
                try (Transaction txn = db.beginTransaction(WriteOptions.defaults(), TransactionOptions.defaults()
                        .setSnapshot(setSnapshot))) {
                    txn.getForUpdate(ReadOptions.defaults(), k);
                    txn.put(k, MergeOperators.int64(5));
                    switch (how) {
                        case "DELETE" -> db.delete(k);
                        case "DELETE_RANGE" -> db.deleteRange(b("00000042"), b("00000043"));
                        case "MERGE", "FAILING_GETS" -> db.merge(k, MergeOperators.int64(1));
                        default -> throw new AssertionError(how);
                    }
                    pushAway(db, setSnapshot ? 2 : 1);
                    String dm = db.property("o3.dm");
                    assertTrue(dm.matches(".*remoteOnlyShards=[1-9].*"), dm);
                    if (how.equals("FAILING_GETS")) {
                        FakeMemoryNode.FAIL_GETS.set(2);
                    }
                    assertThrows(TransactionConflictException.class, txn::commit, how + " setSnapshot=" + setSnapshot);
                }
                db.put(k, MergeOperators.int64(1));
                pushAway(db, 3);
            }
        }
    }
}
