package io.o3lsm.internal.util;

import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * Unsigned lexicographic comparison of byte strings held in arrays and Agrona buffers: the one
 * user-key order o3lsm knows. Thread-safe, allocation-free.
 */
public final class Bytes {
    private Bytes() {
    }

    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    public static int compare(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        return Arrays.compareUnsigned(a, aOff, aOff + aLen, b, bOff, bOff + bLen);
    }

    /** Compares {@code buf[off, off+len)} with {@code b[bOff, bOff+bLen)}, unsigned. */
    public static int compare(DirectBuffer buf, int off, int len, byte[] b, int bOff, int bLen) {
        int n = Math.min(len, bLen);
        int i = 0;
        // 8 bytes at a time, big-endian so that the long comparison is lexicographic
        while (i + 8 <= n) {
            long x = buf.getLong(off + i, java.nio.ByteOrder.BIG_ENDIAN);
            long y = getLongBE(b, bOff + i);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
            i += 8;
        }
        for (; i < n; i++) {
            int c = (buf.getByte(off + i) & 0xFF) - (b[bOff + i] & 0xFF);
            if (c != 0) {
                return c;
            }
        }
        return len - bLen;
    }

    /** Compares two buffer ranges, unsigned. */
    public static int compare(DirectBuffer a, int aOff, int aLen, DirectBuffer b, int bOff, int bLen) {
        int n = Math.min(aLen, bLen);
        int i = 0;
        while (i + 8 <= n) {
            long x = a.getLong(aOff + i, java.nio.ByteOrder.BIG_ENDIAN);
            long y = b.getLong(bOff + i, java.nio.ByteOrder.BIG_ENDIAN);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
            i += 8;
        }
        for (; i < n; i++) {
            int c = (a.getByte(aOff + i) & 0xFF) - (b.getByte(bOff + i) & 0xFF);
            if (c != 0) {
                return c;
            }
        }
        return aLen - bLen;
    }

    private static long getLongBE(byte[] b, int off) {
        return ((long) (b[off] & 0xFF) << 56) | ((long) (b[off + 1] & 0xFF) << 48)
                | ((long) (b[off + 2] & 0xFF) << 40) | ((long) (b[off + 3] & 0xFF) << 32)
                | ((long) (b[off + 4] & 0xFF) << 24) | ((b[off + 5] & 0xFF) << 16)
                | ((b[off + 6] & 0xFF) << 8) | (b[off + 7] & 0xFF);
    }

    /** {@code b} as text: printable ASCII as is (backslash doubled), any other byte as {@code \xNN}. */
    public static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        for (byte x : b) {
            int c = x & 0xFF;
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c >= 0x20 && c < 0x7F) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    /**
     * A key for messages: quoted text when every byte is printable ASCII, else hex ({@code 0x...}, the
     * first 64 bytes).
     */
    public static String describe(byte[] k) {
        boolean text = true;
        for (byte b : k) {
            text &= b >= 0x20 && b < 0x7f;
        }
        if (text) {
            return "'" + new String(k, java.nio.charset.StandardCharsets.US_ASCII) + "'";
        }
        StringBuilder sb = new StringBuilder("0x");
        for (int i = 0; i < Math.min(k.length, 64); i++) {
            sb.append(String.format("%02x", k[i] & 0xFF));
        }
        return k.length > 64 ? sb + "..." : sb.toString();
    }
}
