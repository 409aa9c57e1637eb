package io.o3lsm;

import static io.o3lsm.CompactionFilterTest.k;
import static io.o3lsm.CompactionFilterTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Options#ttl} on a fake clock: values visible until their stamp plus the TTL is before now,
 * then hidden from every read (snapshot reads included); compactions drop them from the files;
 * the TTL file makes opening with TTL on or off as the DB was written a requirement.
 */
class TtlTest {
    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    private Options ttl(Duration d) {
        return Options.defaults().ttl(d).clock(clock::get);
    }

    private static List<String> scan(DB db, boolean forward) {
        List<String> out = new ArrayList<>();
        try (DBIterator it = db.iterator()) {
            if (forward) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    out.add(str(it.key()) + "=" + str(it.value()));
                }
            } else {
                for (it.seekToLast(); it.isValid(); it.prev()) {
                    out.add(0, str(it.key()) + "=" + str(it.value()));
                }
            }
        }
        return out;
    }

    @Test
    void shouldHideExpiredValuesFromEveryRead() {
        try (DB db = DB.open(dir.resolve("db"), ttl(Duration.ofSeconds(10)))) {
            db.put(k("a"), k("1"));
            try (WriteBatch b = new WriteBatch()) {
                db.write(b.put(k("c"), k("3")));
            }
            clock.addAndGet(5_000);
            db.put(k("b"), k("2"));
            Snapshot s = db.snapshot();
            clock.addAndGet(5_000); // a and c exactly at their TTL: still visible
            assertEquals("1", str(db.get(k("a"))));
            assertEquals(List.of("a=1", "b=2", "c=3"), scan(db, true));
            clock.addAndGet(1);
            assertNull(db.get(k("a")));
            assertEquals("2", str(db.get(k("b"))));
            assertEquals(java.util.Arrays.asList(null, "2", null),
                    db.multiGet(ReadOptions.defaults(), List.of(k("a"), k("b"), k("c"))).stream()
                            .map(CompactionFilterTest::str).toList());
            ByteBuffer dst = ByteBuffer.allocate(16);
            assertEquals(-1, db.get(ByteBuffer.wrap(k("a")), dst));
            assertEquals(1, db.get(ByteBuffer.wrap(k("b")), dst));
            assertEquals(List.of("b=2"), scan(db, true));
            assertEquals(List.of("b=2"), scan(db, false));
            try (DBIterator it = db.iterator()) {
                it.seek(k("a"));
                assertEquals("b", str(it.key()));
                assertEquals(1, it.valueBuffer().remaining());
                it.seekForPrev(k("c"));
                assertEquals("b", str(it.key()));
                it.next();
                assertFalse(it.isValid());
            }
            assertNull(db.get(ReadOptions.defaults().snapshot(s), k("a")), "snapshots too hide by the current time");
            s.close();
            clock.addAndGet(5_000);
            assertEquals(List.of(), scan(db, true));
            db.put(k("a"), k("again"));
            assertEquals("again", str(db.get(k("a"))), "a write after expiry is visible");
        }
    }

    @Test
    void shouldDropExpiredValuesInCompactions() {
        Path d = dir.resolve("db");
        try (DB db = DB.open(d, ttl(Duration.ofSeconds(10)))) {
            for (int i = 0; i < 100; i++) {
                db.put(k("old-" + i), k("v" + i));
            }
            db.flush();
            clock.addAndGet(20_000);
            db.put(k("new"), k("n"));
            db.compactRange(null, null);
            assertEquals(List.of("new=n"), scan(db, true));
        }
        // a huge TTL would show what the files still hold
        try (DB db = DB.open(d, ttl(Duration.ofDays(36500)))) {
            assertEquals(List.of("new=n"), scan(db, true), "expired values are gone from the files");
        }
    }

    @Test
    void shouldKeepExpiredValuesALiveSnapshotCanReadInTheFiles() {
        Path d = dir.resolve("db");
        try (DB db = DB.open(d, ttl(Duration.ofSeconds(10)))) {
            db.put(k("a"), k("1"));
            Snapshot s = db.snapshot();
            clock.addAndGet(20_000);
            db.compactRange(null, null);
            assertNull(db.get(k("a")));
            s.close();
        }
        try (DB db = DB.open(d, ttl(Duration.ofDays(36500)))) {
            assertEquals("1", str(db.get(k("a"))), "the snapshot's value was not filtered");
        }
    }

    @Test
    void shouldApplyAUserFilterBehindTheTtl() {
        CompactionFilterTest.TestFilter f = new CompactionFilterTest.TestFilter();
        try (DB db = DB.open(dir.resolve("db"), ttl(Duration.ofSeconds(10)).compactionFilter(f))) {
            db.put(k("up-old"), k("abc"));
            clock.addAndGet(6_000);
            db.put(k("up-new"), k("def"));
            clock.addAndGet(6_000);
            db.compactRange(null, null);
            assertEquals(List.of("up-new=DEF"), scan(db, true));
            assertEquals(1, f.calls.get(), "only the live value reaches the user filter");
            clock.addAndGet(5_000);
            assertNull(db.get(k("up-new")), "a changed value keeps its write time");
        }
    }

    @Test
    void shouldRefuseOpeningWithTtlOnOrOffAsTheDbWasNotWritten() throws Exception {
        Path withTtl = dir.resolve("with");
        DB.open(withTtl, ttl(Duration.ofSeconds(1))).close();
        assertTrue(Files.exists(withTtl.resolve("TTL")));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(withTtl, Options.defaults()));
        assertTrue(ex.getMessage().contains("ttl"), ex.getMessage());
        DB.open(withTtl, ttl(Duration.ofHours(1))).close(); // the duration may change
        Path without = dir.resolve("without");
        DB.open(without, Options.defaults()).close();
        ex = assertThrows(IllegalArgumentException.class, () -> DB.open(without, ttl(Duration.ofSeconds(1))));
        assertTrue(ex.getMessage().contains("without"), ex.getMessage());
        DB.open(without, Options.defaults().ttl(Duration.ZERO)).close(); // zero is off
    }

    @Test
    void shouldRefuseTtlWithAMergeOperator() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> DB.open(dir.resolve("db"), ttl(Duration.ofSeconds(1)).mergeOperator(MergeOperators.int64Add())));
        assertTrue(ex.getMessage().contains("mergeOperator"), ex.getMessage());
    }
}
