package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.BLOCK_SIZE;
import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;

import io.o3lsm.internal.util.Coding;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Appends logical records to a new record log (WAL or MANIFEST), in the format of
 * {@link LogFormat} / {@code docs/format/log.md}.
 *
 * <p>The constructor writes the file header; {@link #addRecord} appends one logical record,
 * fragmenting it across blocks and zero-padding block tails shorter than a record header. Nothing
 * reaches the operating system before {@link #flush()} (survives a process kill) or the disk
 * before {@link #sync()} (survives a machine crash). {@link #close()} closes the file without
 * syncing: a log that must be complete on disk (a rolled WAL, a MANIFEST being replaced) is
 * {@link #sync() synced} first.
 *
 * <p>Not thread-safe: one thread at a time writes (for the WAL, the group-commit leader, or a flusher
 * holding the WAL's append lock). The writer owns
 * the file and closes it. After any {@link IOException} the file may end in a partial record, so
 * the writer refuses further writes (the log can only be abandoned; a reader will treat the
 * partial record as a torn tail).
 */
public final class LogWriter implements Closeable {
    private static final byte[] ZEROS = new byte[RECORD_HEADER_SIZE - 1];

    private final FileSystem.WritableFile file;
    private final byte[] recordHeader = new byte[RECORD_HEADER_SIZE];
    private final CRC32C crc = new CRC32C();

    /** Position of the next byte within the current block. */
    private int blockOffset;
    private IOException failure;
    private boolean closed;

    /**
     * Starts a log in {@code file}, which must be empty, and writes (but does not flush) its
     * header.
     *
     * @param kind {@link LogFormat#KIND_WAL} or {@link LogFormat#KIND_MANIFEST}
     * @param fileNumber the file number the log is named after; recorded in the header so that a
     *     misnamed or misplaced file is detected on read
     */
    public LogWriter(FileSystem.WritableFile file, int kind, long fileNumber) throws IOException {
        this.file = Objects.requireNonNull(file, "file");
        if (!LogFormat.isKnownKind(kind)) {
            throw new IllegalArgumentException("unknown log kind " + kind);
        }
        if (fileNumber < 0) {
            throw new IllegalArgumentException("file number must not be negative: " + fileNumber);
        }
        if (file.size() != 0) {
            throw new IllegalArgumentException("a log starts in an empty file; this one has "
                    + file.size() + " bytes");
        }
        byte[] header = LogFormat.fileHeader(kind, fileNumber);
        try {
            file.append(header, 0, header.length);
        } catch (IOException e) {
            failure = e;
            throw e;
        }
        blockOffset = FILE_HEADER_SIZE;
    }

    /**
     * Appends {@code src[off, off+len)} as one logical record ({@code len} may be 0). Does not
     * flush.
     *
     * @throws IOException if the file refuses the bytes; the writer is then unusable
     */
    public void addRecord(byte[] src, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, src.length);
        ensureWritable();
        try {
            boolean begin = true;
            do {
                int left = BLOCK_SIZE - blockOffset;
                if (left < RECORD_HEADER_SIZE) {
                    // Too small for a header: pad the block tail with zeros and start a new block.
                    if (left > 0) {
                        file.append(ZEROS, 0, left);
                    }
                    blockOffset = 0;
                    left = BLOCK_SIZE;
                }
                int fragment = Math.min(len, left - RECORD_HEADER_SIZE);
                boolean end = fragment == len;
                int type;
                if (begin) {
                    type = end ? LogFormat.TYPE_FULL : LogFormat.TYPE_FIRST;
                } else {
                    type = end ? LogFormat.TYPE_LAST : LogFormat.TYPE_MIDDLE;
                }
                emit(type, src, off, fragment);
                off += fragment;
                len -= fragment;
                begin = false;
            } while (len > 0);
        } catch (IOException e) {
            failure = e;
            throw e;
        }
    }

    private void emit(int type, byte[] src, int off, int len) throws IOException {
        Coding.putFixed32(recordHeader, LogFormat.RECORD_CHECKSUM_OFFSET,
                LogFormat.recordChecksum(crc, type, src, off, len));
        recordHeader[LogFormat.RECORD_LENGTH_OFFSET] = (byte) len;
        recordHeader[LogFormat.RECORD_LENGTH_OFFSET + 1] = (byte) (len >>> 8);
        recordHeader[LogFormat.RECORD_TYPE_OFFSET] = (byte) type;
        file.append(recordHeader, 0, RECORD_HEADER_SIZE);
        file.append(src, off, len);
        blockOffset += RECORD_HEADER_SIZE + len;
    }

    /** Hands every appended byte to the operating system: the records survive a process kill. */
    public void flush() throws IOException {
        ensureWritable();
        try {
            file.flush();
        } catch (IOException e) {
            failure = e;
            throw e;
        }
    }

    /** Makes every appended byte durable: the records survive a machine crash. */
    public void sync() throws IOException {
        ensureWritable();
        try {
            file.sync();
        } catch (IOException e) {
            // After a failed fsync the kernel may have dropped the dirty pages: never retry.
            failure = e;
            throw e;
        }
    }

    /** Bytes written to the log so far, header and padding included. */
    public long size() {
        return file.size();
    }

    /** Closes the file (without syncing). Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        file.close();
    }

    private void ensureWritable() throws IOException {
        if (closed) {
            throw new IllegalStateException("log writer is closed");
        }
        if (failure != null) {
            throw new IOException("an earlier write to this log failed, so it may end in a partial"
                    + " record; the log must be abandoned", failure);
        }
    }
}
