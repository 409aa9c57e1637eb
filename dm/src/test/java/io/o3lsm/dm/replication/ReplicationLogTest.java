package io.o3lsm.dm.replication;

import static io.o3lsm.dm.replication.ReplicationFixtures.await;
import static io.o3lsm.dm.replication.ReplicationFixtures.primaryLive;
import static io.o3lsm.dm.replication.ReplicationFixtures.record;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.replication.ReplicationFixtures.FakeSource;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeTarget;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The log ring: publish, acknowledgements, flow control, fencing; real UCX, primary and backups in this JVM. */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationLogTest extends ReplicationTestBase {

    private static long publish(Replication.Primary p, FakeSource src, long wal, byte[]... records) throws IOException {
        int[] lengths = new int[records.length];
        for (int i = 0; i < records.length; i++) {
            lengths[i] = records[i].length;
        }
        synchronized (src.walLock) {
            return p.publish(wal, List.of(records), lengths);
        }
    }

    @Test
    void shouldDeliverPublishedGroupsInOrderAndWholeAcrossManyWrapsOfTheRing() throws Exception {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        System.out.println("ReplicationLogTest seed: -Dtests.seed=" + seed);
        Random rnd = new Random(seed);
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(10), src));
        FakeTarget t1 = new FakeTarget();
        FakeTarget t2 = new FakeTarget();
        ReplicationBackup b1 = track(ReplicationFixtures.backup(p, "b1", t1));
        ReplicationBackup b2 = track(ReplicationFixtures.backup(p, "b2", t2));
        await("both backups live", 20_000, () -> b1.live() && b2.live() && primaryLive(p, "b1") && primaryLive(p, "b2"));
        List<byte[]> sent = new ArrayList<>();
        long seq = 1;
        long bytes = 0;
        long lastTicket = 0;
        while (bytes < 8L * ReplicationFixtures.RING) { // the ring wraps at least 8 times
            int n = 1 + rnd.nextInt(5);
            byte[][] group = new byte[n][];
            for (int i = 0; i < n; i++) {
                int len = 12 + (rnd.nextInt(10) == 0 ? rnd.nextInt(6000) : rnd.nextInt(300));
                group[i] = record(seq++, len);
                sent.add(group[i]);
                bytes += len + 4;
            }
            long ticket = publish(p, src, 1 + seq / 500, group);
            assertTrue(ticket > lastTicket, "tickets increase");
            lastTicket = ticket;
            if (rnd.nextInt(20) == 0) {
                p.awaitAcks(ticket, 2);
            }
        }
        p.awaitAcks(lastTicket, 2);
        await("every record applied on both backups", 30_000,
                () -> t1.recordCount() == sent.size() && t2.recordCount() == sent.size());
        for (FakeTarget t : List.of(t1, t2)) {
            List<byte[]> got = t.records();
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), got.get(i), "record " + i + " (seed " + seed + ")");
            }
        }
        for (Replication.BackupStatus s : p.backups()) {
            assertEquals(lastTicket, s.ackedTicket(), s.name());
            assertTrue(s.bytesSent() >= bytes, s.name() + " was sent every byte");
        }
    }

    @Test
    void shouldAcknowledgeOnlyOnceTheBackupsMemoryHoldsTheFrame() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(10), src));
        FakeTarget t = new FakeTarget();
        t.gate = new CountDownLatch(1); // the backup applies nothing: only its memory can hold the frame
        t.blockAfter = 0;
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        byte[] r = record(4242, 700);
        long ticket = publish(p, src, 9, r);
        p.awaitAcks(ticket, 1);
        assertTrue(ringHolds(b, r), "the backup's log buffer holds the record once awaitAcks returned");
        t.gate.countDown();
        await("record applied", 10_000, () -> t.recordCount() == 1);
    }

    private static boolean ringHolds(ReplicationBackup b, byte[] r) {
        UnsafeBuffer ring = b.ringForTest();
        outer:
        for (int i = 0; i + r.length <= ring.capacity(); i++) {
            for (int j = 0; j < r.length; j++) {
                if (ring.getByte(i + j) != r[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void shouldFailAwaitAcksAfterTheTimeoutWhenNoBackupIsConnected() throws Exception {
        FakeSource src = new FakeSource();
        Duration timeout = Duration.ofMillis(300);
        Replication.Primary p = track(ReplicationFixtures.primary(dir, timeout, src));
        long ticket = publish(p, src, 1, record(1, 40));
        p.awaitAcks(ticket, 0); // async mode never waits
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> p.awaitAcks(ticket, 1));
        assertTrue(System.nanoTime() - t0 >= timeout.toNanos(), "waited the whole ackTimeout");
        assertTrue(e.getMessage().contains("0 of 1") && e.getMessage().contains("not enough backups connected"),
                e.getMessage());
    }

    @Test
    void shouldFailAwaitAcksWithMoreAcksThanLiveBackups() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofMillis(300), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        long ticket = publish(p, src, 1, record(1, 40));
        p.awaitAcks(ticket, 1);
        IOException e = assertThrows(IOException.class, () -> p.awaitAcks(ticket, 2));
        assertTrue(e.getMessage().contains("1 of 2") && e.getMessage().contains("1 live"), e.getMessage());
    }

    @Test
    void shouldReportAPrimaryFencedByANewerEpoch() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t = new FakeTarget();
        t.refuse = true;
        track(ReplicationFixtures.backup(p, "b1", t));
        await("primary records the fence", 20_000, () -> p.backups().stream().anyMatch(s -> s.fenced()));
        Replication.BackupStatus s = p.backups().get(0);
        assertEquals("b1", s.name());
        assertTrue(s.fenced() && !s.live());
        long ticket = publish(p, src, 1, record(1, 40));
        IOException e = assertThrows(IOException.class, () -> p.awaitAcks(ticket, 1));
        assertTrue(e.getMessage().contains("fenced by a newer epoch"), e.getMessage());
        assertEquals(0, src.catchUps.get(), "nothing is served to a backup that refused the primary");
    }

    @Test
    void shouldDropABackupWhoseBufferStaysFullAndCatchItUpOnReconnect() throws Exception {
        FakeSource src = new FakeSource();
        Duration ackTimeout = Duration.ofMillis(300);
        Replication.Primary p = track(ReplicationFixtures.primary(dir, ackTimeout, src));
        FakeTarget t = new FakeTarget();
        t.gate = new CountDownLatch(1);
        t.blockAfter = 1;
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "slow", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "slow"));
        long seq = 1;
        // 4 KiB groups into a 64 KiB ring the backup does not drain: publish must drop it within ackTimeout
        while (primaryLive(p, "slow")) {
            long t0 = System.nanoTime();
            publish(p, src, 1, record(seq++, 4096));
            assertTrue(System.nanoTime() - t0 < ackTimeout.toNanos() + TimeUnit.SECONDS.toNanos(5),
                    "publish waits for a full backup at most about ackTimeout");
            assertTrue(seq < 1000, "the slow backup was never dropped");
        }
        assertTrue(t.blocked, "the backup was blocked in applyLog");
        t.gate.countDown();
        await("the backup catches up again after it was dropped", 20_000,
                () -> src.catchUps.get() >= 2 && b.live() && primaryLive(p, "slow"));
        int before = t.recordCount();
        long ticket = publish(p, src, 2, record(100_000, 64));
        p.awaitAcks(ticket, 1);
        await("a group published after the reconnect arrives", 10_000, () -> t.recordCount() > before
                && ReplicationFixtures.sequenceOf(t.records().get(t.recordCount() - 1)) == 100_000);
    }

    @Test
    void shouldDropBackupsForAGroupLargerThanHalfTheRingAndCatchThemUp() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(2), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        byte[] big = record(7, ReplicationFixtures.RING / 2);
        src.catchUpRecords = List.of(big); // the catch-up carries it by message
        src.lastSequence = 7;
        long ticket = publish(p, src, 1, big);
        String why = ((ReplicationPrimary) p).lastDrop.get("b1");
        assertTrue(why != null && why.contains("does not fit the log ring"), String.valueOf(why));
        await("the backup catches up and gets the large record by message", 20_000,
                () -> src.catchUps.get() >= 2 && b.live() && t.recordCount() == 1);
        assertArrayEquals(big, t.records().get(0));
        assertTrue(t.events().contains("caught-up 7"), t.events().toString());
        p.awaitAcks(ticket, 1); // the catch-up delivered it: going live counts every group published before
    }

    @Test
    void shouldNeverTakeAFrameFailingItsCrcAndReconnectAfterTheTimeout() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p.address(), ReplicationFixtures.SECRET, "b1", t,
                ReplicationFixtures.RING, Duration.ofSeconds(1)));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        byte[] first = record(1, 100);
        p.awaitAcks(publish(p, src, 1, first), 1);
        await("first record applied", 10_000, () -> t.recordCount() == 1);
        // a frame that claims the next position (and this connection's instance) but fails its CRC: a torn write
        UnsafeBuffer ring = b.ringForTest();
        int next = RingFrameDescriptor.align(RingFrameDescriptor.HEADER_LENGTH + 4 + first.length);
        ring.putLong(next + RingFrameDescriptor.POSITION_OFFSET, next, java.nio.ByteOrder.LITTLE_ENDIAN);
        ring.putInt(next + RingFrameDescriptor.INSTANCE_OFFSET, RingFrameDescriptor.instance(ring, 0),
                java.nio.ByteOrder.LITTLE_ENDIAN);
        ring.putInt(next + RingFrameDescriptor.TYPE_OFFSET, RingFrameDescriptor.TYPE_LOG, java.nio.ByteOrder.LITTLE_ENDIAN);
        ring.putInt(next + RingFrameDescriptor.LENGTH_OFFSET, 16, java.nio.ByteOrder.LITTLE_ENDIAN);
        ring.putInt(next + RingFrameDescriptor.CRC_OFFSET, 12345, java.nio.ByteOrder.LITTLE_ENDIAN);
        ring.putInt(next + RingFrameDescriptor.HEADER_LENGTH, 12, java.nio.ByteOrder.LITTLE_ENDIAN);
        await("the backup gives the damaged frame up after its timeout and reconnects", 20_000,
                () -> src.catchUps.get() >= 2 && b.live());
        assertEquals(1, t.recordCount(), "the damaged frame was never applied");
        assertTrue(t.events().stream().noneMatch(e -> e.startsWith("log 0")), t.events().toString());
        long ticket = publish(p, src, 1, record(2, 100));
        p.awaitAcks(ticket, 1);
        await("the next record arrives on the new connection", 10_000, () -> t.recordCount() == 2);
    }

    @Test
    void shouldRefuseABackupWhoseLogBufferIsSmallerThanTheRing() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t1 = new FakeTarget();
        ReplicationBackup b1 = track(ReplicationFixtures.backup(p.address(), ReplicationFixtures.SECRET, "big", t1,
                2 * ReplicationFixtures.RING, Duration.ofSeconds(5)));
        await("first backup live", 20_000, () -> b1.live() && primaryLive(p, "big"));
        FakeTarget t2 = new FakeTarget();
        ReplicationBackup b2 = track(ReplicationFixtures.backup(p.address(), ReplicationFixtures.SECRET, "small", t2,
                ReplicationFixtures.RING, Duration.ofSeconds(5)));
        await("the smaller backup is told why", 20_000, () -> b2.lastFailure().contains("smaller than this primary's log"
                + " ring"));
        assertTrue(!b2.live() && !primaryLive(p, "small"));
    }
}
