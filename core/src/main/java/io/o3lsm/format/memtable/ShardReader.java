package io.o3lsm.format.memtable;

import static io.o3lsm.format.memtable.ShardDescriptor.CAPACITY_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.ENTRY_COUNT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FIRST_NODE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FLAGS_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.FLAG_SEALED;
import static io.o3lsm.format.memtable.ShardDescriptor.FORMAT_VERSION;
import static io.o3lsm.format.memtable.ShardDescriptor.HEADER_LENGTH;
import static io.o3lsm.format.memtable.ShardDescriptor.HEAD_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.HEAD_OFFSET_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.KNOWN_FLAGS;
import static io.o3lsm.format.memtable.ShardDescriptor.LIST_HEIGHT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MAGIC;
import static io.o3lsm.format.memtable.ShardDescriptor.MAGIC_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MAX_HEIGHT;
import static io.o3lsm.format.memtable.ShardDescriptor.MAX_HEIGHT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MAX_SEQUENCE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.MIN_NODE_LENGTH;
import static io.o3lsm.format.memtable.ShardDescriptor.MIN_SEQUENCE_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_HEADER_LENGTH;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_HEIGHT_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_KEY_LENGTH_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NODE_VALUE_LENGTH_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.NULL_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.SHARD_ID_OFFSET;
import static io.o3lsm.format.memtable.ShardDescriptor.USED_OFFSET;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.util.Coding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Read-only view of a memtable shard (layout in {@link ShardDescriptor}) held in any
 * {@link DirectBuffer} whose index 0 is the shard's first byte: the live arena of a
 * {@link MemtableShard}, or a copy of its used bytes in another buffer, heap or off-heap, in this
 * process or another. No deserialization: gets and iterators walk the bytes in place.
 *
 * <p><b>Validation.</b> The constructor checks the header (magic, version, capacity, used,
 * head node) and throws {@link CorruptionException} naming the shard. Every node reached through a
 * link is checked before use (alignment, bounds, height, lengths), and a search that takes more
 * steps than the arena can hold nodes reports a cycle; so bad bytes raise
 * {@code CorruptionException}, never an out-of-bounds access or a hang. Key order is checked only by
 * {@link #verify()}, which a receiver of a shipped shard should run (or trust the
 * {@link #checksum()} it was sent with).
 *
 * <p><b>Memory order.</b> When the buffer is an {@link AtomicBuffer} (as a live arena is), links are
 * read with acquire ({@code getIntAcquire}) and header counters with volatile loads, pairing with
 * the writer's CAS (release) publication: a reader never sees a half-written node. Over other
 * buffers (immutable copies) plain little-endian loads are used.
 *
 * <p><b>Consistency over a live shard.</b> Each entry becomes visible atomically when its level-0
 * link is published and stays visible. A single traversal is not a snapshot of concurrent writes;
 * snapshot consistency comes from sequence numbers: an entry with sequence {@code s} is linked
 * before the writer publishes {@code s} as visible (the DB's job, or {@link #maxSequence()} with a
 * single writer), so a get at snapshot {@code s} sees every entry {@code <= s}.
 *
 * <p><b>Thread safety.</b> A reader is immutable: {@link #get} and the header accessors may be
 * called from any number of threads. Each {@link #iterator()} is for one thread.
 */
public final class ShardReader {
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final DirectBuffer buf;
    /** Same buffer when acquire/volatile loads are possible on it, else null. */
    private final AtomicBuffer atomic;
    private final String name;
    /** Every node must end at or before this offset. */
    private final int limit;
    /** Upper bound of forward steps in one search; more means a cycle. */
    private final long maxSteps;
    /** Upper bound of entry nodes the arena can hold. */
    private final long maxNodes;

    /**
     * @param buf  shard bytes starting at index 0; at least the shard's used bytes long
     * @param name names the shard in exceptions (e.g. "memtable-shard-7" or a DM segment id)
     * @throws CorruptionException if the header is not a valid version-{@value ShardDescriptor#FORMAT_VERSION} shard header
     */
    public ShardReader(DirectBuffer buf, String name) {
        this.buf = buf;
        this.name = name;
        this.atomic = buf instanceof AtomicBuffer && NATIVE_LITTLE_ENDIAN && (buf.addressOffset() & 7) == 0
                ? (AtomicBuffer) buf : null;

        int bufCapacity = buf.capacity();
        if (bufCapacity < HEADER_LENGTH) {
            throw corrupt(0, "expected a shard header of " + HEADER_LENGTH + " bytes, found a buffer of "
                    + bufCapacity);
        }
        int magic = buf.getInt(MAGIC_OFFSET, LE);
        if (magic != MAGIC) {
            throw corrupt(MAGIC_OFFSET, "expected magic 0x" + Integer.toHexString(MAGIC) + ", found 0x"
                    + Integer.toHexString(magic));
        }
        int version = buf.getInt(ShardDescriptor.VERSION_OFFSET, LE);
        if (version < ShardDescriptor.MIN_READABLE_VERSION || version > FORMAT_VERSION) {
            throw corrupt(ShardDescriptor.VERSION_OFFSET, "expected format version in ["
                    + ShardDescriptor.MIN_READABLE_VERSION + ", " + FORMAT_VERSION + "], found " + version);
        }
        int maxHeight = buf.getInt(MAX_HEIGHT_OFFSET, LE);
        if (maxHeight != MAX_HEIGHT) {
            throw corrupt(MAX_HEIGHT_OFFSET, "expected max height " + MAX_HEIGHT + ", found " + maxHeight);
        }
        int head = buf.getInt(HEAD_OFFSET_OFFSET, LE);
        if (head != HEAD_OFFSET) {
            throw corrupt(HEAD_OFFSET_OFFSET, "expected head node offset " + HEAD_OFFSET + ", found " + head);
        }
        int capacity = buf.getInt(CAPACITY_OFFSET, LE);
        if (capacity < FIRST_NODE_OFFSET) {
            throw corrupt(CAPACITY_OFFSET, "expected capacity >= " + FIRST_NODE_OFFSET + ", found " + capacity);
        }
        int used = usedVolatile();
        if (used < FIRST_NODE_OFFSET || used > capacity || used > bufCapacity) {
            throw corrupt(USED_OFFSET, "expected used bytes in [" + FIRST_NODE_OFFSET + ", "
                    + Math.min(capacity, bufCapacity) + "] (capacity " + capacity + ", buffer " + bufCapacity
                    + "), found " + used);
        }
        int flags = flagsVolatile();
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw corrupt(FLAGS_OFFSET, "expected only flags 0x" + Integer.toHexString(KNOWN_FLAGS)
                    + ", found 0x" + Integer.toHexString(flags));
        }
        listHeightAcquire(); // validates
        if (buf.getInt(HEAD_OFFSET + NODE_HEIGHT_OFFSET, LE) != MAX_HEIGHT
                || buf.getInt(HEAD_OFFSET + NODE_KEY_LENGTH_OFFSET, LE) != 0
                || buf.getInt(HEAD_OFFSET + NODE_VALUE_LENGTH_OFFSET, LE) != 0) {
            throw corrupt(HEAD_OFFSET, "expected head node (height " + MAX_HEIGHT + ", empty key and value)");
        }
        // A sealed shard never grows: nothing may point past its used bytes. An open one grows up
        // to its capacity, within the buffer.
        this.limit = (flags & FLAG_SEALED) != 0 ? used : Math.min(capacity, bufCapacity);
        this.maxNodes = (limit - FIRST_NODE_OFFSET) / MIN_NODE_LENGTH + 1L;
        this.maxSteps = maxNodes * MAX_HEIGHT;
    }

    public String name() {
        return name;
    }

    /** The underlying buffer (read-only use). */
    public DirectBuffer buffer() {
        return buf;
    }

    // ---- header (volatile loads on a live arena) ------------------------------------------

    public int shardId() {
        return buf.getInt(SHARD_ID_OFFSET, LE);
    }

    public int capacity() {
        return buf.getInt(CAPACITY_OFFSET, LE);
    }

    /** The allocation cursor: bytes {@code [0, usedBytes())} are the shard. */
    public int usedBytes() {
        return usedVolatile();
    }

    /** Entries linked so far; exact once the shard is sealed, may lag concurrent adds before. */
    public long entryCount() {
        return atomic != null ? atomic.getLongVolatile(ENTRY_COUNT_OFFSET) : buf.getLong(ENTRY_COUNT_OFFSET, LE);
    }

    /** Smallest sequence stored, {@code Long.MAX_VALUE} if empty. */
    public long minSequence() {
        return atomic != null ? atomic.getLongVolatile(MIN_SEQUENCE_OFFSET) : buf.getLong(MIN_SEQUENCE_OFFSET, LE);
    }

    /**
     * Largest sequence stored, -1 if empty. Updated after the entry is linked, so with a single
     * writer every entry with a sequence {@code <=} this value is visible.
     */
    public long maxSequence() {
        return atomic != null ? atomic.getLongVolatile(MAX_SEQUENCE_OFFSET) : buf.getLong(MAX_SEQUENCE_OFFSET, LE);
    }

    public boolean isSealed() {
        return (flagsVolatile() & FLAG_SEALED) != 0;
    }

    /**
     * CRC32C over bytes {@code [0, usedBytes())}, header included with its mutable fields as they
     * are. Meant for sealed shards, whose bytes no longer change: the sender of a shard and its
     * receiver compute the same value. Over an open shard the result is meaningless.
     */
    public int checksum() {
        int used = usedVolatile();
        CRC32C crc = new CRC32C();
        byte[] array = buf.byteArray();
        ByteBuffer bb = buf.byteBuffer();
        if (array != null) {
            crc.update(array, buf.wrapAdjustment(), used);
        } else if (bb != null) {
            ByteBuffer dup = bb.duplicate();
            dup.clear().position(buf.wrapAdjustment()).limit(buf.wrapAdjustment() + used);
            crc.update(dup);
        } else {
            byte[] chunk = new byte[Math.min(used, 64 * 1024)];
            for (int off = 0; off < used; off += chunk.length) {
                int n = Math.min(chunk.length, used - off);
                buf.getBytes(off, chunk, 0, n);
                crc.update(chunk, 0, n);
            }
        }
        return (int) crc.getValue();
    }

    // ---- point lookup -----------------------------------------------------------------------

    /**
     * Finds the newest entry for {@code userKey} with sequence {@code <= snapshotSeq}. On a hit sets
     * {@code out.state} to {@link Lookup#FOUND} (with {@code out.value} a fresh copy) or
     * {@link Lookup#DELETED} or {@link Lookup#MERGE} (with the operand), and {@code out.sequence}; returns true. Returns false and leaves
     * {@code out} untouched when the shard has no visible entry for the key. Range deletions are
     * skipped (not yet applied to point reads). Allocates nothing but the value copy.
     *
     * @param snapshotSeq values above {@link InternalKey#MAX_SEQUENCE} are treated as it
     */
    public boolean get(byte[] userKey, long snapshotSeq, Lookup out) {
        if (snapshotSeq < 0) {
            throw new IllegalArgumentException("negative snapshot sequence " + snapshotSeq);
        }
        long seekTrailer = InternalKey.trailer(Math.min(snapshotSeq, InternalKey.MAX_SEQUENCE),
                InternalKey.TYPE_FOR_SEEK);
        int node = findGreaterOrEqual(userKey, 0, userKey.length, seekTrailer);
        boolean added = false; // collecting: operands were added from this shard
        for (long steps = 0; node != NULL_OFFSET; steps++) {
            if (steps > maxNodes) {
                throw corrupt(node, "expected at most " + maxNodes + " nodes, found a cycle");
            }
            int height = height(node);
            int keyOff = ShardDescriptor.keyOffset(node, height);
            int keyLen = keyLength(node);
            int userKeyLen = keyLen - InternalKey.TRAILER_SIZE;
            if (Bytes.compare(buf, keyOff, userKeyLen, userKey, 0, userKey.length) != 0) {
                return added;
            }
            long trailer = buf.getLong(keyOff + userKeyLen, LE);
            int type = InternalKey.typeOf(trailer);
            switch (type) {
                case InternalKey.TYPE_VALUE: {
                    int valueLen = valueLength(node);
                    byte[] value = new byte[valueLen];
                    buf.getBytes(keyOff + keyLen, value, 0, valueLen);
                    out.state = Lookup.FOUND;
                    out.value = value;
                    out.sequence = InternalKey.sequenceOf(trailer);
                    return true;
                }
                case InternalKey.TYPE_DELETION:
                    out.state = Lookup.DELETED;
                    out.value = null;
                    out.sequence = InternalKey.sequenceOf(trailer);
                    return true;
                case InternalKey.TYPE_MERGE: {
                    int valueLen = valueLength(node);
                    byte[] value = new byte[valueLen];
                    buf.getBytes(keyOff + keyLen, value, 0, valueLen);
                    if (out.collect) {
                        out.addOperand(value, InternalKey.sequenceOf(trailer));
                        added = true;
                        node = nextAcquire(node, 0); // the key's older entries follow
                        break;
                    }
                    out.state = Lookup.MERGE;
                    out.value = value;
                    out.sequence = InternalKey.sequenceOf(trailer);
                    return true;
                }
                case InternalKey.TYPE_RANGE_DELETION:
                    node = nextAcquire(node, 0); // older versions of the same key follow
                    break;
                default:
                    throw corrupt(keyOff + userKeyLen, "expected an entry type (0 to 3), found " + type);
            }
        }
        return added;
    }

    /** What {@link #visitPointEntries} reports for each user key. */
    @FunctionalInterface
    public interface PointEntryVisitor {
        /**
         * @param buf        the shard's bytes
         * @param userKeyOff where the user key starts in {@code buf}
         * @param userKeyLen its length
         * @param node       offset of the entry's node (the newest point entry of that key)
         * @param nodeLength the node's length in bytes ({@code align4(12 + 4h + k + v)})
         */
        void visit(DirectBuffer buf, int userKeyOff, int userKeyLen, int node, int nodeLength);
    }

    /**
     * Walks level 0 once and reports, for each user key, the node of its newest point entry (value or
     * deletion; range deletions are skipped, as point gets skip them). For sealed shards: the
     * compute node builds its index of entry locations from this before it drops its local copy.
     */
    public void visitPointEntries(PointEntryVisitor v) {
        int prevKeyOff = -1;
        int prevKeyLen = -1;
        long count = 0;
        for (int node = nextAcquire(HEAD_OFFSET, 0); node != NULL_OFFSET; node = nextAcquire(node, 0)) {
            if (++count > maxNodes) {
                throw corrupt(node, "expected at most " + maxNodes + " nodes, found a cycle");
            }
            int height = height(node);
            int keyOff = ShardDescriptor.keyOffset(node, height);
            int keyLen = keyLength(node);
            int userKeyLen = keyLen - InternalKey.TRAILER_SIZE;
            if (prevKeyOff >= 0 && Bytes.compare(buf, keyOff, userKeyLen, buf, prevKeyOff, prevKeyLen) == 0) {
                continue; // an older entry of a key already reported
            }
            int type = InternalKey.typeOf(buf.getLong(keyOff + userKeyLen, LE));
            if (type == InternalKey.TYPE_RANGE_DELETION) {
                continue; // the key's point entries, if any, follow
            }
            prevKeyOff = keyOff;
            prevKeyLen = userKeyLen;
            long len = ShardDescriptor.nodeLength(height, keyLen, valueLength(node));
            v.visit(buf, keyOff, userKeyLen, node, (int) len);
        }
    }

    /** A new iterator, unpositioned. For one thread; allocates only at creation. */
    public InternalIterator iterator() {
        return new ShardIterator();
    }

    /**
     * Walks every entry at level 0 and checks what the per-step validation does not: strict
     * internal-key order, known entry types, every node within the used bytes, sequences within the
     * header's min/max and the entry count. For sealed shards received from elsewhere; over a live
     * shard it may report concurrent adds as a count mismatch.
     *
     * @throws CorruptionException naming the first offending node
     */
    public void verify() {
        int used = usedVolatile();
        long count = 0;
        long min = minSequence();
        long max = maxSequence();
        int prev = NULL_OFFSET;
        for (int node = nextAcquire(HEAD_OFFSET, 0); node != NULL_OFFSET; node = nextAcquire(node, 0)) {
            if (++count > maxNodes) {
                throw corrupt(node, "expected at most " + maxNodes + " nodes, found a cycle");
            }
            int height = height(node);
            int keyLen = keyLength(node);
            long end = node + ShardDescriptor.nodeLength(height, keyLen, valueLength(node));
            if (end > used) {
                throw corrupt(node, "expected node to end within used bytes " + used + ", found end " + end);
            }
            int keyOff = ShardDescriptor.keyOffset(node, height);
            long trailer = buf.getLong(keyOff + keyLen - InternalKey.TRAILER_SIZE, LE);
            int type = InternalKey.typeOf(trailer);
            long seq = InternalKey.sequenceOf(trailer);
            if (!InternalKey.isKnownType(type)) {
                throw corrupt(node, "expected an entry type (0 to 3), found " + type);
            }
            if (seq < min || seq > max) {
                throw corrupt(node, "expected sequence in [" + min + ", " + max + "], found " + seq);
            }
            if (prev != NULL_OFFSET && compareNodes(prev, node) >= 0) {
                throw corrupt(node, "expected key greater than previous node's at " + prev + ", found not greater");
            }
            prev = node;
        }
        long expected = entryCount();
        if (count != expected) {
            throw corrupt(ENTRY_COUNT_OFFSET, "expected " + expected + " entries, found " + count);
        }
    }

    // ---- navigation --------------------------------------------------------------------------

    /** The link of {@code node} at {@code level}, acquire-loaded when possible; validated. */
    private int nextAcquire(int node, int level) {
        int off = ShardDescriptor.nextOffset(node, level);
        int next = atomic != null ? atomic.getIntAcquire(off) : buf.getInt(off, LE);
        if (next != NULL_OFFSET) {
            checkNode(next, off);
        }
        return next;
    }

    /** Checks that a linked-to offset is a well-formed node inside the limit. */
    private void checkNode(int node, int linkOffset) {
        if ((node & (ShardDescriptor.NODE_ALIGNMENT - 1)) != 0 || node < FIRST_NODE_OFFSET
                || node > limit - NODE_HEADER_LENGTH) {
            throw corrupt(linkOffset, "expected a 4-aligned node offset in [" + FIRST_NODE_OFFSET + ", "
                    + (limit - NODE_HEADER_LENGTH) + "], found " + node);
        }
        int height = buf.getInt(node + NODE_HEIGHT_OFFSET, LE);
        int keyLen = buf.getInt(node + NODE_KEY_LENGTH_OFFSET, LE);
        int valueLen = buf.getInt(node + NODE_VALUE_LENGTH_OFFSET, LE);
        if (height < 1 || height > MAX_HEIGHT || keyLen < InternalKey.TRAILER_SIZE || valueLen < 0
                || node + ShardDescriptor.nodeLength(height, keyLen, valueLen) > limit) {
            throw corrupt(node, "expected node with height 1.." + MAX_HEIGHT + ", key length >= "
                    + InternalKey.TRAILER_SIZE + " and end <= " + limit + ", found height " + height
                    + ", key length " + keyLen + ", value length " + valueLen);
        }
    }

    private int height(int node) {
        return buf.getInt(node + NODE_HEIGHT_OFFSET, LE);
    }

    private int keyLength(int node) {
        return buf.getInt(node + NODE_KEY_LENGTH_OFFSET, LE);
    }

    private int valueLength(int node) {
        return buf.getInt(node + NODE_VALUE_LENGTH_OFFSET, LE);
    }

    private int listHeightAcquire() {
        int h = atomic != null ? atomic.getIntAcquire(LIST_HEIGHT_OFFSET) : buf.getInt(LIST_HEIGHT_OFFSET, LE);
        if (h < 1 || h > MAX_HEIGHT) {
            throw corrupt(LIST_HEIGHT_OFFSET, "expected list height 1.." + MAX_HEIGHT + ", found " + h);
        }
        return h;
    }

    private int usedVolatile() {
        return atomic != null ? atomic.getIntVolatile(USED_OFFSET) : buf.getInt(USED_OFFSET, LE);
    }

    private int flagsVolatile() {
        return atomic != null ? atomic.getIntVolatile(FLAGS_OFFSET) : buf.getInt(FLAGS_OFFSET, LE);
    }

    /**
     * Internal-key order of the key stored in {@code node} against the internal key
     * {@code userKey[off, off+len) || targetTrailer}. No validation: callers pass checked nodes.
     */
    static int compareNode(DirectBuffer buf, int node, byte[] userKey, int off, int len, long targetTrailer) {
        int height = buf.getInt(node + NODE_HEIGHT_OFFSET, LE);
        int keyLen = buf.getInt(node + NODE_KEY_LENGTH_OFFSET, LE);
        int keyOff = ShardDescriptor.keyOffset(node, height);
        int userKeyLen = keyLen - InternalKey.TRAILER_SIZE;
        int c = Bytes.compare(buf, keyOff, userKeyLen, userKey, off, len);
        if (c != 0) {
            return c;
        }
        long trailer = buf.getLong(keyOff + userKeyLen, LE);
        return Long.compareUnsigned(targetTrailer, trailer); // trailers sort descending
    }

    private int compareNodes(int a, int b) {
        int ha = height(a);
        int hb = height(b);
        return InternalKey.compare(buf, ShardDescriptor.keyOffset(a, ha), keyLength(a),
                buf, ShardDescriptor.keyOffset(b, hb), keyLength(b));
    }

    /** First node whose key is {@code >= userKey || trailer}, or {@link ShardDescriptor#NULL_OFFSET}. */
    private int findGreaterOrEqual(byte[] userKey, int off, int len, long trailer) {
        int x = HEAD_OFFSET;
        int level = listHeightAcquire() - 1;
        int lastBigger = NULL_OFFSET; // known >= target: no need to compare it again one level down
        long steps = 0;
        while (true) {
            int next = nextAcquire(x, level);
            if (next != NULL_OFFSET && next != lastBigger && compareNode(buf, next, userKey, off, len, trailer) < 0) {
                x = next;
                if (++steps > maxSteps) {
                    throw corrupt(next, "expected a search to end within " + maxSteps + " steps, found a cycle");
                }
            } else {
                if (level == 0) {
                    return next;
                }
                lastBigger = next;
                level--;
            }
        }
    }

    /** Last node whose key is {@code < key of target}, or the head offset if none. */
    private int findLessThan(int target) {
        int height = height(target);
        int targetKeyOff = ShardDescriptor.keyOffset(target, height);
        int targetKeyLen = keyLength(target);
        int x = HEAD_OFFSET;
        int level = listHeightAcquire() - 1;
        int lastBigger = NULL_OFFSET;
        long steps = 0;
        while (true) {
            int next = nextAcquire(x, level);
            if (next != NULL_OFFSET && next != lastBigger && InternalKey.compare(buf,
                    ShardDescriptor.keyOffset(next, height(next)), keyLength(next),
                    buf, targetKeyOff, targetKeyLen) < 0) {
                x = next;
                if (++steps > maxSteps) {
                    throw corrupt(next, "expected a search to end within " + maxSteps + " steps, found a cycle");
                }
            } else {
                if (level == 0) {
                    return x;
                }
                lastBigger = next;
                level--;
            }
        }
    }

    /** Last node in the list, or the head offset if empty. */
    private int findLast() {
        int x = HEAD_OFFSET;
        int level = listHeightAcquire() - 1;
        long steps = 0;
        while (true) {
            int next = nextAcquire(x, level);
            if (next != NULL_OFFSET) {
                x = next;
                if (++steps > maxSteps) {
                    throw corrupt(next, "expected a search to end within " + maxSteps + " steps, found a cycle");
                }
            } else if (level == 0) {
                return x;
            } else {
                level--;
            }
        }
    }

    private CorruptionException corrupt(long offset, String expectedVersusFound) {
        return new CorruptionException(name, offset, expectedVersusFound);
    }

    /** Zero-copy cursor; key and value views are re-pointed, never reallocated. */
    private final class ShardIterator implements InternalIterator {
        private final UnsafeBuffer keyView = new UnsafeBuffer(new byte[0]);
        private final UnsafeBuffer valueView = new UnsafeBuffer(new byte[0]);
        private int node = NULL_OFFSET;
        /** Steps taken by next() since the last positioning search: bounded by the node count. */
        private long steps;

        @Override
        public boolean isValid() {
            return node != NULL_OFFSET;
        }

        @Override
        public void seekToFirst() {
            steps = 0;
            node = nextAcquire(HEAD_OFFSET, 0);
        }

        @Override
        public void seekToLast() {
            steps = 0;
            int last = findLast();
            node = last == HEAD_OFFSET ? NULL_OFFSET : last;
        }

        @Override
        public void seek(byte[] targetInternalKey) {
            int len = targetInternalKey.length;
            if (len < InternalKey.TRAILER_SIZE) {
                throw new IllegalArgumentException("internal key of " + len + " bytes, need at least "
                        + InternalKey.TRAILER_SIZE);
            }
            steps = 0;
            node = findGreaterOrEqual(targetInternalKey, 0, len - InternalKey.TRAILER_SIZE,
                    Coding.getFixed64(targetInternalKey, len - InternalKey.TRAILER_SIZE));
        }

        @Override
        public void next() {
            requireValid();
            if (++steps > maxNodes) {
                throw corrupt(node, "expected at most " + maxNodes + " nodes, found a cycle");
            }
            node = nextAcquire(node, 0);
        }

        @Override
        public void prev() {
            requireValid();
            steps = 0;
            int before = findLessThan(node);
            node = before == HEAD_OFFSET ? NULL_OFFSET : before;
        }

        @Override
        public DirectBuffer key() {
            requireValid();
            keyView.wrap(buf, ShardDescriptor.keyOffset(node, height(node)), keyLength(node));
            return keyView;
        }

        @Override
        public DirectBuffer value() {
            requireValid();
            int keyLen = keyLength(node);
            valueView.wrap(buf, ShardDescriptor.valueOffset(node, height(node), keyLen), valueLength(node));
            return valueView;
        }

        private void requireValid() {
            if (node == NULL_OFFSET) {
                throw new IllegalStateException("iterator is not positioned on an entry");
            }
        }
    }
}
