package io.o3lsm.job;

import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.agrona.DirectBuffer;

/**
 * Executes a compaction request in this process: merges the input tables, keeps per user key the
 * newest entry of each snapshot stripe, drops entries a range tombstone of the same stripe covers,
 * drops point and range tombstones at the bottommost level once every snapshot sees them, and writes
 * outputs with {@link OutputBuilder}. Reads input files directly (not through the DB's caches), as a
 * remote worker would. Stateless; thread-safe.
 *
 * <p><b>Sub-compactions.</b> A request with {@code lowerBound} (inclusive) and/or {@code upperBound}
 * (exclusive) covers one key range of its compaction: the merge starts at the first entry of
 * {@code lowerBound} (a seek, not a scan) and stops before the first entry of {@code upperBound};
 * the range tombstones written to the outputs are clipped to {@code [lowerBound, upperBound)}. Point
 * entries inside the bounds are still dropped by any tombstone that covers them, wherever it starts.
 * The outputs of the sub-compactions of one partition of the key space therefore hold exactly what
 * one unbounded run would, cut at the bounds, and never overlap one another (an output's largest key
 * may be {@code upperBound} only as a tombstone's exclusive end).
 */
public final class CompactionJob implements CompactionExecutor {
    private final FileSystem fs;
    private final BooleanSupplier cancelled;
    private final boolean exclusive;
    private volatile MergeOperator local;
    private volatile io.o3lsm.CompactionFilter localFilter;

    /** A job that always runs to the end. */
    public CompactionJob(FileSystem fs) {
        this(fs, () -> false);
    }

    /**
     * A job that gives up with {@link JobCancelledException} (deleting its outputs) once
     * {@code cancelled} returns true; it is polled every {@link OutputBuilder#CANCEL_CHECK_INTERVAL}
     * entries, so a closing DB does not wait for a whole compaction.
     */
    public CompactionJob(FileSystem fs, BooleanSupplier cancelled) {
        this(fs, false, cancelled);
    }

    /**
     * @param exclusive create every output with {@link FileSystem#newWritableFileExclusive}: an
     *                  output that exists already fails the job instead of being overwritten (a
     *                  compactor's attempt can then never replace a file another attempt wrote)
     * @param cancelled as for {@link #CompactionJob(FileSystem, BooleanSupplier)}
     */
    public CompactionJob(FileSystem fs, boolean exclusive, BooleanSupplier cancelled) {
        if (fs == null || cancelled == null) {
            throw new IllegalArgumentException((fs == null ? "fs" : "cancelled") + " must not be null");
        }
        this.fs = fs;
        this.cancelled = cancelled;
        this.exclusive = exclusive;
    }

    /**
     * The job's merge operator: none when the request names none; the DB's own instance when it is
     * the one named ({@link #withMergeOperator}); otherwise found by name on this process's class
     * path ({@link MergeOperators#byName}), failing the job with a message naming it when absent.
     */
    private MergeOperator mergeOperator(String name) {
        if (name == null) {
            return null;
        }
        if (local != null && (name.equals(local.name())
                || (local instanceof io.o3lsm.internal.util.FamilyFunctions.Merge
                        && io.o3lsm.internal.util.FamilyFunctions.isTable(name)))) {
            // a family-aware DB's own table: families created since the job was planned only add entries
            return local;
        }
        try {
            return MergeOperators.byName(name, null);
        } catch (IllegalArgumentException ex) {
            throw new IllegalStateException("compaction job cannot run here: " + ex.getMessage(), ex);
        }
    }

    /** This job, using {@code op} for requests that name it (the owner's local compactions). */
    public CompactionJob withMergeOperator(MergeOperator op) {
        this.local = op;
        return this;
    }

    /**
     * The job's compaction filter: none when the request names none; the DB's own instance when it
     * is the one named ({@link #withCompactionFilter}); otherwise found by name on this process's
     * class path ({@link io.o3lsm.CompactionFilters#byName}), failing the job with a message naming
     * it when absent.
     */
    private io.o3lsm.CompactionFilter compactionFilter(String name) {
        io.o3lsm.CompactionFilter f = localFilter;
        if (f != null && (name.equals(f.name()) || (f instanceof io.o3lsm.internal.util.FamilyFunctions.Filter
                && io.o3lsm.internal.util.FamilyFunctions.isTable(name)))) {
            return f;
        }
        try {
            return io.o3lsm.CompactionFilters.byName(name, null);
        } catch (IllegalArgumentException ex) {
            throw new IllegalStateException("compaction job cannot run here: " + ex.getMessage(), ex);
        }
    }

    /** This job, using {@code f} for requests that name it (the owner's local compactions). */
    public CompactionJob withCompactionFilter(io.o3lsm.CompactionFilter f) {
        this.localFilter = f;
        return this;
    }

    /** The request's filter with its context, or null. */
    private JobFilter jobFilter(CompactionRequest req, List<TableReader> readers) {
        CompactionExecutor.Filter spec = req.filter();
        if (spec == null) {
            return null;
        }
        byte[] smallest = req.lowerBound();
        byte[] largest = null;
        for (TableReader r : readers) {
            byte[] s = userKey(r.properties().smallestKey());
            byte[] l = userKey(r.properties().largestKey());
            if (s != null && req.lowerBound() == null && (smallest == null || Bytes.compare(s, smallest) < 0)) {
                smallest = s;
            }
            if (l != null && (largest == null || Bytes.compare(l, largest) > 0)) {
                largest = l;
            }
        }
        return new JobFilter(compactionFilter(spec.name()), new io.o3lsm.CompactionFilter.Context(req.outputLevel(),
                req.bottommost(), false, smallest, largest, spec.nowMillis()), spec.newestSnapshot());
    }

    private static byte[] userKey(byte[] internalKey) {
        return internalKey == null || internalKey.length < InternalKey.TRAILER_SIZE ? null
                : java.util.Arrays.copyOf(internalKey, internalKey.length - InternalKey.TRAILER_SIZE);
    }

    @Override
    public CompactionResult execute(CompactionRequest req) throws IOException {
        byte[] lower = req.lowerBound();
        byte[] upper = req.upperBound();
        if (lower != null && upper != null && Bytes.compare(lower, upper) >= 0) {
            throw new IllegalArgumentException("CompactionRequest.lowerBound " + HexFormat.of().formatHex(lower)
                    + " must be below upperBound " + HexFormat.of().formatHex(upper));
        }
        Path dir = req.directory();
        List<TableReader> readers = new ArrayList<>();
        OutputBuilder out = null;
        boolean ok = false;
        try {
            long bytesRead = 0;
            List<InternalIterator> its = new ArrayList<>();
            List<RangeTombstone> tombs = new ArrayList<>();
            for (InputFile in : req.inputs()) {
                Path p = dir.resolve(FileNames.table(in.number()));
                FileSystem.ReadableFile f = fs.newReadableFile(p);
                TableReader r = TableReader.open(f, p.toString(), in.number(), null);
                readers.add(r);
                its.add(r.iterator(false, true));
                tombs.addAll(r.rangeTombstones());
                bytesRead += in.size();
            }
            JobFilter filter = jobFilter(req, readers);
            long[] snaps = req.snapshots();
            long oldestSnapshot = snaps.length == 0 ? Long.MAX_VALUE : snaps[0];
            RangeTombstoneSet tset = RangeTombstoneSet.build(tombs, InternalKey.MAX_SEQUENCE);
            List<RangeTombstone> keepTombs = new ArrayList<>();
            for (RangeTombstone t : tombs) {
                if (!(req.bottommost() && t.sequence <= oldestSnapshot)) {
                    RangeTombstone c = clip(t, lower, upper);
                    if (c != null) {
                        keepTombs.add(c);
                    }
                }
            }
            long[] numbers = req.outputFileNumbers();
            int[] next = {0};
            out = new OutputBuilder(fs, dir, new TableOptions(req.blockSize(), req.restartInterval(),
                    req.compression(), req.bloomBitsPerKey()), req.targetFileSize(), () -> {
                        if (next[0] >= numbers.length) {
                            throw new IllegalStateException("compaction ran out of its " + numbers.length
                                    + " pre-allocated output file numbers");
                        }
                        return numbers[next[0]++];
                    }, keepTombs, exclusive, cancelled);
            out.familyTables(req.familyTables());
            try (InternalIterator it = bounded(new MergingIterator(its), lower, upper)) {
                out.writeNewestPerStripe(it, snaps, req.bottommost() ? oldestSnapshot : -1, tset, tset,
                        mergeOperator(req.mergeOperator()), filter);
            }
            List<OutputFile> outputs = out.finish();
            ok = true;
            return new CompactionResult(outputs, bytesRead, out.bytesWritten);
        } finally {
            for (TableReader r : readers) {
                try {
                    r.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
            if (!ok && out != null) {
                out.abandon();
            }
        }
    }

    /** {@code t} cut to {@code [lower, upper)} (null = unbounded), or null if nothing of it lies inside. */
    static RangeTombstone clip(RangeTombstone t, byte[] lower, byte[] upper) {
        byte[] s = lower != null && Bytes.compare(t.start, lower) < 0 ? lower : t.start;
        byte[] e = upper != null && Bytes.compare(t.end, upper) > 0 ? upper : t.end;
        if (Bytes.compare(s, e) >= 0) {
            return null;
        }
        return s == t.start && e == t.end ? t : new RangeTombstone(s, e, t.sequence);
    }

    /** {@code it} seen only between the user keys {@code [lower, upper)} (null = unbounded); {@code it} itself when unbounded. */
    static InternalIterator bounded(InternalIterator it, byte[] lower, byte[] upper) {
        return lower == null && upper == null ? it : new BoundedIterator(it, lower, upper);
    }

    /**
     * A view of an internal iterator confined to the user keys {@code [lower, upper)}: positioning
     * calls are clamped to the bounds, and the view is invalid outside them. Not thread-safe.
     */
    private static final class BoundedIterator implements InternalIterator {
        private final InternalIterator it;
        private final byte[] lower;
        private final byte[] upper;
        /** The first internal key of {@code lower} / of {@code upper} (null when unbounded). */
        private final byte[] lowerSeek;
        private final byte[] upperSeek;

        BoundedIterator(InternalIterator it, byte[] lower, byte[] upper) {
            this.it = it;
            this.lower = lower;
            this.upper = upper;
            this.lowerSeek = lower == null ? null : InternalKey.seekKey(lower, InternalKey.MAX_SEQUENCE);
            this.upperSeek = upper == null ? null : InternalKey.seekKey(upper, InternalKey.MAX_SEQUENCE);
        }

        @Override
        public boolean isValid() {
            if (!it.isValid()) {
                return false;
            }
            DirectBuffer k = it.key();
            int ulen = k.capacity() - InternalKey.TRAILER_SIZE;
            return (lower == null || Bytes.compare(k, 0, ulen, lower, 0, lower.length) >= 0)
                    && (upper == null || Bytes.compare(k, 0, ulen, upper, 0, upper.length) < 0);
        }

        @Override
        public void seekToFirst() {
            if (lowerSeek == null) {
                it.seekToFirst();
            } else {
                it.seek(lowerSeek);
            }
        }

        @Override
        public void seekToLast() {
            if (upperSeek == null) {
                it.seekToLast();
                return;
            }
            it.seek(upperSeek);
            if (it.isValid()) {
                it.prev();
            } else {
                it.seekToLast();
            }
        }

        @Override
        public void seek(byte[] targetInternalKey) {
            it.seek(lowerSeek != null && InternalKey.compare(targetInternalKey, lowerSeek) < 0 ? lowerSeek
                    : targetInternalKey);
        }

        @Override
        public void next() {
            it.next();
        }

        @Override
        public void prev() {
            it.prev();
        }

        @Override
        public DirectBuffer key() {
            return it.key();
        }

        @Override
        public DirectBuffer value() {
            return it.value();
        }

        @Override
        public void close() {
            it.close();
        }
    }
}
