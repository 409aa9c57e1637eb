package io.o3lsm.format;

import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.util.Coding;
import org.agrona.DirectBuffer;

/**
 * The internal key: what every memtable shard and SST stores and sorts by.
 *
 * <pre>
 *   internal key = user key bytes || trailer (8 bytes, little-endian)
 *   trailer      = (sequence &lt;&lt; 8) | type          sequence: 56 bits, type: 8 bits
 * </pre>
 *
 * Order: user key ascending (unsigned bytewise), then trailer descending, so that for one user key
 * the newest entry comes first. A lookup for {@code (key, snapshotSeq)} seeks to
 * {@code key || trailer(snapshotSeq, TYPE_FOR_SEEK)} and lands on the newest entry visible at that
 * sequence. Specified in {@code docs/format/internal-key.md}.
 *
 * <p>Stateless, thread-safe.
 */
public final class InternalKey {
    private InternalKey() {
    }

    /** Tombstone for one key. */
    public static final int TYPE_DELETION = 0;
    /** A put. */
    public static final int TYPE_VALUE = 1;
    /** Reserved for range deletions ("Core engine II"): value holds the exclusive end key. */
    public static final int TYPE_RANGE_DELETION = 2;
    /**
     * A merge operand: combined with older entries of the key by the DB's merge operator (since
     * table format 3, log format 2, shard format 2).
     */
    public static final int TYPE_MERGE = 3;
    /** Highest type value; used only in seek keys, never stored. */
    public static final int TYPE_FOR_SEEK = 0xFF;

    public static final int TRAILER_SIZE = 8;
    public static final long MAX_SEQUENCE = (1L << 56) - 1;

    public static long trailer(long sequence, int type) {
        return (sequence << 8) | (type & 0xFF);
    }

    public static long sequenceOf(long trailer) {
        return trailer >>> 8;
    }

    public static int typeOf(long trailer) {
        return (int) (trailer & 0xFF);
    }

    public static boolean isKnownType(int type) {
        return type == TYPE_DELETION || type == TYPE_VALUE || type == TYPE_RANGE_DELETION || type == TYPE_MERGE;
    }

    /** Builds {@code userKey || trailer(sequence, type)}. */
    public static byte[] encode(byte[] userKey, long sequence, int type) {
        byte[] ik = new byte[userKey.length + TRAILER_SIZE];
        System.arraycopy(userKey, 0, ik, 0, userKey.length);
        Coding.putFixed64(ik, userKey.length, trailer(sequence, type));
        return ik;
    }

    /** Seek key: the first entry at or after it is the newest one visible at {@code sequence}. */
    public static byte[] seekKey(byte[] userKey, long sequence) {
        return encode(userKey, sequence, TYPE_FOR_SEEK);
    }

    public static byte[] userKey(byte[] internalKey) {
        return java.util.Arrays.copyOf(internalKey, internalKey.length - TRAILER_SIZE);
    }

    public static long trailer(byte[] internalKey) {
        return Coding.getFixed64(internalKey, internalKey.length - TRAILER_SIZE);
    }

    public static long trailer(DirectBuffer buf, int off, int len) {
        return buf.getLong(off + len - TRAILER_SIZE, java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /** Internal-key order over two arrays. */
    public static int compare(byte[] a, byte[] b) {
        return compare(a, 0, a.length, b, 0, b.length);
    }

    public static int compare(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        int c = Bytes.compare(a, aOff, aLen - TRAILER_SIZE, b, bOff, bLen - TRAILER_SIZE);
        if (c != 0) {
            return c;
        }
        long ta = Coding.getFixed64(a, aOff + aLen - TRAILER_SIZE);
        long tb = Coding.getFixed64(b, bOff + bLen - TRAILER_SIZE);
        return Long.compareUnsigned(tb, ta); // descending
    }

    /** Internal-key order between a buffer range and an array. */
    public static int compare(DirectBuffer a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        int c = Bytes.compare(a, aOff, aLen - TRAILER_SIZE, b, bOff, bLen - TRAILER_SIZE);
        if (c != 0) {
            return c;
        }
        long ta = trailer(a, aOff, aLen);
        long tb = Coding.getFixed64(b, bOff + bLen - TRAILER_SIZE);
        return Long.compareUnsigned(tb, ta);
    }

    /** Internal-key order between two buffer ranges. */
    public static int compare(DirectBuffer a, int aOff, int aLen, DirectBuffer b, int bOff, int bLen) {
        int c = Bytes.compare(a, aOff, aLen - TRAILER_SIZE, b, bOff, bLen - TRAILER_SIZE);
        if (c != 0) {
            return c;
        }
        long ta = trailer(a, aOff, aLen);
        long tb = trailer(b, bOff, bLen);
        return Long.compareUnsigned(tb, ta);
    }
}
