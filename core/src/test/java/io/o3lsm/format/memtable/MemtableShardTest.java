package io.o3lsm.format.memtable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.internal.util.Bytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Behaviour of {@link MemtableShard} and {@link ShardReader}. Randomized tests derive their
 * {@link Random} from {@code -Dtests.seed=N} (printed at the start of each test and in failure
 * messages) and the test name.
 */
class MemtableShardTest {
    private static final long SEED = Long.getLong("tests.seed", ThreadLocalRandom.current().nextLong());
    private static final byte[] EMPTY = new byte[0];

    private Random rnd;
    private String seedNote;

    @BeforeEach
    void seed(TestInfo info) {
        long testSeed = SEED ^ info.getDisplayName().hashCode();
        rnd = new Random(testSeed);
        seedNote = "(reproduce with -Dtests.seed=" + SEED + ")";
        System.out.println(info.getDisplayName() + ": -Dtests.seed=" + SEED);
    }

    // ---- point lookups --------------------------------------------------------------------

    @Test
    void shouldFindNewestVisibleVersion() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "a", 1, "v1");
        put(shard, "a", 5, "v5");
        delete(shard, "a", 9);
        put(shard, "b", 3, "other");
        ShardReader r = shard.reader();

        assertNotFound(r, "a", 0);
        for (long s = 1; s < 5; s++) {
            assertFound(r, "a", s, "v1", 1);
        }
        for (long s = 5; s < 9; s++) {
            assertFound(r, "a", s, "v5", 5);
        }
        Lookup out = new Lookup();
        assertTrue(r.get(bytes("a"), 9, out));
        assertEquals(Lookup.DELETED, out.state);
        assertEquals(9, out.sequence);
        assertNull(out.value);
        assertTrue(r.get(bytes("a"), Long.MAX_VALUE, out.reset()));
        assertEquals(Lookup.DELETED, out.state);

        assertNotFound(r, "", 100);
        assertNotFound(r, "a\0", 100);
        assertNotFound(r, "c", 100);
        assertFound(r, "b", 3, "other", 3);
        assertEquals(4, r.entryCount());
        assertEquals(1, r.minSequence());
        assertEquals(9, r.maxSequence());
    }

    @Test
    void shouldSkipRangeDeletionsInGet() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "k", 1, "old");
        add(shard, "k", 2, InternalKey.TYPE_RANGE_DELETION, "z");
        assertFound(shard.reader(), "k", 2, "old", 1);
        assertFound(shard.reader(), "k", 100, "old", 1);

        MemtableShard only = MemtableShard.allocate(2, 4096);
        add(only, "k", 2, InternalKey.TYPE_RANGE_DELETION, "z");
        assertNotFound(only.reader(), "k", 100);
    }

    @Test
    void shouldStoreEmptyKeysAndValues() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "", 1, "");
        put(shard, "x", 2, "");
        assertFound(shard.reader(), "", 1, "", 1);
        assertFound(shard.reader(), "x", 2, "", 2);
        InternalIterator it = shard.reader().iterator();
        it.seekToFirst();
        assertArrayEquals(InternalKey.encode(EMPTY, 1, InternalKey.TYPE_VALUE), copy(it.key()));
        assertEquals(0, it.value().capacity());
    }

    @Test
    void shouldMatchModelForRandomEntries() {
        MemtableShard shard = MemtableShard.allocate(7, 1 << 20);
        TreeMap<byte[], byte[]> model = fillRandom(shard, 3000, 150);
        assertEquals(model.size(), shard.entryCount());
        assertMatchesModel(shard.reader(), model);
        shard.reader().verify();
    }

    // ---- capacity -----------------------------------------------------------------------------

    @Test
    void shouldReturnFalseWhenFullAndStayReadable() {
        MemtableShard shard = MemtableShard.allocate(3, 4096);
        TreeMap<byte[], byte[]> model = new TreeMap<>(InternalKey::compare);
        long seq = 1;
        byte[] key;
        byte[] value;
        while (true) {
            key = randomKey(50);
            value = randomValue(60);
            if (!shard.add(seq, InternalKey.TYPE_VALUE, key, 0, key.length, value, 0, value.length)) {
                break;
            }
            model.put(InternalKey.encode(key, seq, InternalKey.TYPE_VALUE), value);
            seq++;
        }
        int used = shard.usedBytes();
        long count = shard.entryCount();
        long maxSeq = shard.maxSequence();
        assertTrue(used <= shard.capacity());
        assertTrue(model.size() > 10, "a 4 KiB shard holds more than 10 small entries " + seedNote);

        byte[] big = new byte[shard.capacity()];
        assertFalse(shard.add(seq, InternalKey.TYPE_VALUE, big, 0, 10, big, 0, big.length));
        assertFalse(shard.add(seq, InternalKey.TYPE_VALUE, key, 0, key.length, big, 0, 4096 - 100));
        assertEquals(used, shard.usedBytes(), "a refused add claims no bytes");
        assertEquals(count, shard.entryCount());
        assertEquals(maxSeq, shard.maxSequence());

        assertMatchesModel(shard.reader(), model);
        shard.seal();
        assertMatchesModel(readCopy(shard, 0), model);
    }

    @Test
    void shouldAlwaysFitOneEntryInArenaSizedByUpperBound() {
        int keyLen = 37;
        int valueLen = 1001;
        int capacity = ShardDescriptor.capacityFor(keyLen, valueLen);
        for (int height = 1; height <= ShardDescriptor.MAX_HEIGHT; height++) {
            MemtableShard shard = MemtableShard.allocate(height, capacity);
            assertTrue(shard.add(1, InternalKey.TYPE_VALUE, new byte[keyLen], 0, keyLen, new byte[valueLen], 0,
                    valueLen, height), "height " + height);
        }
        MemtableShard exact = MemtableShard.allocate(0, capacity);
        assertTrue(exact.add(1, InternalKey.TYPE_VALUE, new byte[keyLen], 0, keyLen, new byte[valueLen], 0,
                valueLen, ShardDescriptor.MAX_HEIGHT));
        assertEquals(capacity, exact.usedBytes(), "the bound is exact at max height");
        MemtableShard tooSmall = MemtableShard.allocate(0, capacity - 1);
        assertFalse(tooSmall.add(1, InternalKey.TYPE_VALUE, new byte[keyLen], 0, keyLen, new byte[valueLen], 0,
                valueLen, ShardDescriptor.MAX_HEIGHT));
    }

    // ---- position independence -------------------------------------------------------------------

    @Test
    void shouldReadCopiesOfUsedBytesInAnyBuffer() {
        MemtableShard shard = MemtableShard.allocate(11, 1 << 18);
        TreeMap<byte[], byte[]> model = fillRandom(shard, 1000, 80);
        shard.seal();
        int used = shard.usedBytes();
        int checksum = shard.reader().checksum();

        byte[] exact = new byte[used];
        shard.buffer().getBytes(0, exact);
        byte[] padded = new byte[used + 100];
        shard.buffer().getBytes(0, padded, 13, used);
        ByteBuffer direct = ByteBuffer.allocateDirect(used + 3);
        shard.buffer().getBytes(0, direct, 3, used);
        ExpandableArrayBuffer expandable = new ExpandableArrayBuffer(used);
        expandable.putBytes(0, exact);

        List<DirectBuffer> copies = List.of(
                new UnsafeBuffer(exact),                 // heap, offset 0
                new UnsafeBuffer(padded, 13, used),      // heap, unaligned, trailing garbage excluded
                new UnsafeBuffer(direct, 3, used),       // off-heap at another address
                expandable);                             // not an AtomicBuffer
        for (DirectBuffer copy : copies) {
            ShardReader r = new ShardReader(copy, "copy");
            assertEquals(11, r.shardId());
            assertEquals(used, r.usedBytes());
            assertEquals(model.size(), r.entryCount());
            assertTrue(r.isSealed());
            assertEquals(checksum, r.checksum(), "checksum of " + copy.getClass().getSimpleName());
            r.verify();
            assertMatchesModel(r, model);
        }
    }

    @Test
    void shouldIgnoreBytesBeyondUsedInSealedCopy() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "a", 1, "x");
        shard.seal();
        int used = shard.usedBytes();
        byte[] bigger = new byte[used + 64];
        Arrays.fill(bigger, (byte) 0x5A);
        shard.buffer().getBytes(0, bigger, 0, used);
        ShardReader r = new ShardReader(new UnsafeBuffer(bigger), "bigger");
        assertFound(r, "a", 1, "x", 1);
        assertEquals(shard.reader().checksum(), r.checksum());
    }

    // ---- concurrency -----------------------------------------------------------------------

    @Test
    @Timeout(120)
    void shouldKeepEveryEntryAndStrictOrderUnderConcurrentWritersAndReader() throws Exception {
        int writers = 4;
        int perWriter = 20_000;
        byte[][] keyPool = new byte[2_000][];
        for (int i = 0; i < keyPool.length; i++) {
            keyPool[i] = randomKey(24);
        }
        MemtableShard shard = MemtableShard.allocate(5, 16 << 20);
        ShardReader reader = shard.reader();
        ConcurrentLinkedQueue<byte[]> inserted = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong readerPasses = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);

        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < writers; t++) {
            long threadSeed = rnd.nextLong();
            int tid = t;
            threads.add(new Thread(() -> {
                Random tr = new Random(threadSeed);
                try {
                    start.await();
                    for (int i = 0; i < perWriter; i++) {
                        long seq = (long) i * writers + tid + 1;
                        byte[] key = keyPool[tr.nextInt(keyPool.length)];
                        int type = tr.nextInt(10) == 0 ? InternalKey.TYPE_DELETION : InternalKey.TYPE_VALUE;
                        byte[] value = valueFor(key, seq);
                        if (!shard.add(seq, type, key, 0, key.length, value, 0, value.length)) {
                            throw new AssertionError("arena unexpectedly full");
                        }
                        inserted.add(InternalKey.encode(key, seq, type));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "writer-" + t));
        }
        Thread readerThread = new Thread(() -> {
            try {
                start.await();
                InternalIterator it = reader.iterator();
                Lookup out = new Lookup();
                while (writing.get()) {
                    byte[] previous = null;
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        byte[] key = copy(it.key());
                        if (previous != null && InternalKey.compare(previous, key) >= 0) {
                            throw new AssertionError("order violated after " + Arrays.toString(previous));
                        }
                        checkValue(key, it.value());
                        previous = key;
                    }
                    // and backwards over a short stretch from the end
                    it.seekToLast();
                    for (int i = 0; i < 50 && it.isValid(); i++, it.prev()) {
                        byte[] key = copy(it.key());
                        if (previous != null && i > 0 && InternalKey.compare(key, previous) >= 0) {
                            throw new AssertionError("backward order violated");
                        }
                        previous = key;
                        checkValue(key, it.value());
                    }
                    byte[] probe = keyPool[ThreadLocalRandom.current().nextInt(keyPool.length)];
                    if (reader.get(probe, InternalKey.MAX_SEQUENCE, out.reset()) && out.state == Lookup.FOUND) {
                        assertArrayEquals(valueFor(probe, out.sequence), out.value);
                    }
                    readerPasses.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "reader");
        threads.forEach(Thread::start);
        readerThread.start();
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        writing.set(false);
        readerThread.join();
        if (failure.get() != null) {
            throw new AssertionError("concurrent run failed " + seedNote, failure.get());
        }

        int total = writers * perWriter;
        assertEquals(total, inserted.size());
        assertEquals(total, shard.entryCount());
        assertEquals(1, shard.minSequence());
        assertEquals(total, shard.maxSequence());
        TreeMap<byte[], byte[]> model = new TreeMap<>(InternalKey::compare);
        for (byte[] ik : inserted) {
            // writers store valueFor(key, seq) with deletions too
            model.put(ik, valueFor(InternalKey.userKey(ik), InternalKey.sequenceOf(InternalKey.trailer(ik))));
        }
        assertEquals(total, model.size(), "internal keys are unique");
        shard.seal();
        reader.verify();
        assertIterationMatches(reader, model);
        System.out.println("reader passes during writes: " + readerPasses.get());
    }

    @Test
    @Timeout(60)
    void shouldShowSingleWritersPrefixUpToMaxSequence() throws Exception {
        int n = 20_000;
        MemtableShard shard = MemtableShard.allocate(2, 8 << 20);
        ShardReader reader = shard.reader();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 1; i <= n; i++) {
                    byte[] key = prefixKey(i);
                    byte[] value = valueFor(key, i);
                    assertTrue(shard.add(i, InternalKey.TYPE_VALUE, key, 0, key.length, value, 0, value.length));
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        writer.start();
        Lookup out = new Lookup();
        long checks = 0;
        long seen = 0;
        while (seen < n && failure.get() == null) {
            seen = reader.maxSequence();
            for (int j = 0; j < 20 && seen > 0; j++) {
                long i = j == 0 ? seen : 1 + rnd.nextInt((int) seen);
                byte[] key = prefixKey(i);
                assertTrue(reader.get(key, seen, out.reset()), "entry " + i + " <= visible max " + seen);
                assertEquals(i, out.sequence);
                assertArrayEquals(valueFor(key, i), out.value);
                checks++;
            }
        }
        writer.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertTrue(checks > 0);
    }

    @Test
    @Timeout(60)
    void shouldFreezeBytesOnceSealReturnsWhileWritersRace() throws Exception {
        byte[] bigValue = new byte[16 * 1024];
        rnd.nextBytes(bigValue);
        int writers = 4;
        int rounds = 30;
        AtomicLong straddled = new AtomicLong();
        for (int round = 0; round < rounds; round++) {
            // heap arena: also covers MemtableShard over a caller-supplied AtomicBuffer
            MemtableShard shard = new MemtableShard(new UnsafeBuffer(new byte[64 << 20]), round);
            AtomicLong added = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch running = new CountDownLatch(2); // seal once two writers are adding
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < writers; t++) {
                int tid = t;
                long threadSeed = rnd.nextLong();
                threads.add(new Thread(() -> {
                    Random tr = new Random(threadSeed);
                    try {
                        for (long i = 0; ; i++) {
                            byte[] key = new byte[8 + tr.nextInt(8)];
                            tr.nextBytes(key);
                            // sizeable values keep adds in flight long enough for seal() to meet some
                            if (!shard.add(i * writers + tid, InternalKey.TYPE_VALUE, key, 0, key.length, bigValue, 0,
                                    tr.nextInt(bigValue.length))) {
                                return; // full before seal(): this round checks less, see straddled
                            }
                            added.incrementAndGet();
                            if (shard.isSealed()) {
                                straddled.incrementAndGet(); // began before the flag, so seal() had to wait for it
                            }
                            if (i == 0) {
                                running.countDown();
                            }
                        }
                    } catch (IllegalStateException sealed) {
                        // expected once the shard is sealed
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        running.countDown();
                        running.countDown();
                    }
                }));
            }
            threads.forEach(Thread::start);
            running.await();
            shard.seal();
            int usedAtSeal = shard.usedBytes();
            long countAtSeal = shard.entryCount();
            int checksumAtSeal = shard.reader().checksum();
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(usedAtSeal, shard.usedBytes(), "used bytes changed after seal returned, round " + round);
            assertEquals(countAtSeal, shard.entryCount(), "entries added after seal returned, round " + round);
            assertEquals(added.get(), countAtSeal);
            assertEquals(checksumAtSeal, shard.reader().checksum());
            shard.reader().verify();
        }
        System.out.println("adds in flight when seal() began, over " + rounds + " rounds: " + straddled.get());
        assertTrue(straddled.get() > 0, "seal() never met an add in flight; the test checked nothing");
    }

    // ---- caller mistakes -------------------------------------------------------------------

    @Test
    void shouldRejectAddAfterSeal() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "a", 1, "x");
        assertFalse(shard.isSealed());
        shard.seal();
        shard.seal();
        assertTrue(shard.isSealed());
        assertTrue(shard.reader().isSealed());
        assertThrows(IllegalStateException.class, () -> put(shard, "b", 2, "y"));
        assertEquals(1, shard.entryCount());
        assertFound(shard.reader(), "a", 1, "x", 1);
    }

    @Test
    void shouldRejectDuplicateKeyAndSequenceWithoutChangingShard() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "a", 5, "x");
        put(shard, "b", 5, "y");
        int used = shard.usedBytes();
        assertThrows(IllegalArgumentException.class, () -> put(shard, "a", 5, "again"));
        assertThrows(IllegalArgumentException.class, () -> delete(shard, "a", 5));
        assertThrows(IllegalArgumentException.class,
                () -> add(shard, "b", 5, InternalKey.TYPE_RANGE_DELETION, "c"));
        assertEquals(used, shard.usedBytes());
        assertEquals(2, shard.entryCount());
        put(shard, "a", 6, "newer");
        assertFound(shard.reader(), "a", 10, "newer", 6);
    }

    @Test
    void shouldRejectBadArguments() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        byte[] k = bytes("k");
        assertThrows(IllegalArgumentException.class, () -> shard.add(-1, InternalKey.TYPE_VALUE, k, 0, 1, k, 0, 1));
        assertThrows(IllegalArgumentException.class,
                () -> shard.add(InternalKey.MAX_SEQUENCE + 1, InternalKey.TYPE_VALUE, k, 0, 1, k, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> shard.add(1, InternalKey.TYPE_FOR_SEEK, k, 0, 1, k, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> shard.add(1, InternalKey.TYPE_VALUE, k, 0, 2, k, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> MemtableShard.allocate(1, ShardDescriptor.FIRST_NODE_OFFSET));
        assertThrows(IllegalArgumentException.class, () -> shard.reader().iterator().seek(new byte[7]));
        assertThrows(IllegalStateException.class, () -> shard.reader().iterator().next());
        assertEquals(0, shard.entryCount());
    }

    // ---- corruption ------------------------------------------------------------------------

    @Test
    void shouldRejectCorruptMagicNamingTheShard() {
        byte[] copy = sealedCopy();
        copy[1] ^= 0x40;
        CorruptionException e = assertThrows(CorruptionException.class,
                () -> new ShardReader(new UnsafeBuffer(copy), "dm-segment-42"));
        assertEquals("dm-segment-42", e.file());
        assertEquals(ShardDescriptor.MAGIC_OFFSET, e.offset());
        assertTrue(e.getMessage().contains("expected magic"), e.getMessage());
    }

    @Test
    void shouldRejectUnknownFormatVersion() {
        for (int version : new int[] {ShardDescriptor.MIN_READABLE_VERSION - 1, ShardDescriptor.FORMAT_VERSION + 1}) {
            byte[] copy = sealedCopy();
            new UnsafeBuffer(copy).putInt(ShardDescriptor.VERSION_OFFSET, version, ByteOrder.LITTLE_ENDIAN);
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> new ShardReader(new UnsafeBuffer(copy), "s"));
            assertEquals(ShardDescriptor.VERSION_OFFSET, e.offset());
        }
    }

    @Test
    void shouldReadAVersion1Shard() throws Exception {
        byte[] copy = sealedCopy();
        new UnsafeBuffer(copy).putInt(ShardDescriptor.VERSION_OFFSET, 1, ByteOrder.LITTLE_ENDIAN);
        ShardReader r = new ShardReader(new UnsafeBuffer(copy), "v1");
        r.verify();
    }

    @Test
    void shouldRejectUsedLengthBeyondBuffer() {
        byte[] copy = sealedCopy();
        new UnsafeBuffer(copy).putInt(ShardDescriptor.USED_OFFSET, copy.length + 4, ByteOrder.LITTLE_ENDIAN);
        CorruptionException e = assertThrows(CorruptionException.class,
                () -> new ShardReader(new UnsafeBuffer(copy), "shard-9"));
        assertEquals("shard-9", e.file());
        assertEquals(ShardDescriptor.USED_OFFSET, e.offset());

        new UnsafeBuffer(copy).putInt(ShardDescriptor.USED_OFFSET, 3, ByteOrder.LITTLE_ENDIAN);
        assertThrows(CorruptionException.class, () -> new ShardReader(new UnsafeBuffer(copy), "shard-9"));
        assertThrows(CorruptionException.class, () -> new ShardReader(new UnsafeBuffer(new byte[10]), "tiny"));
    }

    @Test
    @Timeout(10)
    void shouldReportWildLinksAsCorruptionNotOutOfBounds() {
        int[] badLinks = {3, ShardDescriptor.HEADER_LENGTH, 1 << 30, -8};
        for (int bad : badLinks) {
            byte[] copy = sealedCopy();
            new UnsafeBuffer(copy).putInt(ShardDescriptor.nextOffset(ShardDescriptor.HEAD_OFFSET, 0), bad,
                    ByteOrder.LITTLE_ENDIAN);
            ShardReader r = new ShardReader(new UnsafeBuffer(copy), "wild");
            InternalIterator it = r.iterator();
            CorruptionException e = assertThrows(CorruptionException.class, it::seekToFirst, "link " + bad);
            assertEquals("wild", e.file());
            assertThrows(CorruptionException.class, () -> r.get(bytes("a"), 100, new Lookup()), "link " + bad);
        }
    }

    @Test
    @Timeout(10)
    void shouldReportCycleAsCorruption() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        for (int i = 0; i < 5; i++) {
            put(shard, "k" + i, i + 1, "v");
        }
        shard.seal();
        byte[] copy = new byte[shard.usedBytes()];
        shard.buffer().getBytes(0, copy);
        UnsafeBuffer ub = new UnsafeBuffer(copy);
        int first = ub.getInt(ShardDescriptor.nextOffset(ShardDescriptor.HEAD_OFFSET, 0), ByteOrder.LITTLE_ENDIAN);
        int last = first;
        for (int n = first; n != 0; n = ub.getInt(ShardDescriptor.nextOffset(n, 0), ByteOrder.LITTLE_ENDIAN)) {
            last = n;
        }
        ub.putInt(ShardDescriptor.nextOffset(last, 0), first, ByteOrder.LITTLE_ENDIAN);
        ShardReader r = new ShardReader(ub, "cyclic");
        assertThrows(CorruptionException.class, r::verify);
        InternalIterator it = r.iterator();
        assertThrows(CorruptionException.class, () -> {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                // walks until the step bound trips
            }
        });
    }

    @Test
    @Timeout(10)
    void shouldReportCycleAmongSkippedRangeDeletions() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        add(shard, "k", 2, InternalKey.TYPE_RANGE_DELETION, "z");
        add(shard, "k", 1, InternalKey.TYPE_RANGE_DELETION, "z");
        shard.seal();
        byte[] copy = new byte[shard.usedBytes()];
        shard.buffer().getBytes(0, copy);
        UnsafeBuffer ub = new UnsafeBuffer(copy);
        int newer = ub.getInt(ShardDescriptor.nextOffset(ShardDescriptor.HEAD_OFFSET, 0), ByteOrder.LITTLE_ENDIAN);
        int older = ub.getInt(ShardDescriptor.nextOffset(newer, 0), ByteOrder.LITTLE_ENDIAN);
        ub.putInt(ShardDescriptor.nextOffset(older, 0), newer, ByteOrder.LITTLE_ENDIAN);
        ShardReader r = new ShardReader(ub, "looping");
        assertThrows(CorruptionException.class, () -> r.get(bytes("k"), 5, new Lookup()));
    }

    @Test
    void shouldReportUnknownEntryType() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "k", 1, "v");
        shard.seal();
        byte[] copy = new byte[shard.usedBytes()];
        shard.buffer().getBytes(0, copy);
        int node = ShardDescriptor.FIRST_NODE_OFFSET;
        int trailerAt = ShardDescriptor.keyOffset(node, copy[node]) + 1; // after user key "k"
        copy[trailerAt] = 7;
        ShardReader r = new ShardReader(new UnsafeBuffer(copy), "typed");
        assertThrows(CorruptionException.class, () -> r.get(bytes("k"), 1, new Lookup()));
        assertThrows(CorruptionException.class, r::verify);
    }

    // ---- the spec's worked example ---------------------------------------------------------

    /** Builds the example shard of docs/format/dm-memtable.md. */
    static MemtableShard workedExample() {
        MemtableShard shard = new MemtableShard(new UnsafeBuffer(ByteBuffer.allocateDirect(256)), 7);
        byte[] cat = bytes("cat");
        byte[] meow = bytes("meow");
        byte[] ant = bytes("ant");
        shard.add(1, InternalKey.TYPE_VALUE, cat, 0, cat.length, meow, 0, meow.length, 2);
        shard.add(2, InternalKey.TYPE_DELETION, ant, 0, ant.length, EMPTY, 0, 0, 1);
        shard.seal();
        return shard;
    }

    @Test
    void shouldMatchWorkedExampleInFormatSpec() throws Exception {
        MemtableShard shard = workedExample();
        String dump = hexDump(shard.buffer(), shard.usedBytes());
        System.out.println(dump);
        System.out.printf("checksum 0x%08x%n", shard.reader().checksum());
        Path spec = Path.of("..", "docs", "format", "dm-memtable.md");
        Assumptions.assumeTrue(Files.exists(spec), "spec not found from " + Path.of("").toAbsolutePath());
        String text = Files.readString(spec);
        int begin = text.indexOf("<!-- hexdump:begin -->");
        int end = text.indexOf("<!-- hexdump:end -->");
        assertTrue(begin >= 0 && end > begin, "spec marks its hex dump");
        String block = text.substring(begin, end);
        block = block.substring(block.indexOf("```\n") + 4, block.lastIndexOf("```"));
        assertEquals(dump.strip(), block.strip(), "docs/format/dm-memtable.md hex dump is out of date");
        assertTrue(text.contains(String.format("0x%08x", shard.reader().checksum())), "spec states the checksum");
    }

    static String hexDump(DirectBuffer buf, int length) {
        StringBuilder sb = new StringBuilder();
        for (int line = 0; line < length; line += 16) {
            sb.append(String.format("%4d  ", line));
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                if (line + i < length) {
                    int b = buf.getByte(line + i) & 0xFF;
                    sb.append(String.format("%02x ", b));
                    ascii.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
                } else {
                    sb.append("   ");
                }
                if (i == 7) {
                    sb.append(' ');
                }
            }
            sb.append(" |").append(ascii).append("|\n");
        }
        return sb.toString();
    }

    // ---- helpers -----------------------------------------------------------------------------

    private TreeMap<byte[], byte[]> fillRandom(MemtableShard shard, int n, int distinctKeys) {
        byte[][] pool = new byte[distinctKeys][];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = randomKey(20);
        }
        List<Long> seqs = new ArrayList<>();
        for (long s = 1; s <= n; s++) {
            seqs.add(s * 3); // gaps, so snapshots between versions exist
        }
        java.util.Collections.shuffle(seqs, rnd);
        TreeMap<byte[], byte[]> model = new TreeMap<>(InternalKey::compare);
        for (long seq : seqs) {
            byte[] key = pool[rnd.nextInt(pool.length)];
            int roll = rnd.nextInt(10);
            int type = roll < 7 ? InternalKey.TYPE_VALUE : roll < 9 ? InternalKey.TYPE_DELETION
                    : InternalKey.TYPE_RANGE_DELETION;
            byte[] value = type == InternalKey.TYPE_DELETION ? EMPTY : randomValue(40);
            assertTrue(shard.add(seq, type, key, 0, key.length, value, 0, value.length), "room " + seedNote);
            model.put(InternalKey.encode(key, seq, type), value);
        }
        return model;
    }

    private void assertMatchesModel(ShardReader r, TreeMap<byte[], byte[]> model) {
        assertIterationMatches(r, model);

        List<byte[]> userKeys = new ArrayList<>();
        for (byte[] ik : model.keySet()) {
            userKeys.add(InternalKey.userKey(ik));
        }
        Lookup out = new Lookup();
        for (int i = 0; i < 2000; i++) {
            byte[] userKey = userKeys.isEmpty() || rnd.nextInt(5) == 0 ? randomKey(20)
                    : userKeys.get(rnd.nextInt(userKeys.size()));
            long snap = rnd.nextInt(5) == 0 ? InternalKey.MAX_SEQUENCE : rnd.nextInt(3 * model.size() + 10);
            Lookup expected = modelGet(model, userKey, snap);
            boolean resolved = r.get(userKey, snap, out.reset());
            String what = "get(" + Arrays.toString(userKey) + ", " + snap + ") " + seedNote;
            assertEquals(expected.isResolved(), resolved, what);
            assertEquals(expected.state, out.state, what);
            assertEquals(expected.sequence, out.sequence, what);
            assertArrayEquals(expected.value, out.value, what);
        }

        InternalIterator it = r.iterator();
        List<byte[]> keys = new ArrayList<>(model.keySet());
        for (int i = 0; i < 500; i++) {
            byte[] target;
            if (!keys.isEmpty() && rnd.nextBoolean()) {
                byte[] k = keys.get(rnd.nextInt(keys.size()));
                target = rnd.nextBoolean() ? k
                        : InternalKey.encode(InternalKey.userKey(k), rnd.nextInt(3 * model.size() + 10),
                        rnd.nextBoolean() ? InternalKey.TYPE_FOR_SEEK : rnd.nextInt(3));
            } else {
                target = InternalKey.encode(randomKey(20), rnd.nextInt(100), InternalKey.TYPE_FOR_SEEK);
            }
            it.seek(target);
            byte[] expected = model.ceilingKey(target);
            assertPositioned(it, expected, model, "seek " + Arrays.toString(target));
            // wander a few steps either way
            for (int step = 0; step < 4 && expected != null; step++) {
                if (rnd.nextBoolean()) {
                    it.next();
                    expected = model.higherKey(expected);
                } else {
                    it.prev();
                    expected = model.lowerKey(expected);
                }
                assertPositioned(it, expected, model, "step " + step + " after seek");
            }
        }
    }

    private void assertIterationMatches(ShardReader r, NavigableMap<byte[], byte[]> model) {
        InternalIterator it = r.iterator();
        it.seekToFirst();
        for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
            assertTrue(it.isValid(), "forward iteration ended early " + seedNote);
            assertArrayEquals(e.getKey(), copy(it.key()), seedNote);
            assertArrayEquals(e.getValue(), copy(it.value()), seedNote);
            it.next();
        }
        assertFalse(it.isValid(), "forward iteration has extra entries " + seedNote);

        it.seekToLast();
        for (Map.Entry<byte[], byte[]> e : model.descendingMap().entrySet()) {
            assertTrue(it.isValid(), "backward iteration ended early " + seedNote);
            assertArrayEquals(e.getKey(), copy(it.key()), seedNote);
            assertArrayEquals(e.getValue(), copy(it.value()), seedNote);
            it.prev();
        }
        assertFalse(it.isValid(), "backward iteration has extra entries " + seedNote);
    }

    private void assertPositioned(InternalIterator it, byte[] expectedKey, Map<byte[], byte[]> model, String what) {
        if (expectedKey == null) {
            assertFalse(it.isValid(), what + " should be exhausted " + seedNote);
        } else {
            assertTrue(it.isValid(), what + " should be valid " + seedNote);
            assertArrayEquals(expectedKey, copy(it.key()), what + " " + seedNote);
            assertArrayEquals(model.get(expectedKey), copy(it.value()), what + " " + seedNote);
        }
    }

    private static Lookup modelGet(TreeMap<byte[], byte[]> model, byte[] userKey, long snap) {
        Lookup l = new Lookup();
        for (Map.Entry<byte[], byte[]> e : model.tailMap(InternalKey.seekKey(userKey, snap), true).entrySet()) {
            byte[] ik = e.getKey();
            if (Bytes.compare(ik, 0, ik.length - InternalKey.TRAILER_SIZE, userKey, 0, userKey.length) != 0) {
                break;
            }
            long trailer = InternalKey.trailer(ik);
            int type = InternalKey.typeOf(trailer);
            if (type == InternalKey.TYPE_RANGE_DELETION) {
                continue;
            }
            l.state = type == InternalKey.TYPE_VALUE ? Lookup.FOUND : Lookup.DELETED;
            l.value = type == InternalKey.TYPE_VALUE ? e.getValue() : null;
            l.sequence = InternalKey.sequenceOf(trailer);
            break;
        }
        return l;
    }

    private byte[] sealedCopy() {
        MemtableShard shard = MemtableShard.allocate(1, 4096);
        put(shard, "a", 1, "x");
        put(shard, "b", 2, "y");
        shard.seal();
        byte[] copy = new byte[shard.usedBytes()];
        shard.buffer().getBytes(0, copy);
        new ShardReader(new UnsafeBuffer(copy), "ok"); // valid before we damage it
        return copy;
    }

    private static ShardReader readCopy(MemtableShard shard, int offset) {
        byte[] copy = new byte[offset + shard.usedBytes()];
        shard.buffer().getBytes(0, copy, offset, shard.usedBytes());
        return new ShardReader(new UnsafeBuffer(copy, offset, shard.usedBytes()), "copy");
    }

    private byte[] randomKey(int maxLen) {
        byte[] k = new byte[rnd.nextInt(maxLen + 1)];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (rnd.nextBoolean() ? 'a' + rnd.nextInt(4) : rnd.nextInt(256)); // shared prefixes + high bytes
        }
        return k;
    }

    private byte[] randomValue(int maxLen) {
        byte[] v = new byte[rnd.nextInt(maxLen + 1)];
        rnd.nextBytes(v);
        return v;
    }

    private static byte[] prefixKey(long i) {
        return bytes(String.format("key%09d", i));
    }

    /** Deterministic value for (key, seq), so a reader can check what it sees. */
    private static byte[] valueFor(byte[] key, long seq) {
        byte[] v = new byte[8 + key.length + (int) (seq % 13)];
        new UnsafeBuffer(v).putLong(0, seq, ByteOrder.LITTLE_ENDIAN);
        System.arraycopy(key, 0, v, 8, key.length);
        for (int i = 8 + key.length; i < v.length; i++) {
            v[i] = (byte) (seq + i);
        }
        return v;
    }

    private static void checkValue(byte[] internalKey, DirectBuffer value) {
        byte[] expected = valueFor(InternalKey.userKey(internalKey), InternalKey.sequenceOf(InternalKey.trailer(internalKey)));
        byte[] actual = copy(value);
        if (!Arrays.equals(expected, actual)) {
            fail("torn or wrong value for " + Arrays.toString(internalKey));
        }
    }

    private static byte[] copy(DirectBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.getBytes(0, out);
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void put(MemtableShard shard, String key, long seq, String value) {
        add(shard, key, seq, InternalKey.TYPE_VALUE, value);
    }

    private static void delete(MemtableShard shard, String key, long seq) {
        add(shard, key, seq, InternalKey.TYPE_DELETION, "");
    }

    private static void add(MemtableShard shard, String key, long seq, int type, String value) {
        byte[] k = bytes(key);
        byte[] v = bytes(value);
        assertTrue(shard.add(seq, type, k, 0, k.length, v, 0, v.length), "room for " + key);
    }

    private static void assertFound(ShardReader r, String key, long snap, String value, long seq) {
        Lookup out = new Lookup();
        assertTrue(r.get(bytes(key), snap, out), key + "@" + snap);
        assertEquals(Lookup.FOUND, out.state, key + "@" + snap);
        assertEquals(seq, out.sequence, key + "@" + snap);
        assertArrayEquals(bytes(value), out.value, key + "@" + snap);
    }

    private static void assertNotFound(ShardReader r, String key, long snap) {
        Lookup out = new Lookup();
        assertFalse(r.get(bytes(key), snap, out), key + "@" + snap);
        assertEquals(Lookup.NOT_FOUND, out.state);
    }
}
