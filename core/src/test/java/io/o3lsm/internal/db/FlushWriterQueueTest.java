package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * flush() (and compactRange(), which calls it) enqueues a pseudo-Writer with batch == null in the
 * writer queue. A write leader that groups followers iterates the queue and calls x.batch.size() on
 * it: NullPointerException, delivered to every writer of the group.
 */
class FlushWriterQueueTest {
    @TempDir
    Path dir;

    @Test
    void concurrentPutsAndFlushMustNotFail() throws Exception {
        Options o = Options.defaults().writeBufferSize(4 << 20).shardCount(2);
        try (DB db = DB.open(dir, o)) {
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        try {
                            db.put(("k" + id + "-" + (i++ % 1000)).getBytes(StandardCharsets.UTF_8), new byte[16]);
                        } catch (Throwable e) {
                            errors.add(e);
                            return;
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            long end = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < end && errors.isEmpty()) {
                db.flush();
            }
            stop.set(true);
            for (Thread th : threads) {
                th.join();
            }
            if (!errors.isEmpty()) {
                errors.peek().printStackTrace();
            }
            assertTrue(errors.isEmpty(), "put failed while another thread called flush(): " + errors.peek());
        }
    }
}
