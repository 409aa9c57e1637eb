package io.o3lsm.dm.protocol;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

/** Little-endian appender for message bodies into a growing heap buffer. Not thread-safe. */
public final class BodyWriter {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final ExpandableArrayBuffer buf;
    private int pos;

    public BodyWriter() {
        this(128);
    }

    public BodyWriter(int initialCapacity) {
        this.buf = new ExpandableArrayBuffer(initialCapacity);
    }

    public BodyWriter u16(int v) {
        buf.putShort(pos, (short) v, LE);
        pos += 2;
        return this;
    }

    public BodyWriter i32(int v) {
        buf.putInt(pos, v, LE);
        pos += 4;
        return this;
    }

    /** Overwrites the int32 at {@code at} (already written). */
    public BodyWriter patchI32(int at, int v) {
        if (at < 0 || at + 4 > pos) {
            throw new IndexOutOfBoundsException("patch at " + at + " of " + pos + " written bytes");
        }
        buf.putInt(at, v, LE);
        return this;
    }

    public BodyWriter i64(long v) {
        buf.putLong(pos, v, LE);
        pos += 8;
        return this;
    }

    public BodyWriter bytes(byte[] b) {
        buf.putBytes(pos, b);
        pos += b.length;
        return this;
    }

    public BodyWriter bytes(byte[] b, int off, int len) {
        buf.putBytes(pos, b, off, len);
        pos += len;
        return this;
    }

    public BodyWriter bytes(DirectBuffer src, int off, int len) {
        buf.putBytes(pos, src, off, len);
        pos += len;
        return this;
    }

    public BodyWriter lengthPrefixed(byte[] b) {
        return i32(b.length).bytes(b);
    }

    public BodyWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("string of " + b.length + " bytes, at most 65535");
        }
        return u16(b.length).bytes(b);
    }

    public int length() {
        return pos;
    }

    public DirectBuffer buffer() {
        return buf;
    }

    public byte[] toByteArray() {
        byte[] out = new byte[pos];
        buf.getBytes(0, out);
        return out;
    }
}
