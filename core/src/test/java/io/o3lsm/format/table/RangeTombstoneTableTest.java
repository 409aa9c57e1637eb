package io.o3lsm.format.table;

import static io.o3lsm.format.table.TableTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableTestSupport.Entry;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Range tombstones in SSTs: the rangedel block, the key range they extend, and their absence from data blocks. */
class RangeTombstoneTableTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static Entry put(String k, long seq, String v) {
        return new Entry(InternalKey.encode(b(k), seq, InternalKey.TYPE_VALUE), b(v));
    }

    private static RangeTombstone rt(String start, String end, long seq) {
        return new RangeTombstone(b(start), b(end), seq);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void shouldRoundTripTombstonesAddedInAnyOrderAndKeepThemOutOfGetAndIterators(Compression c) throws Exception {
        long seed = TableTestSupport.seed("tombstoneRoundTrip " + c);
        Random rnd = new Random(seed);
        List<byte[]> userKeys = TableTestSupport.userKeys(rnd, 300);
        List<Entry> entries = TableTestSupport.entries(rnd, userKeys, 50);
        List<RangeTombstone> added = TableTestSupport.tombstones(rnd, userKeys, 200);
        added.addAll(added.subList(0, 10)); // duplicates
        List<RangeTombstone> expected = TableTestSupport.expectedTombstones(added);
        TableOptions o = new TableOptions(128, 4, c, 10);
        String ctx = "seed=" + seed;

        // two different interleavings and tombstone orders write the same bytes
        Path a = dir.resolve("a.sst");
        Path z = dir.resolve("z.sst");
        TableProperties pa = TableTestSupport.write(a, o, entries, added, rnd);
        List<RangeTombstone> shuffled = new ArrayList<>(added);
        Collections.shuffle(shuffled, rnd);
        TableTestSupport.write(z, o, entries, shuffled, rnd);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(z), ctx);
        assertTrue(pa.rangeDeletionBytes() > 0, ctx);

        try (TableReader r = TableTestSupport.open(a)) {
            assertEquals(expected, r.rangeTombstones(), ctx);
            assertThrows(UnsupportedOperationException.class, () -> r.rangeTombstones().add(rt("a", "b", 1)));
            TableRoundTripTest.checkProperties(entries, expected, r.properties(), ctx);
            // the iterator yields exactly the point entries, never a type-2 key
            try (InternalIterator it = r.iterator()) {
                int i = 0;
                for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                    byte[] k = bytes(it.key());
                    assertNotEquals(InternalKey.TYPE_RANGE_DELETION, InternalKey.typeOf(InternalKey.trailer(k)), ctx);
                    assertArrayEquals(entries.get(i).key(), k, ctx + " at " + i);
                }
                assertEquals(entries.size(), i, ctx);
            }
            // get answers from point entries only, also for keys that only a tombstone starts at
            Lookup out = new Lookup();
            for (RangeTombstone t : expected) {
                out.reset();
                Entry want = TableTestSupport.modelGet(entries, t.start, InternalKey.MAX_SEQUENCE);
                assertEquals(want != null, r.get(t.start, InternalKey.MAX_SEQUENCE, out), ctx);
                if (want != null) {
                    assertEquals(want.sequence(), out.sequence, ctx);
                } else {
                    assertEquals(Lookup.NOT_FOUND, out.state, ctx);
                }
            }
        }
    }

    @Test
    void aTableOfOnlyTombstonesShouldTakeItsKeyRangeFromThem() throws Exception {
        Path p = dir.resolve("only.sst");
        TableProperties props;
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(p)) {
            TableBuilder builder = new TableBuilder(f, p.toString(), TableOptions.DEFAULT);
            builder.addRangeTombstone(b("m"), b("q"), 9);
            builder.addRangeTombstone(b("c"), b("f"), 4);
            builder.add(rt("d", "z", 6).startInternalKey(), b("z"));
            builder.addRangeTombstone(b("x"), b("a"), 50); // empty: dropped, its sequence too
            assertEquals(3, builder.numEntries());
            props = builder.finish();
        }
        try (TableReader r = TableTestSupport.open(p)) {
            for (TableProperties tp : List.of(props, r.properties())) {
                assertEquals(3, tp.numEntries());
                assertEquals(0, tp.numPointEntries());
                assertEquals(3, tp.numRangeDeletions());
                assertEquals(0, tp.numDataBlocks());
                assertArrayEquals(InternalKey.encode(b("c"), 4, InternalKey.TYPE_RANGE_DELETION), tp.smallestKey());
                assertArrayEquals(InternalKey.encode(b("z"), InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION),
                        tp.largestKey());
                assertEquals(4, tp.smallestSequence());
                assertEquals(9, tp.largestSequence());
            }
            assertEquals(List.of(rt("c", "f", 4), rt("d", "z", 6), rt("m", "q", 9)), r.rangeTombstones());
            Lookup out = new Lookup();
            for (String k : new String[] {"c", "d", "e", "m", "y", "z"}) {
                assertFalse(r.get(b(k), InternalKey.MAX_SEQUENCE, out), k);
            }
            assertNull(out.value);
            try (InternalIterator it = r.iterator()) {
                it.seekToFirst();
                assertFalse(it.isValid());
                it.seek(InternalKey.seekKey(b("d"), 100));
                assertFalse(it.isValid());
            }
        }
    }

    @Test
    void theKeyRangeShouldCoverTombstonesThatReachPastThePointEntries() throws Exception {
        // tombstone before the first point and past the last point
        TableProperties p = write("wide.sst", List.of(put("f", 5, "v"), put("k", 6, "v")),
                List.of(rt("a", "c", 3), rt("g", "p", 8)));
        assertArrayEquals(InternalKey.encode(b("a"), 3, InternalKey.TYPE_RANGE_DELETION), p.smallestKey());
        assertArrayEquals(InternalKey.encode(b("p"), InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION),
                p.largestKey());
        assertEquals(3, p.smallestSequence());
        assertEquals(8, p.largestSequence());

        // tombstones inside the point range leave it alone
        p = write("inside.sst", List.of(put("a", 5, "v"), put("z", 6, "v")), List.of(rt("c", "d", 1), rt("e", "y", 9)));
        assertArrayEquals(put("a", 5, "v").key(), p.smallestKey());
        assertArrayEquals(put("z", 6, "v").key(), p.largestKey());
        assertEquals(1, p.smallestSequence());
        assertEquals(9, p.largestSequence());

        // a point entry at the tombstone's end key sorts after the end sentinel
        p = write("atEnd.sst", List.of(put("m", 2, "v")), List.of(rt("b", "m", 4)));
        assertArrayEquals(put("m", 2, "v").key(), p.largestKey());
        // a tombstone starting at the first point's user key, newer: it sorts first
        p = write("atStart.sst", List.of(put("b", 2, "v")), List.of(rt("b", "c", 4)));
        assertArrayEquals(InternalKey.encode(b("b"), 4, InternalKey.TYPE_RANGE_DELETION), p.smallestKey());
        assertArrayEquals(InternalKey.encode(b("c"), InternalKey.MAX_SEQUENCE, InternalKey.TYPE_RANGE_DELETION),
                p.largestKey());
        // ... older: the point sorts first
        p = write("atStartOld.sst", List.of(put("b", 7, "v")), List.of(rt("b", "c", 4)));
        assertArrayEquals(put("b", 7, "v").key(), p.smallestKey());
    }

    private TableProperties write(String name, List<Entry> entries, List<RangeTombstone> ts) throws Exception {
        Path p = dir.resolve(name);
        TableProperties written = TableTestSupport.write(p, TableOptions.DEFAULT, entries, ts, null);
        try (TableReader r = TableTestSupport.open(p)) {
            assertArrayEquals(written.smallestKey(), r.properties().smallestKey());
            assertArrayEquals(written.largestKey(), r.properties().largestKey());
            assertEquals(TableTestSupport.expectedTombstones(ts), r.rangeTombstones());
        }
        return written;
    }

    @Test
    void aTableWithoutTombstonesShouldHaveNoRangeDelBlock() throws Exception {
        Path p = dir.resolve("none.sst");
        TableProperties props = TableTestSupport.write(p, TableOptions.DEFAULT, List.of(put("a", 1, "x")));
        assertEquals(0, props.rangeDeletionBytes());
        assertEquals(0, props.numRangeDeletions());
        assertEquals(List.of("filter", "properties"), metaindexNames(Files.readAllBytes(p)));
        try (TableReader r = TableTestSupport.open(p)) {
            assertTrue(r.rangeTombstones().isEmpty());
        }
        TableTestSupport.write(p, TableOptions.DEFAULT, List.of(put("a", 1, "x")), List.of(rt("a", "b", 2)), null);
        assertEquals(List.of("filter", "properties", "rangedel"), metaindexNames(Files.readAllBytes(p)));
    }

    private static List<String> metaindexNames(byte[] file) {
        long footerOffset = file.length - TableFormat.FOOTER_SIZE;
        TableFormat.BlockHandle meta = new TableFormat.BlockHandle();
        TableFormat.decodeFooter(java.util.Arrays.copyOfRange(file, (int) footerOffset, file.length), "x",
                footerOffset, meta, new TableFormat.BlockHandle());
        Block mb = new Block(java.util.Arrays.copyOfRange(file, (int) meta.offset, (int) (meta.offset + meta.size)),
                (int) meta.size, "x", meta.offset);
        List<String> names = new ArrayList<>();
        BlockIterator it = mb.iterator(false);
        for (it.seekToFirst(); it.isValid(); it.next()) {
            names.add(new String(bytes(it.key()), StandardCharsets.US_ASCII));
        }
        return names;
    }

    @Test
    void pointEntriesShouldKeepTheirOrderRuleWhileTombstonesAreExempt() throws Exception {
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(dir.resolve("o.sst"))) {
            TableBuilder builder = new TableBuilder(f, "o.sst", TableOptions.DEFAULT);
            builder.add(put("m", 5, "v").key(), b("v"));
            builder.add(rt("a", "b", 1).startInternalKey(), b("b")); // before "m": fine, a tombstone
            builder.add(rt("z", "zz", 9).startInternalKey(), b("zz"));
            builder.add(put("n", 5, "v").key(), b("v")); // after "m": fine although after "z"'s tombstone
            assertThrows(IllegalStateException.class, () -> builder.add(put("c", 5, "v").key(), b("v")));
            assertThrows(IllegalArgumentException.class, () -> builder.addRangeTombstone(b("a"), b("b"), -1));
            assertThrows(IllegalArgumentException.class,
                    () -> builder.addRangeTombstone(b("a"), b("b"), InternalKey.MAX_SEQUENCE + 1));
            assertThrows(IllegalArgumentException.class, () -> builder.add(new byte[7], new byte[0]));
            TableProperties p = builder.finish();
            assertEquals(4, p.numEntries());
            assertEquals(2, p.numRangeDeletions());
            assertThrows(IllegalStateException.class, () -> builder.addRangeTombstone(b("a"), b("b"), 1));
        }
    }

    @Test
    void addRangeTombstoneShouldCopyTheCallersArrays() throws Exception {
        Path p = dir.resolve("copy.sst");
        byte[] start = b("a");
        byte[] end = b("c");
        try (FileSystem.WritableFile f = TableTestSupport.FS.newWritableFile(p)) {
            TableBuilder builder = new TableBuilder(f, p.toString(), TableOptions.DEFAULT);
            builder.addRangeTombstone(start, end, 3);
            start[0] = 'x';
            end[0] = 'y';
            UnsafeBuffer kb = new UnsafeBuffer(rt("d", "e", 4).startInternalKey());
            UnsafeBuffer vb = new UnsafeBuffer(b("e"));
            builder.add(kb, 0, kb.capacity(), vb, 0, 1);
            kb.putByte(0, (byte) 'q');
            builder.finish();
        }
        try (TableReader r = TableTestSupport.open(p)) {
            assertEquals(List.of(rt("a", "c", 3), rt("d", "e", 4)), r.rangeTombstones());
        }
    }

    @Test
    void rangeTombstoneShouldCoverItsHalfOpenRangeAndOrderLikeInternalKeys() {
        RangeTombstone t = rt("b", "d", 5);
        assertFalse(t.covers(b("a")));
        assertTrue(t.covers(b("b")));
        assertTrue(t.covers(new byte[] {'c', (byte) 0xff}));
        assertFalse(t.covers(b("d")));
        assertTrue(t.covers(b("xcx"), 1, 1));
        assertFalse(t.covers(b("xdx"), 1, 1));
        assertTrue(t.covers(new UnsafeBuffer(b("xbx")), 1, 2));
        assertFalse(t.covers(new UnsafeBuffer(b("xdx")), 1, 1));
        assertFalse(t.isEmpty());
        assertTrue(rt("b", "b", 1).isEmpty());
        assertTrue(rt("c", "b", 1).isEmpty());
        assertFalse(rt("c", "b", 1).covers(b("c")));

        // ORDER: start ascending, newer first, then end ascending; the same as the internal keys
        List<RangeTombstone> ts = new ArrayList<>(List.of(rt("b", "c", 1), rt("a", "z", 1), rt("b", "c", 9),
                rt("b", "bb", 9), rt("", "a", 3)));
        ts.sort(RangeTombstone.ORDER);
        assertEquals(List.of(rt("", "a", 3), rt("a", "z", 1), rt("b", "bb", 9), rt("b", "c", 9), rt("b", "c", 1)), ts);
        for (int i = 0; i + 1 < ts.size(); i++) {
            assertTrue(InternalKey.compare(ts.get(i).startInternalKey(), ts.get(i + 1).startInternalKey()) <= 0);
        }
        assertEquals(rt("b", "c", 9), rt("b", "c", 9));
        assertEquals(rt("b", "c", 9).hashCode(), rt("b", "c", 9).hashCode());
        assertNotEquals(rt("b", "c", 9), rt("b", "c", 8));

        // the end sentinel sorts after every covered entry and before every entry of the end key
        byte[] sentinel = t.endSentinelKey();
        byte[] lastCovered = InternalKey.encode(new byte[] {'c', (byte) 0xff, (byte) 0xff}, 0, InternalKey.TYPE_DELETION);
        assertTrue(InternalKey.compare(lastCovered, sentinel) < 0);
        assertTrue(InternalKey.compare(sentinel, InternalKey.encode(b("d"), InternalKey.MAX_SEQUENCE - 1,
                InternalKey.TYPE_VALUE)) < 0);
        assertTrue(InternalKey.compare(sentinel, InternalKey.encode(b("d"), InternalKey.MAX_SEQUENCE,
                InternalKey.TYPE_VALUE)) < 0);
    }
}
