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
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction filters through the engine: keep, remove and change in compactions; entries a live
 * snapshot can read are left alone until it is closed; a removal hides older versions; flushes
 * filter only when asked; jobs carry the filter's name and find it by name (a worker without it
 * fails the job, naming it); a throwing filter fails the job, naming filter and key.
 */
class CompactionFilterTest {
    @TempDir
    Path dir;

    static byte[] k(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /**
     * Values {@code "remove-me"} are removed, values of keys starting with {@code up} upper-cased,
     * keys starting with {@code boom} make it throw; everything else is kept. Counts its calls.
     */
    static class TestFilter implements CompactionFilter {
        final AtomicInteger calls = new AtomicInteger();
        final List<Context> contexts = new ArrayList<>();

        @Override
        public String name() {
            return "test.filter";
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            calls.incrementAndGet();
            synchronized (contexts) {
                contexts.add(ctx);
            }
            String s = str(key);
            if (s.startsWith("boom")) {
                throw new IllegalStateException("boom");
            }
            if (str(value).equals("remove-me")) {
                return CompactionFilter.remove();
            }
            if (s.startsWith("up")) {
                return CompactionFilter.change(k(str(value).toUpperCase(Locale.ROOT)));
            }
            return CompactionFilter.keep();
        }
    }

    /** Registered in this module's test resources under META-INF/services/io.o3lsm.CompactionFilter. */
    public static final class TestServiceFilter extends TestFilter {
        static final String NAME = "test.service-filter";

        @Override
        public String name() {
            return NAME;
        }
    }

    private static Options options(CompactionFilter f) {
        return Options.defaults().compactionFilter(f);
    }

    @Test
    void shouldKeepRemoveAndChangeValuesInACompaction() {
        TestFilter f = new TestFilter();
        try (DB db = DB.open(dir.resolve("db"), options(f))) {
            db.put(k("drop-1"), k("remove-me"));
            db.put(k("keep-1"), k("x"));
            db.put(k("up-1"), k("abc"));
            db.flush();
            assertEquals(0, f.calls.get(), "flushes do not filter by default");
            assertEquals("remove-me", str(db.get(k("drop-1"))), "reads never call the filter");
            db.compactRange(null, null);
            assertTrue(f.calls.get() >= 3, "calls: " + f.calls.get());
            assertNull(db.get(k("drop-1")));
            assertEquals("x", str(db.get(k("keep-1"))));
            assertEquals("ABC", str(db.get(k("up-1"))));
            List<String> seen = new ArrayList<>();
            try (DBIterator it = db.iterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    seen.add(str(it.key()) + "=" + str(it.value()));
                }
            }
            assertEquals(List.of("keep-1=x", "up-1=ABC"), seen);
        }
        CompactionFilter.Context ctx = f.contexts.get(0);
        assertFalse(ctx.flush());
        assertTrue(ctx.outputLevel() >= 1, ctx.toString());
        assertArrayEquals(k("drop-1"), ctx.smallestKey());
        assertArrayEquals(k("up-1"), ctx.largestKey());
    }

    @Test
    void shouldNotFilterEntriesALiveSnapshotCanReadUntilItIsClosed() {
        TestFilter f = new TestFilter();
        try (DB db = DB.open(dir.resolve("db"), options(f))) {
            db.put(k("up-1"), k("abc"));
            db.put(k("up-3"), k("def"));
            Snapshot s = db.snapshot();
            db.compactRange(null, null);
            assertEquals("abc", str(db.get(ReadOptions.defaults().snapshot(s), k("up-1"))));
            assertEquals("abc", str(db.get(k("up-1"))), "the newest value is the snapshot's: not filtered");
            db.put(k("up-3"), k("ghi")); // newer than the snapshot: filtered
            db.compactRange(null, null);
            assertEquals("GHI", str(db.get(k("up-3"))));
            assertEquals("def", str(db.get(ReadOptions.defaults().snapshot(s), k("up-3"))));
            s.close();
            db.put(k("up-2"), k("x")); // something in the range, so that the bottom file is rewritten
            db.compactRange(null, null);
            assertEquals("ABC", str(db.get(k("up-1"))));
            assertEquals("X", str(db.get(k("up-2"))));
            assertEquals("GHI", str(db.get(k("up-3"))));
        }
    }

    @Test
    void shouldNotResurrectAnOlderValueWhenRemoving() {
        TestFilter f = new TestFilter();
        Options o = options(f).compactionFilterOnFlush(true);
        try (DB db = DB.open(dir.resolve("db"), o)) {
            db.put(k("a"), k("old"));
            db.put(k("b"), k("b"));
            db.compactRange(null, null); // "old" in the bottom level
            db.put(k("a"), k("remove-me"));
            db.flush(); // the filter turns it into a deletion in L0, above "old"
            assertNull(db.get(k("a")));
            try (DBIterator it = db.iterator()) {
                it.seekToFirst();
                assertEquals("b", str(it.key()));
            }
            db.compactRange(null, null);
            assertNull(db.get(k("a")));
        }
        try (DB db = DB.open(dir.resolve("db"), Options.defaults())) {
            assertNull(db.get(k("a")), "after reopen without the filter");
            assertEquals("b", str(db.get(k("b"))));
        }
    }

    @Test
    void shouldFilterInFlushesOnlyWhenAsked() {
        for (boolean onFlush : new boolean[] {false, true}) {
            TestFilter f = new TestFilter();
            Path d = dir.resolve("db-" + onFlush);
            try (DB db = DB.open(d, options(f).compactionFilterOnFlush(onFlush))) {
                db.put(k("up-1"), k("abc"));
                db.flush();
                assertEquals(onFlush ? "ABC" : "abc", str(db.get(k("up-1"))), "onFlush " + onFlush);
                if (onFlush) {
                    assertTrue(f.contexts.get(0).flush());
                    assertEquals(0, f.contexts.get(0).outputLevel());
                }
            }
        }
    }

    @Test
    void shouldFailTheCompactionNamingTheFilterAndKey() {
        TestFilter f = new TestFilter();
        try (DB db = DB.open(dir.resolve("db"), options(f))) {
            db.put(k("boom"), k("v"));
            db.put(k("other"), k("w"));
            O3Exception ex = assertThrows(O3Exception.class, () -> db.compactRange(null, null));
            String m = String.valueOf(ex.getMessage()) + " " + ex.getCause();
            assertTrue(m.contains("test.filter") && m.contains("626f6f6d"), m); // 626f6f6d = "boom"
            assertEquals("v", str(db.get(k("boom"))), "a failed job leaves the data as it was");
            assertEquals("w", str(db.get(k("other"))));
        }
    }

    @Test
    void shouldSendTheFiltersNameWithCompactionJobsAndResolveItThere() {
        List<CompactionExecutor.Filter> sent = new ArrayList<>();
        TestServiceFilter own = new TestServiceFilter();
        long[] clock = {123_456_789L};
        Options o = options(own).clock(() -> clock[0]).compactionExecutor(req -> {
            synchronized (sent) {
                sent.add(req.filter());
            }
            return new io.o3lsm.job.CompactionJob(io.o3lsm.spi.FileSystem.local()).execute(req);
        });
        Path d = dir.resolve("db");
        try (DB db = DB.open(d, o)) {
            db.put(k("up-1"), k("abc"));
            db.put(k("drop"), k("remove-me"));
            db.compactRange(null, null);
            assertEquals("ABC", str(db.get(k("up-1"))));
            assertNull(db.get(k("drop")));
        }
        assertEquals(0, own.calls.get(), "the job found its own instance by name, not the DB's");
        assertFalse(sent.isEmpty());
        for (CompactionExecutor.Filter f : sent) {
            assertEquals(TestServiceFilter.NAME, f.name());
            assertEquals(123_456_789L, f.nowMillis());
            assertEquals(0, f.newestSnapshot());
        }
        CompactionExecutor.CompactionRequest req = new CompactionExecutor.CompactionRequest(d, 0, List.of(), 1, true,
                new long[0], new long[] {999}, 1 << 20, 4096, 16, Compression.NONE, 10, null, null, null,
                new CompactionExecutor.Filter("no.such-filter", 0, 0));
        Exception ex = assertThrows(Exception.class,
                () -> new io.o3lsm.job.CompactionJob(io.o3lsm.spi.FileSystem.local()).execute(req));
        assertTrue(ex.getMessage().contains("no.such-filter"), ex.getMessage());
    }

    @Test
    void shouldResolveFiltersByName() {
        assertEquals(TestServiceFilter.NAME, CompactionFilters.byName(TestServiceFilter.NAME, null).name());
        assertEquals("o3.ttl:5000", CompactionFilters.byName("o3.ttl:5000", null).name());
        assertEquals("o3.ttl:5000," + TestServiceFilter.NAME,
                CompactionFilters.byName("o3.ttl:5000," + TestServiceFilter.NAME, null).name());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> CompactionFilters.byName("app.missing", null));
        assertTrue(ex.getMessage().contains("app.missing"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CompactionFilters.byName("o3.ttl:0", null));
        assertThrows(IllegalArgumentException.class, () -> CompactionFilters.byName("o3.ttl:x", null));
        assertThrows(IllegalArgumentException.class, () -> CompactionFilters.byName("bad name", null));
    }
}
