package io.o3lsm;

import static io.o3lsm.CompactionFilterTest.k;
import static io.o3lsm.CompactionFilterTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot never sees a filtered value, even one taken while a filtering job runs: the job decided
 * with the snapshots live when it began, so its install is refused (and the work redone or picked
 * again) once a newer snapshot exists, and snapshots wait while a filtered install swaps the view.
 */
class FilteredJobSnapshotTest {
    @TempDir
    Path dir;

    /** Removes every value, but first waits until the test has taken its snapshot. */
    static final class BlockingRemoveFilter implements CompactionFilter {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String name() {
            return "review.blocking-remove";
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            entered.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return CompactionFilter.remove();
        }
    }

    @Test
    void shouldKeepASnapshotTakenDuringAFilteringCompactionRepeatable() throws Exception {
        BlockingRemoveFilter f = new BlockingRemoveFilter();
        try (DB db = DB.open(dir.resolve("db"), Options.defaults().compactionFilter(f))) {
            db.put(k("a"), k("v"));
            db.flush();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    db.compactRange(null, null);
                } catch (Throwable ex) {
                    failed.set(ex);
                }
            });
            t.start();
            assertTrue(f.entered.await(20, TimeUnit.SECONDS), "the compaction reached the filter");
            try (Snapshot s = db.snapshot()) {
                ReadOptions ro = ReadOptions.defaults().snapshot(s);
                String before = str(db.get(ro, k("a")));
                f.release.countDown();
                t.join(20_000);
                assertEquals(null, failed.get());
                String after = str(db.get(ro, k("a")));
                assertEquals("v", before);
                assertEquals(before, after, "the snapshot read " + before + " before the compaction installed and "
                        + after + " after it");
            }
        }
    }

    @Test
    void shouldKeepASnapshotTakenDuringAFilteringFlushRepeatable() throws Exception {
        BlockingRemoveFilter f = new BlockingRemoveFilter();
        try (DB db = DB.open(dir.resolve("db"),
                Options.defaults().compactionFilter(f).compactionFilterOnFlush(true))) {
            db.put(k("a"), k("v"));
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    db.flush();
                } catch (Throwable ex) {
                    failed.set(ex);
                }
            });
            t.start();
            assertTrue(f.entered.await(20, TimeUnit.SECONDS), "the flush reached the filter");
            try (Snapshot s = db.snapshot()) {
                ReadOptions ro = ReadOptions.defaults().snapshot(s);
                String before = str(db.get(ro, k("a")));
                f.release.countDown();
                t.join(20_000);
                assertEquals(null, failed.get());
                String after = str(db.get(ro, k("a")));
                assertEquals("v", before);
                assertEquals(before, after, "the snapshot read " + before + " before the flush installed and "
                        + after + " after it");
            }
        }
    }
}
