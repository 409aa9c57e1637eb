package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link Error} thrown while the write leader holds the head of the writer queue (here a
 * direct-memory {@link OutOfMemoryError} while allocating a memtable arena) must end the group like
 * any failure: every writer gets an {@link O3Exception}, the DB refuses further writes, and
 * {@code close()} completes. (The timeout only turns a hang into a failure; nothing is timed.)
 */
class WriteLeaderErrorTest {
    @TempDir Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void anErrorInTheWriteLeaderFailsEveryWriterAndLetsCloseFinish() throws Exception {
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(1 << 20);
        DBImpl db = (DBImpl) DB.open(dir, o);
        AtomicInteger allocations = new AtomicInteger();
        db.engine().memtables.beforeAllocate = () -> {
            allocations.incrementAndGet();
            throw new OutOfMemoryError("Direct buffer memory (injected)");
        };
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<Throwable>> results = new ArrayList<>();
        String[] lastAcked = new String[threads];
        try {
            for (int t = 0; t < threads; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        for (int i = 0; ; i++) { // until the arena fills and its replacement fails
                            String k = "k" + id + "-" + i;
                            db.put(k.getBytes(StandardCharsets.UTF_8), new byte[100]);
                            lastAcked[id] = k;
                        }
                    } catch (Throwable x) {
                        return x;
                    }
                }));
            }
            for (Future<Throwable> f : results) {
                Throwable x = f.get();
                assertInstanceOf(O3Exception.class, x, "each writer fails with an O3Exception, got " + x);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(allocations.get() >= 1, "the injected allocation failure was reached");
        O3Exception refused = assertThrows(O3Exception.class, () -> db.put(new byte[] {1}, new byte[] {2}));
        assertTrue(hasCause(refused, OutOfMemoryError.class), "the refusal names the original Error: " + refused);
        db.engine().memtables.beforeAllocate = null;
        db.close(); // must not hang
        // every acknowledged write is still there after reopening
        try (DB again = DB.open(dir, o)) {
            for (String k : lastAcked) {
                if (k != null) { // a thread may have been late enough to meet the failure on its first put
                    assertNotNull(again.get(k.getBytes(StandardCharsets.UTF_8)), "acknowledged " + k + " is lost");
                }
            }
        }
    }

    /**
     * Reporting the failure may fail too (here a log handler throws, as a heap OutOfMemoryError
     * while building the message would): the group still leaves the writer queue, so a later
     * writer gets an answer instead of waiting forever.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aFailureWhileReportingTheErrorStillReleasesTheWriterQueue() throws Exception {
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(1 << 20);
        DBImpl db = (DBImpl) DB.open(dir, o);
        Logger log = Logger.getLogger("io.o3lsm");
        db.engine().memtables.beforeAllocate = () -> {
            throw new OutOfMemoryError("Direct buffer memory (injected)");
        };
        log.setFilter(r -> {
            if (r.getLevel() == Level.SEVERE) {
                throw new OutOfMemoryError("Java heap space (injected while reporting)");
            }
            return true;
        });
        Throwable first = null;
        try {
            for (int i = 0; ; i++) {
                db.put(("k" + i).getBytes(StandardCharsets.UTF_8), new byte[100]);
            }
        } catch (Throwable x) {
            first = x;
        } finally {
            log.setFilter(null);
            db.engine().memtables.beforeAllocate = null;
        }
        assertInstanceOf(O3Exception.class, first, "the failed writer gets an O3Exception");
        // a later writer is answered (refused: the DB has a background error) instead of waiting forever
        assertThrows(O3Exception.class, () -> db.put(new byte[] {1}, new byte[] {2}));
        db.close();
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
