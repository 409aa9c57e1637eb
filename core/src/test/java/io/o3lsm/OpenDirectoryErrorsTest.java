package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DB#open} says in words why it cannot open a directory: a path that is a file, a directory
 * it may not write, a directory it cannot create — and "in use" only when another DB holds it.
 */
class OpenDirectoryErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void shouldReportAPathThatIsAFileAsNotADirectory() throws IOException {
        Path file = Files.writeString(tmp.resolve("data.txt"), "not a DB");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DB.open(file, Options.defaults()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("is a file, not a directory"),
                e.getMessage());
        assertEquals("not a DB", Files.readString(file), "the file is left alone");
    }

    @Test
    void shouldReportADirectoryThatIsNotWritableAsNotWritable() throws IOException {
        Path dir = unwritableDirectory();
        try {
            O3Exception e = assertThrows(O3Exception.class, () -> DB.open(dir, Options.defaults()));
            assertTrue(e.getMessage().contains("the directory is not writable"), e.getMessage());
            assertFalse(e.getMessage().contains("in use"), e.getMessage());
        } finally {
            restore(dir);
        }
    }

    @Test
    void shouldReportADirectoryThatCannotBeCreated() throws IOException {
        Path parent = unwritableDirectory();
        Path dir = parent.resolve("o3lsm-db");
        try {
            O3Exception e = assertThrows(O3Exception.class, () -> DB.open(dir, Options.defaults()));
            assertTrue(e.getMessage().contains("cannot create the directory " + dir), e.getMessage());
            assertFalse(Files.exists(dir));
        } finally {
            restore(parent);
        }
    }

    @Test
    void shouldReportALockFileThatIsNotWritable() throws IOException {
        Path dir = tmp.resolve("db");
        DB.open(dir, Options.defaults()).close();
        Path lock = dir.resolve("LOCK");
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("r--r--r--"));
        try {
            assumeTrue(!canOpenForWriting(lock),
                    "this process may write a read-only file (running as root), so the case cannot be made here");
            O3Exception e = assertThrows(O3Exception.class, () -> DB.open(dir, Options.defaults()));
            assertTrue(e.getMessage().contains("its LOCK file is not writable"), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("rw-r--r--"));
        }
        DB.open(dir, Options.defaults()).close();
    }

    /**
     * A directory this process cannot create files in: a temp directory made read-only, or, when that
     * does not stop this process (root ignores permissions), sysfs, which refuses new files even to
     * root. Skips the test when there is neither.
     */
    private Path unwritableDirectory() throws IOException {
        Path ro = Files.createDirectory(tmp.resolve("read-only"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        if (!canCreateIn(ro)) {
            return ro;
        }
        Path sys = Path.of("/sys");
        assumeTrue(Files.isDirectory(sys) && !canCreateIn(sys),
                "a read-only directory does not stop this process (root?) and there is no sysfs to use instead");
        return sys;
    }

    private void restore(Path dir) throws IOException {
        if (dir.startsWith(tmp)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static boolean canCreateIn(Path dir) {
        Path probe = dir.resolve("o3lsm-write-probe");
        try {
            Files.createFile(probe);
            Files.delete(probe);
            return true;
        } catch (IOException e) {
            return false; // AccessDeniedException, or sysfs's "Operation not permitted"
        }
    }

    private static boolean canOpenForWriting(Path file) {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            return ch.isOpen();
        } catch (IOException e) {
            return false;
        }
    }
}
