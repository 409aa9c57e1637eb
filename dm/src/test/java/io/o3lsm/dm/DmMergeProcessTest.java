package io.o3lsm.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
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

    /** The family the workload goes to in the family run; its operator is the one the plain runs use. */
    private static final List<ColumnFamilyDescriptor> FAMILIES = List.of(new ColumnFamilyDescriptor("data",
            ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.stringAppend(","))));

    private static DB open(Path dbDir, int port, Path secret, long readCacheBytes, boolean families) {
        return families ? DB.open(dbDir, options(port, secret, readCacheBytes).mergeOperator(null), FAMILIES)
                : DB.open(dbDir, options(port, secret, readCacheBytes));
    }

    /** The handle the workload uses: the default family, or "data" in a family-aware DB. */
    private static ColumnFamilyHandle cf(DB db, boolean families) {
        return families ? db.columnFamily("data") : db.defaultColumnFamily();
    }

    private static Options options(int port, Path secret, long readCacheBytes) {
        return Options.defaults().shardCount(4).shardArenaSize(256 << 10).writeBufferSize(16 << 20)
                .memoryNode("127.0.0.1:" + port, secret).localMemoryBudget(5 * (256 << 10)).dmBudget(256L << 20)
                .targetFileSize(4 << 20).dmReadCacheBytes(readCacheBytes).dmReadFlushTrigger(0)
                .mergeOperator(MergeOperators.stringAppend(","));
    }

    @Test
    void shouldResolveMergesHeldByTheMemoryNodeThroughDelegatedGets() throws Exception {
        run(0, "cluster-secret-merge-1", false);
    }

    @Test
    void shouldResolveMergesHeldByTheMemoryNodeThroughCachedOneSidedReads() throws Exception {
        run(64L << 20, "cluster-secret-merge-2", false);
    }

    /**
     * The same workload in a column family of a family-aware DB, the default family taking puts of its
     * own in between: delegated gets and scans of the node answer for the family's keys only.
     */
    @Test
    void shouldResolveMergesOfAColumnFamilyHeldByTheMemoryNode() throws Exception {
        run(0, "cluster-secret-merge-3", true);
    }

    private void run(long readCacheBytes, String secretValue, boolean families) throws Exception {
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
            try (DB db = open(dbDir, port, secret, readCacheBytes, families)) {
                waitAttached(db);
                ColumnFamilyHandle cf = cf(db, families);
                fill(db, cf, model, mkeys, families);
                String p = dmProperty(db);
                System.out.println("readCache=" + readCacheBytes + " after the fill (" + model.size() + " keys): " + p);
                assertTrue(field(p, "remoteOnlyShards") > 0, p);

                if (readCacheBytes > 0) {
                    // the first one-sided reads are slow (connection set-up, cold code) and make delegation
                    // win for a while: filler gets settle the measured latencies first
                    for (int i = 0; i < 20_000; i += 2) {
                        assertEquals(model.get(k(i)), str(db.get(cf, b(k(i)))), k(i));
                    }
                    p = dmProperty(db);
                }
                long delegated = field(p, "delegatedGets");
                long cached = field(p, "cachedGets") + field(p, "cachedReads");
                long scans = field(p, "delegatedScans");
                String merges = db.property("o3.merges");
                checkMergeKeys(db, cf, model, mkeys, "with shards only on the node");
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
                // ... whose shards only on the node were scanned there
                assertTrue(field(p, "delegatedScans") > scans, "merge gets scanned shards on the node: " + p);
                if (readCacheBytes == 0) {
                    assertTrue(dDelegated > 0, "gets of merge keys went to the node: " + p);
                } else {
                    assertTrue(dCached > 0, "gets of merge keys read cached locations: " + p);
                }
                check(db, cf, model, mkeys, "with shards only on the node");

                db.flush();
                check(db, cf, model, mkeys, "after flush");
                db.compactRange(cf, null, null);
                check(db, cf, model, mkeys, "after compactRange");
            }
            try (DB db = open(dbDir, port, secret, readCacheBytes, families)) {
                waitAttached(db);
                check(db, cf(db, families), model, mkeys, "after reopen");
                if (families) {
                    assertEquals("other-0", str(db.get(b(k(0)))), "the default family's own value");
                }
            }
        }
    }

    /**
     * Filler puts with one operation on a merge key every 50, and a range deletion, until some shards
     * live only on the node; then more operations on every other merge key (newer entries in local
     * shards over operands on the node) and a range deletion followed by merges.
     */
    private static void fill(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model, List<String> mkeys,
            boolean families) {
        Random rnd = new Random(16);
        int step = 0;
        int i = 0;
        while (i < 600_000 && (i < 60_000 || field(dmProperty(db), "remoteOnlyShards") == 0)) {
            db.put(cf, b(k(i)), b("value-" + i));
            model.put(k(i), "value-" + i);
            if (families && i % 3 == 0) {
                db.put(b(k(i)), b("other-" + i)); // the default family: same user keys, other values
            }
            if (i % 50 == 0) {
                op(db, cf, model, mkeys.get(rnd.nextInt(MERGE_KEYS)), rnd, step++);
            }
            if (i == 30_000) {
                deleteRange(db, cf, model, mkeys.get(100), mkeys.get(140));
            }
            i++;
        }
        for (int n = 0; n < 600; n++) {
            op(db, cf, model, mkeys.get(2 * rnd.nextInt(MERGE_KEYS / 2)), rnd, step++);
        }
        deleteRange(db, cf, model, mkeys.get(200), mkeys.get(220));
        for (int j = 200; j < 230; j += 3) {
            merge(db, cf, model, mkeys.get(j), "after-range-" + j);
        }
    }

    private static void op(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model, String key, Random rnd,
            int step) {
        int r = rnd.nextInt(10);
        if (r < 6 || r == 9) {
            merge(db, cf, model, key, "s" + step);
        } else if (r < 8) {
            db.put(cf, b(key), b("p" + step));
            model.put(key, "p" + step);
        } else {
            db.delete(cf, b(key));
            model.remove(key);
        }
    }

    private static void merge(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model, String key,
            String operand) {
        db.merge(cf, b(key), b(operand));
        model.merge(key, operand, (old, op) -> old + "," + op);
    }

    private static void deleteRange(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model, String from,
            String to) {
        db.deleteRange(cf, b(from), b(to));
        model.subMap(from, to).clear();
    }

    private static void checkMergeKeys(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model,
            List<String> mkeys, String when) {
        for (String key : mkeys) {
            assertEquals(model.get(key), str(db.get(cf, b(key))), key + " " + when);
        }
    }

    private static void check(DB db, ColumnFamilyHandle cf, TreeMap<String, String> model, List<String> mkeys,
            String when) {
        checkMergeKeys(db, cf, model, mkeys, when);
        String[] all = model.keySet().toArray(new String[0]);
        for (int i = 0; i < all.length; i += 37) {
            assertEquals(model.get(all[i]), str(db.get(cf, b(all[i]))), all[i] + " " + when);
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
            List<byte[]> got = db.multiGet(ReadOptions.defaults(), java.util.Collections.nCopies(keys.size(), cf), keys);
            for (int j = 0; j < keys.size(); j++) {
                String key = str(keys.get(j));
                assertEquals(model.get(key), str(got.get(j)), "multiGet " + key + " " + when);
            }
        }
        try (DBIterator it = db.iterator(ReadOptions.defaults(), cf)) {
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
