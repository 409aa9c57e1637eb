package io.o3lsm.job;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Executes a compaction request in this process: merges the input tables, keeps per user key the
 * newest entry of each snapshot stripe, drops entries a range tombstone of the same stripe covers,
 * drops point and range tombstones at the bottommost level once every snapshot sees them, and writes
 * outputs with {@link OutputBuilder}. Reads input files directly (not through the DB's caches), as a
 * remote worker would. Stateless; thread-safe.
 */
public final class CompactionJob implements CompactionExecutor {
    private final FileSystem fs;
    private final BooleanSupplier cancelled;
    private final boolean exclusive;

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

    @Override
    public CompactionResult execute(CompactionRequest req) throws IOException {
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
            long[] snaps = req.snapshots();
            long oldestSnapshot = snaps.length == 0 ? Long.MAX_VALUE : snaps[0];
            RangeTombstoneSet tset = RangeTombstoneSet.build(tombs, InternalKey.MAX_SEQUENCE);
            List<RangeTombstone> keepTombs = new ArrayList<>();
            for (RangeTombstone t : tombs) {
                if (!(req.bottommost() && t.sequence <= oldestSnapshot)) {
                    keepTombs.add(t);
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
            try (MergingIterator it = new MergingIterator(its)) {
                out.writeNewestPerStripe(it, snaps, req.bottommost() ? oldestSnapshot : -1, tset);
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
}
