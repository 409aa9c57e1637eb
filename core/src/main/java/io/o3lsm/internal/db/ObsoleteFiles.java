package io.o3lsm.internal.db;

import io.o3lsm.internal.version.FileMetaData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;

/**
 * Files the DB no longer needs: the open-time sweep (old WALs and MANIFESTs, tables no version
 * uses, temp files), and while running, the tables a compaction replaced, deleted once no live
 * version (no pinned read view) uses them any more. While running, WALs are deleted by
 * {@link WalSet}.
 *
 * <p>The open-time sweep deletes every table the MANIFEST does not list, so it runs only at open,
 * before any flush or compaction writes an output. While the DB runs, the outputs of offloaded
 * flushes and compactions are tracked by number: an attempt's numbers are <b>pending</b> from allocation until the
 * attempt is installed or released ({@link #addPendingOutputs}, {@link #releasePendingOutputs}); an
 * attempt that failed or was refused may still be written by a worker that outlived it (a zombie),
 * so its numbers become <b>orphans</b> ({@link #orphanOutputs}) and a sweep on a compaction thread
 * deletes their files once the attempt's deadline has passed again — a zombie still writing then
 * writes into an unlinked file. The sweep never deletes a number that is pending or in a live
 * version. Orphans not swept before close are deleted by the next open's sweep (they are not in the
 * MANIFEST).
 *
 * <p>Locks: {@link #pendingDeletion}, {@link #pendingOutputs} and {@link #orphans} are guarded by
 * {@code Engine.mutex}; deletion itself runs with no lock held.
 */
final class ObsoleteFiles {
    private final Engine e;
    // guarded by mutex
    private final Set<Long> pendingDeletion = new HashSet<>();
    /** Output numbers of offloaded flush and compaction attempts that may still be written and may be installed. */
    private final Set<Long> pendingOutputs = new HashSet<>();
    /** Output numbers of abandoned attempts, deleted by {@link #sweepOrphans} once due. */
    private final List<Orphans> orphans = new ArrayList<>();

    /** An abandoned attempt's numbers, to be deleted no earlier than {@code dueNanos} (System.nanoTime). */
    private record Orphans(long[] numbers, long dueNanos) {
    }

    ObsoleteFiles(Engine e) {
        this.e = e;
    }

    /** Open only (no flush or compaction is writing): deletes old WALs and MANIFESTs, orphan tables, temp files. */
    void sweepAtOpen() {
        List<String> names;
        try {
            names = e.fs.list(e.dir);
        } catch (IOException ex) {
            Engine.LOG.warning("cannot list " + e.dir + " to delete obsolete files: " + ex);
            return;
        }
        Set<Long> live = new HashSet<>(e.versions.current().liveFiles());
        long logNumber = e.versions.logNumber();
        long manifest = e.versions.manifestNumber();
        for (String name : names) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p == null) {
                continue;
            }
            boolean keep = switch (p.type()) {
                case LOG -> p.number() >= logNumber;
                case MANIFEST -> p.number() >= manifest;
                case TABLE -> live.contains(p.number()); // called only at open: no flush is writing
                case TEMP -> false;
                case CURRENT, LOCK -> true;
            };
            if (!keep) {
                try {
                    e.fs.delete(e.dir.resolve(name));
                } catch (IOException ex) {
                    Engine.LOG.warning("cannot delete obsolete " + name + ": " + ex);
                }
            }
        }
    }

    /** REQUIRES: mutex held. A replica: tables its primary's edit deleted go once no version uses them. */
    /** REQUIRES: mutex held. A copy of the table numbers waiting to be deleted. */
    Set<Long> pendingDeletion() {
        return new HashSet<>(pendingDeletion);
    }

    void markObsoleteNumbers(List<Long> numbers) {
        pendingDeletion.addAll(numbers);
    }

    /** REQUIRES: mutex held. {@code files} left the current version; delete them once no version uses them. */
    void markObsolete(List<FileMetaData> files) {
        for (FileMetaData f : files) {
            pendingDeletion.add(f.number);
        }
    }

    /** Deletes compacted-away tables that no live version uses any more. Any thread, mutex not held. */
    void deleteObsoleteTables() {
        List<Long> dead = new ArrayList<>();
        Set<Long> live = e.versions.liveFiles();
        e.mutex.lock();
        try {
            for (Iterator<Long> it = pendingDeletion.iterator(); it.hasNext();) {
                long n = it.next();
                if (!live.contains(n)) {
                    dead.add(n);
                    it.remove();
                }
            }
        } finally {
            e.mutex.unlock();
        }
        for (long n : dead) {
            e.tableCache.evict(n);
            try {
                e.fs.delete(e.dir.resolve(FileNames.table(n)));
            } catch (IOException ex) {
                Engine.LOG.warning("cannot delete obsolete table " + n + ": " + ex);
            }
        }
    }

    /** Any thread, mutex not held. An offloaded attempt was given {@code numbers}: they are pending. */
    void addPendingOutputs(long[] numbers) {
        e.mutex.lock();
        try {
            for (long n : numbers) {
                pendingOutputs.add(n);
            }
        } finally {
            e.mutex.unlock();
        }
    }

    /** Any thread, mutex not held. The attempt was installed, or never ran: its numbers are no longer pending. */
    void releasePendingOutputs(long[] numbers) {
        e.mutex.lock();
        try {
            for (long n : numbers) {
                pendingOutputs.remove(n);
            }
        } finally {
            e.mutex.unlock();
        }
    }

    /** Numbers that are pending now (tests, diagnostics). Mutex not held. */
    Set<Long> pendingOutputs() {
        e.mutex.lock();
        try {
            return new HashSet<>(pendingOutputs);
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * Any thread, mutex not held. The attempt with {@code numbers} was abandoned (failed, timed out,
     * refused): they stop being pending and their files are deleted by a sweep on a compaction thread
     * once {@code graceNanos} have passed (the attempt's deadline: a worker that may still write them
     * has been told to stop by then). {@code link} provides the timer.
     */
    void orphanOutputs(long[] numbers, long graceNanos, DmLink link) {
        e.mutex.lock();
        try {
            for (long n : numbers) {
                pendingOutputs.remove(n);
            }
            orphans.add(new Orphans(numbers.clone(), System.nanoTime() + graceNanos));
        } finally {
            e.mutex.unlock();
        }
        if (link != null) {
            link.schedule(this::scheduleOrphanSweep, graceNanos);
        }
    }

    /**
     * Any thread, mutex not held. An offloaded attempt's result was installed ({@code files}): its
     * numbers stop being pending, and the ones no installed file uses become orphans (a zombie of
     * the attempt could still create them).
     */
    void installedOutputs(long[] numbers, List<FileMetaData> files, long graceNanos, DmLink link) {
        Set<Long> used = new HashSet<>();
        for (FileMetaData f : files) {
            used.add(f.number);
        }
        releasePendingOutputs(numbers);
        long[] unused = java.util.Arrays.stream(numbers).filter(n -> !used.contains(n)).toArray();
        if (unused.length > 0) {
            orphanOutputs(unused, graceNanos, link);
        }
    }

    /**
     * Any thread, mutex not held. Nothing of an offloaded attempt will be installed (refused, or
     * dropped before its edit could reach the MANIFEST): its files are deleted now and its numbers
     * orphaned, so whatever a zombie still writes under them goes with the sweep.
     */
    void discardOutputs(long[] numbers, long graceNanos, DmLink link) {
        for (long n : numbers) {
            e.tableCache.evict(n);
            try {
                e.fs.delete(e.dir.resolve(FileNames.table(n)));
            } catch (IOException ex) {
                Engine.LOG.warning("cannot delete table " + n + " of a discarded offload attempt: " + ex
                        + " (the orphan sweep tries again)");
            }
        }
        orphanOutputs(numbers, graceNanos, link);
    }

    private void scheduleOrphanSweep() {
        if (e.closing) {
            return; // the next open's sweep deletes them
        }
        try {
            e.compactions.pool().execute(this::sweepOrphans);
        } catch (RejectedExecutionException ex) {
            // closing: the next open's sweep deletes them
        }
    }

    /**
     * Deletes the files of orphaned output numbers whose grace period is over, unless the number is
     * pending again or in a live version (never the case for a fresh attempt number; checked anyway).
     * Any thread, mutex not held.
     */
    void sweepOrphans() {
        List<Long> due = new ArrayList<>();
        long now = System.nanoTime();
        Set<Long> live = e.versions.liveFiles();
        e.mutex.lock();
        try {
            for (Iterator<Orphans> it = orphans.iterator(); it.hasNext();) {
                Orphans o = it.next();
                if (now - o.dueNanos() < 0) {
                    continue; // another attempt's timer collects it
                }
                it.remove();
                for (long n : o.numbers()) {
                    if (!pendingOutputs.contains(n) && !live.contains(n)) {
                        due.add(n);
                    }
                }
            }
        } finally {
            e.mutex.unlock();
        }
        for (long n : due) {
            e.tableCache.evict(n);
            try {
                e.fs.delete(e.dir.resolve(FileNames.table(n)));
            } catch (IOException ex) {
                Engine.LOG.warning("cannot delete orphan output table " + n + " of an abandoned offload attempt: "
                        + ex + " (deleted at the next open)");
            }
        }
        if (!due.isEmpty()) {
            e.stats.orphanOutputsDeleted.add(due.size());
        }
    }

    /** Orphaned numbers not yet swept (tests, diagnostics). Mutex not held. */
    int orphanCount() {
        e.mutex.lock();
        try {
            int n = 0;
            for (Orphans o : orphans) {
                n += o.numbers().length;
            }
            return n;
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * A version was released (the version set's listener, any thread): its files may be obsolete
     * now. Runs the deletion on a compaction thread, off the caller's.
     */
    void versionReleased() {
        if (e.closing) {
            return;
        }
        try {
            e.compactions.pool().execute(this::deleteObsoleteTables);
        } catch (RejectedExecutionException ex) {
            // closing: obsolete files are collected at the next open
        }
    }
}
