package io.o3lsm;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A token bucket for the bytes flushes and compactions write into table files in this process
 * ({@link Options#rateLimiter}), so compaction does not take the disk away from foreground reads.
 * Never applied to the WAL, the MANIFEST or reads. One limiter may be shared by several DBs: they
 * then share its rate. Guide: {@code docs/operations/rate-limiter.md}.
 *
 * <h2>Rules</h2>
 * <ul>
 * <li><b>Rate</b>: {@link #setBytesPerSecond} at any time; 0 means unlimited. A change applies to
 * requests from then on; a writer already sleeping finishes that sleep (at most one chunk plus the
 * debt below, at the old rate). Debt left from the old rate is kept up to one second of the new one.
 * An interrupted writer stops waiting.</li>
 * <li><b>Bucket</b>: tokens refill continuously (nanosecond clock) up to a burst of 10 ms of the rate
 * (at least 1 byte). A request larger than the burst is split into burst-sized chunks, each waited for
 * in turn, so a 64 MiB table does not wait once for its whole size nor pass at once.</li>
 * <li><b>Compaction waits, flush does not</b>: a flush's bytes are charged to the bucket (it may go
 * into debt, at most one second of the rate) but the flush never sleeps — a stalled flush stalls
 * writers (memtable memory), a stalled compaction only delays it. Compactions then wait for that debt
 * as well, so the total stays near the rate as long as flushes alone stay below it.</li>
 * <li>Waiting compactions are served in the order they asked (each reserves its chunk and sleeps
 * until the bucket would have held it).</li>
 * </ul>
 * Thread-safe.
 */
public final class RateLimiter {
    /** Refill granularity: the bucket holds at most this long of the rate. */
    static final long BURST_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Time source and sleeper; a fake one in tests. */
    interface Clock {
        long nanoTime();

        void sleepNanos(long nanos);
    }

    private static final Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleepNanos(long nanos) {
            long end = System.nanoTime() + nanos;
            // an interrupt ends the sleep (the flag stays set for the caller, which gives up)
            for (long left = nanos; left > 0 && !Thread.currentThread().isInterrupted();
                    left = end - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
        }
    };

    private final Clock clock;
    private volatile long bytesPerSecond;
    // guarded by this
    private double tokens;
    private long lastRefill;

    private final LongAdder flushBytes = new LongAdder();
    private final LongAdder compactionBytes = new LongAdder();
    private final LongAdder throttledBytes = new LongAdder();
    private final LongAdder waitedNanos = new LongAdder();

    RateLimiter(long bytesPerSecond, Clock clock) {
        this.clock = clock;
        this.lastRefill = clock.nanoTime();
        setBytesPerSecond(bytesPerSecond);
    }

    /** A limiter of {@code bytesPerSecond} (0: unlimited, changeable later). */
    public static RateLimiter create(long bytesPerSecond) {
        return new RateLimiter(bytesPerSecond, SYSTEM);
    }

    /** Changes the rate; 0 = unlimited. Takes effect for the next request. */
    public void setBytesPerSecond(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bytesPerSecond must be >= 0 (0 = unlimited), got " + bytesPerSecond);
        }
        synchronized (this) {
            refill(this.bytesPerSecond);
            this.bytesPerSecond = bytesPerSecond;
            // flush debt taken at the old rate is kept only up to one second of the new one: a lower rate
            // must not turn it into a sleep of many seconds for the next compaction write
            tokens = Math.max(Math.min(tokens, burst(bytesPerSecond)), -(double) bytesPerSecond);
        }
    }

    /** The rate in bytes per second; 0 = unlimited. */
    public long getBytesPerSecond() {
        return bytesPerSecond;
    }

    /** The largest chunk one wait covers: 10 ms of the rate, at least 1 byte (0 when unlimited). */
    public long burstBytes() {
        return burst(bytesPerSecond);
    }

    /** Bytes of flush table writes that passed through this limiter (never delayed). */
    public long flushBytes() {
        return flushBytes.sum();
    }

    /** Bytes of compaction table writes that passed through this limiter. */
    public long compactionBytes() {
        return compactionBytes.sum();
    }

    /** Bytes of the chunks that had to wait for tokens. */
    public long throttledBytes() {
        return throttledBytes.sum();
    }

    /** Total time writers slept waiting for tokens, in nanoseconds. */
    public long waitedNanos() {
        return waitedNanos.sum();
    }

    private static long burst(long rate) {
        return rate == 0 ? 0 : Math.max(1, rate / (SECOND / BURST_NANOS)); // no overflow at any rate
    }

    /**
     * Asks for {@code bytes}: a flush's ({@code flush} true) are charged and pass; a compaction's
     * wait, chunk by chunk, until the bucket holds them. Returns the nanoseconds this call slept.
     */
    public long request(long bytes, boolean flush) {
        return request(bytes, flush, () -> false);
    }

    /** Longest single sleep: a waiter looks at {@code cancelled} at least this often. */
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * As {@link #request(long, boolean)}; stops waiting (returning what it slept) once {@code cancelled}
     * answers true or the thread is interrupted — the caller then gives up its write.
     */
    public long request(long bytes, boolean flush, java.util.function.BooleanSupplier cancelled) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        }
        (flush ? flushBytes : compactionBytes).add(bytes);
        long slept = 0;
        long left = bytes;
        while (left > 0) {
            long wait;
            long chunk;
            synchronized (this) {
                long rate = bytesPerSecond;
                if (rate == 0) {
                    return slept;
                }
                chunk = flush ? left : Math.min(left, burst(rate));
                refill(rate);
                tokens -= chunk;
                if (flush) {
                    tokens = Math.max(tokens, -(double) rate); // debt of at most one second
                    return slept;
                }
                wait = tokens >= 0 ? 0 : (long) Math.ceil(-tokens * SECOND / rate);
            }
            left -= chunk;
            if (wait > 0) {
                throttledBytes.add(chunk);
                waitedNanos.add(wait);
                for (long rest = wait; rest > 0; rest -= SLICE_NANOS) {
                    if (Thread.currentThread().isInterrupted() || cancelled.getAsBoolean()) {
                        return slept; // the caller gives up its write
                    }
                    long nap = Math.min(rest, SLICE_NANOS);
                    clock.sleepNanos(nap);
                    slept += nap;
                }
            }
        }
        return slept;
    }

    /** REQUIRES: this held. Adds the tokens earned since the last refill at {@code rate}, up to the burst. */
    private void refill(long rate) {
        long now = clock.nanoTime();
        long elapsed = now - lastRefill;
        lastRefill = now;
        if (rate == 0 || elapsed <= 0) {
            if (rate == 0) {
                tokens = 0;
            }
            return;
        }
        tokens = Math.min(burst(rate), tokens + (double) elapsed * rate / SECOND);
    }

    @Override
    public String toString() {
        return "RateLimiter(" + (bytesPerSecond == 0 ? "unlimited" : bytesPerSecond + " B/s") + ")";
    }
}
