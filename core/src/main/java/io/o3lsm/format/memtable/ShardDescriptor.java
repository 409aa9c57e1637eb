package io.o3lsm.format.memtable;

import io.o3lsm.format.InternalKey;

/**
 * Byte layout of a DM-optimized memtable shard: one contiguous arena holding a header, a skiplist
 * head node and the entry nodes, linked by 32-bit offsets from the arena start. The same bytes are
 * written by {@link MemtableShard}, read in place by {@link ShardReader}, and shipped to other
 * processes by copying {@code [0, used)}. Specified in {@code docs/format/dm-memtable.md}.
 *
 * <p>Every integer is little-endian. Every field the writer updates atomically (the cursor, the
 * counters, the flags, the next offsets) is naturally aligned: 4 bytes for ints, 8 for longs, given
 * an arena whose first byte is 8-aligned.
 *
 * <h2>Header ({@value #HEADER_LENGTH} bytes)</h2>
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      Magic "O3MS"                             |  0
 *  +---------------------------------------------------------------+
 *  |                      Format Version                           |  4
 *  +---------------------------------------------------------------+
 *  |                      Capacity (arena bytes)                   |  8
 *  +---------------------------------------------------------------+
 *  |                      Used (allocation cursor)                 | 12
 *  +---------------------------------------------------------------+
 *  |                      Entry Count                              | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Min Sequence                             | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Max Sequence                             | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Flags (bit 0: SEALED)                    | 40
 *  +---------------------------------------------------------------+
 *  |                      Shard Id                                 | 44
 *  +---------------------------------------------------------------+
 *  |                      List Height (1..MAX_HEIGHT)              | 48
 *  +---------------------------------------------------------------+
 *  |                      Head Node Offset (= 64)                  | 52
 *  +---------------------------------------------------------------+
 *  |                      Max Height (format constant, = 12)       | 56
 *  +---------------------------------------------------------------+
 *  |                      Reserved (0)                             | 60
 *  +---------------------------------------------------------------+
 * </pre>
 * An empty shard has {@code minSequence = Long.MAX_VALUE} and {@code maxSequence = -1}.
 *
 * <h2>Node (4-byte aligned; the head node is a node of height {@link #MAX_HEIGHT} with empty key
 * and value at offset {@value #HEADER_LENGTH})</h2>
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      Height h (1..12; upper bits 0)           |  0
 *  +---------------------------------------------------------------+
 *  |                      Key Length k (internal key, >= 8)        |  4
 *  +---------------------------------------------------------------+
 *  |                      Value Length v (>= 0)                    |  8
 *  +---------------------------------------------------------------+
 *  |                      Next[0] (offset of successor, 0 = none)  | 12
 *  +---------------------------------------------------------------+
 *  |                      ...                                      |
 *  +---------------------------------------------------------------+
 *  |                      Next[h-1]                                | 12 + 4(h-1)
 *  +---------------------------------------------------------------+
 *  |                      Internal Key (user key || trailer)      ...  12 + 4h
 *  +---------------------------------------------------------------+
 *  |                      Value                                   ...  12 + 4h + k
 *  +---------------------------------------------------------------+
 *  |                      Zero padding to a multiple of 4          |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Stateless, thread-safe.
 */
public final class ShardDescriptor {
    private ShardDescriptor() {
    }

    /** "O3MS" read as a little-endian int: bytes {@code 4F 33 4D 53}. */
    public static final int MAGIC = 0x534D334F;
    /**
     * The version this code writes; ratcheted on any layout change. History: 1 = first; 2 = entries
     * may be merge operands (type 3). Readers take 1 and 2.
     */
    public static final int FORMAT_VERSION = 2;
    /** The oldest version this code reads. */
    public static final int MIN_READABLE_VERSION = 1;

    /** Tallest node; also the height of the head node. Fixed by the format. */
    public static final int MAX_HEIGHT = 12;
    /** A node of height {@code h} also gets height {@code h+1} with probability 1/BRANCHING. */
    public static final int BRANCHING = 4;

    /** Alignment of every node and hence of every next offset. */
    public static final int NODE_ALIGNMENT = 4;
    /** The "no successor" link. Offset 0 is the header, never a node. */
    public static final int NULL_OFFSET = 0;

    /** Flag bit: the shard accepts no more entries and its bytes no longer change. */
    public static final int FLAG_SEALED = 1;
    /** Flag bits a version-1 reader understands. */
    public static final int KNOWN_FLAGS = FLAG_SEALED;

    // ---- header fields --------------------------------------------------------------------

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int CAPACITY_OFFSET = 8;
    /** Allocation cursor: bytes {@code [0, used)} are the shard; nodes are carved from here. */
    public static final int USED_OFFSET = 12;
    public static final int ENTRY_COUNT_OFFSET = 16;
    public static final int MIN_SEQUENCE_OFFSET = 24;
    public static final int MAX_SEQUENCE_OFFSET = 32;
    public static final int FLAGS_OFFSET = 40;
    public static final int SHARD_ID_OFFSET = 44;
    /** Current height of the list: the tallest node linked so far (1 when empty). */
    public static final int LIST_HEIGHT_OFFSET = 48;
    public static final int HEAD_OFFSET_OFFSET = 52;
    /** Holds {@link #MAX_HEIGHT} so a reader can check it agrees on the head node's size. */
    public static final int MAX_HEIGHT_OFFSET = 56;
    public static final int RESERVED_OFFSET = 60;

    /** Bytes of header before the head node; one cache line. */
    public static final int HEADER_LENGTH = 64;

    // ---- node fields (relative to the node's offset) ---------------------------------------

    public static final int NODE_HEIGHT_OFFSET = 0;
    public static final int NODE_KEY_LENGTH_OFFSET = 4;
    public static final int NODE_VALUE_LENGTH_OFFSET = 8;
    public static final int NODE_NEXT_OFFSET = 12;
    /** Fixed part of a node, before its next offsets. */
    public static final int NODE_HEADER_LENGTH = 12;

    /** Where the head node starts. */
    public static final int HEAD_OFFSET = HEADER_LENGTH;
    /** Length of the head node: height {@link #MAX_HEIGHT}, empty key and value. */
    public static final int HEAD_LENGTH = NODE_HEADER_LENGTH + MAX_HEIGHT * 4;
    /** Offset of the first entry node; also the {@code used} value of an empty shard. */
    public static final int FIRST_NODE_OFFSET = HEAD_OFFSET + HEAD_LENGTH;
    /** Smallest possible entry node: height 1, empty user key, empty value. */
    public static final int MIN_NODE_LENGTH = NODE_HEADER_LENGTH + 4 + InternalKey.TRAILER_SIZE;

    /** Offset of {@code node}'s link at {@code level}. 4-aligned whenever {@code node} is. */
    public static int nextOffset(int node, int level) {
        return node + NODE_NEXT_OFFSET + (level << 2);
    }

    /** Offset of the internal key of a node of height {@code height}. */
    public static int keyOffset(int node, int height) {
        return node + NODE_NEXT_OFFSET + (height << 2);
    }

    /** Offset of the value of a node of height {@code height} with internal key length {@code keyLength}. */
    public static int valueOffset(int node, int height, int keyLength) {
        return keyOffset(node, height) + keyLength;
    }

    /** Rounds {@code length} up to {@link #NODE_ALIGNMENT}. */
    public static long align(long length) {
        return (length + (NODE_ALIGNMENT - 1)) & ~(long) (NODE_ALIGNMENT - 1);
    }

    /**
     * Bytes a node takes, padding included. Computed in {@code long} so callers can check it
     * against the arena before narrowing.
     *
     * @param height            1..{@link #MAX_HEIGHT}
     * @param internalKeyLength user key length + {@link InternalKey#TRAILER_SIZE}
     * @param valueLength       value length
     */
    public static long nodeLength(int height, int internalKeyLength, int valueLength) {
        return align((long) NODE_HEADER_LENGTH + ((long) height << 2) + internalKeyLength + valueLength);
    }

    /**
     * Upper bound of the bytes one entry takes in an arena: a node of height {@link #MAX_HEIGHT},
     * trailer and alignment included.
     *
     * @param keyLen   length of the <em>user</em> key (without the 8-byte trailer)
     * @param valueLen length of the value
     * @throws IllegalArgumentException if a length is negative or the entry cannot fit in any
     *                                  arena (more than {@code Integer.MAX_VALUE} bytes with the header)
     */
    public static int entrySizeUpperBound(int keyLen, int valueLen) {
        if (keyLen < 0 || valueLen < 0) {
            throw new IllegalArgumentException("negative length: key " + keyLen + ", value " + valueLen);
        }
        long n = nodeLength(MAX_HEIGHT, keyLen + InternalKey.TRAILER_SIZE, valueLen);
        if (n + FIRST_NODE_OFFSET > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("entry too large for a shard: key " + keyLen + " + value "
                    + valueLen + " bytes");
        }
        return (int) n;
    }

    /**
     * Capacity of an arena that is guaranteed to accept one entry of these sizes, whatever height
     * it draws: the jumbo arena for an entry too large for the regular shard size.
     */
    public static int capacityFor(int keyLen, int valueLen) {
        return FIRST_NODE_OFFSET + entrySizeUpperBound(keyLen, valueLen);
    }
}
