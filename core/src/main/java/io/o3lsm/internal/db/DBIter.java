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
 * <p><b>Merge operands.</b> A key whose newest visible entry is a merge operand has its value
 * computed: going forward, the operands are collected down to the key's value, a deletion, a
 * covering range tombstone or its last entry, and the merge operator combines them; the result is
 * kept as a copy ({@code merged}) and the inner iterator is left past the entries used. Going
 * backward, the key's entries arrive oldest first: a value or deletion restarts the operands.
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
    private final io.o3lsm.MergeOperator mergeOperator;
    /** Operands of the key being resolved (forward: newest first; backward: oldest first). */
    private final java.util.ArrayList<byte[]> operands = new java.util.ArrayList<>();
    /**
     * Forward, the value is a merge result in {@link #val}, and the inner iterator is past the
     * operands (on the key's base entry, on a later key, or exhausted).
     */
    private boolean merged;

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
            byte[] upper, BooleanSupplier dbClosed, io.o3lsm.MergeOperator mergeOperator) {
        this.mergeOperator = mergeOperator;
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
        } else if (!merged) {
            inner.next();
        } // merged: the inner iterator is already past the key's operands
        findNextUserEntry(true);
    }

    @Override
    public void prev() {
        checkValid();
        if (forward) {
            // step back over every entry of the current key (a merge may have left the inner iterator
            // past its last entry, or exhausted)
            if (inner.isValid()) {
                inner.prev();
            } else {
                inner.seekToLast();
            }
            while (true) {
                if (!inner.isValid()) {
                    valid = false;
                    merged = false;
                    return;
                }
                DirectBuffer k = inner.key();
                if (Bytes.compare(k, 0, k.capacity() - InternalKey.TRAILER_SIZE, key, 0, keyLen) < 0) {
                    break;
                }
                inner.prev();
            }
            forward = false;
            merged = false;
        }
        findPrevUserEntry();
    }

    /** Forward: the first visible, live user entry at or after the inner position (skipping key if asked). */
    private void findNextUserEntry(boolean skipping) {
        merged = false;
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
                if (type == InternalKey.TYPE_MERGE) {
                    mergeForward();
                }
                valid = true;
                return;
            }
            inner.next();
        }
        valid = false;
    }

    /**
     * Forward, on the key's newest visible entry, a merge operand: collects it and the older operands
     * down to the base (a value; none at a deletion, a covering range tombstone or the key's end),
     * leaves the merge result in {@link #val}, the inner iterator past what it used.
     */
    private void mergeForward() {
        operands.clear();
        operands.add(copy(inner.value()));
        // the sequence of the last entry used: one met again in another source is the same entry (a
        // replica's memtable may hold entries its tables hold too) and is not used twice
        long last = InternalKey.sequenceOf(InternalKey.trailer(inner.key(), 0, inner.key().capacity()));
        byte[] base = null;
        for (inner.next(); inner.isValid(); inner.next()) {
            DirectBuffer k = inner.key();
            int klen = k.capacity();
            int ulen = klen - InternalKey.TRAILER_SIZE;
            if (Bytes.compare(k, 0, ulen, key, 0, keyLen) != 0) {
                break;
            }
            long trailer = InternalKey.trailer(k, 0, klen);
            int type = InternalKey.typeOf(trailer);
            long s = InternalKey.sequenceOf(trailer);
            if (type == InternalKey.TYPE_RANGE_DELETION || s > seq || s >= last) {
                continue;
            }
            last = s;
            if (type == InternalKey.TYPE_DELETION || tombstones.covers(key, 0, keyLen, s)) {
                break;
            }
            if (type == InternalKey.TYPE_VALUE) {
                base = copy(inner.value());
                break;
            }
            operands.add(copy(inner.value()));
        }
        java.util.Collections.reverse(operands); // oldest first
        setMerged(io.o3lsm.internal.util.Merges.full(mergeOperator, Arrays.copyOf(key, keyLen), base, operands));
        merged = true;
    }

    private static byte[] copy(DirectBuffer v) {
        byte[] out = new byte[v.capacity()];
        v.getBytes(0, out);
        return out;
    }

    private void setMerged(byte[] v) {
        operands.clear();
        val = v;
        valLen = v.length;
        valView = null;
    }

    /** Backward: the last visible, live user entry before the inner position (inclusive). */
    private void findPrevUserEntry() {
        boolean haveValue = false;
        boolean haveKey = false;
        boolean baseInVal = false; // the operands collected sit on the value in val (else on nothing)
        long prevSeq = -1; // the sequence of the last entry of the current key used
        operands.clear();
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
                if (haveKey && s == prevSeq && Bytes.compare(k, 0, ulen, key, 0, keyLen) == 0) {
                    inner.prev(); // the same entry met again in another source: used once
                    continue;
                }
                prevSeq = s;
                if (haveKey && Bytes.compare(k, 0, ulen, key, 0, keyLen) != 0) {
                    operands.clear(); // a new (smaller) key: the dead one's operands go
                    baseInVal = false;
                }
                setKey(k, ulen);
                haveKey = true;
                if (type == InternalKey.TYPE_DELETION || tombstones.covers(key, 0, keyLen, s)) {
                    haveValue = false;
                    operands.clear();
                    baseInVal = false;
                } else if (type == InternalKey.TYPE_MERGE) {
                    operands.add(copy(inner.value()));
                    haveValue = true;
                } else {
                    operands.clear();
                    baseInVal = true;
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
            operands.clear();
        } else if (!operands.isEmpty()) {
            byte[] base = baseInVal ? Arrays.copyOf(val, valLen) : null;
            setMerged(io.o3lsm.internal.util.Merges.full(mergeOperator, Arrays.copyOf(key, keyLen), base,
                    new java.util.ArrayList<>(operands)));
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
        if (forward && !merged) {
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
        if (forward && !merged) {
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
        if (forward && !merged) {
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
