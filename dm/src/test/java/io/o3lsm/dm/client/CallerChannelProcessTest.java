package io.o3lsm.dm.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delegated GETs and SCANs asked on the caller's own thread, in the client's second session with a
 * real memory-node process: they answer what the progress-thread way answers, the node's errors come
 * back as such, and concurrent callers (one of whom finds the caller's way busy and goes the other
 * way) all get right answers.
 */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CallerChannelProcessTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @TempDir
    static Path dir;
    static MemNodeProcess node;

    @BeforeAll
    static void start() throws Exception {
        node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "64m", MemNodeProcess.secret(dir, "secret", SECRET))
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private static DmClient connect(String dbId) throws Exception {
        return DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port,
                SECRET.getBytes(StandardCharsets.UTF_8), dbId, 1, 0, 4, Duration.ofSeconds(10)));
    }

    private static String k(int i) {
        return String.format("key%06d", i);
    }

    private static MemoryNode.RemoteShard offload(DmClient c, int n, long firstSeq) throws Exception {
        MemtableShard s = MemtableShard.allocate(1, 1 << 20);
        for (int i = 0; i < n; i++) {
            byte[] key = k(i).getBytes(StandardCharsets.UTF_8);
            byte[] v = ("v" + (firstSeq + i)).getBytes(StandardCharsets.UTF_8);
            assertTrue(s.add(firstSeq + i, InternalKey.TYPE_VALUE, key, 0, key.length, v, 0, v.length));
        }
        s.seal();
        ByteBuffer b = s.buffer().byteBuffer().duplicate();
        b.clear();
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().limit(s.usedBytes()));
        return c.offload(b, s.usedBytes(), (int) crc.getValue(), 1, s.minSequence(), s.maxSequence())
                .get(20, TimeUnit.SECONDS);
    }

    @Test
    void shouldAnswerGetsAndScansOnTheCallersThreadAsTheNodeDoes() throws Exception {
        try (DmClient c = connect("db-caller")) {
            MemoryNode.RemoteShard older = offload(c, 2000, 1);
            MemoryNode.RemoteShard newer = offload(c, 1000, 10_000);
            List<MemoryNode.RemoteShard> both = List.of(newer, older);
            long[] before = c.callerCounts();
            for (int i = 0; i < 2000; i += 7) {
                MemoryNode.GetResult g = c.get(both, k(i).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE);
                assertEquals(1, g.state(), k(i));
                long want = i < 1000 ? 10_000 + i : 1 + i;
                assertEquals(want, g.sequence(), k(i));
                assertArrayEquals(("v" + want).getBytes(StandardCharsets.UTF_8), g.value(), k(i));
            }
            MemoryNode.ScanBatch batch = c.scan(both, null, false, false, 100, 1 << 20);
            assertEquals(100, batch.count());
            assertTrue(batch.more());
            long[] after = c.callerCounts();
            assertTrue(after[0] - before[0] >= 280, "gets on the caller's thread: " + after[0] + " - " + before[0]);
            assertEquals(1, after[2] - before[2], "the scan on the caller's thread");

            c.free(older); // the node's own error answer comes back as it is
            DmException e = assertThrows(DmException.class,
                    () -> c.get(List.of(older), k(1).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE));
            assertEquals(Status.NO_SUCH_SEGMENT, e.status(), e.getMessage());
            assertTrue(c.get(List.of(newer), k(1).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE).state() == 1);
        }
    }

    @Test
    void shouldNotSpinOnAnInterruptedCallerWhileTheNodeIsStopped() throws Exception {
        try (DmClient c = connect("db-interrupted")) {
            MemoryNode.RemoteShard s = offload(c, 100, 1);
            assertEquals(1, c.get(List.of(s), k(1).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE).state());
            signal("STOP");
            awaitStopped(); // kill returns before every thread of the node has stopped: one could still answer
            try {
                Thread.currentThread().interrupt();
                long t0 = System.nanoTime();
                // the request timeout is 10 s: an interrupted caller gives up at once, on either way
                assertThrows(DmException.class,
                        () -> c.get(List.of(s), k(2).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 5_000, "an interrupted get returned after " + ms + " ms");
            } finally {
                Thread.interrupted();
                signal("CONT");
            }
            assertEquals(1, c.get(List.of(s), k(3).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE).state());
        }
    }

    /** Waits until the kernel reports the node process stopped (state T in /proc/PID/stat). */
    private static void awaitStopped() throws Exception {
        java.nio.file.Path stat = java.nio.file.Path.of("/proc", Long.toString(node.pid()), "stat");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            String st = java.nio.file.Files.readString(stat);
            if (st.charAt(st.lastIndexOf(')') + 2) == 'T') {
                Thread.sleep(20); // every thread: the state is the group leader's
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the memory node did not stop within 5 s of SIGSTOP");
    }

    private static void signal(String sig) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(node.pid())).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    @Test
    void shouldGiveConcurrentCallersRightAnswersWhicheverWayTheyGo() throws Exception {
        try (DmClient c = connect("db-callers")) {
            MemoryNode.RemoteShard s = offload(c, 5000, 1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        for (int i = id; i < 5000; i += 3) {
                            MemoryNode.GetResult g = c.get(List.of(s), k(i).getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE);
                            if (g.state() != 1 || g.sequence() != 1 + i) {
                                throw new AssertionError(k(i) + ": " + g);
                            }
                        }
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                    }
                });
                th.start();
                threads.add(th);
            }
            for (Thread th : threads) {
                th.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertTrue(c.callerCounts()[0] > 0);
        }
    }
}
