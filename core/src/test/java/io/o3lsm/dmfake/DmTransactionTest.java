package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
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

/**
 * Transactions in DM mode (in-process {@link FakeMemoryNode}): the commit's conflict check finds a
 * key's newest entry in shards only the memory node holds (by delegated gets).
 */
class DmTransactionTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Enough writes of other keys that the shards holding earlier writes are sealed and offloaded. */
    private static void pushAway(DB db, int round) {
        for (int i = 0; i < 6_000; i++) {
            db.put(b(String.format("%08d", i)), b("filler-" + round + "-" + "x".repeat(40)));
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
