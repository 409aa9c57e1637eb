package io.o3lsm.format;

import io.o3lsm.internal.util.Bytes;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;
import org.agrona.DirectBuffer;

/**
 * One range deletion: every key in {@code [start, end)} (unsigned bytewise order) with a sequence
 * below {@link #sequence} is deleted (as seen by readers at or above that sequence). In a memtable
 * or a merge it is the internal entry {@code start || trailer(sequence, TYPE_RANGE_DELETION)} whose
 * value is {@code end}; an SST keeps its tombstones apart from its point entries, in the
 * {@code rangedel} block ({@code docs/format/sstable.md}).
 *
 * <p>Immutable and thread-safe; the arrays are not copied and must not be modified. The
 * {@code covers} and {@code compare*} methods allocate nothing. A tombstone with
 * {@code start >= end} is {@linkplain #isEmpty() empty}: it covers nothing (table builders drop it).
 */
public final class RangeTombstone {
    /**
     * The order of tombstones in an SST: by start internal key (start ascending, then sequence
     * descending), then by end ascending.
     */
    public static final Comparator<RangeTombstone> ORDER = RangeTombstone::compareTo;

    public final byte[] start;
    public final byte[] end;
    public final long sequence;

    public RangeTombstone(byte[] start, byte[] end, long sequence) {
        this.start = Objects.requireNonNull(start, "start");
        this.end = Objects.requireNonNull(end, "end");
        this.sequence = sequence;
    }

    /** True if {@code userKey} lies in {@code [start, end)}. */
    public boolean covers(byte[] userKey) {
        return Bytes.compare(start, userKey) <= 0 && Bytes.compare(userKey, end) < 0;
    }

    /** As {@link #covers(byte[])} for the user key {@code k[off, off+len)}. */
    public boolean covers(byte[] k, int off, int len) {
        return Bytes.compare(start, 0, start.length, k, off, len) <= 0
                && Bytes.compare(k, off, len, end, 0, end.length) < 0;
    }

    /** As {@link #covers(byte[])} for the user key {@code buf[off, off+len)}. */
    public boolean covers(DirectBuffer buf, int off, int len) {
        return Bytes.compare(buf, off, len, start, 0, start.length) >= 0
                && Bytes.compare(buf, off, len, end, 0, end.length) < 0;
    }

    /** True if {@code start >= end}: the tombstone covers no key. */
    public boolean isEmpty() {
        return Bytes.compare(start, end) >= 0;
    }

    /** {@code start || trailer(sequence, TYPE_RANGE_DELETION)}: the tombstone as an internal key. */
    public byte[] startInternalKey() {
        return InternalKey.encode(start, sequence, InternalKey.TYPE_RANGE_DELETION);
    }

    /**
     * {@code end || trailer(MAX_SEQUENCE, TYPE_RANGE_DELETION)}: how far the tombstone reaches in
     * internal-key order (an SST's largest key accounts for it). Every real entry of user key
     * {@code end} sorts after it, every entry of a covered key before it.
     */
    public byte[] endSentinelKey() {
        return InternalKey.encode(end, InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION);
    }

    /** {@link #ORDER}. */
    public int compareTo(RangeTombstone o) {
        int c = Bytes.compare(start, o.start);
        if (c != 0) {
            return c;
        }
        if (sequence != o.sequence) {
            return Long.compareUnsigned(o.sequence, sequence); // newer first, as in internal-key order
        }
        return Bytes.compare(end, o.end);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeTombstone t && sequence == t.sequence && Arrays.equals(start, t.start)
                && Arrays.equals(end, t.end);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(start) * 31 + Arrays.hashCode(end)) * 31 + Long.hashCode(sequence);
    }

    @Override
    public String toString() {
        return "RangeTombstone[" + java.util.HexFormat.of().formatHex(start) + ", "
                + java.util.HexFormat.of().formatHex(end) + ")@" + sequence;
    }
}
