package io.o3lsm;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.internal.util.Limits;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Writes sorted keys into an SST in o3lsm's own table format ({@code docs/format/sstable.md}), with
 * the bloom filter, compression, block size and properties that {@link Options} give, for
 * {@link DB#ingest(java.util.List, IngestOptions)} to take into a database without going through
 * the write path. See {@code docs/operations/bulk-ingest.md}.
 *
 * <pre>{@code
 * try (SstFileWriter w = SstFileWriter.open(file, options)) {
 *     w.put(k1, v1);        // keys strictly increasing (unsigned bytewise)
 *     w.delete(k2);
 *     SstFileWriter.Info info = w.finish();
 * }
 * db.ingest(List.of(file), IngestOptions.defaults());
 * }</pre>
 *
 * <p>Keys are the caller's keys, as {@link DB#put} takes them: the writer knows no column family
 * (an ingest into a family prefixes them then). Every entry is written with sequence number 0; the
 * ingest decides the sequence number the entries get ({@code bulk-ingest.md}, "Sequence numbers").
 * Point entries (put, delete, merge) must come in strictly increasing key order — each key at most
 * once — else {@link IllegalArgumentException} naming both keys; range deletions may come in any
 * order and overlap anything. An entry written to the file is final: there is no undo but
 * {@link #close()} without {@link #finish()}, which deletes the file.
 *
 * <p>Not thread-safe: one thread writes a file.
 */
public final class SstFileWriter implements AutoCloseable {
    /** What {@link #finish()} wrote. Keys are the caller's keys (no family prefix). */
    public record Info(Path file, long entries, long deletions, long rangeDeletions, byte[] smallestKey,
            byte[] largestKey, long fileSize) {
        @Override
        public String toString() {
            return "SstFileWriter.Info(" + file + ", " + entries + " entries, keys " + describe(smallestKey) + ".."
                    + describe(largestKey) + ", " + fileSize + " bytes)";
        }
    }

    private final Path path;
    private final FileSystem fs;
    private final FileSystem.WritableFile out;
    private final TableBuilder table;
    private byte[] lastKey;
    private boolean finished;
    private boolean closed;

    private SstFileWriter(Path path, FileSystem fs, FileSystem.WritableFile out, TableBuilder table) {
        this.path = path;
        this.fs = fs;
        this.out = out;
        this.table = table;
    }

    /**
     * Creates {@code file} (which must not exist) on the local file system and writes the table's
     * header, using {@code options}' block size, restart interval, compression and bloom bits per key.
     *
     * @throws IllegalArgumentException {@code file} exists
     * @throws O3Exception the file cannot be created
     */
    public static SstFileWriter open(Path file, Options options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        FileSystem fs = FileSystem.local();
        TableOptions to = new TableOptions(options.blockSize(), options.blockRestartInterval(),
                options.compression(), options.bloomBitsPerKey());
        FileSystem.WritableFile out = null;
        try {
            if (fs.exists(file)) {
                throw new IllegalArgumentException("SstFileWriter: " + file + " exists; it writes a new file");
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                fs.createDirectories(parent);
            }
            out = fs.newWritableFileExclusive(file);
            return new SstFileWriter(file, fs, out, new TableBuilder(out, file.toString(), to));
        } catch (IOException ex) {
            if (out != null) {
                try {
                    out.close();
                    fs.delete(file);
                } catch (IOException suppressed) {
                    ex.addSuppressed(suppressed);
                }
            }
            throw new O3Exception("SstFileWriter: cannot create " + file + ": " + ex, ex);
        }
    }

    /** Adds {@code key → value}. */
    public void put(byte[] key, byte[] value) {
        Objects.requireNonNull(value, "value");
        Limits.checkValueLength(value.length, "value");
        add(key, InternalKey.TYPE_VALUE, value);
    }

    /** Adds a deletion of {@code key}: once ingested, it hides older values of the key. */
    public void delete(byte[] key) {
        add(key, InternalKey.TYPE_DELETION, new byte[0]);
    }

    /**
     * Adds a merge operand for {@code key}; once ingested, it is combined with the key's older values
     * by the target family's merge operator when read (as a {@link DB#merge} would be).
     */
    public void merge(byte[] key, byte[] operand) {
        Objects.requireNonNull(operand, "operand");
        Limits.checkValueLength(operand.length, "merge operand");
        add(key, InternalKey.TYPE_MERGE, operand);
    }

    /**
     * Adds a range deletion of {@code [fromInclusive, toExclusive)}: once ingested, it hides older
     * values of every key in the range (not the point entries of this file). Any order, any overlap;
     * an empty range is dropped.
     */
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        checkWritable();
        Limits.checkKey(fromInclusive, "range start");
        Limits.checkKey(toExclusive, "range end");
        table.addRangeTombstone(fromInclusive, toExclusive, 0);
    }

    private void add(byte[] key, int type, byte[] value) {
        checkWritable();
        Limits.checkKey(key, "key");
        if (lastKey != null && Arrays.compareUnsigned(key, lastKey) <= 0) {
            throw new IllegalArgumentException("SstFileWriter " + path + ": keys must be strictly increasing; "
                    + describe(key) + " comes after " + describe(lastKey));
        }
        try {
            table.add(InternalKey.encode(key, 0, type), value);
        } catch (IOException ex) {
            throw new UncheckedIOException("SstFileWriter: writing " + path + " failed: " + ex, ex);
        }
        lastKey = key.clone();
    }

    /**
     * Writes the filter, index, properties and footer, syncs and closes the file, and returns what it
     * holds.
     *
     * @throws IllegalStateException the file has no entry (an empty table is not worth ingesting), or
     *         after finish/close
     */
    public Info finish() {
        checkWritable();
        if (table.numEntries() == 0) {
            throw new IllegalStateException("SstFileWriter " + path + ": nothing was added; an empty file cannot be "
                    + "finished (close() deletes it)");
        }
        try {
            TableProperties p = table.finish();
            out.sync();
            out.close();
            finished = true;
            closed = true;
            return new Info(path, p.numEntries(), p.numDeletions(), p.numRangeDeletions(),
                    InternalKey.userKey(p.smallestKey()), InternalKey.userKey(p.largestKey()), p.fileSize());
        } catch (IOException ex) {
            throw new UncheckedIOException("SstFileWriter: finishing " + path + " failed: " + ex, ex);
        }
    }

    /** Closes the writer; a file not {@link #finish() finished} is deleted. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        table.abandon();
        try {
            out.close();
            fs.delete(path);
        } catch (IOException ex) {
            throw new UncheckedIOException("SstFileWriter: removing the unfinished " + path + " failed: " + ex, ex);
        }
    }

    private void checkWritable() {
        if (closed || finished) {
            throw new IllegalStateException("SstFileWriter " + path + " is " + (finished ? "finished" : "closed"));
        }
    }

    /** A key for messages: as text when it is printable ASCII, else in hex. */
    static String describe(byte[] k) {
        return io.o3lsm.internal.util.Bytes.describe(k);
    }
}
