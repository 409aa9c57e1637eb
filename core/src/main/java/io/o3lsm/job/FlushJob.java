package io.o3lsm.job;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One flush: the sealed shards of one key range (possibly several generations) merged into L0 SSTs.
 * A pure function of its inputs plus the file numbers it is handed: shards in, files out; the caller
 * installs them with a VersionEdit. For each user key it keeps the newest entry of every snapshot
 * stripe (the newest entry, plus the newest one visible to each live snapshot). Tombstones and range
 * tombstones are kept: older versions may live in older SSTs. Outputs are cut by
 * {@link OutputBuilder}.
 */
public final class FlushJob {
    private final OutputBuilder out;

    public FlushJob(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones) {
        this.out = new OutputBuilder(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones);
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
            out.writeNewestPerStripe(it, snapshots, -1, RangeTombstoneSet.EMPTY);
        }
        return out.finish();
    }

    /** Deletes whatever this job wrote; used when it failed before install. */
    public void abandon() {
        out.abandon();
    }
}
