package io.o3lsm.internal.db;

/**
 * DM mode: chooses, per lookup in an offloaded shard whose entry locations are cached, between a
 * one-sided read of the entry and a delegated get, from the measured latency of each
 * (docs/design/dm-mode.md, "Cached reads"). Both latencies are exponentially weighted moving
 * averages (weight 1/4) of the calls that succeeded: one-sided reads of one entry, delegated gets
 * of any batch. The rule: one-sided until its latency is known; while the delegated latency is
 * unknown, every {@value #PROBE_EVERY}th choice delegates (to measure it); then the path whose
 * average is lower wins — one-sided unless it is more than {@value #MARGIN_PERCENT}% slower than
 * delegation (it costs the node no CPU) — and every {@value #PROBE_EVERY}th choice takes the other
 * path, so a change in either is noticed.
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

    /** True to read the entry one-sided, false to delegate. */
    boolean oneSided() {
        long o = oneSidedNanos;
        long d = delegatedNanos;
        if (o == 0) {
            return true;
        }
        boolean probe = (choices++ & (PROBE_EVERY - 1)) == 0;
        if (d == 0) {
            return !probe;
        }
        boolean faster = o * 100 <= d * (100 + MARGIN_PERCENT);
        return faster != probe;
    }

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
        return old == 0 ? s : old + (s - old) / 4;
    }
}
