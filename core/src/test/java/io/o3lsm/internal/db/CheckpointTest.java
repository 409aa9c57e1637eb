package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.testing.SequentialWriters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code DB.checkpoint}: docs/operations/checkpoints.md. */
@Timeout(120)
class CheckpointTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static Options small() {
        return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10);
    }

    /**
     * Four threads each write their own keys in order ({@code tT-N}, one put per sequence number) while
     * checkpoints are taken. Each checkpoint must hold, per thread, exactly a prefix of its writes, at
     * least every write acknowledged before the call, and in all exactly as many writes as sequence
     * numbers up to the one it returned: none of a later sequence (a WAL cut late, or a table of a later
     * version, adds some; one cut early loses acknowledged ones).
     */
    @Test
    void shouldOpenACheckpointTakenDuringWritesToExactlyTheStateAtItsSequence() throws Exception {
        int threads = 4;
        int rounds = 4;
        try (DB db = DB.open(dir.resolve("db"), small())) {
            long base = ((DBImpl) db).lastSequence();
            long[][] before = new long[rounds][];
            long[][] after = new long[rounds][];
            long[] seqs = new long[rounds];
            try (SequentialWriters writers = SequentialWriters.start(db, threads, "checkpoint-writer")) {
                for (int r = 0; r < rounds; r++) {
                    Thread.sleep(150);
                    before[r] = writers.acked();
                    seqs[r] = db.checkpoint(dir.resolve("ckpt-" + r));
                    after[r] = writers.acked();
                }
            }
            assertTrue(db.stats().flushes() > 0, "tables were written while the writes ran (the test covers them)");
            for (int r = 0; r < rounds; r++) {
                long[] prefix;
                try (DB c = DB.open(dir.resolve("ckpt-" + r), small())) {
                    prefix = SequentialWriters.prefixes(c, threads, "checkpoint " + r);
                }
                long total = 0;
                for (int t = 0; t < threads; t++) {
                    assertTrue(prefix[t] >= before[r][t], "checkpoint " + r + " holds every write acknowledged before "
                            + "it: thread " + t + " had " + before[r][t] + ", the copy " + prefix[t]);
                    assertTrue(prefix[t] <= after[r][t] + 1, "checkpoint " + r + ": thread " + t + " had " + after[r][t]
                            + " acknowledged when it returned, the copy holds " + prefix[t]);
                    total += prefix[t];
                }
                assertEquals(seqs[r] - base, total, "checkpoint " + r + " holds exactly the writes numbered up to "
                        + "its sequence " + seqs[r]);
            }
        }
    }

    @Test
    void shouldCarryFamiliesMergesRangeDeletionsAndTtlIntoTheCheckpoint() throws Exception {
        AtomicLong clock = new AtomicLong(1_700_000_000_000L);
        List<ColumnFamilyDescriptor> families = List.of(
                new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("sessions", ColumnFamilyOptions.defaults().ttl(Duration.ofSeconds(10))));
        Options options = small().clock(clock::get);
        long seq;
        try (DB db = DB.open(dir.resolve("db"), options, families)) {
            ColumnFamilyHandle counters = db.columnFamily("counters");
            ColumnFamilyHandle sessions = db.columnFamily("sessions");
            for (int i = 0; i < 100; i++) {
                db.put(b(String.format("k%03d", i)), b("v" + i));
            }
            db.merge(counters, b("hits"), MergeOperators.int64(2));
            db.put(sessions, b("s1"), b("open"));
            db.flush(); // part in tables…
            db.merge(counters, b("hits"), MergeOperators.int64(3)); // …part in the WAL
            db.deleteRange(b("k010"), b("k020"));
            try (WriteBatch batch = new WriteBatch()) {
                db.write(batch.merge(counters, b("hits"), MergeOperators.int64(5)).put(sessions, b("s2"), b("open")));
            }
            seq = db.checkpoint(dir.resolve("ckpt"));
            // after the checkpoint: none of this is in it
            db.merge(counters, b("hits"), MergeOperators.int64(1000));
            db.put(b("k015"), b("after"));
            db.delete(b("k050"));
            db.dropColumnFamily(sessions);
            db.compactRange(null, null);
            assertEquals(1010, MergeOperators.int64(db.get(counters, b("hits"))));
        }
        assertTrue(seq > 0);
        try (DB c = DB.open(dir.resolve("ckpt"), options, families)) {
            assertEquals(List.of("default", "counters", "sessions"), c.listColumnFamilies());
            ColumnFamilyHandle counters = c.columnFamily("counters");
            ColumnFamilyHandle sessions = c.columnFamily("sessions");
            assertEquals(10, MergeOperators.int64(c.get(counters, b("hits"))), "operands from tables and WAL combined");
            assertNull(c.get(b("k015")), "the range deletion holds; the later put is not there");
            assertNull(c.get(b("k010")));
            assertEquals("v20", s(c.get(b("k020"))));
            assertEquals("v50", s(c.get(b("k050"))), "the later delete is not there");
            assertEquals("open", s(c.get(sessions, b("s1"))));
            assertEquals("open", s(c.get(sessions, b("s2"))));
            clock.addAndGet(11_000);
            assertNull(c.get(sessions, b("s1")), "the TTL family's values keep their stamps and expire");
            c.put(b("new"), b("writable")); // a checkpoint is an ordinary DB
            assertEquals("writable", s(c.get(b("new"))));
        }
        // a plain DB with a TTL: its marker is copied, so the copy is refused without a ttl
        Options ttl = small().ttl(Duration.ofSeconds(10)).clock(clock::get);
        try (DB db = DB.open(dir.resolve("ttl"), ttl)) {
            db.put(b("a"), b("1"));
            db.checkpoint(dir.resolve("ttl-ckpt"));
        }
        assertThrows(IllegalArgumentException.class, () -> DB.open(dir.resolve("ttl-ckpt"), small()).close());
        try (DB c = DB.open(dir.resolve("ttl-ckpt"), ttl)) {
            assertEquals("1", s(c.get(b("a"))));
        }
    }

    @Test
    void shouldRefuseATargetThatExistsAndLeaveItAlone() throws Exception {
        Path target = dir.resolve("taken");
        Files.createDirectories(target);
        Files.writeString(target.resolve("mine.txt"), "keep");
        try (DB db = DB.open(dir.resolve("db"), small())) {
            db.put(b("a"), b("1"));
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> db.checkpoint(target));
            assertTrue(ex.getMessage().contains(target.toString()) && ex.getMessage().contains("exists"),
                    ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> db.checkpoint(null));
            db.put(b("b"), b("2")); // the DB goes on
            db.checkpoint(dir.resolve("a/b/c")); // parents are created
        }
        try (Stream<Path> files = Files.list(target)) {
            assertEquals(List.of(target.resolve("mine.txt")), files.toList());
        }
        try (DB c = DB.open(dir.resolve("a/b/c"), small())) {
            assertEquals("2", s(c.get(b("b"))));
        }
    }

    /** The tables of the current version, by name. */
    private static List<String> tables(Path d) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sst")).sorted().toList();
        }
    }

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino");
    }

    @Test
    void shouldHardLinkTablesOnTheLocalFileSystemAndCopyWhereLinksAreUnsupported() throws Exception {
        Path src = dir.resolve("db");
        try (DB db = DB.open(src, small())) {
            for (int i = 0; i < 3000; i++) {
                db.put(b(String.format("k%05d", i)), b("v".repeat(100)));
            }
            db.flush();
            db.put(b("wal-only"), b("1"));
            db.checkpoint(dir.resolve("linked"));
        }
        List<String> names = tables(dir.resolve("linked"));
        assertFalse(names.isEmpty());
        for (String n : names) {
            assertEquals(inode(src.resolve(n)), inode(dir.resolve("linked").resolve(n)), n + " is a hard link");
        }
        // a file system without links (a wrapper that does not forward link): copies, same bytes
        Options noLinks = small().fileSystem(new ForwardingFileSystem());
        try (DB db = DB.open(src, noLinks)) {
            db.checkpoint(dir.resolve("copied"));
        }
        List<String> copied = tables(dir.resolve("copied"));
        assertFalse(copied.isEmpty());
        for (String n : copied) {
            Path c = dir.resolve("copied").resolve(n);
            assertNotEquals(inode(src.resolve(n)), inode(c), n + " is a copy");
            assertArrayEquals(Files.readAllBytes(src.resolve(n)), Files.readAllBytes(c));
        }
        for (String d : List.of("linked", "copied")) {
            try (DB c = DB.open(dir.resolve(d), small())) {
                assertEquals("1", s(c.get(b("wal-only"))));
                assertEquals("v".repeat(100), s(c.get(b("k02999"))));
            }
        }
        assertNotEquals(Files.readString(dir.resolve("linked/IDENTITY")), Files.readString(dir.resolve("copied/IDENTITY")),
                "each checkpoint is a DB of its own");
    }

    @Test
    void shouldKeepTheSourceWorkingAndTheCopyUnaffectedByLaterCompactions() throws Exception {
        Path src = dir.resolve("db");
        try (DB db = DB.open(src, small())) {
            for (int i = 0; i < 2000; i++) {
                db.put(b(String.format("k%05d", i)), b("old" + i));
            }
            db.flush();
            db.checkpoint(dir.resolve("ckpt"));
            List<String> before = tables(dir.resolve("ckpt"));
            for (int i = 0; i < 2000; i++) {
                if (i % 2 == 0) {
                    db.delete(b(String.format("k%05d", i)));
                } else {
                    db.put(b(String.format("k%05d", i)), b("new" + i));
                }
            }
            db.compactRange(null, null);
            ((DBImpl) db).waitForCompactions();
            assertNull(db.get(b("k00000")));
            assertEquals("new1", s(db.get(b("k00001"))));
            assertEquals(before, tables(dir.resolve("ckpt")), "the copy's tables stay");
        }
        DB.open(src, small()).close(); // whatever the compaction made obsolete is gone now
        assertFalse(tables(src).containsAll(tables(dir.resolve("ckpt"))), "the compaction replaced the source's tables");
        try (DB c = DB.open(dir.resolve("ckpt"), small()); DBIterator it = c.iterator()) {
            int n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                assertEquals(String.format("k%05d", n), s(it.key()));
                assertEquals("old" + n, s(it.value()));
                n++;
            }
            assertEquals(2000, n);
        }
    }

    /**
     * The backup engine's variant: the checkpoint directory holds no table; its tables are listed and stay
     * in the DB's directory, readable, through a compaction that replaces them, until it is closed; the
     * DB's close waits for it (and it reports the closing).
     */
    @Test
    void shouldKeepTheTablesOfACheckpointWithoutTablesPinnedInTheDbDirectoryUntilItIsClosed() throws Exception {
        Path src = dir.resolve("db");
        DB db = DB.open(src, small());
        try {
            fill(db);
            PinnedCheckpoint cp = ((DBImpl) db).checkpointWithoutTables(dir.resolve("ckpt"));
            List<String> listed = cp.tables().stream().map(PinnedCheckpoint.Table::name).sorted().toList();
            assertEquals(tables(src), listed);
            assertEquals(List.of(), tables(dir.resolve("ckpt")), "no table in the checkpoint's directory");
            assertTrue(Files.exists(dir.resolve("ckpt").resolve("CURRENT")));
            for (int i = 0; i < 1000; i++) {
                db.put(b(String.format("k%05d", i)), b("new" + i));
            }
            db.compactRange(null, null);
            ((DBImpl) db).waitForCompactions();
            for (PinnedCheckpoint.Table t : cp.tables()) {
                assertEquals(t.size(), Files.size(src.resolve(t.name())), t.name() + " kept while pinned");
            }
            AtomicReference<Throwable> closeFailed = new AtomicReference<>();
            Thread closer = new Thread(() -> {
                try {
                    db.close();
                } catch (Throwable t) {
                    closeFailed.set(t);
                }
            });
            closer.start();
            while (!((DBImpl) db).engine().closing && closer.isAlive()) {
                Thread.onSpinWait(); // close has begun: from here checkNotClosing must refuse
            }
            closer.join(300);
            assertTrue(closer.isAlive(), "close waits for the pinned checkpoint");
            assertThrows(io.o3lsm.DBClosedException.class, cp::checkNotClosing);
            cp.close();
            cp.close(); // idempotent
            closer.join(10_000);
            assertFalse(closer.isAlive());
            assertNull(closeFailed.get());
        } finally {
            db.close();
        }
        DB.open(src, small()).close();
    }

    /** Entries of {@code d} whose names start with {@code prefix}, sorted. */
    private static List<String> named(Path d, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        }
    }

    /** A DB with tables, a WAL holding the tables' keys made obsolete, and WAL-only data past them. */
    private static void fill(DB db) {
        for (int i = 0; i < 1000; i++) {
            db.put(b(String.format("k%05d", i)), b("v" + i));
        }
        db.flush();
        db.put(b("x"), b("x")); // rolls the WAL
        db.flush(); // the WAL holding k* is obsolete now: k* live in the table only
        db.put(b("wal-only"), b("w"));
    }

    /**
     * A checkpoint cut short by a crash must not leave a partial DB under the target's name (DB.open
     * would turn it into one: replay its WALs into a fresh DB and sweep its tables as orphans): the copy
     * is built in a staging directory beside the target and renamed to it last. At every file the call
     * creates, the target does not exist yet; a crash image taken when CURRENT's temp file is created
     * holds only the staging directory. (Review 3, R2.)
     */
    @Test
    void shouldNeverLeaveAPartialCheckpointUnderTheTargetName() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        Path crashed = dir.resolve("crashed");
        AtomicLong creations = new AtomicLong();
        AtomicReference<String> seenTarget = new AtomicReference<>();
        ForwardingFileSystem fs = new ForwardingFileSystem() {
            @Override
            public WritableFile newWritableFile(Path path) throws IOException {
                Path parent = path.getParent();
                if (parent != null && !parent.equals(src)) {
                    creations.incrementAndGet();
                    if (Files.exists(target)) {
                        seenTarget.compareAndSet(null, path.toString());
                    }
                    if (path.getFileName().toString().matches("[0-9]+\\.dbtmp")) {
                        // "crash" here: the parent as it is on disk now, but for the source
                        Files.createDirectories(crashed);
                        try (Stream<Path> dirs = Files.list(dir)) {
                            for (Path d : (Iterable<Path>) dirs::iterator) {
                                if (Files.isDirectory(d) && !d.equals(src) && !d.equals(crashed)) {
                                    Path to = Files.createDirectories(crashed.resolve(d.getFileName()));
                                    try (Stream<Path> files = Files.list(d)) {
                                        for (Path f : (Iterable<Path>) files::iterator) {
                                            Files.copy(f, to.resolve(f.getFileName()));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                return super.newWritableFile(path);
            }
        };
        try (DB db = DB.open(src, small().fileSystem(fs))) {
            fill(db);
            db.checkpoint(target);
        }
        assertTrue(creations.get() > 3, "the copy was written through the hook");
        assertNull(seenTarget.get(), "the target existed while the checkpoint was written");
        assertFalse(Files.exists(crashed.resolve("ckpt")), "a crash leaves no partial DB under the target's name");
        List<String> staged = named(crashed, "ckpt" + CheckpointWriter.STAGING_INFIX);
        assertEquals(1, staged.size(), "a crash leaves the staging directory: " + staged);
        assertFalse(Files.exists(crashed.resolve(staged.get(0)).resolve("CURRENT")));
        assertEquals(List.of("ckpt"), named(dir, "ckpt"), "no staging directory is left after a checkpoint");
        try (DB c = DB.open(target, small())) {
            assertEquals("w", s(c.get(b("wal-only"))));
            assertEquals("v0", s(c.get(b("k00000"))));
        }
    }

    /**
     * A checkpoint that fails removes all of its staging directory, files it did not name itself too
     * (IDENTITY's temp file, left by a failed rename), and the DB goes on.
     */
    @Test
    void shouldRemoveTheWholeStagingDirectoryWhenACheckpointFails() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        AtomicBoolean fail = new AtomicBoolean(true);
        ForwardingFileSystem fs = new ForwardingFileSystem() {
            @Override
            public void rename(Path source, Path to) throws IOException {
                if (fail.get() && source.getFileName().toString().equals("IDENTITY.dbtmp")
                        && !source.getParent().equals(src)) {
                    assertTrue(Files.exists(source));
                    throw new IOException("test: rename refused");
                }
                super.rename(source, to);
            }
        };
        try (DB db = DB.open(src, small().fileSystem(fs))) {
            fill(db);
            io.o3lsm.O3Exception ex = assertThrows(io.o3lsm.O3Exception.class, () -> db.checkpoint(target));
            assertTrue(ex.getMessage().contains("rename refused"), ex.getMessage());
            assertEquals(List.of(), named(dir, "ckpt"), "nothing of the failed checkpoint is left");
            fail.set(false);
            db.put(b("after"), b("1"));
            db.checkpoint(target);
        }
        try (DB c = DB.open(target, small())) {
            assertEquals("1", s(c.get(b("after"))));
        }
    }

    /**
     * After a write group failed between its WAL append and its memtable insert (the DB refuses writes,
     * lastSequence not advanced), the WAL holds a write past lastSequence: a checkpoint is refused,
     * naming the failure, rather than returning a sequence its copy holds more than. (Review 3, R3.)
     */
    @Test
    void shouldRefuseACheckpointAfterAFailedWriteNamingTheFailure() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        try (DB db = DB.open(src, small())) {
            db.put(b("ok"), b("1"));
            Engine e = ((DBImpl) db).engine();
            e.memtables.beforeAllocate = () -> {
                throw new OutOfMemoryError("test: arena allocation fails");
            };
            byte[] big = new byte[60 << 10];
            assertThrows(RuntimeException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    db.put(b(String.format("big%03d", i)), big);
                }
            });
            assertNotNull(e.bgError);
            io.o3lsm.O3Exception ex = assertThrows(io.o3lsm.O3Exception.class, () -> db.checkpoint(target));
            assertTrue(ex.getMessage().contains("refused") && ex.getMessage().contains("arena allocation fails"),
                    ex.getMessage());
            assertEquals(List.of(), named(dir, "ckpt"), "nothing was written");
        }
    }

    /**
     * Two checkpoints to the same target: the second runs whole while the first is about to rename its
     * staging directory, and wins; the first then fails (target exists) without touching the winner's
     * files, and removes its own staging directory.
     */
    @Test
    void shouldLetOneOfTwoCheckpointsToTheSameTargetWinAndTheOtherFailCleanly() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        AtomicReference<DB> open = new AtomicReference<>();
        AtomicReference<Long> secondSeq = new AtomicReference<>();
        AtomicBoolean nested = new AtomicBoolean();
        ForwardingFileSystem fs = new ForwardingFileSystem() {
            @Override
            public void rename(Path source, Path to) throws IOException {
                if (to.equals(target) && nested.compareAndSet(false, true)) {
                    open.get().put(b("between"), b("1"));
                    secondSeq.set(open.get().checkpoint(target)); // wins the rename
                }
                super.rename(source, to);
            }
        };
        try (DB db = DB.open(src, small().fileSystem(fs))) {
            open.set(db);
            fill(db);
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> db.checkpoint(target));
            assertTrue(ex.getMessage().contains("exists"), ex.getMessage());
            assertNotNull(secondSeq.get());
        }
        assertEquals(List.of("ckpt"), named(dir, "ckpt"), "the loser's staging directory is removed");
        try (DB c = DB.open(target, small())) {
            assertEquals("1", s(c.get(b("between"))), "the target is the winner's copy, whole");
            assertEquals("v999", s(c.get(b("k00999"))));
        }
    }

    /**
     * close() during a checkpoint: close waits for it, and the checkpoint gives up at its next file with
     * DBClosedException, leaving nothing behind.
     */
    @Test
    void shouldFailACheckpointRunningAtCloseWithDbClosedExceptionAndLeaveNothing() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        AtomicReference<DB> open = new AtomicReference<>();
        AtomicReference<Thread> closer = new AtomicReference<>();
        AtomicReference<Throwable> closeFailed = new AtomicReference<>();
        AtomicBoolean closeWaited = new AtomicBoolean();
        ForwardingFileSystem fs = new ForwardingFileSystem() { // no links: tables are copied through it
            @Override
            public WritableFile newWritableFile(Path path) throws IOException {
                if (path.getFileName().toString().endsWith(".sst") && !path.getParent().equals(src)
                        && closer.get() == null) {
                    DB db = open.get();
                    Thread t = new Thread(() -> {
                        try {
                            db.close();
                        } catch (Throwable ex) {
                            closeFailed.set(ex);
                        }
                    });
                    closer.set(t);
                    t.start();
                    while (!((DBImpl) db).engine().closing) {
                        Thread.onSpinWait();
                    }
                    try {
                        t.join(300);
                    } catch (InterruptedException ex) {
                        throw new IOException(ex);
                    }
                    closeWaited.set(t.isAlive());
                }
                return super.newWritableFile(path);
            }
        };
        DB db = DB.open(src, small().fileSystem(fs));
        open.set(db);
        fill(db);
        io.o3lsm.DBClosedException ex = assertThrows(io.o3lsm.DBClosedException.class, () -> db.checkpoint(target));
        assertTrue(ex.getMessage().contains("closing"), ex.getMessage());
        closer.get().join();
        assertTrue(closeWaited.get(), "close() waited for the running checkpoint");
        assertNull(closeFailed.get());
        assertTrue(((DBImpl) db).engine().closed);
        assertEquals(List.of(), named(dir, "ckpt"), "nothing of the checkpoint is left");
        assertThrows(io.o3lsm.DBClosedException.class, () -> db.checkpoint(target));
        try (DB reopened = DB.open(src, small())) {
            assertEquals("w", s(reopened.get(b("wal-only"))));
        }
    }

    /** The local file system renames a directory only to a name that does not exist. */
    @Test
    void shouldRefuseToRenameADirectoryOverAnExistingOneOnTheLocalFileSystem() throws Exception {
        io.o3lsm.spi.FileSystem fs = io.o3lsm.internal.fs.LocalFileSystem.INSTANCE;
        Path a = Files.createDirectories(dir.resolve("a"));
        Files.writeString(a.resolve("f"), "a");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("f"), "full");
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fs.rename(a, empty));
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fs.rename(a, full));
        assertEquals("full", Files.readString(full.resolve("f")));
        fs.rename(a, dir.resolve("b"));
        assertEquals("a", Files.readString(dir.resolve("b/f")));
        // files are still replaced (CURRENT's rename)
        Files.writeString(dir.resolve("x"), "x");
        fs.rename(dir.resolve("x"), full.resolve("f"));
        assertEquals("x", Files.readString(full.resolve("f")));
    }
}
