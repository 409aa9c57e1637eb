package io.o3lsm.dm.protocol;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The 16-byte header of every DM control message, sent as the UCX active-message header (the body
 * is the active-message data). Requests use AM id {@link #AM_REQUEST}, responses
 * {@link #AM_RESPONSE}. All integers little-endian. Spec: {@code docs/format/dm-protocol.md}.
 *
 * <pre>
 *   0        1        2                 4                                 8
 *   +--------+--------+-----------------+---------------------------------+
 *   | version| opcode | status (int16)  | body-length (int32)             |
 *   +--------+--------+-----------------+---------------------------------+
 *   | request-id (int64)                                                  |  8..15
 *   +---------------------------------------------------------------------+
 * </pre>
 *
 * A request has status 0; a response echoes the request's opcode and id. {@code body-length} must
 * equal the active-message data length.
 */
public final class MessageHeaderDescriptor {
    public static final int AM_REQUEST = 1;
    public static final int AM_RESPONSE = 2;
    public static final int PROTOCOL_VERSION = 6;

    public static final int VERSION_OFFSET = 0;
    public static final int OPCODE_OFFSET = 1;
    public static final int STATUS_OFFSET = 2;
    public static final int BODY_LENGTH_OFFSET = 4;
    public static final int REQUEST_ID_OFFSET = 8;
    public static final int LENGTH = 16;

    /** Largest body either side accepts (a scan batch or a value may be big, but not unbounded). */
    public static final int MAX_BODY_LENGTH = 64 << 20;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MessageHeaderDescriptor() {
    }

    public static void write(MutableDirectBuffer buf, int off, int opcode, int status, int bodyLength, long requestId) {
        buf.putByte(off + VERSION_OFFSET, (byte) PROTOCOL_VERSION);
        buf.putByte(off + OPCODE_OFFSET, (byte) opcode);
        buf.putShort(off + STATUS_OFFSET, (short) status, LE);
        buf.putInt(off + BODY_LENGTH_OFFSET, bodyLength, LE);
        buf.putLong(off + REQUEST_ID_OFFSET, requestId, LE);
    }

    public static int version(DirectBuffer buf, int off) {
        return buf.getByte(off + VERSION_OFFSET) & 0xFF;
    }

    public static int opcode(DirectBuffer buf, int off) {
        return buf.getByte(off + OPCODE_OFFSET) & 0xFF;
    }

    public static int status(DirectBuffer buf, int off) {
        return buf.getShort(off + STATUS_OFFSET, LE);
    }

    public static int bodyLength(DirectBuffer buf, int off) {
        return buf.getInt(off + BODY_LENGTH_OFFSET, LE);
    }

    public static long requestId(DirectBuffer buf, int off) {
        return buf.getLong(off + REQUEST_ID_OFFSET, LE);
    }
}
