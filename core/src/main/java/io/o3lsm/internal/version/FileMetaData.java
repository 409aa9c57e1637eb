package io.o3lsm.internal.version;

import io.o3lsm.internal.format.InternalKey;
import io.o3lsm.internal.util.Bytes;

/**
 * What a version knows about one SST: number, size, key and sequence ranges. Immutable.
 */
public final class FileMetaData {
    public final long number;
    public final long size;
    /** Smallest and largest internal keys in the file. */
    public final byte[] smallest;
    public final byte[] largest;
    public final long smallestSeq;
    public final long largestSeq;

    public FileMetaData(long number, long size, byte[] smallest, byte[] largest, long smallestSeq, long largestSeq) {
        this.number = number;
        this.size = size;
        this.smallest = smallest;
        this.largest = largest;
        this.smallestSeq = smallestSeq;
        this.largestSeq = largestSeq;
    }

    /** True if {@code userKey} lies within [smallest user key, largest user key]. */
    public boolean mayContainUserKey(byte[] userKey) {
        int ls = smallest.length - InternalKey.TRAILER_SIZE;
        int ll = largest.length - InternalKey.TRAILER_SIZE;
        return Bytes.compare(userKey, 0, userKey.length, smallest, 0, ls) >= 0
                && Bytes.compare(userKey, 0, userKey.length, largest, 0, ll) <= 0;
    }

    @Override
    public String toString() {
        return "#" + number + "(" + size + "B, seq " + smallestSeq + ".." + largestSeq + ")";
    }
}
