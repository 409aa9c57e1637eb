package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DB.close} in DM mode frees the memory-node segments of its unflushed shards
 * ({@code DmOffloader.freeHeld}, ba7aa41) by forgetting each shard's remote copy. A get that pinned
 * its view before the close and reaches a shard held only by the node (its local copy dropped) must
 * still end: with its value or with {@link DBClosedException}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseFreesHeldSegmentsTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    @BeforeEach
    @AfterEach
    void reset() {
        FakeMemoryNode.reset();
    }

    @Test
    void shouldEndAGetInFlightWhenCloseForgetsTheRemoteCopyItReads() throws Exception {
        DB d = FakeMemoryNode.openAttached(dir.resolve("db"), FakeMemoryNode.options(dir, 0));
        int n = 0;
        while (field(d.property("o3.dm"), "remoteOnlyShards") < 4) {
            assertTrue(n < 200_000, "no shard became remote-only: " + d.property("o3.dm"));
            d.put(b(k(n)), b("v" + n + "-" + "x".repeat(40)));
            n++;
        }
        // a key whose get is delegated to the node (it lives in a shard held only there)
        int key = -1;
        for (int i = 0; i < n && key < 0; i++) {
            long before = FakeMemoryNode.GETS.get();
            assertArrayEquals(b("v" + i + "-" + "x".repeat(40)), d.get(b(k(i))));
            if (FakeMemoryNode.GETS.get() > before) {
                key = i;
            }
        }
        assertTrue(key >= 0, "no get was delegated: " + d.property("o3.dm"));
        CountDownLatch inGet = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        FakeMemoryNode.onGet = () -> {
            if (first.compareAndSet(true, false)) {
                inGet.countDown();
                try {
                    release.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        AtomicReference<Object> outcome = new AtomicReference<>();
        int k = key;
        Thread reader = new Thread(() -> {
            try {
                outcome.set(d.get(b(k(k))));
            } catch (Throwable t) {
                outcome.set(t);
            }
        }, "test-reader");
        reader.setDaemon(true); // a reader that never ends must not keep the JVM up
        reader.start();
        assertTrue(inGet.await(20, TimeUnit.SECONDS), "the get reached the node");
        d.close(); // frees the segments of the unflushed shards, the one the get reads among them
        release.countDown();
        reader.join(10_000);
        if (reader.isAlive()) {
            StringBuilder st = new StringBuilder();
            for (StackTraceElement el : reader.getStackTrace()) {
                st.append("\n  at ").append(el);
            }
            fail("a get in flight at close never ended (it retries a shard that is neither local nor remote any"
                    + " more):" + st);
        }
        Object o = outcome.get();
        assertTrue(o instanceof byte[] || o instanceof DBClosedException, "the get ended with its value or with "
                + "DBClosedException: " + o);
    }
}
