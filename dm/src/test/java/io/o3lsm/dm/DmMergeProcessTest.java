package io.o3lsm.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merge operands in DM mode against a real memory-node process over UCX (issue 16): string-append
 * merges (order-sensitive) interleaved with puts, deletes and range deletions, some of them in
 * shards only the memory node holds; gets (delegated, or one-sided reads of cached locations),
 * multiGets and iterators both ways are checked against a model, then after a flush and a full
 * compaction, then after a reopen.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DmMergeProcessTest {
    private static final int MERGE_KEYS = 300;

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    /** Merge keys, spread over the filler keys' range (a filler key never ends in "m"). */
    static String mk(int j) {
        return k(1_000_000 + j) + "m";
    }

    private static Options options(int port, Path secret, long readCacheBytes) {
        return Options.defaults().shardCount(4).shardArenaSize(256 << 10).writeBufferSize(16 << 20)
                .memoryNode("127.0.0.1:" + port, secret).localMemoryBudget(5 * (256 << 10)).dmBudget(256L << 20)
                .targetFileSize(4 << 20).dmReadCacheBytes(readCacheBytes).dmReadFlushTrigger(0)
                .mergeOperator(MergeOperators.stringAppend(","));
    }

    @Test
    void shouldResolveMergesHeldByTheMemoryNodeThroughDelegatedGets() throws Exception {
        run(0, "cluster-secret-merge-1");
    }

    @Test
    void shouldResolveMergesHeldByTheMemoryNodeThroughCachedOneSidedReads() throws Exception {
        run(64L << 20, "cluster-secret-merge-2");
    }

    private void run(long readCacheBytes, String secretValue) throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = MemNodeProcess.secret(dir, "secret", secretValue);
        Path dbDir = dir.resolve("db");
        List<String> mkeys = new ArrayList<>();
        for (int j = 0; j < MERGE_KEYS; j++) {
            mkeys.add(mk(j));
        }
        mkeys.sort(null);
        TreeMap<String, String> model = new TreeMap<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "512m", secret).start()) {
            try (DB db = DB.open(dbDir, options(port, secret, readCacheBytes))) {
                waitAttached(db);
                fill(db, model, mkeys);
                String p = dmProperty(db);
                System.out.println("readCache=" + readCacheBytes + " after the fill (" + model.size() + " keys): " + p);
                assertTrue(field(p, "remoteOnlyShards") > 0, p);

                if (readCacheBytes > 0) {
                    // the first one-sided reads are slow (connection set-up, cold code) and make delegation
                    // win for a while: filler gets settle the measured latencies first
                    for (int i = 0; i < 20_000; i += 2) {
                        assertEquals(model.get(k(i)), str(db.get(b(k(i)))), k(i));
                    }
                    p = dmProperty(db);
                }
                long delegated = field(p, "delegatedGets");
                long cached = field(p, "cachedGets") + field(p, "cachedReads");
                String merges = db.property("o3.merges");
                checkMergeKeys(db, model, mkeys, "with shards only on the node");
                p = dmProperty(db);
                long dDelegated = field(p, "delegatedGets") - delegated;
                long dCached = field(p, "cachedGets") + field(p, "cachedReads") - cached;
                String mergesAfter = db.property("o3.merges");
                System.out.println("readCache=" + readCacheBytes + " merge-key gets: delegatedGets +" + dDelegated
                        + ", cachedGets+cachedReads +" + dCached + ", o3.merges " + merges + " -> " + mergesAfter
                        + ": " + p);
                // operands on the node: those keys were read by an iterator over their sources
                assertTrue(field(mergesAfter, "mergeGets") > field(merges, "mergeGets"), mergesAfter);
                assertTrue(field(mergesAfter, "iteratorGets") > field(merges, "iteratorGets"), mergesAfter);
                if (readCacheBytes == 0) {
                    assertTrue(dDelegated > 0, "gets of merge keys went to the node: " + p);
                } else {
                    assertTrue(dCached > 0, "gets of merge keys read cached locations: " + p);
                }
                check(db, model, mkeys, "with shards only on the node");

                db.flush();
                check(db, model, mkeys, "after flush");
                db.compactRange(null, null);
                check(db, model, mkeys, "after compactRange");
            }
            try (DB db = DB.open(dbDir, options(port, secret, readCacheBytes))) {
                waitAttached(db);
                check(db, model, mkeys, "after reopen");
            }
        }
    }

    /**
     * Filler puts with one operation on a merge key every 50, and a range deletion, until some shards
     * live only on the node; then more operations on every other merge key (newer entries in local
     * shards over operands on the node) and a range deletion followed by merges.
     */
    private static void fill(DB db, TreeMap<String, String> model, List<String> mkeys) {
        Random rnd = new Random(16);
        int step = 0;
        int i = 0;
        while (i < 600_000 && (i < 60_000 || field(dmProperty(db), "remoteOnlyShards") == 0)) {
            db.put(b(k(i)), b("value-" + i));
            model.put(k(i), "value-" + i);
            if (i % 50 == 0) {
                op(db, model, mkeys.get(rnd.nextInt(MERGE_KEYS)), rnd, step++);
            }
            if (i == 30_000) {
                deleteRange(db, model, mkeys.get(100), mkeys.get(140));
            }
            i++;
        }
        for (int n = 0; n < 600; n++) {
            op(db, model, mkeys.get(2 * rnd.nextInt(MERGE_KEYS / 2)), rnd, step++);
        }
        deleteRange(db, model, mkeys.get(200), mkeys.get(220));
        for (int j = 200; j < 230; j += 3) {
            merge(db, model, mkeys.get(j), "after-range-" + j);
        }
    }

    private static void op(DB db, TreeMap<String, String> model, String key, Random rnd, int step) {
        int r = rnd.nextInt(10);
        if (r < 6 || r == 9) {
            merge(db, model, key, "s" + step);
        } else if (r < 8) {
            db.put(b(key), b("p" + step));
            model.put(key, "p" + step);
        } else {
            db.delete(b(key));
            model.remove(key);
        }
    }

    private static void merge(DB db, TreeMap<String, String> model, String key, String operand) {
        db.merge(b(key), b(operand));
        model.merge(key, operand, (old, op) -> old + "," + op);
    }

    private static void deleteRange(DB db, TreeMap<String, String> model, String from, String to) {
        db.deleteRange(b(from), b(to));
        model.subMap(from, to).clear();
    }

    private static void checkMergeKeys(DB db, TreeMap<String, String> model, List<String> mkeys, String when) {
        for (String key : mkeys) {
            assertEquals(model.get(key), str(db.get(b(key))), key + " " + when);
        }
    }

    private static void check(DB db, TreeMap<String, String> model, List<String> mkeys, String when) {
        checkMergeKeys(db, model, mkeys, when);
        String[] all = model.keySet().toArray(new String[0]);
        for (int i = 0; i < all.length; i += 37) {
            assertEquals(model.get(all[i]), str(db.get(b(all[i]))), all[i] + " " + when);
        }
        // multiGets: merge keys (present or not), fillers and absent keys together
        Random rnd = new Random(when.hashCode());
        for (int round = 0; round < 40; round++) {
            List<byte[]> keys = new ArrayList<>();
            for (int j = 0; j < 40; j++) {
                int r = rnd.nextInt(4);
                keys.add(b(r < 2 ? mkeys.get(rnd.nextInt(mkeys.size()))
                        : r == 2 ? all[rnd.nextInt(all.length)] : "absent-" + rnd.nextInt(1000)));
            }
            List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
            for (int j = 0; j < keys.size(); j++) {
                String key = str(keys.get(j));
                assertEquals(model.get(key), str(got.get(j)), "multiGet " + key + " " + when);
            }
        }
        try (DBIterator it = db.iterator()) {
            Iterator<Map.Entry<String, String>> want = model.entrySet().iterator();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                assertTrue(want.hasNext(), "forward scan: extra key " + str(it.key()) + " " + when);
                Map.Entry<String, String> e = want.next();
                assertEquals(e.getKey(), str(it.key()), "forward scan " + when);
                assertEquals(e.getValue(), str(it.value()), "forward scan " + e.getKey() + " " + when);
            }
            assertFalse(want.hasNext(), "the forward scan saw every key " + when);
            Iterator<Map.Entry<String, String>> back = model.descendingMap().entrySet().iterator();
            for (it.seekToLast(); it.isValid(); it.prev()) {
                assertTrue(back.hasNext(), "backward scan: extra key " + str(it.key()) + " " + when);
                Map.Entry<String, String> e = back.next();
                assertEquals(e.getKey(), str(it.key()), "backward scan " + when);
                assertEquals(e.getValue(), str(it.value()), "backward scan " + e.getKey() + " " + when);
            }
            assertFalse(back.hasNext(), "the backward scan saw every key " + when);
        }
    }

    private static String dmProperty(DB db) {
        return db.property("o3.dm");
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    private static void waitAttached(DB db) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!dmProperty(db).contains("attached=true") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(dmProperty(db).contains("attached=true"), dmProperty(db));
    }
}
