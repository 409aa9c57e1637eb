package io.o3lsm.internal.util;

import io.o3lsm.O3Exception;

/**
 * The write-time stamp of a value in a DB opened with {@code Options.ttl}: the stored value is the
 * user's value followed by the write time, 8 bytes little-endian milliseconds since the epoch of
 * {@code Options.clock} ({@code docs/format/ttl.md}). Stateless; thread-safe.
 */
public final class TtlStamp {
    /** Bytes the stamp adds to a value. */
    public static final int SIZE = 8;

    private TtlStamp() {
    }

    /** {@code value[off, off+len)} followed by the stamp {@code writeMillis}. */
    public static byte[] stamp(byte[] value, int off, int len, long writeMillis) {
        byte[] out = new byte[len + SIZE];
        System.arraycopy(value, off, out, 0, len);
        Coding.putFixed64(out, len, writeMillis);
        return out;
    }

    /** The write time of a stored value. */
    public static long writeTime(byte[] stored) {
        check(stored);
        return Coding.getFixed64(stored, stored.length - SIZE);
    }

    /** The user's value of a stored value (the stamp removed). */
    public static byte[] strip(byte[] stored) {
        check(stored);
        return java.util.Arrays.copyOf(stored, stored.length - SIZE);
    }

    /** Whether a value written at {@code writeMillis} is expired at {@code nowMillis}: write time + ttl < now. */
    public static boolean expired(long writeMillis, long ttlMillis, long nowMillis) {
        return nowMillis - writeMillis > ttlMillis; // no overflow for clocks of this era
    }

    private static void check(byte[] stored) {
        if (stored.length < SIZE) {
            throw new O3Exception("a value of " + stored.length + " bytes has no " + SIZE + "-byte TTL stamp: the DB "
                    + "holds values written without Options.ttl");
        }
    }
}
