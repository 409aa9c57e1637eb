package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine consults its directory lock ({@link FileSystem.Lock#checkHeld}) before creating a WAL
 * and before switching CURRENT, and refuses both when the lock cannot vouch for itself (as
 * {@code HdfsLock} does when its heartbeat is late); a lock that cannot be lost changes nothing.
 */
class LockFenceTest {
    @TempDir Path dir;

    /** The local file system, whose lock refuses {@code checkHeld} once {@link #refusal} is set. */
    static final class FencedFs extends ForwardingFileSystem {
        volatile String refusal;
        volatile int checks;
        /** Whether a CURRENT temp file ({@code NNNNNN.dbtmp}) existed at some check. */
        volatile boolean currentTempSeenAtCheck;

        @Override
        public Closeable lock(Path path) throws IOException {
            Closeable real = inner.lock(path);
            return new FileSystem.Lock() {
                @Override
                public void checkHeld() throws IOException {
                    checks++;
                    if (!names(path.getParent(), ".dbtmp").isEmpty()) {
                        currentTempSeenAtCheck = true;
                    }
                    String r = refusal;
                    if (r != null) {
                        throw new IOException(r);
                    }
                }

                @Override
                public void close() throws IOException {
                    real.close();
                }
            };
        }
    }

    /** The local file system with a lock that is a plain {@link Closeable}, as before {@link FileSystem.Lock}. */
    static final class PlainLockFs extends ForwardingFileSystem {
        @Override
        public Closeable lock(Path path) throws IOException {
            Closeable real = inner.lock(path);
            return real::close;
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Set<String> names(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static Set<String> manifests(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("MANIFEST-"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void shouldRefuseAWalRollAndAcknowledgeNothingAfterOnceTheLockCannotBeVouchedFor() throws IOException {
        FencedFs fs = new FencedFs();
        DB db = DB.open(dir, Options.defaults().fileSystem(fs));
        try {
            db.put(b("before"), b("1"));
            db.flush(); // seals the active shard: the next write group starts a new WAL
            Set<String> wals = names(dir, ".log");
            fs.refusal = "test lock: its heartbeat is late";
            O3Exception e = assertThrows(O3Exception.class, () -> db.put(b("after"), b("2")));
            assertTrue(e.getMessage().contains("test lock: its heartbeat is late"), e.getMessage());
            Set<String> created = names(dir, ".log");
            created.removeAll(wals); // (the flushed WAL may be deleted meanwhile)
            assertEquals(Set.of(), created, "no new WAL was created");
            fs.refusal = null; // even a lock that recovers does not undo the refusal: the DB stays failed
            assertThrows(O3Exception.class, () -> db.put(b("later"), b("3")));
        } finally {
            db.close();
        }
        try (DB again = DB.open(dir, Options.defaults())) {
            assertArrayEquals(b("1"), again.get(b("before")));
            assertNull(again.get(b("after")), "the write whose roll was refused was not written anywhere");
            assertNull(again.get(b("later")));
        }
    }

    @Test
    void shouldRefuseToSwitchCurrentOnceTheLockCannotBeVouchedFor() throws IOException {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("k"), b("v"));
        }
        byte[] current = Files.readAllBytes(dir.resolve("CURRENT"));
        Set<String> manifests = manifests(dir);
        FencedFs fs = new FencedFs();
        fs.refusal = "test lock: taken over";
        // an open switches CURRENT to a new MANIFEST before it creates its first WAL
        O3Exception e = assertThrows(O3Exception.class, () -> DB.open(dir, Options.defaults().fileSystem(fs)));
        assertTrue(e.getMessage().contains("test lock: taken over"), e.getMessage());
        assertTrue(fs.currentTempSeenAtCheck, "the lock was consulted with CURRENT's replacement written, before the rename");
        assertArrayEquals(current, Files.readAllBytes(dir.resolve("CURRENT")), "CURRENT still names the old MANIFEST");
        assertEquals(manifests, manifests(dir), "the refused MANIFEST was deleted");
        try (DB db = DB.open(dir, Options.defaults())) {
            assertArrayEquals(b("v"), db.get(b("k")));
        }
    }

    @Test
    void shouldConsultTheLockAtEveryWalAndCurrentSwitchAndChangeNothingWhileItHolds() throws IOException {
        FencedFs fs = new FencedFs();
        try (DB db = DB.open(dir, Options.defaults().fileSystem(fs))) {
            assertEquals(2, fs.checks, "the open's CURRENT switch and its first WAL");
            db.put(b("a"), b("1"));
            db.flush();
            db.put(b("b"), b("2")); // rolls to a new WAL
            assertEquals(3, fs.checks, "and the WAL roll");
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            assertArrayEquals(b("1"), db.get(b("a")));
            assertArrayEquals(b("2"), db.get(b("b")));
        }
    }

    @Test
    void shouldRunWithLocksThatCannotBeLost() throws IOException {
        try (FileSystem.Lock l = (FileSystem.Lock) FileSystem.local().lock(dir.resolve("L"))) {
            l.checkHeld(); // an OS file lock on a local disk: nothing to check
        }
        // the local file system's own lock, and a plain Closeable from a file system written before FileSystem.Lock
        for (FileSystem fs : new FileSystem[] {FileSystem.local(), new PlainLockFs()}) {
            Path d = dir.resolve(fs == FileSystem.local() ? "local" : "plain");
            try (DB db = DB.open(d, Options.defaults().fileSystem(fs))) {
                db.put(b("a"), b("1"));
                db.flush();
                Set<String> wals = names(d, ".log");
                db.put(b("b"), b("2"));
                assertTrue(!names(d, ".log").equals(wals), "rolled to a new WAL: " + wals + " -> " + names(d, ".log"));
            }
            try (DB db = DB.open(d, Options.defaults().fileSystem(fs))) { // switches CURRENT again
                assertArrayEquals(b("1"), db.get(b("a")));
                assertArrayEquals(b("2"), db.get(b("b")));
            }
        }
    }
}
