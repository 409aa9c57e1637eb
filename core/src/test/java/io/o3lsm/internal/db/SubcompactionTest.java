package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sub-compactions: the planner's cuts, and a DB that splits its compactions holds exactly what a
 * reference map (and the same DB without sub-compactions) holds, snapshots included, with the
 * outputs of a level never overlapping.
 */
class SubcompactionTest {
    private static final long SEED = Long.getLong("tests.seed", System.nanoTime());

    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static FileMetaData file(long n, long size, String from, String to) {
        return new FileMetaData(n, size, InternalKey.encode(b(from), 10, InternalKey.TYPE_VALUE),
                InternalKey.encode(b(to), 5, InternalKey.TYPE_VALUE), 5, 10);
    }

    @Test
    void shouldNotSplitACompactionSmallerThanTwoTargetFiles() {
        Compaction c = new Compaction(0, List.of(file(1, 100, "a", "z")), List.of(file(2, 100, "c", "m")), false,
                b("a"), b("z"), 1);
        assertEquals(List.of(), SubcompactionPlanner.cuts(c, 8, 1000));
        assertEquals(List.of(), SubcompactionPlanner.cuts(c, 1, 1));
    }

    @Test
    void shouldCutAtFileBoundariesIntoAtMostMaxPartsInAscendingOrder() {
        List<FileMetaData> below = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            below.add(file(10 + i, 1000, "k" + i + "0", "k" + i + "9"));
        }
        Compaction c = new Compaction(1, List.of(file(1, 1000, "k00", "k99")), below, false, b("k00"), b("k99"), 1);
        List<byte[]> cuts = SubcompactionPlanner.cuts(c, 4, 1000);
        assertEquals(3, cuts.size(), "4 parts of 11000 bytes");
        for (int i = 0; i < cuts.size(); i++) {
            assertTrue(Bytes.compare(cuts.get(i), b("k00")) > 0, "a cut above the smallest key");
            assertTrue(i == 0 || Bytes.compare(cuts.get(i - 1), cuts.get(i)) < 0, "ascending, distinct");
        }
        // balanced: each part sees between 2 and 4 of the ten files below
        List<SubcompactionPlanner.Part> parts = SubcompactionPlanner.plan(c, cuts);
        assertEquals(4, parts.size());
        for (SubcompactionPlanner.Part p : parts) {
            assertTrue(p.overlapping().size() >= 2 && p.overlapping().size() <= 4, "part " + p.index() + ": "
                    + p.overlapping().size() + " files");
            assertEquals(1, p.inputs().size(), "the upper file spans every part");
        }
        assertEquals(null, parts.get(0).lower());
        assertEquals(null, parts.get(3).upper());
    }

    /** Random puts, deletes and range deletes into {@code d} and {@code model}. */
    private static void write(DB d, TreeMap<String, String> model, Random rnd, int n) {
        for (int i = 0; i < n; i++) {
            String k = String.format("key%06d", rnd.nextInt(20_000));
            int op = rnd.nextInt(20);
            if (op == 0) {
                d.delete(b(k));
                model.remove(k);
            } else if (op == 1) {
                String end = String.format("key%06d", Integer.parseInt(k.substring(3)) + rnd.nextInt(200));
                d.deleteRange(b(k), b(end));
                model.subMap(k, end).clear();
            } else {
                String v = "v" + i + "x".repeat(rnd.nextInt(100));
                d.put(b(k), b(v));
                model.put(k, v);
            }
        }
    }

    private static TreeMap<String, String> contents(DB d, ReadOptions ro) {
        TreeMap<String, String> out = new TreeMap<>();
        try (DBIterator it = d.iterator(ro)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(new String(it.key(), StandardCharsets.UTF_8), new String(it.value(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static Options options(int maxSubcompactions) {
        return Options.defaults().writeBufferSize(512 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .blockSize(1024).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2)
                .maxSubcompactions(maxSubcompactions);
    }

    /** Runs the same seeded workload; returns the contents at the end and at a snapshot taken halfway. */
    private List<TreeMap<String, String>> run(Path path, int maxSubcompactions, TreeMap<String, String> model,
            TreeMap<String, String> modelAtSnapshot, long[] split) {
        Random rnd = new Random(SEED);
        try (DB d = DB.open(path, options(maxSubcompactions))) {
            write(d, model, rnd, 15_000);
            Snapshot s = d.snapshot();
            modelAtSnapshot.putAll(model);
            write(d, model, rnd, 15_000);
            d.compactRange(null, null);
            ((DBImpl) d).waitForCompactions();
            Engine e = ((DBImpl) d).engine();
            split[0] = e.stats.splitCompactions.sum();
            assertLevelsDoNotOverlap(((DBImpl) d).currentVersion());
            List<TreeMap<String, String>> out = List.of(contents(d, ReadOptions.defaults()),
                    contents(d, ReadOptions.defaults().snapshot(s)));
            s.close();
            return out;
        }
    }

    private static void assertLevelsDoNotOverlap(Version v) {
        for (int level = 1; level < Version.NUM_LEVELS; level++) {
            List<FileMetaData> files = new ArrayList<>(v.files(level));
            files.sort((x, y) -> Bytes.compare(x.smallestUserKey(), y.smallestUserKey()));
            for (int i = 1; i < files.size(); i++) {
                FileMetaData a = files.get(i - 1);
                int c = Bytes.compare(a.largestUserKey(), files.get(i).smallestUserKey());
                assertTrue(c < 0 || c == 0 && a.largestIsExclusive(), "L" + level + ": table #" + a.number
                        + " overlaps #" + files.get(i).number);
            }
        }
    }

    @Test
    void shouldHoldWhatTheModelHoldsWithCompactionsSplitIntoSubcompactions() {
        System.out.println("SubcompactionTest: -Dtests.seed=" + SEED);
        TreeMap<String, String> model = new TreeMap<>();
        TreeMap<String, String> atSnapshot = new TreeMap<>();
        long[] split = new long[1];
        List<TreeMap<String, String>> sub = run(dir.resolve("sub"), 4, model, atSnapshot, split);
        assertTrue(split[0] > 0, "some compaction was split (seed " + SEED + ")");
        assertEquals(model, sub.get(0), "latest contents (seed " + SEED + ")");
        assertEquals(atSnapshot, sub.get(1), "contents at the snapshot (seed " + SEED + ")");
        // the same workload without sub-compactions ends with the same contents
        TreeMap<String, String> model1 = new TreeMap<>();
        TreeMap<String, String> atSnapshot1 = new TreeMap<>();
        long[] split1 = new long[1];
        List<TreeMap<String, String>> whole = run(dir.resolve("whole"), 1, model1, atSnapshot1, split1);
        assertEquals(0, split1[0]);
        assertEquals(whole, sub);
        for (Map.Entry<String, String> en : model.entrySet()) {
            assertEquals(en.getValue(), model1.get(en.getKey()));
        }
    }

    @Test
    void shouldInstallNothingAndDeleteEveryPartsOutputsWhenOnePartFails() throws Exception {
        io.o3lsm.FaultInjectingFileSystem fs = new io.o3lsm.FaultInjectingFileSystem();
        Path path = dir.resolve("db");
        TreeMap<String, String> model = new TreeMap<>();
        Random rnd = new Random(SEED);
        try (DB d = DB.open(path, options(4).fileSystem(fs).level0CompactionTrigger(100).level0SlowdownTrigger(200)
                .level0StopTrigger(300))) {
            write(d, model, rnd, 20_000);
            d.flush();
            Version before = ((DBImpl) d).currentVersion();
            java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
            // the compaction's second output fails to be created: one part fails, the others finish
            fs.failCreationOf(name -> name.endsWith(".sst") && created.incrementAndGet() == 2);
            assertThrows(io.o3lsm.O3Exception.class, () -> d.compactRange(null, null));
            assertTrue(created.get() >= 2, "the failure was injected");
            assertEquals(before.liveFiles(), ((DBImpl) d).currentVersion().liveFiles(), "nothing was installed");
            java.util.Set<Long> onDisk = new java.util.HashSet<>();
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(path)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sst"))
                        .forEach(n -> onDisk.add(Long.parseLong(n.substring(0, n.indexOf('.')))));
            }
            assertEquals(new java.util.HashSet<>(before.liveFiles()), onDisk,
                    "the finished parts' outputs are deleted with the failed part's");
        }
        fs.heal();
        try (DB d = DB.open(path, Options.defaults())) {
            assertEquals(model, contents(d, ReadOptions.defaults()), "nothing is lost (seed " + SEED + ")");
        }
    }
}
