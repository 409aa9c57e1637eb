package io.o3lsm.internal.db;

/**
 * DM mode: chooses, per lookup in an offloaded shard whose entry locations are cached, between a
 * one-sided read of the entry and a delegated get, from the measured latency of each
 * (docs/design/dm-mode.md, "Cached reads"). Both latencies are exponentially weighted moving
 * averages (weight 1/4) of the calls that succeeded: one-sided reads of one entry, delegated gets
 * of any batch. The rule: one-sided until its latency is known; while the delegated latency is
 * unknown, every {@value #PROBE_EVERY}th choice delegates (to measure it); then the path whose
 * average is lower wins — one-sided unless it is more than {@value #MARGIN_PERCENT}% slower than
 * delegation (it costs the node no CPU) — and the other path is still taken now and then, so a
 * change in either is noticed: delegation every {@value #PROBE_EVERY}th choice, a one-sided read
 * every {@value #PROBE_ONE_SIDED_EVERY}th. A sample counts at most 8 times the current average, so
 * one outlier (a GC pause, a cold JIT) cannot hold a path off for long.
 *
 * <p>Any thread, no lock: the averages and the counter are updated racily (an update may be lost;
 * they are estimates).
 */
final class RemoteReadChoice {
    static final int PROBE_EVERY = 64;
    static final int MARGIN_PERCENT = 25;

    private volatile long oneSidedNanos;
    private volatile long delegatedNanos;
    private int choices;
    /** Tests: 1 always one-sided, -1 always delegated, 0 (default) the measured choice. */
    private volatile int forced;

    /** Tests: {@code true} always reads one-sided, {@code false} always delegates, null chooses by latency. */
    void force(Boolean oneSided) {
        forced = oneSided == null ? 0 : oneSided ? 1 : -1;
    }

    /** True to read the entry one-sided, false to delegate. */
    boolean oneSided() {
        int f = forced;
        if (f != 0) {
            return f > 0;
        }
        long o = oneSidedNanos;
        long d = delegatedNanos;
        if (o == 0) {
            return true;
        }
        int c = choices++;
        if (d == 0) {
            return (c & (PROBE_EVERY - 1)) != 0;
        }
        if (o * 100 <= d * (100 + MARGIN_PERCENT)) {
            return (c & (PROBE_EVERY - 1)) != 0; // one-sided, delegating once in 64
        }
        return (c & (PROBE_ONE_SIDED_EVERY - 1)) == 0; // delegated, a one-sided read once in 16
    }

    /** While delegation wins, one choice in this many reads one-sided (it costs the node nothing). */
    static final int PROBE_ONE_SIDED_EVERY = 16;

    void oneSidedTook(long nanos) {
        oneSidedNanos = ewma(oneSidedNanos, nanos);
    }

    void delegatedTook(long nanos) {
        delegatedNanos = ewma(delegatedNanos, nanos);
    }

    long oneSidedNanos() {
        return oneSidedNanos;
    }

    long delegatedNanos() {
        return delegatedNanos;
    }

    private static long ewma(long old, long sample) {
        long s = Math.max(1, sample);
        if (old == 0) {
            return s;
        }
        s = Math.min(s, 8 * old); // one outlier (a GC pause, a cold JIT) at most doubles the average
        return old + (s - old) / 4;
    }
}
