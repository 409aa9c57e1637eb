package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.internal.util.Coding;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BloomFilterTest {
    @TempDir
    Path dir;

    @Test
    void hashShouldBeXxh64WithSeedZero() {
        long seed = TableTestSupport.seed("xxh64");
        Random rnd = new Random(seed);
        XXHash64 reference = XXHashFactory.safeInstance().hash64();
        assertEquals(0xEF46DB3751D8E999L, BloomFilter.hash64(new byte[0], 0, 0)); // published XXH64("")
        for (int len = 0; len < 300; len++) {
            byte[] b = new byte[len + 7];
            rnd.nextBytes(b);
            long want = reference.hash(b, 3, len, 0);
            assertEquals(want, BloomFilter.hash64(b, 3, len), "len " + len + " seed=" + seed);
            assertEquals(want, BloomFilter.hash64(new UnsafeBuffer(b), 3, len), "buffer, len " + len + " seed=" + seed);
        }
    }

    @Test
    void shouldChooseProbeCountFromBitsPerKey() {
        assertEquals(1, BloomFilter.probesFor(1));
        assertEquals(7, BloomFilter.probesFor(10));
        assertEquals(14, BloomFilter.probesFor(20));
        assertEquals(30, BloomFilter.probesFor(64));
    }

    @Test
    void shouldHaveNoFalseNegativesAndAboutOnePercentFalsePositivesAtTenBitsPerKey() {
        long seed = TableTestSupport.seed("bloomRate");
        Random rnd = new Random(seed);
        BloomFilter.Builder b = new BloomFilter.Builder(10);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            byte[] k = ("key" + i).getBytes(StandardCharsets.UTF_8);
            b.addKey(k, 0, k.length);
        }
        byte[] block = b.finish();
        BloomFilter f = BloomFilter.decode(block, 0, block.length, "test", 0);
        assertEquals(7, f.numProbes());
        assertEquals(n * 10L, f.numBits());
        for (int i = 0; i < n; i++) {
            assertTrue(f.mayContain(("key" + i).getBytes(StandardCharsets.UTF_8)), "false negative for key" + i);
        }
        int probes = 200_000;
        int falsePositives = 0;
        for (int i = 0; i < probes; i++) {
            byte[] k = new byte[4 + rnd.nextInt(12)];
            rnd.nextBytes(k);
            k[0] = 'X'; // never "key..."
            if (f.mayContain(k)) {
                falsePositives++;
            }
        }
        double rate = falsePositives / (double) probes;
        System.out.printf("bloom false-positive rate at 10 bits/key: %.4f%%%n", rate * 100);
        assertTrue(rate < 0.03, "false-positive rate " + rate + " seed=" + seed);
        assertTrue(rate > 0.002, "suspiciously low false-positive rate " + rate + " seed=" + seed);
    }

    @Test
    void shouldAnswerTheSameForArrayAndBufferKeys() {
        BloomFilter.Builder b = new BloomFilter.Builder(8);
        for (int i = 0; i < 1000; i += 2) {
            byte[] k = Integer.toString(i).getBytes(StandardCharsets.US_ASCII);
            b.addKey(new UnsafeBuffer(k), 0, k.length);
        }
        byte[] block = b.finish();
        BloomFilter f = BloomFilter.decode(block, 0, block.length, "test", 0);
        for (int i = 0; i < 1000; i++) {
            byte[] k = Integer.toString(i).getBytes(StandardCharsets.US_ASCII);
            byte[] padded = new byte[k.length + 4];
            System.arraycopy(k, 0, padded, 2, k.length);
            boolean a = f.mayContain(k);
            assertEquals(a, f.mayContain(padded, 2, k.length));
            assertEquals(a, f.mayContain(new UnsafeBuffer(padded), 2, k.length));
            if (i % 2 == 0) {
                assertTrue(a);
            }
        }
    }

    @Test
    void shouldRejectAFilterBlockWithAnImpossibleProbeCount() {
        byte[] block = new byte[9];
        block[8] = 31;
        CorruptionException e = assertThrows(CorruptionException.class,
                () -> BloomFilter.decode(block, 0, block.length, "f.sst", 1234));
        assertEquals("f.sst", e.file());
        assertEquals(1234, e.offset());
        block[8] = 0;
        assertThrows(CorruptionException.class, () -> BloomFilter.decode(block, 0, block.length, "f.sst", 1234));
    }

    @Test
    void getShouldReadNoDataBlockForKeysTheFilterRejects() throws Exception {
        long seed = TableTestSupport.seed("bloomBeforeBlocks");
        Random rnd = new Random(seed);
        List<TableTestSupport.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            byte[] uk = new byte[8];
            Coding.putFixed64(uk, 0, Long.reverseBytes(2L * i)); // big-endian even numbers: sorted
            entries.add(new TableTestSupport.Entry(InternalKey.encode(uk, 1, InternalKey.TYPE_VALUE), new byte[] {1}));
        }
        Path path = dir.resolve("bloom.sst");
        TableTestSupport.write(path, TableOptions.DEFAULT.withBlockSize(256), entries);
        TableTestSupport.CountingFile file = new TableTestSupport.CountingFile(TableTestSupport.FS.newReadableFile(path));
        try (TableReader r = TableReader.open(file, path.toString(), 1)) {
            AtomicInteger reads = file.reads;
            reads.set(0); // the reads of the open
            Lookup out = new Lookup();
            int lookups = 10_000;
            for (int i = 0; i < lookups; i++) {
                byte[] uk = new byte[8];
                Coding.putFixed64(uk, 0, Long.reverseBytes(2L * rnd.nextInt(5000) + 1)); // odd: absent
                assertEquals(false, r.get(uk, 10, out));
            }
            assertTrue(reads.get() < lookups * 0.03, reads.get() + " block reads for " + lookups + " absent keys");
            reads.set(0);
            byte[] present = new byte[8];
            Coding.putFixed64(present, 0, Long.reverseBytes(2L * 77));
            assertTrue(r.get(present, 10, out));
            assertEquals(1, reads.get(), "a hit reads exactly one data block");
        }
    }
}
