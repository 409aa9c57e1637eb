package io.o3lsm.internal.db;

import io.o3lsm.CorruptionException;
import io.o3lsm.WriteBatch;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Coding;
import java.util.Arrays;

/** Parses write batch bytes; the positions of the current operation are in the fields. */
final class BatchCursor {
    final byte[] rep;
    final int limit;
    final String file;
    final long fileOffset;
    private final int[] pos = {WriteBatch.HEADER_SIZE};
    int type;
    int keyOff;
    int keyLen;
    int valueOff;
    int valueLen;

    BatchCursor(byte[] rep, int limit, String file, long fileOffset) {
        this.rep = rep;
        this.limit = limit;
        this.file = file;
        this.fileOffset = fileOffset;
    }

    /** A copy of the current key (for range deletions: the inclusive start). */
    byte[] key() {
        return Arrays.copyOfRange(rep, keyOff, keyOff + keyLen);
    }

    /** A copy of the current value (for range deletions: the exclusive end). */
    byte[] value() {
        return Arrays.copyOfRange(rep, valueOff, valueOff + valueLen);
    }

    boolean next() {
        if (pos[0] >= limit) {
            return false;
        }
        int at = pos[0];
        type = rep[pos[0]++] & 0xFF;
        if (!InternalKey.isKnownType(type)) {
            throw corrupt(at, "operation type 0 to 3", "type " + type);
        }
        keyLen = len(at, "key length");
        keyOff = pos[0];
        pos[0] += keyLen;
        if (type != InternalKey.TYPE_DELETION) {
            valueLen = len(at, "value length");
            valueOff = pos[0];
            pos[0] += valueLen;
        } else {
            valueLen = 0;
            valueOff = pos[0];
        }
        return true;
    }

    private int len(int at, String what) {
        long n = Coding.getVarint32(rep, pos, limit);
        if (n < 0 || n > limit - pos[0]) {
            throw corrupt(at, what + " within the batch", n < 0 ? "a malformed varint" : n + " bytes past the end");
        }
        return (int) n;
    }

    private CorruptionException corrupt(int at, String expected, String found) {
        return new CorruptionException(file, fileOffset, "write batch byte " + at + ": expected " + expected
                + ", found " + found);
    }
}
