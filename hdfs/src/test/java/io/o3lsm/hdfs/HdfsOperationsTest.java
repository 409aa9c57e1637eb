package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.BackupEngine;
import io.o3lsm.BackupInfo;
import io.o3lsm.CorruptionException;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.IngestOptions;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.Secondary;
import io.o3lsm.SstFileWriter;
import io.o3lsm.WriteBatch;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations features of issue 17 with the DB's files on HDFS as real processes (a NameNode and 2
 * DataNodes, replication 2, started by {@link LocalHdfs} as {@code bin/o3 hdfs up} does; one cluster for
 * the class, stopped at the end with no daemon left): checkpoints, backups, read-only open, secondary
 * instances and bulk ingest, each used through the public API as a user would (a DB opened by URI; the
 * read-only and secondary opens, backup engines and restores given an HDFS {@link FileSystem} from
 * {@link FileSystem#forUri}), each checked against a model of what was acknowledged while a writer goes
 * on. Docs: {@code docs/operations/{checkpoints,backups,read-only,secondary,bulk-ingest,hdfs}.md}.
 *
 * <p>The writer applies batches {@code 0, 1, 2, …}: batch {@code i} is one operation ({@link #apply})
 * plus {@code ~last = i}, so a view's {@code ~last} says which prefix of batches it holds, and the
 * model of that prefix must equal the view exactly.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HdfsOperationsTest {
    private static ProcessHdfs hdfs;
    /** A client of the test's own, to look at and damage files the engine wrote. */
    private static FileSystem fs;

    @TempDir
    Path local;

    @BeforeAll
    static void startCluster() throws Exception {
        hdfs = ProcessHdfs.start(2);
        fs = FileSystem.forUri(hdfs.uri());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        try {
            if (fs != null) {
                fs.close();
            }
        } finally {
            if (hdfs != null) {
                hdfs.close();
            }
        }
    }

    // ------------------------------------------------------------------ the writer and its model

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static String key(long i) {
        return String.format("k%09d", i);
    }

    /** Batch {@code i}'s operation, applied to a batch or (batch == null) to the model. */
    private static void apply(long i, WriteBatch batch, Map<String, String> model) {
        String k;
        String v;
        if (i % 10 == 9) {
            k = key(i - 4);
            v = null; // a delete of an earlier key
        } else if (i % 4 == 1) {
            k = "hot";
            v = "h" + i; // overwrites: overlapping tables, compactions
        } else {
            k = key(i);
            v = "v" + i + "x".repeat(80);
        }
        if (batch != null) {
            if (v == null) {
                batch.delete(b(k));
            } else {
                batch.put(b(k), b(v));
            }
            batch.put(b("~last"), b(Long.toString(i)));
        } else {
            if (v == null) {
                model.remove(k);
            } else {
                model.put(k, v);
            }
            model.put("~last", Long.toString(i));
        }
    }

    /** The state after batches {@code [0, n)}. */
    private static TreeMap<String, String> model(long n) {
        TreeMap<String, String> m = new TreeMap<>();
        for (long i = 0; i < n; i++) {
            apply(i, null, m);
        }
        return m;
    }

    private static void write(DB db, long i) {
        WriteBatch batch = new WriteBatch();
        apply(i, batch, null);
        db.write(batch);
    }

    /** Every key and value of a view, read with one iterator (one sequence). */
    private static TreeMap<String, String> state(DB db) {
        TreeMap<String, String> m = new TreeMap<>();
        try (DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                m.put(s(it.key()), s(it.value()));
            }
        }
        return m;
    }

    /** The number of batches a state holds ({@code ~last + 1}). */
    private static long batches(Map<String, String> state) {
        String last = state.get("~last");
        return last == null ? 0 : Long.parseLong(last) + 1;
    }

    /**
     * Checks that {@code db} holds exactly the first n batches, n at least {@code atLeast} (what was
     * acknowledged before the view was taken) and at most {@code atMost}; returns n.
     */
    private static long assertPrefix(String what, DB db, long atLeast, long atMost) {
        TreeMap<String, String> got = state(db);
        long n = batches(got);
        assertTrue(n >= atLeast, () -> what + ": " + n + " batches, but " + atLeast + " were acknowledged before");
        assertTrue(n <= atMost, () -> what + ": " + n + " batches, but only " + atMost + " were written");
        assertEquals(model(n), got, () -> what + ": not exactly the first " + n + " batches");
        return n;
    }

    /** One thread writing batches {@code from, from + 1, …}; {@link #acked} counts those acknowledged. */
    private static final class Writer implements AutoCloseable {
        final AtomicLong acked;
        final AtomicLong started;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failed = new AtomicReference<>();
        final Thread thread;

        Writer(DB db, long from, long pauseEvery) {
            acked = new AtomicLong(from);
            started = new AtomicLong(from);
            thread = new Thread(() -> {
                try {
                    for (long i = from; !stop.get(); i++) {
                        started.set(i + 1);
                        write(db, i);
                        acked.set(i + 1);
                        if (pauseEvery > 0 && i % pauseEvery == 0) {
                            Thread.sleep(1);
                        }
                    }
                } catch (Throwable ex) {
                    failed.set(ex);
                }
            }, "writer");
            thread.start();
        }

        void awaitAcked(long n) throws InterruptedException {
            while (acked.get() < n) {
                if (failed.get() != null) {
                    throw new AssertionError("the writer failed at " + acked.get(), failed.get());
                }
                Thread.sleep(5); // bounded by the class timeout
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
            if (failed.get() != null) {
                throw new AssertionError("the writer failed at " + acked.get(), failed.get());
            }
        }
    }

    /** Small buffers and tables: a flush (and a WAL roll) every few hundred batches, compactions. */
    private static Options small() {
        return Options.defaults().createIfMissing(true).writeBufferSize(256 << 10).shardArenaSize(64 << 10)
                .targetFileSize(64 << 10).level0CompactionTrigger(2);
    }

    private static long lastSequence(DB db) {
        return Long.parseLong(db.property("o3.last-sequence").trim());
    }

    private static List<String> list(Path dir) throws IOException {
        List<String> names = new ArrayList<>(fs.list(dir));
        names.sort(null);
        return names;
    }

    private static long count(List<String> names, String suffix) {
        return names.stream().filter(n -> n.endsWith(suffix)).count();
    }

    private static byte[] readAll(Path p) throws IOException {
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            byte[] bytes = new byte[(int) f.size()];
            f.readFully(0, bytes, 0, bytes.length);
            return bytes;
        }
    }

    /** Replaces a file's bytes on HDFS (no overwrite in place there: a new file under the same name). */
    private static void rewrite(Path p, byte[] bytes, int len) throws IOException {
        fs.delete(p);
        try (FileSystem.WritableFile f = fs.newWritableFileExclusive(p)) {
            f.append(bytes, 0, len);
            f.sync();
        }
    }

    // ------------------------------------------------------------------ checkpoints

    @Test
    void shouldOpenACheckpointOfALiveDbOnHdfsToExactlyTheStateAtItsSequence() throws Exception {
        URI dbUri = hdfs.uri("/ckpt/db");
        Path copy = Path.of("/ckpt/copy");
        long cut;
        long before;
        long after;
        long base;
        long perBatch;
        long total;
        try (DB db = DB.open(dbUri, small())) {
            base = lastSequence(db);
            write(db, 0);
            perBatch = lastSequence(db) - base;
            Writer w = new Writer(db, 1, 0);
            try (w) {
                w.awaitAcked(3_000); // several flushes (tables to copy, WAL rolls) and compactions
                before = w.acked.get();
                cut = db.checkpoint(copy); // on the DB's file system: HDFS
                after = w.started.get();
                w.awaitAcked(after + 200); // writes go on
            }
            total = w.acked.get();
            assertTrue(db.stats().flushes() > 0, "the source flushed before the cut: tables were copied");
        }
        List<String> names = list(copy);
        assertTrue(count(names, ".sst") > 0, "the checkpoint has tables: " + names);
        assertTrue(names.contains("CURRENT") && names.contains("IDENTITY"), names.toString());
        assertTrue(list(Path.of("/ckpt")).stream().noneMatch(n -> n.contains(".o3ckpt-")), "no staging directory left");
        try (DB c = DB.open(hdfs.uri(copy.toString()), small().createIfMissing(false))) {
            long n = assertPrefix("the checkpoint", c, before, after);
            assertEquals(base + perBatch * n, cut, "the checkpoint holds exactly the batches up to its sequence");
            c.put(b("copy-only"), b("1")); // an ordinary DB of its own
        }
        try (DB db = DB.open(dbUri, small().createIfMissing(false))) {
            assertPrefix("the source after the checkpoint", db, total, total);
            assertNull(db.get(b("copy-only")), "the copy's writes do not reach the source");
        }
    }

    // ------------------------------------------------------------------ backups

    @Test
    void shouldBackUpADbOnHdfsIncrementallyVerifyNameDamageRestoreAndPurge() throws Exception {
        URI dbUri = hdfs.uri("/backup/db");
        Path bk = Path.of("/backup/bk");
        // no compaction in this test's few flushes: every table of the first backup is still live at
        // the second, which must then share them (a compaction in between would rewrite them all)
        Options options = small().level0CompactionTrigger(64).level0SlowdownTrigger(80).level0StopTrigger(96);
        BackupInfo first;
        BackupInfo second;
        BackupInfo third;
        BackupInfo onLocal;
        long[] bounds = new long[8];
        long base;
        long perBatch;
        Path localBk = local.resolve("bk");
        try (FileSystem bkFs = FileSystem.forUri(hdfs.uri());
                DB db = DB.open(dbUri, options);
                BackupEngine backups = BackupEngine.open(bk, bkFs);
                BackupEngine localBackups = BackupEngine.open(localBk)) {
            base = lastSequence(db);
            write(db, 0);
            perBatch = lastSequence(db) - base;
            try (Writer w = new Writer(db, 1, 0)) {
                w.awaitAcked(2_000);
                bounds[0] = w.acked.get();
                first = backups.createBackup(db); // writes go on meanwhile
                bounds[1] = w.started.get();
                w.awaitAcked(bounds[1] + 1_500);
                bounds[2] = w.acked.get();
                second = backups.createBackup(db);
                bounds[3] = w.started.get();
                assertEquals(0, db.stats().compactions(), "no compaction rewrote the first backup's tables");
                w.awaitAcked(bounds[3] + 300);
                bounds[4] = w.acked.get();
                onLocal = localBackups.createBackup(db); // the DB on HDFS, the backup on the local disk
                bounds[5] = w.started.get();
                db.compactRange(null, null); // every table rewritten: the third backup shares none
                w.awaitAcked(w.acked.get() + 300);
                bounds[6] = w.acked.get();
                third = backups.createBackup(db);
                bounds[7] = w.started.get();
            }
            assertEquals(List.of(1, 2, 3), backups.listBackups().stream().map(BackupInfo::id).toList());
            assertTrue(second.newFiles() < second.fileCount(), "the second backup shares tables with the first: "
                    + second);
            assertTrue(second.newBytes() < second.size(), second.toString());
            assertEquals(third.fileCount(), third.newFiles(), "after a full compaction nothing is shared: " + third);
            backups.verify(1);
            backups.verify(2);
            backups.verify(3);
            localBackups.verify(onLocal.id());
            localBackups.restore(onLocal.id(), local.resolve("restored"));
        }
        try (DB r = DB.open(local.resolve("restored"), options.copy().createIfMissing(false))) {
            long n = assertPrefix("the local backup of the DB on HDFS, restored", r, bounds[4], bounds[5]);
            assertEquals(base + perBatch * n, onLocal.sequence());
        }
        try (FileSystem bkFs = FileSystem.forUri(hdfs.uri()); BackupEngine backups = BackupEngine.open(bk, bkFs)) {
            // damage: a flipped byte in the oldest shared table (backup 1's, shared by backup 2), then a
            // truncated private WAL of backup 2
            List<String> shared = list(bk.resolve("shared"));
            Path table = bk.resolve("shared").resolve(shared.get(0));
            byte[] bytes = readAll(table);
            bytes[bytes.length / 2] ^= 0x10;
            rewrite(table, bytes, bytes.length);
            CorruptionException flipped = assertThrows(CorruptionException.class, () -> backups.verify(2));
            assertEquals(table.toString(), flipped.file(), flipped.getMessage());
            assertTrue(flipped.getMessage().contains("bytes changed"), flipped.getMessage());
            bytes[bytes.length / 2] ^= 0x10;
            rewrite(table, bytes, bytes.length);
            backups.verify(2);

            Path priv = bk.resolve("private").resolve("2");
            Path wal = priv.resolve(list(priv).stream().filter(n -> n.endsWith(".log")).findFirst().orElseThrow());
            byte[] walBytes = readAll(wal);
            rewrite(wal, walBytes, walBytes.length - 3);
            CorruptionException truncated = assertThrows(CorruptionException.class, () -> backups.verify(2));
            assertEquals(wal.toString(), truncated.file(), truncated.getMessage());
            assertEquals(walBytes.length - 3, truncated.offset(), truncated.getMessage());
            assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
            assertThrows(CorruptionException.class, () -> backups.restore(2, Path.of("/backup/bad"), bkFs));
            assertFalse(fs.exists(Path.of("/backup/bad/CURRENT")), "a failed restore is not a DB");
            rewrite(wal, walBytes, walBytes.length);
            backups.verify(2);

            // restore both into empty directories on HDFS
            fs.createDirectories(Path.of("/backup/r1"));
            backups.restore(1, Path.of("/backup/r1"), bkFs);
            backups.restore(2, Path.of("/backup/r2"), bkFs);
        }
        try (DB r = DB.open(hdfs.uri("/backup/r1"), options.copy().createIfMissing(false))) {
            long n = assertPrefix("backup 1, restored", r, bounds[0], bounds[1]);
            assertEquals(base + perBatch * n, first.sequence());
        }
        try (DB r = DB.open(hdfs.uri("/backup/r2"), options.copy().createIfMissing(false))) {
            long n = assertPrefix("backup 2, restored", r, bounds[2], bounds[3]);
            assertEquals(base + perBatch * n, second.sequence());
        }
        try (FileSystem bkFs = FileSystem.forUri(hdfs.uri()); BackupEngine backups = BackupEngine.open(bk, bkFs)) {
            long sharedBefore = list(bk.resolve("shared")).size();
            long tablesOfFirst = first.fileCount() - list(bk.resolve("private").resolve("1")).size();
            long tablesOfSecond = second.fileCount() - list(bk.resolve("private").resolve("2")).size();
            long tablesOfThird = third.fileCount() - list(bk.resolve("private").resolve("3")).size();
            assertEquals(tablesOfSecond + tablesOfThird, sharedBefore, "the first backup's tables are stored once, "
                    + "shared with the second (" + tablesOfFirst + " tables)");
            assertEquals(List.of(1, 2), backups.purgeOldBackups(1));
            assertEquals(List.of(3), backups.listBackups().stream().map(BackupInfo::id).toList());
            assertFalse(fs.exists(bk.resolve("private").resolve("1")), "backup 1's private files are gone");
            assertFalse(fs.exists(bk.resolve("private").resolve("2")), "backup 2's private files are gone");
            // exactly the tables backup 3 names stay: those only backups 1 and 2 held are deleted
            assertEquals(tablesOfThird, list(bk.resolve("shared")).size(), "shared tables after the purge ("
                    + sharedBefore + " before)");
            backups.verify(3);
            backups.restore(3, Path.of("/backup/r3-after-purge"), bkFs);
        }
        try (DB r = DB.open(hdfs.uri("/backup/r3-after-purge"), options.copy().createIfMissing(false))) {
            long n = assertPrefix("backup 3 restored after the purge", r, bounds[6], bounds[7]);
            assertEquals(base + perBatch * n, third.sequence());
        }
    }

    /** {@code bin/o3 backup ARGS} as a child JVM (the class {@code bin/o3} runs); returns exit code and output. */
    private static String[] backupCommand(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(io.o3lsm.testing.ChildJvm.javaBinary(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "io.o3lsm.internal.backup.BackupMain"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("o3 backup " + List.of(args) + " did not exit within 120 s:\n" + out);
        }
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    @Test
    void shouldBackUpThroughTheDbsOwnHdfsClientAndFromTheCommandLine() throws Exception {
        Path dbDir = Path.of("/samefs/db");
        Path bk = Path.of("/samefs/bk");
        BackupInfo first;
        long before;
        long after;
        long base;
        long perBatch;
        long total;
        try (FileSystem shared = FileSystem.forUri(hdfs.uri())) {
            // the DB opened by path on the engine's own file system object: the checkpoint is staged in
            // bk/tmp/N and renamed into place on HDFS (no copy across file systems)
            try (DB db = DB.open(dbDir, small().fileSystem(shared));
                    BackupEngine backups = BackupEngine.open(bk, shared)) {
                base = lastSequence(db);
                write(db, 0);
                perBatch = lastSequence(db) - base;
                Writer w = new Writer(db, 1, 0);
                try (w) {
                    w.awaitAcked(2_000);
                    before = w.acked.get();
                    first = backups.createBackup(db);
                    after = w.started.get();
                    w.awaitAcked(after + 200);
                }
                total = w.acked.get();
                backups.verify(first.id());
                assertEquals(List.of(), list(bk.resolve("tmp")), "the staging directory is emptied");
                assertTrue(list(Path.of("/samefs")).stream().noneMatch(n -> n.startsWith("db.backup-")),
                        "nothing staged beside the DB: " + list(Path.of("/samefs")));
                backups.restore(first.id(), Path.of("/samefs/r1"), shared);
            }
        }
        try (DB r = DB.open(hdfs.uri("/samefs/r1"), small().createIfMissing(false))) {
            long n = assertPrefix("a backup through the DB's own HDFS client, restored", r, before, after);
            assertEquals(base + perBatch * n, first.sequence());
        }
        // the command line, on the DB at rest: create, list, verify, restore with hdfs:// locations
        String[] create = backupCommand("create", "--db", hdfs.uri(dbDir.toString()).toString(), "--backup-dir",
                hdfs.uri(bk.toString()).toString());
        assertEquals("0", create[0], create[1]);
        String[] listed = backupCommand("list", "--backup-dir", hdfs.uri(bk.toString()).toString());
        assertEquals("0", listed[0], listed[1]);
        assertTrue(listed[1].lines().anyMatch(l -> l.startsWith("2\t")), listed[1]);
        String[] verified = backupCommand("verify", "--backup-dir", hdfs.uri(bk.toString()).toString());
        assertEquals("0", verified[0], verified[1]);
        String[] restored = backupCommand("restore", "--backup-dir", hdfs.uri(bk.toString()).toString(), "--id", "2",
                "--target", hdfs.uri("/samefs/r2").toString());
        assertEquals("0", restored[0], restored[1]);
        try (DB r = DB.open(hdfs.uri("/samefs/r2"), small().createIfMissing(false))) {
            assertPrefix("a backup by bin/o3 backup create of the DB at rest, restored", r, total, total);
        }
    }

    // ------------------------------------------------------------------ read-only open

    @Test
    void shouldOpenReadOnlyWhileThePrimaryWritesOnHdfsSeeingAConsistentPrefixAndRefuseWrites() throws Exception {
        URI dbUri = hdfs.uri("/readonly/db");
        Path dir = Path.of("/readonly/db");
        int rounds = 0;
        int retried = 0;
        try (FileSystem roFs = FileSystem.forUri(hdfs.uri()); DB db = DB.open(dbUri, small())) {
            Options ro = small().createIfMissing(false).fileSystem(roFs);
            try (Writer w = new Writer(db, 0, 20)) {
                w.awaitAcked(500);
                long last = 0;
                while (rounds < 6) {
                    w.awaitAcked(w.acked.get() + 400);
                    long before = w.acked.get();
                    try (DB r = DB.openReadOnly(dir, ro)) {
                        long n = assertPrefix("read-only open " + rounds, r, before, w.started.get());
                        assertTrue(n >= last);
                        last = n;
                        if (rounds == 0) {
                            ReadOnlyException refused = assertThrows(ReadOnlyException.class, () -> r.put(b("x"), b("y")));
                            assertTrue(refused.getMessage().contains("read-only"), refused.getMessage());
                            assertThrows(ReadOnlyException.class, () -> r.write(new WriteBatch().put(b("x"), b("y"))));
                            assertThrows(ReadOnlyException.class, r::flush);
                            assertThrows(ReadOnlyException.class, () -> r.checkpoint(Path.of("/readonly/ckpt")));
                        }
                        rounds++;
                    } catch (O3Exception ex) {
                        // documented: files changed during each attempt, or a table a compaction deleted on HDFS
                        if (++retried > 10) {
                            throw ex;
                        }
                        System.out.println("HdfsOperationsTest read-only open retried: " + ex);
                    }
                }
            }
            assertTrue(db.stats().flushes() > 0, "the primary flushed meanwhile (WAL rolls)");
            // quiet: an unsynced write acknowledged just before the open is seen
            long n = batches(state(db));
            write(db, n);
            try (DB r = DB.openReadOnly(dir, ro)) {
                assertPrefix("read-only open after a last write", r, n + 1, n + 1);
            }
            assertFalse(fs.exists(dir.resolve("ckpt")));
        }
        System.out.println("HdfsOperationsTest read-only: " + rounds + " opens, " + retried + " retried");
    }

    // ------------------------------------------------------------------ secondary instances

    @Test
    void shouldFollowAPrimaryOnHdfsThroughFlushesWalRollsAndCompactionsWithAConsistentPrefixAtEachCatchUp()
            throws Exception {
        URI dbUri = hdfs.uri("/secondary/db");
        Path dir = Path.of("/secondary/db");
        int retried = 0;
        try (FileSystem secFs = FileSystem.forUri(hdfs.uri()); DB db = DB.open(dbUri, small())) {
            write(db, 0);
            Options so = small().createIfMissing(false).fileSystem(secFs);
            try (Secondary sec = DB.openSecondary(dir, so)) {
                assertPrefix("the secondary's open", sec, 1, 1);
                long lastSeq = sec.sequence();
                long lastN = 1;
                int round = 0;
                try (Writer w = new Writer(db, 1, 20)) {
                    while (round < 12) {
                        w.awaitAcked(w.acked.get() + 300);
                        if (round % 4 == 3) {
                            db.compactRange(null, null); // deletes every table the secondary's view reads
                        }
                        long before = w.acked.get();
                        try {
                            long seq = sec.tryCatchUp();
                            assertEquals(seq, sec.sequence());
                            assertTrue(seq >= lastSeq, "sequence went back from " + lastSeq + " to " + seq);
                            long n = assertPrefix("catch-up " + round, sec, before, w.started.get());
                            assertTrue(n >= lastN);
                            lastSeq = seq;
                            lastN = n;
                            round++;
                        } catch (O3Exception ex) {
                            // documented: files changed during each attempt, or a table a compaction deleted on HDFS
                            if (++retried > 20) {
                                throw ex;
                            }
                            System.out.println("HdfsOperationsTest catch-up retried: " + ex);
                        }
                    }
                }
                assertTrue(db.stats().flushes() > 2, "the primary flushed (WAL rolls): " + db.stats().flushes());
                assertTrue(db.stats().compactions() > 0, "the primary compacted");
                ReadOnlyException refused = assertThrows(ReadOnlyException.class, () -> sec.put(b("x"), b("y")));
                assertTrue(refused.getMessage().contains("secondary"), refused.getMessage());

                // quiet: one unsynced write acknowledged before tryCatchUp is seen by it
                long n = batches(state(db));
                catchUpTo(sec, n);
                write(db, n);
                sec.tryCatchUp();
                assertPrefix("a catch-up after one last write", sec, n + 1, n + 1);
                write(db, n + 1);
                write(db, n + 2);
                sec.tryCatchUp();
                assertPrefix("a catch-up after two more", sec, n + 3, n + 3);
            }
        }
        System.out.println("HdfsOperationsTest secondary: " + retried + " catch-ups retried");
    }

    /** Catches up (retrying as documented) and checks the view holds exactly {@code n} batches. */
    private static long catchUpTo(Secondary sec, long n) {
        for (int attempt = 1;; attempt++) {
            try {
                sec.tryCatchUp();
                return assertPrefix("catch-up to " + n, sec, n, n);
            } catch (O3Exception ex) {
                if (attempt >= 10) {
                    throw ex;
                }
            }
        }
    }

    // ------------------------------------------------------------------ bulk ingest

    private static String ingestKey(int i) {
        return String.format("i%06d", i);
    }

    @Test
    void shouldIngestLocallyWrittenFilesIntoADbOnHdfsAtomicallyWhileWritesGoOnAndKeepThemAcrossReopen()
            throws Exception {
        URI dbUri = hdfs.uri("/ingest/db");
        int count = 3_000;
        // the file overlapping the DB's older values of i000000…i002999
        Path overlapping = local.resolve("staging/overlapping.sst");
        try (SstFileWriter w = SstFileWriter.open(overlapping, small())) {
            for (int i = 0; i < count; i++) {
                w.put(b(ingestKey(i)), b("new" + i));
            }
            assertEquals(count, w.finish().entries());
        }
        // a file of a key range nothing covers
        Path fresh = local.resolve("staging/fresh.sst");
        try (SstFileWriter w = SstFileWriter.open(fresh, small())) {
            for (int i = 0; i < 500; i++) {
                w.put(b("j" + ingestKey(i)), b("fresh" + i));
            }
            w.finish();
        }
        TreeMap<String, String> ingested = new TreeMap<>();
        long written;
        try (DB db = DB.open(dbUri, small())) {
            for (int i = 0; i < count; i++) {
                db.put(b(ingestKey(i)), b("old" + i));
            }
            db.flush();
            AtomicBoolean stopReading = new AtomicBoolean();
            AtomicReference<Throwable> readerFailed = new AtomicReference<>();
            AtomicLong mixed = new AtomicLong();
            AtomicLong views = new AtomicLong();
            // a reader: each view holds the ingested values for all of i… or for none of it
            Thread reader = new Thread(() -> {
                try {
                    while (!stopReading.get()) {
                        int fresh0 = 0;
                        int old0 = 0;
                        try (DBIterator it = db.iterator()) {
                            for (it.seek(b("i")); it.isValid() && s(it.key()).startsWith("i"); it.next()) {
                                if (s(it.value()).startsWith("new")) {
                                    fresh0++;
                                } else {
                                    old0++;
                                }
                            }
                        }
                        if (fresh0 + old0 != count || (fresh0 != 0 && old0 != 0)) {
                            mixed.incrementAndGet();
                            throw new AssertionError("a view with " + fresh0 + " ingested and " + old0 + " older values");
                        }
                        views.incrementAndGet();
                    }
                } catch (Throwable ex) {
                    readerFailed.set(ex);
                }
            }, "reader");
            reader.start();
            try (Writer w = new Writer(db, 0, 20)) {
                w.awaitAcked(500);
                db.ingest(List.of(overlapping), IngestOptions.defaults().moveFiles(true)); // copies on HDFS
                long afterFirst = w.acked.get();
                db.ingest(List.of(fresh), IngestOptions.defaults());
                w.awaitAcked(afterFirst + 300);
            } finally {
                stopReading.set(true);
                reader.join();
            }
            if (readerFailed.get() != null) {
                throw new AssertionError("the concurrent reader saw part of an ingest", readerFailed.get());
            }
            assertTrue(views.get() > 0);
            assertEquals(0, mixed.get());
            assertTrue(Files.exists(overlapping) && Files.exists(fresh), "the local originals are left (copied to HDFS)");
            for (int i = 0; i < count; i++) {
                ingested.put(ingestKey(i), "new" + i);
            }
            for (int i = 0; i < 500; i++) {
                ingested.put("j" + ingestKey(i), "fresh" + i);
            }
            assertEquals("new7", s(db.get(b(ingestKey(7)))));
            assertEquals("fresh7", s(db.get(b("j" + ingestKey(7)))));
            TreeMap<String, String> want = model(batches(state(db)));
            want.putAll(ingested);
            assertEquals(want, state(db), "the DB after both ingests");
            written = batches(state(db));
            List<String> names = list(Path.of("/ingest/db"));
            assertTrue(count(names, ".sst") >= 2, names.toString());
        }
        try (DB db = DB.open(dbUri, small().createIfMissing(false))) {
            TreeMap<String, String> want = model(written);
            want.putAll(ingested);
            assertEquals(want, state(db), "the DB reopened: the ingests and every acknowledged write");
        }
    }
}
