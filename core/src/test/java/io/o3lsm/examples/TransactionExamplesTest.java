package io.o3lsm.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The examples of docs/transactions.md ({@link TransactionExamples}) do what the doc says; that the
 * doc shows exactly their code is {@link DocsExampleTest}'s check.
 */
class TransactionExamplesTest {

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void shouldIncrementExactlyOnceEachFromSeveralThreads() throws Exception {
        try (DB db = DB.open(dir, Options.defaults())) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 100; i++) {
                            TransactionExamples.increment(db, b("hits"), 1);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(300, MergeOperators.int64(db.get(b("hits"))));
        }
    }

    @Test
    void shouldTransferAllOrNothing() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("acct:a"), MergeOperators.int64(100));
            db.put(b("acct:b"), MergeOperators.int64(0));
            assertTrue(TransactionExamples.transfer(db, b("acct:a"), b("acct:b"), 30));
            assertFalse(TransactionExamples.transfer(db, b("acct:a"), b("acct:b"), 500));
            assertEquals(70, MergeOperators.int64(db.get(b("acct:a"))));
            assertEquals(30, MergeOperators.int64(db.get(b("acct:b"))));
            assertNull(db.get(b("audit:last")), "rolled back to the save point");
        }
    }

    @Test
    void shouldStageReadBackAndApply() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("user:2"), b("Bob"));
            db.put(b("user:3"), b("Cy"));
            assertEquals(List.of("get user:1 = Ada", "user:1 = Ada", "user:3 = Cy"), TransactionExamples.stageAndApply(db));
            assertArrayEquals(b("Ada"), db.get(b("user:1")));
            assertNull(db.get(b("user:2")));
        }
    }
}
