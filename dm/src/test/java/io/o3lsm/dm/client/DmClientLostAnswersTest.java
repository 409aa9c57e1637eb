package io.o3lsm.dm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmTimeoutException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests whose answer the client never sees, or sees too late, against a real memory-node process:
 * a FREE made while the client is disconnected, an ALLOC answered after its deadline, and the order
 * in which a dropped connection's endpoint and remote keys are released. The node is paused with
 * SIGSTOP (and the test waits until the kernel reports it stopped), so "the node does not answer" is
 * a fact, not a timing assumption; every wait polls for a state the client reaches on its own.
 */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DmClientLostAnswersTest {
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
            signal("CONT");
            node.close();
        }
    }

    private static DmClient connect(String dbId, Duration requestTimeout) throws Exception {
        return DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port, SECRET.getBytes(StandardCharsets.UTF_8),
                dbId, 1, 0, 4, requestTimeout));
    }

    private static MemtableShard shard(int id) {
        MemtableShard s = MemtableShard.allocate(id, 64 << 10);
        byte[] v = new byte[100];
        for (int i = 0; i < 200; i++) {
            byte[] k = String.format("key%05d", i).getBytes(StandardCharsets.UTF_8);
            assertTrue(s.add(i + 1, InternalKey.TYPE_VALUE, k, 0, k.length, v, 0, v.length));
        }
        s.seal();
        return s;
    }

    private static CompletableFuture<MemoryNode.RemoteShard> offload(DmClient c, MemtableShard s) {
        return c.offload(s.buffer().byteBuffer(), s.usedBytes(), s.reader().checksum(), s.shardId(), s.minSequence(),
                s.maxSequence());
    }

    /** The node's segment count for {@code dbId}, or -1 if the client cannot ask right now. */
    private static int segments(DmClient c, String dbId) {
        try {
            for (Messages.DbStats d : c.stats().dbs()) {
                if (d.dbId().equals(dbId)) {
                    return d.segments();
                }
            }
            return 0;
        } catch (Exception e) {
            return -1; // reconnecting
        }
    }

    /** Waits for a state the client reaches on its own; the deadline only bounds a failing test. */
    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }

    private static void signal(String sig) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(node.pid())).inheritIO().start().waitFor());
    }

    /** SIGSTOP, then waits until the kernel reports the process stopped (state T). */
    private static void pauseNode() throws Exception {
        signal("STOP");
        Path stat = Path.of("/proc", Long.toString(node.pid()), "stat");
        await(() -> {
            try {
                String st = Files.readString(stat);
                return st.substring(st.lastIndexOf(')') + 2).startsWith("T");
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }, "the memory node did not stop");
    }

    private static int[] state(DmClient c) {
        return c.fenceState().join();
    }

    /**
     * A FREE asked for while the client is disconnected is kept and sent after the reconnect: the
     * node keeps a disconnected session's segments (same DB id and epoch), so a FREE dropped here
     * would charge the segment to this DB until the epoch ends.
     */
    @Test
    void freeWhileDisconnectedIsSentAfterTheReconnect() throws Exception {
        String db = "db-free-disconnected";
        try (DmClient c = connect(db, Duration.ofSeconds(30))) {
            MemoryNode.RemoteShard r = offload(c, shard(1)).get(30, TimeUnit.SECONDS);
            assertEquals(1, segments(c, db));
            CompletableFuture<Void> freed;
            pauseNode(); // the client cannot complete a handshake (its HELLO waits) until the node runs again
            try {
                c.disconnectForTest();
                await(() -> !c.isConnected(), "the client did not notice the dropped connection");
                freed = c.freeAsync(r);
                assertFalse(freed.isCompletedExceptionally(), "a FREE while disconnected was dropped: " + freed);
                assertEquals(1, state(c)[2], "the FREE is owed until the reconnect");
                assertFalse(c.isConnected());
            } finally {
                signal("CONT");
            }
            await(() -> c.isConnected(), "the client did not reconnect");
            freed.get(30, TimeUnit.SECONDS);
            await(() -> segments(c, db) == 0, "the segment freed while disconnected is still on the node");
            assertEquals(0, state(c)[2]);
        }
    }

    /** A FREE that fails because the connection drops while it is pending is sent again after the reconnect. */
    @Test
    void freePendingWhenTheConnectionDropsIsSentAfterTheReconnect() throws Exception {
        String db = "db-free-dropped";
        try (DmClient c = connect(db, Duration.ofSeconds(30))) {
            MemoryNode.RemoteShard r = offload(c, shard(2)).get(30, TimeUnit.SECONDS);
            CompletableFuture<Void> freed;
            pauseNode(); // the FREE is sent but not answered
            try {
                freed = c.freeAsync(r);
                c.disconnectForTest();
                await(() -> !c.isConnected(), "the client did not notice the dropped connection");
                await(() -> state(c)[2] == 1, "the FREE pending when the connection dropped was not kept");
                assertFalse(freed.isDone(), "the FREE is not answered yet");
            } finally {
                signal("CONT");
            }
            await(() -> c.isConnected(), "the client did not reconnect");
            // the node may have executed the first FREE too: the second is then answered NO_SUCH_SEGMENT
            try {
                freed.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(io.o3lsm.dm.DmAccessException.class, e.getCause());
            }
            await(() -> segments(c, db) == 0, "the segment is still on the node");
        }
    }

    /**
     * An ALLOC answered after its deadline: the client frees the segment the late answer names. The
     * short request timeout only has to pass while the node is paused; every later wait tolerates
     * slow answers (segments() is -1 for a request that timed out).
     */
    @Test
    void allocAnsweredAfterItsDeadlineIsFreed() throws Exception {
        String db = "db-late-alloc";
        try (DmClient c = connect(db, Duration.ofMillis(500))) {
            MemtableShard s = shard(3);
            pauseNode();
            try {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> offload(c, s).get(30, TimeUnit.SECONDS));
                assertInstanceOf(DmTimeoutException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("ALLOC"), e.getCause().getMessage());
            } finally {
                signal("CONT");
            }
            await(() -> state(c)[3] == 1, "the late ALLOC answer did not arrive");
            assertTrue(c.isConnected(), "a slow node does not disconnect");
            await(() -> segments(c, db) == 0, "the segment of an ALLOC answered after its deadline was never freed");
        }
    }

    /**
     * A dropped connection's endpoint is closed, and its close completed (UCX then has completed every
     * operation still outstanding on it), before its remote keys are destroyed; also at close().
     */
    @Test
    void endpointIsClosedBeforeItsRemoteKeysAreDestroyed() throws Exception {
        String db = "db-release-order";
        List<String> trace;
        try (DmClient c = connect(db, Duration.ofSeconds(30))) {
            MemoryNode.RemoteShard r = offload(c, shard(4)).get(30, TimeUnit.SECONDS);
            trace = c.traceReleases();
            c.disconnectForTest();
            await(() -> trace.contains("remote keys destroyed"), "the dropped connection's keys were not released");
            assertOrder(new ArrayList<>(trace), true);
            await(() -> c.isConnected(), "the client did not reconnect");
            c.free(r); // the same epoch: the segment is still this DB's
            trace.clear();
        }
        // close(): a flush-close, waited for a bounded time; the keys go only if it completed
        assertOrder(new ArrayList<>(trace), false);
    }

    private static void assertOrder(List<String> t, boolean keysReleased) {
        int requested = t.indexOf("endpoint close requested");
        int closed = t.indexOf("endpoint closed");
        int keys = t.indexOf("remote keys destroyed");
        assertTrue(requested >= 0, "release order " + t);
        if (keysReleased || keys >= 0) {
            assertTrue(closed > requested && keys > closed, "release order " + t);
        }
    }
}
