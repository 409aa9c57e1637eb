package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.KIND_MANIFEST;
import static io.o3lsm.format.log.LogFormat.KIND_WAL;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogWriterTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteAChecksummedHeaderNamingKindAndFileNumber() throws IOException {
        Path path = dir.resolve("MANIFEST-000123");
        try (LogWriter w = new LogWriter(LocalFileSystem.INSTANCE.newWritableFile(path),
                KIND_MANIFEST, 0x1_0000_0123L)) {
            assertEquals(FILE_HEADER_SIZE, w.size());
        }
        byte[] h = Files.readAllBytes(path);
        assertEquals(FILE_HEADER_SIZE, h.length);
        assertEquals(LogFormat.MAGIC, Coding.getFixed32(h, 0));
        assertEquals("O3LG", new String(h, 0, 4, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(LogFormat.FORMAT_VERSION, h[LogFormat.HEADER_VERSION_OFFSET]);
        assertEquals(KIND_MANIFEST, h[LogFormat.HEADER_KIND_OFFSET]);
        assertEquals(0x1_0000_0123L, Coding.getFixed64(h, LogFormat.HEADER_FILE_NUMBER_OFFSET));
        assertEquals(LogFormat.BLOCK_SIZE, Coding.getFixed32(h, LogFormat.HEADER_BLOCK_SIZE_OFFSET));
        assertEquals(LogFormat.headerChecksum(h), Coding.getFixed32(h, LogFormat.HEADER_CHECKSUM_OFFSET));
    }

    @Test
    void shouldMakeFlushedRecordsReadableWithoutClosing() throws IOException {
        Path path = dir.resolve("000001.log");
        LogWriter w = new LogWriter(LocalFileSystem.INSTANCE.newWritableFile(path), KIND_WAL, 1);
        byte[] big = new byte[100_000];
        big[99_999] = 9;
        w.addRecord(big, 0, big.length);
        w.addRecord("small".getBytes(), 0, 5);
        w.flush(); // as if the process were killed right after: no close, no sync
        assertEquals(Files.size(path), w.size());
        try (LogReader r = new LogReader(LocalFileSystem.INSTANCE.newReadableFile(path), KIND_WAL, 1,
                false)) {
            assertArrayEquals(big, r.readRecord());
            assertArrayEquals("small".getBytes(), r.readRecord());
            assertNull(r.readRecord());
        }
        w.sync();
        w.close();
        w.close(); // idempotent
    }

    @Test
    void shouldRejectCallerMistakes() throws IOException {
        Path path = dir.resolve("000002.log");
        FileSystem.WritableFile f = LocalFileSystem.INSTANCE.newWritableFile(path);
        assertThrows(IllegalArgumentException.class, () -> new LogWriter(f, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> new LogWriter(f, KIND_WAL, -1));
        LogWriter w = new LogWriter(f, KIND_WAL, 2);
        assertThrows(IllegalArgumentException.class, () -> new LogWriter(f, KIND_WAL, 2),
                "a log starts in an empty file");
        assertThrows(IndexOutOfBoundsException.class, () -> w.addRecord(new byte[4], 2, 3));
        w.close();
        assertThrows(IllegalStateException.class, () -> w.addRecord(new byte[1], 0, 1));
        assertThrows(IllegalStateException.class, w::flush);
    }

    @Test
    void shouldRefuseFurtherWritesAfterAFailedAppend() throws IOException {
        IOException disk = new IOException("disk full");
        FailingFile f = new FailingFile(3, disk); // header, then one record header, then fail
        LogWriter w = new LogWriter(f, KIND_WAL, 4);
        assertSame(disk, assertThrows(IOException.class, () -> w.addRecord(new byte[10], 0, 10)));
        IOException later = assertThrows(IOException.class, () -> w.addRecord(new byte[1], 0, 1));
        assertSame(disk, later.getCause());
        assertThrows(IOException.class, w::sync);
        assertEquals(FILE_HEADER_SIZE + RECORD_HEADER_SIZE, f.size());
    }

    /** Accepts {@code appends} appends, then throws. */
    private static final class FailingFile implements FileSystem.WritableFile {
        private int appends;
        private final IOException failure;
        private long size;

        FailingFile(int appends, IOException failure) {
            this.appends = appends;
            this.failure = failure;
        }

        @Override
        public void append(byte[] src, int off, int len) throws IOException {
            if (--appends <= 0) {
                throw failure;
            }
            size += len;
        }

        @Override
        public void flush() {
        }

        @Override
        public void sync() {
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() {
        }
    }
}
