package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.ReplicationException;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine's side of replication over the in-process {@link LoopbackReplication}: a replica holds
 * the primary's data and tables byte for byte without flushing or compacting, its reads are a
 * consistent prefix at every applied sequence, it catches up after a restart, refuses writes, and a
 * promoted replica has every acknowledged write and fences the old primary.
 */
class ReplicationTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;
    Path secret;
    LoopbackReplication loop;
    static final String ADDR = "127.0.0.1:7101";

    @BeforeEach
    void setUp() throws Exception {
        secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        loop = new LoopbackReplication();
    }

    /** Small buffers: many flushes and compactions. */
    Options small() {
        return Options.defaults().shardCount(2).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
    }

    Options primaryOptions() {
        return small().replicationListen(ADDR, secret);
    }

    Options replicaOptions(String addr) {
        return small().replicaOf(addr, secret);
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    static TreeMap<String, String> contents(DB db, ReadOptions ro) {
        TreeMap<String, String> out = new TreeMap<>();
        try (DBIterator it = db.iterator(ro)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(new String(it.key(), StandardCharsets.UTF_8), new String(it.value(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** The replica has applied everything and its tables are the primary's current ones. */
    static void awaitInSync(DBImpl primary, Replica replica) throws InterruptedException {
        await(() -> replica.appliedSequence() == primary.lastSequence()
                && tables(primary).keySet().equals(tables(((ReplicaDB) replica).impl()).keySet()),
                "the replica applied sequence " + primary.lastSequence() + " and holds the primary's tables");
    }

    static Map<Long, Integer> tables(DBImpl db) {
        Map<Long, Integer> out = new TreeMap<>();
        Version v = db.currentVersion();
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            for (FileMetaData f : v.files(l)) {
                out.put(f.number, l);
            }
        }
        return out;
    }

    @Test
    void replicaHoldsThePrimarysDataAndTablesWithoutFlushingOrCompacting() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            DBImpl primary = (DBImpl) p;
            Random rnd = new Random(1);
            for (int i = 0; i < 20_000; i++) {
                int k = rnd.nextInt(5000);
                if (i % 97 == 0) {
                    p.delete(b(String.format("k%05d", k)));
                } else if (i % 1000 == 999) {
                    p.deleteRange(b(String.format("k%05d", k)), b(String.format("k%05d", k + 40)));
                } else {
                    p.put(b(String.format("k%05d", k)), b("v" + i + "-" + "x".repeat(rnd.nextInt(60))));
                }
            }
            primary.waitForFlushes();
            primary.waitForCompactions();
            assertTrue(primary.engine().stats.compactions.sum() > 0, "the primary compacted");
            awaitInSync(primary, r);
            assertEquals(contents(p, ReadOptions.defaults()), contents(r, ReadOptions.defaults()));
            for (Map.Entry<Long, Integer> t : tables(primary).entrySet()) {
                String name = FileNames.table(t.getKey());
                assertArrayEquals(Files.readAllBytes(primaryDir.resolve(name)), Files.readAllBytes(replicaDir.resolve(name)),
                        "table " + name + " byte for byte");
            }
            assertEquals(tables(primary), tables(((ReplicaDB) r).impl()), "same tables at the same levels");
            Engine re = ((ReplicaDB) r).impl().engine();
            assertEquals(0, re.stats.flushes.sum(), "the replica never flushes");
            assertEquals(0, re.stats.compactions.sum(), "the replica never compacts");
            assertTrue(re.stats.replicaTableBytes.sum() > 0);
            // the edits covered what the replica had in memtables: only shards the flushes straddled stay
            int sealed = 0;
            for (MemShard[] list : re.sv.sealed) {
                sealed += list.length;
            }
            assertTrue(sealed <= 2 * re.sv.sealed.length, sealed + " sealed shards left on the replica");
            assertTrue(r.property("o3.replica").contains("live=true"), r.property("o3.replica"));
            assertEquals(Long.toString(primary.lastSequence()), r.property("o3.replica.appliedSequence"));
        }
    }

    @Test
    void replicaReadsAreAConsistentPrefixAtEveryAppliedSequence() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            // the model: the state after each sequence (one writer, one operation per write)
            List<String[]> ops = new ArrayList<>();
            ops.add(null); // sequence numbers start at 1
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                Random rnd = new Random(7);
                try {
                    for (int i = 0; i < 12_000 && !stop.get(); i++) {
                        String k = String.format("k%04d", rnd.nextInt(800));
                        String v = rnd.nextInt(10) == 0 ? null : "v" + i + "x".repeat(rnd.nextInt(80));
                        synchronized (ops) {
                            ops.add(new String[] {k, v});
                            if (v == null) {
                                p.delete(b(k));
                            } else {
                                p.put(b(k), b(v));
                            }
                        }
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            writer.start();
            int checks = 0;
            while (writer.isAlive() || checks < 5) {
                try (Snapshot s = r.snapshot()) {
                    long seq = s.sequence();
                    TreeMap<String, String> seen = contents(r, ReadOptions.defaults().snapshot(s));
                    TreeMap<String, String> model = new TreeMap<>();
                    synchronized (ops) {
                        assertTrue(seq < ops.size(), "replica at " + seq + " is ahead of the primary's " + (ops.size() - 1));
                        for (int i = 1; i <= seq; i++) {
                            String[] op = ops.get(i);
                            if (op[1] == null) {
                                model.remove(op[0]);
                            } else {
                                model.put(op[0], op[1]);
                            }
                        }
                    }
                    assertEquals(model, seen, "replica reads at applied sequence " + seq);
                    checks++;
                }
                Thread.sleep(3);
            }
            writer.join();
            assertNull(failed.get());
            assertTrue(checks >= 5, checks + " checks");
        }
    }

    @Test
    void writeWithOneAckReturnsOnceTheReplicaHoldsIt() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            await(r::live, "the replica is live");
            WriteOptions one = WriteOptions.defaults().replicationAcks(1);
            for (int i = 0; i < 500; i++) {
                p.put(b("a" + i), b("v" + i), one);
                // the loopback applies on the publishing thread: acknowledged means applied
                assertArrayEquals(b("v" + i), r.get(b("a" + i)));
            }
        }
    }

    @Test
    void writeAskingForMoreAcksThanBackupsFailsAfterTheTimeoutButStaysInThePrimary() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions().replicationAckTimeout(Duration.ofMillis(200)))) {
            ReplicationException ex = assertThrows(ReplicationException.class,
                    () -> p.put(b("k"), b("v"), WriteOptions.defaults().replicationAcks(1)));
            assertTrue(ex.getMessage().contains("not confirmed by 1 backup"), ex.getMessage());
            assertArrayEquals(b("v"), p.get(b("k")), "the write is in the primary's WAL and memtable");
            p.put(b("k2"), b("v2")); // async writes go on
        }
    }

    @Test
    void acksWithoutReplicationAreRefusedBeforeWriting() throws Exception {
        try (DB p = DB.open(primaryDir, Options.defaults())) {
            ReplicationException ex = assertThrows(ReplicationException.class,
                    () -> p.put(b("k"), b("v"), WriteOptions.defaults().replicationAcks(2)));
            assertTrue(ex.getMessage().contains("not a replication primary"), ex.getMessage());
            assertNull(p.get(b("k")));
        }
        assertThrows(IllegalArgumentException.class, () -> WriteOptions.defaults().replicationAcks(-1));
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> p.put(b("k"), b("v"), WriteOptions.defaults().replicationAcks(1).disableWal(true)));
            assertTrue(ex.getMessage().contains("disableWal"), ex.getMessage());
        }
    }

    @Test
    void replicaRefusesWritesFlushesAndCompactions() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            p.put(b("k"), b("v"));
            assertThrows(ReadOnlyException.class, () -> r.put(b("k"), b("x")));
            assertThrows(ReadOnlyException.class, () -> r.delete(b("k")));
            assertThrows(ReadOnlyException.class, () -> r.write(new WriteBatch().put(b("a"), b("b")), WriteOptions.defaults()));
            assertThrows(ReadOnlyException.class, r::flush);
            assertThrows(ReadOnlyException.class, () -> r.compactRange(null, null));
            ReadOnlyException txn = assertThrows(ReadOnlyException.class, () -> r.beginTransaction(WriteOptions.defaults()));
            assertTrue(txn.getMessage().contains("beginTransaction") && txn.getMessage().contains("replica"),
                    txn.getMessage());
            assertThrows(ReadOnlyException.class, () -> r.beginTransaction(WriteOptions.defaults(),
                    io.o3lsm.TransactionOptions.defaults().setSnapshot(true)));
            await(() -> Arrays.equals(b("v"), r.get(b("k"))), "the replica shows k");
            // a WriteBatchWithIndex may still read through a replica (its own writes over the replica's data)
            try (io.o3lsm.WriteBatchWithIndex wb = new io.o3lsm.WriteBatchWithIndex()) {
                wb.put(b("j"), b("mine"));
                assertArrayEquals(b("mine"), wb.getFromBatchAndDB(r, ReadOptions.defaults(), b("j")));
                assertArrayEquals(b("v"), wb.getFromBatchAndDB(r, ReadOptions.defaults(), b("k")));
            }
        }
    }

    @Test
    void optionsNamingBothRolesOrNoSecretAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DB.openReplica(replicaDir, small()));
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> DB.open(primaryDir, small().replicationListen(ADDR, secret).replicaOf(ADDR, secret)));
        assertTrue(both.getMessage().contains("exclusive"), both.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DB.open(primaryDir, small().replicationListen("nohost", secret)));
        assertThrows(IllegalArgumentException.class, () -> DB.open(primaryDir, small().replicationListen(ADDR, null)));
    }

    @Test
    void restartedReplicaKeepsItsLogAndCatchesUp() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            DBImpl primary = (DBImpl) p;
            TreeMap<String, String> model = new TreeMap<>();
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                await(r::live, "the replica is live");
                for (int i = 0; i < 3000; i++) {
                    p.put(b("k" + (i % 700)), b("first" + i));
                    model.put("k" + (i % 700), "first" + i);
                }
                awaitInSync(primary, r);
            }
            // while the replica is away: more writes, flushes, compactions
            for (int i = 0; i < 15_000; i++) {
                p.put(b("k" + (i % 2000)), b("second" + i + "y".repeat(i % 50)));
                model.put("k" + (i % 2000), "second" + i + "y".repeat(i % 50));
            }
            primary.waitForFlushes();
            primary.waitForCompactions();
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                awaitInSync(primary, r);
                assertEquals(model, contents(r, ReadOptions.defaults()));
                assertEquals(tables(primary), tables(((ReplicaDB) r).impl()));
            }
        }
    }

    @Test
    void replicaReopenedWithoutItsPrimaryServesWhatItHad() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            await(r::live, "the replica is live");
            for (int i = 0; i < 8000; i++) {
                p.put(b("k" + (i % 3000)), b("v" + i), WriteOptions.defaults().replicationAcks(1));
                model.put("k" + (i % 3000), "v" + i);
            }
        }
        // the primary is gone: the replica's own tables and log files hold everything acknowledged
        try (Replica r = DB.openReplica(replicaDir, replicaOptions("127.0.0.1:7199"))) {
            assertEquals(model, contents(r, ReadOptions.defaults()));
            assertFalse(r.live());
        }
    }

    @Test
    void promotedReplicaHasEveryAcknowledgedWriteAndFencesTheOldPrimary() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        long oldEpoch;
        Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR));
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            oldEpoch = ((DBImpl) p).engine().versions.epoch();
            await(r::live, "the replica is live");
            for (int i = 0; i < 6000; i++) {
                p.put(b("k" + (i % 1500)), b("v" + i), WriteOptions.defaults().replicationAcks(1));
                model.put("k" + (i % 1500), "v" + i);
            }
        } // the primary goes away (closed here; a SIGKILL in the process tests)
        String newAddr = "127.0.0.1:7102";
        try (DB promoted = r.promote(small().replicationListen(newAddr, secret))) {
            assertEquals(model, contents(promoted, ReadOptions.defaults()));
            long newEpoch = ((DBImpl) promoted).engine().versions.epoch();
            assertTrue(newEpoch > oldEpoch + (1L << 31), newEpoch + " vs " + oldEpoch);
            promoted.put(b("after"), b("promotion"));
            assertArrayEquals(b("promotion"), promoted.get(b("after")));
            // a second backup follows the new primary...
            Path other = Files.createTempDirectory(replicaDir.getParent(), "other");
            try (Replica b2 = DB.openReplica(other, replicaOptions(newAddr))) {
                await(b2::live, "the second backup is live");
                await(() -> Arrays.equals(b("promotion"), b2.get(b("after"))), "the second backup has the new write");
                b2.close();
                // ...and refuses the old primary, reopened at its old address (it adds 1 to its epoch)
                try (DB old = DB.open(primaryDir, primaryOptions().replicationAckTimeout(Duration.ofMillis(500)));
                        Replica b3 = DB.openReplica(other, replicaOptions(ADDR))) {
                    ReplicationException ex = assertThrows(ReplicationException.class,
                            () -> old.put(b("stale"), b("write"), WriteOptions.defaults().replicationAcks(1)));
                    assertTrue(ex.getMessage().contains("fenced"), ex.getMessage());
                    assertNull(b3.get(b("stale")));
                    assertFalse(b3.live());
                }
            }
        }
    }

    @Test
    void catchUpSendsTheRecordsOfClosedWalsNotYetFlushed() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (DB p = DB.open(primaryDir, primaryOptions().writeBufferSize(32 << 20))) {
            DBImpl primary = (DBImpl) p;
            primary.engine().flushes.beforeFlush = () -> {
                try {
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < 20_000; i++) {
                p.put(b("k" + (i % 5000)), b("v" + i + "z".repeat(i % 40)));
                model.put("k" + (i % 5000), "v" + i + "z".repeat(i % 40));
            }
            int liveWals;
            primary.engine().mutex.lock();
            try {
                liveWals = primary.engine().wals.live().size();
            } finally {
                primary.engine().mutex.unlock();
            }
            assertTrue(liveWals > 3, liveWals + " live WALs: sealed shards wait in closed WALs");
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                await(r::live, "the replica is live");
                assertEquals(model, contents(r, ReadOptions.defaults()), "caught up from the WALs alone");
                release.countDown();
                primary.waitForFlushes();
                awaitInSync(primary, r);
                assertEquals(model, contents(r, ReadOptions.defaults()), "after the flushes' edits");
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void rebuildingBaselineReplicaFlushesAndCompactsItselfFromTheLogAlone() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions().replicationShipTables(false));
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR).replicaRebuildsTables(true))) {
            DBImpl primary = (DBImpl) p;
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < 20_000; i++) {
                p.put(b("k" + (i % 4000)), b("v" + i + "w".repeat(i % 30)), WriteOptions.defaults().replicationAcks(1));
                model.put("k" + (i % 4000), "v" + i + "w".repeat(i % 30));
            }
            primary.waitForFlushes();
            assertEquals(model, contents(r, ReadOptions.defaults()));
            Engine re = ((ReplicaDB) r).impl().engine();
            await(() -> re.stats.flushes.sum() > 0, "the baseline replica flushes its own memtables");
            assertEquals(0, re.stats.replicaTableBytes.sum(), "no table was shipped");
            assertTrue(r.property("o3.replica").contains("rebuildsTables=true"), r.property("o3.replica"));
            assertThrows(ReadOnlyException.class, () -> r.put(b("x"), b("y")));
        }
    }

    @Test
    void readsDuringACatchUpShowTheStateBeforeItUntilTheLogReachesTheNewTables() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            DBImpl primary = (DBImpl) p;
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                p.put(b("k"), b("v1"));
                for (int i = 0; i < 3000; i++) {
                    p.put(b("f" + i), b("x".repeat(50)));
                }
                primary.flush();
                awaitInSync(primary, r);
            }
            // while the replica is away, k changes and the old version is compacted away
            p.put(b("k"), b("v2"));
            p.compactRange(null, null);
            AtomicReference<String> seen = new AtomicReference<>();
            AtomicReference<Replica> replica = new AtomicReference<>();
            loop.afterSnapshot = () -> {
                Replica rr = replica.get();
                if (rr != null && seen.get() == null) {
                    byte[] v = rr.get(b("k"));
                    seen.set(v == null ? "missing" : new String(v, StandardCharsets.UTF_8));
                }
            };
            Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR));
            try {
                replica.set(r); // the catch-up may have begun: the hook reads only once the replica is known
                awaitInSync(primary, r);
                assertArrayEquals(b("v2"), r.get(b("k")));
            } finally {
                r.close();
            }
            if (seen.get() != null) {
                assertTrue(seen.get().equals("v1") || seen.get().equals("v2"), "read during catch-up: " + seen.get());
            }
        }
    }

    /**
     * A transport that hands a backup a compaction's edit before the edit of the flush it compacts (the
     * SPI promises install order; LoopbackReplication broke it when edits shipped during a catch-up were
     * handed to its edits thread after newer ones): the replica takes no edit out of order (applied, the
     * flush's table the compaction deleted would stay in its tables for good, its operands counted
     * twice), ends the link, and the catch-up makes its tables exactly the primary's.
     */
    @Test
    void replicaRefusesAnEditOutOfInstallOrderAndCatchesUpAgain() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            DBImpl primary = (DBImpl) p;
            await(r::live, "the replica is live");
            p.put(b("k"), b("v1"));
            p.flush(); // one table in L0
            awaitInSync(primary, r);
            long compactions = primary.engine().stats.compactions.sum();
            loop.swapNextTwoEdits = true; // the next flush's edit reaches the replica after the one shipped next
            p.put(b("k"), b("v2"));
            p.flush(); // a second table in L0: level0CompactionTrigger(2) compacts both away
            primary.waitForFlushes();
            primary.waitForCompactions();
            assertTrue(primary.engine().stats.compactions.sum() > compactions, "the primary compacted");
            assertFalse(loop.swapNextTwoEdits, "two edits were delivered swapped");
            awaitInSync(primary, r);
            assertArrayEquals(b("v2"), r.get(b("k")));
            assertEquals(contents(p, ReadOptions.defaults()), contents(r, ReadOptions.defaults()));
        }
    }

    @Test
    void replicaSnapshotKeepsItsVersionsWhenThePrimaryCompactsThemAway() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            DBImpl primary = (DBImpl) p;
            p.put(b("k"), b("v1"));
            for (int i = 0; i < 3000; i++) { // seal the shard holding v1: the replica drops it once flushed
                p.put(b("f" + i), b("x".repeat(50)));
            }
            primary.flush();
            awaitInSync(primary, r);
            try (Snapshot s = r.snapshot()) {
                p.put(b("k"), b("v2"));
                p.compactRange(null, null); // the primary keeps no v1: no snapshot of its own needs it
                awaitInSync(primary, r);
                assertArrayEquals(b("v2"), r.get(b("k")));
                assertArrayEquals(b("v1"), r.get(ReadOptions.defaults().snapshot(s), b("k")));
                assertEquals("v1", contents(r, ReadOptions.defaults().snapshot(s)).get("k"));
            }
        }
    }

    @Test
    void backupAheadOfThePromotedOneTakesThePromotedHistory() throws Exception {
        Path dirB = Files.createTempDirectory(replicaDir.getParent(), "b2");
        Replica b1 = DB.openReplica(replicaDir, replicaOptions(ADDR));
        Replica b2 = DB.openReplica(dirB, replicaOptions(ADDR));
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            await(() -> b1.live() && b2.live(), "both backups are live");
            for (int i = 0; i < 100; i++) {
                p.put(b("a" + i), b("v"), WriteOptions.defaults().replicationAcks(2));
            }
            b1.close(); // b1 stops at 100 writes; b2 takes 100 more
            for (int i = 0; i < 100; i++) {
                p.put(b("b" + i), b("v"), WriteOptions.defaults().replicationAcks(1));
            }
            await(() -> b2.appliedSequence() == ((DBImpl) p).lastSequence(), "b2 applied everything");
        }
        b2.close();
        String newAddr = "127.0.0.1:7103";
        try (DB promoted = Replica.promote(replicaDir, small().replicationListen(newAddr, secret))) {
            for (int i = 0; i < 300; i++) {
                promoted.put(b("c" + i), b("w"));
            }
            TreeMap<String, String> expected = contents(promoted, ReadOptions.defaults());
            assertFalse(expected.containsKey("b0"), "the promoted backup never had b*");
            try (Replica again = DB.openReplica(dirB, replicaOptions(newAddr))) {
                await(() -> again.live() && again.appliedSequence() == ((DBImpl) promoted).lastSequence(),
                        "b2 follows the promoted primary");
                assertEquals(expected, contents(again, ReadOptions.defaults()), "b2 holds exactly the new history");
            }
        }
    }

    @Test
    void aWriterWaitingForOneAckIsNotFailedByAnotherAskingForMore() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions().replicationAckTimeout(Duration.ofMillis(300)));
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            await(r::live, "the replica is live");
            AtomicBoolean stop = new AtomicBoolean();
            Thread greedy = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        p.put(b("two" + i), b("v"), WriteOptions.defaults().replicationAcks(2)); // only one backup
                    } catch (ReplicationException expected) {
                        // always: one backup
                    }
                }
            });
            greedy.start();
            try {
                for (int i = 0; i < 300; i++) {
                    p.put(b("one" + i), b("v"), WriteOptions.defaults().replicationAcks(1));
                }
            } finally {
                stop.set(true);
                greedy.join();
            }
        }
    }

    @Test
    void replicaDroppedMidStreamCatchesUpAgain() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            DBImpl primary = (DBImpl) p;
            TreeMap<String, String> model = new TreeMap<>();
            for (int i = 0; i < 20_000; i++) {
                p.put(b("k" + (i % 4000)), b("v" + i));
                model.put("k" + (i % 4000), "v" + i);
                if (i % 5000 == 4999) {
                    loop.dropBackups(ADDR);
                }
            }
            awaitInSync(primary, r);
            assertEquals(model, contents(r, ReadOptions.defaults()));
        }
    }
}
