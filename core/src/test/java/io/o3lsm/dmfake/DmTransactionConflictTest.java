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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A transaction's commit check finds conflicting writes — puts, deletes, range deletions, merges —
 * that only the (fake) memory node holds, and no conflict where the key's newest entry there is older
 * than the snapshot.
 */
class DmTransactionConflictTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Fills the memtable until some shard is held only by the (fake) memory node: offloads complete asynchronously. */
    private static void pushAway(DB db, int round) throws InterruptedException {
        for (int i = 0; i < 6_000 || (i < 200_000 && !db.property("o3.dm").matches(".*remoteOnlyShards=[1-9].*"));
                i++) {
            db.put(b(String.format("%08d", i % 6_000)), b("filler-" + round + "-" + (i / 6_000) + "x".repeat(40)));
            if (i >= 6_000 && i % 1_000 == 0) {
                Thread.sleep(5); // let the offload thread complete what it has
            }
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

    @Test
    void shouldFindConflictingWritesInOffloadedShards() throws Exception {
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"),
                FakeMemoryNode.options(dir, 0).adaptiveShardBoundaries(false))) {
            byte[] k = b("00000042x");
            db.put(k, b("1"));
            pushAway(db, 0);
            long getsBefore = FakeMemoryNode.GETS.get();
            try (Transaction txn = db.beginTransaction(WriteOptions.defaults(), TransactionOptions.defaults())) {
                assertArrayEquals(b("1"), txn.getForUpdate(ReadOptions.defaults(), k));
                txn.put(k, b("2"));
                db.put(k, b("outside"));
                pushAway(db, 1); // the conflicting put now sits in an offloaded shard
                String dm = db.property("o3.dm");
                assertTrue(dm.matches(".*remoteOnlyShards=[1-9].*"), dm);
                assertThrows(TransactionConflictException.class, txn::commit);
            }
            assertTrue(FakeMemoryNode.GETS.get() > getsBefore, "the check asked the memory node");
            assertArrayEquals(b("outside"), db.get(k));
            try (Transaction txn = db.beginTransaction(WriteOptions.defaults(), TransactionOptions.defaults()
                    .setSnapshot(true))) {
                assertArrayEquals(b("outside"), txn.getForUpdate(ReadOptions.defaults(), k));
                txn.put(k, b("3"));
                pushAway(db, 2); // other keys only: no conflict, the key's newest entry is older and remote
                txn.commit();
            }
            assertArrayEquals(b("3"), db.get(k));
        }
    }
}
