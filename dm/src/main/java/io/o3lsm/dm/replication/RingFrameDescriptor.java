package io.o3lsm.dm.replication;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The frames of the log ring: the primary's staging ring and every backup's log buffer hold the
 * same bytes at the same offsets (absolute position {@code P} is at offset {@code P % ring-size} on
 * both sides). Frames are 8-byte aligned; all integers little-endian. Spec:
 * {@code docs/format/replication-protocol.md}.
 *
 * <pre>
 *   0                               8                               16
 *   +-------------------------------+-------------------------------+
 *   | position (int64)              | wal-number (int64)            |
 *   +---------------+-------+-------+---------------+---------------+
 *   | instance(int32)| type | 0 0 0 | length (int32)| crc (int32)   |  16..31
 *   +---------------+-------+-------+---------------+---------------+
 *   | payload: length bytes = records, each  record-length:int32 bytes |
 *   +---------------------------------------------------------------+  zero-padded to 8
 * </pre>
 *
 * {@code type} 1 = LOG (a write group: its records, each a write batch as the WAL holds it), 2 = PAD
 * (the rest of the ring up to its end is unused; {@code length} = bytes after the header to the end,
 * not written, not checksummed). {@code crc} = CRC32C of bytes [0, 28) followed by the payload.
 * Where fewer than {@link #HEADER_LENGTH} bytes remain before the ring's end no frame fits: both
 * sides skip to the next lap without a PAD. A reader takes a frame only if its {@code position} is
 * the one it expects, its {@code instance} is the session's and its CRC verifies: bytes of a
 * previous lap carry another position, a frame still being written fails the CRC.
 */
public final class RingFrameDescriptor {
    public static final int POSITION_OFFSET = 0;
    public static final int WAL_OFFSET = 8;
    public static final int INSTANCE_OFFSET = 16;
    public static final int TYPE_OFFSET = 20;
    public static final int LENGTH_OFFSET = 24;
    public static final int CRC_OFFSET = 28;
    public static final int HEADER_LENGTH = 32;
    public static final int ALIGNMENT = 8;

    public static final int TYPE_LOG = 1;
    public static final int TYPE_PAD = 2;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private RingFrameDescriptor() {
    }

    public static int align(int n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Bytes a LOG frame of {@code payload} bytes takes in the ring. */
    public static long frameLength(long payload) {
        return (HEADER_LENGTH + payload + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Payload bytes of a group: a 4-byte length per record plus the records. */
    public static long payloadLength(List<byte[]> records, int[] lengths) {
        long n = 0;
        for (int i = 0; i < records.size(); i++) {
            n += 4L + lengths[i];
        }
        return n;
    }

    /**
     * Writes a LOG frame at {@code offset} of {@code ring} (it fits: the caller checked) and returns
     * its length. {@code crcView} is a ByteBuffer over the same memory as {@code ring}, used only to
     * checksum (its position and limit are changed); {@code crc} is reset and reused.
     */
    public static int writeLog(UnsafeBuffer ring, ByteBuffer crcView, CRC32C crc, int offset, long position,
            long walNumber, int instance, List<byte[]> records, int[] lengths, int payload) {
        int p = offset + HEADER_LENGTH;
        for (int i = 0; i < records.size(); i++) {
            ring.putInt(p, lengths[i], LE);
            ring.putBytes(p + 4, records.get(i), 0, lengths[i]);
            p += 4 + lengths[i];
        }
        int total = align(HEADER_LENGTH + payload);
        for (int q = offset + HEADER_LENGTH + payload; q < offset + total; q++) {
            ring.putByte(q, (byte) 0);
        }
        writeHeader(ring, offset, position, walNumber, instance, TYPE_LOG, payload);
        ring.putInt(offset + CRC_OFFSET, crc(crcView, crc, offset, payload), LE);
        return total;
    }

    /** Writes a PAD frame at {@code offset} covering the ring up to its end ({@code ringSize - offset >= HEADER_LENGTH}). */
    public static void writePad(UnsafeBuffer ring, ByteBuffer crcView, CRC32C crc, int offset, long position,
            int instance, int ringSize) {
        writeHeader(ring, offset, position, 0, instance, TYPE_PAD, ringSize - offset - HEADER_LENGTH);
        ring.putInt(offset + CRC_OFFSET, crc(crcView, crc, offset, 0), LE);
    }

    private static void writeHeader(UnsafeBuffer ring, int offset, long position, long walNumber, int instance,
            int type, int length) {
        ring.putLong(offset + POSITION_OFFSET, position, LE);
        ring.putLong(offset + WAL_OFFSET, walNumber, LE);
        ring.putInt(offset + INSTANCE_OFFSET, instance, LE);
        ring.putInt(offset + TYPE_OFFSET, type, LE); // type byte + three zero bytes (little-endian)
        ring.putInt(offset + LENGTH_OFFSET, length, LE);
    }

    /** CRC32C of header bytes [0, 28) of the frame at {@code offset} and its first {@code payload} payload bytes. */
    public static int crc(ByteBuffer view, CRC32C crc, int offset, int payload) {
        crc.reset();
        view.limit(offset + CRC_OFFSET).position(offset);
        crc.update(view);
        if (payload > 0) {
            view.limit(offset + HEADER_LENGTH + payload).position(offset + HEADER_LENGTH);
            crc.update(view);
        }
        return (int) crc.getValue();
    }

    public static long position(UnsafeBuffer ring, int offset) {
        return ring.getLongVolatile(offset + POSITION_OFFSET);
    }

    public static long walNumber(UnsafeBuffer ring, int offset) {
        return ring.getLong(offset + WAL_OFFSET, LE);
    }

    public static int instance(UnsafeBuffer ring, int offset) {
        return ring.getInt(offset + INSTANCE_OFFSET, LE);
    }

    /** The type word: the type byte with its three reserved bytes (a frame with reserved bits set is not valid). */
    public static int typeWord(UnsafeBuffer ring, int offset) {
        return ring.getInt(offset + TYPE_OFFSET, LE);
    }

    public static int length(UnsafeBuffer ring, int offset) {
        return ring.getInt(offset + LENGTH_OFFSET, LE);
    }

    public static int storedCrc(UnsafeBuffer ring, int offset) {
        return ring.getInt(offset + CRC_OFFSET, LE);
    }
}
