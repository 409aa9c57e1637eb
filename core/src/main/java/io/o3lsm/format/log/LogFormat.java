package io.o3lsm.format.log;

import io.o3lsm.format.Crc32c;
import io.o3lsm.internal.util.Coding;
import java.util.zip.CRC32C;

/**
 * The record log layout shared by {@link LogWriter} and {@link LogReader}; the WAL and the
 * MANIFEST are both record logs. Specified byte for byte in {@code docs/format/log.md}.
 *
 * <p>The file is a sequence of {@link #BLOCK_SIZE} blocks (the last one may be short). Block 0
 * starts with the file header; every physical record lies inside one block; a block tail shorter
 * than a record header is zero padding. A logical record too large for the rest of its block is
 * split into FIRST, MIDDLE…, LAST fragments.
 *
 * <pre>
 * file header (24 bytes, at offset 0 of block 0), all integers little-endian:
 *    0               4       5      6          8                     16           20           24
 *   +---------------+-------+------+----------+---------------------+------------+------------+
 *   | magic "O3LG"  |version| kind | reserved |  file number        | block size | header crc |
 *   | 4F 33 4C 47   |  u8=1 |  u8  | u16 = 0  |  u64                | u32 = 32768| masked u32 |
 *   +---------------+-------+------+----------+---------------------+------------+------------+
 *   header crc = mask(crc32c(bytes 0..19))
 *
 * physical record (7-byte header, then payload):
 *    0                  4          6      7
 *   +------------------+----------+------+---------------- length bytes ---+
 *   | checksum         | length   | type | payload                          |
 *   | masked u32       | u16      | u8   |                                  |
 *   +------------------+----------+------+----------------------------------+
 *   checksum = mask(crc32c(type byte || payload))
 * </pre>
 *
 * Stateless constants and helpers; thread-safe.
 */
public final class LogFormat {
    private LogFormat() {
    }

    /** Size of a block; records never cross a block boundary. */
    public static final int BLOCK_SIZE = 32 * 1024;

    /** checksum (4) + length (2) + type (1). */
    public static final int RECORD_HEADER_SIZE = 7;

    /** Largest payload one physical record can carry (a whole block minus its header). */
    public static final int MAX_FRAGMENT_LENGTH = BLOCK_SIZE - RECORD_HEADER_SIZE;

    /** The file header occupies the first bytes of block 0. */
    public static final int FILE_HEADER_SIZE = 24;

    /** "O3LG" read as a little-endian u32: bytes 4F 33 4C 47 on disk. */
    public static final int MAGIC = 0x474C334F;

    /**
     * The version this code writes. History: 1 = first; 2 = WAL records may hold merge operations
     * (write-batch operation 3); 3 = MANIFEST records may hold the column-family tags 10 to 13
     * ({@code docs/format/manifest.md}). Readers take 1 to 3 and refuse any other.
     */
    public static final int FORMAT_VERSION = 3;
    /** The oldest version this code reads. */
    public static final int MIN_READABLE_VERSION = 1;

    // ---- kinds: what the log holds ----

    /** Write-ahead log: each logical record is the bytes of one WriteBatch. */
    public static final int KIND_WAL = 1;
    /** MANIFEST: each logical record is one encoded VersionEdit. */
    public static final int KIND_MANIFEST = 2;

    // ---- physical record types ----

    /** Never written; a header of zero bytes is what a zero-filled tail looks like. */
    public static final int TYPE_ZERO = 0;
    /** The whole logical record in one fragment. */
    public static final int TYPE_FULL = 1;
    /** First fragment of a logical record. */
    public static final int TYPE_FIRST = 2;
    /** Inner fragment of a logical record. */
    public static final int TYPE_MIDDLE = 3;
    /** Last fragment of a logical record. */
    public static final int TYPE_LAST = 4;

    // ---- file header field offsets ----

    public static final int HEADER_MAGIC_OFFSET = 0;
    public static final int HEADER_VERSION_OFFSET = 4;
    public static final int HEADER_KIND_OFFSET = 5;
    public static final int HEADER_RESERVED_OFFSET = 6;
    public static final int HEADER_FILE_NUMBER_OFFSET = 8;
    public static final int HEADER_BLOCK_SIZE_OFFSET = 16;
    public static final int HEADER_CHECKSUM_OFFSET = 20;

    // ---- physical record header field offsets ----

    public static final int RECORD_CHECKSUM_OFFSET = 0;
    public static final int RECORD_LENGTH_OFFSET = 4;
    public static final int RECORD_TYPE_OFFSET = 6;

    public static boolean isKnownKind(int kind) {
        return kind == KIND_WAL || kind == KIND_MANIFEST;
    }

    /** "WAL (1)", "MANIFEST (2)", or "unknown (n)", for messages. */
    public static String kindName(int kind) {
        switch (kind) {
            case KIND_WAL:
                return "WAL (1)";
            case KIND_MANIFEST:
                return "MANIFEST (2)";
            default:
                return "unknown (" + kind + ")";
        }
    }

    /** "FULL", "FIRST", "MIDDLE", "LAST", or "type n", for messages. */
    public static String typeName(int type) {
        switch (type) {
            case TYPE_FULL:
                return "FULL";
            case TYPE_FIRST:
                return "FIRST";
            case TYPE_MIDDLE:
                return "MIDDLE";
            case TYPE_LAST:
                return "LAST";
            default:
                return "type " + type;
        }
    }

    /** The exact 24 header bytes of a log of {@code kind} numbered {@code fileNumber}, as this code writes it. */
    public static byte[] fileHeader(int kind, long fileNumber) {
        return fileHeader(kind, fileNumber, FORMAT_VERSION);
    }

    /** The exact 24 header bytes of a log of {@code kind} numbered {@code fileNumber} in format {@code version}. */
    public static byte[] fileHeader(int kind, long fileNumber, int version) {
        byte[] h = new byte[FILE_HEADER_SIZE];
        Coding.putFixed32(h, HEADER_MAGIC_OFFSET, MAGIC);
        h[HEADER_VERSION_OFFSET] = (byte) version;
        h[HEADER_KIND_OFFSET] = (byte) kind;
        // reserved bytes 6..7 stay zero
        Coding.putFixed64(h, HEADER_FILE_NUMBER_OFFSET, fileNumber);
        Coding.putFixed32(h, HEADER_BLOCK_SIZE_OFFSET, BLOCK_SIZE);
        Coding.putFixed32(h, HEADER_CHECKSUM_OFFSET, headerChecksum(h));
        return h;
    }

    /** Masked CRC32C of bytes {@code [0, HEADER_CHECKSUM_OFFSET)} of a file header. */
    public static int headerChecksum(byte[] header) {
        return Crc32c.mask(Crc32c.value(header, 0, HEADER_CHECKSUM_OFFSET));
    }

    /**
     * Masked CRC32C of {@code type} followed by {@code payload[off, off+len)}: the checksum stored
     * in a physical record header. {@code scratch} is reset and reused (callers own one each).
     */
    public static int recordChecksum(CRC32C scratch, int type, byte[] payload, int off, int len) {
        scratch.reset();
        scratch.update(type);
        scratch.update(payload, off, len);
        return Crc32c.mask((int) scratch.getValue());
    }

    /** Offset of {@code fileOffset} within its block. */
    public static int offsetInBlock(long fileOffset) {
        return (int) (fileOffset % BLOCK_SIZE);
    }
}
