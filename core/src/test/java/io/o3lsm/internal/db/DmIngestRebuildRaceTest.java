package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.SstFileWriter;
import io.o3lsm.dmfake.FakeMemoryNode;
import io.o3lsm.internal.version.Version;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DM mode, ingest: IngestJob.installAlone flushes the memtable ranges holding keys of
 * the file (FlushScheduler.flushRangesAlone), which waits until the MemShard objects it saw sealed are
 * out of the view (MemtableSet.stillSealed, by identity). A memory-node rebuild (DmRecovery.swapIn)
 * replaces a remote-only shard by a new MemShard holding the same entries, and signals bgChanged: the
 * wait ends although those entries are in no table yet. No table overlaps the file then, so the
 * ingest takes sequence 0 (needSequence false) and the rebuilt shard's older write of the key — at a
 * sequence above 0 — is read over the ingested value, and keeps winning once it is flushed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DmIngestRebuildRaceTest {
    @TempDir Path dir;
    @TempDir Path staging;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }

    @Test
    void ingestWhoseFlushWaitARebuildEndedStillShadowsTheOlderWriteOfItsKey() throws Exception {
        Options o = FakeMemoryNode.options(dir, 0).targetFileSize(1 << 20);
        DB d = FakeMemoryNode.openAttached(dir.resolve("db"), o);
        try {
            TreeMap<String, String> model = new TreeMap<>();
            Engine e = ((DBImpl) d).engine();
            String key = k(0);
            int R = e.sv.layout.rangeOf(b(key));
            int n = 0;
            // range R: writes until it has sealed shards, then its active shard sealed as well (as a family
            // over its write buffer seals it, FlushScheduler.sealRanges): nothing is written to R afterwards
            for (; n < 400000 && e.sv.sealed[R].length < 2; n++) {
                if (e.sv.layout.rangeOf(b(k(n))) == R) {
                    d.put(b(k(n)), b("v" + n));
                    model.put(k(n), "v" + n);
                }
            }
            byte[] lower = e.sv.layout.lower(R);
            byte[] upper = e.sv.layout.upper(R);
            e.flushes.sealRanges(lower != null ? lower : new byte[0], upper != null ? upper : new byte[] {(byte) 0xff});
            Version v;
            // writes to the other ranges, until every sealed shard of R lives only on the node
            for (int round = 0; round < 400000 && !allRemote(e, R); round++, n++) {
                if (e.sv.layout.rangeOf(b(k(n))) != R) {
                    d.put(b(k(n)), b("v" + n));
                    model.put(k(n), "v" + n);
                }
            }
            assertTrue(allRemote(e, R), "every sealed shard of range " + R + " lives only on the node, its active one is empty: "
                    + describe(e, R) + " " + d.property("o3.dm"));
            v = e.versions.current();
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                for (io.o3lsm.internal.version.FileMetaData f : v.files(l)) {
                    boolean holds = java.util.Arrays.compareUnsigned(f.smallestUserKey(), b(key)) <= 0
                            && java.util.Arrays.compareUnsigned(f.largestUserKey(), b(key)) >= 0;
                    assertTrue(!holds, "precondition: no table spans " + key + " (the ingest then needs no sequence)");
                }
            }
            Path sst = staging.resolve("one.sst");
            try (SstFileWriter w = SstFileWriter.open(sst, o)) {
                w.put(b(key), b("ingested"));
                w.finish();
            }
            CountDownLatch flushReading = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            FakeMemoryNode.onReadBack = rs -> {
                flushReading.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            };
            AtomicReference<Throwable> ingestFailed = new AtomicReference<>();
            Thread ingest = new Thread(() -> {
                try {
                    d.ingest(List.of(sst), IngestOptions.defaults());
                } catch (Throwable t) {
                    ingestFailed.set(t);
                }
            }, "ingest");
            ingest.start();
            assertTrue(flushReading.await(60, TimeUnit.SECONDS), "the ingest's flush reads a shard back");
            // meanwhile the memory node stops answering; a reader declares it lost: the rebuild swaps in
            // WAL copies of the remote-only shards, the one being flushed among them
            FakeMemoryNode.FAIL_GETS.set(Long.MAX_VALUE);
            for (String kk : model.keySet()) {
                if (e.sv.layout.rangeOf(b(kk)) == R && field(d.property("o3.dm"), "rebuiltFromWal") == 0) {
                    d.get(b(kk));
                }
            }
            FakeMemoryNode.FAIL_GETS.set(0);
            assertTrue(field(d.property("o3.dm"), "rebuiltFromWal") >= 1, "a rebuild ran: " + d.property("o3.dm"));
            ingest.join(10_000); // with the bug it is done by now, before the flush installed anything
            System.out.println("DmIngestRebuildRaceTest: ingest done before the flush could read on: " + !ingest.isAlive());
            release.countDown();
            ingest.join(60_000);
            FakeMemoryNode.onReadBack = null;
            assertTrue(ingestFailed.get() == null, "ingest failed: " + ingestFailed.get());
            ((DBImpl) d).waitForFlushes();
            assertEquals("ingested", new String(d.get(b(key)), StandardCharsets.UTF_8),
                    "the ingest is newer than every write before it");
            d.flush();
            assertEquals("ingested", new String(d.get(b(key)), StandardCharsets.UTF_8), "after a flush");
        } finally {
            FakeMemoryNode.onReadBack = null;
            d.close();
        }
    }

    private static boolean allRemote(Engine e, int r) {
        SuperVersion sv = e.sv;
        if (!sv.active[r].isEmpty() || sv.sealed[r].length == 0) {
            return false;
        }
        for (MemShard m : sv.sealed[r]) {
            if (m.isLocal()) {
                return false;
            }
        }
        return true;
    }

    private static String describe(Engine e, int r) {
        SuperVersion sv = e.sv;
        StringBuilder sb = new StringBuilder("active empty=" + sv.active[r].isEmpty() + " sealed=[");
        for (MemShard m : sv.sealed[r]) {
            sb.append(m.isLocal() ? "L" : "R").append(m.remote != null ? "+" : "-").append(' ');
        }
        return sb.append("] tables=").append(e.versions.current().files(0).size()).toString();
    }
}
