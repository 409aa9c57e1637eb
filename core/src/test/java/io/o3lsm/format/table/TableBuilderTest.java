package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableTestSupport.Entry;
import io.o3lsm.spi.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableBuilderTest {
    @TempDir
    Path dir;

    private static byte[] ik(String user, long seq, int type) {
        return InternalKey.encode(user.getBytes(), seq, type);
    }

    @Test
    void shouldRejectKeysThatAreNotStrictlyIncreasing() throws Exception {
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(dir.resolve("a.sst"))) {
            TableBuilder b = new TableBuilder(f, "a.sst", TableOptions.DEFAULT);
            b.add(ik("b", 5, InternalKey.TYPE_VALUE), new byte[0]);
            assertThrows(IllegalStateException.class, () -> b.add(ik("a", 9, InternalKey.TYPE_VALUE), new byte[0]));
            assertThrows(IllegalStateException.class, () -> b.add(ik("b", 5, InternalKey.TYPE_VALUE), new byte[0]));
            // same user key, higher sequence sorts before: also out of order
            assertThrows(IllegalStateException.class, () -> b.add(ik("b", 6, InternalKey.TYPE_VALUE), new byte[0]));
            b.add(ik("b", 4, InternalKey.TYPE_DELETION), new byte[0]); // older version: fine
            b.add(ik("c", 1, InternalKey.TYPE_VALUE), new byte[0]);
            assertEquals(3, b.finish().numEntries());
        }
    }

    @Test
    void shouldRejectMalformedKeysAndUseAfterFinishOrAbandon() throws Exception {
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(dir.resolve("a.sst"))) {
            TableBuilder b = new TableBuilder(f, "a.sst", TableOptions.DEFAULT);
            assertThrows(IllegalArgumentException.class, () -> b.add(new byte[7], new byte[0]));
            assertThrows(IllegalArgumentException.class, () -> b.add(ik("a", 1, 9), new byte[0]));
            b.finish();
            assertThrows(IllegalStateException.class, () -> b.add(ik("z", 1, InternalKey.TYPE_VALUE), new byte[0]));
            assertThrows(IllegalStateException.class, b::finish);
        }
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(dir.resolve("b.sst"))) {
            TableBuilder b = new TableBuilder(f, "b.sst", TableOptions.DEFAULT);
            b.abandon();
            assertThrows(IllegalStateException.class, () -> b.add(ik("z", 1, InternalKey.TYPE_VALUE), new byte[0]));
        }
    }

    @Test
    void shouldValidateOptions() {
        assertThrows(IllegalArgumentException.class, () -> new TableOptions(0, 16, Compression.NONE, 10));
        assertThrows(IllegalArgumentException.class, () -> new TableOptions(4096, 0, Compression.NONE, 10));
        assertThrows(IllegalArgumentException.class, () -> new TableOptions(4096, 16, Compression.NONE, -1));
        assertThrows(IllegalArgumentException.class, () -> new TableOptions(4096, 16, Compression.NONE, 65));
        assertThrows(NullPointerException.class, () -> new TableOptions(4096, 16, null, 10));
    }

    @Test
    void estimatedFileSizeShouldTrackTheFinalSize() throws Exception {
        long seed = TableTestSupport.seed("estimate");
        Random rnd = new Random(seed);
        List<Entry> entries = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, 3000), 300);
        Path p = dir.resolve("e.sst");
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(p)) {
            TableBuilder b = new TableBuilder(f, p.toString(), TableOptions.DEFAULT.withCompression(Compression.NONE));
            long last = 0;
            for (Entry e : entries) {
                b.add(e.key(), e.value());
                long est = b.estimatedFileSize();
                assertTrue(est >= last, "estimate shrank");
                last = est;
            }
            long size = b.finish().fileSize();
            assertTrue(Math.abs(last - size) < size / 20 + 4096, "estimate " + last + " vs size " + size + " seed=" + seed);
        }
    }

    @Test
    void shouldWriteByteIdenticalFilesForIdenticalInput() throws Exception {
        long seed = TableTestSupport.seed("deterministic");
        Random rnd = new Random(seed);
        List<Entry> entries = TableTestSupport.entries(rnd, TableTestSupport.userKeys(rnd, 500), 100);
        TableTestSupport.write(dir.resolve("1.sst"), TableOptions.DEFAULT, entries);
        TableTestSupport.write(dir.resolve("2.sst"), TableOptions.DEFAULT, entries);
        assertArrayEquals(Files.readAllBytes(dir.resolve("1.sst")), Files.readAllBytes(dir.resolve("2.sst")));
    }

    @Test
    void shouldOmitTheFilterWhenBloomBitsPerKeyIsZero() throws Exception {
        Path p = dir.resolve("nf.sst");
        TableProperties props = TableTestSupport.write(p, TableOptions.DEFAULT.withBloomBitsPerKey(0),
                List.of(new Entry(ik("k", 1, InternalKey.TYPE_VALUE), new byte[] {7})));
        assertEquals(0, props.filterBytes());
        try (TableReader r = TableTestSupport.open(p)) {
            assertTrue(r.mayContain("anything".getBytes()));
            io.o3lsm.format.Lookup out = new io.o3lsm.format.Lookup();
            assertTrue(r.get("k".getBytes(), 1, out));
            assertArrayEquals(new byte[] {7}, out.value);
        }
    }

    @Test
    void shouldCompressOnlyWhenLz4SavesAnEighth() throws Exception {
        Random rnd = new Random(3);
        byte[] random = new byte[2000];
        rnd.nextBytes(random);
        byte[] zeros = new byte[2000];
        Path a = dir.resolve("r.sst");
        Path z = dir.resolve("z.sst");
        TableProperties pr = TableTestSupport.write(a, TableOptions.DEFAULT.withCompression(Compression.LZ4),
                List.of(new Entry(ik("k", 1, InternalKey.TYPE_VALUE), random)));
        TableProperties pz = TableTestSupport.write(z, TableOptions.DEFAULT.withCompression(Compression.LZ4),
                List.of(new Entry(ik("k", 1, InternalKey.TYPE_VALUE), zeros)));
        byte[] fr = Files.readAllBytes(a);
        byte[] fz = Files.readAllBytes(z);
        long rawBlock = pr.dataBytes() - TableFormat.BLOCK_TRAILER_SIZE;
        assertEquals(Compression.NONE.code, fr[(int) (TableFormat.HEADER_SIZE + rawBlock)], "random data stored raw");
        long lz4Block = pz.dataBytes() - TableFormat.BLOCK_TRAILER_SIZE;
        assertEquals(Compression.LZ4.code, fz[(int) (TableFormat.HEADER_SIZE + lz4Block)], "zeros compressed");
        assertTrue(pz.dataBytes() < 200, "compressed data block of " + pz.dataBytes() + " bytes");
    }
}
