package io.o3lsm.format.table;

import io.o3lsm.CorruptionException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * The full-file bloom filter over user keys, and the 64-bit hash it uses.
 *
 * <pre>
 *   filter block = bits[m / 8] | k (u8)          m = number of bits, a multiple of 8, >= 64
 *   h     = XXH64(userKey, seed 0)
 *   delta = rotateLeft(h, 32)
 *   repeat k times:  bit = ((h >>> 32) * m) >>> 32;  test/set bits[bit >>> 3] & (1 << (bit & 7));  h += delta
 * </pre>
 *
 * {@code m = max(64, ceil8(numKeys * bitsPerKey))} capped at 2^32 - 8, and
 * {@code k = round(bitsPerKey * ln 2)} clamped to [1, 30]. The probe position uses the top 32 bits
 * of a 64-bit double-hashing sequence scaled to {@code m} by a multiply-shift (no division).
 *
 * <p>A reader instance is immutable and thread-safe; a {@link Builder} is owned by one thread.
 */
public final class BloomFilter {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    static final int MAX_PROBES = 30;
    static final long MAX_BITS = (1L << 32) - 8;

    private final byte[] data;
    private final int bitsOffset;
    /** Number of bits, {@code <= MAX_BITS}. */
    private final long numBits;
    private final int numProbes;

    private BloomFilter(byte[] data, int bitsOffset, long numBits, int numProbes) {
        this.data = data;
        this.bitsOffset = bitsOffset;
        this.numBits = numBits;
        this.numProbes = numProbes;
    }

    /**
     * Reads a filter block's contents {@code block[off, off+len)} (already checksum-verified).
     *
     * @throws CorruptionException if the probe count or the size is impossible
     */
    public static BloomFilter decode(byte[] block, int off, int len, String fileName, long fileOffset) {
        if (len < 2) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected a filter block of at least 2 bytes, found " + len);
        }
        int k = block[off + len - 1] & 0xFF;
        if (k < 1 || k > MAX_PROBES) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected a bloom probe count in [1, " + MAX_PROBES + "], found " + k);
        }
        long bits = 8L * (len - 1);
        if (bits > MAX_BITS) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected at most " + MAX_BITS + " filter bits, found " + bits);
        }
        return new BloomFilter(block, off, bits, k);
    }

    /** Probes per key. */
    public int numProbes() {
        return numProbes;
    }

    /** Size of the bit array in bits. */
    public long numBits() {
        return numBits;
    }

    /** False only if {@code userKey} was certainly not added. */
    public boolean mayContain(byte[] userKey) {
        return mayContainHash(hash64(userKey, 0, userKey.length));
    }

    public boolean mayContain(byte[] userKey, int off, int len) {
        return mayContainHash(hash64(userKey, off, len));
    }

    /** As {@link #mayContain(byte[])} for the user key at {@code buf[off, off+len)}. */
    public boolean mayContain(DirectBuffer buf, int off, int len) {
        return mayContainHash(hash64(buf, off, len));
    }

    /** As {@link #mayContain(byte[])} for a key whose {@link #hash64} is {@code h}. */
    public boolean mayContainHash(long h) {
        final long delta = Long.rotateLeft(h, 32);
        final long m = numBits;
        final byte[] d = data;
        final int base = bitsOffset;
        for (int i = 0; i < numProbes; i++) {
            long bit = ((h >>> 32) * m) >>> 32;
            if ((d[base + (int) (bit >>> 3)] & (1 << (bit & 7))) == 0) {
                return false;
            }
            h += delta;
        }
        return true;
    }

    /** k for a given bits-per-key: {@code round(bitsPerKey * ln 2)} clamped to [1, 30]. */
    public static int probesFor(int bitsPerKey) {
        int k = (int) Math.round(bitsPerKey * 0.6931471805599453);
        return Math.max(1, Math.min(MAX_PROBES, k));
    }

    /**
     * Collects the hashes of user keys and writes the filter block contents. Callers add each
     * distinct user key once (adding one twice only costs space). Not thread-safe.
     */
    public static final class Builder {
        private final int bitsPerKey;
        private final int numProbes;
        private long[] hashes = new long[256];
        private int count;

        public Builder(int bitsPerKey) {
            if (bitsPerKey < 1) {
                throw new IllegalArgumentException("bitsPerKey must be >= 1, was " + bitsPerKey);
            }
            this.bitsPerKey = bitsPerKey;
            this.numProbes = probesFor(bitsPerKey);
        }

        public void addKey(byte[] userKey, int off, int len) {
            addHash(hash64(userKey, off, len));
        }

        public void addKey(DirectBuffer buf, int off, int len) {
            addHash(hash64(buf, off, len));
        }

        public void addHash(long h) {
            if (count == hashes.length) {
                hashes = Arrays.copyOf(hashes, count * 2);
            }
            hashes[count++] = h;
        }

        /** Bits the filter will have for the keys added so far. */
        long numBits() {
            long bits = Math.max(64L, (long) count * bitsPerKey);
            bits = (bits + 7) & ~7L;
            return Math.min(bits, MAX_BITS);
        }

        /** Size in bytes of the block {@link #finish()} would write now. */
        public long estimatedSize() {
            return numBits() / 8 + 1;
        }

        /** The filter block contents: bit array followed by the probe count. */
        public byte[] finish() {
            long m = numBits();
            byte[] out = new byte[(int) (m / 8) + 1];
            for (int i = 0; i < count; i++) {
                long h = hashes[i];
                long delta = Long.rotateLeft(h, 32);
                for (int j = 0; j < numProbes; j++) {
                    long bit = ((h >>> 32) * m) >>> 32;
                    out[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
                    h += delta;
                }
            }
            out[out.length - 1] = (byte) numProbes;
            return out;
        }
    }

    // ---------------------------------------------------------------------------------------
    // XXH64 (seed 0 in the filter), written out for arrays and for Agrona buffers.

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    /** XXH64 with seed 0 of {@code b[off, off+len)}. */
    public static long hash64(byte[] b, int off, int len) {
        final int end = off + len;
        int p = off;
        long h;
        if (len >= 32) {
            long v1 = P1 + P2;
            long v2 = P2;
            long v3 = 0;
            long v4 = -P1;
            final int limit = end - 32;
            do {
                v1 = round(v1, (long) LONG_LE.get(b, p));
                v2 = round(v2, (long) LONG_LE.get(b, p + 8));
                v3 = round(v3, (long) LONG_LE.get(b, p + 16));
                v4 = round(v4, (long) LONG_LE.get(b, p + 24));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = P5;
        }
        h += len;
        while (p + 8 <= end) {
            h ^= round(0, (long) LONG_LE.get(b, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= ((int) INT_LE.get(b, p) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (b[p] & 0xFF) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        return avalanche(h);
    }

    /** XXH64 with seed 0 of {@code buf[off, off+len)}; equal to the array version on equal bytes. */
    public static long hash64(DirectBuffer buf, int off, int len) {
        final int end = off + len;
        final ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        int p = off;
        long h;
        if (len >= 32) {
            long v1 = P1 + P2;
            long v2 = P2;
            long v3 = 0;
            long v4 = -P1;
            final int limit = end - 32;
            do {
                v1 = round(v1, buf.getLong(p, le));
                v2 = round(v2, buf.getLong(p + 8, le));
                v3 = round(v3, buf.getLong(p + 16, le));
                v4 = round(v4, buf.getLong(p + 24, le));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = P5;
        }
        h += len;
        while (p + 8 <= end) {
            h ^= round(0, buf.getLong(p, le));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= (buf.getInt(p, le) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (buf.getByte(p) & 0xFF) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        return avalanche(h);
    }

    private static long round(long acc, long input) {
        acc += input * P2;
        acc = Long.rotateLeft(acc, 31);
        return acc * P1;
    }

    private static long mergeRound(long acc, long val) {
        acc ^= round(0, val);
        return acc * P1 + P4;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }
}
