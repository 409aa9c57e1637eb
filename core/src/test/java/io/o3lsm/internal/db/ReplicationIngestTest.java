package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.SstFileWriter;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk ingest into a primary (issue 17): the ingest's edit reaches the backups with its tables, in
 * install order with the flushes' and compactions', and takes its place between the writes around it
 * (its sequence, which no log record carries, is published by the backup with its tables, so the
 * write after it follows with no gap and no catch-up). A replica never shows a value older than an
 * ingested one — in particular not the copy of a flushed write its memtables still hold — and shows
 * it as soon as {@code ingest} returned on the primary (this in-process transport applies the log
 * synchronously). Checked by gets and iterators both ways against a model after each ingest, after the
 * replica restarts, and once it is promoted. The seed is printed; {@code -Dtests.seed=N} runs it again.
 */
class ReplicationIngestTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;
    @TempDir Path staging;
    Path secret;
    LoopbackReplication loop;
    static final String ADDR = "127.0.0.1:7131";
    static final int KEYS = 3000;

    @BeforeEach
    void setUp() throws Exception {
        secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        loop = new LoopbackReplication();
    }

    /** Small buffers: shards seal, flush and compact often, at points of their own on each side. */
    Options small() {
        return Options.defaults().shardCount(2).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    static String key(int i) {
        return String.format("k%05d", i);
    }

    /** Writes an SST of every {@code step}-th key of [from, to) with values tagged {@code tag}; adds them to the model. */
    Path sst(String name, int from, int to, int step, String tag, TreeMap<String, String> model) throws Exception {
        Path f = staging.resolve(name);
        try (SstFileWriter w = SstFileWriter.open(f, small())) {
            for (int i = from; i < to; i += step) {
                String v = tag + "-" + i;
                w.put(b(key(i)), b(v));
                model.put(key(i), v);
            }
            w.finish();
        }
        return f;
    }

    static void write(DB p, Random rnd, int ops, String tag, TreeMap<String, String> model) {
        for (int i = 0; i < ops; i++) {
            int k = rnd.nextInt(KEYS);
            if (rnd.nextInt(20) == 0) {
                p.delete(b(key(k)));
                model.remove(key(k));
            } else {
                String v = tag + "-" + k + "-" + "x".repeat(rnd.nextInt(120));
                p.put(b(key(k)), b(v));
                model.put(key(k), v);
            }
        }
    }

    static void check(DB db, TreeMap<String, String> model, String when) {
        for (int i = 0; i < KEYS; i++) {
            assertEquals(model.get(key(i)), str(db.get(b(key(i)))), when + ": get " + key(i));
        }
        assertEquals(model, ReplicationTest.contents(db, ReadOptions.defaults()), when + ": forward iterator");
        TreeMap<String, String> back = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToLast(); it.isValid(); it.prev()) {
                back.put(str(it.key()), str(it.value()));
            }
        }
        assertEquals(model, back, when + ": backward iterator");
    }

    @Test
    void replicaShowsIngestsInterleavedWithWritesNeverAnOlderValueAndKeepsThemOncePromoted() throws Exception {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        System.out.println("ReplicationIngestTest seed=" + seed + " (-Dtests.seed=" + seed + ")");
        Random rnd = new Random(seed);
        TreeMap<String, String> model = new TreeMap<>();
        try (DB p = DB.open(primaryDir, small().replicationListen(ADDR, secret))) {
            DBImpl primary = (DBImpl) p;
            try (Replica r = DB.openReplica(replicaDir, small().replicaOf(ADDR, secret))) {
                ReplicationTest.await(((ReplicaDB) r).impl().engine().replicaApplier::caughtUpOnce, "the replica caught up");
                for (int round = 0; round < 6; round++) {
                    String t = "r" + round;
                    write(p, rnd, 1500, t, model);
                    int from = rnd.nextInt(KEYS - 400);
                    int to = from + 300;
                    // overwritten in the memtable just before the ingest: the ingest must win over it,
                    // on the replica too, where its flushed copy may stay in a memtable shard
                    String before = key(from + 2); // a key the file holds (every 2nd key from `from`)
                    p.put(b(before), b("before-" + t));
                    if (round % 2 == 1) {
                        p.deleteRange(b(key(from + 40)), b(key(from + 60))); // a tombstone in the range
                        for (int i = from + 40; i < from + 60; i++) {
                            model.remove(key(i));
                        }
                    }
                    Path f = sst("ing" + round + ".sst", from, to, 2, "ing" + t, model);
                    // a second file of the same ingest, elsewhere (another shard range, likely)
                    int from2 = (from + 1500) % (KEYS - 200);
                    boolean two = from2 >= to || from2 + 100 <= from;
                    Path f2 = two ? sst("ing" + round + "b.sst", from2, from2 + 100, 3, "ingb" + t, model) : null;
                    long seqBefore = primary.lastSequence();
                    p.ingest(two ? List.of(f, f2) : List.of(f), IngestOptions.defaults());
                    assertEquals(seqBefore + 1, primary.lastSequence(), "a primary's ingest takes one sequence");
                    // the primary returned: its backup holds the ingest's edit and (its log being
                    // synchronous here) shows it, at the ingest's sequence
                    assertEquals(primary.lastSequence(), r.appliedSequence(), "the replica published the ingest");
                    assertEquals("ing" + t + "-" + (from + 2), str(r.get(b(before))), "right after the ingest");
                    check(r, model, "round " + round + ", right after the ingest");
                    // overwritten after the ingest: newer than the ingested value, on both sides
                    String after = key(from + 4);
                    p.put(b(after), b("after-" + t), WriteOptions.defaults().replicationAcks(1));
                    model.put(after, "after-" + t);
                    assertEquals("after-" + t, str(r.get(b(after))), "a write acknowledged by the backup after the ingest");
                    write(p, rnd, 800, t + "b", model);
                    check(p, model, "the primary, round " + round);
                    ReplicationMergeTest.awaitInSync(p, r);
                    check(r, model, "round " + round + ", in sync");
                }
                assertEquals(1, loop.catchUps.get(), "the backup followed every ingest without catching up again "
                        + "(the log never skipped the ingests' sequences)");
            }
            // a restarted replica: its log lacks the ingests' sequences, its MANIFEST has them
            try (Replica r = DB.openReplica(replicaDir, small().replicaOf(ADDR, secret))) {
                check(r, model, "the restarted replica, before it caught up");
                write(p, rnd, 500, "restart", model);
                ReplicationMergeTest.awaitInSync(p, r);
                check(r, model, "the restarted replica, in sync");
            }
        }
        // the primary is gone: promote the replica, which keeps every ingest
        try (Replica r = DB.openReplica(replicaDir, small().replicaOf(ADDR, secret))) {
            check(r, model, "the replica, its primary gone");
            try (DB promoted = r.promote(small())) {
                check(promoted, model, "once promoted");
                write(promoted, rnd, 500, "promoted", model);
                Path f = sst("promoted.sst", 100, 400, 5, "ingp", model);
                promoted.ingest(List.of(f), IngestOptions.defaults());
                check(promoted, model, "promoted, after writes and an ingest of its own");
            }
        }
    }

    @Test
    void primaryThatShipsOnlyItsLogRefusesIngest() throws Exception {
        try (DB p = DB.open(primaryDir, small().replicationListen(ADDR, secret).replicationShipTables(false))) {
            Path f = sst("x.sst", 0, 10, 1, "x", new TreeMap<>());
            UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class,
                    () -> p.ingest(List.of(f), IngestOptions.defaults()));
            assertTrue(ex.getMessage().contains("replicationShipTables(false)"), ex.getMessage());
            assertEquals(null, p.get(b(key(0))));
        }
    }
}