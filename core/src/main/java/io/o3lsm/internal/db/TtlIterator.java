package io.o3lsm.internal.db;

import io.o3lsm.DBIterator;
import io.o3lsm.internal.util.TtlStamp;
import java.nio.ByteBuffer;

/**
 * The iterator of a DB opened with {@code Options.ttl}: the engine's iterator seen without the
 * values expired at {@code nowMillis} (the clock when the iterator was created; one instant for the
 * iterator's whole life, so both directions agree) and without the write-time stamps of the others.
 * Not thread-safe, as any {@link DBIterator}.
 */
final class TtlIterator extends ForwardingDBIterator {
    private final long ttlMillis;
    private final long nowMillis;

    TtlIterator(DBIterator it, long ttlMillis, long nowMillis) {
        super(it);
        this.ttlMillis = ttlMillis;
        this.nowMillis = nowMillis;
    }

    /** Whether the value at the current position is expired (the stamp is the value's last 8 bytes). */
    private boolean expired() {
        ByteBuffer v = in.valueBuffer();
        if (v.remaining() < TtlStamp.SIZE) {
            TtlStamp.writeTime(new byte[v.remaining()]); // throws, naming the problem
        }
        long written = v.order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(v.limit() - TtlStamp.SIZE);
        return TtlStamp.expired(written, ttlMillis, nowMillis);
    }

    private void skipForward() {
        while (in.isValid() && expired()) {
            in.next();
        }
    }

    private void skipBackward() {
        while (in.isValid() && expired()) {
            in.prev();
        }
    }

    @Override
    public void seekToFirst() {
        in.seekToFirst();
        skipForward();
    }

    @Override
    public void seekToLast() {
        in.seekToLast();
        skipBackward();
    }

    @Override
    public void seek(byte[] target) {
        in.seek(target);
        skipForward();
    }

    @Override
    public void seekForPrev(byte[] target) {
        in.seekForPrev(target);
        skipBackward();
    }

    @Override
    public void next() {
        in.next();
        skipForward();
    }

    @Override
    public void prev() {
        in.prev();
        skipBackward();
    }

    @Override
    public byte[] value() {
        return TtlStamp.strip(in.value());
    }

    @Override
    public ByteBuffer valueBuffer() {
        ByteBuffer v = in.valueBuffer().duplicate();
        v.limit(v.limit() - TtlStamp.SIZE);
        return v;
    }

    @Override
    public int value(ByteBuffer dst) {
        return copyInto(valueBuffer(), dst);
    }
}
