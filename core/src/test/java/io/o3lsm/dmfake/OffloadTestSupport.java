package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What the offload tests share: the engine's log lines captured while a test runs (attach in
 * {@code @BeforeEach}, detach in {@code @AfterEach}), polling for a condition with a bound, and
 * comparing a DB with its model (also after a reopen without a memory node).
 */
final class OffloadTestSupport extends Handler {
    /** Messages logged to {@code io.o3lsm} since {@link #attach}. */
    final List<String> messages = new CopyOnWriteArrayList<>();

    void attach() {
        Logger.getLogger("io.o3lsm").addHandler(this);
    }

    void detach() {
        Logger.getLogger("io.o3lsm").removeHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        messages.add(r.getMessage());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    /** Polls {@code cond} every 5 ms; fails after 60 s naming {@code what}. */
    static void waitFor(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Every key and value of {@code d}, in order, equals the model's. */
    static void assertSameAsModel(DB d, TreeMap<String, String> model) {
        try (DBIterator it = d.iterator()) {
            Iterator<Map.Entry<String, String>> want = model.entrySet().iterator();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                assertTrue(want.hasNext(), "more keys than the model: " + new String(it.key(), StandardCharsets.UTF_8));
                Map.Entry<String, String> e = want.next();
                assertEquals(e.getKey(), new String(it.key(), StandardCharsets.UTF_8));
                assertEquals(e.getValue(), new String(it.value(), StandardCharsets.UTF_8));
            }
            assertFalse(want.hasNext(), "every key of the model is there");
        }
    }

    /** Reopens {@code db} without a memory node (WAL replay covers what was never flushed) and compares with the model. */
    static void assertReopenedSameAsModel(Path db, TreeMap<String, String> model) {
        try (DB d = DB.open(db, Options.defaults())) {
            assertSameAsModel(d, model);
        }
    }
}
