package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.internal.util.Uninterruptible;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application thread interrupted while inside a DB call must not break the DB for anyone else:
 * file channels are interruptible by default, and an interrupted read or write would close the
 * shared table file or the WAL.
 */
class InterruptedThreadTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldKeepServingAfterInterruptedReadsAndWrites() throws Exception {
        assertTrue(Uninterruptible.supported(), "this JVM lets the engine mark channels uninterruptible");
        Options o = Options.defaults().blockCacheSize(0).shardCount(2); // every get reads the SST
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 2000; i++) {
                db.put(b("k" + i), b("v" + i));
            }
            db.flush(); // the values now live in SSTs
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    Thread.currentThread().interrupt();
                    for (int i = 0; i < 2000; i += 7) {
                        assertArrayEquals(b("v" + i), db.get(b("k" + i)), "interrupted get");
                    }
                    db.put(b("during"), b("interrupt"), WriteOptions.defaults().sync(true)); // WAL write + fsync
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag stays for the caller");
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            t.join();
            if (failure.get() != null) {
                throw new AssertionError("an interrupted thread failed inside the DB: " + failure.get(), failure.get());
            }
            // other threads (and later calls) see a healthy DB
            for (int i = 0; i < 2000; i += 13) {
                assertArrayEquals(b("v" + i), db.get(b("k" + i)));
            }
            db.put(b("after"), b("ok"));
            assertArrayEquals(b("interrupt"), db.get(b("during")));
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            assertArrayEquals(b("ok"), db.get(b("after")));
            assertArrayEquals(b("interrupt"), db.get(b("during")));
        }
    }
}
