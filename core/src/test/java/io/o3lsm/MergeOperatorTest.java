package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.spi.CompactionExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merge operators through the engine: reads (get, multiGet, iterators both ways) combine operands
 * with the value below them in every source; flushes and compactions combine them without changing
 * what any reader or snapshot sees; deletions and range deletions end an operand's reach; a DB
 * without an operator refuses merges and names the key it cannot read; jobs carry the operator's
 * name and find it by name.
 */
class MergeOperatorTest {
    @TempDir
    Path dir;

    private static Options tiny(MergeOperator op) {
        return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .blockSize(256).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2).mergeOperator(op);
    }

    private static byte[] k(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void checkCounters(DB db, long[] expected, String when) {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            keys.add(k("counter-" + i));
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], MergeOperators.int64(db.get(keys.get(i))), "get counter " + i + " " + when);
            assertEquals(expected[i], MergeOperators.int64(got.get(i)), "multiGet counter " + i + " " + when);
        }
        try (DBIterator it = db.iterator()) {
            int i = 0;
            for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                assertArrayEquals(keys.get(i), it.key(), when);
                assertEquals(expected[i], MergeOperators.int64(it.value()), "forward counter " + i + " " + when);
            }
            assertEquals(expected.length, i, when);
            i = expected.length - 1;
            for (it.seekToLast(); it.isValid(); it.prev(), i--) {
                assertArrayEquals(keys.get(i), it.key(), when);
                assertEquals(expected[i], MergeOperators.int64(it.value()), "backward counter " + i + " " + when);
            }
            assertEquals(-1, i, when);
        }
    }

    @Test
    void shouldAddCountersAcrossFlushesCompactionsAndReopen() {
        int n = 10;
        long[] expected = new long[n];
        Random rnd = new Random(7);
        Path d = dir.resolve("db");
        try (DB db = DB.open(d, tiny(MergeOperators.int64Add()))) {
            for (int i = 0; i < 6000; i++) {
                int c = rnd.nextInt(n);
                long delta = rnd.nextInt(100) - 20;
                db.merge(k("counter-" + c), MergeOperators.int64(delta));
                expected[c] += delta;
                if (i % 1500 == 1499) {
                    checkCounters(db, expected, "after " + (i + 1) + " merges");
                    db.flush();
                    checkCounters(db, expected, "after a flush at " + (i + 1));
                }
            }
            db.compactRange(null, null);
            checkCounters(db, expected, "after compactRange");
            assertTrue(db.stats().flushes() > 0, "the test must flush");
            String merges = db.property("o3.merges");
            assertTrue(merges.startsWith("operator=o3.int64add mergeGets="), merges);
            assertTrue(!merges.contains(" mergeGets=0 "), merges);
        }
        try (DB db = DB.open(d, tiny(MergeOperators.int64Add()))) {
            checkCounters(db, expected, "after reopen");
        }
    }

    @Test
    void shouldAppendInWriteOrderOverPutsAndThroughEveryJob() {
        MergeOperator op = MergeOperators.stringAppend(",");
        try (DB db = DB.open(dir.resolve("db"), tiny(op))) {
            db.put(k("a"), k("base"));
            db.merge(k("a"), k("1"));
            db.flush(); // base and 1 in one SST: a flush without snapshots keeps their order
            db.merge(k("a"), k("2"));
            try (WriteBatch b = new WriteBatch()) {
                b.merge(k("a"), k("3")).merge(k("b"), k("x")).merge(k("a"), k("4"));
                db.write(b);
            }
            assertEquals("base,1,2,3,4", str(db.get(k("a"))));
            assertEquals("x", str(db.get(k("b"))), "operands over nothing");
            db.flush();
            assertEquals("base,1,2,3,4", str(db.get(k("a"))));
            db.compactRange(null, null);
            assertEquals("base,1,2,3,4", str(db.get(k("a"))));
            assertEquals("x", str(db.get(k("b"))));
            db.put(k("a"), k("new"));
            db.merge(k("a"), k("5"));
            assertEquals("new,5", str(db.get(k("a"))), "a put ends the older operands' reach");
        }
    }

    @Test
    void shouldKeepWhatEachSnapshotSawThroughFlushAndCompaction() {
        MergeOperator op = MergeOperators.stringAppend(",");
        try (DB db = DB.open(dir.resolve("db"), tiny(op))) {
            db.merge(k("key"), k("a"));
            Snapshot s1 = db.snapshot();
            db.merge(k("key"), k("b"));
            db.merge(k("key"), k("c"));
            Snapshot s2 = db.snapshot();
            db.put(k("key"), k("P"));
            db.merge(k("key"), k("d"));
            Snapshot s3 = db.snapshot();
            db.delete(k("key"));
            db.merge(k("key"), k("e"));
            for (String phase : List.of("memtable", "flushed", "compacted")) {
                if (phase.equals("flushed")) {
                    db.flush();
                } else if (phase.equals("compacted")) {
                    db.compactRange(null, null);
                }
                assertEquals("a", str(db.get(ReadOptions.defaults().snapshot(s1), k("key"))), phase);
                assertEquals("a,b,c", str(db.get(ReadOptions.defaults().snapshot(s2), k("key"))), phase);
                assertEquals("P,d", str(db.get(ReadOptions.defaults().snapshot(s3), k("key"))), phase);
                assertEquals("e", str(db.get(k("key"))), phase + ": a deletion ends the operands' reach");
                try (DBIterator it = db.iterator(ReadOptions.defaults().snapshot(s2))) {
                    it.seekToLast();
                    assertEquals("a,b,c", str(it.value()), phase + " backward at s2");
                    it.seek(k("key"));
                    assertEquals("a,b,c", str(it.value()), phase + " forward at s2");
                }
            }
            s1.close();
            s2.close();
            s3.close();
            db.compactRange(null, null);
            assertEquals("e", str(db.get(k("key"))));
        }
    }

    @Test
    void shouldNotCombineOperandsAcrossARangeDeletion() {
        MergeOperator op = MergeOperators.stringAppend(",");
        try (DB db = DB.open(dir.resolve("db"), tiny(op))) {
            db.merge(k("k1"), k("old"));
            db.merge(k("k1"), k("old2"));
            db.deleteRange(k("k0"), k("k2"));
            db.merge(k("k1"), k("new"));
            db.merge(k("k1"), k("new2"));
            assertEquals("new,new2", str(db.get(k("k1"))), "memtable");
            db.flush(); // one flush holds operands on both sides of the tombstone
            assertEquals("new,new2", str(db.get(k("k1"))), "flushed");
            try (DBIterator it = db.iterator()) {
                it.seekToFirst();
                assertEquals("new,new2", str(it.value()));
                it.next();
                assertFalse(it.isValid());
            }
            db.compactRange(null, null);
            assertEquals("new,new2", str(db.get(k("k1"))), "compacted");
            db.deleteRange(k("k0"), k("k2"));
            assertNull(db.get(k("k1")));
            db.merge(k("k1"), k("z"));
            db.flush();
            db.compactRange(null, null);
            assertEquals("z", str(db.get(k("k1"))));
        }
    }

    @Test
    void shouldCombineRunsOfOperandsWithPartialMerges() {
        AtomicInteger partials = new AtomicInteger();
        MergeOperator counting = new MergeOperator() {
            @Override
            public String name() {
                return "test.counting-add";
            }

            @Override
            public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
                return MergeOperators.int64Add().fullMerge(key, existing, operands);
            }

            @Override
            public byte[] partialMerge(byte[] key, List<byte[]> operands) {
                partials.incrementAndGet();
                return MergeOperators.int64Add().partialMerge(key, operands);
            }
        };
        try (DB db = DB.open(dir.resolve("db"), tiny(counting))) {
            db.put(k("c"), MergeOperators.int64(1000));
            db.flush();
            for (int i = 1; i <= 200; i++) {
                db.merge(k("c"), MergeOperators.int64(i));
            }
            db.flush(); // the operands' base is in an older table: a flush can only combine them
            assertTrue(partials.get() > 0, "a flush of 200 operands over an older value combines them");
            assertEquals(1000 + 200 * 201 / 2, MergeOperators.int64(db.get(k("c"))));
            db.compactRange(null, null);
            assertEquals(1000 + 200 * 201 / 2, MergeOperators.int64(db.get(k("c"))));
        }
    }

    @Test
    void shouldRefuseMergesWithoutAnOperatorAndWriteNothing() {
        try (DB db = DB.open(dir.resolve("db"), Options.defaults())) {
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> db.merge(k("a"), k("1")));
            assertTrue(ex.getMessage().contains("Options.mergeOperator"), ex.getMessage());
            try (WriteBatch b = new WriteBatch()) {
                b.put(k("b"), k("2")).merge(k("a"), k("1"));
                assertThrows(IllegalStateException.class, () -> db.write(b));
            }
            assertNull(db.get(k("b")), "the batch was refused whole");
            assertThrows(IllegalArgumentException.class, () -> db.merge(k("a"), null));
        }
    }

    @Test
    void shouldNameTheKeyWhenReopenedWithoutTheOperatorAndKeepOperandsThroughCompaction() {
        Path d = dir.resolve("db");
        try (DB db = DB.open(d, tiny(MergeOperators.int64Add()))) {
            db.put(k("c"), MergeOperators.int64(5));
            db.flush();
            db.merge(k("c"), MergeOperators.int64(2));
            db.merge(k("c"), MergeOperators.int64(3));
            db.put(k("plain"), k("v"));
        }
        try (DB db = DB.open(d, tiny(null))) {
            O3Exception ex = assertThrows(O3Exception.class, () -> db.get(k("c")));
            assertTrue(ex.getMessage().contains("key 63 ") && ex.getMessage().contains("merge operator"), ex.getMessage());
            assertEquals("v", str(db.get(k("plain"))), "other keys read as usual");
            db.flush();
            db.compactRange(null, null); // no operator: the operands and their base are kept as they are
        }
        try (DB db = DB.open(d, tiny(MergeOperators.int64Add()))) {
            assertEquals(10, MergeOperators.int64(db.get(k("c"))));
        }
    }

    @Test
    void shouldFailTheReadNamingTheOperatorWhenItThrows() {
        MergeOperator failing = new MergeOperator() {
            @Override
            public String name() {
                return "test.failing";
            }

            @Override
            public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
                throw new IllegalStateException("bad operand");
            }
        };
        try (DB db = DB.open(dir.resolve("db"), Options.defaults().mergeOperator(failing))) {
            db.merge(k("a"), k("1"));
            db.put(k("b"), k("2"));
            O3Exception ex = assertThrows(O3Exception.class, () -> db.get(k("a")));
            assertTrue(ex.getMessage().contains("test.failing") && ex.getMessage().contains("61"), ex.getMessage());
            assertEquals("2", str(db.get(k("b"))));
            db.put(k("c"), k("3")); // writes go on
        }
    }

    @Test
    void shouldRejectBadOperatorNamesAndFindOperatorsByName() {
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir.resolve("db"),
                Options.defaults().mergeOperator(new MergeOperator() {
                    @Override
                    public String name() {
                        return "has space";
                    }

                    @Override
                    public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
                        return existing;
                    }
                })));
        assertEquals(MergeOperators.INT64_ADD, MergeOperators.byName("o3.int64add", null).name());
        assertEquals("o3.stringappend:-", MergeOperators.byName("o3.stringappend:-", null).name());
        assertEquals(TestServiceOperator.NAME, MergeOperators.byName(TestServiceOperator.NAME, null).name());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> MergeOperators.byName("no.such-op", null));
        assertTrue(ex.getMessage().contains("no.such-op"), ex.getMessage());
        assertArrayEquals(k("x-y"), MergeOperators.stringAppend("-").fullMerge(k("k"), k("x"), List.of(k("y"))));
        assertEquals(O3Exception.class, assertThrows(RuntimeException.class,
                () -> MergeOperators.int64Add().fullMerge(k("k"), k("short"), List.of(MergeOperators.int64(1))))
                .getClass());
    }

    /** An executor standing for a compactor elsewhere: a fresh job that finds the operator by the request's name. */
    @Test
    void shouldSendTheOperatorsNameWithCompactionJobsAndResolveItThere() {
        List<String> names = new ArrayList<>();
        Path d = dir.resolve("db");
        Options o = tiny(TestServiceOperator.INSTANCE).compactionExecutor(req -> {
            synchronized (names) {
                names.add(req.mergeOperator());
            }
            return new io.o3lsm.job.CompactionJob(io.o3lsm.spi.FileSystem.local()).execute(req);
        });
        long expected = 0;
        try (DB db = DB.open(d, o)) {
            for (int i = 0; i < 3000; i++) {
                db.merge(k("key-" + (i % 7)), MergeOperators.int64(i));
                if (i % 7 == 3) {
                    expected += i;
                }
            }
            db.flush();
            db.compactRange(null, null);
            assertEquals(expected, MergeOperators.int64(db.get(k("key-3"))));
        }
        assertFalse(names.isEmpty(), "compactions ran through the executor");
        for (String n : names) {
            assertEquals(TestServiceOperator.NAME, n);
        }
        CompactionExecutor.CompactionRequest req = new CompactionExecutor.CompactionRequest(d, 0, List.of(), 1, true,
                new long[0], new long[] {999}, 1 << 20, 4096, 16, Compression.NONE, 10, null, null, "no.such-op");
        Exception ex = assertThrows(Exception.class,
                () -> new io.o3lsm.job.CompactionJob(io.o3lsm.spi.FileSystem.local()).execute(req));
        assertTrue(ex.getMessage().contains("no.such-op"), ex.getMessage());
    }

    /** Registered in this module's test resources under META-INF/services/io.o3lsm.MergeOperator. */
    public static final class TestServiceOperator extends io.o3lsm.testing.NamedInt64Add {
        static final String NAME = "test.service-add";
        static final TestServiceOperator INSTANCE = new TestServiceOperator();

        public TestServiceOperator() {
            super(NAME);
        }
    }
}
