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
 * value is exactly what the write with that version stored. All integers big-endian.
 *
 * <p>Merges ({@code --merges}): the DB's operator is {@code MergeOperators.stringAppend(",")} and the
 * operand of the merge with version {@code v} to key {@code i} is the ASCII token
 * {@code "m" v "k" i "x" crc} ({@link #mergeToken}), {@code crc} being 8 lowercase hex digits of the
 * CRC32C of {@code i} (4 bytes) and {@code v} (8 bytes). A recovered value is then
 * <pre>
 *   value = put-value *("," token)      ; a put, then the operands merged onto it, oldest first
 *         / token *("," token)          ; operands merged onto nothing (the key was absent or deleted)
 * </pre>
 * The put value is binary (it may hold ',' bytes) but says its own length, and starts with the key
 * index's high byte, 0 for the key spaces allowed ({@link #MAX_KEYS}), while a token starts with
 * {@code 'm'}; so {@link #decode} splits any value into the put's version (or none) and the
 * operands' versions without ambiguity, and each element is checked on its own. Thread-safe
 * (stateless).
 */
final class CrashCodec {
    static final int KEY_SIZE = 8;
    static final int MAX_PAD = 300;
    /** Key spaces must be smaller: a put value's first byte (the key index's high byte) is then 0, never 'm'. */
    static final int MAX_KEYS = 1 << 24;
    /** The delimiter of the merge operator, {@code MergeOperators.stringAppend(",")}. */
    static final byte DELIMITER = ',';
    /** State of "no put below the operands": the key was absent (never written, or deleted). */
    static final long NO_PUT = -1;
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

    /** The merge operand of the merge with version {@code version} to key {@code keyIndex}; see the class comment. */
    static byte[] mergeToken(int keyIndex, long version) {
        return ("m" + version + "k" + keyIndex + "x" + String.format("%08x", tokenCrc(keyIndex, version)))
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static int tokenCrc(int keyIndex, long version) {
        byte[] b = new byte[12];
        putInt(b, 0, keyIndex);
        putLong(b, 4, version);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 12);
        return (int) crc.getValue();
    }

    /**
     * A recovered value split into its elements: the version of the put at its start ({@link #NO_PUT}
     * when it starts with an operand) and the versions of its merge operands, oldest first (empty when
     * none). {@code error} is non-null (and the rest meaningless) when some element fails its checks.
     */
    record Decoded(long put, long[] merges, String error) {
        static Decoded bad(String error) {
            return new Decoded(NO_PUT, new long[0], error);
        }
    }

    /** Splits and checks a value read under key {@code keyIndex}; see the class comment. */
    static Decoded decode(int keyIndex, byte[] v) {
        int pos;
        long put;
        if (v.length > 0 && v[0] == 'm') {
            put = NO_PUT;
            pos = 0;
        } else {
            if (v.length < HEADER + TRAILER) {
                return Decoded.bad(check(keyIndex, v));
            }
            int putLength = HEADER + (((v[12] & 0xFF) << 8) | (v[13] & 0xFF)) + TRAILER;
            if (v.length < putLength) {
                return Decoded.bad(check(keyIndex, v));
            }
            String bad = check(keyIndex, v.length == putLength ? v : java.util.Arrays.copyOf(v, putLength));
            if (bad != null) {
                return Decoded.bad(bad);
            }
            put = version(v);
            if (v.length == putLength) {
                return new Decoded(put, new long[0], null);
            }
            if (v[putLength] != DELIMITER) {
                return Decoded.bad("the put value (v" + put + ", " + putLength + " bytes) is followed by byte 0x"
                        + Integer.toHexString(v[putLength] & 0xFF) + " instead of ',' and merge operands ("
                        + v.length + " bytes in all)");
            }
            pos = putLength + 1;
        }
        long[] merges = new long[8];
        int n = 0;
        while (true) {
            int end = pos;
            while (end < v.length && v[end] != DELIMITER) {
                end++;
            }
            long version = parseToken(keyIndex, v, pos, end);
            if (version < 0) {
                String token = new String(v, pos, Math.min(end - pos, 60), java.nio.charset.StandardCharsets.ISO_8859_1);
                return Decoded.bad("merge operand #" + (n + 1) + " ('" + token + "'" + (end - pos > 60 ? "…" : "")
                        + ", at byte " + pos + ") is not a well-formed token of key " + keyIndex
                        + (version == -2 ? " (its checksum does not match)" : version == -3
                                ? " (it names another key)" : ""));
            }
            if (n == merges.length) {
                merges = java.util.Arrays.copyOf(merges, n * 2);
            }
            merges[n++] = version;
            if (end == v.length) {
                break;
            }
            pos = end + 1;
        }
        return new Decoded(put, java.util.Arrays.copyOf(merges, n), null);
    }

    /**
     * The version named by the token in {@code v[from, to)}: -1 if malformed, -2 if its checksum is
     * wrong, -3 if it is a well-formed token of another key.
     */
    private static long parseToken(int keyIndex, byte[] v, int from, int to) {
        int p = from;
        if (p >= to || v[p++] != 'm') {
            return -1;
        }
        long version = 0;
        int start = p;
        while (p < to && v[p] >= '0' && v[p] <= '9' && p - start < 18) {
            version = version * 10 + (v[p++] - '0');
        }
        if (p == start || p >= to || v[p++] != 'k') {
            return -1;
        }
        long key = 0;
        start = p;
        while (p < to && v[p] >= '0' && v[p] <= '9' && p - start < 10) {
            key = key * 10 + (v[p++] - '0');
        }
        if (p == start || p >= to || v[p++] != 'x' || to - p != 8) {
            return -1;
        }
        int crc = 0;
        for (; p < to; p++) {
            int d = Character.digit(v[p], 16);
            if (d < 0 || Character.isUpperCase(v[p])) {
                return -1;
            }
            crc = (crc << 4) | d;
        }
        if (key > Integer.MAX_VALUE || crc != tokenCrc((int) key, version)) {
            return -2;
        }
        if (key != keyIndex) {
            return -3;
        }
        // canonical form only: the token this version would have been written as
        return java.util.Arrays.equals(mergeToken(keyIndex, version), java.util.Arrays.copyOfRange(v, from, to)) ? version : -1;
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
