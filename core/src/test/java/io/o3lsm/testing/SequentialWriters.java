package io.o3lsm.testing;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writer threads for tests of copies cut from a live DB (checkpoints, backups, read-only opens,
 * secondaries): thread {@code t} puts {@code t<t>-<n, 9 digits>} → {@link #value(long)} for n = 0, 1,
 * 2, … in order and counts the puts acknowledged. A consistent copy then holds, for every thread, a
 * gap-free prefix of its writes: {@link #prefixes} checks that and returns the prefix lengths, to be
 * compared with {@link #acked} read before and after the copy was cut. At most 10 threads.
 */
public final class SequentialWriters implements AutoCloseable {
    private final AtomicLongArray acked;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failed = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private SequentialWriters(int n) {
        this.acked = new AtomicLongArray(n);
    }

    /** Starts {@code n} writers into {@code db}, threads named {@code name-<t>}. */
    public static SequentialWriters start(DB db, int n, String name) {
        if (n < 1 || n > 10) {
            throw new IllegalArgumentException("1 to 10 writers, not " + n);
        }
        SequentialWriters w = new SequentialWriters(n);
        for (int t = 0; t < n; t++) {
            int me = t;
            Thread th = new Thread(() -> {
                try {
                    for (long i = 0; !w.stop.get(); i++) {
                        db.put(key(me, i), value(i).getBytes(StandardCharsets.UTF_8));
                        w.acked.set(me, i + 1);
                    }
                } catch (Throwable ex) {
                    w.failed.set(ex);
                }
            }, name + "-" + t);
            th.start();
            w.threads.add(th);
        }
        return w;
    }

    public static byte[] key(int thread, long n) {
        return String.format("t%d-%09d", thread, n).getBytes(StandardCharsets.UTF_8);
    }

    public static String value(long n) {
        return "value-" + n + "-" + "x".repeat(40);
    }

    public int count() {
        return acked.length();
    }

    /** Each thread's acknowledged puts now. */
    public long[] acked() {
        long[] out = new long[acked.length()];
        for (int t = 0; t < out.length; t++) {
            out[t] = acked.get(t);
        }
        return out;
    }

    /** The sum of {@link #acked}. */
    public long total() {
        long sum = 0;
        for (long a : acked()) {
            sum += a;
        }
        return sum;
    }

    /** Stops the writers and waits for them; throws if one failed. */
    public void stop() throws InterruptedException {
        stop.set(true);
        for (Thread th : threads) {
            th.join();
        }
        if (failed.get() != null) {
            throw new AssertionError("a writer failed", failed.get());
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /**
     * Reads every key of {@code db}, checking that each thread's writes are a gap-free prefix holding
     * the values written; returns the prefix lengths. {@code what} names the copy in failures.
     */
    public static long[] prefixes(DB db, int threads, String what) {
        long[] prefix = new long[threads];
        try (DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                int t = k.charAt(1) - '0';
                if (k.charAt(0) != 't' || t < 0 || t >= threads || k.length() != 12) {
                    throw new AssertionError(what + ": a key no writer wrote: " + k);
                }
                long n = Long.parseLong(k.substring(3));
                if (n != prefix[t]) {
                    throw new AssertionError(what + ": thread " + t + "'s writes are not a gap-free prefix: "
                            + "expected n=" + prefix[t] + ", found " + k);
                }
                String v = new String(it.value(), StandardCharsets.UTF_8);
                if (!v.equals(value(n))) {
                    throw new AssertionError(what + ": " + k + " holds " + v + ", not " + value(n));
                }
                prefix[t]++;
            }
        }
        return prefix;
    }
}
