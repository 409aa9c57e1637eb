package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The rate limiter at extreme rates, rate changes and interrupts; listeners at close and at a failed open. */
@Timeout(120)
class RateLimiterAndListenerEdgeCaseTest {
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path dir;

    /** F1: rate * BURST_NANOS overflows above ~922 GB/s: burst collapses to 1 byte, every byte one loop + sleep. */
    @Test
    void hugeRateMustNotCollapseTheBurstToOneByte() {
        RateLimiterTest.FakeClock clock = new RateLimiterTest.FakeClock();
        RateLimiter l = new RateLimiter(Long.MAX_VALUE, clock);
        assertTrue(l.burstBytes() > 1_000_000, "burst at Long.MAX_VALUE B/s: " + l.burstBytes());
        RateLimiter t = new RateLimiter(1_000_000_000_000L, clock); // 1 TB/s
        assertEquals(10_000_000_000L, t.burstBytes(), "burst at 1 TB/s = 10 ms of the rate");
    }

    /** F1 (cost): at Long.MAX_VALUE ("effectively unlimited") a 4 KiB block is 4096 lock rounds and sleeps. */
    @Test
    void hugeRateMustNotSleepPerByte() {
        RateLimiterTest.FakeClock clock = new RateLimiterTest.FakeClock();
        RateLimiter l = new RateLimiter(Long.MAX_VALUE, clock);
        l.request(4096, false);
        assertTrue(clock.sleeps.size() <= 1, "sleeps for one 4 KiB compaction write: " + clock.sleeps.size());
    }

    /**
     * F2: a flush debt taken at a high rate is paid at the new, lower rate: 1 GiB/s -> 1 MiB/s after a 1 GiB
     * flush makes the next 4 KiB compaction write sleep ~1024 s in one uninterruptible sleep (close() waits).
     */
    @Test
    void loweringTheRateMustNotTurnOldDebtIntoAQuarterHourSleep() {
        RateLimiterTest.FakeClock clock = new RateLimiterTest.FakeClock();
        RateLimiter l = new RateLimiter(1L << 30, clock);
        l.request(1L << 30, true); // a flush burst: 1 s of debt at 1 GiB/s
        l.setBytesPerSecond(1L << 20);
        long slept = l.request(4096, false);
        assertTrue(slept <= 2 * SECOND, "one 4 KiB compaction write slept " + slept / 1e9 + " s");
    }

    /** F3: an interrupted compaction thread busy-spins in the limiter for the whole wait (parkNanos returns at once). */
    @Test
    void interruptedWaitMustNotSpin() {
        RateLimiter l = RateLimiter.create(1000); // burst 10 B; 1000 B = ~1 s of waits
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Thread.currentThread().interrupt();
        long cpu0 = mx.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        try {
            l.request(1000, false);
        } finally {
            Thread.interrupted();
        }
        long wall = System.nanoTime() - t0;
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        assertTrue(wall < 200_000_000L || cpu < wall / 2,
                "interrupted request: wall " + wall / 1e6 + " ms, cpu " + cpu / 1e6 + " ms (spinning)");
    }

    /** F4: a failed open after the Engine (and its listener thread) exists but before DBImpl is assigned leaks the thread. */
    @Test
    void failedOpenMustNotLeakTheListenerThread() throws Exception {
        EventListener l = new EventListener() {
        };
        Options o = Options.defaults().addListener(l).adaptiveShardBoundaries(false)
                .shardBoundaries(List.of(new byte[DB.MAX_KEY_SIZE]));
        Throwable t = assertThrows(Throwable.class,
                () -> DB.open(dir, o, List.of(new ColumnFamilyDescriptor("default"), new ColumnFamilyDescriptor("b"))));
        Thread.sleep(200);
        long alive = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.getName().startsWith("o3lsm-listener") && th.getName().contains(dir.toString()))
                .count();
        assertEquals(0, alive, "listener threads alive after a failed open (" + t + ")");
    }

    /**
     * F6: DB.close() from a listener callback (the listener thread) joins its own thread for 5 s, then
     * interrupts itself; the rest of close (WAL sync, MANIFEST) runs with the interrupt flag set.
     */
    @Test
    void closeFromAListenerMustNotWaitForItselfNorInterruptItself() throws Exception {
        java.util.concurrent.atomic.AtomicReference<DB> ref = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Object> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        EventListener closer = new EventListener() {
            @Override
            public void onFlushCompleted(FlushJobInfo info) {
                long t0 = System.nanoTime();
                try {
                    ref.get().close();
                    outcome.set("closed in " + (System.nanoTime() - t0) / 1_000_000 + " ms, interrupted="
                            + Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    outcome.set("close threw after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + t);
                }
                done.countDown();
            }
        };
        DB db = DB.open(dir, Options.defaults().addListener(closer));
        ref.set(db);
        db.put("k".getBytes(), "v".getBytes());
        try {
            db.flush(); // its completion event closes the DB, maybe before flush() returns here
            db.put("k2".getBytes(), "v2".getBytes()); // in the WAL only: close must sync it
        } catch (io.o3lsm.DBClosedException closedAlready) {
            // the listener's close won the race
        }
        assertTrue(done.await(30, java.util.concurrent.TimeUnit.SECONDS));
        String o = String.valueOf(outcome.get());
        assertTrue(o.startsWith("closed in ") && Long.parseLong(o.substring(10, o.indexOf(" ms"))) < 4000
                && o.endsWith("interrupted=false"), o);
    }

    /**
     * F2 end to end: 10 MiB/s, two flushes leave several MiB of debt, the operator lowers the rate to 1 KiB/s:
     * the next compaction write sleeps the old debt at the new rate (hours) in one uninterruptible sleep,
     * and close() waits for it (compactRange runs in its caller; a background compaction is joined likewise).
     */
    @Test
    void closeMustNotHangOnDebtRepricedAtALowerRate() throws Exception {
        RateLimiter limiter = RateLimiter.create(10L << 20);
        DB db = DB.open(dir, Options.defaults().rateLimiter(limiter).level0CompactionTrigger(100)
                .level0SlowdownTrigger(200).level0StopTrigger(300));
        byte[] v = new byte[8192];
        new java.util.Random(1).nextBytes(v);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 600; i++) {
                db.put(String.format("k%06d", i).getBytes(), v);
            }
            db.flush();
        }
        limiter.setBytesPerSecond(1024);
        Thread compact = new Thread(() -> {
            try {
                db.compactRange(null, null);
            } catch (RuntimeException ignored) {
                // closed
            }
        });
        compact.setDaemon(true);
        compact.start();
        Thread.sleep(500);
        Thread closer = new Thread(db::close);
        closer.setDaemon(true);
        long t0 = System.nanoTime();
        closer.start();
        closer.join(15_000);
        assertTrue(!closer.isAlive(), "close() still waiting after " + (System.nanoTime() - t0) / 1_000_000
                + " ms; limiter waited so far " + limiter.waitedNanos() / 1e9 + " s (one sleep)");
    }
}
