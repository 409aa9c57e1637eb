package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DB#dropColumnFamily}: "Iterators and snapshots already open keep seeing it" — including the
 * values of a family with a merge operator, whose operands an iterator combines as it reads.
 * (Found by {@link ColumnFamilyModelTest}: dropping a family removes its operator from the DB's
 * dispatching merge operator, which iterators opened before the drop still use.)
 */
class ColumnFamilyDropIteratorTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<ColumnFamilyDescriptor> counters() {
        return List.of(new ColumnFamilyDescriptor("counters",
                ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())));
    }

    @Test
    void shouldMergeADroppedFamilysOperandsInAnIteratorOpenedBeforeTheDrop() {
        try (DB db = DB.open(dir, Options.defaults(), counters())) {
            ColumnFamilyHandle c = db.columnFamily("counters");
            db.put(c, b("a"), MergeOperators.int64(1));
            db.merge(c, b("a"), MergeOperators.int64(5));
            db.merge(c, b("b"), MergeOperators.int64(7));
            try (DBIterator it = db.iterator(c)) {
                db.dropColumnFamily(c);
                it.seekToFirst(); // threw O3Exception: "column family 1 has merge operands but no merge operator"
                assertTrue(it.isValid());
                assertArrayEquals(b("a"), it.key());
                assertEquals(6, MergeOperators.int64(it.value()));
                it.next();
                assertArrayEquals(b("b"), it.key());
                assertEquals(7, MergeOperators.int64(it.value()));
                it.next();
                assertFalse(it.isValid());
                it.seekToLast();
                assertEquals(7, MergeOperators.int64(it.value()));
                it.prev();
                assertEquals(6, MergeOperators.int64(it.value()));
            }
        }
    }

    @Test
    void shouldMergeADroppedFamilysOperandsFromFilesInAnIteratorOpenedBeforeTheDrop() {
        try (DB db = DB.open(dir, Options.defaults(), counters())) {
            ColumnFamilyHandle c = db.columnFamily("counters");
            for (int i = 0; i < 3; i++) {
                db.merge(c, b("n"), MergeOperators.int64(10));
                db.flush();
            }
            try (DBIterator it = db.iterator(c)) {
                db.dropColumnFamily(c);
                db.flush();
                it.seekToLast();
                assertTrue(it.isValid());
                assertEquals(30, MergeOperators.int64(it.value()));
            }
        }
    }
}
