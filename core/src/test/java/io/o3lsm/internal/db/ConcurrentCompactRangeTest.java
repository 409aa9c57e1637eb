package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.spi.CompactionExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two concurrent compactRange calls: CompactionPicker.manual never checks whether its *input* files
 * are busy (build() only checks the files of the level below). While thread A's manual L0->L1
 * compaction (F2 + G, bottommost) runs, thread B finds L0->L1 blocked (G busy), continues with level 1,
 * takes the busy G as input and trivially moves it down to L6. A then drops the tombstone of "a"
 * together with a=old (bottommost) and its install deletes G from L1 (a no-op: G is at L6 now).
 * Result: the deleted value "old" is back.
 */
class ConcurrentCompactRangeTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void concurrentCompactRangeMustNotResurrectDeletedKey() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<CompactionJob> inner = new AtomicReference<>();
        AtomicInteger armed = new AtomicInteger(0);
        CompactionExecutor exec = req -> {
            if (armed.get() == 1 && calls.incrementAndGet() == 1) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return inner.get().execute(req);
        };
        Options o = Options.defaults().shardCount(1).level0CompactionTrigger(2).level0SlowdownTrigger(20)
                .level0StopTrigger(36).maxBytesForLevelBase(64L << 20).compactionExecutor(exec);
        inner.set(new CompactionJob(o.fileSystem()));
        try (DB db = DB.open(dir, o)) {
            DBImpl impl = (DBImpl) db;
            db.put(b("a"), b("old"));
            db.put(b("b"), b("x"));
            db.flush();
            db.put(b("c"), b("y"));
            db.put(b("b"), b("x2")); // overlaps the first file: L0 depth 2 reaches the trigger
            db.flush();
            impl.waitForCompactions(); // background L0 -> L1: G = {a, b, c} at L1
            assertEquals(0, impl.currentVersion().numFiles(0));
            assertEquals(1, impl.currentVersion().numFiles(1), impl.currentVersion().toString());
            db.delete(b("a"));
            db.flush(); // F2 = {delete a} at L0 (below the trigger)
            assertNull(db.get(b("a")));

            armed.set(1);
            AtomicReference<Throwable> errA = new AtomicReference<>();
            Thread a = new Thread(() -> {
                try {
                    db.compactRange(null, null);
                } catch (Throwable t) {
                    errA.set(t);
                }
            });
            a.start();
            assertTrue(entered.await(10, TimeUnit.SECONDS), "A's manual compaction started");
            Thread bThread = new Thread(() -> db.compactRange(null, null));
            bThread.start();
            bThread.join(10_000);
            release.countDown();
            a.join(10_000);
            System.out.println("version after both compactRange calls: " + impl.currentVersion());
            assertNull(errA.get());
            assertNull(db.get(b("a")), "deleted key came back: " + impl.currentVersion());
        }
    }
}
