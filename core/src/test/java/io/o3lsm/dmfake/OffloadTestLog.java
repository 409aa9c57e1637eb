package io.o3lsm.dmfake;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What the offload tests share: the engine's log lines captured while a test runs (attach in
 * {@code @BeforeEach}, detach in {@code @AfterEach}), and polling for a condition with a bound.
 */
final class OffloadTestLog extends Handler {
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
}
