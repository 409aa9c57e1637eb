package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.spi.CompactionExecutor;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Installs the results of flushes and compactions: checks a compaction's output file numbers
 * (a flush's outputs come from this process's own file numbers), logs the
 * VersionEdit to the MANIFEST ({@code VersionSet.logAndApply}) and swaps the read view, then lets
 * go of what the result made obsolete (a flush's shards, memory and segments; a compaction's input
 * files; WALs every installed flush covers). The owner is the only MANIFEST writer; installs are
 * serialized here, in the order they reach {@link #installLock}.
 *
 * <p>Locks: {@link #installLock} is held across the MANIFEST write; {@code Engine.mutex} is taken
 * inside it, never across I/O.
 */
final class VersionInstaller {
    private final Engine e;
    private final ReentrantLock installLock = new ReentrantLock();

    VersionInstaller(Engine e) {
        this.e = e;
    }

    /**
     * Flush step 3, no lock held: logs the flush's L0 files with the range's new watermark and the
     * oldest WAL still needed, then drops the flushed shards from the view in the same swap.
     */
    boolean installFlush(FlushScheduler.Pick p, List<FileMetaData> files) throws IOException {
        return installFlush(p, files, p.filter);
    }

    /**
     * As above, for outputs a compaction filter {@code filter} (null: none) shaped: refused — false,
     * nothing installed — if a snapshot newer than the filter's newest one has appeared since the
     * job began (it could see values the filter changed or removed); snapshots are held back while
     * such an install runs ({@link #beginFiltered}).
     */
    boolean installFlush(FlushScheduler.Pick p, List<FileMetaData> files, io.o3lsm.spi.CompactionExecutor.Filter filter)
            throws IOException {
        int range = p.range;
        MemShard[] inputs = p.inputs;
        long maxSeq = p.maxSequence();
        long bytes = 0;
        installLock.lock();
        try {
            VersionEdit edit = new VersionEdit();
            for (FileMetaData f : files) {
                edit.addFile(0, f);
                bytes += f.size;
            }
            ShardRanges layout = p.layout();
            boolean newLayout = layout != e.manifestLayout;
            if (newLayout) {
                // the first flush since the boundaries moved: every older layout's shard is flushed
                // (FlushScheduler), so every entry up to the layout's start is in an SST — the MANIFEST
                // takes the new boundaries with that as each range's watermark, then this flush's own
                edit.shardBoundaries = layout.boundaries();
                for (int r = 0; r < layout.count(); r++) {
                    edit.rangeWatermarks.put(r, layout.startSeq);
                }
            }
            e.mutex.lock();
            try {
                if (!beginFiltered(filter)) {
                    return false;
                }
                edit.rangeWatermarks.put(range, maxSeq);
                edit.logNumber = e.wals.minLiveLog(range, inputs.length);
                // the leader may still be inserting the group these shards came from
                edit.lastSequence = Math.max(e.lastSequence, maxSeq);
            } finally {
                e.mutex.unlock();
            }
            p.installStarted = true;
            Version v = e.versions.logAndApply(edit);
            if (e.replication != null) {
                e.replication.shipInstalled(edit, v);
            }
            e.manifestLayout = layout;
            long freed = 0;
            e.mutex.lock();
            try {
                SuperVersion cur = e.sv;
                MemShard[] sealed = cur.sealed[range];
                // the inputs are the oldest sealed shards of this range; one may have been swapped
                // meanwhile for its copy rebuilt from the WAL, even more than once (same entries: the
                // SST holds them too)
                int base = sealed.length - inputs.length;
                for (int i = 0; i < inputs.length; i++) {
                    MemShard inView = base < 0 ? null : sealed[base + i];
                    if (inView == null || !standsFor(inView, inputs[i])) {
                        throw new IllegalStateException("sealed shards of range " + range + " changed during flush");
                    }
                }
                e.installSv(cur.dropOldest(range, inputs.length, v));
                e.flushInstalls++; // mutex held: the only writer
                for (int i = 0; i < inputs.length; i++) {
                    MemShard dropped = sealed[base + i];
                    MemtableShard arena = dropped.shard;
                    if (dropped.isLocal() && arena != null) {
                        freed += dropped.capacity; // the arena itself goes when the last old view does (GC)
                        e.memtables.awaitGc(arena.buffer().byteBuffer(), dropped.capacity);
                    }
                    // a get on an old view that still asks for the segment just retries; a scan
                    // pins it, and the last scan frees it
                    e.dm.freeRemote(dropped.retireRemote());
                    e.readCache.release(dropped);
                    for (MemShard m = inputs[i]; m != dropped && m != null; m = m.replacement) {
                        m.retireRemote(); // its remote copy was forgotten when it was replaced
                        e.readCache.release(m);
                    }
                }
                e.memtables.release(freed);
                // counted with the view swap, before anyone woken (DB.flush's caller) can read them
                e.stats.flushes.increment();
                e.stats.flushBytes.add(bytes);
                e.stats.flushNanos.record(System.nanoTime() - p.pickedNanos);
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
            Runnable installed = p.onInstalled;
            if (installed != null) {
                installed.run(); // before the install lock goes: no later install is reported first
            }
        } finally {
            endFiltered(filter);
            installLock.unlock();
        }
        e.wals.deleteObsolete();
        return true;
    }

    /** Runs {@code action} with no install in progress or starting (replication: a snapshot and the edits after it). */
    <T> T locked(java.util.concurrent.Callable<T> action) throws IOException {
        installLock.lock();
        try {
            return action.call();
        } catch (IOException | RuntimeException ex) {
            throw ex;
        } catch (Exception ex) {
            throw new IOException(ex);
        } finally {
            installLock.unlock();
        }
    }

    /** True if {@code inView} is {@code input} or a copy rebuilt in its place (directly or after several rebuilds). */
    static boolean standsFor(MemShard inView, MemShard input) {
        for (MemShard m = input; m != null; m = m.replacement) {
            if (m == inView) {
                return true;
            }
        }
        return false;
    }

    /**
     * Turns what a compaction executor returned into edit entries at {@code outputLevel}, refusing
     * any output file number that was not one of the job's pre-allocated numbers.
     */
    static void addCompactionOutputs(VersionEdit edit, int outputLevel, long[] numbers,
            CompactionExecutor.CompactionResult result) {
        Set<Long> allowed = new HashSet<>();
        for (long x : numbers) {
            allowed.add(x);
        }
        for (CompactionExecutor.OutputFile o : result.outputs()) {
            if (!allowed.remove(o.number())) {
                throw new O3Exception("compaction executor returned file #" + o.number()
                        + ", which was not one of its pre-allocated output numbers");
            }
            edit.addFile(outputLevel, FileMetaData.of(o));
        }
    }

    /** Compaction install, no lock held: logs the edit, swaps the version, queues the inputs for deletion. */
    void installCompaction(VersionEdit edit, List<FileMetaData> obsolete) throws IOException {
        installCompaction(edit, obsolete, null);
    }

    /** As above; refused (false, nothing installed) as {@link #installFlush(FlushScheduler.Pick, List, io.o3lsm.spi.CompactionExecutor.Filter)} says. */
    boolean installCompaction(VersionEdit edit, List<FileMetaData> obsolete, io.o3lsm.spi.CompactionExecutor.Filter filter)
            throws IOException {
        installLock.lock();
        try {
            e.mutex.lock();
            try {
                if (!beginFiltered(filter)) {
                    return false;
                }
                edit.lastSequence = e.lastSequence;
            } finally {
                e.mutex.unlock();
            }
            Version v = e.versions.logAndApply(edit);
            if (e.replication != null) {
                e.replication.shipInstalled(edit, v);
            }
            e.mutex.lock();
            try {
                e.installSv(e.sv.withVersion(v));
                e.obsolete.markObsolete(obsolete);
                e.stats.compactions.increment(); // with the view swap, as a flush's
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
        } finally {
            endFiltered(filter);
            installLock.unlock();
        }
        e.obsolete.deleteObsoleteTables();
        return true;
    }

    /**
     * Ingest install ({@link IngestJob}), no lock held; the caller heads the writer queue, so no write
     * group is being published. Logs {@code edit} (the ingested files) with {@code lastSequence} raised
     * to {@code sequence} when that is above it, swaps the read view, then publishes the sequence —
     * in that order, as the write leader does, so a reader at the new sequence finds the files. A primary
     * ships the edit as an ingest's ({@link ReplicationSource#INGEST_EDIT}), in install order with the
     * flushes' and compactions'; the returned latch is released once its backups have it (null: no
     * replication).
     */
    java.util.concurrent.CountDownLatch installIngest(VersionEdit edit, long sequence) throws IOException {
        java.util.concurrent.CountDownLatch shipped = null;
        installLock.lock();
        try {
            e.mutex.lock();
            try {
                edit.lastSequence = Math.max(e.lastSequence, sequence);
            } finally {
                e.mutex.unlock();
            }
            Version v = e.versions.logAndApply(edit);
            if (e.replication != null) {
                shipped = e.replication.shipInstalled(edit, v, true);
            }
            e.mutex.lock();
            try {
                e.installSv(e.sv.withVersion(v));
                if (sequence > e.lastSequence) {
                    e.lastSequence = sequence;
                }
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
        } finally {
            installLock.unlock();
        }
        return shipped;
    }

    /** The filtered install that {@link #beginFiltered} let start and {@link #endFiltered} has not ended (installLock held). */
    private io.o3lsm.spi.CompactionExecutor.Filter filtering;

    /**
     * REQUIRES: mutex and installLock held. For a filtered result: false if a snapshot newer than the
     * filter's newest has appeared; else from now until {@link #endFiltered} new snapshots wait
     * ({@link Snapshots#awaitFilteredInstall}), so none can be taken between this check and the swap.
     */
    private boolean beginFiltered(io.o3lsm.spi.CompactionExecutor.Filter filter) {
        if (filter == null) {
            return true;
        }
        if (e.snapshots.newestLive() > filter.newestSnapshot()) {
            e.stats.filteredInstallsRefused.increment();
            return false;
        }
        filtering = filter;
        e.filteredInstall++;
        return true;
    }

    /** installLock held; takes the mutex. Ends what {@link #beginFiltered} began, if it did. */
    private void endFiltered(io.o3lsm.spi.CompactionExecutor.Filter filter) {
        if (filter == null || filtering != filter) {
            return;
        }
        filtering = null;
        e.mutex.lock();
        try {
            e.filteredInstall--;
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }
}
