package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.version.Version;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link SstFileWriter} and {@link DB#ingest}: the rules of docs/operations/bulk-ingest.md. */
@Timeout(120)
class IngestTest {
    @TempDir
    Path dir;

    private static Options options() {
        return Options.defaults().writeBufferSize(512 << 10).shardArenaSize(64 << 10).shardCount(2);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** A file with keys {@code prefix000 .. prefix(n-1)} → {@code value + i}. */
    private Path file(String name, String prefix, int n, String value) {
        Path f = dir.resolve("in").resolve(name);
        try (SstFileWriter w = SstFileWriter.open(f, options())) {
            for (int i = 0; i < n; i++) {
                w.put(b(String.format("%s%03d", prefix, i)), b(value + i));
            }
            SstFileWriter.Info info = w.finish();
            assertEquals(n, info.entries());
            assertEquals(String.format("%s%03d", prefix, 0), s(info.smallestKey()));
            assertEquals(String.format("%s%03d", prefix, n - 1), s(info.largestKey()));
            assertEquals(Files.size(f), info.fileSize());
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        return f;
    }

    private static int levelOf(DB db, String key) {
        Version v = ((DBImpl) db).currentVersion();
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            if (v.findFile(l, b(key)) != null) {
                return l;
            }
        }
        return -1;
    }

    @Test
    void shouldPlaceAFileIngestedIntoAnEmptyDbAtTheBottomLevel() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.ingest(List.of(file("a.sst", "k", 100, "v")), IngestOptions.defaults());
            assertEquals("v7", s(db.get(b("k007"))));
            assertEquals(Version.NUM_LEVELS - 1, levelOf(db, "k007"));
            assertEquals(0, ((DBImpl) db).lastSequence(), "no overlap, no snapshot: entries stay at sequence 0");
        }
    }

    @Test
    void shouldOverrideOlderValuesAndBeOverriddenByLaterWrites() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("k001"), b("old"));
            db.put(b("k002"), b("old"));
            db.flush();
            long before = ((DBImpl) db).lastSequence();
            db.ingest(List.of(file("a.sst", "k", 3, "new")), IngestOptions.defaults());
            assertEquals(before + 1, ((DBImpl) db).lastSequence(), "one new sequence number for the whole ingest");
            assertEquals("new1", s(db.get(b("k001"))));
            assertEquals("new2", s(db.get(b("k002"))));
            assertEquals(0, levelOf(db, "k001"), "overlaps an L0 file: goes to L0, above it");
            db.put(b("k001"), b("later"));
            assertEquals("later", s(db.get(b("k001"))));
            db.flush();
            db.compactRange(null, null);
            assertEquals("later", s(db.get(b("k001"))));
            assertEquals("new2", s(db.get(b("k002"))));
        }
    }

    @Test
    void shouldGoToTheDeepestLevelWithoutOverlapAboveIt() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("a"), b("1"));
            db.put(b("z"), b("1"));
            db.flush();
            db.compactRange(null, null); // one file [a, z] at some level below 0
            int existing = levelOf(db, "a");
            assertTrue(existing > 0, "compacted below L0: " + existing);
            db.ingest(List.of(file("m.sst", "m", 10, "v")), IngestOptions.defaults());
            assertEquals(existing - 1, levelOf(db, "m005"), "just above the level whose file overlaps it");
            assertEquals("v5", s(db.get(b("m005"))));
        }
    }

    @Test
    void shouldApplyDeletionsAndRangeDeletionsOfTheFileToOlderData() {
        Path f = dir.resolve("in").resolve("d.sst");
        try (DB db = DB.open(dir.resolve("db"), options())) {
            for (String k : List.of("a", "b", "c", "d", "e")) {
                db.put(b(k), b("old"));
            }
            db.flush();
            try (SstFileWriter w = SstFileWriter.open(f, options())) {
                w.delete(b("a"));
                w.put(b("c"), b("kept"));
                w.deleteRange(b("b"), b("e"));
                SstFileWriter.Info info = w.finish();
                assertEquals(1, info.rangeDeletions());
            }
            db.ingest(List.of(f), IngestOptions.defaults());
            assertNull(db.get(b("a")));
            assertNull(db.get(b("b")));
            assertEquals("kept", s(db.get(b("c"))), "a file's range deletion does not hide its own entries");
            assertNull(db.get(b("d")));
            assertEquals("old", s(db.get(b("e"))));
        }
    }

    @Test
    void shouldFlushOverlappingMemtableDataFirst() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("k005"), b("mem"));
            db.put(b("x"), b("other"));
            db.ingest(List.of(file("a.sst", "k", 10, "file")), IngestOptions.defaults());
            assertEquals("file5", s(db.get(b("k005"))));
            assertTrue(levelOf(db, "k005") >= 0);
            assertEquals("other", s(db.get(b("x"))));
        }
        try (DB db = DB.open(dir.resolve("db"), options())) {
            assertEquals("file5", s(db.get(b("k005"))), "after reopen, the ingested value is still the newer one");
            assertEquals("other", s(db.get(b("x"))));
        }
    }

    @Test
    void shouldRefuseOverlappingMemtableDataWhenBlockingFlushIsNotAllowed() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("k005"), b("mem"));
            Path f = file("a.sst", "k", 10, "file");
            IllegalStateException ex = assertThrows(IllegalStateException.class,
                    () -> db.ingest(List.of(f), IngestOptions.defaults().allowBlockingFlush(false)));
            assertTrue(ex.getMessage().contains("a.sst") && ex.getMessage().contains("allowBlockingFlush"),
                    ex.getMessage());
            assertEquals("mem", s(db.get(b("k005"))));
            assertNull(db.get(b("k001")));
            // data outside the file's range does not need a flush
            db.ingest(List.of(file("b.sst", "q", 10, "file")), IngestOptions.defaults().allowBlockingFlush(false));
            assertEquals("file3", s(db.get(b("q003"))));
        }
    }

    @Test
    void shouldRefuseUnsortedWriterInputNamingBothKeys() {
        try (SstFileWriter w = SstFileWriter.open(dir.resolve("u.sst"), options())) {
            w.put(b("banana"), b("1"));
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> w.put(b("apple"), b("2")));
            assertTrue(ex.getMessage().contains("'apple'") && ex.getMessage().contains("'banana'"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> w.delete(b("banana")), "a key at most once");
        }
        assertTrue(Files.notExists(dir.resolve("u.sst")), "close without finish deletes the file");
    }

    @Test
    void shouldRefuseOverlappingFilesInOneIngest() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            Path a = file("a.sst", "k", 10, "a");
            Path c = file("c.sst", "k00", 1, "c"); // k00000 lies inside [k000, k009]
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> db.ingest(List.of(a, c), IngestOptions.defaults()));
            assertTrue(ex.getMessage().contains("a.sst") && ex.getMessage().contains("c.sst"), ex.getMessage());
            assertNull(db.get(b("k001")));
        }
    }

    @Test
    void shouldRefuseACorruptFileNamingTheFileAndOffset() throws Exception {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            Path f = file("bad.sst", "k", 200, "value-");
            byte[] bytes = Files.readAllBytes(f);
            bytes[40] ^= 0x01; // inside the first data block
            Files.write(f, bytes);
            CorruptionException ex = assertThrows(CorruptionException.class,
                    () -> db.ingest(List.of(f), IngestOptions.defaults()));
            assertTrue(ex.file().contains("bad.sst"), ex.getMessage());
            assertEquals(16, ex.offset(), "the first data block starts after the 16-byte header: " + ex.getMessage());
            assertNull(db.get(b("k001")));
            long tables;
            try (var s = Files.list(dir.resolve("db"))) {
                tables = s.filter(p -> p.toString().endsWith(".sst")).count();
            }
            assertEquals(0, tables, "nothing staged stays behind");
        }
    }

    @Test
    void shouldSurviveReopen() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("k001"), b("old"));
            db.flush();
            db.ingest(List.of(file("a.sst", "k", 5, "new"), file("b.sst", "m", 5, "m")), IngestOptions.defaults());
            db.put(b("k002"), b("after"));
        }
        try (DB db = DB.open(dir.resolve("db"), options())) {
            assertEquals("new1", s(db.get(b("k001"))));
            assertEquals("after", s(db.get(b("k002"))));
            assertEquals("m4", s(db.get(b("m004"))));
            db.put(b("k003"), b("after-reopen"));
            assertEquals("after-reopen", s(db.get(b("k003"))), "sequence numbers continue above the ingest's");
        }
    }

    @Test
    void shouldHideIngestedKeysFromASnapshotTakenBefore() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.put(b("k001"), b("old"));
            try (Snapshot snap = db.snapshot()) {
                db.ingest(List.of(file("a.sst", "k", 5, "new"), file("b.sst", "z", 5, "z")), IngestOptions.defaults());
                ReadOptions at = ReadOptions.defaults().snapshot(snap);
                assertEquals("old", s(db.get(at, b("k001"))));
                assertNull(db.get(at, b("k002")));
                assertNull(db.get(at, b("z001")), "even a file overlapping nothing is hidden from an older snapshot");
                assertEquals("new1", s(db.get(b("k001"))));
                assertEquals("z1", s(db.get(b("z001"))));
            }
        }
    }

    @Test
    void shouldHideIngestedKeysFromASnapshotAtSequenceZero() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            try (Snapshot snap = db.snapshot()) { // empty DB: the snapshot is at sequence 0
                ReadOptions at = ReadOptions.defaults().snapshot(snap);
                assertNull(db.get(at, b("k001")));
                db.ingest(List.of(file("a.sst", "k", 5, "v")), IngestOptions.defaults());
                assertEquals("v1", s(db.get(b("k001"))));
                assertNull(db.get(at, b("k001")), "a snapshot at sequence 0 taken before the ingest sees its data");
                assertEquals(1, ((DBImpl) db).lastSequence(), "the ingest took a sequence number");
            }
        }
    }

    @Test
    void shouldHideASecondBulkLoadFromASnapshotTakenBetweenTwo() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            db.ingest(List.of(file("a.sst", "a", 5, "a")), IngestOptions.defaults()); // lastSequence stays 0
            try (Snapshot snap = db.snapshot()) {
                db.ingest(List.of(file("b.sst", "k", 5, "v")), IngestOptions.defaults());
                ReadOptions at = ReadOptions.defaults().snapshot(snap);
                assertNull(db.get(at, b("k001")), "a snapshot taken between two bulk loads sees the second");
                assertEquals("a1", s(db.get(at, b("a001"))));
                assertEquals("v1", s(db.get(b("k001"))));
            }
        }
    }

    /**
     * The MANIFEST append reaches the file but its sync fails: the edit may or may not be durable. The
     * ingest reports the outcome as unknown, sets a background error, and keeps the staged files (the
     * reopened DB may name them); the DB reopens and reads consistently either way.
     */
    @Test
    void shouldKeepStagedFilesAndReportAnUnknownOutcomeWhenTheManifestSyncFails() throws Exception {
        class Failing extends ForwardingFileSystem {
            volatile boolean armed;

            @Override
            protected WritableFile wrap(Path path, WritableFile file) {
                if (!path.getFileName().toString().startsWith("MANIFEST")) {
                    return file;
                }
                return new ForwardingWritableFile(file) {
                    @Override
                    public void sync() throws java.io.IOException {
                        inner.flush();
                        if (armed) {
                            throw new java.io.IOException("injected fsync failure");
                        }
                        inner.sync();
                    }
                };
            }
        }
        Failing fs = new Failing();
        Path f = file("a.sst", "k", 5, "v");
        DB db = DB.open(dir.resolve("db"), options().fileSystem(fs));
        try {
            fs.armed = true;
            O3Exception ex = assertThrows(O3Exception.class, () -> db.ingest(List.of(f), IngestOptions.defaults()));
            assertTrue(ex.getMessage().contains("outcome is unknown"), ex.getMessage());
            assertThrows(O3Exception.class, () -> db.put(b("x"), b("y")), "a background error is set");
            fs.armed = false;
        } finally {
            fs.armed = false;
            try {
                db.close();
            } catch (RuntimeException ignored) {
                // the background error may be reported again
            }
        }
        try (DB again = DB.open(dir.resolve("db"), options())) {
            String v = s(again.get(b("k001")));
            if (v != null) { // either outcome, but all of the file or none of it
                assertEquals("v1", v);
                assertEquals("v4", s(again.get(b("k004"))));
            } else {
                assertNull(again.get(b("k004")));
            }
        }
    }

    @Test
    void shouldLinkWithMoveFilesAndKeepTheOriginalReadable() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            Path f = file("a.sst", "k", 5, "v");
            db.ingest(List.of(f), IngestOptions.defaults().moveFiles(true));
            assertEquals("v3", s(db.get(b("k003"))));
            assertTrue(Files.exists(f));
        }
    }

    @Test
    void shouldIngestIntoAColumnFamilyOnly() {
        List<ColumnFamilyDescriptor> cfs = List.of(new ColumnFamilyDescriptor("users"));
        try (DB db = DB.open(dir.resolve("db"), options(), cfs)) {
            ColumnFamilyHandle users = db.columnFamily("users");
            db.put(b("k001"), b("default"));
            db.put(users, b("k001"), b("old"));
            db.ingest(users, List.of(file("a.sst", "k", 5, "u")), IngestOptions.defaults());
            assertEquals("u1", s(db.get(users, b("k001"))));
            assertEquals("u4", s(db.get(users, b("k004"))));
            assertEquals("default", s(db.get(b("k001"))));
            assertNull(db.get(b("k004")));
            db.ingest(List.of(file("d.sst", "k", 5, "d")), IngestOptions.defaults());
            assertEquals("d4", s(db.get(b("k004"))));
            assertEquals("u4", s(db.get(users, b("k004"))));
        }
        try (DB db = DB.open(dir.resolve("db"), options(), cfs)) {
            assertEquals("u1", s(db.get(db.columnFamily("users"), b("k001"))));
            assertEquals("d1", s(db.get(b("k001"))));
        }
    }

    @Test
    void shouldRefuseATtlFamily() {
        List<ColumnFamilyDescriptor> cfs = List.of(
                new ColumnFamilyDescriptor("sessions", ColumnFamilyOptions.defaults().ttl(Duration.ofHours(1))));
        try (DB db = DB.open(dir.resolve("db"), options(), cfs)) {
            Path f = file("a.sst", "k", 5, "v");
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> db.ingest(db.columnFamily("sessions"), List.of(f), IngestOptions.defaults()));
            assertTrue(ex.getMessage().contains("ttl"), ex.getMessage());
        }
    }

    /**
     * Readers iterating while files are ingested (and a writer writes elsewhere) see each file's keys
     * all or none, never part.
     */
    @Test
    void shouldIngestAtomicallyForConcurrentReaders() throws Exception {
        int files = 12;
        int perFile = 300;
        try (DB db = DB.open(dir.resolve("db"), options())) {
            for (int i = 0; i < 500; i++) {
                db.put(b(String.format("f%02d-%03d", i % files, i % perFile)), b("old"));
            }
            List<Path> inputs = new ArrayList<>();
            for (int f = 0; f < files; f++) {
                inputs.add(file("f" + f + ".sst", String.format("f%02d-", f), perFile, "new"));
            }
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            AtomicLong scans = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                threads.add(new Thread(() -> {
                    while (!stop.get()) {
                        int[] fresh = new int[files];
                        try (DBIterator it = db.iterator()) {
                            for (it.seekToFirst(); it.isValid(); it.next()) {
                                String k = s(it.key());
                                if (k.startsWith("f") && s(it.value()).startsWith("new")) {
                                    fresh[Integer.parseInt(k.substring(1, 3))]++;
                                }
                            }
                        }
                        for (int f = 0; f < files; f++) {
                            if (fresh[f] != 0 && fresh[f] != perFile) {
                                failures.add("file " + f + ": saw " + fresh[f] + " of " + perFile + " keys");
                            }
                        }
                        scans.incrementAndGet();
                    }
                }));
            }
            threads.add(new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    db.put(b(String.format("w%06d", i)), b("w"));
                }
            }));
            threads.forEach(Thread::start);
            for (int f = 0; f < files; f++) {
                db.ingest(List.of(inputs.get(f)), IngestOptions.defaults());
                long seen = scans.get();
                while (scans.get() < seen + 2 && failures.isEmpty()) {
                    Thread.onSpinWait();
                }
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), failures.toString());
            assertTrue(scans.get() >= files * 2L);
            for (int f = 0; f < files; f++) {
                assertEquals("new7", s(db.get(b(String.format("f%02d-%03d", f, 7)))));
            }
        }
    }

    @Test
    void shouldRefuseAFileNotWrittenBySstFileWriterAndAMissingFile() {
        try (DB db = DB.open(dir.resolve("db"), options())) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> db.ingest(List.of(dir.resolve("nope.sst")), IngestOptions.defaults()));
            assertTrue(ex.getMessage().contains("nope.sst"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> db.ingest(List.of(), IngestOptions.defaults()));
        }
    }
}
