package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Options.manualWalFlush}: unsynced writes stay in the WAL's buffer until {@code flushWal},
 * a synced write, or close. A "crash" here is a copy of the DB's files taken while it is open (what
 * a process kill would leave on disk), opened as a DB of its own.
 */
class ManualWalFlushTest {
    @TempDir
    Path tmp;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The files of {@code dir} as a killed process would leave them, opened; returns the keys found of {@code keys}. */
    private int foundAfterCrash(Path dir, String copyName, List<String> keys) throws IOException {
        Path copy = tmp.resolve(copyName);
        Files.createDirectories(copy);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, copy.resolve(p.getFileName()));
                }
            }
        }
        int found = 0;
        try (DB db = DB.open(copy, Options.defaults())) {
            for (String k : keys) {
                byte[] v = db.get(b(k));
                if (v != null) {
                    assertArrayEquals(b("value-" + k), v);
                    found++;
                }
            }
        }
        return found;
    }

    private static List<String> put(DB db, String prefix, int n, WriteOptions w) {
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            String k = prefix + i;
            db.put(b(k), b("value-" + k), w);
            keys.add(k);
        }
        return keys;
    }

    @Test
    void shouldKeepUnsyncedWritesBufferedUntilFlushWal() throws Exception {
        Path dir = tmp.resolve("db");
        try (DB db = DB.open(dir, Options.defaults().manualWalFlush(true))) {
            List<String> keys = put(db, "a", 20, WriteOptions.defaults());
            assertEquals(0, foundAfterCrash(dir, "crash-1", keys), "nothing reached the file before flushWal");
            db.flushWal(false);
            assertEquals(20, foundAfterCrash(dir, "crash-2", keys), "every write acknowledged before flushWal");
            List<String> more = put(db, "b", 5, WriteOptions.defaults());
            db.flushWal(true);
            assertEquals(5, foundAfterCrash(dir, "crash-3", more));
        }
    }

    @Test
    void shouldHandEveryWriteToTheFileSystemByDefault() throws Exception {
        Path dir = tmp.resolve("db");
        try (DB db = DB.open(dir, Options.defaults())) {
            List<String> keys = put(db, "a", 20, WriteOptions.defaults());
            assertEquals(20, foundAfterCrash(dir, "crash", keys));
            db.flushWal(false); // allowed, a no-op in effect
        }
    }

    @Test
    void shouldFlushWithASyncedWriteAndOnClose() throws Exception {
        Path dir = tmp.resolve("db");
        List<String> early;
        List<String> late;
        try (DB db = DB.open(dir, Options.defaults().manualWalFlush(true))) {
            early = put(db, "a", 10, WriteOptions.defaults());
            List<String> synced = put(db, "s", 1, WriteOptions.defaults().sync(true));
            early.addAll(synced);
            assertEquals(11, foundAfterCrash(dir, "crash", early), "a synced write takes the buffered ones with it");
            late = put(db, "z", 10, WriteOptions.defaults());
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            for (String k : late) {
                assertArrayEquals(b("value-" + k), db.get(b(k)), "close writes the buffer out: " + k);
            }
        }
    }

    @Test
    void shouldRefuseWritesAfterAFailedFlushWal() throws Exception {
        Path dir = tmp.resolve("db");
        FaultInjectingFileSystem fs = new FaultInjectingFileSystem();
        try (DB db = DB.open(dir, Options.defaults().manualWalFlush(true).fileSystem(fs))) {
            put(db, "a", 3, WriteOptions.defaults());
            fs.failAppendsTo(n -> n.endsWith(".log"));
            O3Exception e = assertThrows(O3Exception.class, () -> db.flushWal(false));
            assertTrue(e.getMessage().contains("flushing the WAL"), e.getMessage());
            fs.heal();
            assertThrows(O3Exception.class, () -> db.put(b("after"), b("x")), "writes are refused until reopened");
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            assertNull(db.get(b("after")));
        }
    }

    @Test
    void shouldReportFromCloseThatBufferedWritesCouldNotBeWritten() throws Exception {
        Path dir = tmp.resolve("db");
        FaultInjectingFileSystem fs = new FaultInjectingFileSystem();
        DB db = DB.open(dir, Options.defaults().manualWalFlush(true).fileSystem(fs));
        put(db, "k", 10, WriteOptions.defaults()); // acknowledged, in the WAL's buffer
        fs.failAppendsTo(n -> true); // the disk fills up
        assertThrows(O3Exception.class, db::flush); // the memtable flush fails first: an error not of the WAL
        assertThrows(O3Exception.class, db::close, "close could not write the buffered writes and must say so");
    }

    @Test
    void shouldRefuseManualWalFlushWithMemtableOffloading() throws Exception {
        Path secret = tmp.resolve("secret");
        Files.write(secret, b("0123456789abcdef0123"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DB.open(tmp.resolve("db"),
                Options.defaults().manualWalFlush(true).memoryNode("127.0.0.1:1", secret)));
        assertTrue(e.getMessage().contains("manualWalFlush is incompatible with memtable offloading"), e.getMessage());
    }
}
