package io.o3lsm.internal.version;

import io.o3lsm.format.InternalKey;
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

    private final byte[] smallestUser;
    private final byte[] largestUser;

    /** The metadata of a job's output file, as the VersionEdit records it. */
    public static FileMetaData of(io.o3lsm.spi.CompactionExecutor.OutputFile o) {
        return new FileMetaData(o.number(), o.size(), o.smallest(), o.largest(), o.smallestSequence(),
                o.largestSequence());
    }

    public FileMetaData(long number, long size, byte[] smallest, byte[] largest, long smallestSeq, long largestSeq) {
        this.smallestUser = InternalKey.userKey(smallest);
        this.largestUser = InternalKey.userKey(largest);
        this.number = number;
        this.size = size;
        this.smallest = smallest;
        this.largest = largest;
        this.smallestSeq = smallestSeq;
        this.largestSeq = largestSeq;
    }

    /** Trailer of a largest key that is a range tombstone's exclusive end rather than a stored key. */
    public static final long EXCLUSIVE_END_TRAILER =
            InternalKey.trailer(InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION);

    /** True if the largest key is the exclusive end of a range tombstone: that user key is not in the file. */
    public boolean largestIsExclusive() {
        return InternalKey.trailer(largest) == EXCLUSIVE_END_TRAILER;
    }

    /** True if {@code userKey} lies within the file's user-key range. */
    public boolean mayContainUserKey(byte[] userKey) {
        int ls = smallest.length - InternalKey.TRAILER_SIZE;
        int ll = largest.length - InternalKey.TRAILER_SIZE;
        if (Bytes.compare(userKey, 0, userKey.length, smallest, 0, ls) < 0) {
            return false;
        }
        int c = Bytes.compare(userKey, 0, userKey.length, largest, 0, ll);
        return largestIsExclusive() ? c < 0 : c <= 0;
    }

    /** User key of the smallest entry (shared array: do not modify). */
    public byte[] smallestUserKey() {
        return smallestUser;
    }

    /** User key of the largest entry, or the exclusive end of a range tombstone (shared: do not modify). */
    public byte[] largestUserKey() {
        return largestUser;
    }

    /** True if the file's user-key range intersects {@code [from, to]} (null = unbounded), inclusively. */
    public boolean overlaps(byte[] from, byte[] to) {
        int ls = smallest.length - InternalKey.TRAILER_SIZE;
        int ll = largest.length - InternalKey.TRAILER_SIZE;
        if (to != null && Bytes.compare(to, 0, to.length, smallest, 0, ls) < 0) {
            return false;
        }
        if (from != null && Bytes.compare(from, 0, from.length, largest, 0, ll) > 0) {
            return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return "#" + number + "(" + size + "B, seq " + smallestSeq + ".." + largestSeq + ")";
    }
}
