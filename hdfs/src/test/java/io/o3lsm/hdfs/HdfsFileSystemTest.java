package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.spi.FileSystem;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The FileSystem contract the engine relies on, against a real (in-JVM) HDFS. */
class HdfsFileSystemTest {
    private static MiniHdfs hdfs;
    private static final AtomicInteger DIRS = new AtomicInteger();
    private FileSystem fs;
    private Path dir;

    @BeforeAll
    static void startHdfs() throws IOException {
        hdfs = MiniHdfs.start(1);
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @BeforeEach
    void open() throws IOException {
        fs = FileSystem.forUri(hdfs.uri("/t"));
        dir = Path.of("/t/d" + DIRS.incrementAndGet());
        fs.createDirectories(dir);
    }

    @org.junit.jupiter.api.AfterEach
    void closeFs() throws IOException {
        fs.close();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldBeFoundByUriScheme() {
        assertTrue(fs instanceof HdfsFileSystem, fs.getClass().getName());
        assertFalse(fs.isLocal());
        assertEquals(hdfs.uri() + "/t/x", fs.uri(Path.of("/t/x")).toString());
    }

    @Test
    void shouldReadBackWhatWasWrittenWithPositionalReads() throws IOException {
        Path p = dir.resolve("f");
        try (FileSystem.WritableFile w = fs.newWritableFile(p)) {
            w.append(b("hello, hdfs"), 0, 11);
            assertEquals(11, w.size());
            w.sync();
        }
        assertTrue(fs.exists(p));
        assertEquals(11, fs.size(p));
        try (FileSystem.ReadableFile r = fs.newReadableFile(p)) {
            assertEquals(11, r.size());
            byte[] got = new byte[4];
            r.readFully(7, got, 0, 4);
            assertArrayEquals(b("hdfs"), got);
            assertThrows(EOFException.class, () -> r.readFully(8, new byte[4], 0, 4));
        }
    }

    @Test
    void shouldLetReadersSeeFlushedBytesBeforeClose() throws IOException {
        Path p = dir.resolve("wal");
        try (FileSystem.WritableFile w = fs.newWritableFile(p)) {
            w.append(b("abc"), 0, 3);
            w.flush();
            assertEquals(3, fs.size(p), "the size is what a reader can read, hflushed bytes included");
            w.append(b("de"), 0, 2);
            w.flush();
            assertEquals(5, fs.size(p), "the size grows with every hflush, before the NameNode's length does");
            try (FileSystem.ReadableFile r = fs.newReadableFile(p)) {
                assertEquals(5, r.size(), "a reader sees hflushed bytes (the visible length)");
                byte[] got = new byte[5];
                r.readFully(0, got, 0, 5);
                assertArrayEquals(b("abcde"), got);
            }
        }
    }

    @Test
    void shouldRefuseExclusiveCreateOfAnExistingFile() throws IOException {
        Path p = dir.resolve("000007.sst");
        try (FileSystem.WritableFile w = fs.newWritableFileExclusive(p)) {
            w.append(b("x"), 0, 1);
        }
        assertThrows(FileAlreadyExistsException.class, () -> fs.newWritableFileExclusive(p));
        assertEquals(1, fs.size(p), "the existing file is not truncated");
    }

    @Test
    void shouldReplaceTheTargetOnRename() throws IOException {
        Path a = dir.resolve("CURRENT.tmp");
        Path cur = dir.resolve("CURRENT");
        write(cur, "MANIFEST-000001\n");
        write(a, "MANIFEST-000009\n");
        fs.rename(a, cur);
        assertFalse(fs.exists(a));
        assertEquals("MANIFEST-000009\n", read(cur));
    }

    @Test
    void shouldListDeleteAndReportMissingFiles() throws IOException {
        write(dir.resolve("a"), "1");
        write(dir.resolve("b"), "2");
        assertEquals(List.of("a", "b"), fs.list(dir).stream().sorted().toList());
        fs.delete(dir.resolve("a"));
        fs.delete(dir.resolve("a")); // no error when missing
        assertEquals(List.of("b"), fs.list(dir));
        assertThrows(NoSuchFileException.class, () -> fs.newReadableFile(dir.resolve("a")));
        assertThrows(NoSuchFileException.class, () -> fs.size(dir.resolve("a")));
        assertEquals(0, fs.size(dir), "a directory has no bytes to read, and is no missing file");
        assertThrows(NoSuchFileException.class, () -> fs.list(dir.resolve("nope")));
    }

    @Test
    void shouldRefuseADirectoryWhereAFileIs() throws IOException {
        write(dir.resolve("file"), "x");
        assertThrows(FileAlreadyExistsException.class, () -> fs.createDirectories(dir.resolve("file")));
    }

    @Test
    void shouldRefuseRelativePathsAndBadUris() {
        assertThrows(IllegalArgumentException.class, () -> fs.exists(Path.of("relative/x")));
        assertThrows(IllegalArgumentException.class, () -> FileSystem.forUri(java.net.URI.create(hdfs.uri() + "/?sync=fast")));
        assertThrows(IllegalArgumentException.class, () -> FileSystem.forUri(java.net.URI.create(hdfs.uri() + "/?color=red")));
        assertThrows(IllegalArgumentException.class, () -> FileSystem.forUri(java.net.URI.create("hdfs:///no-host")));
    }

    @Test
    void shouldRecoverTheLeaseOfAFileAnotherClientLeftOpen() throws IOException {
        Path p = dir.resolve("000003.log");
        try (FileSystem other = FileSystem.forUri(hdfs.uri())) {
            FileSystem.WritableFile w = other.newWritableFile(p);
            w.append(b("acked"), 0, 5);
            w.flush(); // acknowledged: hflushed, never closed (the writer "dies")
            fs.recoverLease(p);
            assertEquals(5, fs.size(p), "after recovery the NameNode's length is final");
            assertEquals("acked", read(p));
            IOException fenced = assertThrows(IOException.class, () -> {
                w.append(b("late"), 0, 4);
                w.flush();
                w.close();
            }, "the old writer can append no more");
            assertTrue(fenced.getMessage() != null);
        }
        assertEquals("acked", read(p));
    }

    @Test
    void shouldFailClearlyOnceClosed() throws IOException {
        fs.close();
        IOException e = assertThrows(IOException.class, () -> fs.exists(dir));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    private void write(Path p, String s) throws IOException {
        try (FileSystem.WritableFile w = fs.newWritableFile(p)) {
            byte[] x = b(s);
            w.append(x, 0, x.length);
            w.sync();
        }
    }

    private String read(Path p) throws IOException {
        try (FileSystem.ReadableFile r = fs.newReadableFile(p)) {
            byte[] x = new byte[(int) r.size()];
            r.readFully(0, x, 0, x.length);
            return new String(x, StandardCharsets.UTF_8);
        }
    }
}
