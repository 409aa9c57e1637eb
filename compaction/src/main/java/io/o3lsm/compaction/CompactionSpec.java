package io.o3lsm.compaction;

import io.o3lsm.Compression;
import io.o3lsm.dm.protocol.BodyReader;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor.CompactedFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The compaction job's spec (owner to compactor, opaque to the coordinator) and the compactor's
 * report (compactor to owner), byte for byte as {@code docs/format/compaction-job.md} specifies.
 * All integers little-endian. The decoders check every count and length against the bytes left and
 * the limits below, and every field's range: bad bytes are a {@link MalformedMessageException},
 * never an out-of-bounds read. Stateless; thread-safe.
 */
public final class CompactionSpec {
    /**
     * Version of the spec (2: the merge operator's name, the compaction filter; 3: either may be a
     * family table, {@code o3.cf:...}, see JobFunctions); a decoder refuses any other.
     */
    public static final int VERSION = 3;
    /** Version of the report; a decoder refuses any other. */
    public static final int REPORT_VERSION = 1;
    /** {@link Spec#flags} bit 0: no older data for these keys lies below the output level. */
    public static final int FLAG_BOTTOMMOST = 1;
    static final int MAX_INPUTS = 1 << 16;
    static final int MAX_SNAPSHOTS = 1 << 20;
    static final int MAX_OUTPUTS = 1 << 16;
    static final int MAX_KEY = 16 << 20;
    static final int MAX_PATH = 4096;
    static final int MAX_LEVEL = 63;

    private CompactionSpec() {
    }

    /**
     * What a compactor needs: the request in the SPI's terms, with the directory as the string the
     * owner named it by (an absolute path within the shared storage).
     */
    public record Spec(String directory, long epoch, int outputLevel, boolean bottommost, long targetFileSize,
            int blockSize, int restartInterval, Compression compression, int bloomBitsPerKey, List<InputFile> inputs,
            long[] snapshots, long[] outputNumbers, byte[] lowerBound, byte[] upperBound, String mergeOperator,
            io.o3lsm.spi.CompactionExecutor.Filter filter, List<io.o3lsm.spi.CompactionExecutor.FamilyTable> familyTables) {
        /** The request {@link io.o3lsm.job.CompactionJob} runs, the directory resolved as {@code dir}. */
        public CompactionRequest toRequest(Path dir) {
            return new CompactionRequest(dir, epoch, inputs, outputLevel, bottommost, snapshots, outputNumbers,
                    targetFileSize, blockSize, restartInterval, compression, bloomBitsPerKey, lowerBound, upperBound,
                    mergeOperator, filter, familyTables);
        }
    }

    /** What a compactor reports. */
    public record Report(long bytesRead, long bytesWritten, List<CompactedFile> files) {
    }

    /**
     * Encodes {@code r}; the directory is {@code r.directory()} as a string (Unix-style, absolute).
     *
     * @throws IllegalArgumentException a field the format cannot carry (too many inputs, outputs or
     *                                  snapshots, a directory over 4096 bytes, a key over 16 MiB)
     */
    public static byte[] encode(CompactionRequest r) {
        byte[] dir = r.directory().toString().getBytes(StandardCharsets.UTF_8);
        check(dir.length >= 1 && dir.length <= MAX_PATH, "directory of 1.." + MAX_PATH + " bytes", dir.length);
        check(r.inputs().size() >= 1 && r.inputs().size() <= MAX_INPUTS, "1.." + MAX_INPUTS + " inputs",
                r.inputs().size());
        check(r.snapshots().length <= MAX_SNAPSHOTS, "at most " + MAX_SNAPSHOTS + " snapshots", r.snapshots().length);
        check(r.outputFileNumbers().length >= 1 && r.outputFileNumbers().length <= MAX_OUTPUTS,
                "1.." + MAX_OUTPUTS + " output numbers", r.outputFileNumbers().length);
        check(r.lowerBound() == null || r.lowerBound().length <= MAX_KEY, "a lower bound up to 16 MiB",
                r.lowerBound() == null ? 0 : r.lowerBound().length);
        check(r.upperBound() == null || r.upperBound().length <= MAX_KEY, "an upper bound up to 16 MiB",
                r.upperBound() == null ? 0 : r.upperBound().length);
        BodyWriter w = new BodyWriter(128 + dir.length + 20 * r.inputs().size()
                + 8 * (r.snapshots().length + r.outputFileNumbers().length));
        w.i32(VERSION).lengthPrefixed(dir).i64(r.epoch()).i32(r.outputLevel()).i32(r.bottommost() ? FLAG_BOTTOMMOST : 0)
                .i64(r.targetFileSize()).i32(r.blockSize()).i32(r.restartInterval()).i32(r.compression().code)
                .i32(r.bloomBitsPerKey());
        w.i32(r.inputs().size());
        for (InputFile in : r.inputs()) {
            w.i32(in.level()).i64(in.number()).i64(in.size());
        }
        w.i32(r.snapshots().length);
        for (long s : r.snapshots()) {
            w.i64(s);
        }
        w.i32(r.outputFileNumbers().length);
        for (long n : r.outputFileNumbers()) {
            w.i64(n);
        }
        bound(w, r.lowerBound());
        bound(w, r.upperBound());
        io.o3lsm.dm.protocol.JobFunctions.write(w, r.mergeOperator(), r.filter(), r.familyTables());
        return w.toByteArray();
    }

    private static void check(boolean ok, String expected, int found) {
        if (!ok) {
            throw new IllegalArgumentException("a compaction spec carries " + expected + ", found " + found);
        }
    }

    private static void bound(BodyWriter w, byte[] key) {
        if (key == null) {
            w.i32(-1);
        } else {
            w.lengthPrefixed(key);
        }
    }

    public static Spec decodeSpec(byte[] b) throws MalformedMessageException {
        BodyReader r = new BodyReader(new UnsafeBuffer(b), 0, b.length);
        version(r.i32("version"), "spec");
        String dir = new String(r.lengthPrefixed(MAX_PATH, "directory"), StandardCharsets.UTF_8);
        long epoch = r.i64("epoch");
        int outputLevel = r.i32("output-level");
        int flags = r.i32("flags");
        long target = r.i64("target-file-size");
        int block = r.i32("block-size");
        int restart = r.i32("restart-interval");
        int comp = r.i32("compression");
        int bloom = r.i32("bloom-bits-per-key");
        int n = count(r, MAX_INPUTS, "input");
        List<InputFile> inputs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int level = r.i32("input level");
            long number = r.i64("input number");
            long size = r.i64("input size");
            if (level < 0 || level > MAX_LEVEL || number <= 0 || size < 0) {
                throw new MalformedMessageException("expected input " + i + " with level in [0, " + MAX_LEVEL
                        + "], number > 0 and size >= 0, found " + level + ", " + number + ", " + size);
            }
            inputs.add(new InputFile(level, number, size));
        }
        long[] snaps = longs(r, MAX_SNAPSHOTS, "snapshot");
        long[] outs = longs(r, MAX_OUTPUTS, "output-number");
        byte[] lower = bound(r, "lower-bound");
        byte[] upper = bound(r, "upper-bound");
        io.o3lsm.dm.protocol.JobFunctions.Read fn = io.o3lsm.dm.protocol.JobFunctions.read(r);
        String merge = fn.mergeOperator();
        io.o3lsm.spi.CompactionExecutor.Filter filter = fn.filter();
        r.expectEnd("compaction spec");
        Compression c = null;
        for (Compression x : Compression.values()) {
            if (x.code == comp) {
                c = x;
            }
        }
        if (c == null || dir.isEmpty() || epoch < 0 || outputLevel < 0 || outputLevel > MAX_LEVEL
                || (flags & ~FLAG_BOTTOMMOST) != 0 || target <= 0 || block <= 0 || restart <= 0 || bloom < 0
                || inputs.isEmpty() || outs.length == 0) {
            throw new MalformedMessageException("expected a known compression, a directory, epoch >= 0, output level in"
                    + " [0, " + MAX_LEVEL + "], flags within 0x1, sizes > 0, bloom bits >= 0, at least one input and"
                    + " one output number; found compression " + comp + ", directory '" + dir + "', epoch " + epoch
                    + ", output level " + outputLevel + ", flags 0x" + Integer.toHexString(flags) + ", target " + target
                    + ", block " + block + ", restart " + restart + ", bloom " + bloom + ", " + inputs.size()
                    + " input(s), " + outs.length + " output number(s)");
        }
        for (long o : outs) {
            if (o <= 0) {
                throw new MalformedMessageException("expected output numbers > 0, found " + o);
            }
        }
        for (int i = 1; i < snaps.length; i++) {
            if (snaps[i] < snaps[i - 1]) {
                throw new MalformedMessageException("expected ascending snapshots, found " + snaps[i - 1] + " then "
                        + snaps[i]);
            }
        }
        return new Spec(dir, epoch, outputLevel, (flags & FLAG_BOTTOMMOST) != 0, target, block, restart, c, bloom,
                List.copyOf(inputs), snaps, outs, lower, upper, merge, filter, fn.familyTables());
    }

    public static byte[] encode(Report rep) {
        BodyWriter w = new BodyWriter(64 + 128 * rep.files().size());
        w.i32(REPORT_VERSION).i64(rep.bytesRead()).i64(rep.bytesWritten()).i32(rep.files().size());
        for (CompactedFile f : rep.files()) {
            OutputFile o = f.file();
            w.i64(o.number()).i64(o.size()).i32(f.crc32c()).lengthPrefixed(o.smallest()).lengthPrefixed(o.largest())
                    .i64(o.smallestSequence()).i64(o.largestSequence());
        }
        return w.toByteArray();
    }

    public static Report decodeReport(byte[] b) throws MalformedMessageException {
        BodyReader r = new BodyReader(new UnsafeBuffer(b), 0, b.length);
        int rv = r.i32("version");
        if (rv != REPORT_VERSION) {
            throw new MalformedMessageException("expected compaction report version " + REPORT_VERSION + ", found " + rv);
        }
        long read = r.i64("bytes-read");
        long written = r.i64("bytes-written");
        int n = count(r, MAX_OUTPUTS, "file");
        List<CompactedFile> files = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long number = r.i64("number");
            long size = r.i64("size");
            int crc = r.i32("crc32c");
            byte[] smallest = r.lengthPrefixed(MAX_KEY, "smallest");
            byte[] largest = r.lengthPrefixed(MAX_KEY, "largest");
            long sseq = r.i64("smallest-sequence");
            long lseq = r.i64("largest-sequence");
            if (number <= 0 || size < 0 || smallest.length < 8 || largest.length < 8) {
                throw new MalformedMessageException("expected file " + i + " with number > 0, size >= 0 and internal"
                        + " keys of at least 8 bytes, found " + number + ", " + size + ", " + smallest.length + ", "
                        + largest.length);
            }
            files.add(new CompactedFile(new OutputFile(number, size, smallest, largest, sseq, lseq), crc));
        }
        r.expectEnd("compaction report");
        if (read < 0 || written < 0) {
            throw new MalformedMessageException("expected byte counts >= 0, found " + read + ", " + written);
        }
        return new Report(read, written, files);
    }

    private static void version(int v, String what) throws MalformedMessageException {
        if (v != VERSION) {
            throw new MalformedMessageException("expected compaction " + what + " version " + VERSION + ", found " + v);
        }
    }

    private static byte[] bound(BodyReader r, String what) throws MalformedMessageException {
        int len = r.i32(what + " length");
        if (len == -1) {
            return null;
        }
        if (len < 0 || len > MAX_KEY) {
            throw new MalformedMessageException("expected " + what + " length -1 (unbounded) or in [0, " + MAX_KEY
                    + "], found " + len);
        }
        return r.bytes(len, what);
    }

    private static int count(BodyReader r, int max, String what) throws MalformedMessageException {
        int n = r.i32(what + "-count");
        if (n < 0 || n > max) {
            throw new MalformedMessageException("expected " + what + "-count in [0, " + max + "], found " + n);
        }
        return n;
    }

    private static long[] longs(BodyReader r, int max, String what) throws MalformedMessageException {
        long[] a = new long[count(r, max, what)];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.i64(what);
        }
        return a;
    }
}
