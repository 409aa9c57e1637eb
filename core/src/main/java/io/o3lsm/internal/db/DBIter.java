package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.DBIterator;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.util.Limits;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import org.agrona.DirectBuffer;

/**
 * The user-facing iterator: turns the merged stream of internal entries (every version, tombstones,
 * range tombstones) into the user keys visible at one sequence number, within optional bounds.
 * LevelDB's DBIter algorithm: going forward the inner iterator sits on the current entry; going
 * backward it sits before all entries of the current key, whose key and value are kept as copies.
 *
 * <p>Pins its read view (memtable shards and SST files) until {@link #close()}, or leaves that to its
 * inner iterator ({@code sv} null: a {@link RefreshingIterator}). Not thread-safe.
 */
final class DBIter implements DBIterator {
    private final SuperVersion sv;
    private final InternalIterator inner;
    private final long seq;
    private final RangeTombstoneSet tombstones;
    private final byte[] lower;
    private final byte[] upper;
    private final BooleanSupplier dbClosed;

    private boolean valid;
    private boolean forward = true;
    private boolean closed;

    // current user key (both directions)
    private byte[] key = new byte[64];
    private int keyLen;
    // saved value (backward direction only)
    private byte[] val = new byte[256];
    private int valLen;
    private ByteBuffer keyView;
    private ByteBuffer valView;
    private byte[] blockArray;
    private ByteBuffer blockView;

    DBIter(SuperVersion sv, InternalIterator inner, long seq, RangeTombstoneSet tombstones, byte[] lower,
            byte[] upper, BooleanSupplier dbClosed) {
        this.sv = sv;
        this.inner = inner;
        this.seq = seq;
        this.tombstones = tombstones;
        this.lower = lower;
        this.upper = upper;
        this.dbClosed = dbClosed;
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
        if (dbClosed.getAsBoolean()) {
            throw new DBClosedException("the DB of this iterator is closed");
        }
    }

    private void checkValid() {
        checkUsable();
        if (!valid) {
            throw new IllegalStateException("iterator is not positioned on an entry (isValid() is false)");
        }
    }

    @Override
    public boolean isValid() {
        checkUsable();
        return valid;
    }

    @Override
    public void seekToFirst() {
        checkUsable();
        if (lower != null) {
            seekInternal(lower);
            return;
        }
        forward = true;
        inner.seekToFirst();
        findNextUserEntry(false);
    }

    @Override
    public void seek(byte[] target) {
        checkUsable();
        Limits.checkKey(target, "seek target");
        if (lower != null && Bytes.compare(target, lower) < 0) {
            target = lower;
        }
        seekInternal(target);
    }

    private void seekInternal(byte[] target) {
        forward = true;
        inner.seek(InternalKey.seekKey(target, seq));
        findNextUserEntry(false);
    }

    @Override
    public void seekToLast() {
        checkUsable();
        if (upper != null) {
            positionBefore(upper);
        } else {
            inner.seekToLast();
        }
        forward = false;
        findPrevUserEntry();
    }

    @Override
    public void seekForPrev(byte[] target) {
        checkUsable();
        Limits.checkKey(target, "seekForPrev target");
        if (upper != null && Bytes.compare(target, upper) >= 0) {
            seekToLast();
            return;
        }
        // (target, seq 0, type 0) sorts after every stored entry of target
        inner.seek(InternalKey.encode(target, 0, InternalKey.TYPE_DELETION));
        if (inner.isValid()) {
            inner.prev();
        } else {
            inner.seekToLast();
        }
        forward = false;
        findPrevUserEntry();
    }

    /** Positions the inner iterator on the last entry whose user key is below {@code userKey}. */
    private void positionBefore(byte[] userKey) {
        inner.seek(InternalKey.seekKey(userKey, InternalKey.MAX_SEQUENCE));
        if (inner.isValid()) {
            inner.prev();
        } else {
            inner.seekToLast();
        }
    }

    @Override
    public void next() {
        checkValid();
        if (!forward) {
            forward = true;
            if (inner.isValid()) {
                inner.next();
            } else {
                inner.seekToFirst();
            }
        } else {
            inner.next();
        }
        findNextUserEntry(true);
    }

    @Override
    public void prev() {
        checkValid();
        if (forward) {
            // step back over every entry of the current key
            while (true) {
                inner.prev();
                if (!inner.isValid()) {
                    valid = false;
                    return;
                }
                DirectBuffer k = inner.key();
                if (Bytes.compare(k, 0, k.capacity() - InternalKey.TRAILER_SIZE, key, 0, keyLen) < 0) {
                    break;
                }
            }
            forward = false;
        }
        findPrevUserEntry();
    }

    /** Forward: the first visible, live user entry at or after the inner position (skipping key if asked). */
    private void findNextUserEntry(boolean skipping) {
        while (inner.isValid()) {
            DirectBuffer k = inner.key();
            int klen = k.capacity();
            int ulen = klen - InternalKey.TRAILER_SIZE;
            long trailer = InternalKey.trailer(k, 0, klen);
            long s = InternalKey.sequenceOf(trailer);
            int type = InternalKey.typeOf(trailer);
            if (s <= seq && type != InternalKey.TYPE_RANGE_DELETION) {
                if (skipping && Bytes.compare(k, 0, ulen, key, 0, keyLen) <= 0) {
                    inner.next();
                    continue;
                }
                if (upper != null && Bytes.compare(k, 0, ulen, upper, 0, upper.length) >= 0) {
                    break;
                }
                setKey(k, ulen);
                if (type == InternalKey.TYPE_DELETION || tombstones.covers(key, 0, keyLen, s)) {
                    skipping = true;
                    inner.next();
                    continue;
                }
                valid = true;
                return;
            }
            inner.next();
        }
        valid = false;
    }

    /** Backward: the last visible, live user entry before the inner position (inclusive). */
    private void findPrevUserEntry() {
        boolean haveValue = false;
        boolean haveKey = false;
        while (inner.isValid()) {
            DirectBuffer k = inner.key();
            int klen = k.capacity();
            int ulen = klen - InternalKey.TRAILER_SIZE;
            long trailer = InternalKey.trailer(k, 0, klen);
            long s = InternalKey.sequenceOf(trailer);
            int type = InternalKey.typeOf(trailer);
            if (s <= seq && type != InternalKey.TYPE_RANGE_DELETION) {
                if (haveKey && Bytes.compare(k, 0, ulen, key, 0, keyLen) < 0) {
                    if (haveValue) {
                        break; // the previous user key has a live value: done
                    }
                }
                if (lower != null && Bytes.compare(k, 0, ulen, lower, 0, lower.length) < 0) {
                    break;
                }
                setKey(k, ulen);
                haveKey = true;
                if (type == InternalKey.TYPE_DELETION || tombstones.covers(key, 0, keyLen, s)) {
                    haveValue = false;
                } else {
                    DirectBuffer v = inner.value();
                    int vlen = v.capacity();
                    if (val.length < vlen) {
                        val = new byte[Math.max(vlen, val.length * 2)];
                        valView = null;
                    }
                    v.getBytes(0, val, 0, vlen);
                    valLen = vlen;
                    haveValue = true;
                }
            }
            inner.prev();
        }
        valid = haveValue;
        if (!valid) {
            forward = true;
        }
    }

    private void setKey(DirectBuffer k, int ulen) {
        if (key.length < ulen) {
            key = new byte[Math.max(ulen, key.length * 2)];
            keyView = null;
        }
        k.getBytes(0, key, 0, ulen);
        keyLen = ulen;
    }

    @Override
    public byte[] key() {
        checkValid();
        return Arrays.copyOf(key, keyLen);
    }

    @Override
    public byte[] value() {
        checkValid();
        if (forward) {
            DirectBuffer v = inner.value();
            byte[] out = new byte[v.capacity()];
            v.getBytes(0, out);
            return out;
        }
        return Arrays.copyOf(val, valLen);
    }

    @Override
    public ByteBuffer keyBuffer() {
        checkValid();
        if (keyView == null) {
            keyView = ByteBuffer.wrap(key).asReadOnlyBuffer();
        }
        keyView.clear().limit(keyLen);
        return keyView;
    }

    @Override
    public ByteBuffer valueBuffer() {
        checkValid();
        if (forward) {
            DirectBuffer v = inner.value();
            byte[] arr = v.byteArray();
            if (arr != null) {
                // a read-only view of the block's array, reused while the iterator stays in one block;
                // the value is its [position, limit)
                int off = (int) (v.addressOffset() - org.agrona.BufferUtil.ARRAY_BASE_OFFSET);
                if (blockArray != arr) {
                    blockArray = arr;
                    blockView = ByteBuffer.wrap(arr).asReadOnlyBuffer();
                }
                blockView.clear().position(off).limit(off + v.capacity());
                return blockView;
            }
            int vlen = v.capacity();
            if (val.length < vlen) {
                val = new byte[Math.max(vlen, val.length * 2)];
                valView = null;
            }
            v.getBytes(0, val, 0, vlen);
            valLen = vlen;
        }
        if (valView == null) {
            valView = ByteBuffer.wrap(val).asReadOnlyBuffer();
        }
        valView.clear().limit(valLen);
        return valView;
    }

    @Override
    public int key(ByteBuffer dst) {
        checkValid();
        int n = Math.min(keyLen, dst.remaining());
        dst.put(key, 0, n);
        return keyLen;
    }

    @Override
    public int value(ByteBuffer dst) {
        checkValid();
        if (forward) {
            DirectBuffer v = inner.value();
            int n = Math.min(v.capacity(), dst.remaining());
            v.getBytes(0, dst, dst.position(), n);
            dst.position(dst.position() + n);
            return v.capacity();
        }
        int n = Math.min(valLen, dst.remaining());
        dst.put(val, 0, n);
        return valLen;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        valid = false;
        try {
            inner.close();
        } finally {
            if (sv != null) {
                sv.unref();
            }
        }
    }
}
