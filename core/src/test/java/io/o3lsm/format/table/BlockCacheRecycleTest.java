package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.table.Block;
import java.util.IdentityHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Arrays of evicted blocks are recycled for later misses, but never while someone may read them. */
class BlockCacheRecycleTest {
    private static final int LEN = 4096;

    /** An empty block (restart array [0], count 1) in {@code data}. */
    private static Block block(byte[] data, long file, long offset) {
        java.util.Arrays.fill(data, 0, 8, (byte) 0);
        data[4] = 1;
        return new Block(data, 8, "f" + file, offset);
    }

    /** Borrows arrays until the pool is empty; returns them by identity. */
    private static Map<byte[], Boolean> drain(BlockCache c) {
        Map<byte[], Boolean> seen = new IdentityHashMap<>();
        for (int i = 0; i < 64; i++) {
            seen.put(c.borrow(1, 0, LEN), Boolean.TRUE);
        }
        return seen;
    }

    @Test
    void shouldNotReuseAPinnedBlocksArrayUntilItIsUnpinned() {
        BlockCache c = new BlockCache(64 << 10, 0); // one shard, about 15 blocks
        byte[] mine = c.borrow(1, 0, LEN);
        Block pinned = c.insertPinned(1, 0, block(mine, 1, 0));
        assertSame(mine, pinned.array());
        for (int i = 1; i < 200; i++) { // evict it
            c.insert(2, i * LEN, block(new byte[LEN], 2, i * LEN));
        }
        assertTrue(!drain(c).containsKey(mine), "a pinned block's array was handed out for reuse");
        c.unpin(pinned);
        boolean reused = false;
        for (int i = 0; i < 64 && !reused; i++) {
            reused = c.borrow(1, 0, LEN) == mine;
        }
        assertTrue(reused, "the array of an evicted, unpinned block is recycled");
    }

    @Test
    void shouldNeverReuseTheArrayOfABlockHandedToAnIterator() {
        BlockCache c = new BlockCache(64 << 10, 0);
        byte[] arr = c.borrow(1, 0, LEN);
        Block b = c.insertPinned(1, 0, block(arr, 1, 0));
        c.unpin(b);
        Block viaIterator = c.lookup(1, 0); // unpinned hand-out: may be read indefinitely
        assertSame(b, viaIterator);
        for (int i = 1; i < 200; i++) {
            c.insert(2, i * LEN, block(new byte[LEN], 2, i * LEN));
        }
        assertTrue(!drain(c).containsKey(arr), "an iterator's block array was recycled");
        assertNotSame(null, viaIterator.array());
    }

    /**
     * Two point gets miss the same block and both insert it: the loser gets the winner's block,
     * pinned, and each unpins once. The pin count stays balanced, so the winner's array is
     * recycled once it is evicted and no reader holds it (and is not while one still does).
     */
    @Test
    void shouldPinTheWinnerOfAnInsertRaceForTheLoser() {
        BlockCache c = new BlockCache(64 << 10, 0);
        byte[] first = c.borrow(1, 0, LEN);
        Block winner = c.insertPinned(1, 0, block(first, 1, 0));
        Block got = c.insertPinned(1, 0, block(c.borrow(1, 0, LEN), 1, 0)); // lost the race
        assertSame(winner, got);
        c.unpin(winner); // the first reader is done; the second still reads
        for (int i = 1; i < 200; i++) { // evict it
            c.insert(2, i * LEN, block(new byte[LEN], 2, i * LEN));
        }
        assertTrue(!drain(c).containsKey(first), "the array was recycled while the race's loser still read it");
        c.unpin(got);
        boolean reused = false;
        for (int i = 0; i < 64 && !reused; i++) {
            reused = c.borrow(1, 0, LEN) == first;
        }
        assertTrue(reused, "the array of an evicted block nobody reads is recycled");
    }
}
