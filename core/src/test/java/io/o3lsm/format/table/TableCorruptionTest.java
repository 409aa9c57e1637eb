package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.Compression;
import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableFormat.BlockHandle;
import io.o3lsm.format.table.TableTestSupport.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Damaged files: every damage is a CorruptionException naming the file and an offset, never a wrong answer. */
class TableCorruptionTest {
    @TempDir
    Path dir;

    /** Block positions of a finished table, parsed from its footer and metaindex. */
    private record Layout(long footer, BlockHandle index, BlockHandle metaindex, BlockHandle filter,
            BlockHandle rangeDel) {
    }

    private static Layout layout(byte[] file) {
        long footerOffset = file.length - TableFormat.FOOTER_SIZE;
        byte[] footer = java.util.Arrays.copyOfRange(file, (int) footerOffset, file.length);
        BlockHandle meta = new BlockHandle();
        BlockHandle index = new BlockHandle();
        TableFormat.decodeFooter(footer, "x", footerOffset, meta, index);
        Block mb = new Block(java.util.Arrays.copyOfRange(file, (int) meta.offset, (int) (meta.offset + meta.size)),
                (int) meta.size, "x", meta.offset);
        BlockIterator it = mb.iterator(false);
        BlockHandle filter = null;
        BlockHandle rangeDel = null;
        for (it.seekToFirst(); it.isValid(); it.next()) {
            String name = new String(TableTestSupport.bytes(it.key()));
            BlockHandle h = new BlockHandle();
            h.decodeFrom(it.valueArray(), it.valueOffset(), it.valueOffset() + it.valueLength());
            if (name.equals("filter")) {
                filter = h;
            } else if (name.equals("rangedel")) {
                rangeDel = h;
            }
        }
        return new Layout(footerOffset, index, meta, filter, rangeDel);
    }

    private List<Entry> entries;
    private List<RangeTombstone> tombstones;
    private Path path;
    private byte[] pristine;

    private void writeTable(Compression c, long seed) throws Exception {
        Random rnd = new Random(seed);
        List<byte[]> userKeys = TableTestSupport.userKeys(rnd, 60);
        entries = TableTestSupport.entries(rnd, userKeys, 100);
        List<RangeTombstone> added = TableTestSupport.tombstones(rnd, userKeys, 8);
        tombstones = TableTestSupport.expectedTombstones(added);
        path = dir.resolve("000007.sst");
        TableTestSupport.write(path, new TableOptions(256, 4, c, 10), entries, added, rnd);
        pristine = Files.readAllBytes(path);
    }

    private void flip(long offset, int bit) throws Exception {
        byte[] damaged = pristine.clone();
        damaged[(int) offset] ^= (byte) (1 << bit);
        Files.write(path, damaged);
    }

    private void assertNamesFileAndOffset(CorruptionException e, long offset) {
        assertEquals(path.toString(), e.file());
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("offset " + offset),
                e.getMessage());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }

    @Test
    void aFlippedBitInADataBlockShouldFailTheGetAndTheIteratorNamingTheBlock() throws Exception {
        writeTable(Compression.NONE, TableTestSupport.seed("dataBlockFlip"));
        long firstBlock = TableFormat.HEADER_SIZE;
        flip(firstBlock + 5, 3);
        try (TableReader r = TableTestSupport.open(path)) { // open reads no data block
            byte[] firstUserKey = entries.get(0).userKey();
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> r.get(firstUserKey, InternalKey.MAX_SEQUENCE, new Lookup()));
            assertNamesFileAndOffset(e, firstBlock);
            try (InternalIterator it = r.iterator()) {
                e = assertThrows(CorruptionException.class, it::seekToFirst);
                assertNamesFileAndOffset(e, firstBlock);
            }
        }
    }

    @Test
    void aFlippedBitInTheIndexShouldFailTheOpen() throws Exception {
        writeTable(Compression.LZ4, TableTestSupport.seed("indexFlip"));
        Layout l = layout(pristine);
        flip(l.index().offset + l.index().size / 2, 0);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
        assertNamesFileAndOffset(e, l.index().offset);
    }

    @Test
    void aFlippedBitInTheFilterShouldFailTheOpen() throws Exception {
        writeTable(Compression.NONE, TableTestSupport.seed("filterFlip"));
        Layout l = layout(pristine);
        assertNotNull(l.filter());
        flip(l.filter().offset + 1, 6);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
        assertNamesFileAndOffset(e, l.filter().offset);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aFlippedBitInTheRangeDelBlockShouldFailTheOpen(Compression c) throws Exception {
        long seed = TableTestSupport.seed("rangeDelFlip " + c);
        writeTable(c, seed);
        Layout l = layout(pristine);
        assertNotNull(l.rangeDel(), "seed=" + seed);
        Random rnd = new Random(seed);
        for (int round = 0; round < 20; round++) { // contents and trailer
            long at = l.rangeDel().offset + rnd.nextInt((int) l.rangeDel().size + TableFormat.BLOCK_TRAILER_SIZE);
            flip(at, rnd.nextInt(8));
            CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path),
                    "seed=" + seed + " flip at " + at);
            assertNamesFileAndOffset(e, l.rangeDel().offset);
        }
    }

    @Test
    void aFlippedBitInABlockTrailerShouldFailLikeTheBlock() throws Exception {
        writeTable(Compression.NONE, TableTestSupport.seed("trailerFlip"));
        Layout l = layout(pristine);
        flip(l.metaindex().offset + l.metaindex().size, 1); // the compression code byte
        CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
        assertNamesFileAndOffset(e, l.metaindex().offset);
    }

    @Test
    void aFlippedBitInTheFooterShouldFailTheOpen() throws Exception {
        writeTable(Compression.NONE, TableTestSupport.seed("footerFlip"));
        Layout l = layout(pristine);
        for (int at : new int[] {0, 20, TableFormat.FOOTER_VERSION_OFFSET, TableFormat.FOOTER_CRC_OFFSET + 2,
                TableFormat.FOOTER_MAGIC_OFFSET + 7}) {
            flip(l.footer() + at, 4);
            CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
            assertNamesFileAndOffset(e, l.footer());
        }
    }

    @Test
    void aFlippedBitInTheHeaderShouldFailTheOpen() throws Exception {
        writeTable(Compression.NONE, TableTestSupport.seed("headerFlip"));
        for (int at : new int[] {0, 9, 13}) {
            flip(at, 2);
            CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
            assertNamesFileAndOffset(e, 0);
        }
    }

    /**
     * Every byte of the file is covered by a checksum: flip one bit of each byte in turn and read
     * everything back. Each damage must surface as a CorruptionException; nothing read before it
     * may differ from what was written. (The table is written to a real file once; the thousands of
     * damaged variants are read from memory to keep the test fast.)
     */
    @ParameterizedTest
    @EnumSource(Compression.class)
    void everySingleBitFlipShouldBeDetectedAndNeverReturnAWrongValue(Compression c) throws Exception {
        long seed = TableTestSupport.seed("everyBitFlip " + c);
        writeTable(c, seed);
        Random rnd = new Random(seed);
        for (int pos = 0; pos < pristine.length; pos++) {
            int bit = rnd.nextInt(8);
            byte[] damaged = pristine.clone();
            damaged[pos] ^= (byte) (1 << bit);
            String what = "seed=" + seed + " byte " + pos + " bit " + bit + " of " + pristine.length;
            try (TableReader r = TableReader.open(new TableTestSupport.ByteArrayFile(damaged, path.toString()),
                    path.toString(), 7)) {
                readEverything(r, what);
                fail("undetected damage: " + what);
            } catch (CorruptionException expected) {
                assertEquals(path.toString(), expected.file(), what);
                assertTrue(expected.offset() >= 0 && expected.offset() < pristine.length, what);
            }
        }
    }

    private void readEverything(TableReader r, String what) {
        assertEquals(tombstones, r.rangeTombstones(), what);
        try (InternalIterator it = r.iterator()) {
            int i = 0;
            for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                assertArrayEquals(entries.get(i).key(), TableTestSupport.bytes(it.key()), what);
                assertArrayEquals(entries.get(i).value(), TableTestSupport.bytes(it.value()), what);
            }
            assertEquals(entries.size(), i, what);
        }
        Lookup out = new Lookup();
        for (Entry e : entries) {
            Entry want = TableTestSupport.modelGet(entries, e.userKey(), e.sequence());
            out.reset();
            r.get(e.userKey(), e.sequence(), out);
            if (want.type() == InternalKey.TYPE_VALUE) {
                assertArrayEquals(want.value(), out.value, what);
            }
        }
    }

    @Test
    void aTruncatedFileShouldFailTheOpen() throws Exception {
        writeTable(Compression.LZ4, TableTestSupport.seed("truncated"));
        int n = pristine.length;
        for (int len : new int[] {0, 1, TableFormat.HEADER_SIZE, TableFormat.MIN_FILE_SIZE - 1,
                TableFormat.MIN_FILE_SIZE, n / 2, n - TableFormat.FOOTER_SIZE, n - 1}) {
            Files.write(path, java.util.Arrays.copyOf(pristine, len));
            CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path),
                    "truncated to " + len);
            assertEquals(path.toString(), e.file());
            assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("offset "), e.getMessage());
        }
    }

    @Test
    void aFileThatIsNotAnSstShouldFailTheOpenAtTheFooterMagic() throws Exception {
        path = dir.resolve("garbage.sst");
        byte[] junk = new byte[500];
        new Random(1).nextBytes(junk);
        System.arraycopy(TableFormat.MAGIC, 0, junk, 0, 8);
        Files.write(path, junk);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TableTestSupport.open(path));
        assertTrue(e.getMessage().contains("magic") || e.getMessage().contains("crc"), e.getMessage());
    }
}
