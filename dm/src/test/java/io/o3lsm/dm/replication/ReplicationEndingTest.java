package io.o3lsm.dm.replication;

import static io.o3lsm.dm.replication.ReplicationFixtures.await;
import static io.o3lsm.dm.replication.ReplicationFixtures.primaryLive;
import static io.o3lsm.dm.replication.ReplicationFixtures.record;

import io.o3lsm.dm.replication.ReplicationFixtures.FakeSource;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeTarget;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationEndingTest {
    @TempDir
    Path dir;

    /** Groups a backup acknowledged (their puts flushed) and had not applied when it was dropped are applied before the connection ends. */
    @Test
    void acknowledgedFramesStillInTheRingAreAppliedWhenTheBackupIsDropped() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = ReplicationFixtures.primary(dir, Duration.ofMillis(500), src);
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = ReplicationFixtures.backup(p, "b1", t);
        await("live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        t.blockAfter = 0;
        CountDownLatch gate = new CountDownLatch(1);
        t.gate = gate;
        long last = 0;
        int n = 100;
        for (int i = 1; i <= n; i++) {
            byte[] r = record(i, 200);
            last = p.publish(1, List.of(r), new int[] {r.length});
        }
        p.awaitAcks(last, 1); // the backup's memory holds all 100 groups
        // overflow the ring: publish blocks ackTimeout, then drops b1
        for (int i = n + 1; i <= n + 400; i++) {
            byte[] r = record(i, 200);
            p.publish(1, List.of(r), new int[] {r.length});
            if (!primaryLive(p, "b1")) {
                break;
            }
        }
        Thread.sleep(300); // ERROR DROPPED reaches the backup
        p.close(); // the primary is gone: no catch-up can redeliver
        gate.countDown();
        Thread.sleep(2000);
        int applied = 0;
        for (byte[] r : t.records()) {
            if (ReplicationFixtures.sequenceOf(r) <= n) {
                applied++;
            }
        }
        b.close();
        Assertions.assertEquals(n, applied, "acknowledged groups the backup applied");
    }

    /** close() waits for the session threads before it unmaps the staging buffers they copy table chunks into (it used to crash the JVM). */
    @Test
    void closingWhileATableIsBeingReadLeavesTheProcessRunning() throws Exception {
        byte[] b = new byte[4 << 20];
        new Random(1).nextBytes(b);
        Files.write(dir.resolve(PrimarySession.tableName(12)), b);
        CountDownLatch inRead = new CountDownLatch(1);
        FileSystem local = FileSystem.local();
        FileSystem slow = (FileSystem) Proxy.newProxyInstance(FileSystem.class.getClassLoader(),
                new Class<?>[] {FileSystem.class}, (proxy, m, args) -> {
                    try {
                        Object r = m.invoke(local, args);
                        if (m.getName().equals("newReadableFile")) {
                            FileSystem.ReadableFile f = (FileSystem.ReadableFile) r;
                            return Proxy.newProxyInstance(FileSystem.class.getClassLoader(),
                                    new Class<?>[] {FileSystem.ReadableFile.class}, (p2, m2, a2) -> {
                                        if (m2.getName().equals("readFully") && (long) a2[0] > 0) {
                                            inRead.countDown();
                                            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
                                            while (System.nanoTime() - until < 0) {
                                                LockSupport.parkNanos(1_000_000); // a slow storage read, not interruptible
                                            }
                                        }
                                        try {
                                            return m2.invoke(f, a2);
                                        } catch (InvocationTargetException e) {
                                            throw e.getCause();
                                        }
                                    });
                        }
                        return r;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Replication.Primary p = new UcxReplicationProvider().listen(new Replication.PrimaryConfig("127.0.0.1:0",
                ReplicationFixtures.SECRET, "db-1", 7, slow, dir, Duration.ofSeconds(5)), new FakeSource());
        FakeTarget t = new FakeTarget();
        ReplicationBackup bk = ReplicationFixtures.backup(p, "b1", t);
        await("live", 20_000, () -> bk.live() && primaryLive(p, "b1"));
        p.shipEdit("e1".getBytes(), List.of(new Replication.FileRef(12, b.length)), () -> { });
        Assertions.assertTrue(inRead.await(20, TimeUnit.SECONDS));
        p.close();
        Thread.sleep(2000); // a crash would end this JVM (surefire reports the fork's death)
        Assertions.assertTrue(inRead.getCount() == 0);
        bk.close();
    }
}
