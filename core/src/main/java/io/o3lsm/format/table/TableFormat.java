package io.o3lsm.format.table;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.Crc32c;
import io.o3lsm.internal.util.Coding;
import java.nio.charset.StandardCharsets;

/**
 * The one place for the constants of the SST format shared by {@link TableBuilder} and
 * {@link TableReader}; specified byte for byte in {@code docs/format/sstable.md}.
 *
 * <pre>
 *   file   = header data-block* [filter-block] [rangedel-block] index-block properties-block
 *            metaindex-block footer
 *   header = "o3lsmSST" (8) | format version fixed32 (4) | masked crc32c of bytes [0,12) fixed32 (4)
 *   block  = contents | trailer
 *   trailer= compression code u8 | masked crc32c(contents || code) fixed32          (5 bytes)
 *   footer = metaindex handle | index handle | zero padding to 40 bytes
 *            | format version fixed32 | masked crc32c of footer bytes [0,44) fixed32
 *            | "o3lsmSST" (8)                                                         (56 bytes)
 *   handle = varint64 offset | varint64 size        (size excludes the 5-byte trailer)
 * </pre>
 *
 * <p>All fixed-width integers are little-endian. Stateless and thread-safe, except
 * {@link BlockHandle} instances, which are mutable scratch objects owned by one thread.
 */
public final class TableFormat {
    private TableFormat() {
    }

    /** The format name, written as the first and the last 8 bytes of every SST. */
    public static final byte[] MAGIC = "o3lsmSST".getBytes(StandardCharsets.US_ASCII);
    /** {@link #MAGIC} read as a little-endian fixed64. */
    public static final long MAGIC_LONG = Coding.getFixed64(MAGIC, 0);

    /**
     * The version this code writes. History: 1 = range deletions in data blocks (never released);
     * 2 = range deletions in their own {@code rangedel} block, key range covers them; 3 = data blocks
     * may hold merge operands (type 3).
     */
    public static final int FORMAT_VERSION = 3;
    /** The oldest version this code reads. */
    public static final int MIN_READABLE_VERSION = 2;

    public static final int HEADER_SIZE = 16;
    static final int HEADER_VERSION_OFFSET = 8;
    static final int HEADER_CRC_OFFSET = 12;

    /** Bytes after each block's contents: 1 compression code + 4 masked CRC32C. */
    public static final int BLOCK_TRAILER_SIZE = 5;

    /** A handle is two varint64s, at most 10 bytes each. */
    public static final int MAX_HANDLE_LENGTH = 2 * Coding.MAX_VARINT64_BYTES;

    public static final int FOOTER_SIZE = 56;
    static final int FOOTER_HANDLES_SIZE = 2 * MAX_HANDLE_LENGTH; // 40
    static final int FOOTER_VERSION_OFFSET = 40;
    static final int FOOTER_CRC_OFFSET = 44;
    static final int FOOTER_MAGIC_OFFSET = 48;

    /** The smallest file that can be an SST: header + footer (an empty table is larger). */
    public static final int MIN_FILE_SIZE = HEADER_SIZE + FOOTER_SIZE;

    /** Metaindex key of the bloom filter block. */
    public static final String FILTER_BLOCK_NAME = "filter";
    /** Metaindex key of the properties block. */
    public static final String PROPERTIES_BLOCK_NAME = "properties";
    /** Metaindex key of the range tombstone block (absent when the table has no tombstones). */
    public static final String RANGE_DEL_BLOCK_NAME = "rangedel";

    /** Restart interval of index blocks: every entry is a restart point (binary-searchable). */
    static final int INDEX_RESTART_INTERVAL = 1;
    /** Restart interval of metaindex and properties blocks. */
    static final int META_RESTART_INTERVAL = 16;
    /** Restart interval of the range tombstone block (read whole at open, never searched). */
    static final int RANGE_DEL_RESTART_INTERVAL = 16;

    /** Largest uncompressed block a reader accepts (a sanity bound, not a tuning knob). */
    static final int MAX_BLOCK_SIZE = 1 << 30;

    /** Writes the 16-byte header into {@code dst[0,16)}. */
    static void encodeHeader(byte[] dst) {
        System.arraycopy(MAGIC, 0, dst, 0, MAGIC.length);
        Coding.putFixed32(dst, HEADER_VERSION_OFFSET, FORMAT_VERSION);
        Coding.putFixed32(dst, HEADER_CRC_OFFSET, Crc32c.mask(Crc32c.value(dst, 0, HEADER_CRC_OFFSET)));
    }

    /** Checks a header read from offset 0; returns its format version. */
    static int checkHeader(byte[] h, String fileName) {
        long magic = Coding.getFixed64(h, 0);
        if (magic != MAGIC_LONG) {
            throw new CorruptionException(fileName, 0,
                    "expected header magic " + hex(MAGIC_LONG) + " (\"o3lsmSST\"), found " + hex(magic));
        }
        int storedCrc = Crc32c.unmask(Coding.getFixed32(h, HEADER_CRC_OFFSET));
        int actualCrc = Crc32c.value(h, 0, HEADER_CRC_OFFSET);
        if (storedCrc != actualCrc) {
            throw new CorruptionException(fileName, 0,
                    "expected header crc32c " + hex(actualCrc) + ", found " + hex(storedCrc));
        }
        int version = Coding.getFixed32(h, HEADER_VERSION_OFFSET);
        checkVersion(version, fileName, HEADER_VERSION_OFFSET);
        return version;
    }

    static void checkVersion(int version, String fileName, long offset) {
        if (version < MIN_READABLE_VERSION || version > FORMAT_VERSION) {
            throw new CorruptionException(fileName, offset, "expected format version in ["
                    + MIN_READABLE_VERSION + ", " + FORMAT_VERSION + "], found " + version);
        }
    }

    /** Writes the 56-byte footer into {@code dst[0,56)}. */
    static void encodeFooter(byte[] dst, BlockHandle metaindex, BlockHandle index) {
        java.util.Arrays.fill(dst, 0, FOOTER_SIZE, (byte) 0);
        int p = metaindex.encodeTo(dst, 0);
        index.encodeTo(dst, p);
        Coding.putFixed32(dst, FOOTER_VERSION_OFFSET, FORMAT_VERSION);
        Coding.putFixed32(dst, FOOTER_CRC_OFFSET, Crc32c.mask(Crc32c.value(dst, 0, FOOTER_CRC_OFFSET)));
        System.arraycopy(MAGIC, 0, dst, FOOTER_MAGIC_OFFSET, MAGIC.length);
    }

    /**
     * Checks a footer read from {@code footerOffset} and decodes its handles into
     * {@code metaindex} and {@code index}; returns the footer's format version.
     */
    static int decodeFooter(byte[] f, String fileName, long footerOffset, BlockHandle metaindex,
            BlockHandle index) {
        long magic = Coding.getFixed64(f, FOOTER_MAGIC_OFFSET);
        if (magic != MAGIC_LONG) {
            throw new CorruptionException(fileName, footerOffset, "expected footer magic "
                    + hex(MAGIC_LONG) + " (\"o3lsmSST\") at offset " + (footerOffset + FOOTER_MAGIC_OFFSET)
                    + ", found " + hex(magic) + " (truncated file or not an SST)");
        }
        int storedCrc = Crc32c.unmask(Coding.getFixed32(f, FOOTER_CRC_OFFSET));
        int actualCrc = Crc32c.value(f, 0, FOOTER_CRC_OFFSET);
        if (storedCrc != actualCrc) {
            throw new CorruptionException(fileName, footerOffset,
                    "expected footer crc32c " + hex(actualCrc) + ", found " + hex(storedCrc));
        }
        int version = Coding.getFixed32(f, FOOTER_VERSION_OFFSET);
        checkVersion(version, fileName, footerOffset + FOOTER_VERSION_OFFSET);
        int p = metaindex.decodeFrom(f, 0, FOOTER_HANDLES_SIZE);
        if (p < 0 || (p = index.decodeFrom(f, p, FOOTER_HANDLES_SIZE)) < 0) {
            throw new CorruptionException(fileName, footerOffset,
                    "expected two block handles in the footer, found malformed varints");
        }
        return version;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static String hex(int v) {
        return "0x" + Integer.toHexString(v);
    }

    /**
     * Where a block lives: offset of its first byte and the size of its stored contents (without
     * the trailer). Mutable and reusable so that readers decode handles without allocating; not
     * thread-safe.
     */
    public static final class BlockHandle {
        public long offset;
        public long size;
        private final int[] pos = new int[1];

        public BlockHandle() {
        }

        public BlockHandle set(long offset, long size) {
            this.offset = offset;
            this.size = size;
            return this;
        }

        /** Encodes as two varint64s into {@code dst} at {@code off}; returns the offset after. */
        public int encodeTo(byte[] dst, int off) {
            return Coding.putVarint64(dst, Coding.putVarint64(dst, off, offset), size);
        }

        /**
         * Decodes from {@code src[off, limit)}; returns the offset after the handle, or -1 if the
         * varints are malformed or truncated (the caller raises the corruption with its context).
         */
        public int decodeFrom(byte[] src, int off, int limit) {
            pos[0] = off;
            long o = Coding.getVarint64(src, pos, limit);
            long s = o < 0 ? -1 : Coding.getVarint64(src, pos, limit);
            if (s < 0) {
                return -1;
            }
            offset = o;
            size = s;
            return pos[0];
        }

        @Override
        public String toString() {
            return "[" + offset + ", +" + size + "]";
        }
    }
}
