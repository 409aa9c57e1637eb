package io.o3lsm.internal.db;

import io.o3lsm.internal.db.OffloadResultCheck.Refused;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionOffloadExecutor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The owner's side of compaction offloading, the alternative <i>execute</i> step of one
 * (sub-)compaction in {@link CompactionScheduler}: hands the job to the
 * {@link CompactionOffloadExecutor} (made lazily from the compaction module's provider over the
 * DB's memory-node client, closed at DB close), and turns what comes back into files to install — or
 * into a local run. Design: {@code docs/design/compaction-offload.md}.
 *
 * <p>The rules (the same as {@link FlushOffloader}'s):
 * <ul>
 * <li>Offload only with {@code Options.compactionOffload}, the memory node attached and the DB not
 * closing; otherwise run locally (counted as local).</li>
 * <li>Every attempt gets fresh output numbers, reserved durably ({@code VersionSet.reserveFileNumbers}:
 * no later open hands them out again) and pending in {@link ObsoleteFiles} until installed or
 * released.</li>
 * <li>{@code Local} from the executor: run locally, counted as local; the numbers were never handed
 * to a compactor and are released.</li>
 * <li>{@code Done}: the result is checked ({@link OffloadResultCheck}: numbers, the part's key
 * bounds, the inputs' sequence bounds, overlap, then per file exists/size/CRC32C/table) before it is
 * installed; a result that fails a check is refused (counted, logged with the check, the file and the
 * compactor), its files are deleted and its numbers orphaned, and the part runs locally (a fallback).
 * An empty result for inputs holding entries is not trusted either: the part runs locally (a
 * fallback, logged at INFO, not counted as refused).</li>
 * <li>The executor throws (compactor lost, deadline passed, memory node lost): the numbers become
 * orphans (a zombie may still write them; deleted by the running sweep once the deadline has passed
 * again), the job is submitted once more with fresh numbers if the node is still attached and the
 * DB not closing, then run locally (a fallback).</li>
 * </ul>
 * Inputs are never deleted by this class: they stay busy in the scheduler until the compaction is
 * installed (or given up), and only an install makes them obsolete.
 *
 * <p>Close: {@link #close} closes the executor before the compaction threads are joined; the
 * compaction module's executor fails its pending submissions then, so a compaction waiting in
 * {@code execute} ends promptly and, the DB closing, is not run locally.
 *
 * <p>Thread-safe: compaction and sub-compaction threads call {@link #offload} concurrently.
 */
final class CompactionOffloader implements AutoCloseable {
    private final Engine e;
    private final LazyExecutor<CompactionOffloadExecutor> executor;

    CompactionOffloader(Engine e) {
        this.e = e;
        this.executor = new LazyExecutor<>(e, "compaction offload executor",
                link -> link.compactionProvider().create(link.client()));
    }

    /**
     * How {@link #offload} ended. {@code files} non-null: a compactor's result, validated, to install
     * ({@code numbers} are the attempt's, to settle with {@link #installed} or {@link #discard}).
     * Otherwise run locally; {@code fallback} says whether an offload was attempted and failed.
     */
    record Result(List<FileMetaData> files, long[] numbers, long bytesRead, long bytesWritten, boolean fallback) {
        static final Result LOCAL = new Result(null, null, 0, 0, false);
        static final Result FALLBACK = new Result(null, null, 0, 0, true);
    }

    /** Whether compactions are offloaded now (the option is on, the node attached, the DB open). */
    boolean enabled() {
        if (!e.options.compactionOffload() || e.closing) {
            return false;
        }
        DmLink link = e.dm.link();
        return link != null && link.connected() && !isClosed();
    }

    /**
     * No lock held. Offloads one (sub-)compaction if the rules allow it; see the class comment.
     *
     * @param what       how log lines name the job
     * @param startLevel the compaction's level (the coordinator serves lower levels first)
     * @param score      the picker's score
     * @param expect     what the outputs must satisfy (the part's bounds, the inputs' sequences)
     * @param count      output numbers to give each attempt
     * @param request    the job for an attempt's output numbers
     */
    Result offload(String what, int startLevel, double score, OffloadResultCheck.Expect expect, int count,
            Function<long[], CompactionRequest> request) {
        if (!enabled()) {
            return Result.LOCAL;
        }
        DmLink link = e.dm.link();
        CompactionOffloadExecutor x = executor.get(link);
        if (x == null) {
            return Result.LOCAL;
        }
        long jobId = e.offloadJobIds.incrementAndGet(); // shared with the other kind of job (Engine)
        long deadlineNanos = e.options.compactionOffloadDeadline().toNanos();
        for (int attempt = 1;; attempt++) {
            // reserved durably: a compactor may still create these after this DB closed, crashed or reopened
            long[] numbers;
            try {
                numbers = e.versions.reserveFileNumbers(count);
            } catch (IOException ex) {
                Engine.LOG.warning("cannot reserve output numbers for an offloaded " + what + " of " + e.dir + " ("
                        + ex + "); compacting locally");
                return attempt == 1 ? Result.LOCAL : Result.FALLBACK;
            }
            e.obsolete.addPendingOutputs(numbers);
            CompactionOffloadExecutor.OffloadRequest req = new CompactionOffloadExecutor.OffloadRequest(
                    request.apply(numbers), jobId, attempt, startLevel, score, e.options.compactionOffloadDeadline());
            CompactionOffloadExecutor.Outcome out;
            try {
                out = x.execute(req);
                if (out == null) {
                    throw new IOException("the compaction offload executor returned no outcome");
                }
            } catch (IOException | RuntimeException ex) {
                e.obsolete.orphanOutputs(numbers, deadlineNanos, link); // a zombie may still write them
                boolean again = attempt == 1 && !e.closing && !isClosed() && link.connected();
                Engine.LOG.warning("offloaded " + what + " of " + e.dir + " (job " + jobId + ", attempt " + attempt
                        + ") failed: " + ex + (again ? "; submitting it again" : "; compacting it locally"));
                if (again) {
                    continue;
                }
                return Result.FALLBACK;
            }
            if (out instanceof CompactionOffloadExecutor.Local local) {
                e.obsolete.releasePendingOutputs(numbers); // never handed to a compactor
                Engine.LOG.fine(what + " of " + e.dir + " runs locally: " + local.reason());
                return attempt == 1 ? Result.LOCAL : Result.FALLBACK;
            }
            CompactionOffloadExecutor.Done done = (CompactionOffloadExecutor.Done) out;
            try {
                List<OffloadResultCheck.Reported> reported = new ArrayList<>();
                if (done.outputs() != null) {
                    for (CompactionOffloadExecutor.CompactedFile cf : done.outputs()) {
                        reported.add(cf == null ? null : new OffloadResultCheck.Reported(cf.file(), cf.crc32c()));
                    }
                }
                List<FileMetaData> files = OffloadResultCheck.validate(e.fs, e.dir, expect, numbers, reported);
                return new Result(files, numbers, done.bytesRead(), done.bytesWritten(), false);
            } catch (OffloadResultCheck.EmptyResult r) {
                // not counted as refused: a compaction whose inputs all vanish is legitimate, but installing
                // an empty edit on a compactor's word would delete every input if it were wrong
                Engine.LOG.info("offloaded " + what + " of " + e.dir + " (job " + jobId + ", attempt " + attempt
                        + ") came back empty from compactor " + done.compactor() + "; it runs locally to confirm");
                e.obsolete.discardOutputs(numbers, deadlineNanos, link);
                return Result.FALLBACK;
            } catch (Refused r) {
                e.stats.compactionResultsRefused.increment();
                Engine.LOG.warning("refused the result of offloaded " + what + " of " + e.dir + " (job " + jobId
                        + ", attempt " + attempt + ") from compactor " + done.compactor() + ": " + r.getMessage()
                        + "; its files are deleted and the job runs locally");
                // anything the compactor still writes under these numbers goes with the sweep after the deadline
                e.obsolete.discardOutputs(numbers, deadlineNanos, link);
                return Result.FALLBACK;
            }
        }
    }

    /** The result's edit is in the MANIFEST: nothing is pending any more; unused numbers become orphans. */
    void installed(Result r) {
        e.obsolete.installedOutputs(r.numbers(), r.files(), e.options.compactionOffloadDeadline().toNanos(),
                e.dm.link());
    }

    /**
     * A validated result will not be installed (another part of its compaction failed): its files
     * are deleted, its numbers orphaned.
     */
    void discard(Result r) {
        e.obsolete.discardOutputs(r.numbers(), e.options.compactionOffloadDeadline().toNanos(), e.dm.link());
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
