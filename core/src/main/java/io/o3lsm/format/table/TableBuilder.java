package io.o3lsm.format.table;

import io.o3lsm.Compression;
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableFormat.BlockHandle;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.agrona.DirectBuffer;

/**
 * Writes one SST (format: {@code docs/format/sstable.md}, constants in {@link TableFormat}) from
 * point entries added in strictly increasing internal-key order, plus range tombstones in any
 * order.
 *
 * <p>Life cycle: construct (writes the header), {@link #add} entries and
 * {@link #addRangeTombstone} tombstones, then {@link #finish()} or {@link #abandon()}. The builder
 * never syncs nor closes {@code out}: after {@code finish} the caller syncs and closes the file
 * (and after {@code abandon} closes and deletes it). A builder whose write failed with an
 * {@link IOException} is unusable; abandon it.
 *
 * <p>Data blocks are cut when their uncompressed size reaches {@link TableOptions#blockSize()}; the
 * index entry of a block is written when the next key arrives (or at {@code finish}) so that its
 * separator can be shortened. The bloom filter collects one hash per distinct user key of the
 * point entries.
 *
 * <p>Range tombstones ({@link #addRangeTombstone}, or {@link #add} with a
 * {@link InternalKey#TYPE_RANGE_DELETION} key, whose value is the exclusive end key) are kept in
 * memory, independent of the point entries' order, and written sorted by
 * {@link RangeTombstone#ORDER} into the {@code rangedel} block at {@link #finish()}; exact
 * duplicates are written once and empty ranges ({@code start >= end}) not at all. The table's key
 * range ({@link TableProperties#smallestKey()}, {@link TableProperties#largestKey()}) covers them.
 *
 * <p>Not thread-safe: one thread builds a table.
 */
public final class TableBuilder {
    private static final int OPEN = 0;
    private static final int FINISHED = 1;
    private static final int ABANDONED = 2;
    private static final int FAILED = 3;

    private final FileSystem.WritableFile out;
    private final String fileName;
    private final TableOptions options;
    private final BlockBuilder dataBlock;
    private final BlockBuilder indexBlock = new BlockBuilder(TableFormat.INDEX_RESTART_INTERVAL);
    private final BloomFilter.Builder bloom;
    private final TableProperties props = new TableProperties();
    /** Range tombstones added so far, in arrival order (sorted at finish). */
    private final List<RangeTombstone> tombstones = new ArrayList<>();
    /** Encoded size of {@link #tombstones}, for {@link #estimatedFileSize()}. */
    private long tombstoneBytes;

    /** Handle of the last data block written, whose index entry waits for the next key. */
    private final BlockHandle pendingHandle = new BlockHandle();
    private boolean pendingIndexEntry;

    /** Bytes written to {@link #out} so far. */
    private long offset;
    private int state = OPEN;

    private byte[] lastKey = new byte[64];
    private int lastKeyLen;
    private byte[] keyScratch = new byte[64];
    private byte[] separator = new byte[64];
    private final byte[] handleScratch = new byte[TableFormat.MAX_HANDLE_LENGTH];
    private final byte[] trailer = new byte[TableFormat.BLOCK_TRAILER_SIZE];
    private byte[] compressed = new byte[0];

    /**
     * Starts a table in {@code out}, which must be empty, and writes the header.
     *
     * @param fileName the file's name, for error messages
     */
    public TableBuilder(FileSystem.WritableFile out, String fileName, TableOptions o) throws IOException {
        this.out = Objects.requireNonNull(out, "out");
        this.fileName = Objects.requireNonNull(fileName, "fileName");
        this.options = Objects.requireNonNull(o, "options");
        if (out.size() != 0) {
            throw new IllegalArgumentException(fileName + ": a table must start an empty file, found "
                    + out.size() + " bytes");
        }
        this.dataBlock = new BlockBuilder(o.restartInterval());
        this.bloom = o.bloomBitsPerKey() > 0 ? new BloomFilter.Builder(o.bloomBitsPerKey()) : null;
        props.blockSize = o.blockSize();
        props.restartInterval = o.restartInterval();
        props.compression = o.compression();
        props.bloomBitsPerKey = o.bloomBitsPerKey();
        byte[] header = new byte[TableFormat.HEADER_SIZE];
        TableFormat.encodeHeader(header);
        append(header, 0, header.length);
    }

    /**
     * Adds {@code internalKey[off, off+len)} with {@code value[voff, voff+vlen)}. A key of type
     * {@link InternalKey#TYPE_RANGE_DELETION} is a range tombstone whose value is the exclusive end
     * key: it goes to {@link #addRangeTombstone} and is exempt from the order rule.
     *
     * @throws IllegalStateException if a point key is not greater than the previous one, or after
     *         finish/abandon/a failed write
     * @throws IllegalArgumentException if the key is shorter than 8 bytes or has an unknown type
     */
    public void add(byte[] internalKey, int off, int len, byte[] value, int voff, int vlen) throws IOException {
        checkOpen();
        Objects.checkFromIndexSize(off, len, internalKey.length);
        Objects.checkFromIndexSize(voff, vlen, value.length);
        long trailerBits = checkedTrailer(len, len < InternalKey.TRAILER_SIZE ? 0
                : Coding.getFixed64(internalKey, off + len - InternalKey.TRAILER_SIZE));
        if (InternalKey.typeOf(trailerBits) == InternalKey.TYPE_RANGE_DELETION) {
            int ulen = len - InternalKey.TRAILER_SIZE;
            addTombstone(new RangeTombstone(Arrays.copyOfRange(internalKey, off, off + ulen),
                    Arrays.copyOfRange(value, voff, voff + vlen), InternalKey.sequenceOf(trailerBits)));
            return;
        }
        prepareKey(internalKey, off, len);
        if (lastKey.length < len) {
            lastKey = new byte[Math.max(len, lastKey.length * 2)];
        }
        System.arraycopy(internalKey, off, lastKey, 0, len);
        lastKeyLen = len;
        dataBlock.add(lastKey, 0, len, value, voff, vlen);
        afterAdd(vlen);
    }

    /** Adds {@code internalKey} with {@code value}. */
    public void add(byte[] internalKey, byte[] value) throws IOException {
        add(internalKey, 0, internalKey.length, value, 0, value.length);
    }

    /**
     * Adds an entry whose key and value are ranges of buffers (e.g. views from a memtable
     * iterator); same contract as {@link #add(byte[], int, int, byte[], int, int)}.
     */
    public void add(DirectBuffer internalKey, int off, int len, DirectBuffer value, int voff, int vlen)
            throws IOException {
        checkOpen();
        Objects.checkFromIndexSize(off, len, internalKey.capacity());
        Objects.checkFromIndexSize(voff, vlen, value.capacity());
        long trailerBits = checkedTrailer(len, len < InternalKey.TRAILER_SIZE ? 0
                : InternalKey.trailer(internalKey, off, len));
        if (InternalKey.typeOf(trailerBits) == InternalKey.TYPE_RANGE_DELETION) {
            byte[] start = new byte[len - InternalKey.TRAILER_SIZE];
            internalKey.getBytes(off, start);
            byte[] end = new byte[vlen];
            value.getBytes(voff, end);
            addTombstone(new RangeTombstone(start, end, InternalKey.sequenceOf(trailerBits)));
            return;
        }
        if (keyScratch.length < len) {
            keyScratch = new byte[Math.max(len, keyScratch.length * 2)];
        }
        internalKey.getBytes(off, keyScratch, 0, len);
        prepareKey(keyScratch, 0, len);
        byte[] t = lastKey;
        lastKey = keyScratch;
        keyScratch = t;
        lastKeyLen = len;
        dataBlock.add(lastKey, 0, len, value, voff, vlen);
        afterAdd(vlen);
    }

    /**
     * Records the range tombstone {@code [start, end)} at {@code sequence}, to be written at
     * {@link #finish()}. Any order relative to other tombstones and to point entries; the arrays
     * are copied. An empty range ({@code start >= end}) covers nothing and is dropped.
     *
     * @throws IllegalArgumentException if {@code sequence} is outside [0, {@link InternalKey#MAX_SEQUENCE}]
     * @throws IllegalStateException after finish/abandon/a failed write
     */
    public void addRangeTombstone(byte[] start, byte[] end, long sequence) {
        checkOpen();
        addTombstone(new RangeTombstone(start.clone(), end.clone(), sequence));
    }

    /** As {@link #addRangeTombstone(byte[], byte[], long)}; {@code t}'s arrays are not copied. */
    public void addRangeTombstone(RangeTombstone t) {
        checkOpen();
        addTombstone(Objects.requireNonNull(t, "tombstone"));
    }

    private void addTombstone(RangeTombstone t) {
        if (t.sequence < 0 || t.sequence > InternalKey.MAX_SEQUENCE) {
            throw new IllegalArgumentException("sequence must be in [0, " + InternalKey.MAX_SEQUENCE + "], was "
                    + t.sequence);
        }
        if (t.isEmpty()) {
            return;
        }
        tombstones.add(t);
        tombstoneBytes += t.start.length + InternalKey.TRAILER_SIZE + t.end.length + 3;
    }

    /** Entries added so far: point entries and (non-empty) range tombstones. */
    public long numEntries() {
        return props.numEntries + tombstones.size();
    }

    /**
     * About the size the file would have if finished now: bytes written, plus the open data block
     * (uncompressed), the index and filter so far and an allowance for properties, metaindex and
     * footer. Callers cut output files once this reaches their target size. Without compression it
     * never decreases; with compression it drops when a block is written compressed.
     */
    public long estimatedFileSize() {
        long est = offset + (dataBlock.isEmpty() ? 0 : dataBlock.currentSizeEstimate())
                + indexBlock.currentSizeEstimate() + tombstoneBytes + 256 + TableFormat.FOOTER_SIZE;
        if (bloom != null) {
            est += bloom.estimatedSize();
        }
        return est;
    }

    /**
     * Writes the last data block, filter, range tombstones, index, properties, metaindex and footer,
     * and flushes {@code out} (no sync). Returns the table's properties, including its file size.
     */
    public TableProperties finish() throws IOException {
        checkOpen();
        try {
            if (!dataBlock.isEmpty()) {
                flushDataBlock();
            }
            BlockHandle filterHandle = null;
            if (bloom != null) {
                byte[] f = bloom.finish();
                filterHandle = writeBlock(f, f.length, Compression.NONE, new BlockHandle());
                props.filterBytes = filterHandle.size + TableFormat.BLOCK_TRAILER_SIZE;
            }
            BlockHandle rangeDelHandle = tombstones.isEmpty() ? null : writeRangeDelBlock();
            if (pendingIndexEntry) {
                addIndexEntry(shortSuccessor(lastKey, lastKeyLen), pendingHandle);
                pendingIndexEntry = false;
            }
            int n = indexBlock.finish();
            BlockHandle indexHandle = writeBlock(indexBlock.buffer(), n, options.compression(), new BlockHandle());
            props.indexBytes = indexHandle.size + TableFormat.BLOCK_TRAILER_SIZE;
            if (props.numEntries > 0) {
                props.largestKey = Arrays.copyOf(lastKey, lastKeyLen);
            }
            coverTombstones();

            BlockBuilder meta = new BlockBuilder(TableFormat.META_RESTART_INTERVAL);
            props.encodeTo(meta);
            n = meta.finish();
            BlockHandle propsHandle = writeBlock(meta.buffer(), n, Compression.NONE, new BlockHandle());

            meta.reset(); // metaindex: names in bytewise order ("filter" < "properties" < "rangedel")
            if (filterHandle != null) {
                addMetaEntry(meta, TableFormat.FILTER_BLOCK_NAME, filterHandle);
            }
            addMetaEntry(meta, TableFormat.PROPERTIES_BLOCK_NAME, propsHandle);
            if (rangeDelHandle != null) {
                addMetaEntry(meta, TableFormat.RANGE_DEL_BLOCK_NAME, rangeDelHandle);
            }
            n = meta.finish();
            BlockHandle metaindexHandle = writeBlock(meta.buffer(), n, Compression.NONE, new BlockHandle());

            byte[] footer = new byte[TableFormat.FOOTER_SIZE];
            TableFormat.encodeFooter(footer, metaindexHandle, indexHandle);
            append(footer, 0, footer.length);
            out.flush();
        } catch (IOException | RuntimeException e) {
            state = FAILED;
            throw e;
        }
        state = FINISHED;
        props.fileSize = offset;
        return props;
    }

    /** Gives up on the table; the caller closes and deletes the file. Idempotent. */
    public void abandon() {
        if (state != FINISHED) {
            state = ABANDONED;
        }
    }

    private void checkOpen() {
        if (state != OPEN) {
            throw new IllegalStateException(fileName + ": table builder is "
                    + (state == FINISHED ? "finished" : state == ABANDONED ? "abandoned" : "failed"));
        }
    }

    /** {@code trailerBits} of a key of {@code len} bytes, checked for length and type. */
    private static long checkedTrailer(int len, long trailerBits) {
        if (len < InternalKey.TRAILER_SIZE) {
            throw new IllegalArgumentException("an internal key has at least 8 bytes, got " + len);
        }
        int type = InternalKey.typeOf(trailerBits);
        if (!InternalKey.isKnownType(type)) {
            throw new IllegalArgumentException("unknown internal key type " + type);
        }
        return trailerBits;
    }

    /**
     * Validates a point key (type 0, 1 or 3, checked by {@link #checkedTrailer}) against the previous
     * one and records it everywhere except lastKey.
     */
    private void prepareKey(byte[] k, int off, int len) throws IOException {
        long trailerBits = Coding.getFixed64(k, off + len - InternalKey.TRAILER_SIZE);
        int type = InternalKey.typeOf(trailerBits);
        long seq = InternalKey.sequenceOf(trailerBits);
        boolean first = props.numEntries == 0;
        if (!first && InternalKey.compare(k, off, len, lastKey, 0, lastKeyLen) <= 0) {
            throw new IllegalStateException(fileName + ": keys must be added in strictly increasing "
                    + "internal-key order; got " + describe(k, off, len) + " after " + describe(lastKey, 0, lastKeyLen));
        }
        if (pendingIndexEntry) {
            try {
                addIndexEntry(shortestSeparator(lastKey, lastKeyLen, k, off, len), pendingHandle);
            } catch (RuntimeException e) {
                state = FAILED;
                throw e;
            }
            pendingIndexEntry = false;
        }
        int ulen = len - InternalKey.TRAILER_SIZE;
        if (bloom != null && (first || !Arrays.equals(lastKey, 0, lastKeyLen - InternalKey.TRAILER_SIZE,
                k, off, off + ulen))) {
            bloom.addKey(k, off, ulen);
        }
        if (first) {
            props.smallestKey = Arrays.copyOfRange(k, off, off + len);
            props.smallestSequence = seq;
            props.largestSequence = seq;
        } else {
            props.smallestSequence = Math.min(props.smallestSequence, seq);
            props.largestSequence = Math.max(props.largestSequence, seq);
        }
        props.numEntries++;
        if (type == InternalKey.TYPE_DELETION) {
            props.numDeletions++;
        }
        props.rawKeyBytes += len;
    }

    private void afterAdd(int vlen) throws IOException {
        props.rawValueBytes += vlen;
        if (dataBlock.currentSizeEstimate() >= options.blockSize()) {
            flushDataBlock();
        }
    }

    private void flushDataBlock() throws IOException {
        int n = dataBlock.finish();
        writeBlock(dataBlock.buffer(), n, options.compression(), pendingHandle);
        props.numDataBlocks++;
        props.dataBytes += pendingHandle.size + TableFormat.BLOCK_TRAILER_SIZE;
        pendingIndexEntry = true;
        dataBlock.reset();
    }

    /**
     * Sorts and deduplicates the tombstones and writes them as the rangedel block: keys
     * {@code start || trailer(sequence, 2)}, values the end keys.
     */
    private BlockHandle writeRangeDelBlock() throws IOException {
        tombstones.sort(RangeTombstone.ORDER);
        int kept = 0;
        for (RangeTombstone t : tombstones) {
            if (kept == 0 || !t.equals(tombstones.get(kept - 1))) {
                tombstones.set(kept++, t);
            }
        }
        tombstones.subList(kept, tombstones.size()).clear();
        BlockBuilder b = new BlockBuilder(TableFormat.RANGE_DEL_RESTART_INTERVAL);
        for (RangeTombstone t : tombstones) {
            byte[] k = t.startInternalKey();
            b.add(k, 0, k.length, t.end, 0, t.end.length);
        }
        int n = b.finish();
        BlockHandle h = writeBlock(b.buffer(), n, options.compression(), new BlockHandle());
        props.rangeDeletionBytes = h.size + TableFormat.BLOCK_TRAILER_SIZE;
        return h;
    }

    /** Extends the counts, sizes, key range and sequence range of {@link #props} to the tombstones. */
    private void coverTombstones() {
        if (tombstones.isEmpty()) {
            return;
        }
        boolean noPoints = props.numEntries == 0;
        RangeTombstone first = tombstones.get(0); // sorted: the smallest start internal key
        byte[] smallest = first.startInternalKey();
        if (noPoints || InternalKey.compare(smallest, props.smallestKey) < 0) {
            props.smallestKey = smallest;
        }
        RangeTombstone widest = first;
        long minSeq = first.sequence;
        long maxSeq = first.sequence;
        for (RangeTombstone t : tombstones) {
            if (Arrays.compareUnsigned(t.end, widest.end) > 0) {
                widest = t;
            }
            minSeq = Math.min(minSeq, t.sequence);
            maxSeq = Math.max(maxSeq, t.sequence);
            props.rawKeyBytes += t.start.length + InternalKey.TRAILER_SIZE;
            props.rawValueBytes += t.end.length;
        }
        byte[] largest = widest.endSentinelKey();
        if (noPoints || InternalKey.compare(largest, props.largestKey) > 0) {
            props.largestKey = largest;
        }
        props.smallestSequence = noPoints ? minSeq : Math.min(props.smallestSequence, minSeq);
        props.largestSequence = noPoints ? maxSeq : Math.max(props.largestSequence, maxSeq);
        props.numRangeDeletions = tombstones.size();
        props.numEntries += tombstones.size();
    }

    private void addIndexEntry(int sepLen, BlockHandle h) {
        int n = h.encodeTo(handleScratch, 0);
        indexBlock.add(separator, 0, sepLen, handleScratch, 0, n);
    }

    private void addMetaEntry(BlockBuilder meta, String name, BlockHandle h) {
        byte[] k = name.getBytes(StandardCharsets.US_ASCII);
        int n = h.encodeTo(handleScratch, 0);
        meta.add(k, 0, k.length, handleScratch, 0, n);
    }

    /**
     * Stores the block {@code raw[0, len)}, compressed if that saves at least 1/8, followed by its
     * trailer; sets and returns {@code handle}.
     */
    private BlockHandle writeBlock(byte[] raw, int len, Compression c, BlockHandle handle) throws IOException {
        byte[] src = raw;
        int srcLen = len;
        int code = Compression.NONE.code;
        if (c == Compression.LZ4) {
            int max = Coding.MAX_VARINT32_BYTES + Lz4Codec.COMPRESSOR.maxCompressedLength(len);
            if (compressed.length < max) {
                compressed = new byte[max];
            }
            int p = Coding.putVarint32(compressed, 0, len);
            int clen = Lz4Codec.COMPRESSOR.compress(raw, 0, len, compressed, p, compressed.length - p);
            int stored = p + clen;
            if (stored < len - len / 8) {
                src = compressed;
                srcLen = stored;
                code = Compression.LZ4.code;
            }
        }
        trailer[0] = (byte) code;
        Coding.putFixed32(trailer, 1, Crc32c.mask(Crc32c.value(src, 0, srcLen, (byte) code)));
        handle.set(offset, srcLen);
        append(src, 0, srcLen);
        append(trailer, 0, trailer.length);
        return handle;
    }

    private void append(byte[] b, int off, int len) throws IOException {
        try {
            out.append(b, off, len);
        } catch (IOException | RuntimeException e) {
            state = FAILED;
            throw e;
        }
        offset += len;
    }

    /**
     * Writes into {@link #separator} an internal key {@code s} with {@code a <= s < b} (a: last key
     * of a block, b: first key of the next), shorter than {@code a} where possible; returns its
     * length. A shortened key is a user-key prefix of {@code a} with its last byte incremented and
     * the largest trailer, which sorts first among entries of that user key.
     */
    private int shortestSeparator(byte[] a, int alen, byte[] b, int boff, int blen) {
        int au = alen - InternalKey.TRAILER_SIZE;
        int bu = blen - InternalKey.TRAILER_SIZE;
        int n = Math.min(au, bu);
        int diff = Arrays.mismatch(a, 0, n, b, boff, boff + n);
        if (diff >= 0 && diff + 1 < au) {
            int ab = a[diff] & 0xFF;
            if (ab < 0xFF && ab + 1 < (b[boff + diff] & 0xFF)) {
                return shortened(a, diff, ab + 1);
            }
        }
        return copyToSeparator(a, alen);
    }

    /** As {@link #shortestSeparator} with no next key: some {@code s >= a}, shorter where possible. */
    private int shortSuccessor(byte[] a, int alen) {
        int au = alen - InternalKey.TRAILER_SIZE;
        for (int i = 0; i + 1 < au; i++) {
            int ab = a[i] & 0xFF;
            if (ab != 0xFF) {
                return shortened(a, i, ab + 1);
            }
        }
        return copyToSeparator(a, alen);
    }

    private int shortened(byte[] a, int prefixLen, int lastByte) {
        int len = prefixLen + 1 + InternalKey.TRAILER_SIZE;
        ensureSeparator(len);
        System.arraycopy(a, 0, separator, 0, prefixLen);
        separator[prefixLen] = (byte) lastByte;
        Coding.putFixed64(separator, prefixLen + 1,
                InternalKey.trailer(InternalKey.MAX_SEQUENCE, InternalKey.TYPE_FOR_SEEK));
        return len;
    }

    private int copyToSeparator(byte[] a, int alen) {
        ensureSeparator(alen);
        System.arraycopy(a, 0, separator, 0, alen);
        return alen;
    }

    private void ensureSeparator(int len) {
        if (separator.length < len) {
            separator = new byte[Math.max(len, separator.length * 2)];
        }
    }

    private static String describe(byte[] k, int off, int len) {
        long t = Coding.getFixed64(k, off + len - InternalKey.TRAILER_SIZE);
        StringBuilder sb = new StringBuilder();
        int ulen = len - InternalKey.TRAILER_SIZE;
        for (int i = 0; i < Math.min(ulen, 32); i++) {
            sb.append(String.format("%02x", k[off + i] & 0xFF));
        }
        if (ulen > 32) {
            sb.append("...");
        }
        return "'" + sb + "'@" + InternalKey.sequenceOf(t) + "/" + InternalKey.typeOf(t);
    }
}
