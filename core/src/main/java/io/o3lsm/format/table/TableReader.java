package io.o3lsm.format.table;

import io.o3lsm.Compression;
import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.format.table.TableFormat.BlockHandle;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.spi.FileSystem;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import net.jpountz.lz4.LZ4Exception;
import org.agrona.DirectBuffer;

/**
 * Reads one SST written by {@link TableBuilder} (format: {@code docs/format/sstable.md}).
 *
 * <p>{@link #open} verifies the header and footer (magic, version, checksum) and loads the index,
 * metaindex, filter, range tombstone and properties blocks into memory, where they stay pinned for
 * the reader's life; data blocks are read on demand, each through one positional read that is
 * checked against its CRC32C before any byte of it is used. Every mismatch is a
 * {@link CorruptionException} naming the file and the offset of the block (or header/footer) that
 * failed; o3lsm never answers from unverified bytes (the one opt-out is
 * {@code verifyChecksums = false} for a block that is read and not cached).
 *
 * <p>Data blocks go through the database's {@link BlockCache} when one is given at open: a block
 * is looked up by (file number, offset) first, and a block read from disk is inserted unless the
 * read says {@code fillCache = false}. Only verified blocks enter the cache.
 *
 * <p>Range tombstones are not entries of the data blocks: {@link #get} and {@link #iterator()}
 * return point entries only (types 0, 1 and 3), and the table's tombstones are in
 * {@link #rangeTombstones()}; applying them is the caller's job.
 *
 * <p>Thread-safe: any number of threads may call {@link #get} and use their own
 * {@link #iterator()}s concurrently. {@code get} allocates nothing but the value it returns and
 * the data block it reads from disk (it keeps its cursors in a per-thread scratch object; cache
 * lookups allocate nothing), and so does an iterator's {@code next}. {@link #open} reports I/O
 * failures as {@link IOException}; {@code get} and iterators, which run on the engine's read
 * path, wrap them in {@link O3Exception} ({@link InternalIterator} has no checked exceptions).
 */
public final class TableReader implements AutoCloseable {
    private static final ThreadLocal<GetScratch> GET_SCRATCH = ThreadLocal.withInitial(GetScratch::new);

    private final FileSystem.ReadableFile file;
    private final String fileName;
    private final long fileNumber;
    private final long fileSize;
    /** Offset of the footer = end of the last block. */
    private final long footerOffset;
    private final long indexOffset;
    private final Block indexBlock;
    private final BloomFilter filter;
    private final TableProperties properties;
    private final List<RangeTombstone> rangeTombstones;
    /** Shared cache of data blocks, or null. */
    private final BlockCache cache;
    private volatile boolean closed;

    /**
     * Opens {@code file} without a block cache; see
     * {@link #open(FileSystem.ReadableFile, String, long, BlockCache)}.
     */
    public static TableReader open(FileSystem.ReadableFile file, String fileName, long fileNumber) throws IOException {
        return open(file, fileName, fileNumber, null);
    }

    /**
     * Opens the SST in {@code file} and takes ownership of it: {@link #close()} closes it, and so
     * does a failing open before it throws.
     *
     * @param fileName   the name used in error messages
     * @param fileNumber the number the MANIFEST knows the file by; with {@code cache}, it is the
     *                   file's cache key and must be unique among the files sharing the cache
     * @param cache      the block cache for data blocks, or null for none; the index, filter,
     *                   range tombstone and properties blocks are read once at open and pinned
     * @throws CorruptionException if the header, footer, index, metaindex, filter, range tombstone
     *         or properties block fails verification
     */
    public static TableReader open(FileSystem.ReadableFile file, String fileName, long fileNumber,
            BlockCache cache) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(fileName, "fileName");
        try {
            return new TableReader(file, fileName, fileNumber, cache);
        } catch (IOException | RuntimeException | Error e) {
            try {
                file.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private TableReader(FileSystem.ReadableFile file, String fileName, long fileNumber, BlockCache cache)
            throws IOException {
        this.file = file;
        this.fileName = fileName;
        this.fileNumber = fileNumber;
        this.cache = cache;
        this.fileSize = file.size();
        if (fileSize < TableFormat.MIN_FILE_SIZE) {
            throw new CorruptionException(fileName, 0, "expected an SST of at least " + TableFormat.MIN_FILE_SIZE
                    + " bytes (header + footer), found " + fileSize + " bytes (truncated?)");
        }
        byte[] header = new byte[TableFormat.HEADER_SIZE];
        readFully(0, header, header.length);
        int headerVersion = TableFormat.checkHeader(header, fileName);

        this.footerOffset = fileSize - TableFormat.FOOTER_SIZE;
        byte[] footer = new byte[TableFormat.FOOTER_SIZE];
        readFully(footerOffset, footer, footer.length);
        BlockHandle metaindexHandle = new BlockHandle();
        BlockHandle indexHandle = new BlockHandle();
        int footerVersion = TableFormat.decodeFooter(footer, fileName, footerOffset, metaindexHandle, indexHandle);
        if (footerVersion != headerVersion) {
            throw new CorruptionException(fileName, footerOffset + TableFormat.FOOTER_VERSION_OFFSET,
                    "expected the header's format version " + headerVersion + ", found " + footerVersion);
        }

        this.indexOffset = indexHandle.offset;
        this.indexBlock = readAndDecode(indexHandle.offset, indexHandle.size, true);

        Block metaindex = readAndDecode(metaindexHandle.offset, metaindexHandle.size, true);
        BlockHandle filterHandle = null;
        BlockHandle propertiesHandle = null;
        BlockHandle rangeDelHandle = null;
        BlockIterator it = metaindex.iterator(false);
        for (it.seekToFirst(); it.isValid(); it.next()) {
            String name = new String(it.keyArray(), 0, it.keyLength(), StandardCharsets.US_ASCII);
            BlockHandle h = new BlockHandle();
            int end = it.valueOffset() + it.valueLength();
            if (h.decodeFrom(it.valueArray(), it.valueOffset(), end) != end) {
                throw new CorruptionException(fileName, metaindexHandle.offset, "metaindex entry '" + name
                        + "': expected a block handle, found " + it.valueLength() + " malformed bytes");
            }
            if (TableFormat.FILTER_BLOCK_NAME.equals(name)) {
                filterHandle = h;
            } else if (TableFormat.PROPERTIES_BLOCK_NAME.equals(name)) {
                propertiesHandle = h;
            } else if (TableFormat.RANGE_DEL_BLOCK_NAME.equals(name)) {
                rangeDelHandle = h;
            } // other names: blocks of a newer writer, ignored
        }
        if (propertiesHandle == null) {
            throw new CorruptionException(fileName, metaindexHandle.offset,
                    "expected a '" + TableFormat.PROPERTIES_BLOCK_NAME + "' entry in the metaindex, found none");
        }
        this.properties = TableProperties.decode(
                readAndDecode(propertiesHandle.offset, propertiesHandle.size, true), fileName, propertiesHandle.offset);
        properties.fileSize = fileSize;

        if (filterHandle != null) {
            Contents f = readContents(filterHandle.offset, filterHandle.size, true);
            this.filter = BloomFilter.decode(f.data, 0, f.length, fileName, filterHandle.offset);
        } else {
            this.filter = null;
        }

        long indexEntries = 0;
        BlockIterator ii = indexBlock.iterator(true);
        for (ii.seekToFirst(); ii.isValid(); ii.next()) {
            indexEntries++;
        }
        if (indexEntries != properties.numDataBlocks) {
            throw new CorruptionException(fileName, indexHandle.offset, "expected " + properties.numDataBlocks
                    + " index entries (the properties' data block count), found " + indexEntries);
        }

        this.rangeTombstones = rangeDelHandle == null ? List.of() : readRangeTombstones(rangeDelHandle);
        if (rangeTombstones.size() != properties.numRangeDeletions) {
            throw new CorruptionException(fileName, rangeDelHandle == null ? metaindexHandle.offset
                    : rangeDelHandle.offset, "expected " + properties.numRangeDeletions
                    + " range tombstones (the properties' count), found " + rangeTombstones.size()
                    + (rangeDelHandle == null ? " (no rangedel block)" : ""));
        }
    }

    /**
     * Decodes the rangedel block: keys {@code start || trailer(seq, 2)} in strictly increasing
     * {@link RangeTombstone#ORDER}, values the end keys, every range non-empty.
     */
    private List<RangeTombstone> readRangeTombstones(BlockHandle h) throws IOException {
        Block b = readAndDecode(h.offset, h.size, true);
        List<RangeTombstone> out = new ArrayList<>();
        BlockIterator it = b.iterator(true);
        RangeTombstone prev = null;
        for (it.seekToFirst(); it.isValid(); it.next()) {
            int kl = it.keyLength();
            int ul = kl - InternalKey.TRAILER_SIZE;
            long trailer = Coding.getFixed64(it.keyArray(), ul);
            int type = InternalKey.typeOf(trailer);
            if (type != InternalKey.TYPE_RANGE_DELETION) {
                throw new CorruptionException(fileName, h.offset, "rangedel entry at block offset "
                        + it.entryOffset() + ": expected type " + InternalKey.TYPE_RANGE_DELETION + ", found " + type);
            }
            int vo = it.valueOffset();
            RangeTombstone t = new RangeTombstone(Arrays.copyOf(it.keyArray(), ul),
                    Arrays.copyOfRange(it.valueArray(), vo, vo + it.valueLength()), InternalKey.sequenceOf(trailer));
            if (t.isEmpty()) {
                throw new CorruptionException(fileName, h.offset, "rangedel entry at block offset "
                        + it.entryOffset() + ": expected start < end, found " + t);
            }
            if (prev != null && RangeTombstone.ORDER.compare(prev, t) >= 0) {
                throw new CorruptionException(fileName, h.offset, "rangedel entry at block offset "
                        + it.entryOffset() + ": expected tombstones in increasing order, found " + t
                        + " after " + prev);
            }
            out.add(t);
            prev = t;
        }
        return List.copyOf(out);
    }

    public String fileName() {
        return fileName;
    }

    public long fileNumber() {
        return fileNumber;
    }

    public long fileSize() {
        return fileSize;
    }

    public TableProperties properties() {
        return properties;
    }

    /** The block cache this reader reads data blocks through, or null. */
    public BlockCache blockCache() {
        return cache;
    }

    /**
     * The table's range tombstones in {@link RangeTombstone#ORDER} (start ascending, newest
     * first), loaded and verified at open; an empty list when there are none. Immutable.
     */
    public List<RangeTombstone> rangeTombstones() {
        return rangeTombstones;
    }

    /**
     * False only if no point entry of {@code userKey} is in this table (bloom filter); true without a
     * filter. Says nothing about range tombstones: see {@link #rangeTombstones()}.
     */
    public boolean mayContain(byte[] userKey) {
        return filter == null || filter.mayContain(userKey);
    }

    /** As {@link #mayContain(byte[])} for the user key at {@code buf[off, off+len)}. */
    public boolean mayContain(DirectBuffer buf, int off, int len) {
        return filter == null || filter.mayContain(buf, off, len);
    }

    /** {@link #get(byte[], long, Lookup, boolean, boolean)} filling the cache and verifying checksums. */
    public boolean get(byte[] userKey, long snapshotSeq, Lookup out) {
        return get(userKey, snapshotSeq, out, true, true);
    }

    /**
     * Looks up the newest point entry of {@code userKey} with sequence {@code <= snapshotSeq}. The
     * bloom filter is consulted first, then the index, then (usually) one data block, through the
     * block cache. On a hit sets {@code out.state} to {@link Lookup#FOUND} (with a fresh copy of the
     * value), {@link Lookup#DELETED} or {@link Lookup#MERGE} (with the operand), and {@code out.sequence}; returns true. Returns false and
     * leaves {@code out} untouched if the table has no such entry. The table's
     * {@linkplain #rangeTombstones() range tombstones} are not applied.
     *
     * @param fillCache       insert a data block read from disk into the cache (a block already
     *                        cached is used either way)
     * @param verifyChecksums check the CRC of a data block read from disk; false skips it unless
     *                        the block is about to be cached (cached blocks are always verified)
     * @throws CorruptionException if a block read fails verification
     * @throws O3Exception wrapping the {@link IOException} of a failed read
     */
    public boolean get(byte[] userKey, long snapshotSeq, Lookup out, boolean fillCache, boolean verifyChecksums) {
        if (filter != null && !filter.mayContain(userKey)) {
            return false;
        }
        return getAfterFilter(userKey, snapshotSeq, out, fillCache, verifyChecksums);
    }

    /** True if the table has a bloom filter ({@link #mayContain} can say no). */
    public boolean hasFilter() {
        return filter != null;
    }

    /**
     * As {@link #get(byte[], long, Lookup, boolean, boolean)} without consulting the bloom filter: for
     * a caller that has just asked {@link #mayContain} itself (to count the check).
     */
    public boolean getAfterFilter(byte[] userKey, long snapshotSeq, Lookup out, boolean fillCache,
            boolean verifyChecksums) {
        if (closed) {
            throw new IllegalStateException(fileName + " is closed");
        }
        GetScratch s = GET_SCRATCH.get();
        int ulen = userKey.length;
        int klen = ulen + InternalKey.TRAILER_SIZE;
        byte[] target = s.target(klen);
        System.arraycopy(userKey, 0, target, 0, ulen);
        long seq = Math.min(Math.max(snapshotSeq, 0), InternalKey.MAX_SEQUENCE);
        Coding.putFixed64(target, ulen, InternalKey.trailer(seq, InternalKey.TYPE_FOR_SEEK));
        BlockIterator index = s.index;
        BlockIterator data = s.data;
        BlockHandle h = s.handle;
        Block pinned = null;
        boolean added = false; // collecting: operands were added from this table
        try {
            index.reset(indexBlock);
            index.seek(target, 0, klen);
            boolean first = true;
            while (index.isValid()) {
                decodeIndexEntry(index, h);
                if (pinned != null && cache != null) {
                    cache.unpin(pinned);
                    pinned = null;
                }
                pinned = readDataBlockPinned(h, fillCache, verifyChecksums);
                data.reset(pinned);
                if (first) {
                    data.seek(target, 0, klen);
                    first = false;
                } else {
                    data.seekToFirst();
                }
                for (; data.isValid(); data.next()) {
                    byte[] k = data.keyArray();
                    int kl = data.keyLength();
                    int kul = kl - InternalKey.TRAILER_SIZE;
                    if (!Arrays.equals(k, 0, kul, userKey, 0, ulen)) {
                        return added;
                    }
                    long trailer = Coding.getFixed64(k, kul);
                    int type = InternalKey.typeOf(trailer);
                    switch (type) {
                        case InternalKey.TYPE_VALUE -> {
                            int vo = data.valueOffset();
                            out.state = Lookup.FOUND;
                            out.value = Arrays.copyOfRange(data.valueArray(), vo, vo + data.valueLength());
                            out.sequence = InternalKey.sequenceOf(trailer);
                            return true;
                        }
                        case InternalKey.TYPE_DELETION -> {
                            out.state = Lookup.DELETED;
                            out.value = null;
                            out.sequence = InternalKey.sequenceOf(trailer);
                            return true;
                        }
                        case InternalKey.TYPE_MERGE -> {
                            int vo = data.valueOffset();
                            byte[] operand = Arrays.copyOfRange(data.valueArray(), vo, vo + data.valueLength());
                            if (out.collect) {
                                out.addOperand(operand, InternalKey.sequenceOf(trailer));
                                added = true;
                                continue; // the key's older entries follow (in this block or the next)
                            }
                            out.state = Lookup.MERGE;
                            out.value = operand;
                            out.sequence = InternalKey.sequenceOf(trailer);
                            return true;
                        }
                        default -> throw new CorruptionException(fileName, h.offset, "entry at block offset "
                                + data.entryOffset() + ": expected type 0, 1 or 3 in a data block, found " + type);
                    }
                }
                index.next();
            }
            return added;
        } finally {
            index.clear();
            data.clear();
            if (pinned != null && cache != null) {
                cache.unpin(pinned);
            }
        }
    }

    /** {@link #iterator(boolean, boolean)} filling the cache and verifying checksums. */
    public InternalIterator iterator() {
        return iterator(true, true);
    }

    /**
     * A new two-level iterator (index block, then data blocks) over all point entries (no range
     * tombstones). Not positioned: call a seek first. One thread per iterator; close it to drop its
     * block references. {@code fillCache} and {@code verifyChecksums} apply to every data block it
     * reads, as for {@link #get(byte[], long, Lookup, boolean, boolean)}; a long scan usually
     * passes {@code fillCache = false} so as not to flush the cache's working set.
     */
    public InternalIterator iterator(boolean fillCache, boolean verifyChecksums) {
        if (closed) {
            throw new IllegalStateException(fileName + " is closed");
        }
        return new TableIterator(fillCache, verifyChecksums);
    }

    /** Closes the file. Gets and iterators must not be used afterwards. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            file.close();
        }
    }

    @Override
    public String toString() {
        return "TableReader[" + fileName + " #" + fileNumber + ", " + fileSize + " bytes]";
    }

    /** Decodes the current index entry's value into {@code h}, checking it is one whole handle. */
    private void decodeIndexEntry(BlockIterator index, BlockHandle h) {
        int off = index.valueOffset();
        int end = off + index.valueLength();
        if (h.decodeFrom(index.valueArray(), off, end) != end) {
            throw new CorruptionException(fileName, indexOffset, "index entry at block offset " + index.entryOffset()
                    + ": expected a block handle of " + index.valueLength() + " bytes, found malformed varints");
        }
        if (h.size > TableFormat.MAX_BLOCK_SIZE) {
            throw new CorruptionException(fileName, indexOffset, "index entry at block offset " + index.entryOffset()
                    + ": expected a block size <= " + TableFormat.MAX_BLOCK_SIZE + ", found " + h.size);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Block reading: the one place bytes come off the file.

    /**
     * The data block at {@code h}: from the cache, else from the file (verified unless
     * {@code verifyChecksums} is false and the block will not be cached), inserted into the cache
     * if {@code fillCache}. I/O errors become {@link O3Exception}s.
     */
    private Block readDataBlock(BlockHandle h, boolean fillCache, boolean verifyChecksums) {
        BlockCache c = cache;
        if (c != null) {
            Block b = c.lookup(fileNumber, h.offset);
            if (b != null) {
                return b;
            }
        }
        boolean insert = fillCache && c != null && c.isEnabled();
        Block b;
        try {
            b = readAndDecode(h.offset, h.size, verifyChecksums || insert);
        } catch (IOException e) {
            throw new O3Exception("I/O error reading the block at offset " + h.offset + " of " + fileName
                    + ": " + e.getMessage(), e);
        }
        return insert ? c.insert(fileNumber, h.offset, b) : b;
    }

    /**
     * As {@link #readDataBlock} for a point get, which is done with the block before it returns:
     * the block comes pinned ({@link BlockCache#unpin} it after use; a no-op for an uncached one),
     * and a miss reads into a recycled array of an evicted block, so that a churning cache
     * allocates (and promotes) nothing per miss.
     */
    private Block readDataBlockPinned(BlockHandle h, boolean fillCache, boolean verifyChecksums) {
        BlockCache c = cache;
        if (c == null || !c.isEnabled()) {
            return readDataBlock(h, false, verifyChecksums);
        }
        // a cached block always comes pinned here, whether or not this get fills the cache: the
        // caller unpins whatever it got
        Block b = c.lookupPinned(fileNumber, h.offset);
        if (b != null) {
            return b;
        }
        if (!fillCache) {
            try {
                return readAndDecode(h.offset, h.size, verifyChecksums); // not cached: unpin is a no-op
            } catch (IOException e) {
                throw new O3Exception("I/O error reading the block at offset " + h.offset + " of " + fileName
                        + ": " + e.getMessage(), e);
            }
        }
        try {
            b = readAndDecode(h.offset, h.size, true, c);
        } catch (IOException e) {
            throw new O3Exception("I/O error reading the block at offset " + h.offset + " of " + fileName
                    + ": " + e.getMessage(), e);
        }
        return c.insertPinned(fileNumber, h.offset, b);
    }

    private record Contents(byte[] data, int length) {
    }

    /** Reads, verifies (if {@code verify}), decompresses and decodes the block at {@code offset}. */
    private Block readAndDecode(long offset, long size, boolean verify) throws IOException {
        return readAndDecode(offset, size, verify, null);
    }

    /** As above; with {@code pool}, the block is read into an array the cache lends. */
    private Block readAndDecode(long offset, long size, boolean verify, BlockCache pool) throws IOException {
        Contents c = readContents(offset, size, verify, pool);
        return new Block(c.data, c.length, fileName, offset);
    }

    /**
     * Reads the block at {@code offset}, checks its trailer's CRC (if {@code verify}) and
     * decompresses it.
     */
    private Contents readContents(long offset, long size, boolean verify) throws IOException {
        return readContents(offset, size, verify, null);
    }

    private Contents readContents(long offset, long size, boolean verify, BlockCache pool) throws IOException {
        if (offset < TableFormat.HEADER_SIZE || size < 0 || size > TableFormat.MAX_BLOCK_SIZE
                || offset + size + TableFormat.BLOCK_TRAILER_SIZE > footerOffset) {
            throw new CorruptionException(fileName, offset, "expected a block inside [" + TableFormat.HEADER_SIZE
                    + ", " + footerOffset + "), found handle [" + offset + ", +" + size + "] plus trailer");
        }
        int n = (int) size;
        int len = n + TableFormat.BLOCK_TRAILER_SIZE;
        byte[] buf = pool != null ? pool.borrow(fileNumber, offset, len) : new byte[len];
        readFully(offset, buf, len);
        byte code = buf[n];
        if (verify) {
            int stored = Crc32c.unmask(Coding.getFixed32(buf, n + 1));
            int actual = Crc32c.value(buf, 0, n, code);
            if (stored != actual) {
                throw new CorruptionException(fileName, offset, "block of " + n + " bytes: expected crc32c "
                        + TableFormat.hex(actual) + " (computed), found " + TableFormat.hex(stored) + " (stored)");
            }
        }
        if (code == Compression.NONE.code) {
            return new Contents(buf, n);
        }
        if (code == Compression.LZ4.code) {
            int[] pos = {0};
            long ulen = Coding.getVarint32(buf, pos, n);
            if (ulen < 0 || ulen > TableFormat.MAX_BLOCK_SIZE) {
                throw new CorruptionException(fileName, offset,
                        "LZ4 block: expected an uncompressed length <= " + TableFormat.MAX_BLOCK_SIZE + ", found "
                                + (ulen < 0 ? "a malformed varint" : Long.toString(ulen)));
            }
            // the decompressed array is the one the cache keeps, so it is the one to recycle (the
            // compressed read buffer is short-lived and rarely matches an evicted block's size)
            byte[] raw = pool != null ? pool.borrow(fileNumber, offset, (int) ulen) : new byte[(int) ulen];
            int got;
            try {
                got = Lz4Codec.DECOMPRESSOR.decompress(buf, pos[0], n - pos[0], raw, 0, (int) ulen);
            } catch (LZ4Exception e) {
                throw new CorruptionException(fileName, offset, "LZ4 block: expected " + ulen
                        + " decompressed bytes, found undecodable data (" + e.getMessage() + ")");
            }
            if (got != ulen) {
                throw new CorruptionException(fileName, offset,
                        "LZ4 block: expected " + ulen + " decompressed bytes, found " + got);
            }
            return new Contents(raw, (int) ulen);
        }
        throw new CorruptionException(fileName, offset,
                "expected block compression code 0 or 1, found " + (code & 0xFF));
    }

    private void readFully(long offset, byte[] dst, int len) throws IOException {
        try {
            file.readFully(offset, dst, 0, len);
        } catch (EOFException e) {
            throw new CorruptionException(fileName, offset,
                    "expected " + len + " bytes, found the end of the file (truncated?)");
        }
    }

    /** Per-thread cursors for {@link #get}, so that a get allocates no iterator. */
    private static final class GetScratch {
        final BlockIterator index = new BlockIterator(true);
        final BlockIterator data = new BlockIterator(true);
        final BlockHandle handle = new BlockHandle();
        byte[] target = new byte[64];

        byte[] target(int len) {
            if (target.length < len) {
                target = new byte[Math.max(len, target.length * 2)];
            }
            return target;
        }
    }

    /** Index block cursor + data block cursor; re-reads a data block only when it changes. */
    private final class TableIterator implements InternalIterator {
        private final BlockIterator index = new BlockIterator(true);
        private final BlockIterator data = new BlockIterator(true);
        private final BlockHandle handle = new BlockHandle();
        private final boolean fillCache;
        private final boolean verifyChecksums;
        private long dataBlockOffset = -1;

        TableIterator(boolean fillCache, boolean verifyChecksums) {
            this.fillCache = fillCache;
            this.verifyChecksums = verifyChecksums;
            index.reset(indexBlock);
        }

        @Override
        public boolean isValid() {
            return data.isValid();
        }

        @Override
        public void seekToFirst() {
            index.seekToFirst();
            if (loadDataBlock()) {
                data.seekToFirst();
            }
            skipEmptyForward();
        }

        @Override
        public void seekToLast() {
            index.seekToLast();
            if (loadDataBlock()) {
                data.seekToLast();
            }
            skipEmptyBackward();
        }

        @Override
        public void seek(byte[] targetInternalKey) {
            if (targetInternalKey.length < InternalKey.TRAILER_SIZE) {
                throw new IllegalArgumentException("seek target must be an internal key (>= 8 bytes), got "
                        + targetInternalKey.length + " bytes");
            }
            index.seek(targetInternalKey);
            if (loadDataBlock()) {
                data.seek(targetInternalKey);
            }
            skipEmptyForward();
        }

        @Override
        public void next() {
            data.next();
            skipEmptyForward();
        }

        @Override
        public void prev() {
            data.prev();
            skipEmptyBackward();
        }

        @Override
        public DirectBuffer key() {
            return data.key();
        }

        @Override
        public DirectBuffer value() {
            return data.value();
        }

        @Override
        public void close() {
            index.clear();
            data.clear();
            dataBlockOffset = -1;
        }

        private void skipEmptyForward() {
            while (!data.isValid()) {
                if (!index.isValid()) {
                    return;
                }
                index.next();
                if (!loadDataBlock()) {
                    return;
                }
                data.seekToFirst();
            }
        }

        private void skipEmptyBackward() {
            while (!data.isValid()) {
                if (!index.isValid()) {
                    return;
                }
                index.prev();
                if (!loadDataBlock()) {
                    return;
                }
                data.seekToLast();
            }
        }

        /** Points {@link #data} at the block of the current index entry; false if there is none. */
        private boolean loadDataBlock() {
            if (!index.isValid()) {
                data.clear();
                dataBlockOffset = -1;
                return false;
            }
            decodeIndexEntry(index, handle);
            if (handle.offset == dataBlockOffset && data.block() != null) {
                return true;
            }
            data.clear();
            dataBlockOffset = -1;
            data.reset(readDataBlock(handle, fillCache, verifyChecksums));
            dataBlockOffset = handle.offset;
            return true;
        }
    }
}
