package io.o3lsm.dm.replication;

import static io.o3lsm.dm.replication.ReplicationFixtures.await;
import static io.o3lsm.dm.replication.ReplicationFixtures.primaryLive;
import static io.o3lsm.dm.replication.ReplicationFixtures.record;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.replication.ReplicationFixtures.FakeSource;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeTarget;
import io.o3lsm.spi.Replication;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Index shipping (tables, edits) and the catch-up's order; real UCX in this JVM. */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationShippingTest extends ReplicationTestBase {

    private Replication.FileRef table(long number, int size) throws Exception {
        byte[] b = new byte[size];
        new Random(number).nextBytes(b);
        Files.write(dir.resolve(PrimarySession.tableName(number)), b);
        return new Replication.FileRef(number, size);
    }

    private byte[] bytesOf(long number) throws Exception {
        return Files.readAllBytes(dir.resolve(PrimarySession.tableName(number)));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldShipTablesChunkByChunkThenTheEditAndReleaseOnceSent() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t1 = new FakeTarget();
        FakeTarget t2 = new FakeTarget();
        ReplicationBackup b1 = track(ReplicationFixtures.backup(p, "b1", t1));
        ReplicationBackup b2 = track(ReplicationFixtures.backup(p, "b2", t2));
        await("backups live", 20_000, () -> b1.live() && b2.live() && primaryLive(p, "b1") && primaryLive(p, "b2"));
        // several chunks (landing buffer 1 MiB), a small table, an empty one
        List<Replication.FileRef> files = List.of(table(12, (5 << 19) + 17), table(13, 100), table(14, 0));
        AtomicInteger released = new AtomicInteger();
        p.shipEdit(utf8("e1"), files, released::incrementAndGet);
        p.shipEdit(utf8("e2"), List.of(), released::incrementAndGet);
        List<String> expected = List.of("file-begin 12", "file-done 12 " + ((5 << 19) + 17), "file-begin 13",
                "file-done 13 100", "file-begin 14", "file-done 14 0", "edit e1", "edit e2");
        await("both edits applied on both backups", 20_000,
                () -> t1.events().contains("edit e2") && t2.events().contains("edit e2"));
        for (FakeTarget t : List.of(t1, t2)) {
            List<String> ev = new ArrayList<>(t.events());
            ev.removeIf(e -> e.startsWith("caught-up"));
            assertEquals(expected, ev);
            for (long n = 12; n <= 14; n++) {
                assertArrayEquals(bytesOf(n), t.files.get(n).toByteArray(), "table " + n);
            }
        }
        await("release ran once per edit", 10_000, () -> released.get() == 2);
    }

    @Test
    void shouldReportFileFailedForACorruptChunkAndShipTheTableAgain() throws Exception {
        FakeSource src = new FakeSource();
        ReplicationPrimary p = (ReplicationPrimary) track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        AtomicBoolean corrupted = new AtomicBoolean();
        p.chunkHookForTest = (number, offset, staging, length) -> {
            if (number == 20 && offset > 0 && corrupted.compareAndSet(false, true)) {
                staging.putByte(length / 2, (byte) (staging.getByte(length / 2) ^ 0x5a)); // after its CRC was taken
            }
        };
        Replication.FileRef f = table(20, (3 << 20) + 5);
        AtomicInteger released = new AtomicInteger();
        p.shipEdit(utf8("e20"), List.of(f), released::incrementAndGet);
        await("edit applied", 20_000, () -> t.events().contains("edit e20"));
        List<String> ev = t.events();
        ev.removeIf(e -> e.startsWith("caught-up"));
        assertTrue(corrupted.get());
        assertEquals(List.of("file-begin 20", "file-failed 20", "file-begin 20", "file-done 20 " + f.size(), "edit e20"),
                ev, "a corrupt chunk fails the file; it is shipped again, and the edit follows");
        assertArrayEquals(bytesOf(20), t.files.get(20L).toByteArray());
        await("released", 10_000, () -> released.get() == 1);
    }

    @Test
    void shouldNeverCompleteATableWhoseChunksKeepArrivingCorruptAndDropTheBackup() throws Exception {
        FakeSource src = new FakeSource();
        ReplicationPrimary p = (ReplicationPrimary) track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        p.chunkHookForTest = (number, offset, staging, length) -> {
            if (number == 21) {
                staging.putByte(0, (byte) (staging.getByte(0) ^ 1));
            }
        };
        AtomicInteger released = new AtomicInteger();
        p.shipEdit(utf8("e21"), List.of(table(21, 5000)), released::incrementAndGet);
        await("released once the backup is gone", 20_000, () -> released.get() == 1);
        await("the backup reconnects and catches up", 20_000, () -> src.catchUps.get() >= 2 && b.live());
        List<String> ev = t.events();
        assertEquals(PrimarySession.FILE_ATTEMPTS, ev.stream().filter(e -> e.equals("file-failed 21")).count(), ev.toString());
        assertTrue(ev.stream().noneMatch(e -> e.startsWith("file-done 21") || e.equals("edit e21")), ev.toString());
        assertTrue(((ReplicationPrimary) p).lastDrop.get("b1").contains("refused table 21 3 times"),
                p.lastDrop.get("b1"));
    }

    @Test
    void shouldCatchUpInOrderAndSendEditsShippedMeanwhileAfterTheSnapshot() throws Exception {
        FakeSource src = new FakeSource();
        src.files = List.of(table(5, 3000));
        src.snapshot = utf8("snap");
        src.catchUpRecords = List.of(record(1, 50), record(2, 70_000), record(3, 12));
        src.lastSequence = 3;
        src.pauseAfterSnapshot = new CountDownLatch(1);
        src.pausedSignal = new CountDownLatch(1);
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(5), src));
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        assertTrue(src.pausedSignal.await(20, TimeUnit.SECONDS), "the catch-up reached its pause");
        AtomicInteger released = new AtomicInteger();
        p.shipEdit(utf8("during"), List.of(table(6, 10)), released::incrementAndGet);
        assertFalse(b.live());
        src.pauseAfterSnapshot.countDown();
        await("the edit shipped during the catch-up arrives", 20_000, () -> t.events().contains("edit during"));
        assertTrue(b.live());
        assertEquals(List.of("file-begin 5", "file-done 5 3000", "snapshot snap kept 0", "log 1", "log 2", "log 3",
                "caught-up 3", "file-begin 6", "file-done 6 10", "edit during"), t.events());
        assertArrayEquals(record(2, 70_000), t.records().get(1));
        await("released", 10_000, () -> released.get() == 1);
        // live groups follow the catch-up records
        long ticket;
        synchronized (src.walLock) {
            byte[] r = record(4, 30);
            ticket = p.publish(3, List.of(r), new int[] {r.length});
        }
        p.awaitAcks(ticket, 1);
        await("live record", 10_000, () -> t.recordCount() == 4);
    }

    @Test
    void shouldDropABackupThatDoesNotApplyCatchUpRecordsWithinTheAckTimeout() throws Exception {
        FakeSource src = new FakeSource();
        src.catchUpRecords = List.of(record(1, 40), record(2, 40));
        src.lastSequence = 2;
        ReplicationPrimary p = (ReplicationPrimary) track(ReplicationFixtures.primary(dir, Duration.ofMillis(300), src));
        FakeTarget t = new FakeTarget();
        t.gate = new CountDownLatch(1); // the catch-up's records wait in applyLog, as under the engine's WAL lock
        t.blockAfter = 0;
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("the primary gives up on the backup after the ack timeout", 20_000,
                () -> String.valueOf(p.lastDrop.get("b1")).contains("did not acknowledge LOG_BATCH within 300 ms"));
        assertFalse(b.live());
        t.gate.countDown();
        await("the backup catches up once it applies again", 20_000, () -> b.live() && primaryLive(p, "b1"));
        assertTrue(t.events().contains("caught-up 2"), t.events().toString());
    }

    @Test
    void shouldReleaseAnEditAtOnceWhenNoBackupIsAttached() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(1), src));
        AtomicInteger released = new AtomicInteger();
        p.shipEdit(utf8("alone"), List.of(), released::incrementAndGet);
        assertEquals(1, released.get());
    }
}
