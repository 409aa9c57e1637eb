package io.o3lsm.internal.db;

import io.o3lsm.DBIterator;
import java.nio.ByteBuffer;

/**
 * A {@link DBIterator} that forwards every call to another; the views over an engine iterator
 * (a family's, a TTL DB's, a secondary's) extend it and override only what they change.
 * Not thread-safe, as any {@link DBIterator}.
 */
abstract class ForwardingDBIterator implements DBIterator {
    /** The iterator forwarded to. */
    protected final DBIterator in;

    ForwardingDBIterator(DBIterator in) {
        this.in = in;
    }

    /**
     * Copies {@code src} into {@code dst} as {@link DBIterator#key(ByteBuffer)} promises: as much as
     * fits, {@code dst}'s position advanced by that much; returns the whole length.
     */
    static int copyInto(ByteBuffer src, ByteBuffer dst) {
        int len = src.remaining();
        if (len <= dst.remaining()) {
            dst.put(src);
        } else {
            dst.put(src.limit(src.position() + dst.remaining()));
        }
        return len;
    }

    @Override
    public boolean isValid() {
        return in.isValid();
    }

    @Override
    public void seekToFirst() {
        in.seekToFirst();
    }

    @Override
    public void seekToLast() {
        in.seekToLast();
    }

    @Override
    public void seek(byte[] target) {
        in.seek(target);
    }

    @Override
    public void seekForPrev(byte[] target) {
        in.seekForPrev(target);
    }

    @Override
    public void next() {
        in.next();
    }

    @Override
    public void prev() {
        in.prev();
    }

    @Override
    public byte[] key() {
        return in.key();
    }

    @Override
    public byte[] value() {
        return in.value();
    }

    @Override
    public ByteBuffer keyBuffer() {
        return in.keyBuffer();
    }

    @Override
    public ByteBuffer valueBuffer() {
        return in.valueBuffer();
    }

    @Override
    public int key(ByteBuffer dst) {
        return in.key(dst);
    }

    @Override
    public int value(ByteBuffer dst) {
        return in.value(dst);
    }

    @Override
    public void close() {
        in.close();
    }
}
