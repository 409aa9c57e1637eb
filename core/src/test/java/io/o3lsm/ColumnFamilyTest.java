package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.internal.db.DBImpl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Column families: key spaces, per-family functions, the registry across reopen, drop, and misuse. */
class ColumnFamilyTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static Options small() {
        return Options.defaults().writeBufferSize(1 << 20).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .blockSize(512).level0CompactionTrigger(2).maxBytesForLevelBase(1 << 20);
    }

    private static List<String> keys(DBIterator it) {
        List<String> out = new ArrayList<>();
        for (it.seekToFirst(); it.isValid(); it.next()) {
            out.add(s(it.key()) + "=" + s(it.value()));
        }
        return out;
    }

    @Test
    void shouldKeepEachFamilysKeysApartAndIterateOneFamilyOnly() {
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a"), new ColumnFamilyDescriptor("b")))) {
            ColumnFamilyHandle a = db.columnFamily("a");
            ColumnFamilyHandle bb = db.columnFamily("b");
            assertEquals(List.of("default", "a", "b"), db.listColumnFamilies());
            db.put(b("k"), b("default"));
            db.put(a, b("k"), b("in-a"));
            db.put(bb, b("k"), b("in-b"));
            db.put(bb, b("k2"), b("in-b2"));
            assertEquals("default", s(db.get(b("k"))));
            assertEquals("in-a", s(db.get(a, b("k"))));
            assertEquals("in-b", s(db.get(bb, b("k"))));
            assertNull(db.get(a, b("k2")));
            try (DBIterator it = db.iterator(ReadOptions.defaults(), bb)) {
                assertEquals(List.of("k=in-b", "k2=in-b2"), keys(it));
                it.seekToLast();
                assertEquals("k2", s(it.key()));
                it.seekForPrev(b("k1"));
                assertEquals("k", s(it.key()));
            }
            try (DBIterator it = db.iterator()) {
                assertEquals(List.of("k=default"), keys(it));
            }
            db.delete(a, b("k"));
            assertNull(db.get(a, b("k")));
            assertEquals("in-b", s(db.get(bb, b("k"))));
            List<byte[]> got = db.multiGet(ReadOptions.defaults(), List.of(db.defaultColumnFamily(), a, bb),
                    List.of(b("k"), b("k"), b("k2")));
            assertEquals(Arrays.asList("default", null, "in-b2"), got.stream().map(ColumnFamilyTest::s).toList());
        }
    }

    @Test
    void shouldApplyABatchAtomicallyAcrossFamiliesAndKeepFamiliesAcrossReopen() {
        List<ColumnFamilyDescriptor> cfs = List.of(new ColumnFamilyDescriptor("index"),
                new ColumnFamilyDescriptor("records"));
        try (DB db = DB.open(dir, small(), cfs)) {
            ColumnFamilyHandle index = db.columnFamily("index");
            ColumnFamilyHandle records = db.columnFamily("records");
            for (int i = 0; i < 2000; i++) {
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(records, b("r" + i), b("record " + i)).put(index, b("i" + (i % 97) + "/" + i),
                            b("r" + i));
                    db.write(batch);
                }
            }
            db.deleteRange(records, b("r1"), b("r2"));
            db.flush();
            db.compactRange(records, null, null);
        }
        try (DB db = DB.open(dir, small(), cfs)) {
            assertEquals(List.of("default", "index", "records"), db.listColumnFamilies());
            ColumnFamilyHandle index = db.columnFamily("index");
            ColumnFamilyHandle records = db.columnFamily("records");
            assertEquals("record 0", s(db.get(records, b("r0"))));
            assertNull(db.get(records, b("r1500")));
            assertEquals("record 250", s(db.get(records, b("r250"))));
            assertEquals("r5", s(db.get(index, b("i5/5"))));
            int n = 0;
            try (DBIterator it = db.iterator(index)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    assertTrue(s(it.key()).startsWith("i"), s(it.key()));
                    n++;
                }
            }
            assertEquals(2000, n);
            try (DBIterator it = db.iterator()) {
                it.seekToFirst();
                assertFalse(it.isValid(), "the default family holds nothing");
            }
        }
    }

    @Test
    void shouldRefuseAnOpenThatDoesNotNameEveryFamily() {
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a")))) {
            db.createColumnFamily("later", ColumnFamilyOptions.defaults());
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> DB.open(dir, small()));
        assertTrue(ex.getMessage().contains("[a, later]"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a"), new ColumnFamilyDescriptor("later"),
                        new ColumnFamilyDescriptor("new"))));
        assertTrue(ex.getMessage().contains("createMissingColumnFamilies"), ex.getMessage());
        try (DB db = DB.open(dir, small().createMissingColumnFamilies(true), List.of(new ColumnFamilyDescriptor("a"),
                new ColumnFamilyDescriptor("later"), new ColumnFamilyDescriptor("new")))) {
            assertEquals(List.of("default", "a", "later", "new"), db.listColumnFamilies());
            assertEquals(3, db.columnFamily("new").id());
        }
    }

    @Test
    void shouldDropAFamilyWithoutTouchingOthersAndNeverReuseItsId() {
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a"), new ColumnFamilyDescriptor("b")))) {
            ColumnFamilyHandle a = db.columnFamily("a");
            ColumnFamilyHandle bb = db.columnFamily("b");
            for (int i = 0; i < 500; i++) {
                db.put(a, b("k" + i), b("a" + i));
                db.put(bb, b("k" + i), b("b" + i));
            }
            db.flush();
            Snapshot snap = db.snapshot();
            db.dropColumnFamily(a);
            assertThrows(IllegalArgumentException.class, () -> db.get(a, b("k1")));
            assertThrows(IllegalArgumentException.class, () -> db.put(a, b("k1"), b("x")));
            assertNull(db.columnFamily("a"));
            assertEquals(List.of("default", "b"), db.listColumnFamilies());
            assertEquals("b7", s(db.get(bb, b("k7"))));
            ColumnFamilyHandle again = db.createColumnFamily("a", ColumnFamilyOptions.defaults());
            assertEquals(3, again.id(), "a dropped family's id is never given again");
            assertNull(db.get(again, b("k1")), "the new family named a is empty");
            snap.close();
            db.compactRange(null, null);
            assertThrows(IllegalArgumentException.class, () -> db.dropColumnFamily(db.defaultColumnFamily()));
        }
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("b"), new ColumnFamilyDescriptor("a")))) {
            assertEquals(3, db.columnFamily("a").id());
            assertNull(db.get(db.columnFamily("a"), b("k1")));
            assertEquals("b499", s(db.get(db.columnFamily("b"), b("k499"))));
        }
    }

    @Test
    void shouldCombineEachFamilysOperandsWithItsOwnOperator() {
        ColumnFamilyOptions counters = ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add());
        ColumnFamilyOptions logs = ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.stringAppend(":"));
        List<ColumnFamilyDescriptor> cfs = List.of(new ColumnFamilyDescriptor("counters", counters),
                new ColumnFamilyDescriptor("logs", logs));
        try (DB db = DB.open(dir, small(), cfs)) {
            ColumnFamilyHandle c = db.columnFamily("counters");
            ColumnFamilyHandle l = db.columnFamily("logs");
            for (int i = 0; i < 3000; i++) {
                db.merge(c, b("n" + (i % 10)), MergeOperators.int64(1));
                db.merge(l, b("l" + (i % 10)), b("e" + (i / 10)));
            }
            assertThrows(IllegalStateException.class, () -> db.merge(b("x"), b("y")), "default has no operator");
            assertEquals(300, MergeOperators.int64(db.get(c, b("n3"))));
            db.flush();
            db.compactRange(c, null, null);
            db.compactRange(l, null, null);
            assertEquals(300, MergeOperators.int64(db.get(c, b("n3"))));
            String log = s(db.get(l, b("l4")));
            assertTrue(log.startsWith("e0:e1:e2:"), log);
            assertEquals(300, log.split(":").length);
        }
        try (DB db = DB.open(dir, small(), cfs)) {
            assertEquals(300, MergeOperators.int64(db.get(db.columnFamily("counters"), b("n9"))));
            try (DBIterator it = db.iterator(db.columnFamily("counters"))) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    assertEquals(300, MergeOperators.int64(it.value()));
                    n++;
                }
                assertEquals(10, n);
            }
        }
    }

    @Test
    void shouldExpireValuesOfATtlFamilyOnly() {
        AtomicLong now = new AtomicLong(1_000_000);
        List<ColumnFamilyDescriptor> cfs = List.of(new ColumnFamilyDescriptor("sessions",
                ColumnFamilyOptions.defaults().ttl(Duration.ofSeconds(10))));
        try (DB db = DB.open(dir, small().clock(now::get), cfs)) {
            ColumnFamilyHandle sess = db.columnFamily("sessions");
            db.put(sess, b("s1"), b("alive"));
            db.put(b("d1"), b("forever"));
            assertEquals("alive", s(db.get(sess, b("s1"))));
            now.addAndGet(11_000);
            assertNull(db.get(sess, b("s1")));
            try (DBIterator it = db.iterator(sess)) {
                assertEquals(List.of(), keys(it));
            }
            assertEquals("forever", s(db.get(b("d1"))));
            db.put(sess, b("s2"), b("new"));
            db.flush();
            db.compactRange(sess, null, null);
            assertEquals("new", s(db.get(sess, b("s2"))));
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("sessions"))));
        assertTrue(ex.getMessage().contains("ttl"), ex.getMessage());
    }

    @Test
    void shouldListTheFamiliesOfADbWithoutOpeningIt() {
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a"), new ColumnFamilyDescriptor("b")))) {
            db.dropColumnFamily(db.columnFamily("a"));
            db.createColumnFamily("c", ColumnFamilyOptions.defaults());
            assertEquals(List.of("default", "b", "c"), DB.listColumnFamilies(dir, small()), "while it is open");
        }
        assertEquals(List.of("default", "b", "c"), DB.listColumnFamilies(dir, small()));
        try (DB plain = DB.open(dir.resolve("plain"), small())) {
            assertEquals(List.of("default"), DB.listColumnFamilies(dir.resolve("plain"), small()));
        }
        assertThrows(O3Exception.class, () -> DB.listColumnFamilies(dir.resolve("nothing"), small()));
        try (DB db = DB.open(dir.resolve("uri").toUri(), small(), List.of(new ColumnFamilyDescriptor("u")))) {
            db.put(db.columnFamily("u"), b("k"), b("v"));
            assertEquals("v", s(db.get(db.columnFamily("u"), b("k"))));
        }
    }

    @Test
    void readingTheFamiliesWithoutOpeningTriesAgainWhenTheManifestVanishesMidRead() {
        List<ColumnFamilyDescriptor> families = List.of(new ColumnFamilyDescriptor("a"),
                new ColumnFamilyDescriptor("t", ColumnFamilyOptions.defaults().ttl(Duration.ofHours(1))));
        try (DB db = DB.open(dir, small(), families)) {
            db.put(db.columnFamily("a"), b("k"), b("v"));
        }
        // what a DB reopening elsewhere does to a reader: CURRENT read, then the MANIFEST it named deleted
        java.util.concurrent.atomic.AtomicInteger vanished = new java.util.concurrent.atomic.AtomicInteger();
        io.o3lsm.spi.FileSystem racing = new ForwardingFileSystem() {
            @Override
            public ReadableFile newReadableFile(Path path) throws java.io.IOException {
                if (path.getFileName().toString().startsWith("MANIFEST") && vanished.getAndIncrement() % 2 == 0) {
                    throw new java.nio.file.NoSuchFileException(path.toString());
                }
                return super.newReadableFile(path);
            }
        };
        Options reader = small().fileSystem(racing);
        assertEquals(List.of("default", "a", "t"), DB.listColumnFamilies(dir, reader));
        assertEquals(java.util.Set.of("t"), DBImpl.ttlColumnFamilies(dir, reader));
        assertEquals(4, vanished.get(), "each read found the MANIFEST gone once, then read it");
        // a directory without a DB is no race: refused at once, not tried again
        int before = vanished.get();
        O3Exception none = assertThrows(O3Exception.class, () -> DB.listColumnFamilies(dir.resolve("nothing"), reader));
        assertTrue(none.getMessage().contains("no database"), none.getMessage());
        assertEquals(before, vanished.get());
    }

    @Test
    void shouldRefuseFamiliesInADbCreatedWithoutThem() {
        try (DB db = DB.open(dir, small())) {
            db.put(b("k"), b("v"));
            assertEquals(List.of("default"), db.listColumnFamilies());
            ColumnFamilyHandle d = db.defaultColumnFamily();
            db.put(d, b("k2"), b("v2"));
            assertEquals("v2", s(db.get(d, b("k2"))));
            assertEquals("v", s(db.get(b("k"))));
            IllegalStateException ex = assertThrows(IllegalStateException.class,
                    () -> db.createColumnFamily("x", ColumnFamilyOptions.defaults()));
            assertTrue(ex.getMessage().contains("without column families"), ex.getMessage());
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("x"))));
        assertTrue(ex.getMessage().contains("without column families"), ex.getMessage());
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("default")))) {
            assertEquals("v2", s(db.get(db.defaultColumnFamily(), b("k2"))));
        }
    }

    @Test
    void shouldRefuseHandlesOfAnotherDbAndMisuse() {
        try (DB one = DB.open(dir.resolve("one"), small(), List.of(new ColumnFamilyDescriptor("a")));
                DB two = DB.open(dir.resolve("two"), small(), List.of(new ColumnFamilyDescriptor("a")))) {
            ColumnFamilyHandle a2 = two.columnFamily("a");
            assertThrows(IllegalArgumentException.class, () -> one.get(a2, b("k")));
            assertThrows(IllegalArgumentException.class, () -> one.put(a2, b("k"), b("v")));
            assertThrows(IllegalArgumentException.class, () -> one.put((ColumnFamilyHandle) null, b("k"), b("v")));
            assertThrows(IllegalArgumentException.class, () -> one.createColumnFamily("a", ColumnFamilyOptions.defaults()));
            assertThrows(IllegalArgumentException.class, () -> one.createColumnFamily("", ColumnFamilyOptions.defaults()));
            assertThrows(IllegalArgumentException.class, () -> new ColumnFamilyDescriptor("x\n"));
            assertThrows(IllegalArgumentException.class,
                    () -> ColumnFamilyOptions.defaults().ttl(Duration.ofSeconds(1)).mergeOperator(MergeOperators.int64Add())
                            .validate());
            byte[] longest = new byte[DB.MAX_KEY_SIZE - 1];
            one.put(one.columnFamily("a"), longest, b("v"));
            assertNotNull(one.get(one.columnFamily("a"), longest));
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> one.put(one.columnFamily("a"), new byte[DB.MAX_KEY_SIZE], b("v")));
            assertTrue(ex.getMessage().contains("column family"), ex.getMessage());
            assertArrayEquals(b("v"), one.get(one.columnFamily("a"), longest));
        }
    }

    /** A filter whose name is long: the table of the families' filters grows by about its length per family. */
    private static CompactionFilter longNamed(int i) {
        String name = "test.filter-" + i + "-" + "x".repeat(180);
        return new CompactionFilter() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Decision filter(Context ctx, byte[] key, byte[] value) {
                return CompactionFilter.keep();
            }
        };
    }

    @Test
    void shouldRefuseAFamilyWhoseFunctionsWouldNotFitInAJob() {
        int created = 0;
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("a")))) {
            IllegalArgumentException refused = null;
            for (int i = 0; i < 200 && refused == null; i++) {
                try {
                    db.createColumnFamily("f" + i, ColumnFamilyOptions.defaults().compactionFilter(longNamed(i)));
                    created++;
                } catch (IllegalArgumentException ex) {
                    refused = ex;
                }
            }
            assertNotNull(refused, "a table of 200 long filter names exceeds what a job carries");
            assertTrue(refused.getMessage().contains("16384"), refused.getMessage());
            assertNull(db.columnFamily("f" + created), "the refused family was not created");
            ColumnFamilyHandle last = db.columnFamily("f" + (created - 1));
            for (int round = 0; round < 3; round++) { // compactions still run with every family created
                for (int i = 0; i < 200; i++) {
                    db.put(last, b("k" + i), b("v" + round));
                }
                db.flush();
            }
            db.compactRange(last, null, null);
            assertEquals("v2", s(db.get(last, b("k7"))));
        }
        List<ColumnFamilyDescriptor> all = new ArrayList<>();
        all.add(new ColumnFamilyDescriptor("a"));
        for (int i = 0; i < created; i++) {
            all.add(new ColumnFamilyDescriptor("f" + i, ColumnFamilyOptions.defaults().compactionFilter(longNamed(i))));
        }
        try (DB db = DB.open(dir, small(), all)) {
            assertEquals(created + 2, db.listColumnFamilies().size());
        }
        List<ColumnFamilyDescriptor> more = new ArrayList<>(all);
        more.add(new ColumnFamilyDescriptor("f" + created, ColumnFamilyOptions.defaults()
                .compactionFilter(longNamed(created))));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir, small().createMissingColumnFamilies(true), more));
        assertTrue(ex.getMessage().contains("16384"), ex.getMessage());
    }

    @Test
    void shouldKeepAnOpenIteratorOfADroppedMergeFamilyWorking() {
        try (DB db = DB.open(dir, small(), List.of(new ColumnFamilyDescriptor("c",
                ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add()))))) {
            ColumnFamilyHandle c = db.columnFamily("c");
            for (int i = 0; i < 10; i++) {
                db.merge(c, b("k" + i), MergeOperators.int64(1));
                db.merge(c, b("k" + i), MergeOperators.int64(2));
            }
            try (DBIterator it = db.iterator(ReadOptions.defaults(), c)) {
                it.seekToFirst();
                db.dropColumnFamily(c);
                int n = 0;
                for (; it.isValid(); it.next()) {
                    assertEquals(3, MergeOperators.int64(it.value()));
                    n++;
                }
                assertEquals(10, n);
            }
            db.flush(); // the flush meets the dropped family's operands and still combines them
            db.compactRange(c, null, null); // a dropped family's handle: its space back now
            assertTrue(db.property("o3.sstables").lines().noneMatch(l -> l.matches(" \\d+: .*")),
                    "no table left: " + db.property("o3.sstables"));
        }
    }

    @Test
    void shouldRefuseMalformedOrReservedFunctionNames() {
        for (String bad : new String[] {"o3.cf:0.2147483647.x", "o3.cf:0.99999999999.x", "o3.cf:0.1.", "o3.cf:x"}) {
            assertThrows(IllegalArgumentException.class, () -> MergeOperators.checkJobName(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> CompactionFilters.checkName(bad), bad);
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> MergeOperators.checkName("o3.cf:mine", "merge operator"));
        assertTrue(ex.getMessage().contains("reserved"), ex.getMessage());
    }

    @Test
    void shouldFlushAFamilyThatReachesItsOwnWriteBuffer() throws Exception {
        try (DB db = DB.open(dir, Options.defaults(), List.of(
                new ColumnFamilyDescriptor("small", ColumnFamilyOptions.defaults().writeBufferSize(64 << 10)),
                new ColumnFamilyDescriptor("big")))) {
            byte[] value = new byte[1000];
            ColumnFamilyHandle big = db.columnFamily("big");
            for (int i = 0; i < 1000; i++) { // 1 MB: far below the DB's 64 MiB write buffer
                db.put(big, b("k" + i), value);
            }
            ((io.o3lsm.internal.db.DBImpl) db).waitForFlushes();
            assertEquals(0, db.stats().flushes(), "a family without a write buffer of its own: no flush");
            ColumnFamilyHandle small = db.columnFamily("small");
            for (int i = 0; i < 1000; i++) { // 1 MB into a family with 64 KiB of its own
                db.put(small, b("k" + i), value);
            }
            ((io.o3lsm.internal.db.DBImpl) db).waitForFlushes();
            long flushes = db.stats().flushes();
            assertTrue(flushes >= 3, "the small family's shards were sealed and flushed about every 64 KiB: "
                    + flushes + " flushes\n" + db.property("o3.stats"));
            assertEquals(1000, db.get(small, b("k999")).length);
            assertEquals(1000, db.get(big, b("k999")).length);
        }
        assertThrows(IllegalArgumentException.class,
                () -> ColumnFamilyOptions.defaults().writeBufferSize(1000).validate());
    }
}
