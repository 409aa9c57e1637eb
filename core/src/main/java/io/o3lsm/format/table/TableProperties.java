package io.o3lsm.format.table;

import io.o3lsm.Compression;
import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Coding;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an SST holds, as recorded in its properties block: counts, sizes, key and sequence ranges,
 * and the settings it was written with. Returned by {@link TableBuilder#finish()} and
 * {@link TableReader#properties()}.
 *
 * <p>Properties block encoding: a block (see {@link BlockBuilder}) whose keys are the ASCII
 * property names below in bytewise order and whose values are unsigned varint64s, except
 * {@code o3.smallest.key}/{@code o3.largest.key} (raw internal keys) and {@code o3.creator} (UTF-8).
 * Readers ignore names they do not know; a missing number reads as 0. No wall-clock time is
 * stored: rebuilding a table from the same input with the same options yields the same bytes.
 *
 * <p>Immutable once published (all writes happen before the builder or reader hands it out);
 * thread-safe. Key accessors return copies.
 */
public final class TableProperties {
    static final String BLOCK_SIZE = "o3.block.size";
    static final String BLOOM_BITS_PER_KEY = "o3.bloom.bits.per.key";
    static final String COMPRESSION = "o3.compression";
    static final String CREATOR = "o3.creator";
    static final String DATA_BLOCKS = "o3.data.blocks";
    static final String DATA_SIZE = "o3.data.size";
    static final String FILTER_SIZE = "o3.filter.size";
    static final String FORMAT_VERSION = "o3.format.version";
    static final String INDEX_SIZE = "o3.index.size";
    static final String LARGEST_KEY = "o3.largest.key";
    static final String LARGEST_SEQ = "o3.largest.seq";
    static final String NUM_DELETIONS = "o3.num.deletions";
    static final String NUM_ENTRIES = "o3.num.entries";
    static final String NUM_RANGE_DELETIONS = "o3.num.range.deletions";
    static final String RANGE_DEL_SIZE = "o3.rangedel.size";
    static final String RAW_KEY_SIZE = "o3.raw.key.size";
    static final String RAW_VALUE_SIZE = "o3.raw.value.size";
    static final String RESTART_INTERVAL = "o3.restart.interval";
    static final String SMALLEST_KEY = "o3.smallest.key";
    static final String SMALLEST_SEQ = "o3.smallest.seq";

    static final String CREATOR_NAME = "o3lsm";

    long fileSize;
    long numEntries;
    long numDeletions;
    long numRangeDeletions;
    long rawKeyBytes;
    long rawValueBytes;
    long numDataBlocks;
    long dataBytes;
    long indexBytes;
    long filterBytes;
    long rangeDeletionBytes;
    long smallestSequence;
    long largestSequence;
    Compression compression = Compression.NONE;
    int bloomBitsPerKey;
    int blockSize;
    int restartInterval;
    int formatVersion = TableFormat.FORMAT_VERSION;
    String creator = CREATOR_NAME;
    byte[] smallestKey;
    byte[] largestKey;

    TableProperties() {
    }

    /** Size of the whole file in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Entries of every type: point entries plus range tombstones. */
    public long numEntries() {
        return numEntries;
    }

    /** Point entries (types 0, 1 and 3, in the data blocks): {@code numEntries() - numRangeDeletions()}. */
    public long numPointEntries() {
        return numEntries - numRangeDeletions;
    }

    /** Point entries of type {@link InternalKey#TYPE_DELETION}. */
    public long numDeletions() {
        return numDeletions;
    }

    /** Range tombstones (in the rangedel block). */
    public long numRangeDeletions() {
        return numRangeDeletions;
    }

    /**
     * Sum of internal key lengths before prefix compression (a tombstone's internal key is its
     * start key plus the trailer).
     */
    public long rawKeyBytes() {
        return rawKeyBytes;
    }

    /** Sum of value lengths before compression (a tombstone's value is its end key). */
    public long rawValueBytes() {
        return rawValueBytes;
    }

    public long numDataBlocks() {
        return numDataBlocks;
    }

    /** Bytes of data blocks in the file, trailers included. */
    public long dataBytes() {
        return dataBytes;
    }

    /** Bytes of the index block in the file, trailer included. */
    public long indexBytes() {
        return indexBytes;
    }

    /** Bytes of the filter block in the file, trailer included; 0 without a filter. */
    public long filterBytes() {
        return filterBytes;
    }

    /** Bytes of the rangedel block in the file, trailer included; 0 without tombstones. */
    public long rangeDeletionBytes() {
        return rangeDeletionBytes;
    }

    /** Smallest sequence number of any entry or tombstone; 0 for an empty table. */
    public long smallestSequence() {
        return smallestSequence;
    }

    /** Largest sequence number of any entry or tombstone; 0 for an empty table. */
    public long largestSequence() {
        return largestSequence;
    }

    /** The compression the table was written with (each block records its own). */
    public Compression compression() {
        return compression;
    }

    /** Bloom filter bits per key; 0 if the table has no filter. */
    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public int blockSize() {
        return blockSize;
    }

    public int restartInterval() {
        return restartInterval;
    }

    public int formatVersion() {
        return formatVersion;
    }

    /** Name of the software that wrote the table. */
    public String creator() {
        return creator;
    }

    /**
     * A copy of the smallest internal key, or null for an empty table: the smaller of the first
     * point entry's key and the first tombstone's {@code start || trailer(sequence, 2)}.
     */
    public byte[] smallestKey() {
        return smallestKey == null ? null : smallestKey.clone();
    }

    /**
     * A copy of the largest internal key, or null for an empty table: the larger of the last point
     * entry's key and {@code end || trailer(MAX_SEQUENCE, 2)} for the largest tombstone end (see
     * {@link io.o3lsm.format.RangeTombstone#endSentinelKey()}), so that the file's key range
     * reaches as far as its tombstones do.
     */
    public byte[] largestKey() {
        return largestKey == null ? null : largestKey.clone();
    }

    /** Writes the properties block contents (everything except {@link #fileSize}). */
    void encodeTo(BlockBuilder b) {
        TreeMap<String, byte[]> m = new TreeMap<>();
        putNumber(m, BLOCK_SIZE, blockSize);
        putNumber(m, BLOOM_BITS_PER_KEY, bloomBitsPerKey);
        putNumber(m, COMPRESSION, compression.code);
        m.put(CREATOR, creator.getBytes(StandardCharsets.UTF_8));
        putNumber(m, DATA_BLOCKS, numDataBlocks);
        putNumber(m, DATA_SIZE, dataBytes);
        putNumber(m, FILTER_SIZE, filterBytes);
        putNumber(m, FORMAT_VERSION, formatVersion);
        putNumber(m, INDEX_SIZE, indexBytes);
        if (largestKey != null) {
            m.put(LARGEST_KEY, largestKey);
        }
        putNumber(m, LARGEST_SEQ, largestSequence);
        putNumber(m, NUM_DELETIONS, numDeletions);
        putNumber(m, NUM_ENTRIES, numEntries);
        putNumber(m, NUM_RANGE_DELETIONS, numRangeDeletions);
        putNumber(m, RANGE_DEL_SIZE, rangeDeletionBytes);
        putNumber(m, RAW_KEY_SIZE, rawKeyBytes);
        putNumber(m, RAW_VALUE_SIZE, rawValueBytes);
        putNumber(m, RESTART_INTERVAL, restartInterval);
        if (smallestKey != null) {
            m.put(SMALLEST_KEY, smallestKey);
        }
        putNumber(m, SMALLEST_SEQ, smallestSequence);
        for (Map.Entry<String, byte[]> e : m.entrySet()) { // TreeMap of ASCII names: bytewise order
            byte[] k = e.getKey().getBytes(StandardCharsets.US_ASCII);
            byte[] v = e.getValue();
            b.add(k, 0, k.length, v, 0, v.length);
        }
    }

    private static void putNumber(Map<String, byte[]> m, String name, long v) {
        byte[] b = new byte[Coding.varintLength(v)];
        Coding.putVarint64(b, 0, v);
        m.put(name, b);
    }

    /** Decodes a properties block read from {@code fileOffset}. */
    static TableProperties decode(Block block, String fileName, long fileOffset) {
        TableProperties p = new TableProperties();
        BlockIterator it = block.iterator(false);
        int[] pos = new int[1];
        for (it.seekToFirst(); it.isValid(); it.next()) {
            String name = new String(it.keyArray(), 0, it.keyLength(), StandardCharsets.US_ASCII);
            byte[] v = it.valueArray();
            int off = it.valueOffset();
            int len = it.valueLength();
            switch (name) {
                case SMALLEST_KEY -> p.smallestKey = key(v, off, len, name, fileName, fileOffset);
                case LARGEST_KEY -> p.largestKey = key(v, off, len, name, fileName, fileOffset);
                case CREATOR -> p.creator = new String(v, off, len, StandardCharsets.UTF_8);
                default -> {
                    if (!name.startsWith("o3.")) {
                        continue;
                    }
                    pos[0] = off;
                    long n = Coding.getVarint64(v, pos, off + len);
                    if (n < 0 || pos[0] != off + len) {
                        throw new CorruptionException(fileName, fileOffset, "property " + name
                                + ": expected one varint64 filling its " + len + "-byte value, found malformed bytes");
                    }
                    p.setNumber(name, n, fileName, fileOffset);
                }
            }
        }
        return p;
    }

    private void setNumber(String name, long n, String fileName, long fileOffset) {
        switch (name) {
            case BLOCK_SIZE -> blockSize = (int) Math.min(Integer.MAX_VALUE, n);
            case BLOOM_BITS_PER_KEY -> bloomBitsPerKey = (int) Math.min(Integer.MAX_VALUE, n);
            case COMPRESSION -> {
                if (n == Compression.NONE.code) {
                    compression = Compression.NONE;
                } else if (n == Compression.LZ4.code) {
                    compression = Compression.LZ4;
                } else {
                    throw new CorruptionException(fileName, fileOffset,
                            "property " + name + ": expected compression code 0 or 1, found " + n);
                }
            }
            case DATA_BLOCKS -> numDataBlocks = n;
            case DATA_SIZE -> dataBytes = n;
            case FILTER_SIZE -> filterBytes = n;
            case FORMAT_VERSION -> formatVersion = (int) Math.min(Integer.MAX_VALUE, n);
            case INDEX_SIZE -> indexBytes = n;
            case LARGEST_SEQ -> largestSequence = n;
            case NUM_DELETIONS -> numDeletions = n;
            case NUM_ENTRIES -> numEntries = n;
            case NUM_RANGE_DELETIONS -> numRangeDeletions = n;
            case RANGE_DEL_SIZE -> rangeDeletionBytes = n;
            case RAW_KEY_SIZE -> rawKeyBytes = n;
            case RAW_VALUE_SIZE -> rawValueBytes = n;
            case RESTART_INTERVAL -> restartInterval = (int) Math.min(Integer.MAX_VALUE, n);
            case SMALLEST_SEQ -> smallestSequence = n;
            default -> {
                // a property from a newer writer: ignored
            }
        }
    }

    private static byte[] key(byte[] v, int off, int len, String name, String fileName, long fileOffset) {
        if (len < InternalKey.TRAILER_SIZE) {
            throw new CorruptionException(fileName, fileOffset,
                    "property " + name + ": expected an internal key of at least 8 bytes, found " + len);
        }
        return java.util.Arrays.copyOfRange(v, off, off + len);
    }

    @Override
    public String toString() {
        return "TableProperties{fileSize=" + fileSize + ", entries=" + numEntries + ", deletions=" + numDeletions
                + ", rangeDeletions=" + numRangeDeletions + ", rawKeyBytes=" + rawKeyBytes
                + ", rawValueBytes=" + rawValueBytes + ", dataBlocks=" + numDataBlocks + ", dataBytes=" + dataBytes
                + ", indexBytes=" + indexBytes + ", filterBytes=" + filterBytes
                + ", rangeDeletionBytes=" + rangeDeletionBytes + ", seq=" + smallestSequence
                + ".." + largestSequence + ", compression=" + compression + ", bloomBitsPerKey=" + bloomBitsPerKey
                + ", blockSize=" + blockSize + ", restartInterval=" + restartInterval
                + ", formatVersion=" + formatVersion + ", creator=" + creator + "}";
    }
}
