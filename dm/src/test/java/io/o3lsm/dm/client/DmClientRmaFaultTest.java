package io.o3lsm.dm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmTimeoutException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
 * RMA operations that outlive their deadline, against a real memory-node process. Over shared memory
 * a put or get completes in microseconds, so the timeouts are injected: the client's test hook holds
 * the RMA operation back (outstanding, as a slow one would be) until its deadline has passed, then
 * posts it. Control requests (ALLOC, COMMIT, READBACK, STATS) get a generous deadline that no slow
 * machine misses; only the held RMA operation has a short one ({@code rmaTimeoutForTest}), so the
 * timeout each test expects is that operation's and no other. What must hold: a segment a timed-out put may still land in is not freed until the put is
 * fenced, and a timed-out read-back's buffer stays referenced until its get completes.
 */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DmClientRmaFaultTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @TempDir
    static Path dir;
    static MemNodeProcess node;

    @BeforeAll
    static void start() throws Exception {
        Path secret = MemNodeProcess.secret(dir, "secret", SECRET);
        // a fast scrubber, so that a damaged segment is found within a tick or two
        node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "64m", secret, "--scrub-rate", "1g").start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /** Deadline of control requests: a bound for a failing test, never reached by a slow one. */
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);
    /** Deadline of RMA operations posted while held: they never complete while held, so they reach it. */
    private static final Duration HELD_RMA_TIMEOUT = Duration.ofMillis(200);

    private static DmClient connect(String dbId) throws Exception {
        return DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port,
                SECRET.getBytes(StandardCharsets.UTF_8), dbId, 1, 0, 4, CONTROL_TIMEOUT));
    }

    /** RMA operations from now on are held, and only they get the short deadline. */
    private static void hold(DmClient c) {
        c.rmaTimeoutForTest(HELD_RMA_TIMEOUT);
        c.holdRma(true);
    }

    /** Posts the held operations; RMA operations from now on get the generous deadline again. */
    private static void release(DmClient c) {
        c.rmaTimeoutForTest(CONTROL_TIMEOUT);
        c.releaseHeldRma();
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

    private static int segments(DmClient c, String dbId) throws Exception {
        for (Messages.DbStats d : c.stats().dbs()) {
            if (d.dbId().equals(dbId)) {
                return d.segments();
            }
        }
        return 0;
    }

    /** Waits for a condition the client reaches on its own; the deadline only bounds a failing test. */
    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }

    private static int[] fence(DmClient c) {
        return c.fenceState().join();
    }

    @Test
    void shouldNotFreeASegmentWhileATimedOutPutMayStillLand() throws Exception {
        String db = "db-put-timeout";
        try (DmClient c = connect(db)) {
            MemtableShard s = shard(1);
            hold(c);
            ExecutionException e = assertThrows(ExecutionException.class, () -> offload(c, s).get(60, TimeUnit.SECONDS));
            assertInstanceOf(DmTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("RMA put"), e.getCause().getMessage());
            // the put is still outstanding: its segment must stay allocated (not handed to another DB)
            assertEquals(1, segments(c, db), "segment kept while the put may land");
            assertEquals(1, fence(c)[0], "the failed offload waits for its put");
            assertTrue(c.isConnected(), "a slow put does not disconnect");
            release(c); // the put lands now; then the client flushes and frees
            await(() -> fence(c)[0] == 0, "the fence settled");
            await(() -> {
                try {
                    return segments(c, db) == 0;
                } catch (Exception ex) {
                    throw new AssertionError(ex);
                }
            }, "segment freed after the fence");
            // the connection is fine: a new offload goes through
            MemoryNode.RemoteShard r = offload(c, s).get(60, TimeUnit.SECONDS);
            assertEquals(1, c.get(java.util.List.of(r), "key00007".getBytes(StandardCharsets.UTF_8), 100).state());
            c.free(r);
        }
    }

    /** Times out a read-back and returns a weak reference to the buffer the caller dropped. */
    private static WeakReference<ByteBuffer> timedOutReadBack(DmClient c, MemoryNode.RemoteShard r) {
        ByteBuffer buf = ByteBuffer.allocateDirect(r.length());
        hold(c);
        DmTimeoutException e = assertThrows(DmTimeoutException.class, () -> c.readBack(r, buf));
        assertTrue(e.getMessage().contains("RMA get"), e.getMessage());
        return new WeakReference<>(buf);
    }

    @Test
    void shouldKeepAReadBackBufferReachableUntilItsTimedOutGetCompletes() throws Exception {
        try (DmClient c = connect("db-get-timeout")) {
            MemtableShard s = shard(2);
            MemoryNode.RemoteShard r = offload(c, s).get(60, TimeUnit.SECONDS);
            WeakReference<ByteBuffer> buf = timedOutReadBack(c, r);
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            assertNotNull(buf.get(), "the buffer an outstanding RMA get writes into was collected");
            assertEquals(1, fence(c)[1]);
            release(c); // the get completes into the buffer
            await(() -> fence(c)[1] == 0, "the client lets go of the buffer once the get completed");
            ByteBuffer back = ByteBuffer.allocateDirect(r.length());
            c.readBack(r, back); // the connection is fine
            assertEquals(s.buffer().byteBuffer().duplicate().limit(r.length()), back.duplicate().limit(r.length()));
            c.free(r);
        }
    }

    @Test
    void shouldRefuseReadsFromASegmentDamagedAfterCommit() throws Exception {
        try (DmClient c = connect("db-damaged")) {
            MemoryNode.RemoteShard damaged = offload(c, shard(3)).get(60, TimeUnit.SECONDS);
            MemoryNode.RemoteShard intact = offload(c, shard(4)).get(60, TimeUnit.SECONDS);
            byte[] key = "key00042".getBytes(StandardCharsets.UTF_8);
            assertEquals(1, c.get(java.util.List.of(damaged), key, 1000).state());
            c.overwriteForTest(damaged, damaged.length() / 2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            io.o3lsm.dm.DmCorruptionException refused = null;
            while (refused == null) {
                assertTrue(System.nanoTime() < deadline, "the node never noticed the damaged segment");
                try {
                    c.get(java.util.List.of(damaged), key, 1000);
                    Thread.sleep(10);
                } catch (io.o3lsm.dm.DmCorruptionException e) {
                    refused = e;
                }
            }
            assertTrue(refused.getMessage().contains("re-check"), refused.getMessage());
            assertThrows(io.o3lsm.dm.DmCorruptionException.class,
                    () -> c.scan(java.util.List.of(damaged), null, false, false, 10, 1 << 20));
            assertThrows(io.o3lsm.dm.DmCorruptionException.class,
                    () -> c.readBack(damaged, ByteBuffer.allocateDirect(damaged.length())));
            // the node goes on serving the intact segment, and the damaged one can be freed
            assertEquals(1, c.get(java.util.List.of(intact), key, 1000).state());
            c.free(damaged);
            c.free(intact);
            assertTrue(node.output().contains("failed its CRC32C re-check"), node.output());
        }
    }
}
