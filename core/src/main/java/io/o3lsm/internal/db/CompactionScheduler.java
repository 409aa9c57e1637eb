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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Compactions: background ones picked by {@link CompactionPicker} (pure policy) while there is work
 * and a free thread, and manual ones ({@code compactRange}) that run in the caller's thread while no
 * background compaction runs. A job's files are marked busy for its duration; the job itself runs
 * behind the {@link CompactionExecutor} SPI (in-process {@link CompactionJob} by default), and its
 * result is installed by {@link VersionInstaller}.
 *
 * <p>Locks: {@link #busyFiles}, {@link #running} and {@link #manual} are guarded by
 * {@code Engine.mutex}; {@link #manualLock} lets one manual compaction run at a time (taken before
 * the mutex).
 */
final class CompactionScheduler {
    private final Engine e;
    private final CompactionPicker picker;
    private final CompactionExecutor executor;
    private final ExecutorService pool;
    private final OwnedThreads threads;
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
                : new CompactionJob(e.fs, () -> e.closing);
        this.threads = new OwnedThreads("o3lsm-compaction", e.dir.toString());
        this.pool = Executors.newFixedThreadPool(e.options.maxBackgroundCompactions(), threads);
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
        threads.join(30);
    }

    /** Compaction threads still alive (for tests). */
    List<Thread> liveThreads() {
        return threads.alive();
    }

    /** REQUIRES: mutex held. Starts background compactions while there is work and a free thread. */
    void maybeSchedule() {
        while (!e.closing && e.bgError == null && manual == 0 && running < e.options.maxBackgroundCompactions()) {
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
            run(c);
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
                        + "further writes until reopened (no data is lost: inputs stay live): " + error, error));
            } else if (error instanceof JobCancelledException) {
                Engine.LOG.fine("compaction " + c + " in " + e.dir + " stopped because the DB closes: " + error);
            } else if (error != null) {
                Engine.LOG.warning("compaction " + c + " in " + e.dir + " failed while closing (inputs stay live): "
                        + error);
            }
            maybeSchedule();
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }

    /** Runs one compaction (the caller has marked its files busy) and installs the result. No lock held. */
    private void run(Compaction c) throws IOException {
        VersionEdit edit = new VersionEdit();
        if (c.isTrivialMove()) {
            FileMetaData f = c.inputs.get(0);
            edit.deleteFile(c.level, f.number);
            edit.addFile(c.outputLevel, f);
            e.installer.installCompaction(edit, List.of());
            return;
        }
        long[] keep;
        e.mutex.lock();
        try {
            keep = e.snapshots.toKeep();
        } finally {
            e.mutex.unlock();
        }
        List<CompactionExecutor.InputFile> inputs = new ArrayList<>();
        for (FileMetaData f : c.inputs) {
            inputs.add(new CompactionExecutor.InputFile(c.level, f.number, f.size));
        }
        for (FileMetaData f : c.overlapping) {
            inputs.add(new CompactionExecutor.InputFile(c.outputLevel, f.number, f.size));
        }
        int n = inputs.size() + 2 * (int) (c.inputBytes() / e.options.targetFileSize()) + 4;
        long[] numbers = new long[n];
        for (int i = 0; i < n; i++) {
            numbers[i] = e.versions.newFileNumber();
        }
        CompactionExecutor.CompactionRequest req = new CompactionExecutor.CompactionRequest(e.dir, e.versions.epoch(),
                inputs, c.outputLevel, c.bottommost, keep, numbers, e.options.targetFileSize(), e.options.blockSize(),
                e.options.blockRestartInterval(), e.options.compression(), e.options.bloomBitsPerKey());
        CompactionExecutor.CompactionResult result = executor.execute(req);
        VersionInstaller.addCompactionOutputs(edit, c.outputLevel, numbers, result);
        for (FileMetaData f : c.inputs) {
            edit.deleteFile(c.level, f.number);
        }
        for (FileMetaData f : c.overlapping) {
            edit.deleteFile(c.outputLevel, f.number);
        }
        e.stats.compactionBytesRead.add(result.bytesRead());
        e.stats.compactionBytesWritten.add(result.bytesWritten());
        e.installer.installCompaction(edit, c.all());
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
                    run(c);
                } catch (IOException ex) {
                    if (e.closing) { // the job gave up because the DB closes: inputs stay live
                        throw new DBClosedException("DB " + e.dir + " closed during compactRange");
                    }
                    O3Exception err = new O3Exception("manual compaction " + c + " failed: " + ex, ex);
                    e.setBackgroundError(err);
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
                maybeSchedule();
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
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
