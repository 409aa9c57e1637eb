package io.o3lsm.format.table;

import io.o3lsm.CorruptionException;
import io.o3lsm.internal.util.Coding;

/**
 * One decoded (decompressed, checksum-verified) block: the entries written by
 * {@link BlockBuilder} followed by the restart array. Read it with a {@link BlockIterator}.
 *
 * <p>Immutable and thread-safe once constructed, so one instance can be shared by many iterators
 * and threads (and, later, by a block cache). The constructor checks the restart array against the
 * block size; entries are checked as iterators decode them. Every inconsistency is a
 * {@link CorruptionException} naming the file and the block's offset in it.
 */
public final class Block {
    final byte[] data;
    /** Bytes of {@link #data} that belong to the block. */
    final int size;
    /** Offset of the restart array = end of the entries. */
    final int restartsOffset;
    final int numRestarts;
    final String fileName;
    /** Offset of this block in its file (for error messages and cache keys). */
    final long fileOffset;

    // Block cache bookkeeping, owned by io.o3lsm.format.table.BlockCache and guarded by the
    // monitor of the cache shard that holds the block (never touched outside the cache).
    /** The cache shard holding this block, or null if it was never cached. */
    public Object cacheShard;
    /** Gets currently reading this block through {@code BlockCache.lookupPinned/insertPinned}. */
    public int cachePins;
    /** Dropped from the cache. */
    public boolean cacheEvicted;
    /** Handed out unpinned (to an iterator): its array may be referenced indefinitely, never reuse it. */
    public boolean cacheEscaped;

    /**
     * Wraps {@code data[0, size)}. The array must not be modified afterwards.
     *
     * @throws CorruptionException if the restart array does not fit the block
     */
    public Block(byte[] data, int size, String fileName, long fileOffset) {
        this.data = data;
        this.size = size;
        this.fileName = fileName;
        this.fileOffset = fileOffset;
        if (size < 4 || size > data.length) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected a block of at least 4 bytes (the restart count), found " + size);
        }
        int n = Coding.getFixed32(data, size - 4);
        long restartBytes = 4L * (n & 0xFFFFFFFFL);
        if (n < 0 || restartBytes > size - 4) {
            throw new CorruptionException(fileName, fileOffset, "expected at most " + (size - 4) / 4
                    + " restart points in a block of " + size + " bytes, found " + Integer.toUnsignedString(n));
        }
        this.numRestarts = n;
        this.restartsOffset = size - 4 - (int) restartBytes;
        if (n == 0 && restartsOffset != 0) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected at least one restart point for " + restartsOffset + " bytes of entries, found 0");
        }
        if (n > 0 && restartPoint(0) != 0) {
            throw new CorruptionException(fileName, fileOffset,
                    "expected first restart point at 0, found " + restartPoint(0));
        }
    }

    /** Bytes this block occupies on the heap (for cache accounting). */
    public int sizeInBytes() {
        return data.length + 64;
    }

    /** The backing array (the block is its first {@code size} bytes); for the cache's buffer reuse. */
    public byte[] array() {
        return data;
    }

    /** Offset of this block in its file. */
    public long fileOffset() {
        return fileOffset;
    }

    /** True if the block holds no entries. */
    public boolean isEmpty() {
        return restartsOffset == 0;
    }

    int restartPoint(int i) {
        return Coding.getFixed32(data, restartsOffset + 4 * i);
    }

    /** A new iterator over this block; see {@link BlockIterator} for {@code internalKeyOrder}. */
    public BlockIterator iterator(boolean internalKeyOrder) {
        BlockIterator it = new BlockIterator(internalKeyOrder);
        it.reset(this);
        return it;
    }

    CorruptionException corruption(String what) {
        return new CorruptionException(fileName, fileOffset, what);
    }

    @Override
    public String toString() {
        return "Block[" + fileName + "@" + fileOffset + ", " + size + " bytes, " + numRestarts + " restarts]";
    }
}
