package io.o3lsm.job;

import io.o3lsm.MergeOperator;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * One flush: the sealed shards of one key range (possibly several generations) merged into L0 SSTs.
 * A pure function of its inputs plus the file numbers it is handed: shards in, files out; the caller
 * installs them with a VersionEdit. For each user key it keeps the newest entry of every snapshot
 * stripe (the newest entry, plus the newest one visible to each live snapshot). Tombstones and range
 * tombstones are kept: older versions may live in older SSTs. Outputs are cut by
 * {@link OutputBuilder}.
 *
 * <p>The owner runs it in-process (outputs created with {@link FileSystem#newWritableFile}); a flush
 * worker runs the same code on the same shard bytes with {@code exclusive} creation and a
 * cancellation signal ({@link #FlushJob(FileSystem, Path, TableOptions, long, LongSupplier, List,
 * boolean, BooleanSupplier)}), handing out the job's pre-allocated numbers with
 * {@link #fileNumbers(long[])}. Not thread-safe.
 */
public final class FlushJob {
    private final OutputBuilder out;
    private final RangeTombstoneSet mergeCovering;
    private MergeOperator mergeOperator;
    private JobFilter filter;

    /** The owner's local flush: outputs are created (truncating) with {@link FileSystem#newWritableFile}. */
    public FlushJob(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones) {
        this(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones, false, () -> false);
    }

    /**
     * @param exclusive create every output with {@link FileSystem#newWritableFileExclusive}: an output
     *                  whose file exists fails {@link #run} with
     *                  {@link java.nio.file.FileAlreadyExistsException} (never overwrites)
     * @param cancelled polled every {@value OutputBuilder#CANCEL_CHECK_INTERVAL} entries; once true,
     *                  {@link #run} throws {@link JobCancelledException} (call {@link #abandon} then)
     */
    public FlushJob(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones, boolean exclusive, BooleanSupplier cancelled) {
        this.out = new OutputBuilder(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones, exclusive,
                cancelled);
        this.mergeCovering = tombstones.isEmpty() ? RangeTombstoneSet.EMPTY
                : RangeTombstoneSet.build(tombstones, io.o3lsm.format.InternalKey.MAX_SEQUENCE);
    }

    /**
     * The operator that combines merge operands (see {@link OutputBuilder#writeNewestPerStripe});
     * null (the default) keeps every operand as it is. Returns this job.
     */
    /** A family-aware DB's families and their table options ({@link io.o3lsm.spi.CompactionExecutor.FamilyTable}). */
    public FlushJob familyTables(List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables) {
        out.familyTables(tables);
        return this;
    }

    public FlushJob mergeOperator(MergeOperator op) {
        this.mergeOperator = op;
        return this;
    }

    /**
     * The compaction filter this flush applies ({@code Options.compactionFilterOnFlush}), as
     * {@code spec} describes it ({@code filter} is the filter it names); null (the default) applies
     * none. Returns this job.
     */
    public FlushJob compactionFilter(io.o3lsm.CompactionFilter filter, io.o3lsm.spi.CompactionExecutor.Filter spec) {
        this.filter = filter == null || spec == null ? null : new JobFilter(filter,
                new io.o3lsm.CompactionFilter.Context(0, false, true, null, null, spec.nowMillis()),
                spec.newestSnapshot());
        return this;
    }

    /**
     * Hands out {@code numbers} in order (a job's pre-allocated output numbers); asking for more
     * than there are throws {@link IllegalStateException} (the job needs more outputs than its owner
     * allotted: it fails, and the owner flushes locally).
     */
    public static LongSupplier fileNumbers(long[] numbers) {
        long[] copy = numbers.clone();
        int[] next = {0};
        return () -> {
            if (next[0] >= copy.length) {
                throw new IllegalStateException("the job needs more than its " + copy.length
                        + " pre-allocated output file numbers");
            }
            return copy[next[0]++];
        };
    }

    /**
     * @param sources   iterators over the input shards, newest first
     * @param snapshots sequences that must stay readable (live snapshots and the published last
     *                  sequence), ascending
     */
    public List<OutputFile> run(List<InternalIterator> sources, long[] snapshots) throws IOException {
        try (MergingIterator it = new MergingIterator(sources)) {
            // point tombstones stay (older versions may live in older SSTs); range tombstones travel
            // separately, in every output's own block
            out.writeNewestPerStripe(it, snapshots, -1, RangeTombstoneSet.EMPTY, mergeCovering, mergeOperator, filter);
        }
        return out.finish();
    }

    /** Where output {@code number} of a job writing into {@code dir} lives (the SST naming rule). */
    public static Path outputPath(Path dir, long number) {
        return dir.resolve(io.o3lsm.internal.db.FileNames.table(number));
    }

    /** Bytes of the output files written so far (all of them once {@link #run} returned). */
    public long bytesWritten() {
        return out.bytesWritten;
    }

    /** Deletes whatever this job wrote (only files it created itself); used when it failed before install. */
    public void abandon() {
        out.abandon();
    }
}
