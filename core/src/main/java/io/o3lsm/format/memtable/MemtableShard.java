package io.o3lsm.format.memtable;

import static io.o3lsm.format.memtable.ShardDescriptor.ENTRY_COUNT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FIRST_NODE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FLAGS_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FLAG_SEALED;
import static io.o3lsm.format.memtable.ShardDescriptor.HEAD_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.LIST_HEIGHT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MAX_HEIGHT;
import static io.o3lsm.format.memtable.ShardDescriptor.MAX_SEQUENCE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MIN_SEQUENCE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_HEIGHT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_KEY_LENGTH_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_VALUE_LENGTH_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NULL_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.USED_OFFSET;

import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Bytes;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A writable memtable shard: a lock-free skiplist of internal keys and values laid out in one
 * arena (layout in {@link ShardDescriptor}, spec in {@code docs/format/dm-memtable.md}). Links
 * are offsets from the arena start, so the used bytes can be shipped by one copy and read in place
 * by a {@link ShardReader} anywhere.
 *
 * <p><b>Writers.</b> {@link #add} may be called from any number of threads at once, in the manner of
 * RocksDB's {@code InlineSkipList} with concurrent inserts: the node's splice is searched first
 * (comparing against the caller's key, so a full arena is detected before anything changes), space
 * is claimed by CAS on the header's allocation cursor, the node is written with plain stores, and
 * it is linked bottom-up by one CAS per level on the predecessor's next offset. The CAS is the
 * release that publishes the node; readers load links with acquire. Header counters (entry count,
 * min/max sequence, list height) are updated atomically after linking.
 *
 * <p><b>Sealing.</b> {@link #seal()} sets the SEALED flag and then waits until every {@code add}
 * that started before it has finished; after it returns the arena's used bytes no longer change
 * and may be copied, checksummed and shipped. Adds that start after the flag is set throw
 * {@link IllegalStateException}.
 *
 * <p><b>Duplicates.</b> Internal keys must be unique per shard: the DB gives every entry its own
 * sequence number. An {@code add} of a user key with a sequence already present for that key
 * throws {@link IllegalArgumentException} and changes nothing. Two threads racing to add the same
 * user key with the same sequence may both succeed (the check and the link are not one atomic
 * step); both entries are then kept, adjacent, and iteration order among them is unspecified.
 *
 * <p>Requires a little-endian platform (the format is little-endian and atomics use native order)
 * and an arena whose first byte is 8-aligned. The arena is not freed by this class: a direct
 * buffer from {@link #allocate} is reclaimed by the GC, a caller-supplied buffer by its owner.
 */
public final class MemtableShard {
    /** Per-thread splice scratch: prev offsets at [0, MAX_HEIGHT), next offsets at [MAX_HEIGHT, 2*MAX_HEIGHT). */
    private static final ThreadLocal<int[]> SPLICE = ThreadLocal.withInitial(() -> new int[2 * MAX_HEIGHT]);

    private final AtomicBuffer buffer;
    private final int capacity;
    private final int shardId;
    private final ShardReader reader;
    /** Adds in progress; seal() waits for zero. Dekker-style with the SEALED flag (both volatile). */
    private final AtomicInteger activeWriters = new AtomicInteger();

    /**
     * A shard in a fresh 64-byte-aligned direct buffer of {@code capacity} bytes.
     *
     * @throws IllegalArgumentException if {@code capacity < FIRST_NODE_OFFSET + MIN_NODE_LENGTH}
     */
    public static MemtableShard allocate(int shardId, int capacity) {
        checkCapacity(capacity);
        return new MemtableShard(new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity, 64)), shardId);
    }

    /**
     * Initializes a shard over the whole of {@code buffer} (index 0 to {@code capacity()}), e.g. a
     * slice of UCX-registered memory. Overwrites the header and head node; bytes beyond need no
     * initialization. The caller must not write to the buffer afterwards except through this object.
     *
     * @throws IllegalArgumentException if the buffer is too small or its first byte is not 8-aligned
     */
    public MemtableShard(AtomicBuffer buffer, int shardId) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("memtable shards need a little-endian platform");
        }
        checkCapacity(buffer.capacity());
        if ((buffer.addressOffset() & 7) != 0) {
            throw new IllegalArgumentException("shard arena must start 8-aligned, address offset "
                    + buffer.addressOffset());
        }
        this.buffer = buffer;
        this.capacity = buffer.capacity();
        this.shardId = shardId;

        buffer.setMemory(0, FIRST_NODE_OFFSET, (byte) 0);
        buffer.putInt(ShardDescriptor.VERSION_OFFSET, ShardDescriptor.FORMAT_VERSION, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(ShardDescriptor.CAPACITY_OFFSET, capacity, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(USED_OFFSET, FIRST_NODE_OFFSET, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(ENTRY_COUNT_OFFSET, 0, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(MIN_SEQUENCE_OFFSET, Long.MAX_VALUE, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(MAX_SEQUENCE_OFFSET, -1, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(FLAGS_OFFSET, 0, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(ShardDescriptor.SHARD_ID_OFFSET, shardId, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(LIST_HEIGHT_OFFSET, 1, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(ShardDescriptor.HEAD_OFFSET_OFFSET, HEAD_OFFSET, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(ShardDescriptor.MAX_HEIGHT_OFFSET, MAX_HEIGHT, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(HEAD_OFFSET + NODE_HEIGHT_OFFSET, MAX_HEIGHT, ByteOrder.LITTLE_ENDIAN);
        // head key/value lengths and its MAX_HEIGHT next offsets stay 0 from setMemory
        buffer.putIntRelease(ShardDescriptor.MAGIC_OFFSET, ShardDescriptor.MAGIC); // last: header complete
        this.reader = new ShardReader(buffer, "memtable-shard-" + shardId);
    }

    private static void checkCapacity(int capacity) {
        if (capacity < FIRST_NODE_OFFSET + ShardDescriptor.MIN_NODE_LENGTH) {
            throw new IllegalArgumentException("shard capacity " + capacity + " below minimum "
                    + (FIRST_NODE_OFFSET + ShardDescriptor.MIN_NODE_LENGTH));
        }
    }

    /**
     * Adds one entry with a random node height (p = 1/4 per extra level, at most
     * {@value ShardDescriptor#MAX_HEIGHT}). Thread-safe; lock-free. Allocates nothing.
     *
     * @param sequence 0..{@link InternalKey#MAX_SEQUENCE}
     * @param type     {@link InternalKey#TYPE_VALUE}, {@link InternalKey#TYPE_DELETION} or
     *                 {@link InternalKey#TYPE_RANGE_DELETION}
     * @return true if added; false if the arena has no room for it, in which case nothing changed
     * @throws IllegalStateException    if the shard is sealed
     * @throws IllegalArgumentException for a bad sequence, type or range, or a duplicate
     *                                  (user key, sequence)
     */
    public boolean add(long sequence, int type, byte[] key, int keyOff, int keyLen,
                       byte[] value, int valueOff, int valueLen) {
        return add(sequence, type, key, keyOff, keyLen, value, valueOff, valueLen, randomHeight());
    }

    /** {@link #add} with a chosen node height; for tests and the worked example of the spec. */
    boolean add(long sequence, int type, byte[] key, int keyOff, int keyLen,
                byte[] value, int valueOff, int valueLen, int height) {
        if (sequence < 0 || sequence > InternalKey.MAX_SEQUENCE) {
            throw new IllegalArgumentException("sequence " + sequence + " outside [0, " + InternalKey.MAX_SEQUENCE + "]");
        }
        if (!InternalKey.isKnownType(type)) {
            throw new IllegalArgumentException("entry type " + type);
        }
        Objects.checkFromIndexSize(keyOff, keyLen, key.length);
        Objects.checkFromIndexSize(valueOff, valueLen, value.length);
        if (height < 1 || height > MAX_HEIGHT) {
            throw new IllegalArgumentException("height " + height);
        }
        activeWriters.getAndIncrement();
        try {
            if ((buffer.getIntVolatile(FLAGS_OFFSET) & FLAG_SEALED) != 0) {
                throw new IllegalStateException("memtable shard " + shardId + " is sealed");
            }
            return insert(InternalKey.trailer(sequence, type), key, keyOff, keyLen, value, valueOff, valueLen, height);
        } finally {
            activeWriters.getAndDecrement();
        }
    }

    private boolean insert(long trailer, byte[] key, int keyOff, int keyLen,
                           byte[] value, int valueOff, int valueLen, int height) {
        if (keyLen > capacity) {
            return false; // also keeps keyLen + TRAILER_SIZE from overflowing
        }
        int internalKeyLen = keyLen + InternalKey.TRAILER_SIZE;
        long nodeLength = ShardDescriptor.nodeLength(height, internalKeyLen, valueLen);
        if (nodeLength > capacity - FIRST_NODE_OFFSET) {
            return false; // cannot fit even in an empty arena
        }

        int[] splice = SPLICE.get();
        findSplice(key, keyOff, keyLen, trailer, height, splice);

        int node = allocate((int) nodeLength);
        if (node == NULL_OFFSET) {
            return false;
        }

        // Write the whole node with plain stores; the linking CAS below publishes it.
        buffer.putInt(node + NODE_HEIGHT_OFFSET, height);
        buffer.putInt(node + NODE_KEY_LENGTH_OFFSET, internalKeyLen);
        buffer.putInt(node + NODE_VALUE_LENGTH_OFFSET, valueLen);
        int keyAt = ShardDescriptor.keyOffset(node, height);
        buffer.putBytes(keyAt, key, keyOff, keyLen);
        buffer.putLong(keyAt + keyLen, trailer, ByteOrder.LITTLE_ENDIAN);
        int valueAt = keyAt + internalKeyLen;
        buffer.putBytes(valueAt, value, valueOff, valueLen);
        for (int p = valueAt + valueLen, end = node + (int) nodeLength; p < end; p++) {
            buffer.putByte(p, (byte) 0);
        }

        raiseListHeight(height);
        for (int level = 0; level < height; level++) {
            link(node, level, splice[level], splice[MAX_HEIGHT + level], key, keyOff, keyLen, trailer);
        }

        buffer.getAndAddLong(ENTRY_COUNT_OFFSET, 1);
        long sequence = InternalKey.sequenceOf(trailer);
        for (long min = buffer.getLongVolatile(MIN_SEQUENCE_OFFSET); sequence < min;
             min = buffer.getLongVolatile(MIN_SEQUENCE_OFFSET)) {
            if (buffer.compareAndSetLong(MIN_SEQUENCE_OFFSET, min, sequence)) {
                break;
            }
        }
        for (long max = buffer.getLongVolatile(MAX_SEQUENCE_OFFSET); sequence > max;
             max = buffer.getLongVolatile(MAX_SEQUENCE_OFFSET)) {
            if (buffer.compareAndSetLong(MAX_SEQUENCE_OFFSET, max, sequence)) {
                break;
            }
        }
        return true;
    }

    /**
     * Fills {@code splice} with, for every level below {@code max(height, list height)}, the last
     * node before the key and its successor. Rejects a (user key, sequence) already present.
     */
    private void findSplice(byte[] key, int keyOff, int keyLen, long trailer, int height, int[] splice) {
        int x = HEAD_OFFSET;
        int listHeight = buffer.getIntAcquire(LIST_HEIGHT_OFFSET);
        for (int level = Math.max(listHeight, height) - 1; level >= 0; level--) {
            int next = nextAcquire(x, level);
            while (next != NULL_OFFSET && ShardReader.compareNode(buffer, next, key, keyOff, keyLen, trailer) < 0) {
                x = next;
                next = nextAcquire(x, level);
            }
            if (level < height) {
                splice[level] = x;
                splice[MAX_HEIGHT + level] = next;
            }
        }
        // Neighbours at level 0 are the only places another entry with this user key and sequence
        // can be (entries of one key and sequence differ only in type, which sorts them adjacent).
        long sequence = InternalKey.sequenceOf(trailer);
        if (sameKeyAndSequence(splice[0], key, keyOff, keyLen, sequence)
                || sameKeyAndSequence(splice[MAX_HEIGHT], key, keyOff, keyLen, sequence)) {
            throw new IllegalArgumentException("duplicate internal key: sequence " + sequence
                    + " already present for this user key in memtable shard " + shardId);
        }
    }

    private boolean sameKeyAndSequence(int node, byte[] key, int keyOff, int keyLen, long sequence) {
        if (node == NULL_OFFSET || node == HEAD_OFFSET) {
            return false;
        }
        int internalKeyLen = buffer.getInt(node + NODE_KEY_LENGTH_OFFSET);
        int keyAt = ShardDescriptor.keyOffset(node, buffer.getInt(node + NODE_HEIGHT_OFFSET));
        int userKeyLen = internalKeyLen - InternalKey.TRAILER_SIZE;
        return InternalKey.sequenceOf(buffer.getLong(keyAt + userKeyLen, ByteOrder.LITTLE_ENDIAN)) == sequence
                && Bytes.compare(buffer, keyAt, userKeyLen, key, keyOff, keyLen) == 0;
    }

    /**
     * Links {@code node} at {@code level} between {@code prev} and {@code next} by CAS on
     * {@code prev}'s link (volatile/release: publishes the node). On a lost race walks forward from
     * {@code prev}, which stays before the key since nodes are never removed.
     */
    private void link(int node, int level, int prev, int next, byte[] key, int keyOff, int keyLen, long trailer) {
        int nodeLink = ShardDescriptor.nextOffset(node, level);
        while (true) {
            buffer.putInt(nodeLink, next); // plain: not yet reachable at this level
            if (buffer.compareAndSetInt(ShardDescriptor.nextOffset(prev, level), next, node)) {
                return;
            }
            next = nextAcquire(prev, level);
            while (next != NULL_OFFSET && ShardReader.compareNode(buffer, next, key, keyOff, keyLen, trailer) < 0) {
                prev = next;
                next = nextAcquire(prev, level);
            }
        }
    }

    private int nextAcquire(int node, int level) {
        return buffer.getIntAcquire(ShardDescriptor.nextOffset(node, level));
    }

    /** Claims {@code length} bytes by CAS on the cursor; {@link ShardDescriptor#NULL_OFFSET} if full. */
    private int allocate(int length) {
        while (true) {
            int used = buffer.getIntVolatile(USED_OFFSET);
            if ((long) used + length > capacity) {
                return NULL_OFFSET;
            }
            if (buffer.compareAndSetInt(USED_OFFSET, used, used + length)) {
                return used;
            }
        }
    }

    private void raiseListHeight(int height) {
        for (int h = buffer.getIntVolatile(LIST_HEIGHT_OFFSET); height > h; h = buffer.getIntVolatile(LIST_HEIGHT_OFFSET)) {
            if (buffer.compareAndSetInt(LIST_HEIGHT_OFFSET, h, height)) {
                return;
            }
        }
    }

    /** Height 1 + k with probability (1/4)^k (3/4), capped at {@link ShardDescriptor#MAX_HEIGHT}. */
    static int randomHeight() {
        int r = ThreadLocalRandom.current().nextInt();
        // each pair of low zero bits is one more level: P(height > k) = 4^-k
        return Math.min(1 + (Integer.numberOfTrailingZeros(r) >>> 1), MAX_HEIGHT);
    }

    /**
     * Marks the shard SEALED, then waits (spinning, then yielding) until adds already in progress
     * have finished. Afterwards the used bytes are final. Idempotent; thread-safe.
     */
    public void seal() {
        while (true) {
            int flags = buffer.getIntVolatile(FLAGS_OFFSET);
            if ((flags & FLAG_SEALED) != 0 || buffer.compareAndSetInt(FLAGS_OFFSET, flags, flags | FLAG_SEALED)) {
                break;
            }
        }
        for (int spins = 0; activeWriters.get() != 0; spins++) {
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    public boolean isSealed() {
        return (buffer.getIntVolatile(FLAGS_OFFSET) & FLAG_SEALED) != 0;
    }

    /** Bytes claimed so far, header included: copy {@code [0, usedBytes())} to ship a sealed shard. */
    public int usedBytes() {
        return buffer.getIntVolatile(USED_OFFSET);
    }

    public int capacity() {
        return capacity;
    }

    /** Bytes not yet claimed. An entry fits for sure if {@code entrySizeUpperBound} is at most this. */
    public int remainingBytes() {
        return capacity - usedBytes();
    }

    public long entryCount() {
        return buffer.getLongVolatile(ENTRY_COUNT_OFFSET);
    }

    /** Smallest sequence added, {@code Long.MAX_VALUE} if empty. */
    public long minSequence() {
        return buffer.getLongVolatile(MIN_SEQUENCE_OFFSET);
    }

    /** Largest sequence added, -1 if empty. */
    public long maxSequence() {
        return buffer.getLongVolatile(MAX_SEQUENCE_OFFSET);
    }

    public int shardId() {
        return shardId;
    }

    /** The arena. Read-only for callers: ship {@code [0, usedBytes())} of it after {@link #seal()}. */
    public AtomicBuffer buffer() {
        return buffer;
    }

    /** A reader over the live arena (one shared, thread-safe instance). */
    public ShardReader reader() {
        return reader;
    }

    @Override
    public String toString() {
        return "MemtableShard{id=" + shardId + ", used=" + usedBytes() + "/" + capacity + ", entries="
                + entryCount() + (isSealed() ? ", sealed" : "") + "}";
    }
}
