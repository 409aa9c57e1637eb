package io.o3lsm.dm.protocol;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.agrona.DirectBuffer;

/**
 * Bounds-checked little-endian cursor over a received message body: every read checks that the
 * bytes are there and throws {@link MalformedMessageException} otherwise, so bad bytes from a peer
 * never cause an out-of-bounds access. Not thread-safe.
 */
public final class BodyReader {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final DirectBuffer buf;
    private final int end;
    private int pos;

    public BodyReader(DirectBuffer buf, int offset, int length) {
        this.buf = buf;
        this.pos = offset;
        this.end = offset + length;
    }

    private void need(int n, String what) throws MalformedMessageException {
        if (n < 0 || end - pos < n) {
            throw new MalformedMessageException("expected " + n + " bytes for " + what + ", found " + (end - pos));
        }
    }

    /** Bytes left to read. */
    public int remaining() {
        return end - pos;
    }

    public int u16(String what) throws MalformedMessageException {
        need(2, what);
        int v = buf.getShort(pos, LE) & 0xFFFF;
        pos += 2;
        return v;
    }

    public int i32(String what) throws MalformedMessageException {
        need(4, what);
        int v = buf.getInt(pos, LE);
        pos += 4;
        return v;
    }

    public long i64(String what) throws MalformedMessageException {
        need(8, what);
        long v = buf.getLong(pos, LE);
        pos += 8;
        return v;
    }

    public byte[] bytes(int n, String what) throws MalformedMessageException {
        need(n, what);
        byte[] b = new byte[n];
        buf.getBytes(pos, b);
        pos += n;
        return b;
    }

    /** int32 length in [0, max], then that many bytes. */
    public byte[] lengthPrefixed(int max, String what) throws MalformedMessageException {
        int n = i32(what + " length");
        if (n < 0 || n > max) {
            throw new MalformedMessageException("expected " + what + " length in [0, " + max + "], found " + n);
        }
        return bytes(n, what);
    }

    /** int32 length in [min, max], then that many bytes, skipped. */
    public void skipLengthPrefixed(int max, String what, int min) throws MalformedMessageException {
        int n = i32(what + " length");
        if (n < min || n > max) {
            throw new MalformedMessageException("expected " + what + " length in [" + min + ", " + max + "], found " + n);
        }
        need(n, what);
        pos += n;
    }

    /** uint16 length, then UTF-8 bytes. */
    public String string(String what) throws MalformedMessageException {
        int n = u16(what + " length");
        return new String(bytes(n, what), StandardCharsets.UTF_8);
    }

    public void expectEnd(String message) throws MalformedMessageException {
        if (pos != end) {
            throw new MalformedMessageException("expected end of " + message + ", found " + (end - pos)
                    + " trailing bytes");
        }
    }
}
