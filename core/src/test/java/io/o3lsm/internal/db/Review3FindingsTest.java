package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 3 of the checkpoint / read-only-open change: each test demonstrates a finding and FAILS on
 * the reviewed code (cc19e05) where it asserts the documented behaviour.
 */
@Timeout(120)
class Review3FindingsTest {
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

    private static List<String> logs(Path d) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList();
        }
    }

    /**
     * Finding R1: a read-only open beside a live writer reads the MANIFEST, then lists the WALs. If the
     * writer installs a flush and deletes the WAL the read MANIFEST still needs in between, the open
     * does not notice (no IOException: the WAL is simply not listed) and serves a view that lacks
     * writes acknowledged before the open began, while holding later ones: not a prefix.
     *
     * <p>Deterministic: the reader's file system runs the writer's steps at its first list() of the DB
     * directory (which is recoverReadOnly's, after VersionSet.recover read the MANIFEST).
     */
    @Test
    void readOnlyOpenBesideAWriterMustNotLoseAWalDeletedBetweenManifestAndListing() throws Exception {
        Path db = dir.resolve("db");
        try (DB w = DB.open(db, small())) {
            w.put(b("k1"), b("1")); // acknowledged before the read-only open starts: in WAL N only
            AtomicBoolean fired = new AtomicBoolean();
            ForwardingFileSystem fs = new ForwardingFileSystem() {
                @Override
                public List<String> list(Path d) throws IOException {
                    if (d.equals(db) && fired.compareAndSet(false, true)) {
                        List<String> before = logs(db);
                        w.flush(); // k1 into a table; the MANIFEST's log number stays N (still the current WAL)
                        w.put(b("k2"), b("2")); // rolls to WAL M
                        w.flush(); // log number M: WAL N is deleted
                        long deadline = System.nanoTime() + 5_000_000_000L;
                        while (logs(db).containsAll(before) && System.nanoTime() < deadline) {
                            Thread.onSpinWait();
                        }
                        w.put(b("k3"), b("3")); // in WAL M (or later)
                    }
                    return super.list(d);
                }
            };
            try (DB ro = DB.openReadOnly(db, small().fileSystem(fs))) {
                assertTrue(fired.get());
                String k1 = s(ro.get(b("k1")));
                String k3 = s(ro.get(b("k3")));
                // documented: "at least every write acknowledged before the open ... in sequence order without gaps"
                assertEquals("1", k1, "k1 was acknowledged before the open (k3, written after, is seen: " + k3 + ")");
            }
        }
    }

    /**
     * Finding R2: a checkpoint interrupted by a crash before CURRENT leaves a directory the docs call
     * "not a DB" -- but DB.open with the default createIfMissing turns it into one: it replays the
     * copied WALs into a fresh DB (and deletes the linked tables as orphans), so the user silently gets
     * the WAL part of the checkpoint without its tables. Simulated by snapshotting the target at the
     * moment CURRENT's temp file is created.
     */
    @Test
    void aCheckpointCutShortBeforeCurrentMustNotOpenAsAPartialDb() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        Path crashed = dir.resolve("crashed");
        ForwardingFileSystem fs = new ForwardingFileSystem() {
            @Override
            public WritableFile newWritableFile(Path path) throws IOException {
                if (path.getParent() != null && path.getParent().equals(target) && path.getFileName().toString()
                        .matches("[0-9]+\\.dbtmp")) {
                    // "crash" here: what is on disk in the target is everything but CURRENT
                    Files.createDirectories(crashed);
                    try (Stream<Path> files = Files.list(target)) {
                        for (Path p : (Iterable<Path>) files::iterator) {
                            Files.copy(p, crashed.resolve(p.getFileName()));
                        }
                    }
                }
                return super.newWritableFile(path);
            }
        };
        try (DB db = DB.open(src, small().fileSystem(fs))) {
            for (int i = 0; i < 1000; i++) {
                db.put(b(String.format("k%05d", i)), b("v" + i));
            }
            db.flush();
            db.put(b("x"), b("x")); // rolls the WAL
            db.flush(); // the WAL holding k* is obsolete now: k* live in the table only
            db.put(b("wal-only"), b("w"));
            db.checkpoint(target);
        }
        assertTrue(Files.exists(crashed) && !Files.exists(crashed.resolve("CURRENT")));
        try (DB c = DB.open(crashed, small())) {
            // a directory without CURRENT must not open as a DB holding part of the checkpoint
            String walOnly = s(c.get(b("wal-only")));
            String tabled = s(c.get(b("k00000")));
            assertEquals(tabled == null ? null : "v0", tabled);
            assertTrue(walOnly == null || tabled != null,
                    "the crashed checkpoint opened as a DB with its WAL data (wal-only=" + walOnly
                            + ") but without its tables (k00000=" + tabled + ")");
        } catch (io.o3lsm.O3Exception refused) {
            // refusing to open it is what the docs imply: fine
        }
    }

    /**
     * Finding R3: after a write group failed between its WAL append and its memtable insert (the DB
     * refuses writes, lastSequence is not advanced), checkpoint still succeeds, returns the old
     * lastSequence, and copies the WAL including the failed (never acknowledged) group: the copy holds
     * a write numbered past the sequence the checkpoint returned.
     */
    @Test
    void aCheckpointMustNotHoldAWritePastItsReturnedSequenceAfterAFailedWrite() throws Exception {
        Path src = dir.resolve("db");
        Path target = dir.resolve("ckpt");
        long cut;
        long base;
        try (DB db = DB.open(src, small())) {
            base = ((DBImpl) db).lastSequence();
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
            long last = ((DBImpl) db).lastSequence();
            cut = db.checkpoint(target); // not refused
            assertEquals(last, cut);
        }
        try (DB c = DB.open(target, small()); io.o3lsm.DBIterator it = c.iterator()) {
            int n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
            }
            // sequences 1..cut: "ok" plus the big puts that were acknowledged
            assertEquals(cut - base, n, "the copy holds exactly the writes numbered up to " + cut);
        }
    }

    /** Observation: DB.checkpoint's Javadoc says a replica throws UnsupportedOperationException; it throws ReadOnlyException. */
    @Test
    void readOnlyDbRefusesCheckpointWithTheDocumentedException() throws Exception {
        Path src = dir.resolve("db");
        try (DB db = DB.open(src, small())) {
            db.put(b("a"), b("1"));
        }
        try (DB ro = DB.openReadOnly(src, small())) {
            RuntimeException ex = assertThrows(RuntimeException.class, () -> ro.checkpoint(dir.resolve("x")));
            assertTrue(ex instanceof io.o3lsm.ReadOnlyException, ex.toString());
            assertNull(ro.get(b("nope")));
        }
    }
}
