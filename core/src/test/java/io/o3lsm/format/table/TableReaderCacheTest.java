package io.o3lsm.format.table;

import static io.o3lsm.format.table.TableTestSupport.modelGet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.format.table.TableTestSupport.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TableReader through a BlockCache: hits skip the disk, fillCache and verifyChecksums per read. */
class TableReaderCacheTest {
    @TempDir
    Path dir;

    private List<Entry> entries;

    private Path writeTable(long seed, int n, int blockSize) throws IOException {
        Random rnd = new Random(seed);
        entries = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, n), 60);
        Path p = dir.resolve("000009.sst");
        TableTestSupport.write(p, new TableOptions(blockSize, 16, Compression.LZ4, 10), entries);
        return p;
    }

    private static TableTestSupport.CountingFile counting(Path p) throws IOException {
        return new TableTestSupport.CountingFile(TableTestSupport.FS.newReadableFile(p));
    }

    /** An entry that a get at the latest sequence finds as a value (the newest version of its key). */
    private Entry someValue() {
        return entries.stream().filter(e -> modelGet(entries, e.userKey(), InternalKey.MAX_SEQUENCE) == e
                && e.type() == InternalKey.TYPE_VALUE).findFirst().orElseThrow();
    }

    @Test
    void aSecondGetOfTheSameKeyShouldHitTheCacheWithoutADiskRead() throws Exception {
        long seed = TableTestSupport.seed("cacheHit");
        Path p = writeTable(seed, 500, 512);
        BlockCache cache = new BlockCache(1 << 20);
        TableTestSupport.CountingFile f = counting(p);
        try (TableReader r = TableReader.open(f, p.toString(), 9, cache)) {
            assertSame(cache, r.blockCache());
            int afterOpen = f.reads.get();
            assertEquals(0, cache.hits() + cache.misses(), "open reads no data block");
            Entry e = someValue();
            Lookup out = new Lookup();
            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out));
            assertEquals(afterOpen + 1, f.reads.get());
            assertEquals(1, cache.misses());
            assertEquals(1, cache.inserts());
            assertEquals(0, cache.hits());
            assertTrue(cache.usage() > 0);

            out.reset();
            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out));
            assertArrayEquals(e.value(), out.value, "seed=" + seed);
            assertEquals(afterOpen + 1, f.reads.get(), "the second get must not read the file");
            assertEquals(1, cache.hits());
            assertEquals(1, cache.misses());

            // a full scan reads each data block once, a second scan none
            long blocks = r.properties().numDataBlocks();
            scan(r, true);
            assertEquals(afterOpen + blocks, f.reads.get(), "seed=" + seed);
            scan(r, true);
            assertEquals(afterOpen + blocks, f.reads.get(), "seed=" + seed);
            assertEquals(blocks, cache.entries());
        }
    }

    private void scan(TableReader r, boolean fillCache) {
        try (InternalIterator it = r.iterator(fillCache, true)) {
            int i = 0;
            for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                assertArrayEquals(entries.get(i).key(), TableTestSupport.bytes(it.key()));
            }
            assertEquals(entries.size(), i);
        }
    }

    @Test
    void fillCacheFalseShouldUseButNotFillTheCache() throws Exception {
        long seed = TableTestSupport.seed("noFill");
        Path p = writeTable(seed, 500, 512);
        BlockCache cache = new BlockCache(1 << 20);
        TableTestSupport.CountingFile f = counting(p);
        try (TableReader r = TableReader.open(f, p.toString(), 9, cache)) {
            int base = f.reads.get();
            Entry e = someValue();
            Lookup out = new Lookup();
            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out, false, true));
            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out, false, true));
            assertEquals(base + 2, f.reads.get(), "nothing cached: both gets read the file");
            assertEquals(0, cache.inserts());
            assertEquals(0, cache.entries());
            assertEquals(0, cache.usage());

            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out, true, true));
            assertEquals(base + 3, f.reads.get());
            assertEquals(1, cache.entries());
            assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out, false, true));
            assertEquals(base + 3, f.reads.get(), "a cached block is used even with fillCache=false");
            assertArrayEquals(e.value(), out.value);

            scan(r, false);
            assertEquals(1, cache.entries(), "a scan with fillCache=false leaves the cache alone");
        }
    }

    @Test
    void verifyChecksumsFalseShouldSkipTheCrcOnlyForBlocksThatAreNotCached() throws Exception {
        Path p = dir.resolve("000003.sst");
        Entry e = new Entry(InternalKey.encode(new byte[] {'k'}, 1, InternalKey.TYPE_VALUE), new byte[] {1, 2, 3, 4});
        TableTestSupport.write(p, new TableOptions(4096, 16, Compression.NONE, 10), List.of(e));
        byte[] file = Files.readAllBytes(p);
        int valueAt = TableFormat.HEADER_SIZE + 3 + 9; // header, entry header, key 'k' + trailer
        assertEquals(1, file[valueAt]);
        file[valueAt] = 9; // damage the value only: the block still parses
        Files.write(p, file);

        BlockCache cache = new BlockCache(1 << 20);
        try (TableReader r = TableReader.open(TableTestSupport.FS.newReadableFile(p), p.toString(), 3, cache)) {
            Lookup out = new Lookup();
            assertThrows(CorruptionException.class, () -> r.get(new byte[] {'k'}, 5, out, false, true));
            // verification skipped, block not cached: the damaged bytes are returned as they are
            assertTrue(r.get(new byte[] {'k'}, 5, out, false, false));
            assertArrayEquals(new byte[] {9, 2, 3, 4}, out.value);
            assertEquals(0, cache.entries());
            // a block about to be cached is verified regardless
            CorruptionException ex = assertThrows(CorruptionException.class,
                    () -> r.get(new byte[] {'k'}, 5, out, true, false));
            assertEquals(TableFormat.HEADER_SIZE, ex.offset());
            assertEquals(0, cache.entries());
            try (InternalIterator it = r.iterator(false, false)) {
                it.seekToFirst();
                assertArrayEquals(new byte[] {9, 2, 3, 4}, TableTestSupport.bytes(it.value()));
            }
        }
        try (TableReader r = TableTestSupport.open(p)) { // no cache at all: the flag alone decides
            assertTrue(r.get(new byte[] {'k'}, 5, new Lookup(), true, false));
        }
    }

    @Test
    void readersSharingACacheShouldNotSeeEachOthersBlocksAndEraseFileShouldDropOnlyOneFile() throws Exception {
        long seed = TableTestSupport.seed("sharedCache");
        Random rnd = new Random(seed);
        List<Entry> a = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, 200), 30);
        List<Entry> b = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, 200), 30);
        Path pa = dir.resolve("a.sst");
        Path pb = dir.resolve("b.sst");
        TableTestSupport.write(pa, TableOptions.DEFAULT.withBlockSize(256), a);
        TableTestSupport.write(pb, TableOptions.DEFAULT.withBlockSize(256), b);
        BlockCache cache = new BlockCache(8 << 20);
        try (TableReader ra = TableReader.open(TableTestSupport.FS.newReadableFile(pa), pa.toString(), 1, cache);
                TableReader rb = TableReader.open(TableTestSupport.FS.newReadableFile(pb), pb.toString(), 2, cache)) {
            for (int round = 0; round < 2; round++) { // second round: all from the cache
                checkAll(ra, a, "a seed=" + seed);
                checkAll(rb, b, "b seed=" + seed);
            }
            long blocksA = ra.properties().numDataBlocks();
            long blocksB = rb.properties().numDataBlocks();
            assertEquals(blocksA + blocksB, cache.entries());
            assertEquals(blocksA, cache.eraseFile(1));
            assertEquals(blocksB, cache.entries());
            checkAll(rb, b, "b after erase, seed=" + seed);
            assertEquals(blocksA + blocksB, cache.inserts());
        }
    }

    private static void checkAll(TableReader r, List<Entry> entries, String ctx) {
        Lookup out = new Lookup();
        for (Entry e : entries) {
            out.reset();
            Entry want = modelGet(entries, e.userKey(), e.sequence());
            assertTrue(r.get(e.userKey(), e.sequence(), out), ctx);
            assertEquals(want.sequence(), out.sequence, ctx);
            if (want.type() == InternalKey.TYPE_VALUE) {
                assertArrayEquals(want.value(), out.value, ctx);
            }
        }
    }

    @Test
    void aDisabledCacheShouldMissEveryTimeAndStoreNothing() throws Exception {
        long seed = TableTestSupport.seed("disabledCache");
        Path p = writeTable(seed, 100, 256);
        BlockCache cache = new BlockCache(0);
        TableTestSupport.CountingFile f = counting(p);
        try (TableReader r = TableReader.open(f, p.toString(), 9, cache)) {
            int base = f.reads.get();
            Entry e = someValue();
            Lookup out = new Lookup();
            for (int i = 0; i < 3; i++) {
                assertTrue(r.get(e.userKey(), InternalKey.MAX_SEQUENCE, out));
            }
            assertEquals(base + 3, f.reads.get());
            assertEquals(3, cache.misses());
            assertEquals(0, cache.hits() + cache.inserts() + cache.entries() + cache.usage());
        }
    }

    /**
     * Eight threads of gets and scans over a cache far smaller than the table: every answer right,
     * no exception, and the cache never over its capacity by more than one block.
     */
    @Test
    void concurrentReadersThroughATinyCacheShouldStayCorrectAndBounded() throws Exception {
        long seed = TableTestSupport.seed("cacheHammer");
        Random rnd = new Random(seed);
        List<byte[]> userKeys = TableTestSupport.userKeys(rnd, 3000);
        List<Entry> all = TableTestSupport.entries(rnd, userKeys, 80);
        Path p = dir.resolve("h.sst");
        TableTestSupport.write(p, TableOptions.DEFAULT.withBlockSize(512), all);
        BlockCache cache = new BlockCache(8 << 10, 2); // 4 shards of 2 KiB, blocks of ~0.6 KiB
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicLong maxUsage = new AtomicLong();
        try (TableReader r = TableReader.open(TableTestSupport.FS.newReadableFile(p), p.toString(), 5, cache)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long threadSeed = seed + t;
                fs.add(pool.submit(() -> {
                    Random tr = new Random(threadSeed);
                    Lookup out = new Lookup();
                    for (int n = 0; n < 4000; n++) {
                        byte[] uk = userKeys.get(tr.nextInt(userKeys.size()));
                        long snap = tr.nextInt(1002);
                        Entry want = modelGet(all, uk, snap);
                        out.reset();
                        boolean fill = tr.nextInt(4) != 0;
                        assertEquals(want != null, r.get(uk, snap, out, fill, tr.nextBoolean()), "seed " + threadSeed);
                        if (want != null) {
                            assertEquals(want.sequence(), out.sequence, "seed " + threadSeed);
                            if (want.type() == InternalKey.TYPE_VALUE) {
                                assertArrayEquals(want.value(), out.value, "seed " + threadSeed);
                            }
                        }
                        maxUsage.accumulateAndGet(cache.usage(), Math::max);
                    }
                    try (InternalIterator it = r.iterator(tr.nextBoolean(), true)) {
                        int i = 0;
                        for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                            assertArrayEquals(all.get(i).key(), TableTestSupport.bytes(it.key()), "seed " + threadSeed);
                        }
                        assertEquals(all.size(), i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
            assertTrue(maxUsage.get() <= cache.capacity(),
                    "usage " + maxUsage.get() + " > capacity " + cache.capacity() + " seed=" + seed);
            assertTrue(cache.usage() <= cache.capacity(), cache + " seed=" + seed);
            assertTrue(cache.evictions() > 0, cache + " seed=" + seed);
            assertTrue(cache.hits() > 0, cache + " seed=" + seed);
            assertNotNull(cache.toString());
        } finally {
            pool.shutdownNow();
        }
    }
}
