package io.o3lsm.format.memtable;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.internal.util.Bytes;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;

/**
 * Decodes one entry node copied out of a shard by itself (a one-sided read of {@code [node, node +
 * nodeLength)}), without the rest of the shard: its links are not followed, only its fixed part,
 * internal key and value are read, each checked to lie inside the copied bytes.
 */
public final class FetchedNode {
    /** The node holds the key's entry, visible at the snapshot: {@code out} is set. */
    public static final int MATCH = 0;
    /** The node holds another user key (a hash fingerprint collision). */
    public static final int OTHER_KEY = 1;
    /** The node holds the key, but its entry is newer than the snapshot (an older one may follow in the shard). */
    public static final int TOO_NEW = 2;
    /** The bytes are not a well-formed point-entry node of that length. */
    public static final int MALFORMED = 3;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private FetchedNode() {
    }

    /**
     * Decodes the node in {@code b[0, length)}.
     *
     * @return {@link #MATCH} (then {@code out.state}, {@code sequence} and {@code value} are set),
     *         {@link #OTHER_KEY}, {@link #TOO_NEW} or {@link #MALFORMED}
     */
    public static int decode(DirectBuffer b, int length, byte[] userKey, long snapshotSeq, Lookup out) {
        if (length < ShardDescriptor.NODE_HEADER_LENGTH || length > b.capacity()) {
            return MALFORMED;
        }
        int height = b.getInt(ShardDescriptor.NODE_HEIGHT_OFFSET, LE);
        int keyLen = b.getInt(ShardDescriptor.NODE_KEY_LENGTH_OFFSET, LE);
        int valueLen = b.getInt(ShardDescriptor.NODE_VALUE_LENGTH_OFFSET, LE);
        if (height < 1 || height > ShardDescriptor.MAX_HEIGHT || keyLen < InternalKey.TRAILER_SIZE || valueLen < 0
                || ShardDescriptor.nodeLength(height, keyLen, valueLen) != length) {
            return MALFORMED;
        }
        int keyOff = ShardDescriptor.keyOffset(0, height);
        int userKeyLen = keyLen - InternalKey.TRAILER_SIZE;
        if (Bytes.compare(b, keyOff, userKeyLen, userKey, 0, userKey.length) != 0) {
            return OTHER_KEY;
        }
        long trailer = b.getLong(keyOff + userKeyLen, LE);
        long seq = InternalKey.sequenceOf(trailer);
        if (seq > snapshotSeq) {
            return TOO_NEW;
        }
        switch (InternalKey.typeOf(trailer)) {
            case InternalKey.TYPE_VALUE: {
                byte[] value = new byte[valueLen];
                b.getBytes(keyOff + keyLen, value, 0, valueLen);
                out.state = Lookup.FOUND;
                out.value = value;
                out.sequence = seq;
                return MATCH;
            }
            case InternalKey.TYPE_DELETION:
                out.state = Lookup.DELETED;
                out.value = null;
                out.sequence = seq;
                return MATCH;
            case InternalKey.TYPE_MERGE: {
                byte[] value = new byte[valueLen];
                b.getBytes(keyOff + keyLen, value, 0, valueLen);
                out.state = Lookup.MERGE;
                out.value = value;
                out.sequence = seq;
                return MATCH;
            }
            default:
                return MALFORMED; // the index points at point entries only
        }
    }
}
