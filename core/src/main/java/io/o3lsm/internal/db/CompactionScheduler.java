package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.internal.util.OwnedThreads;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.job.JobCancelledException;
import io.o3lsm.spi.CompactionExecutor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Compactions: background ones picked by {@link CompactionPicker} (pure policy) while there is work
 * and a free thread, and manual ones ({@code compactRange}) that run in the caller's thread while no
 * background compaction runs. A job's files are marked busy for its duration (until its install, or
 * until it is given up). Execution: a large compaction is split into sub-compactions by key range
 * ({@link SubcompactionPlanner}, with {@code Options.maxSubcompactions}) that run in parallel; each
 * part is offloaded to a compactor ({@link CompactionOffloader}, with {@code Options.compactionOffload})
 * or runs here behind the {@link CompactionExecutor} SPI (in-process {@link CompactionJob} by
 * default). Every part's outputs are installed together, in one edit, by {@link VersionInstaller};
 * if a part fails, the others' outputs are deleted and nothing is installed. Design:
 * {@code docs/design/compaction-offload.md}.
 *
 * <p>Locks: {@link #busyFiles}, {@link #running} and {@link #manual} are guarded by
 * {@code Engine.mutex}; {@link #manualLock} lets one manual compaction run at a time (taken before
 * the mutex). Parts run with no lock held; the compaction's thread waits for its parts without a lock.
 */
final class CompactionScheduler {
    private final Engine e;
    private final CompactionPicker picker;
    private final CompactionExecutor executor;
    private final ExecutorService pool;
    private final OwnedThreads threads;
    /**
     * Threads for the second and later parts of a split compaction (the first runs in the
     * compaction's own thread); null unless {@code maxSubcompactions > 1}. Parts never submit
     * further parts, so waiting for them cannot deadlock.
     */
    private final ExecutorService subPool;
    private final OwnedThreads subThreads;
    private final ReentrantLock manualLock = new ReentrantLock();
    // guarded by mutex
    private final Set<Long> busyFiles = new HashSet<>();
    private int running;
    private int manual;

    CompactionScheduler(Engine e) {
        this.e = e;
        this.picker = new CompactionPicker(e.options.level0CompactionTrigger(), e.options.maxBytesForLevelBase(),
                e.options.levelSizeMultiplier());
        this.executor = e.options.compactionExecutor() != null ? e.options.compactionExecutor()
                : new CompactionJob(e.compactionFs, () -> e.closing).withMergeOperator(e.options.mergeOperator())
                        .withCompactionFilter(e.compactionFilter);
        this.threads = new OwnedThreads("o3lsm-compaction", e.dir.toString());
        this.pool = Executors.newFixedThreadPool(e.options.maxBackgroundCompactions(), threads);
        if (e.options.maxSubcompactions() > 1) {
            this.subThreads = new OwnedThreads("o3lsm-subcompaction", e.dir.toString());
            this.subPool = Executors.newFixedThreadPool(e.options.maxSubcompactions() - 1, subThreads);
        } else {
            this.subThreads = null;
            this.subPool = null;
        }
    }

    /** The compaction threads; they also run obsolete-file deletion ({@link ObsoleteFiles}). */
    ExecutorService pool() {
        return pool;
    }

    /**
     * Close, or a failed open (after {@code closing} is set): takes no new work and waits until every
     * compaction thread has terminated. The default job ({@link CompactionJob}) sees {@code closing}
     * between entries and gives up (its inputs stay live, its outputs are deleted); a custom
     * {@link CompactionExecutor} is waited for.
     */
    void stop() {
        pool.shutdown();
        if (subPool != null) {
            subPool.shutdown();
        }
        threads.join(30);
        if (subThreads != null) {
            subThreads.join(30);
        }
    }

    /** Compaction threads still alive (for tests). */
    List<Thread> liveThreads() {
        List<Thread> out = new ArrayList<>(threads.alive());
        if (subThreads != null) {
            out.addAll(subThreads.alive());
        }
        return out;
    }

    /** {@link CompactionPicker#pendingBytes} of the current version. Any thread. */
    long pendingBytes() {
        return picker.pendingBytes(e.versions.current());
    }

    /** REQUIRES: mutex held. Compactions running now: background ones, and manual {@code compactRange} calls in progress. */
    int running() {
        return running + manual;
    }

    /** REQUIRES: mutex held. Starts background compactions while there is work and a free thread. */
    void maybeSchedule() {
        while (!e.passive && !e.closing && e.bgError == null && manual == 0
                && running < e.options.maxBackgroundCompactions()) {
            Compaction c = picker.pick(e.versions.current(), busyFiles);
            if (c == null) {
                return;
            }
            for (FileMetaData f : c.all()) {
                busyFiles.add(f.number);
            }
            running++;
            pool.execute(() -> backgroundCompaction(c));
        }
    }

    private void backgroundCompaction(Compaction c) {
        Throwable error = null;
        try {
            run(c, false);
        } catch (Throwable t) {
            error = t;
        }
        e.mutex.lock();
        try {
            for (FileMetaData f : c.all()) {
                busyFiles.remove(f.number);
            }
            running--;
            if (error != null && !e.closing) {
                e.setBackgroundError(new O3Exception("compaction " + c + " in " + e.dir + " failed; the DB refuses "
                        + "further writes until reopened (no data is lost: inputs stay live): " + error, error),
                        io.o3lsm.EventListener.ErrorSource.COMPACTION);
            } else if (error instanceof JobCancelledException) {
                Engine.LOG.fine("compaction " + c + " in " + e.dir + " stopped because the DB closes: " + error);
            } else if (error != null) {
                Engine.LOG.warning("compaction " + c + " in " + e.dir + " failed while closing (inputs stay live): "
                        + error);
            }
            e.slowdownMaybeOver();
            maybeSchedule();
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }

    /** Where a part of a compaction ran (for the counters by place). */
    private enum Place {
        LOCAL, OFFLOADED, FALLBACK
    }

    /**
     * One finished part: its files (not yet installed), where it ran, its bytes moved, and for an
     * offloaded part the offloader's result (its numbers are pending until installed or discarded).
     */
    private record PartResult(List<FileMetaData> files, Place place, long bytesRead, long bytesWritten,
            CompactionOffloader.Result offloaded) {
    }

    /**
     * Runs one compaction (the caller has marked its files busy) and installs the result. No lock
     * held. A compaction large enough is split into sub-compactions ({@link SubcompactionPlanner})
     * that run in parallel — the first in this thread, the others on the sub-compaction threads —
     * each locally or offloaded ({@link CompactionOffloader}); their outputs are installed in one
     * VersionEdit, and only if every part succeeded. If one fails, the outputs of the others are
     * deleted and the failure is reported as before: the inputs stay live.
     */
    private void run(Compaction c, boolean manual) throws IOException {
        long started = System.nanoTime();
        if (!e.listeners.active()) {
            runJob(c, started);
            return;
        }
        long jobId = e.listenerJobIds.incrementAndGet();
        List<io.o3lsm.EventListener.TableFileInfo> inputs = new ArrayList<>(
                FlushScheduler.tableInfos(e, c.level, c.inputs));
        inputs.addAll(FlushScheduler.tableInfos(e, c.outputLevel, c.overlapping));
        io.o3lsm.EventListener.CompactionReason reason = manual ? io.o3lsm.EventListener.CompactionReason.MANUAL
                : c.level == 0 ? io.o3lsm.EventListener.CompactionReason.LEVEL0_FILES
                : io.o3lsm.EventListener.CompactionReason.LEVEL_SIZE;
        io.o3lsm.EventListener.CompactionJobInfo begin = new io.o3lsm.EventListener.CompactionJobInfo(jobId, c.level,
                c.outputLevel, inputs, List.of(), 0, 0, reason, c.isTrivialMove(), 0, null, 0, null);
        e.listeners.post(l -> l.onCompactionBegin(begin));
        Outcome o = null;
        Throwable error = null;
        try {
            o = runJob(c, started);
        } catch (Throwable t) {
            error = t;
            throw t;
        } finally {
            if (o != null && !o.installed()) {
                error = new O3Exception("compaction " + c + " not installed: a snapshot taken meanwhile could see "
                        + "what its compaction filter did; its inputs stay live and are compacted again");
            }
            boolean ok = error == null;
            io.o3lsm.EventListener.CompactionJobInfo end = new io.o3lsm.EventListener.CompactionJobInfo(jobId,
                    c.level, c.outputLevel, inputs, ok ? FlushScheduler.tableInfos(e, c.outputLevel, o.outputs())
                            : List.of(), o == null ? 0 : o.bytesRead(), o == null ? 0 : o.bytesWritten(), reason,
                    c.isTrivialMove(), o == null ? 0 : o.parts(), ok ? o.place() : null, System.nanoTime() - started,
                    error);
            e.listeners.post(l -> l.onCompactionCompleted(end));
        }
    }

    /** How one compaction ended, for listeners: its outputs (installed unless {@code installed} is false). */
    private record Outcome(List<FileMetaData> outputs, long bytesRead, long bytesWritten,
            io.o3lsm.EventListener.Place place, int parts, boolean installed) {
    }

    private Outcome runJob(Compaction c, long started) throws IOException {
        VersionEdit edit = new VersionEdit();
        if (c.isTrivialMove()) {
            FileMetaData f = c.inputs.get(0);
            edit.deleteFile(c.level, f.number);
            edit.addFile(c.outputLevel, f);
            e.installer.installCompaction(edit, List.of());
            e.stats.compactionsLocal.increment();
            e.stats.compactionNanos.record(System.nanoTime() - started);
            return new Outcome(List.of(f), 0, 0, io.o3lsm.EventListener.Place.LOCAL, 1, true);
        }
        long[] keep;
        CompactionExecutor.Filter jf;
        e.mutex.lock();
        try {
            keep = e.snapshots.toKeep();
            jf = e.jobFilter(false);
        } finally {
            e.mutex.unlock();
        }
        // a custom executor may ignore sub-compaction bounds, so only the built-in job is split
        List<byte[]> cuts = subPool == null || e.options.compactionExecutor() != null ? List.of()
                : SubcompactionPlanner.cuts(c, e.options.maxSubcompactions(), e.options.targetFileSize());
        List<SubcompactionPlanner.Part> parts = new ArrayList<>();
        for (SubcompactionPlanner.Part p : SubcompactionPlanner.plan(c, cuts)) {
            if (!p.inputs().isEmpty() || !p.overlapping().isEmpty()) {
                parts.add(p);
            }
        }
        List<PartResult> done = new ArrayList<>();
        Throwable failure = null;
        if (parts.size() == 1) {
            try {
                done.add(runPart(c, parts.get(0), parts.size(), keep, jf));
            } catch (Throwable t) {
                failure = t;
            }
        } else {
            List<Future<PartResult>> others = new ArrayList<>();
            for (int i = 1; i < parts.size(); i++) {
                SubcompactionPlanner.Part p = parts.get(i);
                try {
                    others.add(subPool.submit(() -> runPart(c, p, parts.size(), keep, jf)));
                } catch (RejectedExecutionException ex) { // closing
                    failure = new JobCancelledException("sub-compaction " + p.index() + " not started: the DB closes");
                    break;
                }
            }
            if (failure == null) {
                try {
                    done.add(runPart(c, parts.get(0), parts.size(), keep, jf));
                } catch (Throwable t) {
                    failure = t;
                }
            }
            for (Future<PartResult> f : others) { // every part has ended before anything is installed or deleted
                try {
                    done.add(getUninterruptibly(f));
                } catch (ExecutionException ex) {
                    if (failure == null || failure instanceof JobCancelledException) {
                        failure = ex.getCause();
                    }
                }
            }
        }
        if (failure != null) {
            discard(done);
            if (failure instanceof IOException io) {
                throw io;
            }
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error err) {
                throw err;
            }
            throw new IOException(failure);
        }
        long bytesRead = 0;
        long bytesWritten = 0;
        boolean anyFallback = false;
        boolean anyLocal = false;
        for (PartResult r : done) {
            for (FileMetaData f : r.files()) {
                edit.addFile(c.outputLevel, f);
            }
            bytesRead += r.bytesRead();
            bytesWritten += r.bytesWritten();
            anyFallback |= r.place() == Place.FALLBACK;
            anyLocal |= r.place() == Place.LOCAL;
        }
        for (FileMetaData f : c.inputs) {
            edit.deleteFile(c.level, f.number);
        }
        for (FileMetaData f : c.overlapping) {
            edit.deleteFile(c.outputLevel, f.number);
        }
        // an offloaded part's numbers stay pending if the install fails: the edit may be in the
        // MANIFEST, so its files must not be swept (the next open's sweep collects them otherwise)
        if (!e.installer.installCompaction(edit, c.all(), jf)) {
            // a snapshot appeared that could see what the filter did: the inputs stay, to be picked again
            discard(done);
            return new Outcome(List.of(), 0, 0, null, parts.size(), false);
        }
        for (PartResult r : done) {
            if (r.offloaded() != null) {
                e.compactionOffloader.installed(r.offloaded());
            }
        }
        e.stats.compactionBytesRead.add(bytesRead);
        e.stats.compactionBytesWritten.add(bytesWritten);
        if (parts.size() > 1) {
            e.stats.splitCompactions.increment();
            e.stats.subcompactions.add(parts.size());
        }
        (anyFallback ? e.stats.compactionsFallback : anyLocal ? e.stats.compactionsLocal
                : e.stats.compactionsOffloaded).increment();
        e.stats.compactionNanos.record(System.nanoTime() - started);
        List<FileMetaData> outputs = new ArrayList<>();
        for (PartResult r : done) {
            outputs.addAll(r.files());
        }
        return new Outcome(outputs, bytesRead, bytesWritten, anyFallback ? io.o3lsm.EventListener.Place.FALLBACK
                : anyLocal ? io.o3lsm.EventListener.Place.LOCAL : io.o3lsm.EventListener.Place.OFFLOADED,
                parts.size(), true);
    }

    private CompactionExecutor.CompactionRequest request(java.nio.file.Path dir, Compaction c,
            SubcompactionPlanner.Part p, List<CompactionExecutor.InputFile> inputs, long[] keep, long[] numbers,
            CompactionExecutor.Filter jf) {
        return new CompactionExecutor.CompactionRequest(dir, e.versions.epoch(), inputs, c.outputLevel, c.bottommost,
                keep, numbers, e.options.targetFileSize(), e.options.blockSize(), e.options.blockRestartInterval(),
                e.options.compression(), e.options.bloomBitsPerKey(), p.lower(), p.upper(), e.mergeOperatorName(), jf,
                e.familyTables());
    }

    /** The part's result, waiting through interrupts (the part must end before its compaction does). */
    private static PartResult getUninterruptibly(Future<PartResult> f) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException ex) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Deletes the outputs of parts that finished when another part failed (nothing of them is installed). */
    private void discard(List<PartResult> done) {
        for (PartResult r : done) {
            if (r.offloaded() != null) {
                e.compactionOffloader.discard(r.offloaded());
                continue;
            }
            for (FileMetaData f : r.files()) {
                try {
                    e.fs.delete(e.dir.resolve(FileNames.table(f.number)));
                } catch (IOException ex) {
                    Engine.LOG.warning("cannot delete table " + f.number + " of a failed compaction: " + ex
                            + " (deleted at the next open)");
                }
            }
        }
    }

    /**
     * One part of a compaction (the whole compaction when it is not split): offloaded if the rules
     * allow it, else — or if the offload declined, failed or was refused — run here. No lock held.
     */
    private PartResult runPart(Compaction c, SubcompactionPlanner.Part p, int parts, long[] keep,
            CompactionExecutor.Filter jf) throws IOException {
        List<CompactionExecutor.InputFile> inputs = new ArrayList<>();
        long minSeq = Long.MAX_VALUE;
        long maxSeq = Long.MIN_VALUE;
        for (FileMetaData f : p.inputs()) {
            inputs.add(new CompactionExecutor.InputFile(c.level, f.number, f.size));
        }
        for (FileMetaData f : p.overlapping()) {
            inputs.add(new CompactionExecutor.InputFile(c.outputLevel, f.number, f.size));
        }
        for (FileMetaData f : c.all()) {
            if (p.inputs().contains(f) || p.overlapping().contains(f)) {
                minSeq = Math.min(minSeq, f.smallestSeq);
                maxSeq = Math.max(maxSeq, f.largestSeq);
            }
        }
        int n = inputs.size() + 2 * (int) (p.inputBytes() / e.options.targetFileSize()) + 4;
        // a compactor is told the DB directory as an absolute path (how every process names it)
        Function<long[], CompactionExecutor.CompactionRequest> offloaded = numbers -> request(e.dir.toAbsolutePath(),
                c, p, inputs, keep, numbers, jf);
        Place place = Place.LOCAL;
        if (e.compactionOffloader.enabled()) {
            String what = parts == 1 ? "compaction " + c : "sub-compaction " + p.index() + "/" + parts + " of " + c;
            // outputs lie in the part's bounds and in the compaction's keys (the last part: up to its largest key)
            byte[] lower = p.lower() != null ? p.lower() : c.smallestUser;
            byte[] upper = p.upper() != null ? p.upper() : c.largestUser;
            OffloadResultCheck.Expect expect = new OffloadResultCheck.Expect(parts == 1 ? "the compaction"
                    : "sub-compaction " + p.index(), lower, upper, p.upper() == null, minSeq, maxSeq, false);
            CompactionOffloader.Result r = e.compactionOffloader.offload(what, c.level, c.score, expect, n, offloaded);
            if (r.files() != null) {
                return new PartResult(r.files(), Place.OFFLOADED, r.bytesRead(), r.bytesWritten(), r);
            }
            if (r.fallback()) {
                if (e.closing) { // the offload failed because the DB closes: the inputs stay live
                    throw new JobCancelledException("offloaded " + what + " ended because the DB closes");
                }
                place = Place.FALLBACK;
            }
        }
        long[] numbers = new long[n];
        for (int i = 0; i < n; i++) {
            numbers[i] = e.versions.newFileNumber();
        }
        CompactionExecutor.CompactionResult result = executor.execute(request(e.dir, c, p, inputs, keep, numbers, jf));
        VersionEdit check = new VersionEdit();
        VersionInstaller.addCompactionOutputs(check, c.outputLevel, numbers, result);
        List<FileMetaData> files = new ArrayList<>();
        for (CompactionExecutor.OutputFile o : result.outputs()) {
            files.add(FileMetaData.of(o));
        }
        return new PartResult(files, place, result.bytesRead(), result.bytesWritten(), null);
    }

    /** {@code DB.compactRange} after its flush: one manual compaction at a time, in the caller's thread. */
    void compactRange(byte[] from, byte[] to) {
        manualLock.lock();
        try {
            compactRangeLocked(from, to);
        } finally {
            manualLock.unlock();
        }
    }

    private void compactRangeLocked(byte[] from, byte[] to) {
        e.mutex.lock();
        try {
            if (e.closing) {
                throw new DBClosedException("DB " + e.dir + " is closed");
            }
            manual++;
            // let running background compactions finish; none start while a manual one runs
            while (running > 0 && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
        } finally {
            e.mutex.unlock();
        }
        try {
            for (int level = 0; level < Version.NUM_LEVELS - 1; level++) {
                e.checkOpen();
                e.checkBackgroundError();
                Version v = e.versions.current();
                boolean deeper = false;
                for (int l = level + 1; l < Version.NUM_LEVELS; l++) {
                    deeper |= v.numFiles(l) > 0;
                }
                if (v.numFiles(level) == 0 && !deeper) {
                    break;
                }
                Compaction c;
                e.mutex.lock();
                try {
                    c = CompactionPicker.manual(v, level, from, to, busyFiles);
                    if (c != null) {
                        for (FileMetaData f : c.all()) {
                            busyFiles.add(f.number);
                        }
                    }
                } finally {
                    e.mutex.unlock();
                }
                if (c == null) {
                    continue;
                }
                try {
                    run(c, true);
                } catch (IOException ex) {
                    if (e.closing) { // the job gave up because the DB closes: inputs stay live
                        throw new DBClosedException("DB " + e.dir + " closed during compactRange");
                    }
                    O3Exception err = new O3Exception("manual compaction " + c + " failed: " + ex, ex);
                    e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.MANUAL_COMPACTION);
                    throw err;
                } finally {
                    e.mutex.lock();
                    try {
                        for (FileMetaData f : c.all()) {
                            busyFiles.remove(f.number);
                        }
                    } finally {
                        e.mutex.unlock();
                    }
                }
            }
        } finally {
            e.mutex.lock();
            try {
                manual--;
                e.slowdownMaybeOver();
                maybeSchedule();
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
        }
    }

    /**
     * Any thread, no lock held. Stops compactions for an ingest ({@link IngestJob}): waits for the
     * manual compaction in progress (one at a time, {@link #manualLock}) and the running background
     * ones; none starts until {@link #resumeAfterIngest()}. The version's levels then change only by
     * flushes (to L0).
     */
    void pauseForIngest() {
        manualLock.lock();
        e.mutex.lock();
        try {
            manual++;
            while (running > 0 && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
            }
        } finally {
            e.mutex.unlock();
        }
    }

    /** Ends {@link #pauseForIngest()}, from the thread that paused; schedules what is due. */
    void resumeAfterIngest() {
        e.mutex.lock();
        try {
            manual--;
            maybeSchedule();
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
            manualLock.unlock();
        }
    }

    /** REQUIRES: mutex held, closing set. Waits until no manual compaction runs (close releases files after). */
    void awaitManualDone() {
        while (manual > 0) {
            e.bgChanged.awaitUninterruptibly();
        }
    }

    /** Blocks until no compaction runs or is due (test hook). */
    void waitForCompactions() {
        e.mutex.lock();
        try {
            maybeSchedule();
            while (running > 0 && e.bgError == null && !e.closing) {
                e.bgChanged.awaitUninterruptibly();
                maybeSchedule();
            }
            e.checkBackgroundError();
        } finally {
            e.mutex.unlock();
        }
    }
}
