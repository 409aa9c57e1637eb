package io.o3lsm.format.table;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Bytes;
import java.util.Arrays;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A cursor over the entries of one {@link Block}. Data and index blocks are ordered by
 * {@link InternalKey#compare} ({@code internalKeyOrder = true}); metaindex and properties blocks by
 * plain unsigned bytes.
 *
 * <p>{@link #key()} is a view of a reusable key array (keys are prefix-compressed, so the iterator
 * rebuilds each one); {@link #value()} is a view straight into the block. Both stay valid until the
 * next positioning call and allocate nothing. Seeking binary-searches the restart array and then
 * scans at most one restart interval; {@link #prev()} rescans from the previous restart point.
 *
 * <p>Not thread-safe: one iterator per thread. {@link #reset(Block)} re-points the iterator at
 * another block without allocating, so that a reader can keep one per thread.
 */
public final class BlockIterator implements InternalIterator {
    private final boolean internalKeyOrder;
    private final UnsafeBuffer keyView = new UnsafeBuffer();
    private final UnsafeBuffer valueView = new UnsafeBuffer();

    private Block block;
    private byte[] data;
    private int restartsOffset;
    private int numRestarts;

    /** Offset of the current entry; {@code >= restartsOffset} when not valid. */
    private int current;
    /** Offset of the entry after the current one. */
    private int nextOffset;
    /** The restart interval holding the current entry. */
    private int restartIndex;
    private byte[] keyBuf = new byte[64];
    private int keyLen;
    private int valueOffset;
    private int valueLength;

    // results of decodeHeader
    private int hShared;
    private int hNonShared;
    private int hValueLen;
    private int vpos;

    public BlockIterator(boolean internalKeyOrder) {
        this.internalKeyOrder = internalKeyOrder;
    }

    /** Points this iterator at {@code b} (not positioned: call a seek). */
    public void reset(Block b) {
        block = b;
        data = b.data;
        restartsOffset = b.restartsOffset;
        numRestarts = b.numRestarts;
        invalidate();
    }

    /** Drops the block reference; the iterator is invalid until the next {@link #reset}. */
    public void clear() {
        block = null;
        data = null;
        restartsOffset = 0;
        numRestarts = 0;
        invalidate();
    }

    /** The block this iterator reads, or null. */
    Block block() {
        return block;
    }

    @Override
    public boolean isValid() {
        return current < restartsOffset;
    }

    @Override
    public void seekToFirst() {
        if (restartsOffset == 0) {
            invalidate();
            return;
        }
        seekToRestart(0);
        parseNext();
    }

    @Override
    public void seekToLast() {
        if (restartsOffset == 0) {
            invalidate();
            return;
        }
        seekToRestart(numRestarts - 1);
        do {
            if (!parseNext()) {
                return;
            }
        } while (nextOffset < restartsOffset);
    }

    @Override
    public void seek(byte[] target) {
        seek(target, 0, target.length);
    }

    /** Positions at the first entry whose key is {@code >= target[off, off+len)}. */
    public void seek(byte[] target, int off, int len) {
        if (restartsOffset == 0) {
            invalidate();
            return;
        }
        // binary search for the last restart point whose key is < target
        int left = 0;
        int right = numRestarts - 1;
        while (left < right) {
            int mid = (left + right + 1) >>> 1;
            int entry = restartPoint(mid);
            int p = decodeHeader(entry);
            if (hShared != 0 || (long) p + hNonShared + hValueLen > restartsOffset) {
                throw block.corruption("bad restart entry at block offset " + entry
                        + ": expected shared=0 and an entry inside the block, found shared=" + hShared
                        + " non_shared=" + hNonShared + " value_length=" + hValueLen);
            }
            if (compareKeys(data, p, hNonShared, target, off, len) < 0) {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        seekToRestart(left);
        while (parseNext()) {
            if (compareKeys(keyBuf, 0, keyLen, target, off, len) >= 0) {
                return;
            }
        }
    }

    @Override
    public void next() {
        assert isValid();
        parseNext();
    }

    @Override
    public void prev() {
        assert isValid();
        int original = current;
        while (restartPoint(restartIndex) >= original) {
            if (restartIndex == 0) {
                invalidate();
                return;
            }
            restartIndex--;
        }
        seekToRestart(restartIndex);
        do {
            if (!parseNext()) {
                throw block.corruption("expected an entry before block offset " + original
                        + " when stepping back, found none");
            }
        } while (nextOffset < original);
    }

    @Override
    public DirectBuffer key() {
        keyView.wrap(keyBuf, 0, keyLen);
        return keyView;
    }

    @Override
    public DirectBuffer value() {
        valueView.wrap(data, valueOffset, valueLength);
        return valueView;
    }

    /** The array holding the current key at {@code [0, keyLength())}; valid until the next move. */
    byte[] keyArray() {
        return keyBuf;
    }

    int keyLength() {
        return keyLen;
    }

    /** The block's array; the current value is at {@code [valueOffset(), +valueLength())}. */
    byte[] valueArray() {
        return data;
    }

    int valueOffset() {
        return valueOffset;
    }

    int valueLength() {
        return valueLength;
    }

    /** Offset of the current entry inside the block (for error messages). */
    int entryOffset() {
        return current;
    }

    private int compareKeys(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        if (internalKeyOrder) {
            if (aLen < InternalKey.TRAILER_SIZE) {
                throw block.corruption("expected an internal key of at least 8 bytes, found " + aLen);
            }
            return InternalKey.compare(a, aOff, aLen, b, bOff, bLen);
        }
        return Bytes.compare(a, aOff, aLen, b, bOff, bLen);
    }

    private void invalidate() {
        current = restartsOffset;
        nextOffset = restartsOffset;
        restartIndex = numRestarts;
        keyLen = 0;
        valueOffset = 0;
        valueLength = 0;
    }

    private int restartPoint(int i) {
        return block.restartPoint(i);
    }

    private void seekToRestart(int i) {
        int off = restartPoint(i);
        if (off < 0 || off >= restartsOffset) {
            throw block.corruption("expected restart point " + i + " inside the entries [0, "
                    + restartsOffset + "), found " + off);
        }
        keyLen = 0;
        restartIndex = i;
        nextOffset = off;
    }

    /** Decodes the entry at {@link #nextOffset}; returns false (and invalidates) at the end. */
    private boolean parseNext() {
        current = nextOffset;
        if (current >= restartsOffset) {
            invalidate();
            return false;
        }
        int p = decodeHeader(current);
        if (hShared > keyLen || (long) p + hNonShared + hValueLen > restartsOffset) {
            throw block.corruption("bad entry at block offset " + current + ": expected shared <= "
                    + keyLen + " and the entry to end by " + restartsOffset + ", found shared=" + hShared
                    + " non_shared=" + hNonShared + " value_length=" + hValueLen);
        }
        int newLen = hShared + hNonShared;
        if (newLen > keyBuf.length) {
            keyBuf = Arrays.copyOf(keyBuf, Math.max(newLen, keyBuf.length * 2));
        }
        System.arraycopy(data, p, keyBuf, hShared, hNonShared);
        keyLen = newLen;
        if (internalKeyOrder && newLen < InternalKey.TRAILER_SIZE) {
            throw block.corruption("bad entry at block offset " + current
                    + ": expected an internal key of at least 8 bytes, found " + newLen);
        }
        valueOffset = p + hNonShared;
        valueLength = hValueLen;
        nextOffset = valueOffset + hValueLen;
        while (restartIndex + 1 < numRestarts && restartPoint(restartIndex + 1) <= current) {
            restartIndex++;
        }
        return true;
    }

    /** Decodes the three varints at {@code p} into hShared/hNonShared/hValueLen; returns the key offset. */
    private int decodeHeader(int p) {
        if (p < 0 || p >= restartsOffset) {
            throw block.corruption("expected an entry offset in [0, " + restartsOffset + "), found " + p);
        }
        byte[] d = data;
        if (p + 3 <= restartsOffset) {
            int a = d[p];
            int b = d[p + 1];
            int c = d[p + 2];
            if ((a | b | c) >= 0) { // all three fit in one byte each
                hShared = a;
                hNonShared = b;
                hValueLen = c;
                return p + 3;
            }
        }
        vpos = p;
        hShared = varint32(p);
        hNonShared = varint32(p);
        hValueLen = varint32(p);
        return vpos;
    }

    private int varint32(int entry) {
        int result = 0;
        for (int shift = 0; shift <= 28; shift += 7) {
            if (vpos >= restartsOffset) {
                break;
            }
            int b = data[vpos++];
            result |= (b & 0x7F) << shift;
            if (b >= 0) {
                if (result < 0 || (shift == 28 && (b & 0x70) != 0)) {
                    break;
                }
                return result;
            }
        }
        throw block.corruption("bad entry header at block offset " + entry
                + ": expected three varint32 lengths, found a truncated or oversized varint");
    }
}
