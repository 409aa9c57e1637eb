package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RateLimiter} against a fake clock (no wall-clock timing), and its use by a DB (byte counts only). */
class RateLimiterTest {
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;

    /** Time advances only when the limiter sleeps (and when the test says so). */
    static final class FakeClock implements RateLimiter.Clock {
        long now = 1_000 * SECOND;
        final List<Long> sleeps = new ArrayList<>();

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void sleepNanos(long nanos) {
            sleeps.add(nanos);
            now += nanos;
        }
    }

    private static long compact(RateLimiter l, long total, int writeSize) {
        long slept = 0;
        for (long done = 0; done < total; done += writeSize) {
            slept += l.request(writeSize, false);
        }
        return slept;
    }

    @Test
    void shouldHoldCompactionWritesToTheRate() {
        FakeClock clock = new FakeClock();
        RateLimiter l = new RateLimiter(1 << 20, clock);
        long start = clock.now;
        compact(l, 10L << 20, 4096);
        double seconds = (clock.now - start) / (double) SECOND;
        assertEquals(10.0, seconds, 0.1, "10 MiB at 1 MiB/s");
        assertEquals(10L << 20, l.compactionBytes());
        assertEquals(clock.now - start, l.waitedNanos());
    }

    @Test
    void shouldApplyANewRateToLaterRequests() {
        FakeClock clock = new FakeClock();
        RateLimiter l = new RateLimiter(1 << 20, clock);
        compact(l, 2L << 20, 65536);
        l.setBytesPerSecond(4 << 20);
        long start = clock.now;
        compact(l, 8L << 20, 65536);
        assertEquals(2.0, (clock.now - start) / (double) SECOND, 0.05, "8 MiB at 4 MiB/s");
        l.setBytesPerSecond(0); // unlimited
        start = clock.now;
        compact(l, 100L << 20, 65536);
        assertEquals(start, clock.now, "unlimited: no sleep");
        assertThrows(IllegalArgumentException.class, () -> l.setBytesPerSecond(-1));
    }

    @Test
    void shouldSplitARequestLargerThanTheBurstIntoChunks() {
        FakeClock clock = new FakeClock();
        RateLimiter l = new RateLimiter(1_000_000, clock); // burst: 10 ms = 10,000 bytes
        assertEquals(10_000, l.burstBytes());
        long slept = l.request(1_000_000, false);
        assertEquals(SECOND, slept, 10 * MS);
        assertTrue(clock.sleeps.size() >= 99, "one sleep per chunk: " + clock.sleeps.size());
        for (long s : clock.sleeps) {
            assertTrue(s <= 10 * MS + 1, "each sleep covers at most one burst: " + s);
        }
    }

    @Test
    void shouldChargeFlushesWithoutMakingThemWaitAndMakeCompactionsPayForThem() {
        FakeClock clock = new FakeClock();
        RateLimiter l = new RateLimiter(1_000_000, clock);
        assertEquals(0, l.request(500_000, true), "a flush never waits");
        assertEquals(0, l.request(5_000_000, true), "not even past the rate: the debt is capped at one second");
        long start = clock.now;
        compact(l, 500_000, 4096);
        // one second of flush debt (the cap), then 0.5 s for the compaction's own bytes
        assertEquals(1.5, (clock.now - start) / (double) SECOND, 0.05);
        assertEquals(5_500_000, l.flushBytes());
        assertEquals(0, clock.sleeps.stream().filter(s -> s < 0).count());
    }

    @Test
    void shouldRefillOnlyUpToOneBurstWhileIdle() {
        FakeClock clock = new FakeClock();
        RateLimiter l = new RateLimiter(1_000_000, clock);
        clock.now += 60 * SECOND; // idle for a minute: at most 10 ms of tokens saved
        long start = clock.now;
        compact(l, 1_010_000, 10_000);
        assertEquals(1.0, (clock.now - start) / (double) SECOND, 0.02);
    }

    @TempDir
    Path dir;

    @Test
    void shouldPassEveryTableByteOfFlushesAndCompactionsThroughTheLimiter() {
        RateLimiter limiter = RateLimiter.create(1L << 40); // counts, not timing: fast enough never to matter
        Options o = Options.defaults().level0CompactionTrigger(1000).level0SlowdownTrigger(2000)
                .level0StopTrigger(3000).jmx(false).rateLimiter(limiter);
        long walBefore;
        try (DB db = DB.open(dir, o)) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 2000; i++) {
                    db.put(("k" + i).getBytes(), ("v" + round + "-" + i).getBytes());
                }
                db.flush();
            }
            db.compactRange(null, null);
            DBStats st = db.stats();
            assertTrue(st.ticker(DBStats.COMPACTION_WRITE_BYTES) > 0);
            assertEquals(st.ticker(DBStats.FLUSH_BYTES), limiter.flushBytes(), "flush table bytes");
            assertEquals(st.ticker(DBStats.COMPACTION_WRITE_BYTES), limiter.compactionBytes(), "compaction table bytes");
            walBefore = st.ticker(DBStats.WAL_BYTES);
            assertTrue(walBefore > 0);
            assertEquals(0, st.ticker(DBStats.RATE_LIMIT_THROTTLED_BYTES));
        }
    }
}
