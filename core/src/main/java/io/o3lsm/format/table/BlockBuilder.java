package io.o3lsm.format.table;

import io.o3lsm.internal.util.Coding;
import java.util.Arrays;
import org.agrona.DirectBuffer;

/**
 * Assembles the contents of one block (data, index, metaindex or properties) in memory.
 *
 * <pre>
 *   block   = entry* restart* num_restarts
 *   entry   = varint32 shared | varint32 non_shared | varint32 value_length
 *             | key_delta[non_shared] | value[value_length]
 *   restart = fixed32 offset of an entry whose shared == 0
 *   num_restarts = fixed32 (>= 1; an empty block is restart 0, count 1)
 * </pre>
 *
 * Every {@code restartInterval}-th entry is a restart point and stores its whole key; the others
 * store only the suffix that differs from the previous key. The builder does not check key order:
 * {@link TableBuilder} does. Not thread-safe; reused after {@link #reset()}.
 */
final class BlockBuilder {
    private final int restartInterval;
    private byte[] buf = new byte[4096];
    private int size;
    private int[] restarts = new int[64];
    private int numRestarts;
    private int counter; // entries since the last restart
    private int entries;
    private byte[] lastKey = new byte[64];
    private int lastKeyLen;
    private boolean finished;

    BlockBuilder(int restartInterval) {
        if (restartInterval < 1) {
            throw new IllegalArgumentException("restartInterval must be >= 1, was " + restartInterval);
        }
        this.restartInterval = restartInterval;
        reset();
    }

    void reset() {
        size = 0;
        numRestarts = 1;
        restarts[0] = 0;
        counter = 0;
        entries = 0;
        lastKeyLen = 0;
        finished = false;
    }

    boolean isEmpty() {
        return entries == 0;
    }

    int entryCount() {
        return entries;
    }

    /** Size of the block if it were finished now (entries + restart array + count). */
    int currentSizeEstimate() {
        return size + numRestarts * 4 + 4;
    }

    void add(byte[] key, int koff, int klen, byte[] value, int voff, int vlen) {
        int nonShared = addKey(key, koff, klen, vlen);
        ensure(nonShared + vlen);
        System.arraycopy(key, koff + klen - nonShared, buf, size, nonShared);
        size += nonShared;
        System.arraycopy(value, voff, buf, size, vlen);
        size += vlen;
    }

    void add(byte[] key, int koff, int klen, DirectBuffer value, int voff, int vlen) {
        int nonShared = addKey(key, koff, klen, vlen);
        ensure(nonShared + vlen);
        System.arraycopy(key, koff + klen - nonShared, buf, size, nonShared);
        size += nonShared;
        value.getBytes(voff, buf, size, vlen);
        size += vlen;
    }

    /** Writes the entry header, updates restarts and the last key; returns non_shared. */
    private int addKey(byte[] key, int koff, int klen, int vlen) {
        if (finished) {
            throw new IllegalStateException("block already finished");
        }
        int shared = 0;
        if (counter < restartInterval) {
            int n = Math.min(lastKeyLen, klen);
            int mismatch = Arrays.mismatch(lastKey, 0, n, key, koff, koff + n);
            shared = mismatch < 0 ? n : mismatch;
        } else {
            if (numRestarts == restarts.length) {
                restarts = Arrays.copyOf(restarts, numRestarts * 2);
            }
            restarts[numRestarts++] = size;
            counter = 0;
        }
        int nonShared = klen - shared;
        ensure(3 * Coding.MAX_VARINT32_BYTES);
        size = Coding.putVarint32(buf, size, shared);
        size = Coding.putVarint32(buf, size, nonShared);
        size = Coding.putVarint32(buf, size, vlen);
        if (lastKey.length < klen) {
            lastKey = Arrays.copyOf(lastKey, Math.max(klen, lastKey.length * 2));
        }
        System.arraycopy(key, koff + shared, lastKey, shared, nonShared);
        lastKeyLen = klen;
        counter++;
        entries++;
        return nonShared;
    }

    /** Appends the restart array; returns the contents' length ({@link #buffer()}[0, length)). */
    int finish() {
        if (!finished) {
            ensure(numRestarts * 4 + 4);
            for (int i = 0; i < numRestarts; i++) {
                Coding.putFixed32(buf, size, restarts[i]);
                size += 4;
            }
            Coding.putFixed32(buf, size, numRestarts);
            size += 4;
            finished = true;
        }
        return size;
    }

    /** The backing array; valid until the next mutation. */
    byte[] buffer() {
        return buf;
    }

    private void ensure(int extra) {
        long need = (long) size + extra;
        if (need > buf.length) {
            if (need > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("block too large: " + need + " bytes");
            }
            buf = Arrays.copyOf(buf, (int) Math.max(need, Math.min(Integer.MAX_VALUE - 16, 2L * buf.length)));
        }
    }
}
