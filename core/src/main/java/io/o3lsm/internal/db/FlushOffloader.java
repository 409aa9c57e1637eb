package io.o3lsm.internal.db;

import io.o3lsm.format.RangeTombstone;
import io.o3lsm.internal.db.OffloadResultCheck.Refused;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.job.ProcessLoad;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The owner's side of flush offloading, the alternative <i>execute</i> step of
 * {@link FlushScheduler}: decides whether a pick may be offloaded, hands it to the
 * {@link FlushExecutor} (made lazily from the flush module's provider over the DB's memory-node
 * client, closed at DB close), and turns what comes back into files to install — or into a local
 * flush. Design: {@code docs/design/flush-offload.md}, sections 1, 2, 4 and 6.
 *
 * <p>The rules:
 * <ul>
 * <li>Offload only with {@code Options.flushOffload}, the memory node attached, every input on the
 * memory node ({@code MemShard.remote}), and the inputs' bytes at least
 * {@code flushOffloadMinBytes}; otherwise flush locally (counted as local).</li>
 * <li>Every attempt gets fresh output numbers from the version set, pending in
 * {@link ObsoleteFiles} until installed or released.</li>
 * <li>{@code Local} from the executor: flush locally, counted as local; the numbers were never
 * written and are released.</li>
 * <li>{@code Done}: every file is checked ({@link #validate}) before it is installed; a result that
 * fails a check is refused (counted, logged with the check, the file and the worker), its files are
 * deleted and the pick is flushed locally (a fallback).</li>
 * <li>The executor throws (worker lost, deadline passed, memory node lost): the numbers become
 * orphans (deleted by the running sweep once the deadline has passed again), the pick is submitted
 * once more with fresh numbers if the node is still attached and the DB not closing, then flushed
 * locally (a fallback).</li>
 * </ul>
 *
 * <p>Close: {@link #close} closes the executor before the flush threads are joined; the flush
 * module's executor fails its pending submissions then, so a flush waiting in {@code execute} ends
 * promptly, finds the DB closing and leaves its shards to the WAL. An executor that ignores close
 * holds close up for at most the attempt's deadline.
 *
 * <p>Thread-safe: flush threads call {@link #offload} concurrently (for different ranges).
 */
final class FlushOffloader implements AutoCloseable {
    private final Engine e;
    private final LazyExecutor<FlushExecutor> executor;

    FlushOffloader(Engine e) {
        this.e = e;
        this.executor = new LazyExecutor<>(e, "flush executor", link -> link.flushProvider().create(link.client()));
    }

    /**
     * How {@link #offload} ended. {@code files} non-null: a worker's result, validated, to install
     * ({@code numbers} are the attempt's, to release after the install). Otherwise flush locally;
     * {@code fallback} says whether an offload was attempted and failed.
     */
    record Result(List<FileMetaData> files, long[] numbers, boolean fallback, String worker) {
        static final Result LOCAL = new Result(null, null, false, null);
        static final Result FALLBACK = new Result(null, null, true, null);
    }

    /** No lock held. Offloads the pick if the rules allow it; see the class comment. */
    Result offload(FlushScheduler.Pick p, List<RangeTombstone> tombstones) {
        if (!e.options.flushOffload() || p.inputs.length == 0) {
            return Result.LOCAL;
        }
        DmLink link = e.dm.link();
        if (link == null || !link.connected() || e.closing) {
            return Result.LOCAL;
        }
        List<MemoryNode.RemoteShard> inputs = new ArrayList<>(p.inputs.length);
        long bytes = 0;
        for (MemShard s : p.inputs) {
            MemoryNode.RemoteShard rs = s.remote;
            if (rs == null) {
                return Result.LOCAL; // shipping it first would cost more than flushing it here
            }
            inputs.add(rs);
            bytes += rs.length();
        }
        if (bytes < e.options.flushOffloadMinBytes()) {
            return Result.LOCAL;
        }
        FlushExecutor x = executor.get(link);
        if (x == null) {
            return Result.LOCAL;
        }
        long jobId = e.offloadJobIds.incrementAndGet(); // shared with the other kind of job (Engine)
        long deadlineNanos = e.options.flushOffloadDeadline().toNanos();
        long target = e.options.targetFileSize();
        int count = (int) Math.min(1024, (bytes + target - 1) / target + 2);
        for (int attempt = 1;; attempt++) {
            // reserved durably: a worker may still create these after this DB closed, crashed or reopened,
            // so no later open may hand them out again
            long[] numbers;
            try {
                numbers = e.versions.reserveFileNumbers(count);
            } catch (IOException ex) {
                Engine.LOG.warning("cannot reserve output numbers for an offloaded flush of " + e.dir + " (" + ex
                        + "); flushing locally");
                return Result.LOCAL;
            }
            e.obsolete.addPendingOutputs(numbers);
            FlushExecutor.FlushRequest req = new FlushExecutor.FlushRequest(e.dir.toAbsolutePath(), e.versions.epoch(), jobId, attempt,
                    p.range, inputs, tombstones, p.keep, numbers, target, e.tableOptions.blockSize(),
                    e.tableOptions.restartInterval(), e.tableOptions.compression(), e.tableOptions.bloomBitsPerKey(),
                    e.options.flushOffloadPlacement(), ProcessLoad.get(), bytes, e.options.flushOffloadDeadline(),
                    e.mergeOperatorName(), p.filter, e.familyTables());
            FlushExecutor.Outcome out;
            try {
                out = x.execute(req);
                if (out == null) {
                    throw new IOException("the flush executor returned no outcome");
                }
            } catch (IOException | RuntimeException ex) {
                e.obsolete.orphanOutputs(numbers, deadlineNanos, link); // a zombie may still write them
                boolean again = attempt == 1 && !e.closing && !isClosed() && link.connected();
                Engine.LOG.warning("offloaded flush of shard range " + p.range + " of " + e.dir + " (job " + jobId
                        + ", attempt " + attempt + ") failed: " + ex + (again ? "; submitting it again"
                                : "; flushing it locally"));
                if (again) {
                    continue;
                }
                return Result.FALLBACK;
            }
            if (out instanceof FlushExecutor.Local local) {
                e.obsolete.releasePendingOutputs(numbers); // never handed to a worker
                Engine.LOG.fine("flush of shard range " + p.range + " runs locally: " + local.reason());
                return Result.LOCAL;
            }
            FlushExecutor.Done done = (FlushExecutor.Done) out;
            try {
                return new Result(validate(p.layout(), p.range, inputs, numbers, done), numbers, false,
                        String.valueOf(done.worker()));
            } catch (Refused r) {
                e.stats.offloadResultsRefused.increment();
                Engine.LOG.warning("refused the result of offloaded flush of shard range " + p.range + " of " + e.dir
                        + " (job " + jobId + ", attempt " + attempt + ") from worker " + done.worker() + ": "
                        + r.getMessage() + "; its files are deleted and the range is flushed locally");
                // anything the worker still writes under these numbers goes with the sweep after the deadline
                e.obsolete.discardOutputs(numbers, deadlineNanos, link);
                return Result.FALLBACK;
            }
        }
    }

    /** The result was installed (or the install's edit may be in the MANIFEST): nothing is pending any more. */
    void installed(Result r) {
        e.obsolete.installedOutputs(r.numbers(), r.files(), e.options.flushOffloadDeadline().toNanos(), e.dm.link());
        e.stats.flushesOffloaded.increment();
    }

    /** The install of a validated result failed before its edit could reach the MANIFEST: drop its files. */
    void installFailed(Result r) {
        e.obsolete.discardOutputs(r.numbers(), e.options.flushOffloadDeadline().toNanos(), e.dm.link());
    }

    /**
     * Checks a worker's result before anything of it is installed ({@link OffloadResultCheck}): the
     * range's bounds, the inputs' sequence bounds, and completeness (a flush keeps its newest entry).
     */
    List<FileMetaData> validate(ShardRanges layout, int range, List<MemoryNode.RemoteShard> inputs, long[] numbers,
            FlushExecutor.Done done) throws Refused {
        long minSeq = Long.MAX_VALUE;
        long maxSeq = Long.MIN_VALUE;
        for (MemoryNode.RemoteShard rs : inputs) {
            minSeq = Math.min(minSeq, rs.minSequence());
            maxSeq = Math.max(maxSeq, rs.maxSequence());
        }
        List<OffloadResultCheck.Reported> reported = new ArrayList<>();
        if (done.outputs() != null) {
            for (FlushExecutor.FlushedFile ff : done.outputs()) {
                reported.add(ff == null ? null : new OffloadResultCheck.Reported(ff.file(), ff.crc32c()));
            }
        }
        return OffloadResultCheck.validate(e.fs, e.dir, new OffloadResultCheck.Expect("range " + range,
                layout.lower(range), layout.upper(range), false, minSeq, maxSeq, true), numbers, reported);
    }

    private boolean isClosed() {
        return executor.isClosed();
    }

    /** Close, before the worker threads are joined: closes the executor (which fails pending submissions). */
    @Override
    public void close() {
        executor.close();
    }
}
