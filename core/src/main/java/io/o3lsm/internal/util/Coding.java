package io.o3lsm.internal.util;


/**
 * Little-endian fixed-width integers and LEB128 varints, on {@code byte[]} and Agrona buffers.
 * Every on-disk format of o3lsm uses these encodings (see {@code docs/format/}).
 *
 * <p>Stateless and thread-safe. Decoders that take a {@code byte[]} and an offset do not check
 * bounds beyond what the JVM checks; callers that parse untrusted bytes validate lengths first.
 */
public final class Coding {
    private Coding() {
    }

    public static final int MAX_VARINT32_BYTES = 5;
    public static final int MAX_VARINT64_BYTES = 10;

    public static void putFixed32(byte[] dst, int off, int v) {
        dst[off] = (byte) v;
        dst[off + 1] = (byte) (v >>> 8);
        dst[off + 2] = (byte) (v >>> 16);
        dst[off + 3] = (byte) (v >>> 24);
    }

    public static int getFixed32(byte[] src, int off) {
        return (src[off] & 0xFF) | (src[off + 1] & 0xFF) << 8 | (src[off + 2] & 0xFF) << 16
                | (src[off + 3] & 0xFF) << 24;
    }

    public static void putFixed64(byte[] dst, int off, long v) {
        putFixed32(dst, off, (int) v);
        putFixed32(dst, off + 4, (int) (v >>> 32));
    }

    public static long getFixed64(byte[] src, int off) {
        return (getFixed32(src, off) & 0xFFFFFFFFL) | ((long) getFixed32(src, off + 4) << 32);
    }

    /** Number of bytes {@code v} takes as an unsigned varint. */
    public static int varintLength(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    /** Writes {@code v} (treated as unsigned) as a varint; returns the offset after it. */
    public static int putVarint32(byte[] dst, int off, int v) {
        return putVarint64(dst, off, v & 0xFFFFFFFFL);
    }

    /** Writes {@code v} (treated as unsigned) as a varint; returns the offset after it. */
    public static int putVarint64(byte[] dst, int off, long v) {
        while ((v & ~0x7FL) != 0) {
            dst[off++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[off++] = (byte) v;
        return off;
    }

    /**
     * Decodes a varint of at most 5 bytes starting at {@code pos[0]} in {@code src}, which must not
     * read at or past {@code limit}; advances {@code pos[0]}. Returns -1 (and leaves {@code pos}
     * unchanged) if the varint is truncated or too long, so callers can raise a
     * {@link io.o3lsm.CorruptionException} naming their file and offset.
     */
    public static long getVarint32(byte[] src, int[] pos, int limit) {
        int p = pos[0];
        long result = 0;
        for (int shift = 0; shift <= 28 && p < limit; shift += 7) {
            int b = src[p++] & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (result > 0xFFFFFFFFL) {
                    return -1;
                }
                pos[0] = p;
                return result;
            }
        }
        return -1; // truncated, or longer than 5 bytes
    }

    /** As {@link #getVarint32} but for up to 10 bytes; returns -1 on a malformed varint. */
    public static long getVarint64(byte[] src, int[] pos, int limit) {
        int p = pos[0];
        long result = 0;
        for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
            int b = src[p++] & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (result < 0) {
                    return -1; // we never encode values with the top bit set
                }
                pos[0] = p;
                return result;
            }
        }
        return -1;
    }

}
