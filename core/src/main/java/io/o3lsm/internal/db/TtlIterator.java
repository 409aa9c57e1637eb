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
final class TtlIterator implements DBIterator {
    private final DBIterator it;
    private final long ttlMillis;
    private final long nowMillis;

    TtlIterator(DBIterator it, long ttlMillis, long nowMillis) {
        this.it = it;
        this.ttlMillis = ttlMillis;
        this.nowMillis = nowMillis;
    }

    /** Whether the value at the current position is expired (the stamp is the value's last 8 bytes). */
    private boolean expired() {
        ByteBuffer v = it.valueBuffer();
        if (v.remaining() < TtlStamp.SIZE) {
            TtlStamp.writeTime(new byte[v.remaining()]); // throws, naming the problem
        }
        long written = v.order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(v.limit() - TtlStamp.SIZE);
        return TtlStamp.expired(written, ttlMillis, nowMillis);
    }

    private void skipForward() {
        while (it.isValid() && expired()) {
            it.next();
        }
    }

    private void skipBackward() {
        while (it.isValid() && expired()) {
            it.prev();
        }
    }

    @Override
    public boolean isValid() {
        return it.isValid();
    }

    @Override
    public void seekToFirst() {
        it.seekToFirst();
        skipForward();
    }

    @Override
    public void seekToLast() {
        it.seekToLast();
        skipBackward();
    }

    @Override
    public void seek(byte[] target) {
        it.seek(target);
        skipForward();
    }

    @Override
    public void seekForPrev(byte[] target) {
        it.seekForPrev(target);
        skipBackward();
    }

    @Override
    public void next() {
        it.next();
        skipForward();
    }

    @Override
    public void prev() {
        it.prev();
        skipBackward();
    }

    @Override
    public byte[] key() {
        return it.key();
    }

    @Override
    public byte[] value() {
        return TtlStamp.strip(it.value());
    }

    @Override
    public ByteBuffer keyBuffer() {
        return it.keyBuffer();
    }

    @Override
    public ByteBuffer valueBuffer() {
        ByteBuffer v = it.valueBuffer().duplicate();
        v.limit(v.limit() - TtlStamp.SIZE);
        return v;
    }

    @Override
    public int key(ByteBuffer dst) {
        return it.key(dst);
    }

    @Override
    public int value(ByteBuffer dst) {
        ByteBuffer v = valueBuffer();
        int len = v.remaining();
        v.limit(v.position() + Math.min(len, dst.remaining()));
        dst.put(v);
        return len;
    }

    @Override
    public void close() {
        it.close();
    }
}
