package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optimistic transactions over column families: own writes per family, save points, conflicts per family. */
class TransactionFamiliesTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private DB open() {
        return DB.open(dir, Options.defaults(), List.of(
                new ColumnFamilyDescriptor("counts", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("names")));
    }

    private static List<String> scan(DBIterator it) {
        List<String> out = new ArrayList<>();
        for (it.seekToFirst(); it.isValid(); it.next()) {
            out.add(s(it.key()));
        }
        return out;
    }

    @Test
    void shouldReadItsOwnWritesPerFamilyAndCommitThemAtomically() {
        try (DB db = open()) {
            ColumnFamilyHandle counts = db.columnFamily("counts");
            ColumnFamilyHandle names = db.columnFamily("names");
            db.put(counts, b("k"), MergeOperators.int64(10));
            db.put(names, b("z"), b("zed"));
            try (Transaction t = db.beginTransaction(WriteOptions.defaults())) {
                t.merge(counts, b("k"), MergeOperators.int64(5));
                t.put(names, b("k"), b("kay"));
                t.put(b("k"), b("default"));
                assertEquals(15, MergeOperators.int64(t.get(ReadOptions.defaults(), counts, b("k"))));
                assertEquals("kay", s(t.get(ReadOptions.defaults(), names, b("k"))));
                assertEquals("default", s(t.get(ReadOptions.defaults(), b("k"))));
                try (DBIterator it = t.iterator(ReadOptions.defaults(), names)) {
                    assertEquals(List.of("k", "z"), scan(it));
                }
                try (DBIterator it = t.iterator(ReadOptions.defaults(), counts)) {
                    assertEquals(List.of("k"), scan(it));
                    it.seekToFirst();
                    assertEquals(15, MergeOperators.int64(it.value()));
                }
                assertThrows(IllegalStateException.class, () -> t.merge(names, b("k"), b("x")), "names has no operator");
                assertNull(db.get(names, b("k")), "nothing is visible before the commit");
                t.commit();
            }
            assertEquals(15, MergeOperators.int64(db.get(counts, b("k"))));
            assertEquals("kay", s(db.get(names, b("k"))));
            assertEquals("default", s(db.get(b("k"))));
        }
    }

    @Test
    void shouldRollBackToASavePointAcrossFamilies() {
        try (DB db = open()) {
            ColumnFamilyHandle counts = db.columnFamily("counts");
            ColumnFamilyHandle names = db.columnFamily("names");
            try (Transaction t = db.beginTransaction(WriteOptions.defaults())) {
                t.put(names, b("a"), b("kept"));
                t.merge(counts, b("a"), MergeOperators.int64(1));
                t.setSavePoint();
                t.put(names, b("b"), b("dropped"));
                t.merge(counts, b("a"), MergeOperators.int64(100));
                t.delete(names, b("a"));
                t.rollbackToSavePoint();
                assertEquals("kept", s(t.get(ReadOptions.defaults(), names, b("a"))));
                assertEquals(2, t.count());
                t.commit();
            }
            assertEquals("kept", s(db.get(names, b("a"))));
            assertNull(db.get(names, b("b")));
            assertEquals(1, MergeOperators.int64(db.get(counts, b("a"))));
            assertNull(db.get(b("a")), "nothing went to the default family");
        }
    }

    @Test
    void shouldConflictOnlyOnTheSameFamilysKey() {
        try (DB db = open()) {
            ColumnFamilyHandle names = db.columnFamily("names");
            ColumnFamilyHandle counts = db.columnFamily("counts");
            try (Transaction t = db.beginTransaction(WriteOptions.defaults())) {
                t.getForUpdate(ReadOptions.defaults(), names, b("k"));
                db.put(b("k"), b("other family, same user key"));
                db.put(counts, b("k"), MergeOperators.int64(1));
                t.put(names, b("k"), b("mine"));
                t.commit(); // no conflict: those writes were to other families
            }
            assertEquals("mine", s(db.get(names, b("k"))));
            try (Transaction t = db.beginTransaction(WriteOptions.defaults())) {
                t.getForUpdate(ReadOptions.defaults(), names, b("k"));
                db.put(names, b("k"), b("theirs"));
                t.put(names, b("k"), b("mine again"));
                TransactionConflictException ex = assertThrows(TransactionConflictException.class, t::commit);
                assertArrayEquals(b("k"), ex.key(), "the user key, without the family prefix");
            }
            assertEquals("theirs", s(db.get(names, b("k"))));
        }
    }

    @Test
    void shouldRefuseAnotherDbsHandle() throws Exception {
        try (DB db = open(); DB plain = DB.open(dir.resolve("plain"), Options.defaults())) {
            try (Transaction t = plain.beginTransaction(WriteOptions.defaults())) {
                assertThrows(IllegalArgumentException.class, () -> t.put(db.columnFamily("names"), b("k"), b("v")));
                t.put(plain.defaultColumnFamily(), b("k"), b("v"));
                assertEquals("v", s(t.get(ReadOptions.defaults(), plain.defaultColumnFamily(), b("k"))));
                t.commit();
            }
            assertEquals("v", s(plain.get(b("k"))));
        }
    }
}
