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
 * <p>The sweep deletes every table the MANIFEST does not list, so it runs only at open, before any
 * flush or compaction writes an output; collecting orphans while jobs run (outputs of an abandoned
 * remote job) will need a pending-outputs set, which arrives with flush offloading.
 *
 * <p>Locks: {@link #pendingDeletion} is guarded by {@code Engine.mutex}; deletion itself runs with
 * no lock held.
 */
final class ObsoleteFiles {
    private final Engine e;
    // guarded by mutex
    private final Set<Long> pendingDeletion = new HashSet<>();

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
