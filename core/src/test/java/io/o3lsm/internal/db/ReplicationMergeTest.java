package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica of a primary with a merge operator gives every merged value exactly once: its memtables
 * hold operands the shipped tables hold too (a shard the primary's edits cover only partly stays), and
 * the primary's compactions combine operands into one entry (with the newest operand's sequence), so
 * an operand met again in both would be counted twice, or the combined entry dropped as its duplicate.
 * Checked live while the primary flushes and compacts, after the replica restarts, and once promoted.
 */
class ReplicationMergeTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;
    Path secret;
    LoopbackReplication loop;
    static final String ADDR = "127.0.0.1:7121";
    static final int COUNTERS = 6;

    @BeforeEach
    void setUp() throws Exception {
        secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        loop = new LoopbackReplication();
    }

    /** Small buffers (many flushes and compactions) and an int64-add merge operator. */
    Options small() {
        return Options.defaults().shardCount(2).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5)).mergeOperator(MergeOperators.int64Add());
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

    static String counter(int i) {
        return "c" + i;
    }

    /** The model and the primary's writes: merges, now and then a put or a delete of a counter, and filler. */
    static final class Workload {
        final TreeMap<String, Long> counters = new TreeMap<>();
        final Random rnd;
        int filler;
        /** Only merges: no base a read could stop at, no filler sealing the shards. */
        boolean mergesOnly;

        Workload(long seed) {
            rnd = new Random(seed);
        }

        void round(DB p, int ops) {
            for (int i = 0; i < ops; i++) {
                int c = rnd.nextInt(COUNTERS);
                int what = mergesOnly ? 0 : rnd.nextInt(100);
                if (what < 70) {
                    long d = 1 + rnd.nextInt(5);
                    p.merge(b(counter(c)), MergeOperators.int64(d));
                    counters.merge(counter(c), d, Long::sum);
                } else if (what < 72) {
                    long v = rnd.nextInt(1000);
                    p.put(b(counter(c)), MergeOperators.int64(v));
                    counters.put(counter(c), v);
                } else if (what < 73) {
                    p.delete(b(counter(c)));
                    counters.remove(counter(c));
                } else {
                    // filler: fills the arenas so shards seal at points of their own on each side
                    p.put(b(String.format("f%06d", filler++)), b("x".repeat(100 + rnd.nextInt(200))));
                }
            }
        }
    }

    /** The replica applied the primary's last sequence and holds its tables (every edit installed). */
    static void awaitInSync(DB p, Replica r) throws InterruptedException {
        DBImpl primary = (DBImpl) p;
        primary.waitForFlushes();
        primary.waitForCompactions();
        ReplicationTest.awaitInSync(primary, r);
    }

    static TreeMap<String, Long> countersBy(DB db) {
        return int64s(db, "c");
    }

    static TreeMap<String, Long> countersBackward(DB db) {
        return int64sBackward(db, "c");
    }

    /** The values of the keys starting with {@code prefix}, by a forward iterator. */
    static TreeMap<String, Long> int64s(DB db, String prefix) {
        TreeMap<String, Long> out = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                if (k.startsWith(prefix)) {
                    out.put(k, MergeOperators.int64(it.value()));
                }
            }
        }
        return out;
    }

    /** As {@link #int64s}, by a backward iterator. */
    static TreeMap<String, Long> int64sBackward(DB db, String prefix) {
        TreeMap<String, Long> out = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToLast(); it.isValid(); it.prev()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                if (k.startsWith(prefix)) {
                    out.put(k, MergeOperators.int64(it.value()));
                }
            }
        }
        return out;
    }

    /** Every counter read from {@code db} by get, multiGet and iterators both ways equals the model's. */
    static void checkCounters(DB db, Map<String, Long> model, String when) {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < COUNTERS; i++) {
            keys.add(b(counter(i)));
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
        for (int i = 0; i < COUNTERS; i++) {
            Long expected = model.get(counter(i));
            byte[] v = db.get(b(counter(i)));
            assertEquals(expected, v == null ? null : MergeOperators.int64(v), "get " + counter(i) + " " + when);
            byte[] m = got.get(i);
            assertEquals(expected, m == null ? null : MergeOperators.int64(m), "multiGet " + counter(i) + " " + when);
        }
        assertEquals(model, countersBy(db), "iterator forward " + when);
        assertEquals(model, countersBackward(db), "iterator backward " + when);
    }

    /** The simplest case: 100 merges of +1 into one key while the primary flushes and compacts. */
    @Test
    void shouldCountEveryOperandOnceWhenThePrimaryCompactsOperandsTheReplicaStillHolds() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            ReplicationTest.await(r::live, "the replica is live");
            for (int i = 1; i <= 100; i++) {
                p.merge(b("k"), MergeOperators.int64(1));
                if (i % 10 == 0) {
                    p.flush();
                }
                if (i % 30 == 0) {
                    p.compactRange(null, null);
                }
            }
            p.compactRange(null, null);
            awaitInSync(p, r);
            assertEquals(100, MergeOperators.int64(p.get(b("k"))), "the primary");
            assertEquals(100, MergeOperators.int64(r.get(b("k"))), "the replica's get");
            assertEquals(Map.of("k", 100L), Map.of("k", MergeOperators.int64(r.multiGet(ReadOptions.defaults(),
                    List.of(b("k"))).get(0))), "the replica's multiGet");
            try (DBIterator it = r.iterator(ReadOptions.defaults())) {
                it.seekToFirst();
                assertTrue(it.isValid());
                assertEquals(100, MergeOperators.int64(it.value()), "the replica's iterator");
                it.next();
                assertFalse(it.isValid());
            }
        }
    }

    /**
     * A copy whose arena cannot be allocated: the install takes the version with the shards as they
     * are and ends the link; the catch-up installs again, and copies.
     */
    @Test
    void shouldCountEveryOperandOnceAfterACopyFailedForWantOfMemory() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            ReplicationTest.await(r::live, "the replica is live");
            Engine re = ((ReplicaDB) r).impl().engine();
            AtomicInteger failures = new AtomicInteger(1);
            re.memtables.beforeAllocate = () -> { // no shard of the replica fills here: only copies allocate
                if (failures.getAndDecrement() > 0) {
                    throw new OutOfMemoryError("test: no direct memory for the copy");
                }
            };
            for (int i = 1; i <= 100; i++) {
                p.merge(b("k"), MergeOperators.int64(1));
                if (i % 10 == 0) {
                    p.flush();
                }
            }
            p.compactRange(null, null);
            ((DBImpl) p).waitForFlushes();
            ((DBImpl) p).waitForCompactions();
            ReplicationTest.await(() -> failures.get() < 0 && re.stats.replicaShardCopies.sum() > 0,
                    "a copy failed, and a later install copied");
            awaitInSync(p, r);
            assertEquals(100, MergeOperators.int64(r.get(b("k"))), "the replica's get");
            assertEquals(Map.of("k", 100L), int64s(r, "k"), "the replica's iterator");
        }
    }

    @Test
    void shouldGiveEachMergedValueOnceWhileThePrimaryFlushesAndCompacts() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            ReplicationTest.await(r::live, "the replica is live");
            Workload w = new Workload(11);
            for (int round = 0; round < 16; round++) {
                w.round(p, 600);
                if (round % 2 == 0) {
                    p.flush();
                }
                if (round % 3 == 2) {
                    p.compactRange(null, null);
                }
                awaitInSync(p, r);
                checkCounters(p, w.counters, "on the primary after round " + round);
                checkCounters(r, w.counters, "on the replica after round " + round);
            }
            assertTrue(((DBImpl) p).engine().stats.compactions.sum() > 0, "the primary compacted");
            assertTrue(((ReplicaDB) r).impl().engine().stats.replicaShardCopies.sum() > 0,
                    "the replica replaced shards holding operands its tables hold");
        }
    }

    /**
     * One range of the replica spans both ranges of the primary, whose watermarks differ: its shards
     * stay (none is covered whole). An older shard holds a put of k, a newer one operands of k; the
     * primary's flush combined both into one value. Once the tables hold them, neither the operands
     * nor the put may stay: a read meeting the put under newer operands would stop there.
     */
    @Test
    void shouldNotReadAnOlderShardsBaseUnderOperandsOnceTheTablesHoldBoth() throws Exception {
        WriteOptions ack = WriteOptions.defaults().replicationAcks(1); // the loopback applies before it returns
        try (DB p = DB.open(primaryDir, primaryOptions().shardBoundaries(List.of(b("m"))));
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR).shardCount(1))) {
            ReplicationTest.await(r::live, "the replica is live");
            Engine re = ((ReplicaDB) r).impl().engine();
            Engine pe = ((DBImpl) p).engine();
            p.put(b("k"), MergeOperators.int64(100), ack);
            p.put(b("z"), b("in the primary's second range, never flushed"), ack);
            int filler = 0;
            while (re.sv.sealed[0].length < 1) { // the shard holding the put is sealed
                p.put(b(String.format("a%06d", filler++)), b("x".repeat(200)), ack);
            }
            for (int i = 0; i < 10; i++) {
                p.merge(b("k"), MergeOperators.int64(1), ack);
            }
            long lastOperand = pe.lastSequence;
            assertEquals(1, re.sv.sealed[0].length, "the operands are in a newer shard than the put");
            // range [.., m) of the primary flushes (its sealed shards add up); [m, ..) never does
            while (pe.versions.watermark(0) < lastOperand) {
                for (int i = 0; i < 100; i++) {
                    p.put(b(String.format("a%06d", filler++)), b("x".repeat(200)), ack);
                }
                ((DBImpl) p).waitForFlushes();
            }
            assertEquals(0, pe.versions.watermark(1), "the primary's second range never flushed");
            for (int i = 0; i < 5; i++) {
                p.merge(b("k"), MergeOperators.int64(1), ack);
            }
            awaitInSync(p, r);
            Map<String, Long> model = Map.of("k", 115L);
            assertEquals(115, MergeOperators.int64(p.get(b("k"))), "the primary");
            assertEquals(115, MergeOperators.int64(r.get(b("k"))), "the replica's get");
            assertEquals(115, MergeOperators.int64(r.multiGet(ReadOptions.defaults(), List.of(b("k"))).get(0)),
                    "the replica's multiGet");
            assertEquals(model, int64s(r, "k"), "the replica's iterator");
            assertEquals(model, int64sBackward(r, "k"), "the replica's iterator backward");
        }
    }

    /** A workload without merges keeps every shard as it is: duplicates of puts and deletes are harmless. */
    @Test
    void shouldCopyNoShardWithoutMerges() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions());
                Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
            ReplicationTest.await(r::live, "the replica is live");
            TreeMap<String, String> model = new TreeMap<>();
            Random rnd = new Random(5);
            for (int round = 0; round < 6; round++) {
                for (int i = 0; i < 2000; i++) {
                    String k = String.format("k%04d", rnd.nextInt(1500));
                    if (rnd.nextInt(10) == 0) {
                        p.delete(b(k));
                        model.remove(k);
                    } else {
                        String v = "v" + round + "-" + i + "x".repeat(rnd.nextInt(100));
                        p.put(b(k), b(v));
                        model.put(k, v);
                    }
                }
                if (round % 2 == 1) {
                    p.flush();
                    p.compactRange(null, null);
                }
            }
            awaitInSync(p, r);
            assertEquals(model, ReplicationTest.contents(r, ReadOptions.defaults()));
            assertEquals(0, ((ReplicaDB) r).impl().engine().stats.replicaShardCopies.sum(), "no shard copied");
        }
    }

    @Test
    void shouldKeepMergedValuesExactAcrossARestartOfTheReplica() throws Exception {
        try (DB p = DB.open(primaryDir, primaryOptions())) {
            Workload w = new Workload(23);
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                ReplicationTest.await(r::live, "the replica is live");
                for (int round = 0; round < 8; round++) {
                    w.round(p, 600);
                    if (round % 2 == 1) {
                        p.flush();
                    }
                    if (round % 3 == 2) {
                        p.compactRange(null, null);
                    }
                }
                p.flush(); // edits the replica takes while its memtables still hold operands of what they flush
                awaitInSync(p, r);
                checkCounters(r, w.counters, "on the replica before its restart");
            }
            // without its primary: what its own tables and log files hold (the log replayed past the watermarks)
            try (Replica r = DB.openReplica(replicaDir, replicaOptions("127.0.0.1:7129"))) {
                assertFalse(r.live());
                checkCounters(r, w.counters, "on the replica reopened alone");
            }
            // while it is away: more merges, flushes and compactions; then it catches up
            for (int round = 0; round < 4; round++) {
                w.round(p, 600);
                p.flush();
            }
            p.compactRange(null, null);
            try (Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR))) {
                awaitInSync(p, r);
                checkCounters(r, w.counters, "on the replica caught up after its restart");
                for (int round = 0; round < 4; round++) {
                    w.round(p, 600);
                    if (round % 2 == 1) {
                        p.flush();
                        p.compactRange(null, null);
                    }
                    awaitInSync(p, r);
                    checkCounters(r, w.counters, "on the replica following again, round " + round);
                }
            }
        }
    }

    @Test
    void shouldKeepMergedValuesExactWhenTheReplicaIsPromoted() throws Exception {
        Workload w = new Workload(37);
        Replica r = DB.openReplica(replicaDir, replicaOptions(ADDR));
        try {
            try (DB p = DB.open(primaryDir, primaryOptions())) {
                ReplicationTest.await(r::live, "the replica is live");
                for (int round = 0; round < 8; round++) {
                    w.round(p, 600);
                    if (round % 2 == 0) {
                        p.flush();
                    }
                    if (round % 3 == 1) {
                        p.compactRange(null, null);
                    }
                }
                // merges only: the replica's shards keep operands the primary's tables hold, combined
                w.mergesOnly = true;
                for (int round = 0; round < 3; round++) {
                    w.round(p, 200);
                    p.flush();
                    if (round == 1) {
                        p.compactRange(null, null);
                    }
                }
                w.round(p, 200); // some operands only in the memtables and logs
                w.mergesOnly = false;
                awaitInSync(p, r);
                checkCounters(r, w.counters, "on the replica before its promotion");
            }
        } catch (Throwable t) {
            r.close();
            throw t;
        }
        try (DB promoted = r.promote(small())) {
            checkCounters(promoted, w.counters, "once promoted");
            w.round(promoted, 600);
            checkCounters(promoted, w.counters, "promoted, after writes of its own");
            promoted.flush();
            promoted.compactRange(null, null);
            ((DBImpl) promoted).waitForCompactions();
            checkCounters(promoted, w.counters, "promoted, after its own flush and compaction");
        }
        try (DB reopened = DB.open(replicaDir, small())) {
            checkCounters(reopened, w.counters, "the promoted DB reopened");
        }
    }
}
