package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.table.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sharded LRU on its own: eviction order, byte accounting, shards, erase, concurrency. */
class BlockCacheTest {
    /** The seed of randomized tests: {@code -Dtests.seed=N} or a fresh one; printed so it can be replayed. */
    static long seed(String test) {
        String p = System.getProperty("tests.seed");
        long seed = p != null && !p.isEmpty() ? Long.parseLong(p) : new Random().nextLong();
        System.out.println(test + ": tests.seed=" + seed + " (rerun with -Dtests.seed=" + seed + ")");
        return seed;
    }

    /**
     * An empty block whose array is {@code arrayLength} bytes (so its charge is
     * {@code arrayLength + 64 + ENTRY_OVERHEAD}); its file name and offset record the key it is
     * cached under, so that a lookup can be checked against the key.
     */
    static Block block(int arrayLength, long file, long offset) {
        byte[] data = new byte[Math.max(8, arrayLength)];
        data[4] = 1; // restart array [0], count 1
        return new Block(data, 8, "f" + file, offset);
    }

    static long charge(int arrayLength) {
        return Math.max(8, arrayLength) + 64 + BlockCache.ENTRY_OVERHEAD;
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedBlockAndAccountEveryByte() {
        long c = charge(1000);
        BlockCache cache = new BlockCache(3 * c, 0);
        Block a = block(1000, 1, 0);
        Block b = block(1000, 1, 4096);
        Block d = block(1000, 2, 0);
        assertSame(a, cache.insert(1, 0, a));
        assertSame(b, cache.insert(1, 4096, b));
        assertSame(d, cache.insert(2, 0, d));
        assertEquals(3 * c, cache.usage());
        assertEquals(3, cache.entries());
        assertEquals(0, cache.evictions());

        assertSame(a, cache.lookup(1, 0)); // a becomes the most recent: b is now the oldest
        Block e = block(1000, 3, 0);
        cache.insert(3, 0, e);
        assertNull(cache.lookup(1, 4096), "b was least recently used");
        assertSame(a, cache.lookup(1, 0));
        assertSame(d, cache.lookup(2, 0));
        assertSame(e, cache.lookup(3, 0));
        assertEquals(3 * c, cache.usage());
        assertEquals(1, cache.evictions());
        assertEquals(4, cache.inserts());

        // a block of twice the size pushes out the two oldest (a, then d)
        Block big = block(2 * 1000 + 64 + BlockCache.ENTRY_OVERHEAD, 4, 0);
        assertEquals(2 * c, BlockCache.charge(big));
        cache.insert(4, 0, big);
        assertNull(cache.lookup(1, 0));
        assertNull(cache.lookup(2, 0));
        assertSame(e, cache.lookup(3, 0));
        assertSame(big, cache.lookup(4, 0));
        assertEquals(3 * c, cache.usage());
        assertEquals(3, cache.evictions());
        assertEquals(2, cache.entries());

        // a block larger than the whole shard is not cached and evicts nothing
        Block huge = block((int) (3 * c), 5, 0);
        assertSame(huge, cache.insert(5, 0, huge));
        assertNull(cache.lookup(5, 0));
        assertEquals(3 * c, cache.usage());
        assertEquals(5, cache.inserts());

        // hit/miss counters: the lookups above
        assertEquals(6, cache.hits());
        assertEquals(4, cache.misses());
    }

    @Test
    void aRacingSecondInsertShouldReturnTheCachedBlockAndChargeOnce() {
        BlockCache cache = new BlockCache(1 << 20, 0);
        Block first = block(100, 7, 16);
        Block second = block(100, 7, 16);
        assertSame(first, cache.insert(7, 16, first));
        assertSame(first, cache.insert(7, 16, second));
        assertEquals(charge(100), cache.usage());
        assertEquals(1, cache.inserts());
        assertEquals(1, cache.entries());
    }

    @Test
    void eraseFileShouldDropOnlyThatFilesBlocksAndTheirCharge() {
        BlockCache cache = new BlockCache(64 << 20);
        assertEquals(16, cache.shardCount());
        for (int i = 0; i < 100; i++) {
            cache.insert(1, i * 4096L, block(200, 1, i * 4096L));
            cache.insert(2, i * 4096L, block(300, 2, i * 4096L));
        }
        assertEquals(100 * (charge(200) + charge(300)), cache.usage());
        assertEquals(100, cache.eraseFile(1));
        assertEquals(0, cache.eraseFile(1));
        assertEquals(100 * charge(300), cache.usage());
        for (int i = 0; i < 100; i++) {
            assertNull(cache.lookup(1, i * 4096L));
            assertTrue(cache.lookup(2, i * 4096L).toString().startsWith("Block[f2@" + i * 4096L + ","));
        }
        assertEquals(0, cache.evictions(), "erasing is not evicting");
        cache.clear();
        assertEquals(0, cache.usage());
        assertEquals(0, cache.entries());
    }

    @Test
    void capacityZeroShouldDisableTheCache() {
        BlockCache cache = new BlockCache(0);
        assertTrue(!cache.isEnabled());
        Block b = block(10, 1, 0);
        assertSame(b, cache.insert(1, 0, b));
        assertNull(cache.lookup(1, 0));
        assertNull(cache.lookup(1, 0));
        assertEquals(0, cache.usage());
        assertEquals(0, cache.entries());
        assertEquals(0, cache.inserts());
        assertEquals(2, cache.misses());
        assertEquals(0, cache.hits());
    }

    @Test
    void shouldPickShardsSoThatNoneIsSmallerThanHalfAMebibyte() {
        assertEquals(0, BlockCache.defaultShardBits(0));
        assertEquals(0, BlockCache.defaultShardBits(1000));
        assertEquals(0, BlockCache.defaultShardBits((1 << 20) - 1));
        assertEquals(1, BlockCache.defaultShardBits(1 << 20));
        assertEquals(3, BlockCache.defaultShardBits(4 << 20));
        assertEquals(4, BlockCache.defaultShardBits(8 << 20));
        assertEquals(4, BlockCache.defaultShardBits(1L << 40));
        BlockCache odd = new BlockCache(1001, 3); // shares 126, 125, ...: they add up to the capacity
        assertEquals(8, odd.shardCount());
        assertEquals(1001, odd.capacity());
        assertThrows(IllegalArgumentException.class, () -> new BlockCache(-1));
        assertThrows(IllegalArgumentException.class, () -> new BlockCache(100, 11));
        assertThrows(NullPointerException.class, () -> new BlockCache(100).insert(1, 1, null));
    }

    @Test
    void shouldKeepManyBlocksFindableAcrossTableGrowth() {
        long seed = seed("manyBlocks");
        Random rnd = new Random(seed);
        BlockCache cache = new BlockCache(1L << 30, 2);
        List<long[]> keys = new ArrayList<>();
        for (int i = 0; i < 20000; i++) {
            long f = rnd.nextInt(50);
            long o = rnd.nextInt(1 << 20) * 16L;
            keys.add(new long[] {f, o});
            cache.insert(f, o, block(8, f, o));
        }
        for (long[] k : keys) {
            Block b = cache.lookup(k[0], k[1]);
            assertEquals(k[1], b.fileOffset(), "seed=" + seed);
            assertTrue(b.toString().startsWith("Block[f" + k[0] + "@"), "seed=" + seed);
        }
        assertEquals(cache.entries() * charge(8), cache.usage(), "seed=" + seed);
    }

    /**
     * Eight threads insert, look up and erase over a cache of a few blocks per shard: no
     * exception, every hit is the block of its key, and the usage read while they run never
     * exceeds the capacity.
     */
    @Test
    void concurrentHammeringShouldStayConsistentAndWithinCapacity() throws Exception {
        long seed = seed("cacheHammer");
        int maxArray = 2000;
        BlockCache cache = new BlockCache(16 * charge(1000), 2);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CyclicBarrier start = new CyclicBarrier(8);
        AtomicLong maxUsage = new AtomicLong();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long threadSeed = seed + t;
                fs.add(pool.submit(() -> {
                    Random r = new Random(threadSeed);
                    start.await();
                    for (int i = 0; i < 200_000; i++) {
                        long f = r.nextInt(4);
                        long o = r.nextInt(64) * 4096L;
                        int op = r.nextInt(100);
                        if (op < 60) {
                            Block b = cache.lookup(f, o);
                            if (b != null) {
                                assertEquals(o, b.fileOffset(), "seed " + threadSeed);
                                assertTrue(b.toString().startsWith("Block[f" + f + "@"), "seed " + threadSeed);
                            }
                        } else if (op < 99) {
                            Block mine = block(8 + r.nextInt(maxArray), f, o);
                            Block got = cache.insert(f, o, mine);
                            assertEquals(o, got.fileOffset(), "seed " + threadSeed);
                        } else {
                            cache.eraseFile(f);
                        }
                        if ((i & 63) == 0) {
                            maxUsage.accumulateAndGet(cache.usage(), Math::max);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(maxUsage.get() <= cache.capacity(),
                "max usage " + maxUsage.get() + " vs capacity " + cache.capacity() + " seed=" + seed);
        assertTrue(cache.usage() <= cache.capacity(), cache + " seed=" + seed);
        assertTrue(cache.usage() >= 0, cache + " seed=" + seed);
        assertTrue(cache.evictions() > 0 && cache.hits() > 0, cache + " seed=" + seed);
        // quiescent: the accounting adds up to what is stored
        long entries = cache.entries();
        cache.clear();
        assertEquals(0, cache.usage(), "usage left after clearing " + entries + " entries, seed=" + seed);
        assertEquals(cache.hits() + cache.misses(), countLookups(seed), "seed=" + seed);
    }

    /** Replays the threads' random choices to count their lookups. */
    private static long countLookups(long seed) {
        long n = 0;
        for (int t = 0; t < 8; t++) {
            Random r = new Random(seed + t);
            for (int i = 0; i < 200_000; i++) {
                r.nextInt(4);
                r.nextInt(64);
                int op = r.nextInt(100);
                if (op < 60) {
                    n++;
                } else if (op < 99) {
                    r.nextInt(2000);
                }
            }
        }
        return n;
    }
}
