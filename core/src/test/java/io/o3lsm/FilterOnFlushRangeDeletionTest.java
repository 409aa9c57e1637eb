package io.o3lsm;

import static io.o3lsm.CompactionFilterTest.k;
import static io.o3lsm.CompactionFilterTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A filter is never shown a value a range deletion covers: a flush keeps such values (its range
 * tombstones travel with them and hide them), so with compactionFilterOnFlush the job must not hand
 * them — or a full merge of covered operands — to the filter.
 */
class FilterOnFlushRangeDeletionTest {
    @TempDir
    Path dir;

    static final class Recording implements CompactionFilter {
        final List<String> seen = new ArrayList<>();

        @Override
        public String name() {
            return "review.recording";
        }

        @Override
        public synchronized Decision filter(Context ctx, byte[] key, byte[] value) {
            seen.add(str(key) + "=" + str(value));
            return CompactionFilter.keep();
        }
    }

    @Test
    void shouldNotShowTheFilterValuesARangeDeletionCoversInAFlush() {
        Recording f = new Recording();
        try (DB db = DB.open(dir.resolve("db"), Options.defaults().compactionFilter(f).compactionFilterOnFlush(true)
                .mergeOperator(MergeOperators.stringAppend(",")))) {
            db.put(k("a"), k("1"));
            db.merge(k("m"), k("x"));
            db.merge(k("m"), k("y"));
            db.deleteRange(k("a"), k("z"));
            db.put(k("b"), k("2")); // above the range deletion: shown
            db.flush();
            assertNull(db.get(k("a")));
            assertNull(db.get(k("m")));
            assertEquals("2", str(db.get(k("b"))));
            assertEquals(List.of("b=2"), f.seen, "the filter saw range-deleted entries");
        }
    }
}
