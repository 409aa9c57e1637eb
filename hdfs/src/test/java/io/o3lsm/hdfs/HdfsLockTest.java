package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The single-writer lock across clients: a live holder (heartbeating) refuses a second writer; a
 * holder whose heartbeat stopped (dead, or stalled) is taken over, and is then fenced — its own
 * heartbeat append fails. Each "client" is its own HDFS connection (its own lease holder), as two
 * processes or hosts are.
 */
class HdfsLockTest {
    private static MiniHdfs hdfs;

    @BeforeAll
    static void startHdfs() throws IOException {
        hdfs = MiniHdfs.start(1);
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    private static HdfsFileSystem client(long heartbeatMs, long deadAfterMs) throws IOException {
        Configuration conf = new Configuration();
        conf.setLong("o3lsm.lock.heartbeat.ms", heartbeatMs);
        conf.setLong("o3lsm.lock.dead-after.ms", deadAfterMs);
        return HdfsFileSystem.open(hdfs.uri(), conf);
    }

    @Test
    void shouldRefuseASecondWriterWhileTheHolderHeartbeats() throws IOException {
        Path lockFile = Path.of("/lock/live/LOCK");
        try (HdfsFileSystem a = client(100, 1000); HdfsFileSystem b = client(100, 1000)) {
            a.createDirectories(lockFile.getParent());
            try (Closeable held = a.lock(lockFile)) {
                IOException e = assertThrows(IOException.class, () -> b.lock(lockFile));
                assertTrue(e.getMessage().contains("live writer"), e.getMessage());
            }
            // released cleanly: the next writer gets it at once
            b.lock(lockFile).close();
        }
    }

    @Test
    void shouldTakeOverFromAHolderWhoseHeartbeatStoppedAndFenceIt() throws Exception {
        Path lockFile = Path.of("/lock/dead/LOCK");
        // the stalled holder heartbeats once an hour: to everyone else it is dead
        try (HdfsFileSystem stalled = client(3_600_000, 3 * 3_600_000); HdfsFileSystem next = client(100, 1000)) {
            stalled.createDirectories(lockFile.getParent());
            HdfsLock old = (HdfsLock) stalled.lock(lockFile);
            try (Closeable taken = next.lock(lockFile)) {
                assertNotNull(taken);
                assertTrue(next.hadoop().exists(HdfsFileSystem.hpath(HdfsLock.generation(lockFile, 1))),
                        "the newcomer holds the next generation");
            }
            IOException e = assertThrows(IOException.class, old::close,
                    "the old holder's stream was closed under it by the lease recovery");
            assertNotNull(e);
        }
    }

    @Test
    void shouldLetExactlyOneOfTwoNewcomersTakeOverFromADeadHolder() throws Exception {
        for (int round = 0; round < 3; round++) {
            Path lockFile = Path.of("/lock/race" + round + "/LOCK");
            try (HdfsFileSystem stalled = client(3_600_000, 3 * 3_600_000); HdfsFileSystem a = client(100, 1000);
                    HdfsFileSystem b = client(100, 1000)) {
                stalled.createDirectories(lockFile.getParent());
                Closeable old = stalled.lock(lockFile);
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
                try {
                    long offsetMs = 150L * round; // the reviewer's race: the second newcomer a little later
                    java.util.concurrent.Future<Closeable> fa = pool.submit(() -> a.lock(lockFile));
                    java.util.concurrent.Future<Closeable> fb = pool.submit(() -> {
                        Thread.sleep(offsetMs);
                        return b.lock(lockFile);
                    });
                    java.util.List<HdfsLock> won = new java.util.ArrayList<>();
                    java.util.List<Throwable> refused = new java.util.ArrayList<>();
                    for (java.util.concurrent.Future<Closeable> f : java.util.List.of(fa, fb)) {
                        try {
                            won.add((HdfsLock) f.get(120, java.util.concurrent.TimeUnit.SECONDS));
                        } catch (java.util.concurrent.ExecutionException e) {
                            refused.add(e.getCause());
                        }
                    }
                    assertEquals(1, won.size(), "round " + round + ": exactly one newcomer holds the lock; refused: " + refused);
                    assertTrue(refused.get(0) instanceof IOException && refused.get(0).getMessage().contains("live writer"),
                            "the other is refused because the winner heartbeats: " + refused.get(0));
                    Thread.sleep(500); // several heartbeats: the winner's lease was not taken away
                    assertEquals(null, won.get(0).lost(), "the winner's heartbeat keeps working");
                    won.get(0).close();
                } finally {
                    pool.shutdownNow();
                    try {
                        old.close();
                    } catch (IOException fenced) {
                        // expected: its generation was recovered
                    }
                }
            }
        }
    }

    /** Polls {@code lock.checkHeld()} until it throws (at most 120 s: a generous bound, not a timing assertion). */
    private static IOException awaitRefusal(HdfsLock lock) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                lock.checkHeld();
            } catch (IOException refused) {
                return refused;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the lock kept vouching for itself for 120 s without a heartbeat");
    }

    @Test
    void shouldStopVouchingForTheLockWhenItsHeartbeatStallsFailsOrIsClosed() throws Exception {
        Path lockFile = Path.of("/lock/vouch/LOCK");
        // margins generous for a loaded machine: a healthy heartbeat is at most ~100 ms old, the limit is 3 s
        try (HdfsFileSystem a = client(100, 6000); HdfsFileSystem b = client(100, 6000)) {
            a.createDirectories(lockFile.getParent());
            HdfsLock held = (HdfsLock) a.lock(lockFile);
            held.checkHeld(); // heartbeating: vouched for
            held.pauseHeartbeat(true);
            IOException late = awaitRefusal(held);
            assertTrue(late.getMessage().contains("/lock/vouch/LOCK.0") && late.getMessage().contains("ms ago")
                    && late.getMessage().contains("limit of 3000 ms"), late.getMessage());

            // another writer takes it over (the heartbeat stalled); resumed, the old heartbeat fails
            try (Closeable taken = b.lock(lockFile)) {
                held.pauseHeartbeat(false);
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
                while (held.lost() == null && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertNotNull(held.lost(), "the old holder's heartbeat append fails after the takeover");
                IOException lost = assertThrows(IOException.class, held::checkHeld);
                assertTrue(lost.getMessage().contains("is lost"), lost.getMessage());
                ((HdfsLock) taken).checkHeld(); // the new holder is vouched for
            }
            try {
                held.close();
            } catch (IOException fenced) {
                // expected: its generation was recovered
            }
            IOException closed = assertThrows(IOException.class, held::checkHeld);
            assertTrue(closed.getMessage().contains("/lock/vouch/LOCK"), closed.getMessage());
        }
    }

    /**
     * A DB whose lock heartbeat stalls (a paused process) refuses to roll to a new WAL: a new owner
     * that took over would never see that WAL. Nothing the stalled DB was asked to write after the
     * refusal is readable by the new owner; everything acknowledged before is.
     */
    @Test
    void shouldRefuseAWalRollOnceTheHeartbeatStalledAndLoseNothingAcknowledgedToTheNewOwner() throws Exception {
        Path dir = Path.of("/lock/fenced-db");
        io.o3lsm.WriteOptions sync = io.o3lsm.WriteOptions.defaults().sync(true);
        try (HdfsFileSystem stalledFs = client(100, 6000)) {
            LockCapturingFileSystem fs = new LockCapturingFileSystem(stalledFs);
            DB stalled = DB.open(dir, Options.defaults().fileSystem(fs));
            try {
                stalled.put(b("before"), b("1"), sync);
                stalled.flush(); // the next write starts a new WAL
                fs.lock.pauseHeartbeat(true);
                awaitRefusal(fs.lock);
                O3Exception refused = assertThrows(O3Exception.class, () -> stalled.put(b("after"), b("2"), sync));
                assertTrue(refused.getMessage().contains("/lock/fenced-db/LOCK")
                        && refused.getMessage().contains("can no longer be vouched for"), refused.getMessage());
                assertThrows(O3Exception.class, () -> stalled.put(b("later"), b("3"), sync));

                // a new owner (its own client) takes the lock over from the stalled one, which is still open
                URI uri = hdfs.uri(dir + "?o3lsm.lock.heartbeat.ms=100&o3lsm.lock.dead-after.ms=6000");
                try (DB owner = DB.open(uri, Options.defaults().createIfMissing(false))) {
                    assertEquals("1", new String(owner.get(b("before")), StandardCharsets.UTF_8));
                    assertNull(owner.get(b("after")));
                    assertNull(owner.get(b("later")));
                }
            } finally {
                try {
                    stalled.close();
                } catch (O3Exception fenced) {
                    // expected: its lock and MANIFEST were taken over
                }
            }
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Forwards to an {@link HdfsFileSystem} and keeps the lock the DB took, for the test to stall. */
    private static final class LockCapturingFileSystem extends io.o3lsm.ForwardingFileSystem {
        volatile HdfsLock lock;

        LockCapturingFileSystem(HdfsFileSystem inner) {
            super(inner);
        }

        @Override
        public Lock lock(Path path) throws IOException {
            HdfsLock l = (HdfsLock) inner.lock(path);
            lock = l;
            return l;
        }
    }

    @Test
    void shouldRefuseASecondOpenOfTheSameDbInOneProcess() throws IOException {
        URI uri = hdfs.uri("/lock/db");
        try (DB db = DB.open(uri, Options.defaults())) {
            db.put("k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
            O3Exception e = assertThrows(O3Exception.class, () -> DB.open(uri, Options.defaults()));
            assertTrue(e.getMessage().contains("LOCK") || e.getMessage().contains("lock"), e.getMessage());
        }
        try (DB db = DB.open(uri, Options.defaults())) {
            assertEquals("v", new String(db.get("k".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldRefuseAFileSystemOptionTogetherWithAnHdfsUri() {
        assertThrows(IllegalArgumentException.class,
                () -> DB.open(hdfs.uri("/lock/x"), Options.defaults().fileSystem(new io.o3lsm.ForwardingFileSystem())));
    }
}
