package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The cache's structure stores no new object per entry: a churning cache (every insert evicts) and
 * its hits allocate nothing once its slot arrays have grown. Objects allocated per insert and linked
 * from the long-lived structure are promoted, and every reference written into old objects is a
 * card the next young collection scans; see {@code BlockCache.Shard}.
 */
class BlockCacheAllocationTest {
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aChurningCacheShouldAllocateNothingPerInsertOrHitOnceWarm() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean tb
                && tb.isThreadAllocatedMemorySupported() && tb.isThreadAllocatedMemoryEnabled());
        int resident = 64; // blocks the cache holds
        int rounds = 20_000;
        BlockCache cache = new BlockCache(resident * BlockCacheTest.charge(100), 0);
        // the blocks are made beforehand: only the cache's own allocation is measured
        Block[] blocks = new Block[resident * 2];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = BlockCacheTest.block(100, 1, i * 4096L);
        }
        int step = 0;
        for (int warm = 0; warm < 3 * rounds; warm++) { // grow the slot arrays and the table; let the JIT compile
            churn(cache, blocks, step++);
        }
        // the least of five measurements: a round may see a one-off allocation (JIT, a LongAdder cell),
        // while a cache that allocates per entry allocates in every round
        long perOp = Long.MAX_VALUE;
        for (int m = 0; m < 5; m++) {
            long before = allocatedBytes();
            for (int i = 0; i < rounds; i++) {
                churn(cache, blocks, step++);
            }
            perOp = Math.min(perOp, (allocatedBytes() - before) / rounds);
        }
        System.out.println("BlockCacheAllocationTest: bytes per insert + hit " + perOp + ", " + cache);
        // a node object per insert (the linked-node LRU) is at least 48 bytes
        assertTrue(perOp < 8, "bytes allocated per insert + hit: " + perOp);
    }

    /**
     * Inserts block {@code i} (evicting the least recent one once full) and looks up the one inserted
     * the step before (a hit that moves it to the most recent end).
     */
    private static void churn(BlockCache cache, Block[] blocks, int i) {
        Block b = blocks[i % blocks.length];
        b.cacheEscaped = false;
        b.cacheEvicted = false;
        b.cachePins = 0;
        b.cacheShard = null;
        cache.insert(1, b.fileOffset(), b);
        if (i >= 1) {
            Block earlier = blocks[(i - 1) % blocks.length];
            assertSame(earlier, cache.lookup(1, earlier.fileOffset()));
        }
    }
}
