package io.o3lsm.flush;

import static io.o3lsm.flush.FlushOffloadProcessTest.b;
import static io.o3lsm.flush.FlushOffloadProcessTest.k;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.SstFileWriter;
import io.o3lsm.dm.MemNodeProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk ingest in DM mode (issue 17) against a real memory-node process and a real flush-worker
 * process: the memtable shards holding the ingested key range, some of them held only by the memory
 * node, are flushed first — on the worker — and dropped, so delegated gets and the node's part of
 * scans never answer for that range with a value older than an ingested one. A key overwritten in the
 * memtable before the ingest shows the ingested value, one overwritten after it the newer one. Then
 * the memory node is killed: the shards only it held are rebuilt from the WAL, and the writes the
 * ingest's flush covered stay covered (not resurrected over the ingested values); and after a reopen
 * (the WAL replayed past the MANIFEST's watermarks) too. Gets, multiGets and iterators both ways are
 * checked against a model each time. The seed is printed; {@code -Dtests.seed=N} runs it again.
 */
@Tag("dm")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class IngestOffloadProcessTest {
    @TempDir
    Path dir;

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    private static Options options(int port, Path secret) {
        // delegated gets (no read cache): the memory node answers for the shards only it holds
        return FlushOffloadProcessTest.options(port, secret).dmReadCacheBytes(0).dmReadFlushTrigger(0);
    }

    /** Keys in [LO, HI): the ingested range, about 1/16 of the key space. */
    static final String LO = "40000000";
    static final String HI = "50000000";

    @Test
    void shouldIngestOverShardsHeldByTheMemoryNodeFlushedOnAWorkerAndKeepItAfterTheNodeIsLost() throws Exception {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        System.out.println("IngestOffloadProcessTest seed=" + seed + " (-Dtests.seed=" + seed + ")");
        Random rnd = new Random(seed);
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", "cluster-secret-ingest-1");
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path staging = Files.createDirectories(dir.resolve("staging"));
        Path dbDir = storage.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start();
        try (FlushWorkerProcess w = new FlushWorkerProcess(dir, "w1", port, secret, storage).start()) {
            try (DB db = DB.open(dbDir, options(port, secret))) {
                FlushOffloadProcessTest.waitAttached(db);
                fill(db, rnd, model, 0, 20_000, "v0");
                // overwritten in the active shard right before the ingest; the file holds it
                String before = model.subMap(LO, HI).firstKey();
                db.put(b(before), b("before"));
                model.put(before, "before");
                awaitRemoteOnly(db);
                String dm = db.property("o3.dm");
                System.out.println("before the ingest: " + dm);
                assertTrue(field(dm, "remoteOnlyShards") > 0, "some shards are held only by the node: " + dm);
                check(db, model, "before the ingest");

                // the file: every second key the DB holds in the range (so the others keep their values),
                // new keys in between
                TreeMap<String, String> file = new TreeMap<>();
                int i = 0;
                for (String key : model.subMap(LO, HI).keySet()) {
                    if (i++ % 2 == 0) {
                        file.put(key, "ing-" + key);
                    }
                }
                for (int j = 0; j < 4000; j++) {
                    String key = k(1_000_000 + j);
                    if (key.compareTo(LO) >= 0 && key.compareTo(HI) < 0) {
                        file.put(key, "ing-new-" + key);
                    }
                }
                assertTrue(file.containsKey(before));
                Path f = sst(staging.resolve("range.sst"), file, db);

                // the memtables hold keys of the range: refused without a blocking flush, nothing changed
                IllegalStateException refused = assertThrows(IllegalStateException.class,
                        () -> db.ingest(List.of(f), IngestOptions.defaults().allowBlockingFlush(false)));
                assertTrue(refused.getMessage().contains("allowBlockingFlush"), refused.getMessage());
                check(db, model, "after the refused ingest");

                long offloaded = db.stats().flushesOffloaded();
                db.ingest(List.of(f), IngestOptions.defaults());
                model.putAll(file);
                System.out.println("after the ingest: " + db.property("o3.dm") + "\nstats: " + db.property("o3.stats"));
                assertTrue(db.stats().flushesOffloaded() > offloaded,
                        "the ingest's flush ran on the worker: " + db.property("o3.stats") + "\n" + w.output());
                assertEquals("ing-" + before, str(db.get(b(before))), "the ingest is newer than the memtable's write");
                check(db, model, "right after the ingest");

                // overwritten after the ingest, and more writes (offloaded again, some into the range)
                String after = file.firstKey().equals(before) ? file.higherKey(before) : file.firstKey();
                db.put(b(after), b("after"));
                model.put(after, "after");
                fill(db, rnd, model, 0, 20_000, "v1");
                // a second ingest, into a range nothing holds: no flush, entries at sequence 0
                TreeMap<String, String> fresh = new TreeMap<>();
                for (int j = 0; j < 500; j++) {
                    fresh.put(String.format("zz%05d", j), "fresh-" + j);
                }
                db.ingest(List.of(sst(staging.resolve("fresh.sst"), fresh, db)), IngestOptions.defaults());
                model.putAll(fresh);
                db.put(b("zz00007"), b("after-fresh"));
                model.put("zz00007", "after-fresh");
                awaitRemoteOnly(db);
                dm = db.property("o3.dm");
                System.out.println("after the second fill: " + dm);
                assertTrue(field(dm, "remoteOnlyShards") > 0, "some shards are held only by the node: " + dm);
                check(db, model, "after writes following the ingests");

                // the memory node is lost: the shards only it held are rebuilt from the WAL, which still
                // holds the writes the ingest's flush covered; they must not come back
                node.kill9();
                node.waitForExit();
                check(db, model, "after the memory node was lost");
                dm = db.property("o3.dm");
                System.out.println("after the node loss: " + dm);
                assertTrue(field(dm, "rebuiltFromWal") > 0, "the node's shards were rebuilt from the WAL: " + dm);
                fill(db, rnd, model, 0, 3000, "v2");
                check(db, model, "after writes without the node");
            }
            // reopen with a new memory node: the WAL is replayed past each range's watermark
            node = new MemNodeProcess(dir, port, "512m", secret).start();
            try (DB db = DB.open(dbDir, options(port, secret))) {
                check(db, model, "after reopen");
            }
        } finally {
            node.close();
        }
    }

    /** Writes SST {@code f} of {@code entries} (sorted) with the DB's table options. */
    private static Path sst(Path f, TreeMap<String, String> entries, DB db) {
        try (SstFileWriter w = SstFileWriter.open(f, Options.defaults())) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                w.put(b(e.getKey()), b(e.getValue()));
            }
            w.finish();
        }
        return f;
    }

    private static void fill(DB db, Random rnd, TreeMap<String, String> model, int from, int n, String tag) {
        for (int i = 0; i < n; i++) {
            String key = k(from + rnd.nextInt(n));
            if (rnd.nextInt(25) == 0) {
                db.delete(b(key));
                model.remove(key);
            } else {
                String v = tag + "-" + key + "-" + "x".repeat(60 + rnd.nextInt(120));
                db.put(b(key), b(v));
                model.put(key, v);
            }
        }
    }

    /** Waits (bounded) until some sealed shard is held only by the node. */
    private static void awaitRemoteOnly(DB db) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (field(db.property("o3.dm"), "remoteOnlyShards") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static long field(String p, String name) {
        Matcher m = Pattern.compile(" " + name + "=(\\d+)").matcher(p);
        assertTrue(m.find(), name + " in " + p);
        return Long.parseLong(m.group(1));
    }

    private static void check(DB db, TreeMap<String, String> model, String when) {
        // every key of the ingested range, and a sample elsewhere
        List<String> keys = new ArrayList<>(model.subMap(LO, HI).keySet());
        int n = 0;
        for (String key : model.keySet()) {
            if (n++ % 7 == 0) {
                keys.add(key);
            }
        }
        for (int j = 0; j < 300; j++) {
            keys.add(k(2_000_000 + j)); // absent
        }
        for (String key : keys) {
            assertEquals(model.get(key), str(db.get(b(key))), when + ": get " + key);
        }
        List<byte[]> some = new ArrayList<>();
        for (int j = 0; j < Math.min(keys.size(), 500); j++) {
            some.add(b(keys.get(j)));
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), some);
        for (int j = 0; j < some.size(); j++) {
            assertEquals(model.get(str(some.get(j))), str(got.get(j)), when + ": multiGet " + str(some.get(j)));
        }
        TreeMap<String, String> fwd = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                fwd.put(str(it.key()), str(it.value()));
            }
        }
        same(model, fwd, when + ": forward iterator");
        TreeMap<String, String> back = new TreeMap<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults())) {
            for (it.seek(b(HI)); it.isValid(); it.prev()) { // from inside the ingested range's end, backward
                back.put(str(it.key()), str(it.value()));
            }
        }
        String start = model.ceilingKey(HI); // the iterator starts at the first key at or after HI
        same(start == null ? model : model.headMap(start, true), back, when + ": backward iterator from " + HI);
    }

    /** Equal maps, or a failure naming the first key that differs (not the whole maps). */
    private static void same(Map<String, String> expected, Map<String, String> actual, String what) {
        if (expected.equals(actual)) {
            return;
        }
        TreeSet<String> keys = new TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        for (String key : keys) {
            String a = expected.get(key);
            String b = actual.get(key);
            if (a == null ? b != null : !a.equals(b)) {
                assertEquals(a, b, what + ": first difference at " + key + " (" + expected.size() + " entries expected, "
                        + actual.size() + " found)");
            }
        }
    }
}