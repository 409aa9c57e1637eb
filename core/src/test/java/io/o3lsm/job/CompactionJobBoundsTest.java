package io.o3lsm.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sub-compaction bounds: a bounded {@link CompactionJob} writes exactly the part of an unbounded
 * run's output inside {@code [lowerBound, upperBound)}, range tombstones clipped to the bounds.
 */
class CompactionJobBoundsTest {
    @TempDir
    Path dir;

    private final FileSystem fs = FileSystem.local();
    private long nextOutput = 1000;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String key(int i) {
        return String.format("k%03d", i);
    }

    /**
     * Two inputs: table 2 (newer) holds every even key at sequence 200+i and a range tombstone
     * [k040, k070) at 150; table 1 (older) holds every key at sequence 1+i. A snapshot at 100 keeps
     * the older versions readable.
     */
    @BeforeEach
    void writeInputs() throws Exception {
        try (FileSystem.WritableFile f = fs.newWritableFile(dir.resolve(FileNames.table(1)))) {
            TableBuilder t = new TableBuilder(f, "1", TableOptions.DEFAULT);
            for (int i = 0; i < 100; i++) {
                t.add(InternalKey.encode(b(key(i)), 1 + i, InternalKey.TYPE_VALUE), b("old" + i));
            }
            t.finish();
        }
        try (FileSystem.WritableFile f = fs.newWritableFile(dir.resolve(FileNames.table(2)))) {
            TableBuilder t = new TableBuilder(f, "2", TableOptions.DEFAULT);
            for (int i = 0; i < 100; i += 2) {
                t.add(InternalKey.encode(b(key(i)), 200 + i, InternalKey.TYPE_VALUE), b("new" + i));
            }
            t.addRangeTombstone(b(key(40)), b(key(70)), 150);
            t.finish();
        }
    }

    private CompactionResult run(byte[] lower, byte[] upper, long targetFileSize, long[] snapshots) throws Exception {
        List<InputFile> inputs = List.of(new InputFile(0, 2, Files.size(dir.resolve(FileNames.table(2)))),
                new InputFile(0, 1, Files.size(dir.resolve(FileNames.table(1)))));
        long[] numbers = new long[16];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = nextOutput++;
        }
        CompactionRequest req = new CompactionRequest(dir, 1, inputs, 1, false, snapshots, numbers, targetFileSize,
                4096, 16, Compression.NONE, 10, lower, upper);
        return new CompactionJob(fs, true, () -> false).execute(req);
    }

    /** Every point entry of the outputs, in order, as "key@seq=value". */
    private List<String> entries(List<OutputFile> outputs) throws Exception {
        List<String> out = new ArrayList<>();
        for (OutputFile o : outputs) {
            Path p = dir.resolve(FileNames.table(o.number()));
            try (TableReader r = TableReader.open(fs.newReadableFile(p), p.toString(), o.number());
                    InternalIterator it = r.iterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = new byte[it.key().capacity()];
                    it.key().getBytes(0, k);
                    byte[] v = new byte[it.value().capacity()];
                    it.value().getBytes(0, v);
                    out.add(new String(InternalKey.userKey(k), StandardCharsets.UTF_8) + "@"
                            + InternalKey.sequenceOf(InternalKey.trailer(k)) + "=" + new String(v, StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private List<RangeTombstone> tombstones(List<OutputFile> outputs) throws Exception {
        List<RangeTombstone> out = new ArrayList<>();
        for (OutputFile o : outputs) {
            Path p = dir.resolve(FileNames.table(o.number()));
            try (TableReader r = TableReader.open(fs.newReadableFile(p), p.toString(), o.number())) {
                out.addAll(r.rangeTombstones());
            }
        }
        return out;
    }

    @Test
    void shouldWriteOnlyTheEntriesWhoseUserKeyLiesInsideTheBounds() throws Exception {
        CompactionResult r = run(b(key(10)), b(key(30)), 1 << 20, new long[0]);
        List<String> got = entries(r.outputs());
        List<String> want = new ArrayList<>();
        for (int i = 10; i < 30; i++) {
            want.add(key(i) + "@" + (i % 2 == 0 ? 200 + i : 1 + i) + "=" + (i % 2 == 0 ? "new" : "old") + i);
        }
        assertEquals(want, got);
        for (OutputFile o : r.outputs()) {
            assertTrue(Bytes.compare(InternalKey.userKey(o.smallest()), b(key(10))) >= 0);
            assertTrue(Bytes.compare(InternalKey.userKey(o.largest()), b(key(30))) < 0);
        }
        assertTrue(tombstones(r.outputs()).isEmpty(), "the tombstone [k040, k070) lies outside [k010, k030)");
    }

    @Test
    void shouldClipARangeTombstoneThatSpansBothBounds() throws Exception {
        CompactionResult r = run(b(key(50)), b(key(60)), 1 << 20, new long[0]);
        List<RangeTombstone> ts = tombstones(r.outputs());
        assertEquals(1, ts.size());
        assertEquals(key(50), new String(ts.get(0).start, StandardCharsets.UTF_8));
        assertEquals(key(60), new String(ts.get(0).end, StandardCharsets.UTF_8));
        assertEquals(150, ts.get(0).sequence);
        // no snapshot: the old odd keys under the tombstone are gone, the newer even keys stay
        List<String> want = new ArrayList<>();
        for (int i = 50; i < 60; i += 2) {
            want.add(key(i) + "@" + (200 + i) + "=new" + i);
        }
        assertEquals(want, entries(r.outputs()));
        for (OutputFile o : r.outputs()) {
            assertTrue(Bytes.compare(InternalKey.userKey(o.largest()), b(key(60))) <= 0,
                    "an output reaches the upper bound at most as a tombstone's exclusive end");
        }
    }

    @Test
    void shouldWriteWhatOneUnboundedRunWritesWhenThePartsPartitionTheKeySpace() throws Exception {
        long[] snaps = {100};
        List<OutputFile> whole = run(null, null, 512, snaps).outputs();
        byte[][] cuts = {null, b(key(25)), b(key(55)), b("k055x"), b(key(90)), null};
        List<String> parts = new ArrayList<>();
        List<RangeTombstone> partTombs = new ArrayList<>();
        List<OutputFile> all = new ArrayList<>();
        for (int i = 0; i + 1 < cuts.length; i++) {
            List<OutputFile> outs = run(cuts[i], cuts[i + 1], 512, snaps).outputs();
            for (OutputFile o : outs) {
                byte[] small = InternalKey.userKey(o.smallest());
                byte[] large = InternalKey.userKey(o.largest());
                assertTrue(cuts[i] == null || Bytes.compare(small, cuts[i]) >= 0, "smallest inside the bounds");
                assertTrue(cuts[i + 1] == null || Bytes.compare(large, cuts[i + 1]) <= 0, "largest inside the bounds");
            }
            parts.addAll(entries(outs));
            for (RangeTombstone t : tombstones(outs)) {
                assertTrue(cuts[i] == null || Bytes.compare(t.start, cuts[i]) >= 0, "tombstone clipped below");
                assertTrue(cuts[i + 1] == null || Bytes.compare(t.end, cuts[i + 1]) <= 0, "tombstone clipped above");
                partTombs.add(t);
            }
            all.addAll(outs);
        }
        assertEquals(entries(whole), parts, "the same point entries, in the same order");
        assertTrue(parts.contains(key(41) + "@42=old41"), "the snapshot at 100 keeps the covered old version");
        RangeTombstoneSet a = RangeTombstoneSet.build(tombstones(whole), InternalKey.MAX_SEQUENCE);
        RangeTombstoneSet c = RangeTombstoneSet.build(partTombs, InternalKey.MAX_SEQUENCE);
        for (int i = 0; i < 100; i++) {
            for (String k : new String[] {key(i), key(i) + "x"}) {
                byte[] kb = b(k);
                assertEquals(a.maxCovering(kb, 0, kb.length), c.maxCovering(kb, 0, kb.length), "coverage of " + k);
            }
        }
        // the outputs of different sub-ranges do not overlap
        all.sort((x, y) -> Bytes.compare(InternalKey.userKey(x.smallest()), InternalKey.userKey(y.smallest())));
        for (int i = 1; i < all.size(); i++) {
            byte[] prevLarge = InternalKey.userKey(all.get(i - 1).largest());
            byte[] small = InternalKey.userKey(all.get(i).smallest());
            int cmp = Bytes.compare(prevLarge, small);
            boolean exclusiveEnd = io.o3lsm.internal.version.FileMetaData.of(all.get(i - 1)).largestIsExclusive();
            assertTrue(cmp < 0 || cmp == 0 && exclusiveEnd, "outputs " + all.get(i - 1).number() + " and "
                    + all.get(i).number() + " overlap");
        }
    }

    @Test
    void shouldWriteNothingForAnEmptySubRange() throws Exception {
        CompactionResult r = run(b("a"), b("b"), 1 << 20, new long[0]);
        assertTrue(r.outputs().isEmpty());
        assertFalse(Files.exists(dir.resolve(FileNames.table(1000))));
    }

    @Test
    void shouldRejectALowerBoundNotBelowTheUpperBound() {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> run(b(key(30)), b(key(30)), 1 << 20, new long[0]));
        assertTrue(x.getMessage().contains("lowerBound"), x.getMessage());
    }

    @Test
    void shouldClipATombstoneToTheOneBoundGiven() {
        RangeTombstone t = new RangeTombstone(b("c"), b("m"), 7);
        RangeTombstone lo = CompactionJob.clip(t, b("f"), null);
        assertEquals("f", new String(lo.start, StandardCharsets.UTF_8));
        assertEquals("m", new String(lo.end, StandardCharsets.UTF_8));
        RangeTombstone hi = CompactionJob.clip(t, null, b("e"));
        assertEquals("c", new String(hi.start, StandardCharsets.UTF_8));
        assertEquals("e", new String(hi.end, StandardCharsets.UTF_8));
        assertEquals(null, CompactionJob.clip(t, b("m"), null), "a tombstone ending at the lower bound is outside");
        assertEquals(t, CompactionJob.clip(t, null, null));
    }
}
