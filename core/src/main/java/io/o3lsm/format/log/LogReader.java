package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.BLOCK_SIZE;
import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;

import io.o3lsm.CorruptionException;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Reads the logical records of a record log (WAL or MANIFEST) written by {@link LogWriter}, front
 * to back, with positional reads of whole blocks. Format: {@link LogFormat},
 * {@code docs/format/log.md}.
 *
 * <p>Every physical record is verified (length, checksum, type, fragment order) before any of its
 * bytes are returned, and a logical record is returned only whole. What the reader does with bytes
 * that fail verification:
 *
 * <ul>
 *   <li><b>Bad file header</b> (magic, checksum, version, kind, file number, block size): always a
 *       {@link CorruptionException} at offset 0. Exception: a file that is only a prefix of the
 *       expected header followed by zero bytes (including a 0-byte file) is a log whose creation
 *       was cut short; with {@code tolerateTornTail} it reads as an empty log, without it is
 *       corruption.
 *   <li><b>Torn tail</b>: the first bad physical record (length past end of file, length past its
 *       block, truncated header, zero bytes, checksum mismatch, unknown type, fragment out of
 *       order), or an end of file inside a logical record or inside block padding, <em>with no
 *       valid physical record anywhere after it</em>. That is what a crash during an append
 *       leaves. With {@code tolerateTornTail} the reader ends there: {@link #readRecord()} returns
 *       {@code null} and {@link #droppedTailBytes()} counts every byte after the last whole
 *       logical record. Without it (logs that were synced when complete) it is a
 *       {@link CorruptionException}.
 *   <li><b>Corruption</b>: a bad physical record followed by at least one valid physical record
 *       later in the file. Always a {@link CorruptionException} naming {@link
 *       FileSystem.ReadableFile#name()}, the offset of the bad physical record (for a FIRST
 *       fragment never completed: the offset of that FIRST), and what was expected versus found.
 *       Nothing is skipped silently.
 * </ul>
 *
 * The file size is sampled once, at the first {@link #readRecord()}: the log must not be written
 * while it is read. Block padding is skipped without being checked (it carries no data).
 *
 * <p>Not thread-safe. The reader owns the file and closes it.
 */
public final class LogReader implements Closeable {
    private static final int PHYSICAL_OK = 0;
    private static final int PHYSICAL_EOF = 1;
    private static final int PHYSICAL_BAD = 2;

    /** Multi-fragment records bigger than this do not keep their assembly buffer afterwards. */
    private static final int RETAINED_SCRATCH = 1 << 20;
    private static final int MAX_RECORD = Integer.MAX_VALUE - 16;
    private static final byte[] EMPTY = new byte[0];

    private final FileSystem.ReadableFile file;
    private final int expectedKind;
    private final long expectedFileNumber;
    private final boolean tolerateTornTail;
    private final byte[] block = new byte[BLOCK_SIZE];
    private final CRC32C crc = new CRC32C();

    private boolean started;
    private boolean finished;
    /** The error that ended reading; later calls are a caller mistake. */
    private Exception failure;
    private long fileSize;
    private long loadedBlock = -1;
    private int loadedLength;

    /** Offset of the next physical record to read. */
    private long pos;
    /** Offset just after the last whole logical record returned (or after the file header). */
    private long cleanEnd;
    private long lastRecordOffset = -1;
    private long droppedTailBytes;

    // The physical record nextPhysical() found (or the bad one it stopped at).
    private long fragmentStart;
    private int fragmentType;
    private int fragmentOffset;
    private int fragmentLength;
    private String anomaly;

    private byte[] scratch = EMPTY;
    private int scratchLength;

    /**
     * @param expectedKind {@link LogFormat#KIND_WAL} or {@link LogFormat#KIND_MANIFEST}
     * @param expectedFileNumber the file number the log's name carries; the header must match
     * @param tolerateTornTail true for the log that was being written when the process stopped
     *     (its tail may be torn); false for logs that were complete and synced
     */
    public LogReader(FileSystem.ReadableFile file, int expectedKind, long expectedFileNumber,
            boolean tolerateTornTail) {
        this.file = Objects.requireNonNull(file, "file");
        if (!LogFormat.isKnownKind(expectedKind)) {
            throw new IllegalArgumentException("unknown log kind " + expectedKind);
        }
        this.expectedKind = expectedKind;
        this.expectedFileNumber = expectedFileNumber;
        this.tolerateTornTail = tolerateTornTail;
    }

    /**
     * Returns the next whole logical record, or {@code null} at the end of the log (including a
     * tolerated torn tail).
     *
     * @throws CorruptionException if the log is corrupt (see the class comment)
     * @throws IOException if the file cannot be read
     * @throws IllegalStateException if an earlier call threw (reading cannot resume)
     */
    public byte[] readRecord() throws IOException {
        if (failure != null) {
            throw new IllegalStateException("reading " + file.name() + " already failed", failure);
        }
        try {
            return readLogicalRecord();
        } catch (IOException | RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    private byte[] readLogicalRecord() throws IOException {
        if (!started) {
            started = true;
            readFileHeader();
        }
        if (finished) {
            return null;
        }
        long recordStart = -1; // offset of the FIRST fragment while assembling
        scratchLength = 0;
        while (true) {
            int status = nextPhysical();
            if (status == PHYSICAL_EOF) {
                if (recordStart >= 0) {
                    return tornTail(recordStart, "expected a MIDDLE or LAST fragment at offset " + pos
                            + " to continue the record that began at offset " + recordStart
                            + ", found end of file");
                }
                if (pos != cleanEnd) {
                    return tornTail(cleanEnd, "expected a record header at offset " + pos
                            + " after block padding, found end of file");
                }
                finished = true;
                return null;
            }
            if (status == PHYSICAL_BAD) {
                return badRecord(fragmentStart, anomaly);
            }
            switch (fragmentType) {
                case LogFormat.TYPE_FULL:
                    if (recordStart >= 0) {
                        throw unfinished(recordStart);
                    }
                    return complete(fragmentStart,
                            Arrays.copyOfRange(block, fragmentOffset, fragmentOffset + fragmentLength));
                case LogFormat.TYPE_FIRST:
                    if (recordStart >= 0) {
                        throw unfinished(recordStart);
                    }
                    recordStart = fragmentStart;
                    append();
                    break;
                case LogFormat.TYPE_MIDDLE:
                case LogFormat.TYPE_LAST:
                    if (recordStart < 0) {
                        return badRecord(fragmentStart, "expected a FULL or FIRST fragment, found "
                                + LogFormat.typeName(fragmentType) + " with no FIRST before it");
                    }
                    if (scratchLength > MAX_RECORD - fragmentLength) {
                        throw corruption(recordStart, "expected a record of at most " + MAX_RECORD
                                + " bytes, found more");
                    }
                    append();
                    if (fragmentType == LogFormat.TYPE_LAST) {
                        byte[] record = Arrays.copyOf(scratch, scratchLength);
                        if (scratch.length > RETAINED_SCRATCH) {
                            scratch = EMPTY;
                        }
                        return complete(recordStart, record);
                    }
                    break;
                default:
                    throw new AssertionError("nextPhysical returned type " + fragmentType);
            }
        }
    }

    /** File offset of the first physical record of the record last returned; -1 before any. */
    public long lastRecordOffset() {
        return lastRecordOffset;
    }

    /**
     * Bytes after the last whole logical record that were ignored as a torn tail (for a log whose
     * creation was cut short: the whole file). 0 until {@link #readRecord()} has returned
     * {@code null}, and 0 for a log that ends cleanly.
     */
    public long droppedTailBytes() {
        return droppedTailBytes;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    // ---------------------------------------------------------------- physical records

    /**
     * Reads the physical record at {@link #pos}, skipping block padding. On {@code PHYSICAL_OK}
     * the {@code fragment*} fields describe it and {@code pos} moves past it; on
     * {@code PHYSICAL_BAD} {@code fragmentStart} is its offset and {@code anomaly} says what is
     * wrong; {@code PHYSICAL_EOF} means {@code pos} is the end of the file.
     */
    private int nextPhysical() throws IOException {
        while (true) {
            if (pos >= fileSize) {
                return PHYSICAL_EOF;
            }
            int inBlock = LogFormat.offsetInBlock(pos);
            int left = BLOCK_SIZE - inBlock;
            fragmentStart = pos;
            if (left < RECORD_HEADER_SIZE) {
                if (fileSize - pos < left) {
                    anomaly = "expected " + left + " bytes of block padding, found " + (fileSize - pos)
                            + " before end of file";
                    return PHYSICAL_BAD;
                }
                pos += left;
                continue;
            }
            loadBlock(pos / BLOCK_SIZE);
            int available = loadedLength - inBlock;
            if (available < RECORD_HEADER_SIZE) {
                anomaly = "expected a " + RECORD_HEADER_SIZE + "-byte record header, found "
                        + available + " bytes before end of file";
                return PHYSICAL_BAD;
            }
            int stored = Coding.getFixed32(block, inBlock + LogFormat.RECORD_CHECKSUM_OFFSET);
            int length = (block[inBlock + LogFormat.RECORD_LENGTH_OFFSET] & 0xFF)
                    | (block[inBlock + LogFormat.RECORD_LENGTH_OFFSET + 1] & 0xFF) << 8;
            int type = block[inBlock + LogFormat.RECORD_TYPE_OFFSET] & 0xFF;
            if (stored == 0 && length == 0 && type == LogFormat.TYPE_ZERO) {
                anomaly = "expected a record header, found " + RECORD_HEADER_SIZE + " zero bytes";
                return PHYSICAL_BAD;
            }
            if (length > left - RECORD_HEADER_SIZE) {
                anomaly = "expected a fragment length of at most " + (left - RECORD_HEADER_SIZE)
                        + " (the rest of block " + pos / BLOCK_SIZE + "), found " + length;
                return PHYSICAL_BAD;
            }
            if (length > available - RECORD_HEADER_SIZE) {
                anomaly = "expected " + length + " payload bytes, found "
                        + (available - RECORD_HEADER_SIZE) + " before end of file";
                return PHYSICAL_BAD;
            }
            int actual = LogFormat.recordChecksum(crc, type, block, inBlock + RECORD_HEADER_SIZE, length);
            if (actual != stored) {
                anomaly = String.format("expected checksum 0x%08x (of type and %d payload bytes),"
                        + " found 0x%08x", actual, length, stored);
                return PHYSICAL_BAD;
            }
            if (type < LogFormat.TYPE_FULL || type > LogFormat.TYPE_LAST) {
                anomaly = "expected record type FULL, FIRST, MIDDLE or LAST (1..4), found " + type;
                return PHYSICAL_BAD;
            }
            fragmentType = type;
            fragmentOffset = inBlock + RECORD_HEADER_SIZE;
            fragmentLength = length;
            pos += RECORD_HEADER_SIZE + length;
            return PHYSICAL_OK;
        }
    }

    private void loadBlock(long index) throws IOException {
        if (index == loadedBlock) {
            return;
        }
        long start = index * BLOCK_SIZE;
        int length = (int) Math.min(BLOCK_SIZE, fileSize - start);
        loadedBlock = -1;
        file.readFully(start, block, 0, length);
        loadedBlock = index;
        loadedLength = length;
    }

    private void append() {
        int need = scratchLength + fragmentLength;
        if (need > scratch.length) {
            long grown = Math.max((long) scratch.length * 2, Math.max(need, 4096));
            scratch = Arrays.copyOf(scratch, (int) Math.min(grown, MAX_RECORD));
        }
        System.arraycopy(block, fragmentOffset, scratch, scratchLength, fragmentLength);
        scratchLength = need;
    }

    private byte[] complete(long recordOffset, byte[] record) {
        lastRecordOffset = recordOffset;
        cleanEnd = pos;
        return record;
    }

    // ---------------------------------------------------------------- torn tail or corruption

    /**
     * A bad physical record at {@code offset}: corruption if a valid physical record follows
     * anywhere after it, a torn tail otherwise.
     */
    private byte[] badRecord(long offset, String what) throws IOException {
        long next = findValidRecordAfter(offset);
        if (next >= 0) {
            throw corruption(offset, what + "; a valid record follows at offset " + next
                    + ", so this is not a torn tail");
        }
        return tornTail(offset, what);
    }

    /** The log ends at {@code cleanEnd} followed by a torn tail whose first defect is at offset. */
    private byte[] tornTail(long offset, String what) {
        if (!tolerateTornTail) {
            throw corruption(offset, what + " (a torn tail, not tolerated in a completed log)");
        }
        finished = true;
        droppedTailBytes = fileSize - cleanEnd;
        return null;
    }

    /** A FIRST (at recordStart) not completed before the valid FULL or FIRST just read. */
    private CorruptionException unfinished(long recordStart) {
        return corruption(recordStart, "expected a MIDDLE or LAST fragment at offset " + fragmentStart
                + " to continue the record that began at offset " + recordStart + ", found "
                + LogFormat.typeName(fragmentType) + "; a valid record follows, so this is not a torn"
                + " tail");
    }

    /**
     * Offset of the first valid physical record (in-bounds length, known type, matching checksum)
     * starting after {@code offset}, or -1. Candidates are every byte offset where a record header
     * fits before its block's end: a corrupt length field must not hide the records after it.
     */
    private long findValidRecordAfter(long offset) throws IOException {
        long from = offset + 1;
        for (long index = from / BLOCK_SIZE; index * BLOCK_SIZE < fileSize; index++) {
            long blockStart = index * BLOCK_SIZE;
            loadBlock(index);
            int i = (int) Math.max(0, from - blockStart);
            if (index == 0) {
                i = Math.max(i, FILE_HEADER_SIZE);
            }
            for (int last = loadedLength - RECORD_HEADER_SIZE; i <= last; i++) {
                if (isValidRecordAt(i)) {
                    return blockStart + i;
                }
            }
        }
        return -1;
    }

    private boolean isValidRecordAt(int i) {
        int type = block[i + LogFormat.RECORD_TYPE_OFFSET] & 0xFF;
        if (type < LogFormat.TYPE_FULL || type > LogFormat.TYPE_LAST) {
            return false;
        }
        int length = (block[i + LogFormat.RECORD_LENGTH_OFFSET] & 0xFF)
                | (block[i + LogFormat.RECORD_LENGTH_OFFSET + 1] & 0xFF) << 8;
        if (i + RECORD_HEADER_SIZE + length > loadedLength) {
            return false;
        }
        int stored = Coding.getFixed32(block, i + LogFormat.RECORD_CHECKSUM_OFFSET);
        return LogFormat.recordChecksum(crc, type, block, i + RECORD_HEADER_SIZE, length) == stored;
    }

    // ---------------------------------------------------------------- file header

    private void readFileHeader() throws IOException {
        fileSize = file.size();
        pos = FILE_HEADER_SIZE;
        cleanEnd = FILE_HEADER_SIZE;
        byte[] expected = LogFormat.fileHeader(expectedKind, expectedFileNumber);
        if (fileSize > 0) {
            loadBlock(0);
        }
        if (fileSize > LogFormat.HEADER_VERSION_OFFSET) {
            // an older version this code reads: its header is expected byte for byte instead
            int version = block[LogFormat.HEADER_VERSION_OFFSET] & 0xFF;
            if (version >= LogFormat.MIN_READABLE_VERSION && version < LogFormat.FORMAT_VERSION) {
                expected = LogFormat.fileHeader(expectedKind, expectedFileNumber, version);
            }
        }
        if (fileSize >= FILE_HEADER_SIZE && Arrays.equals(block, 0, FILE_HEADER_SIZE, expected, 0,
                FILE_HEADER_SIZE)) {
            return;
        }
        int prefix = 0;
        int headerBytes = (int) Math.min(fileSize, FILE_HEADER_SIZE);
        while (prefix < headerBytes && block[prefix] == expected[prefix]) {
            prefix++;
        }
        if (onlyZerosFrom(prefix)) {
            // Creation cut short: part of the header (maybe none) and perhaps zero fill.
            String what = fileSize == 0
                    ? "expected a " + FILE_HEADER_SIZE + "-byte file header, found an empty file"
                    : "expected a " + FILE_HEADER_SIZE + "-byte file header, found " + fileSize
                            + " bytes holding only its first " + prefix + " bytes and zeros";
            if (!tolerateTornTail) {
                throw corruption(0, what + " (a torn tail, not tolerated in a completed log)");
            }
            finished = true;
            droppedTailBytes = fileSize;
            return;
        }
        throw corruption(0, describeHeaderMismatch(expected, headerBytes));
    }

    /** True if every byte of the file from {@code offset} on is zero. */
    private boolean onlyZerosFrom(long offset) throws IOException {
        for (long index = offset / BLOCK_SIZE; index * BLOCK_SIZE < fileSize; index++) {
            loadBlock(index);
            for (int i = (int) Math.max(0, offset - index * BLOCK_SIZE); i < loadedLength; i++) {
                if (block[i] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private String describeHeaderMismatch(byte[] expected, int headerBytes) throws IOException {
        loadBlock(0);
        if (headerBytes < FILE_HEADER_SIZE) {
            return "expected a " + FILE_HEADER_SIZE + "-byte file header beginning "
                    + hex(expected, headerBytes) + ", found " + headerBytes + " bytes "
                    + hex(block, headerBytes);
        }
        int magic = Coding.getFixed32(block, LogFormat.HEADER_MAGIC_OFFSET);
        if (magic != LogFormat.MAGIC) {
            return String.format("expected magic 0x%08x (\"O3LG\"), found 0x%08x: not a record log",
                    LogFormat.MAGIC, magic);
        }
        int stored = Coding.getFixed32(block, LogFormat.HEADER_CHECKSUM_OFFSET);
        int actual = LogFormat.headerChecksum(block);
        if (stored != actual) {
            return String.format("expected file header checksum 0x%08x, found 0x%08x", actual, stored);
        }
        int version = block[LogFormat.HEADER_VERSION_OFFSET] & 0xFF;
        if (version < LogFormat.MIN_READABLE_VERSION || version > LogFormat.FORMAT_VERSION) {
            return "expected format version in [" + LogFormat.MIN_READABLE_VERSION + ", " + LogFormat.FORMAT_VERSION
                    + "], found " + version;
        }
        int reserved = (block[LogFormat.HEADER_RESERVED_OFFSET] & 0xFF)
                | (block[LogFormat.HEADER_RESERVED_OFFSET + 1] & 0xFF) << 8;
        if (reserved != 0) {
            return String.format("expected reserved header bytes 6..7 to be 0x0000, found 0x%04x",
                    reserved);
        }
        int kind = block[LogFormat.HEADER_KIND_OFFSET] & 0xFF;
        if (kind != expectedKind) {
            return "expected kind " + LogFormat.kindName(expectedKind) + ", found "
                    + LogFormat.kindName(kind);
        }
        long number = Coding.getFixed64(block, LogFormat.HEADER_FILE_NUMBER_OFFSET);
        if (number != expectedFileNumber) {
            return "expected file number " + expectedFileNumber + ", found " + number;
        }
        int blockSize = Coding.getFixed32(block, LogFormat.HEADER_BLOCK_SIZE_OFFSET);
        if (blockSize != BLOCK_SIZE) {
            return "expected block size " + BLOCK_SIZE + ", found " + blockSize;
        }
        return "expected file header " + hex(expected, FILE_HEADER_SIZE) + ", found "
                + hex(block, FILE_HEADER_SIZE);
    }

    private static String hex(byte[] b, int length) {
        StringBuilder sb = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    private CorruptionException corruption(long offset, String expectedVersusFound) {
        return new CorruptionException(file.name(), offset, expectedVersusFound);
    }
}
