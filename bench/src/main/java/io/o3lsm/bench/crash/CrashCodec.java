package io.o3lsm.bench.crash;

import java.util.zip.CRC32C;

/**
 * Keys and self-describing values of the crash test.
 *
 * <p>Key {@code i} of the key space is 8 bytes: {@code fmix32(i)} big-endian, then {@code i}
 * big-endian. The scrambled prefix spreads consecutive indexes over all memtable shards (the
 * default shards split on the first two key bytes); the suffix keeps keys distinct and lets a key be
 * mapped back to its index.
 *
 * <p>A value written by the operation with version {@code v} to key {@code i}:
 * <pre>
 *   0      4          12       14              14+pad     18+pad
 *   +------+----------+--------+-----------------+---------+
 *   | i    | v        | pad    | pad bytes       | crc32c  |
 *   | int  | long     | ushort | f(v), 0..300 B  | of 0..  |
 *   +------+----------+--------+-----------------+---------+
 * </pre>
 * {@code pad} and the padding bytes are a pure function of {@code v}, so a reader can tell whether a
 * value is exactly what the write with that version stored. All integers big-endian. Thread-safe
 * (stateless).
 */
final class CrashCodec {
    static final int KEY_SIZE = 8;
    static final int MAX_PAD = 300;
    private static final int HEADER = 14;
    private static final int TRAILER = 4;

    private CrashCodec() {
    }

    static byte[] key(int index) {
        byte[] k = new byte[KEY_SIZE];
        putInt(k, 0, fmix32(index));
        putInt(k, 4, index);
        return k;
    }

    /** The key-space index of a key made by {@link #key(int)}, or -1 if it is not such a key. */
    static int keyIndex(byte[] key) {
        if (key.length != KEY_SIZE) {
            return -1;
        }
        int index = getInt(key, 4);
        return getInt(key, 0) == fmix32(index) ? index : -1;
    }

    static int padLength(long version) {
        return (int) Long.remainderUnsigned(mix64(version), MAX_PAD + 1);
    }

    static byte[] value(int keyIndex, long version) {
        int pad = padLength(version);
        byte[] v = new byte[HEADER + pad + TRAILER];
        putInt(v, 0, keyIndex);
        putLong(v, 4, version);
        v[12] = (byte) (pad >>> 8);
        v[13] = (byte) pad;
        long s = mix64(version ^ 0x9E3779B97F4A7C15L);
        for (int i = 0; i < pad; i++) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            v[HEADER + i] = (byte) s;
        }
        CRC32C crc = new CRC32C();
        crc.update(v, 0, HEADER + pad);
        putInt(v, HEADER + pad, (int) crc.getValue());
        return v;
    }

    /**
     * Checks that {@code v} is a well-formed value written for key {@code keyIndex}.
     *
     * @return null when it is, else what is wrong (expected versus found)
     */
    static String check(int keyIndex, byte[] v) {
        if (v.length < HEADER + TRAILER) {
            return "value too short: " + v.length + " bytes, expected at least " + (HEADER + TRAILER);
        }
        int pad = ((v[12] & 0xFF) << 8) | (v[13] & 0xFF);
        if (v.length != HEADER + pad + TRAILER) {
            return "value length " + v.length + " but its header says padding " + pad
                    + " (expected length " + (HEADER + pad + TRAILER) + ")";
        }
        CRC32C crc = new CRC32C();
        crc.update(v, 0, HEADER + pad);
        int stored = getInt(v, HEADER + pad);
        if (stored != (int) crc.getValue()) {
            return String.format("value crc32c mismatch: stored %08x, computed %08x", stored, (int) crc.getValue());
        }
        int k = getInt(v, 0);
        if (k != keyIndex) {
            return "value belongs to key " + k + ", found under key " + keyIndex;
        }
        long version = getLong(v, 4);
        if (version < 0) {
            return "negative version " + version;
        }
        byte[] expected = value(keyIndex, version);
        if (!java.util.Arrays.equals(expected, v)) {
            return "value for version " + version + " differs from what that write stored";
        }
        return null;
    }

    /** The version stored in a value that passed {@link #check}. */
    static long version(byte[] v) {
        return getLong(v, 4);
    }

    static int fmix32(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >>> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    private static void putLong(byte[] b, int off, long v) {
        putInt(b, off, (int) (v >>> 32));
        putInt(b, off + 4, (int) v);
    }

    private static long getLong(byte[] b, int off) {
        return ((long) getInt(b, off) << 32) | (getInt(b, off + 4) & 0xFFFFFFFFL);
    }
}
