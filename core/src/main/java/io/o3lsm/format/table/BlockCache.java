package io.o3lsm.format.table;

import io.o3lsm.format.table.Block;
import java.util.concurrent.atomic.LongAdder;

/**
 * A byte-bounded cache of decoded SST blocks, shared by all the table readers of a database and
 * keyed by (file number, block offset). A {@link Block} in the cache is decompressed and was
 * checksum-verified when it was read from disk; readers never verify it again.
 *
 * <h2>Policy: sharded LRU</h2>
 * The key space is hashed over {@code 2^shardBits} shards (16 by default once the capacity
 * reaches 8 MiB, fewer below so that no shard is smaller than 512 KiB; RocksDB's rule). Each shard
 * is an exact LRU list plus a chained hash table, guarded by its own monitor, and owns
 * {@code capacity / shards} bytes. A hit costs one uncontended lock, a hash probe and four
 * {@code int} writes (move to the most-recently-used end); a miss is followed by a disk read that dwarfs the
 * insert. We chose LRU over CLOCK because it is exact and simple to reason about (eviction order is
 * testable), and its one drawback, a lock on the hit path, is spread over 16 shards and held for
 * nanoseconds. CLOCK (lock-free hits with a reference bit) is the upgrade if profiles ever show
 * shard-lock contention. The hash table is hand-written and keyed by two {@code long}s so that a
 * lookup allocates nothing ({@code LinkedHashMap} would need a key object per probe), and list and
 * table are arrays of primitives indexed by slot, so that neither a hit nor a miss stores a
 * reference into the long-lived structure beyond the block itself (see {@code Shard}: stored
 * references are what a young GC must scan in the old generation).
 *
 * <h2>Accounting</h2>
 * An entry is charged {@link Block#sizeInBytes()} + {@link #ENTRY_OVERHEAD}. After every insert a
 * shard evicts least-recently-used entries until its usage is within its share; a block whose
 * charge exceeds a shard's share is not cached at all. Hence {@link #usage()} never exceeds
 * {@link #capacity()}. Capacity 0 disables the cache: every lookup misses, nothing is stored.
 *
 * <h2>On the Java heap, on purpose</h2>
 * Blocks are parsed straight from the {@code byte[]} the decompressor (or the positional read)
 * produced, so caching that array costs no copy; the garbage collector decides when a block's
 * memory is free, so an evicted block stays valid for as long as an iterator or a get still holds
 * it, with no use-after-free window under concurrent readers. The one exception is array
 * recycling: the array of an evicted block is reused for a later miss only if no reader can still
 * hold it — point gets pin the block they read ({@link #lookupPinned}, {@link #unpin}), and a block
 * ever handed out unpinned (to an iterator) is never recycled. An off-heap cache would need
 * reference counts for every reader (and a copy per insert) to save GC work on what is a
 * read-mostly, moderately sized set of objects. The memtable is the off-heap part of o3lsm: its
 * arena must be position independent and registered with UCX; cached blocks need neither.
 *
 * <h2>Thread safety</h2>
 * All methods are thread-safe. {@link #lookup} and {@link #insert} never block on I/O. Counters
 * ({@link #hits()}, {@link #misses()}, {@link #inserts()}, {@link #evictions()}) are
 * {@link LongAdder}s: exact when the cache is quiescent, approximate while it changes.
 * {@link #usage()} and {@link #entries()} read each shard under its lock.
 */
public final class BlockCache {
    /** Bytes charged per entry on top of the block: its slot in the shard's arrays and its hash bucket (generous). */
    public static final int ENTRY_OVERHEAD = 96;
    /** Shards are not made smaller than this (unless the whole cache is). */
    static final long MIN_SHARD_CAPACITY = 512 << 10;
    /** At most 2^4 = 16 shards by default. */
    static final int MAX_DEFAULT_SHARD_BITS = 4;
    /** Upper bound for an explicit shard count (2^10). */
    static final int MAX_SHARD_BITS = 10;

    private final long capacity;
    private final Shard[] shards;
    private final int shardMask;

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder inserts = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    /** A cache of {@code capacityBytes} (0 = disabled) with the default number of shards. */
    public BlockCache(long capacityBytes) {
        this(capacityBytes, defaultShardBits(capacityBytes));
    }

    /**
     * A cache of {@code capacityBytes} (0 = disabled) split into {@code 2^shardBits} shards.
     *
     * @throws IllegalArgumentException if the capacity is negative or shardBits outside [0, 10]
     */
    public BlockCache(long capacityBytes, int shardBits) {
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("block cache capacity must be >= 0, was " + capacityBytes);
        }
        if (shardBits < 0 || shardBits > MAX_SHARD_BITS) {
            throw new IllegalArgumentException("shardBits must be in [0, " + MAX_SHARD_BITS + "], was " + shardBits);
        }
        this.capacity = capacityBytes;
        int n = 1 << shardBits;
        this.shards = new Shard[n];
        this.shardMask = n - 1;
        long share = capacityBytes / n;
        long remainder = capacityBytes % n;
        for (int i = 0; i < n; i++) {
            shards[i] = new Shard(share + (i < remainder ? 1 : 0));
        }
    }

    /** {@code log2} of the default shard count for a cache of {@code capacityBytes}. */
    public static int defaultShardBits(long capacityBytes) {
        int bits = 0;
        while (bits < MAX_DEFAULT_SHARD_BITS && (capacityBytes >> (bits + 1)) >= MIN_SHARD_CAPACITY) {
            bits++;
        }
        return bits;
    }

    /** What an entry holding {@code block} is charged. */
    public static long charge(Block block) {
        return (long) block.sizeInBytes() + ENTRY_OVERHEAD;
    }

    /**
     * The cached block at {@code blockOffset} of file {@code fileNumber}, or null (a miss). A hit
     * makes the entry the most recently used of its shard. Allocation-free.
     */
    public Block lookup(long fileNumber, long blockOffset) {
        return lookup(fileNumber, blockOffset, false);
    }

    /**
     * As {@link #lookup}, but the block is pinned: its array is not reused for another block
     * until {@link #unpin} (call it exactly once, when done reading). For short reads such as a
     * point get; a block returned by {@link #lookup} (an iterator's) is never reused.
     */
    public Block lookupPinned(long fileNumber, long blockOffset) {
        return lookup(fileNumber, blockOffset, true);
    }

    private Block lookup(long fileNumber, long blockOffset, boolean pin) {
        if (capacity == 0) {
            misses.increment();
            return null;
        }
        long h = hash(fileNumber, blockOffset);
        Block b = shards[shardIndex(h)].lookup(fileNumber, blockOffset, h, pin);
        if (b == null) {
            misses.increment();
        } else {
            hits.increment();
        }
        return b;
    }

    /**
     * As {@link #insert}, but the returned block is pinned (when it is cached) until {@link #unpin}.
     * {@code block} should have been read into an array from {@link #borrow} or a fresh one that
     * nobody else references.
     */
    public Block insertPinned(long fileNumber, long blockOffset, Block block) {
        return insert(fileNumber, blockOffset, block, true);
    }

    /** Releases a pin of {@link #lookupPinned} or {@link #insertPinned}; no-op for an uncached block. */
    public void unpin(Block block) {
        Object o = block.cacheShard;
        if (o != null) {
            ((Shard) o).unpin(block);
        }
    }

    /**
     * An array of at least {@code len} bytes to read the block at ({@code fileNumber},
     * {@code blockOffset}) into: the array of an evicted block nobody reads any more, else a new
     * one. Lets a cache that churns recycle its arrays instead of promoting a fresh block into the
     * old generation per miss.
     */
    public byte[] borrow(long fileNumber, long blockOffset, int len) {
        if (capacity > 0) {
            byte[] a = shards[shardIndex(hash(fileNumber, blockOffset))].take(len);
            if (a != null) {
                return a;
            }
        }
        return new byte[(len + POOL_ROUND - 1) & -POOL_ROUND];
    }

    /** Arrays are allocated in multiples of this, so that blocks of similar size can share them. */
    static final int POOL_ROUND = 128;
    /** Recycled arrays kept per shard. */
    static final int POOL_SIZE = 16;

    /**
     * Caches {@code block} (which must be verified and decompressed) as the block at
     * {@code blockOffset} of file {@code fileNumber}, evicting least-recently-used entries of its
     * shard as needed, and returns the block to use: the cached one if another thread inserted the
     * same key first (the new one is then dropped), else {@code block}. A block larger than a
     * shard's share, or any block when the cache is disabled, is not stored.
     */
    public Block insert(long fileNumber, long blockOffset, Block block) {
        return insert(fileNumber, blockOffset, block, false);
    }

    private Block insert(long fileNumber, long blockOffset, Block block, boolean pin) {
        if (block == null) {
            throw new NullPointerException("block");
        }
        long charge = charge(block);
        long h = hash(fileNumber, blockOffset);
        Shard s = shards[shardIndex(h)];
        if (charge > s.capacity) {
            return block;
        }
        return pin ? s.insertPinned(fileNumber, blockOffset, h, block, charge)
                : s.insert(fileNumber, blockOffset, h, block, charge);
    }

    /** Drops every cached block of {@code fileNumber} (its file was deleted); returns how many. */
    public int eraseFile(long fileNumber) {
        int n = 0;
        for (Shard s : shards) {
            n += s.eraseFile(fileNumber);
        }
        return n;
    }

    /** Drops every entry. */
    public void clear() {
        for (Shard s : shards) {
            s.clear();
        }
    }

    /** False if the capacity is 0: nothing is ever cached. */
    public boolean isEnabled() {
        return capacity > 0;
    }

    public long capacity() {
        return capacity;
    }

    public int shardCount() {
        return shards.length;
    }

    /**
     * Bytes charged for the cached entries; at most {@link #capacity()}, also while other threads
     * insert. Each shard's usage is read under its lock, where it never exceeds the shard's share
     * (an insert evicts before it releases the lock), so the sum never exceeds the capacity. A
     * striped counter updated outside the locks could not promise that: its sum can see one
     * shard's insert without the evictions that paid for it.
     */
    public long usage() {
        long n = 0;
        for (Shard s : shards) {
            n += s.used();
        }
        return n;
    }

    /** Number of cached blocks. */
    public long entries() {
        long n = 0;
        for (Shard s : shards) {
            n += s.count();
        }
        return n;
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    /** Blocks stored (not counting rejected, oversized or duplicate inserts). */
    public long inserts() {
        return inserts.sum();
    }

    /** Entries dropped to make room (not counting {@link #eraseFile} and {@link #clear}). */
    public long evictions() {
        return evictions.sum();
    }

    @Override
    public String toString() {
        return "BlockCache{capacity=" + capacity + ", shards=" + shards.length + ", usage=" + usage()
                + ", entries=" + entries() + ", hits=" + hits() + ", misses=" + misses() + ", inserts=" + inserts()
                + ", evictions=" + evictions() + "}";
    }

    private int shardIndex(long h) {
        return (int) (h >>> 40) & shardMask; // the bucket uses the low bits
    }

    /** 64-bit mix of the key (murmur3 finalizer); shard and bucket take different bits. */
    static long hash(long fileNumber, long blockOffset) {
        long h = fileNumber * 0x9E3779B97F4A7C15L + blockOffset;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /**
     * One LRU shard. Entries live in slots of parallel arrays: the key ({@code files},
     * {@code offsets}, {@code hashes}), the charge, the block, and three {@code int} links: the
     * doubly linked LRU list ({@code prev}, {@code next}, circular around slot 0, the head:
     * {@code next[0]} is the least recently used entry, {@code prev[0]} the most recently used) and
     * the hash chain ({@code chain}; freed slots are chained from {@link #free}). Index 0 also means
     * "none" in {@code buckets} and {@code chain}.
     *
     * <p>Why arrays of primitives instead of a node object per entry: the cache is long-lived, so
     * its structure sits in the old generation, and every reference stored into an old object dirties
     * a card that the next young collection must scan. With linked nodes a hit wrote four references
     * into nodes scattered over the whole cache (the LRU move), and a miss allocated a node; under a
     * random-read load nearly every node's card was dirty at each collection, and scanning them
     * ({@code ScanHR} in JFR's {@code jdk.GCPhaseParallel}) was most of each young pause. Now a hit
     * writes only {@code int}s (no GC barrier at all), a miss stores one reference (the block, into
     * one dense array) and allocates nothing, and slots are reused.
     *
     * <p>Guarded by {@code this}.
     */
    private final class Shard {
        private static final int INITIAL_SLOTS = 16;

        final long capacity;
        private long[] files = new long[INITIAL_SLOTS];
        private long[] offsets = new long[INITIAL_SLOTS];
        private long[] hashes = new long[INITIAL_SLOTS];
        private long[] charges = new long[INITIAL_SLOTS];
        private Block[] blocks = new Block[INITIAL_SLOTS];
        private int[] prev = new int[INITIAL_SLOTS];
        private int[] next = new int[INITIAL_SLOTS];
        private int[] chain = new int[INITIAL_SLOTS];
        /** Slots handed out so far (slot 0 is the head); slots below it are in use or on the free chain. */
        private int highWater = 1;
        /** First freed slot, chained through {@code chain}; 0 if none. */
        private int free;
        /** Hash buckets: the first slot of each chain, 0 if empty; a power of two in size. */
        private int[] buckets = new int[16];
        private int count;
        private long used;

        Shard(long capacity) {
            this.capacity = capacity;
        }

        synchronized int count() {
            return count;
        }

        synchronized long used() {
            return used;
        }

        private final byte[][] pool = new byte[POOL_SIZE][];
        private int pooled;

        /** A hit becomes most recently used; pinned for a point get, else marked as escaped for good. */
        synchronized Block lookup(long file, long offset, long h, boolean pin) {
            int n = find(file, offset, h);
            if (n == 0) {
                return null;
            }
            unlink(n);
            linkMostRecent(n);
            Block b = blocks[n];
            if (pin) {
                b.cachePins++;
            } else {
                b.cacheEscaped = true;
            }
            return b;
        }

        synchronized Block insertPinned(long file, long offset, long h, Block block, long charge) {
            Block b = insert(file, offset, h, block, charge, true);
            if (b != block) { // lost the race: block was never shared, its array is free
                recycle(block.array());
            }
            return b; // pinned, whether it is ours or the winner of the race
        }

        synchronized void unpin(Block b) {
            assert b.cachePins > 0 : "block unpinned more often than pinned: " + b;
            if (--b.cachePins == 0 && b.cacheEvicted && !b.cacheEscaped) {
                recycle(b.array());
            }
        }

        synchronized byte[] take(int len) {
            for (int i = pooled - 1; i >= 0; i--) {
                byte[] a = pool[i];
                if (a.length >= len && a.length - len < POOL_ROUND) {
                    pool[i] = pool[--pooled];
                    pool[pooled] = null;
                    return a;
                }
            }
            return null;
        }

        private void recycle(byte[] a) {
            if (pooled < POOL_SIZE) {
                pool[pooled++] = a;
            } else { // drop the oldest
                System.arraycopy(pool, 1, pool, 0, POOL_SIZE - 1);
                pool[POOL_SIZE - 1] = a;
            }
        }

        synchronized Block insert(long file, long offset, long h, Block block, long charge) {
            return insert(file, offset, h, block, charge, false);
        }

        /** With {@code pin}, the block returned (ours or the race's winner) is pinned; else marked escaped. */
        private Block insert(long file, long offset, long h, Block block, long charge, boolean pin) {
            int n = find(file, offset, h);
            if (n != 0) { // another reader won the race: keep its block
                unlink(n);
                linkMostRecent(n);
                Block b = blocks[n];
                if (pin) {
                    b.cachePins++;
                } else {
                    b.cacheEscaped = true;
                }
                return b;
            }
            n = newSlot();
            files[n] = file;
            offsets[n] = offset;
            hashes[n] = h;
            blocks[n] = block;
            charges[n] = charge;
            block.cacheShard = this;
            if (pin) {
                block.cacheEscaped = false;
                block.cachePins++;
            } else {
                block.cacheEscaped = true; // handed out unpinned: its array is never recycled
            }
            int i = (int) h & (buckets.length - 1);
            chain[n] = buckets[i];
            buckets[i] = n;
            linkMostRecent(n);
            count++;
            used += charge;
            inserts.increment();
            while (used > capacity && next[0] != n) {
                remove(next[0]);
                evictions.increment();
            }
            if (count > buckets.length - (buckets.length >>> 2)) {
                growBuckets();
            }
            return block;
        }

        synchronized int eraseFile(long file) {
            int erased = 0;
            for (int n = next[0]; n != 0; ) {
                int after = next[n];
                if (files[n] == file) {
                    remove(n);
                    erased++;
                }
                n = after;
            }
            return erased;
        }

        synchronized void clear() {
            while (next[0] != 0) {
                remove(next[0]);
            }
        }

        private int find(long file, long offset, long h) {
            for (int n = buckets[(int) h & (buckets.length - 1)]; n != 0; n = chain[n]) {
                if (hashes[n] == h && files[n] == file && offsets[n] == offset) {
                    return n;
                }
            }
            return 0;
        }

        /** A free slot: a freed one, else the next unused one (growing the arrays when all are used). */
        private int newSlot() {
            if (free != 0) {
                int n = free;
                free = chain[n];
                return n;
            }
            if (highWater == blocks.length) {
                int len = blocks.length * 2;
                files = java.util.Arrays.copyOf(files, len);
                offsets = java.util.Arrays.copyOf(offsets, len);
                hashes = java.util.Arrays.copyOf(hashes, len);
                charges = java.util.Arrays.copyOf(charges, len);
                blocks = java.util.Arrays.copyOf(blocks, len);
                prev = java.util.Arrays.copyOf(prev, len);
                next = java.util.Arrays.copyOf(next, len);
                chain = java.util.Arrays.copyOf(chain, len);
            }
            return highWater++;
        }

        /** Unlinks slot {@code n} from the list and its hash chain, releases its charge and frees the slot. */
        private void remove(int n) {
            unlink(n);
            int i = (int) hashes[n] & (buckets.length - 1);
            if (buckets[i] == n) {
                buckets[i] = chain[n];
            } else {
                int p = buckets[i];
                while (chain[p] != n) {
                    p = chain[p];
                }
                chain[p] = chain[n];
            }
            Block b = blocks[n];
            b.cacheEvicted = true;
            if (b.cachePins == 0 && !b.cacheEscaped) {
                recycle(b.array());
            }
            blocks[n] = null;
            count--;
            used -= charges[n];
            chain[n] = free;
            free = n;
        }

        private void unlink(int n) {
            next[prev[n]] = next[n];
            prev[next[n]] = prev[n];
        }

        private void linkMostRecent(int n) {
            int last = prev[0];
            prev[n] = last;
            next[n] = 0;
            next[last] = n;
            prev[0] = n;
        }

        private void growBuckets() {
            int[] t = new int[buckets.length * 2];
            int mask = t.length - 1;
            for (int n = next[0]; n != 0; n = next[n]) {
                int i = (int) hashes[n] & mask;
                chain[n] = t[i];
                t[i] = n;
            }
            buckets = t;
        }
    }
}
