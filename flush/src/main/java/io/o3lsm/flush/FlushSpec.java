package io.o3lsm.flush;

import io.o3lsm.Compression;
import io.o3lsm.dm.protocol.BodyReader;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The flush job's spec (owner to worker, opaque to the coordinator) and the worker's report (worker
 * to owner), byte for byte as {@code docs/format/flush-job.md} specifies. All integers little-endian.
 */
public final class FlushSpec {
    /**
     * Version of the spec (2: the merge operator's name, the compaction filter; 3: either may be a
     * family table, {@code o3.cf:...}, see JobFunctions); a decoder refuses any other.
     */
    public static final int VERSION = 3;
    /** Version of the report; a decoder refuses any other. */
    public static final int REPORT_VERSION = 1;
    static final int MAX_SNAPSHOTS = 1 << 20;
    static final int MAX_OUTPUTS = 1 << 16;
    static final int MAX_TOMBSTONES = 1 << 20;
    static final int MAX_KEY = 16 << 20;
    static final int MAX_PATH = 4096;

    private FlushSpec() {
    }

    /** What a worker needs besides the inputs' bytes. */
    public record Spec(int range, String directory, long targetFileSize, int blockSize, int restartInterval,
            Compression compression, int bloomBitsPerKey, long[] snapshots, long[] outputNumbers,
            List<RangeTombstone> tombstones, String mergeOperator, io.o3lsm.spi.CompactionExecutor.Filter filter,
            List<io.o3lsm.spi.CompactionExecutor.FamilyTable> familyTables) {
    }

    /** What a worker reports. */
    public record Report(long bytesRead, long bytesWritten, List<FlushExecutor.FlushedFile> files) {
    }

    public static byte[] encode(FlushExecutor.FlushRequest r) {
        BodyWriter w = new BodyWriter(256 + 8 * (r.snapshots().length + r.outputFileNumbers().length));
        byte[] dir = r.directory().toString().getBytes(StandardCharsets.UTF_8);
        w.i32(VERSION).i32(r.range()).lengthPrefixed(dir).i64(r.targetFileSize()).i32(r.blockSize())
                .i32(r.restartInterval()).i32(r.compression().code).i32(r.bloomBitsPerKey());
        w.i32(r.snapshots().length);
        for (long s : r.snapshots()) {
            w.i64(s);
        }
        w.i32(r.outputFileNumbers().length);
        for (long n : r.outputFileNumbers()) {
            w.i64(n);
        }
        w.i32(r.tombstones().size());
        for (RangeTombstone t : r.tombstones()) {
            w.lengthPrefixed(t.start).lengthPrefixed(t.end).i64(t.sequence);
        }
        io.o3lsm.dm.protocol.JobFunctions.write(w, r.mergeOperator(), r.filter(), r.familyTables());
        return w.toByteArray();
    }

    public static Spec decodeSpec(byte[] b) throws MalformedMessageException {
        BodyReader r = new BodyReader(new UnsafeBuffer(b), 0, b.length);
        version(r.i32("version"));
        int range = r.i32("range");
        String dir = new String(r.lengthPrefixed(MAX_PATH, "directory"), StandardCharsets.UTF_8);
        long target = r.i64("target-file-size");
        int block = r.i32("block-size");
        int restart = r.i32("restart-interval");
        int comp = r.i32("compression");
        int bloom = r.i32("bloom-bits-per-key");
        long[] snaps = longs(r, MAX_SNAPSHOTS, "snapshot");
        long[] outs = longs(r, MAX_OUTPUTS, "output-number");
        int n = count(r, MAX_TOMBSTONES, "tombstone");
        List<RangeTombstone> tombs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            tombs.add(new RangeTombstone(r.lengthPrefixed(MAX_KEY, "tombstone start"),
                    r.lengthPrefixed(MAX_KEY, "tombstone end"), r.i64("tombstone sequence")));
        }
        io.o3lsm.dm.protocol.JobFunctions.Read fn = io.o3lsm.dm.protocol.JobFunctions.read(r);
        String merge = fn.mergeOperator();
        io.o3lsm.spi.CompactionExecutor.Filter filter = fn.filter();
        r.expectEnd("flush spec");
        Compression c = null;
        for (Compression x : Compression.values()) {
            if (x.code == comp) {
                c = x;
            }
        }
        if (c == null || range < 0 || dir.isEmpty() || target <= 0 || block <= 0 || restart <= 0 || bloom < 0
                || outs.length == 0) {
            throw new MalformedMessageException("expected a known compression, range >= 0, a directory, sizes > 0,"
                    + " bloom bits >= 0 and at least one output number; found compression " + comp + ", range " + range
                    + ", directory '" + dir + "', target " + target + ", block " + block + ", restart " + restart
                    + ", bloom " + bloom + ", " + outs.length + " output number(s)");
        }
        return new Spec(range, dir, target, block, restart, c, bloom, snaps, outs, tombs,
                merge, filter, fn.familyTables());
    }

    public static byte[] encode(Report rep) {
        BodyWriter w = new BodyWriter(64 + 128 * rep.files().size());
        w.i32(REPORT_VERSION).i64(rep.bytesRead()).i64(rep.bytesWritten()).i32(rep.files().size());
        for (FlushExecutor.FlushedFile f : rep.files()) {
            OutputFile o = f.file();
            w.i64(o.number()).i64(o.size()).i32(f.crc32c()).lengthPrefixed(o.smallest()).lengthPrefixed(o.largest())
                    .i64(o.smallestSequence()).i64(o.largestSequence());
        }
        return w.toByteArray();
    }

    public static Report decodeReport(byte[] b) throws MalformedMessageException {
        BodyReader r = new BodyReader(new UnsafeBuffer(b), 0, b.length);
        int v = r.i32("version");
        if (v != REPORT_VERSION) {
            throw new MalformedMessageException("expected flush report version " + REPORT_VERSION + ", found " + v);
        }
        long read = r.i64("bytes-read");
        long written = r.i64("bytes-written");
        int n = count(r, MAX_OUTPUTS, "file");
        List<FlushExecutor.FlushedFile> files = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long number = r.i64("number");
            long size = r.i64("size");
            int crc = r.i32("crc32c");
            byte[] smallest = r.lengthPrefixed(MAX_KEY, "smallest");
            byte[] largest = r.lengthPrefixed(MAX_KEY, "largest");
            long sseq = r.i64("smallest-sequence");
            long lseq = r.i64("largest-sequence");
            files.add(new FlushExecutor.FlushedFile(new OutputFile(number, size, smallest, largest, sseq, lseq), crc));
        }
        r.expectEnd("flush report");
        return new Report(read, written, files);
    }

    private static void version(int v) throws MalformedMessageException {
        if (v != VERSION) {
            throw new MalformedMessageException("expected flush spec version " + VERSION + ", found " + v);
        }
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
