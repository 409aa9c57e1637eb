package io.o3lsm.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk ingest on a primary replicating over the real UCX transport (issue 17), where the log (RMA
 * writes into the backup's ring) and the edits with their tables (active messages) travel apart: a
 * replica reading while the primary ingests never shows an ingested key's older value once its applied
 * sequence reached the ingest, and never a write after the ingest without it; once in sync it matches a
 * model by gets and iterators; the log never skips the ingest's sequence (no catch-up again). The
 * seed is printed; {@code -Dtests.seed=N} runs it again.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicationIngestUcxTest {
    @TempDir
    Path tmp;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    static String key(int i) {
        return String.format("k%05d", i);
    }

    static Options small() {
        return Options.defaults().shardCount(2).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2).replicationAckTimeout(Duration.ofSeconds(5));
    }

    @Test
    void replicaOverUcxOrdersIngestsBetweenTheWritesAroundThem() throws Exception {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        System.out.println("ReplicationIngestUcxTest seed=" + seed + " (-Dtests.seed=" + seed + ")");
        Random rnd = new Random(seed);
        Path secret = MemNodeProcess.secret(tmp, "secret", "replication-ingest-test-secret");
        int port = MemNodeProcess.freePort();
        String addr = "127.0.0.1:" + port;
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        List<String> skips = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                String m = String.valueOf(r.getMessage()) + (r.getThrown() == null ? "" : " " + r.getThrown());
                if (m.contains("skips from sequence")) {
                    synchronized (skips) {
                        skips.add(m);
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        TreeMap<String, String> model = new TreeMap<>();
        try (DB p = DB.open(tmp.resolve("primary"), small().replicationListen(addr, secret));
                Replica r = DB.openReplica(tmp.resolve("replica"), small().replicaOf(addr, secret))) {
            await(() -> p.property("o3.replication").contains(" live"), "the backup is live");
            for (int round = 0; round < 5; round++) {
                String t = "r" + round;
                write(p, rnd, 1500, t, model);
                int from = rnd.nextInt(2600);
                String before = key(from);
                p.put(b(before), b("before-" + t));
                Path f = staging.resolve("ing" + round + ".sst");
                TreeMap<String, String> file = new TreeMap<>();
                for (int i = from; i < from + 300; i += 2) {
                    file.put(key(i), "ing" + t + "-" + i);
                }
                try (SstFileWriter w = SstFileWriter.open(f, small())) {
                    for (var e : file.entrySet()) {
                        w.put(b(e.getKey()), b(e.getValue()));
                    }
                    w.finish();
                }
                p.ingest(List.of(f), IngestOptions.defaults());
                model.putAll(file);
                long s = Long.parseLong(p.property("o3.replica.appliedSequence"));
                // overwritten after the ingest, acknowledged by the backup
                String after = key(from + 2);
                p.put(b(after), b("after-" + t), WriteOptions.defaults().replicationAcks(1));
                model.put(after, "after-" + t);
                // the replica, as it applies: at or past the ingest's sequence it shows the ingested value;
                // past the write after it, that write too
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) {
                    try (io.o3lsm.Snapshot snap = r.snapshot()) {
                        ReadOptions ro = ReadOptions.defaults().snapshot(snap);
                        String v = str(r.get(ro, b(before)));
                        String a = str(r.get(ro, b(after)));
                        long at = snap.sequence();
                        if (at >= s) {
                            assertEquals(file.get(before), v, "at applied sequence " + at + " (ingest at " + s + ")");
                        } else {
                            assertFalse(file.get(before).equals(v), "the ingest before its sequence, at " + at);
                            assertFalse(("after-" + t).equals(a), "the write after the ingest without it, at " + at);
                        }
                        if (at > s) {
                            assertEquals("after-" + t, a, "at applied sequence " + at);
                            break;
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        fail("the replica did not reach the write after the ingest: applied " + r.appliedSequence()
                                + ", ingest at " + s);
                    }
                    Thread.sleep(1);
                }
                write(p, rnd, 600, t + "b", model);
                long last = Long.parseLong(p.property("o3.replica.appliedSequence"));
                await(() -> r.appliedSequence() >= last, "the replica applied sequence " + last);
                check(r, model, "round " + round + ", in sync");
            }
            synchronized (skips) {
                assertTrue(skips.isEmpty(), "the log skipped an ingest's sequence: " + skips);
            }
        } finally {
            root.removeHandler(capture);
        }
    }

    static void write(DB p, Random rnd, int ops, String tag, TreeMap<String, String> model) {
        for (int i = 0; i < ops; i++) {
            int k = rnd.nextInt(3000);
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
        for (int i = 0; i < 3000; i++) {
            assertEquals(model.get(key(i)), str(db.get(b(key(i)))), when + ": get " + key(i));
        }
        TreeMap<String, String> fwd = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                fwd.put(str(it.key()), str(it.value()));
            }
        }
        assertTrue(model.equals(fwd), when + ": forward iterator differs");
        TreeMap<String, String> back = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToLast(); it.isValid(); it.prev()) {
                back.put(str(it.key()), str(it.value()));
            }
        }
        assertTrue(model.equals(back), when + ": backward iterator differs");
    }

    static void await(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }
}