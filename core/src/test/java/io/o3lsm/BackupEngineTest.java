package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.testing.SequentialWriters;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link BackupEngine}: docs/operations/backups.md. */
@Timeout(120)
class BackupEngineTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Small buffers (tables early) and no compaction before 10 L0 files (tests count tables). */
    private static Options small() {
        return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .level0CompactionTrigger(10);
    }

    private static Set<String> names(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static void fill(DB db, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            db.put(b(String.format("%s-%06d", prefix, i)), b("value-" + i + "-" + "x".repeat(60)));
        }
    }

    /** Every key and value of a DB, in order, as "k=v" lines. */
    private static List<String> dump(DB db) {
        List<String> out = new ArrayList<>();
        try (DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(s(it.key()) + "=" + s(it.value()));
            }
        }
        return out;
    }

    /**
     * Four threads write their own keys in order while backups are taken. Each restored backup must
     * hold, per thread, a prefix of its writes without a gap, at least every write acknowledged before
     * {@code createBackup} was called, and in all exactly as many writes as sequence numbers up to the
     * backup's sequence: none after it.
     */
    @Test
    void shouldRestoreABackupTakenDuringWritesToExactlyTheStateAtItsSequence() throws Exception {
        int threads = 4;
        int rounds = 3;
        List<BackupInfo> infos = new ArrayList<>();
        long[][] before = new long[rounds][];
        long base;
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(dir.resolve("bk"))) {
            base = ((DBImpl) db).lastSequence();
            try (SequentialWriters writers = SequentialWriters.start(db, threads, "backup-writer")) {
                for (int r = 0; r < rounds; r++) {
                    Thread.sleep(150);
                    before[r] = writers.acked();
                    infos.add(backups.createBackup(db));
                }
            }
            assertTrue(db.stats().flushes() > 0, "tables were written while the writes ran (the test covers them)");
            assertEquals(List.of(1, 2, 3), backups.listBackups().stream().map(BackupInfo::id).toList());
            for (int r = 0; r < rounds; r++) {
                backups.verify(infos.get(r).id());
                backups.restore(infos.get(r).id(), dir.resolve("restored-" + r));
            }
        }
        for (int r = 0; r < rounds; r++) {
            long[] prefix;
            try (DB c = DB.open(dir.resolve("restored-" + r), small())) {
                prefix = SequentialWriters.prefixes(c, threads, "backup " + r);
            }
            long total = 0;
            for (int t = 0; t < threads; t++) {
                assertTrue(prefix[t] >= before[r][t], "backup " + r + " holds every write of thread " + t
                        + " acknowledged before the call: " + prefix[t] + " < " + before[r][t]);
                total += prefix[t];
            }
            assertEquals(infos.get(r).sequence() - base, total, "backup " + r + " holds exactly the writes numbered up "
                    + "to its sequence " + infos.get(r).sequence());
        }
    }

    @Test
    void shouldCopyOnlyNewTablesInASecondBackupAndRestoreBoth() throws Exception {
        Path bk = dir.resolve("bk");
        List<String> first;
        List<String> second;
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(bk)) {
            for (int i = 0; i < 3; i++) {
                fill(db, "a" + i, 500);
                db.flush();
            }
            int tables = ((DBImpl) db).currentVersion().files(0).size();
            assertTrue(tables >= 3, "three flushes, a table or more each: " + tables);
            db.put(b("wal-only"), b("1")); // in the WAL, not in a table
            BackupInfo b1 = backups.createBackup(db);
            first = dump(db);
            assertEquals(tables, names(bk.resolve("shared")).size(), "every table in the shared store");
            assertEquals(b1.fileCount(), b1.newFiles(), "the first backup copies everything");
            assertEquals(b1.size(), b1.newBytes());

            fill(db, "b", 500);
            db.flush();
            db.put(b("wal-only"), b("2"));
            Set<String> sharedBefore = names(bk.resolve("shared"));
            long copiedBefore = backups.bytesCopied();
            BackupInfo b2 = backups.createBackup(db);
            second = dump(db);
            Set<String> sharedAfter = names(bk.resolve("shared"));
            int newTables = ((DBImpl) db).currentVersion().files(0).size() - tables;
            assertTrue(newTables >= 1, "the fourth flush wrote a table or more");
            assertEquals(tables + newTables, sharedAfter.size(), "only the new tables added to the store: " + sharedAfter);
            assertTrue(sharedAfter.containsAll(sharedBefore));
            long addedSize = 0;
            for (String n : sharedAfter) {
                if (!sharedBefore.contains(n)) {
                    addedSize += Files.size(bk.resolve("shared").resolve(n));
                }
            }
            assertEquals(addedSize, backups.bytesCopied() - copiedBefore,
                    "only the new tables' bytes were copied (private files are moved from the staged checkpoint)");
            assertEquals(b2.fileCount() - tables, b2.newFiles(), "every file but the tables backup 1 has is new");
            long oldBytes = 0;
            for (String n : sharedBefore) {
                oldBytes += Files.size(bk.resolve("shared").resolve(n));
            }
            assertEquals(b2.size() - oldBytes, b2.newBytes(), "the old tables are not counted as new: " + b2);
            assertTrue(b2.sequence() > b1.sequence());
            backups.verify(1);
            backups.verify(2);
            backups.restore(1, dir.resolve("r1"));
            backups.restore(2, dir.resolve("r2"));
        }
        try (DB r1 = DB.open(dir.resolve("r1"), small()); DB r2 = DB.open(dir.resolve("r2"), small())) {
            assertEquals(first, dump(r1));
            assertEquals(second, dump(r2));
            assertEquals("1", s(r1.get(b("wal-only"))));
            assertEquals("2", s(r2.get(b("wal-only"))));
            assertNull(r1.get(b("b-000000")));
        }
        assertEquals(Set.of(), names(bk.resolve("tmp")), "the staged checkpoints are gone");
    }

    @Test
    void shouldPurgeOldBackupsKeepingTheNewestAndDeletingOnlyUnreferencedSharedFiles() throws Exception {
        Path bk = dir.resolve("bk");
        List<List<String>> states = new ArrayList<>();
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(bk)) {
            for (int i = 0; i < 4; i++) {
                fill(db, "p" + i, 400);
                db.flush();
                if (i == 2) {
                    db.compactRange(null, null); // backup 3 and 4 no longer hold the tables of 1 and 2
                }
                backups.createBackup(db);
                states.add(dump(db));
            }
            Set<String> shared = names(bk.resolve("shared"));
            assertEquals(List.of(1, 2), backups.purgeOldBackups(2));
            assertEquals(List.of(3, 4), backups.listBackups().stream().map(BackupInfo::id).toList());
            assertEquals(Set.of("3", "4"), names(bk.resolve("private")));
            Set<String> referenced = new TreeSet<>();
            for (int id : List.of(3, 4)) {
                for (String line : Files.readAllLines(bk.resolve("meta").resolve(Integer.toString(id)))) {
                    if (line.startsWith("file ") && line.split(" ")[2].startsWith("shared/")) {
                        referenced.add(line.split(" ")[2].substring("shared/".length()));
                    }
                }
            }
            assertEquals(referenced, names(bk.resolve("shared")), "exactly the files the kept backups name remain");
            assertTrue(shared.size() > referenced.size(), "the purge deleted some shared files: " + shared);
            backups.verify(3);
            backups.verify(4);
            backups.restore(3, dir.resolve("r3"));
            backups.restore(4, dir.resolve("r4"));
            assertEquals(List.of(), backups.purgeOldBackups(2), "nothing more to purge");
            backups.deleteBackup(3);
            assertEquals(List.of(4), backups.listBackups().stream().map(BackupInfo::id).toList());
            backups.verify(4);
            assertThrows(IllegalArgumentException.class, () -> backups.deleteBackup(3));
        }
        try (DB r3 = DB.open(dir.resolve("r3"), small()); DB r4 = DB.open(dir.resolve("r4"), small())) {
            assertEquals(states.get(2), dump(r3));
            assertEquals(states.get(3), dump(r4));
        }
    }

    @Test
    void shouldNameTheFileWhenVerifyFindsAFlippedByteOrATruncatedFile() throws Exception {
        Path bk = dir.resolve("bk");
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(bk)) {
            fill(db, "v", 1000);
            db.flush();
            db.put(b("x"), b("y"));
            backups.createBackup(db);
            backups.createBackup(db);
            backups.verify(1);

            Path table = Files.list(bk.resolve("shared")).sorted().findFirst().orElseThrow();
            byte[] bytes = Files.readAllBytes(table);
            bytes[bytes.length / 2] ^= 0x10;
            Files.write(table, bytes);
            CorruptionException flipped = assertThrows(CorruptionException.class, () -> backups.verify(1));
            assertEquals(table.toString(), flipped.file());
            assertTrue(flipped.getMessage().contains("CRC32C") && flipped.getMessage().contains("bytes changed"),
                    flipped.getMessage());
            bytes[bytes.length / 2] ^= 0x10;
            Files.write(table, bytes);
            backups.verify(1);

            Path wal = Files.list(bk.resolve("private").resolve("2")).filter(p -> p.toString().endsWith(".log"))
                    .findFirst().orElseThrow();
            long len = Files.size(wal);
            try (FileChannel ch = FileChannel.open(wal, StandardOpenOption.WRITE)) {
                ch.truncate(len - 3);
            }
            CorruptionException truncated = assertThrows(CorruptionException.class, () -> backups.verify(2));
            assertEquals(wal.toString(), truncated.file());
            assertEquals(len - 3, truncated.offset());
            assertTrue(truncated.getMessage().contains("truncated") && truncated.getMessage().contains(
                    wal.getFileName().toString()), truncated.getMessage());
            backups.verify(1); // backup 1's own WAL is untouched

            // a corrupt backup is not restored: nothing is left in the target
            assertThrows(CorruptionException.class, () -> backups.restore(2, dir.resolve("r2")));
            assertFalse(Files.exists(dir.resolve("r2")), "a failed restore removes what it wrote");
        }
    }

    /**
     * Two DBs written alike but for the values' bytes (same file numbers, same table lengths) backed up
     * into one directory: a table is shared only if its bytes are the same, so each restores its own.
     */
    @Test
    void shouldNotShareATableWithTheSameNameAndLengthButOtherBytes() throws Exception {
        Path bk = dir.resolve("bk");
        try (BackupEngine backups = BackupEngine.open(bk)) {
            for (String db : List.of("a", "b")) {
                try (DB d = DB.open(dir.resolve(db), small())) {
                    for (int i = 0; i < 200; i++) {
                        d.put(b(String.format("k%04d", i)), b(db.repeat(20) + i));
                    }
                    d.flush();
                    backups.createBackup(d);
                }
            }
            Set<String> shared = names(bk.resolve("shared"));
            Set<String> prefixes = shared.stream().map(n -> n.substring(0, n.lastIndexOf('_'))).collect(Collectors.toSet());
            assertTrue(prefixes.size() < shared.size(), "tables with one name and length, other bytes: " + shared);
            backups.restore(1, dir.resolve("ra"));
            backups.restore(2, dir.resolve("rb"));
        }
        try (DB ra = DB.open(dir.resolve("ra"), small()); DB rb = DB.open(dir.resolve("rb"), small())) {
            assertEquals("a".repeat(20) + 7, s(ra.get(b("k0007"))));
            assertEquals("b".repeat(20) + 7, s(rb.get(b("k0007"))));
        }
    }

    @Test
    void shouldRefuseToRestoreIntoANonEmptyDirectory() throws Exception {
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(dir.resolve("bk"))) {
            db.put(b("a"), b("1"));
            backups.createBackup(db);
            Path target = dir.resolve("taken");
            Files.createDirectories(target);
            Files.writeString(target.resolve("mine.txt"), "keep");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backups.restore(1, target));
            assertTrue(e.getMessage().contains("not empty") && e.getMessage().contains(target.toString()), e.getMessage());
            assertEquals(Set.of("mine.txt"), names(target), "the target is left alone");
            Path empty = Files.createDirectories(dir.resolve("empty"));
            backups.restore(1, empty); // an empty directory is fine
            assertThrows(IllegalArgumentException.class, () -> backups.restore(7, dir.resolve("other")));
        }
        try (DB r = DB.open(dir.resolve("empty"), small())) {
            assertEquals("1", s(r.get(b("a"))));
        }
    }

    /**
     * The backup directory's file system fails the meta write and, from then on, every change under
     * the backup directory (the process "dies" there): the backup is not listed, it left files, and the
     * next open removes them all.
     */
    @Test
    void shouldListNoBackupAndCleanUpAtTheNextOpenWhenTheMetaWriteFails() throws Exception {
        Path bk = dir.resolve("bk");
        CrashingFileSystem fs = new CrashingFileSystem(bk);
        try (DB db = DB.open(dir.resolve("db"), small().fileSystem(fs))) {
            fill(db, "c", 1000);
            db.flush();
            db.put(b("in-wal"), b("1"));
            try (BackupEngine backups = BackupEngine.open(bk, fs)) {
                O3Exception e = assertThrows(O3Exception.class, () -> backups.createBackup(db));
                assertTrue(e.getMessage().contains("not listed"), e.getMessage());
                assertTrue(fs.crashed.get());
                assertEquals(List.of(), backups.listBackups());
            }
            assertFalse(names(bk.resolve("tmp")).isEmpty(), "the crash left the staged checkpoint");
            assertFalse(names(bk.resolve("private")).isEmpty(), "and the private files");
            assertFalse(names(bk.resolve("shared")).isEmpty(), "and the copied tables");
            try (BackupEngine backups = BackupEngine.open(bk)) {
                assertEquals(Set.of(), names(bk.resolve("tmp")));
                assertEquals(Set.of(), names(bk.resolve("private")));
                assertEquals(Set.of(), names(bk.resolve("shared")));
                assertEquals(Set.of(), names(bk.resolve("meta")));
                assertEquals(List.of(), backups.listBackups());
            }
            // the directory works again (on the DB's file system, now healthy)
            fs.crashed.set(false);
            fs.armed = false;
            try (BackupEngine backups = BackupEngine.open(bk, fs)) {
                assertEquals(1, backups.createBackup(db).id());
                backups.restore(1, dir.resolve("r"));
            }
        }
        try (DB r = DB.open(dir.resolve("r"), small())) {
            assertEquals("1", s(r.get(b("in-wal"))));
            assertEquals(1001, dump(r).size());
        }
    }

    @Test
    void shouldRestoreColumnFamiliesMergesAndTtl() throws Exception {
        AtomicLong clock = new AtomicLong(1_700_000_000_000L);
        List<ColumnFamilyDescriptor> families = List.of(
                new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("sessions", ColumnFamilyOptions.defaults().ttl(Duration.ofSeconds(10))));
        Options options = small().clock(clock::get);
        Options ttl = small().ttl(Duration.ofSeconds(10)).clock(clock::get);
        try (BackupEngine backups = BackupEngine.open(dir.resolve("bk"))) {
            try (DB db = DB.open(dir.resolve("db"), options, families)) {
                ColumnFamilyHandle counters = db.columnFamily("counters");
                ColumnFamilyHandle sessions = db.columnFamily("sessions");
                db.put(b("k"), b("v"));
                db.merge(counters, b("hits"), MergeOperators.int64(2));
                db.put(sessions, b("s1"), b("open"));
                db.flush();
                db.merge(counters, b("hits"), MergeOperators.int64(3)); // in the WAL
                db.deleteRange(b("a"), b("l"));
                backups.createBackup(db);
                db.merge(counters, b("hits"), MergeOperators.int64(1000));
                db.put(b("k"), b("after"));
            }
            try (DB db = DB.open(dir.resolve("ttl-db"), ttl)) {
                db.put(b("a"), b("1"));
                backups.createBackup(db);
            }
            backups.restore(1, dir.resolve("r1"));
            backups.restore(2, dir.resolve("r2"));
        }
        try (DB c = DB.open(dir.resolve("r1"), options, families)) {
            assertEquals(List.of("default", "counters", "sessions"), c.listColumnFamilies());
            assertEquals(5, MergeOperators.int64(c.get(c.columnFamily("counters"), b("hits"))),
                    "operands from tables and WAL combined, none after the backup");
            assertNull(c.get(b("k")), "the range deletion holds");
            assertEquals("open", s(c.get(c.columnFamily("sessions"), b("s1"))));
            clock.addAndGet(11_000);
            assertNull(c.get(c.columnFamily("sessions"), b("s1")), "TTL stamps kept: the value expires");
        }
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir.resolve("r2"), small()).close(),
                "the TTL marker is restored: the DB refuses an open without ttl");
        try (DB c = DB.open(dir.resolve("r2"), ttl)) {
            assertNull(c.get(b("a")), "expired by now (clock moved 11 s)");
        }
    }

    /** The DB on the local file system, the backup directory on another (a wrapper): files are copied across. */
    @Test
    void shouldBackUpToADirectoryOnAnotherFileSystem() throws Exception {
        FileSystem other = new ForwardingFileSystem();
        List<String> state;
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(dir.resolve("bk"), other)) {
            fill(db, "o", 800);
            db.flush();
            db.put(b("w"), b("1"));
            backups.createBackup(db);
            fill(db, "q", 300);
            BackupInfo b2 = backups.createBackup(db);
            assertTrue(b2.newFiles() < b2.fileCount(), "tables shared: " + b2);
            state = dump(db);
            backups.verify(2);
            backups.restore(2, dir.resolve("r"), other);
        }
        assertEquals(Set.of("bk", "db", "r"), names(dir), "the staging directory beside the DB is removed");
        try (DB r = DB.open(dir.resolve("r"), small())) {
            assertEquals(state, dump(r));
        }
    }

    @Test
    void shouldRefuseASecondEngineOnTheSameDirectoryAndUseAfterClose() {
        BackupEngine first = BackupEngine.open(dir.resolve("bk"));
        O3Exception e = assertThrows(O3Exception.class, () -> BackupEngine.open(dir.resolve("bk")));
        assertTrue(e.getMessage().contains("another BackupEngine"), e.getMessage());
        first.close();
        assertThrows(IllegalStateException.class, first::listBackups);
        try (BackupEngine again = BackupEngine.open(dir.resolve("bk"))) {
            assertEquals(List.of(), again.listBackups());
        }
    }

    @Test
    void shouldRefuseAReadOnlyDb() throws Exception {
        try (DB db = DB.open(dir.resolve("db"), small())) {
            db.put(b("a"), b("1"));
        }
        try (DB ro = DB.openReadOnly(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(dir.resolve("bk"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backups.createBackup(ro));
            assertTrue(e.getMessage().contains("read-write"), e.getMessage());
            assertEquals(List.of(), backups.listBackups());
        }
    }

    /** Rewrites a meta file's body with {@code edit} and seals it with a correct CRC32C line. */
    private static void rewriteMeta(Path meta, java.util.function.UnaryOperator<String> edit) throws IOException {
        String text = Files.readString(meta, StandardCharsets.US_ASCII);
        String body = edit.apply(text.substring(0, text.lastIndexOf("crc32c ")));
        byte[] bb = body.getBytes(StandardCharsets.ISO_8859_1);
        String crc = String.format("%08x", io.o3lsm.format.Crc32c.value(bb, 0, bb.length));
        Files.writeString(meta, body + "crc32c " + crc + "\n", StandardCharsets.ISO_8859_1);
    }

    /** One backup of a small DB with a table, in {@code bk}; returns the meta's text. */
    private String oneBackup(Path bk) throws IOException {
        try (DB db = DB.open(dir.resolve("db"), small()); BackupEngine backups = BackupEngine.open(bk)) {
            fill(db, "a", 200);
            db.flush();
            db.put(b("wal-only"), b("1"));
            backups.createBackup(db);
        }
        return Files.readString(bk.resolve("meta").resolve("1"), StandardCharsets.US_ASCII);
    }

    /** A meta naming a DB file "../escaped.log": restore must not write outside its target. */
    @Test
    void shouldRefuseToRestoreOrVerifyABackupWhoseMetaNamesAFileOutsideTheTarget() throws Exception {
        Path bk = dir.resolve("bk");
        String meta = oneBackup(bk);
        String log = meta.lines().filter(l -> l.startsWith("file ") && l.split(" ")[1].endsWith(".log")).findFirst()
                .orElseThrow().split(" ")[1];
        rewriteMeta(bk.resolve("meta").resolve("1"), body -> body.replace("file " + log + " ", "file ../escaped.log "));
        Path target = dir.resolve("restore").resolve("r");
        try (BackupEngine backups = BackupEngine.open(bk)) {
            assertEquals(List.of(), backups.listBackups(), "a meta breaking the name rule is damaged: not listed");
            CorruptionException e = assertThrows(CorruptionException.class, () -> backups.restore(1, target));
            assertTrue(e.getMessage().contains("../escaped.log"), e.getMessage());
            assertTrue(e.file().endsWith("1"), e.file());
            assertTrue(e.offset() > 0, "the offset of the file line: " + e.offset());
            assertThrows(CorruptionException.class, () -> backups.verify(1));
        }
        assertFalse(Files.exists(dir.resolve("restore").resolve("escaped.log")), "written outside the target");
        assertFalse(Files.exists(target), "nothing restored");
    }

    /** A meta whose stored path climbs out of the backup directory: verify and restore must not read there. */
    @Test
    void shouldRefuseAMetaWhoseStoredPathLeavesTheBackupDirectory() throws Exception {
        Path bk = dir.resolve("bk");
        oneBackup(bk);
        Path outside = dir.resolve("outside");
        Files.writeString(outside, "MANIFEST-000009\n");
        rewriteMeta(bk.resolve("meta").resolve("1"), body -> body.replaceAll("file CURRENT private/1/CURRENT \\d+ \\S+",
                "file CURRENT private/1/../../../outside 16 " + String.format("%08x",
                        io.o3lsm.format.Crc32c.value(b("MANIFEST-000009\n"), 0, 16))));
        try (BackupEngine backups = BackupEngine.open(bk)) {
            CorruptionException v = assertThrows(CorruptionException.class, () -> backups.verify(1));
            assertTrue(v.getMessage().contains("private/1/CURRENT"), v.getMessage());
            assertThrows(CorruptionException.class, () -> backups.restore(1, dir.resolve("r")));
        }
        assertFalse(Files.exists(dir.resolve("r")));
    }

    /** meta/5 holding "id 1" is damaged: not listed as a second backup 1, and purge keeps backup 1 whole. */
    @Test
    void shouldRefuseAMetaWhoseIdDiffersFromItsFileName() throws Exception {
        Path bk = dir.resolve("bk");
        oneBackup(bk);
        Files.copy(bk.resolve("meta").resolve("1"), bk.resolve("meta").resolve("5"));
        try (BackupEngine backups = BackupEngine.open(bk)) {
            assertEquals(List.of(1), backups.listBackups().stream().map(BackupInfo::id).toList());
            CorruptionException e = assertThrows(CorruptionException.class, () -> backups.verify(5));
            assertTrue(e.getMessage().contains("id 5"), e.getMessage());
            assertEquals(List.of(), backups.purgeOldBackups(1));
            backups.verify(1);
            backups.restore(1, dir.resolve("r"));
        }
        try (DB r = DB.open(dir.resolve("r"), small())) {
            assertEquals("1", s(r.get(b("wal-only"))));
        }
    }

    /** A meta file over the size limit is damaged (CorruptionException naming it), not an I/O error. */
    @Test
    void shouldReportAnOversizedMetaAsCorruption() throws Exception {
        Path bk = dir.resolve("bk");
        oneBackup(bk);
        Path meta = bk.resolve("meta").resolve("1");
        try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), (64L << 20)); // sparse: 64 MiB + 1 byte
        }
        try (BackupEngine backups = BackupEngine.open(bk)) {
            assertEquals(List.of(), backups.listBackups());
            CorruptionException e = assertThrows(CorruptionException.class, () -> backups.verify(1));
            assertEquals(meta.toString(), e.file());
            assertEquals(64L << 20, e.offset());
        }
    }

    /**
     * DB and backups on one FileSystem object without hard links: no table is ever written to tmp/ (they
     * are read from the DB's directory while the checkpoint's version is pinned), so a backup with
     * nothing new writes only its non-table files there.
     */
    @Test
    void anIncrementalBackupWithNothingNewShouldWriteOnlyItsNonTableFilesToTmp() throws Exception {
        AtomicLong tmpBytes = new AtomicLong();
        List<String> tmpTables = new java.util.concurrent.CopyOnWriteArrayList<>();
        Path bk = dir.resolve("bk");
        FileSystem fs = new ForwardingFileSystem(FileSystem.local()) {
            @Override
            protected WritableFile wrap(Path path, WritableFile file) throws IOException {
                if (!path.startsWith(bk.resolve("tmp"))) {
                    return file;
                }
                if (path.getFileName().toString().endsWith(".sst")) {
                    tmpTables.add(path.toString());
                }
                return new ForwardingWritableFile(file) {
                    @Override
                    public void append(byte[] src, int off, int len) throws IOException {
                        tmpBytes.addAndGet(len);
                        super.append(src, off, len);
                    }
                };
            }
        };
        List<String> state;
        java.util.Random random = new java.util.Random(42);
        try (DB d = DB.open(dir.resolve("db"), Options.defaults().jmx(false).fileSystem(fs));
                BackupEngine e = BackupEngine.open(bk, fs)) {
            for (int t = 0; t < 5; t++) {
                for (int i = 0; i < 2000; i++) {
                    byte[] v = new byte[100];
                    random.nextBytes(v); // incompressible: the tables are most of the DB
                    d.put(b("key" + t + "_" + i), v);
                }
                d.flush();
            }
            BackupInfo first = e.createBackup(d);
            long firstTmp = tmpBytes.getAndSet(0);
            BackupInfo second = e.createBackup(d);
            long secondTmp = tmpBytes.get();
            assertEquals(List.of(), tmpTables, "tables written to tmp/");
            long tables = 0;
            for (String n : names(bk.resolve("shared"))) {
                tables += Files.size(bk.resolve("shared").resolve(n));
            }
            assertTrue(tables > 800_000, "five tables of ~220 KB: " + first + " / " + second);
            assertTrue(firstTmp <= first.newBytes() - tables, "first backup wrote " + firstTmp + " bytes into tmp/");
            assertTrue(secondTmp <= second.newBytes(), "second backup (" + second + ") wrote " + secondTmp
                    + " bytes into tmp/: more than its non-table files");
            assertEquals(first.fileCount(), second.fileCount());
            state = dump(d);
            e.verify(2);
            e.restore(2, dir.resolve("r"), fs);
        }
        try (DB r = DB.open(dir.resolve("r"), Options.defaults().jmx(false))) {
            assertEquals(state, dump(r));
        }
        assertEquals(Set.of(), names(bk.resolve("tmp")));
    }

    /** Fails the meta write under {@code root}, and every change under {@code root} after it. */
    static final class CrashingFileSystem extends ForwardingFileSystem {
        final Path root;
        final AtomicBoolean crashed = new AtomicBoolean();
        volatile boolean armed = true;

        CrashingFileSystem(Path root) {
            this.root = root;
        }

        private void check(Path p) throws IOException {
            if (crashed.get() && p.startsWith(root)) {
                throw new IOException("injected: the process is dead (" + p + ")");
            }
        }

        @Override
        public WritableFile newWritableFile(Path path) throws IOException {
            check(path);
            if (armed && path.startsWith(root.resolve("meta"))) {
                crashed.set(true);
                throw new IOException("injected: crash writing " + path);
            }
            return super.newWritableFile(path);
        }

        @Override
        public void rename(Path source, Path target) throws IOException {
            check(target);
            super.rename(source, target);
        }

        @Override
        public void delete(Path path) throws IOException {
            check(path);
            super.delete(path);
        }
    }
}
