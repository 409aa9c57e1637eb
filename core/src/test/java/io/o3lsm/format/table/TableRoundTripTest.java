package io.o3lsm.format.table;

import static io.o3lsm.format.table.TableTestSupport.bytes;
import static io.o3lsm.format.table.TableTestSupport.ceiling;
import static io.o3lsm.format.table.TableTestSupport.hex;
import static io.o3lsm.format.table.TableTestSupport.modelGet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableTestSupport.Entry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Random sorted entries written and read back, compared with a sorted-list model. */
class TableRoundTripTest {
    @TempDir
    Path dir;

    static Stream<Arguments> layouts() {
        List<Arguments> out = new ArrayList<>();
        for (Compression c : Compression.values()) {
            for (int blockSize : new int[] {64, 4096}) {
                for (int restart : new int[] {1, 16}) {
                    out.add(Arguments.of(c, blockSize, restart));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} blockSize={1} restartInterval={2}")
    @MethodSource("layouts")
    void shouldReadBackEveryEntryByGetIteratorAndSeek(Compression c, int blockSize, int restart) throws Exception {
        long seed = TableTestSupport.seed("roundTrip " + c + "/" + blockSize + "/" + restart);
        Random rnd = new Random(seed);
        List<byte[]> userKeys = TableTestSupport.userKeys(rnd, 600);
        // keep every 5th user key out of the table to probe misses
        List<byte[]> present = new ArrayList<>();
        List<byte[]> absent = new ArrayList<>();
        for (int i = 0; i < userKeys.size(); i++) {
            (i % 5 == 4 ? absent : present).add(userKeys.get(i));
        }
        List<Entry> entries = TableTestSupport.entries(rnd, present, 600);
        List<RangeTombstone> added = TableTestSupport.tombstones(rnd, userKeys, 40);
        added.add(added.get(3)); // an exact duplicate is stored once
        added.add(new RangeTombstone(new byte[] {5}, new byte[] {5}, 7)); // an empty range is dropped
        List<RangeTombstone> tombstones = TableTestSupport.expectedTombstones(added);
        TableOptions o = new TableOptions(blockSize, restart, c, 10);
        Path path = dir.resolve("000001.sst");
        TableProperties written = TableTestSupport.write(path, o, entries, added, rnd);
        String ctx = "seed=" + seed + " " + o;

        try (TableReader r = TableTestSupport.open(path)) {
            checkProperties(entries, tombstones, written, ctx);
            checkProperties(entries, tombstones, r.properties(), ctx);
            assertEquals(tombstones, r.rangeTombstones(), ctx);
            assertEquals(java.nio.file.Files.size(path), written.fileSize(), ctx);
            assertEquals(written.fileSize(), r.properties().fileSize(), ctx);
            assertEquals(42, r.fileNumber());
            if (blockSize == 64) {
                assertTrue(r.properties().numDataBlocks() > 10, ctx);
            }
            checkGets(r, entries, present, absent, rnd, ctx);
            checkForwardAndBackward(r, entries, ctx);
            checkSeeks(r, entries, userKeys, rnd, ctx);
        }
    }

    static void checkProperties(List<Entry> entries, List<RangeTombstone> tombstones, TableProperties p, String ctx) {
        assertEquals(entries.size() + tombstones.size(), p.numEntries(), ctx);
        assertEquals(entries.size(), p.numPointEntries(), ctx);
        assertEquals(entries.stream().filter(e -> e.type() == InternalKey.TYPE_DELETION).count(), p.numDeletions(), ctx);
        assertEquals(tombstones.size(), p.numRangeDeletions(), ctx);
        assertEquals(tombstones.isEmpty(), p.rangeDeletionBytes() == 0, ctx);
        assertEquals(entries.stream().mapToLong(e -> e.key().length).sum()
                + tombstones.stream().mapToLong(t -> t.start.length + 8).sum(), p.rawKeyBytes(), ctx);
        assertEquals(entries.stream().mapToLong(e -> e.value().length).sum()
                + tombstones.stream().mapToLong(t -> t.end.length).sum(), p.rawValueBytes(), ctx);
        // the key range covers the point entries and reaches every tombstone's end
        List<byte[]> keys = new ArrayList<>();
        entries.forEach(e -> keys.add(e.key()));
        tombstones.forEach(t -> keys.add(t.startInternalKey()));
        tombstones.forEach(t -> keys.add(t.endSentinelKey()));
        keys.sort(InternalKey::compare);
        assertArrayEquals(keys.get(0), p.smallestKey(), ctx);
        assertArrayEquals(keys.get(keys.size() - 1), p.largestKey(), ctx);
        List<Long> seqs = new ArrayList<>();
        entries.forEach(e -> seqs.add(e.sequence()));
        tombstones.forEach(t -> seqs.add(t.sequence));
        assertEquals(seqs.stream().mapToLong(Long::longValue).min().getAsLong(), p.smallestSequence(), ctx);
        assertEquals(seqs.stream().mapToLong(Long::longValue).max().getAsLong(), p.largestSequence(), ctx);
        assertEquals(10, p.bloomBitsPerKey(), ctx);
        assertEquals(TableFormat.FORMAT_VERSION, p.formatVersion(), ctx);
    }

    private static void checkGets(TableReader r, List<Entry> entries, List<byte[]> present, List<byte[]> absent,
            Random rnd, String ctx) {
        Lookup out = new Lookup();
        List<byte[]> all = new ArrayList<>(present);
        all.addAll(absent);
        all.add(new byte[0]);
        all.add(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        for (byte[] uk : all) {
            List<Long> snapshots = new ArrayList<>(List.of(0L, 1L, 500L, 1001L, InternalKey.MAX_SEQUENCE, Long.MAX_VALUE));
            for (Entry e : entries) { // the sequences of this key's versions and their neighbours
                if (Arrays.equals(e.userKey(), uk)) {
                    snapshots.add(e.sequence());
                    snapshots.add(e.sequence() - 1);
                }
            }
            snapshots.add((long) rnd.nextInt(1002));
            for (long snap : snapshots) {
                out.reset();
                Entry want = modelGet(entries, uk, snap);
                boolean got = r.get(uk, snap, out);
                String what = ctx + " get(" + hex(uk) + ", " + snap + ")";
                if (want == null) {
                    assertFalse(got, what);
                    assertEquals(Lookup.NOT_FOUND, out.state, what);
                } else {
                    assertTrue(got, what);
                    assertEquals(want.sequence(), out.sequence, what);
                    if (want.type() == InternalKey.TYPE_VALUE) {
                        assertEquals(Lookup.FOUND, out.state, what);
                        assertArrayEquals(want.value(), out.value, what);
                    } else {
                        assertEquals(Lookup.DELETED, out.state, what);
                        assertNull(out.value, what);
                    }
                }
            }
        }
    }

    private static void checkForwardAndBackward(TableReader r, List<Entry> entries, String ctx) {
        try (InternalIterator it = r.iterator()) {
            int i = 0;
            for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                assertEntry(entries, i, it, ctx + " forward");
            }
            assertEquals(entries.size(), i, ctx);
            i = entries.size() - 1;
            for (it.seekToLast(); it.isValid(); it.prev(), i--) {
                assertEntry(entries, i, it, ctx + " backward");
            }
            assertEquals(-1, i, ctx);
        }
    }

    private static void checkSeeks(TableReader r, List<Entry> entries, List<byte[]> userKeys, Random rnd, String ctx) {
        try (InternalIterator it = r.iterator()) {
            for (int round = 0; round < 2000; round++) {
                byte[] target;
                int kind = rnd.nextInt(4);
                if (kind == 0) {
                    target = entries.get(rnd.nextInt(entries.size())).key();
                } else if (kind == 1) {
                    target = InternalKey.seekKey(userKeys.get(rnd.nextInt(userKeys.size())), rnd.nextInt(1002));
                } else if (kind == 2) {
                    byte[] uk = new byte[rnd.nextInt(6)];
                    rnd.nextBytes(uk);
                    target = InternalKey.encode(uk, rnd.nextInt(1002), rnd.nextInt(3));
                } else {
                    target = InternalKey.seekKey(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}, 0);
                }
                it.seek(target);
                int i = ceiling(entries, target);
                String what = ctx + " seek(" + hex(target) + ")";
                if (i == entries.size()) {
                    assertFalse(it.isValid(), what);
                    continue;
                }
                assertEntry(entries, i, it, what);
                // a short random walk from there
                for (int step = 0; step < 8 && it.isValid(); step++) {
                    if (rnd.nextBoolean()) {
                        it.next();
                        i++;
                    } else {
                        it.prev();
                        i--;
                    }
                    if (i < 0 || i >= entries.size()) {
                        assertFalse(it.isValid(), what + " walk to " + i);
                        break;
                    }
                    assertEntry(entries, i, it, what + " walk to " + i);
                }
            }
        }
    }

    private static void assertEntry(List<Entry> entries, int i, InternalIterator it, String what) {
        assertTrue(it.isValid(), what + " at " + i);
        Entry e = entries.get(i);
        assertArrayEquals(e.key(), bytes(it.key()), what + " key at " + i);
        assertArrayEquals(e.value(), bytes(it.value()), what + " value at " + i);
    }

    @Test
    void shouldWriteAndReadAnEmptyTable() throws Exception {
        Path path = dir.resolve("empty.sst");
        TableProperties p = TableTestSupport.write(path, TableOptions.DEFAULT, List.of());
        assertEquals(0, p.numEntries());
        assertNull(p.smallestKey());
        assertNull(p.largestKey());
        try (TableReader r = TableTestSupport.open(path)) {
            assertEquals(0, r.properties().numEntries());
            assertEquals(0, r.properties().numDataBlocks());
            assertEquals(java.nio.file.Files.size(path), r.properties().fileSize());
            Lookup out = new Lookup();
            assertFalse(r.get(new byte[] {1}, InternalKey.MAX_SEQUENCE, out));
            assertFalse(r.get(new byte[0], InternalKey.MAX_SEQUENCE, out));
            try (InternalIterator it = r.iterator()) {
                it.seekToFirst();
                assertFalse(it.isValid());
                it.seekToLast();
                assertFalse(it.isValid());
                it.seek(InternalKey.seekKey(new byte[0], InternalKey.MAX_SEQUENCE));
                assertFalse(it.isValid());
            }
        }
    }

    @Test
    void shouldStoreAOneMebibyteValueLargerThanTheBlockSize() throws Exception {
        long seed = TableTestSupport.seed("largeValue");
        Random rnd = new Random(seed);
        byte[] random = new byte[1 << 20];
        rnd.nextBytes(random);
        byte[] repetitive = new byte[1 << 20];
        for (int i = 0; i < repetitive.length; i++) {
            repetitive[i] = (byte) (i % 251);
        }
        List<Entry> entries = List.of(
                new Entry(InternalKey.encode(new byte[] {'a'}, 1, InternalKey.TYPE_VALUE), new byte[] {1}),
                new Entry(InternalKey.encode(new byte[] {'b'}, 2, InternalKey.TYPE_VALUE), random),
                new Entry(InternalKey.encode(new byte[] {'c'}, 3, InternalKey.TYPE_VALUE), repetitive),
                new Entry(InternalKey.encode(new byte[] {'d'}, 4, InternalKey.TYPE_VALUE), new byte[] {4}));
        for (Compression c : Compression.values()) {
            Path path = dir.resolve("large-" + c + ".sst");
            TableProperties p = TableTestSupport.write(path, new TableOptions(4096, 16, c, 10), entries);
            if (c == Compression.LZ4) { // the repetitive value compresses, the random one is stored raw
                assertTrue(p.fileSize() < (1 << 20) + (1 << 19), "LZ4 file size " + p.fileSize());
            } else {
                assertTrue(p.fileSize() > 2 << 20, "raw file size " + p.fileSize());
            }
            try (TableReader r = TableTestSupport.open(path)) {
                Lookup out = new Lookup();
                assertTrue(r.get(new byte[] {'b'}, 10, out));
                assertArrayEquals(random, out.value, "seed=" + seed);
                assertTrue(r.get(new byte[] {'c'}, 10, out));
                assertArrayEquals(repetitive, out.value);
                try (InternalIterator it = r.iterator()) {
                    int i = 0;
                    for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                        assertEntry(entries, i, it, c.toString());
                    }
                    assertEquals(4, i);
                }
            }
        }
    }

    @Test
    void shouldProduceIdenticalFilesFromArrayAndBufferInput() throws Exception {
        long seed = TableTestSupport.seed("bufferInput");
        Random rnd = new Random(seed);
        List<Entry> entries = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, 300), 200);
        Path a = dir.resolve("a.sst");
        Path b = dir.resolve("b.sst");
        TableTestSupport.write(a, TableOptions.DEFAULT.withBlockSize(256), entries);
        try (var f = TableTestSupport.FS.newWritableFile(b)) {
            TableBuilder builder = new TableBuilder(f, b.toString(), TableOptions.DEFAULT.withBlockSize(256));
            UnsafeBuffer kb = new UnsafeBuffer(new byte[1024]);
            UnsafeBuffer vb = new UnsafeBuffer(new byte[1024]);
            for (Entry e : entries) { // at an offset inside bigger buffers, like memtable views
                kb.putBytes(3, e.key());
                vb.putBytes(5, e.value());
                builder.add(kb, 3, e.key().length, vb, 5, e.value().length);
            }
            builder.finish();
        }
        assertArrayEquals(java.nio.file.Files.readAllBytes(a), java.nio.file.Files.readAllBytes(b), "seed=" + seed);
    }

    @Test
    void shouldServeConcurrentGetsAndIterators() throws Exception {
        long seed = TableTestSupport.seed("concurrent");
        Random rnd = new Random(seed);
        List<byte[]> userKeys = TableTestSupport.userKeys(rnd, 2000);
        List<Entry> entries = TableTestSupport.entries(rnd, userKeys, 100);
        Path path = dir.resolve("c.sst");
        TableTestSupport.write(path, TableOptions.DEFAULT.withBlockSize(512), entries);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicInteger checked = new AtomicInteger();
        try (TableReader r = TableTestSupport.open(path)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long threadSeed = seed + t;
                fs.add(pool.submit(() -> {
                    Random tr = new Random(threadSeed);
                    Lookup out = new Lookup();
                    for (int n = 0; n < 3000; n++) {
                        byte[] uk = userKeys.get(tr.nextInt(userKeys.size()));
                        long snap = tr.nextInt(1002);
                        Entry want = modelGet(entries, uk, snap);
                        out.reset();
                        assertEquals(want != null, r.get(uk, snap, out));
                        if (want != null) {
                            assertEquals(want.sequence(), out.sequence);
                        }
                        checked.incrementAndGet();
                    }
                    try (InternalIterator it = r.iterator()) {
                        int i = 0;
                        for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                            assertEntry(entries, i, it, "thread seed " + threadSeed);
                        }
                        assertEquals(entries.size(), i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(12000, checked.get(), "seed=" + seed);
    }
}
