package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.spi.CompactionExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * close() does not wait for a compactRange running in the caller's thread: it releases the LOCK and
 * returns while the manual compaction still runs. Its pre-allocated output numbers were never
 * recorded in the MANIFEST, so a new instance opened on the directory reuses them, and the old
 * compaction then overwrites the new instance's SST.
 */
class CloseDuringCompactRangeTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void closeMustWaitForManualCompaction() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean inExecutor = new AtomicBoolean();
        AtomicReference<CompactionJob> inner = new AtomicReference<>();
        CompactionExecutor exec = req -> {
            if (Thread.currentThread().getName().startsWith("o3lsm-")) {
                return inner.get().execute(req); // only the manual compaction is held
            }
            inExecutor.set(true);
            entered.countDown();
            try {
                release.await(2, TimeUnit.SECONDS); // close() must wait this out
                return inner.get().execute(req);
            } catch (InterruptedException e) {
                throw new IOException(e);
            } finally {
                inExecutor.set(false);
            }
        };
        Options o1 = Options.defaults().shardCount(1).targetFileSize(64 << 10).blockSize(512)
                .level0CompactionTrigger(1000).level0SlowdownTrigger(1000).level0StopTrigger(1000).maxBytesForLevelBase(1L << 30).compactionExecutor(exec);
        inner.set(new CompactionJob(o1.fileSystem()));
        DB db1 = DB.open(dir, o1);
        for (int i = 0; i < 20000; i++) {
            db1.put(b(String.format("key%05d", i)), new byte[100]);
        }
        db1.flush();
        for (int i = 0; i < 20000; i += 2) {
            db1.put(b(String.format("key%05d", i)), new byte[100]);
        }
        db1.flush();
        AtomicReference<Throwable> compactErr = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                db1.compactRange(null, null);
            } catch (Throwable e) {
                compactErr.set(e);
            }
        });
        t.start();
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        db1.close();
        boolean stillRunning = inExecutor.get();

        // the LOCK is free: a second instance opens the same directory
        DB db2 = DB.open(dir, Options.defaults().shardCount(1));
        db2.put(b("zzz"), b("new"));
        db2.flush();
        release.countDown(); // the old compaction goes on writing its outputs
        t.join(30_000);
        System.out.println("old compactRange ended with: " + compactErr.get());
        try (Stream<Path> s = Files.list(dir)) {
            s.sorted().forEach(p -> System.out.println("  " + p.getFileName()));
        }
        String failure = null;
        try {
            byte[] v = db2.get(b("zzz"));
            if (v == null || !"new".equals(new String(v, StandardCharsets.UTF_8))) {
                failure = "db2 lost its write: get(zzz) = " + (v == null ? null : new String(v));
            }
            try (DBIterator it = db2.iterator(ReadOptions.defaults())) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    n++;
                }
                if (n != 20001 && failure == null) {
                    failure = "db2 has " + n + " keys, expected 20001";
                }
            }
        } catch (RuntimeException e) {
            failure = "db2 read failed: " + e;
        } finally {
            try {
                db2.close();
            } catch (RuntimeException ignored) {
                // reporting the first failure
            }
        }
        assertTrue(!stillRunning, "close() returned while the manual compaction was still running"
                + (failure != null ? "; consequence: " + failure : ""));
        if (failure != null) {
            fail(failure);
        }
    }
}
