package io.o3lsm.internal.db;

import io.o3lsm.WriteBatch;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The write-ahead logs: the current WAL (appended by the write leader only), the roll to a new WAL
 * after a shard is sealed, the set of live WALs, and deletion of WALs every installed flush covers.
 *
 * <p>Locks: {@link #liveWals} is guarded by {@code Engine.mutex}. {@link #wal} and
 * {@link #rollPending} belong to the write leader (the head of {@link WriteQueue}; {@code wal} is also
 * flushed by others under {@link #appendLock}); the roll swaps
 * {@code wal} with the mutex held, and {@code rollPending} is set with the mutex held by whoever
 * seals a shard — which is the leader or a caller that holds the writer queue alone. The WAL number
 * is volatile: inserts read it to stamp a shard's first log. {@link #appendLock} is held by the
 * leader while it appends a group (and rolls) and by {@link #flushNow}: with
 * {@code Options.manualWalFlush}, a caller drains the WAL's buffer without joining the write queue
 * (which may be parked behind a write stall that waits for a flush that needs the drain). Order:
 * {@code appendLock} before {@code Engine.mutex}.
 */
final class WalSet {
    private final Engine e;

    /** Appended by the write leader; flushed by others too, always under {@link #appendLock}. */
    private LogWriter wal;
    private volatile long walNumber;
    /** A shard was sealed: the leader starts a new WAL before its next append. */
    private boolean rollPending;
    // guarded by mutex
    private final TreeSet<Long> liveWals = new TreeSet<>();
    private final java.util.concurrent.locks.ReentrantLock appendLock = new java.util.concurrent.locks.ReentrantLock();
    /**
     * Why a WAL write, flush, sync or roll failed (null while none did): the log may end in a partial
     * record, buffered records are lost, and no later group is appended.
     */
    private volatile Throwable failure;
    /** Guarded by appendLock. */
    private boolean closed;

    WalSet(Engine e) {
        this.e = e;
    }

    /** Recovery (single-threaded): creates the first WAL of this open (if the directory's lock is still held). */
    void openFirst(long number) throws IOException {
        e.dirLock.checkHeld(); // see roll
        wal = new LogWriter(e.fs.newWritableFile(e.dir.resolve(FileNames.log(number))), LogFormat.KIND_WAL, number);
        wal.flush();
        walNumber = number;
        liveWals.add(number);
    }

    /** The number of the WAL writes go to now. Any thread. */
    long number() {
        return walNumber;
    }

    /** REQUIRES: mutex held (the caller just sealed a shard). */
    void requestRoll() {
        rollPending = true;
    }

    /**
     * Leader only, mutex not held: a group's append is {@code beginGroup}, {@link #add} per batch
     * (its header already carries its sequence), {@link #endGroup}, and always {@link #endAppend}
     * (in a finally block: it releases the append lock {@code beginGroup} took). Rolls to a new WAL
     * first if a shard was sealed since the last group.
     */
    void beginGroup() throws IOException {
        appendLock.lock();
        checkNotFailed();
        if (rollPending) {
            try {
                roll();
            } catch (IOException | RuntimeException ex) {
                failure = ex;
                throw ex;
            }
        }
    }

    /** Leader only: holds the append lock for a group that skips the WAL but is replicated; {@link #endAppend} releases it. */
    void lockAppend() {
        appendLock.lock();
    }

    /** An action that may fail with an I/O error. */
    interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs {@code action} holding the append lock (no group is being appended), after handing the
     * current WAL's records to the file system: a replication catch-up reads the WAL's end and goes
     * live there. Any thread, mutex not held.
     */
    void underAppendLock(IoAction action) throws IOException {
        appendLock.lock();
        try {
            if (closed) {
                throw new io.o3lsm.DBClosedException("DB " + e.dir + " is closed");
            }
            checkNotFailed();
            if (wal != null) {
                flushHeld(false);
            }
            action.run();
        } finally {
            appendLock.unlock();
        }
    }

    /** Leader only, mutex not held. */
    void add(WriteBatch b) throws IOException {
        try {
            wal.addRecord(b.rep(), 0, b.size());
        } catch (IOException | RuntimeException ex) {
            failure = ex;
            throw ex;
        }
    }

    /** Leader only: ends what {@link #beginGroup} began, whether or not the group's append succeeded. */
    void endAppend() {
        if (appendLock.isHeldByCurrentThread()) {
            appendLock.unlock();
        }
    }

    /** Whether a WAL operation failed (its buffered records, acknowledged or not, may be lost). Any thread. */
    boolean failed() {
        return failure != null;
    }

    /**
     * Leader only, mutex not held. Flushes the group to the OS (unless {@code Options.manualWalFlush}
     * leaves it buffered) and, with {@code sync}, to the disk.
     */
    void endGroup(boolean sync) throws IOException {
        if (sync || !e.options.manualWalFlush()) {
            flushHeld(sync);
        }
    }

    /**
     * Hands the current WAL's buffered records to the file system (and with {@code sync} to the
     * disk): {@code DB.flushWal}, and a flush before it installs its tables (synced, so a crash never
     * keeps a table's writes and loses earlier ones still unsynced or, with manualWalFlush, buffered).
     * Any thread, mutex not held; waits only for a group being appended, never for the write queue.
     */
    void flushNow(boolean sync) throws IOException {
        appendLock.lock();
        try {
            if (closed) {
                throw new io.o3lsm.DBClosedException("DB " + e.dir + " is closed");
            }
            checkNotFailed();
            if (wal == null) { // recovery, before the first WAL of this open: nothing to flush
                return;
            }
            flushHeld(sync);
        } finally {
            appendLock.unlock();
        }
    }

    /** REQUIRES: appendLock held. No group is appended once a WAL operation failed. */
    private void checkNotFailed() throws IOException {
        Throwable f = failure;
        if (f != null) {
            throw new IOException("an earlier WAL operation failed: " + f, f);
        }
    }

    /** REQUIRES: appendLock held. Flushes (and with {@code sync} syncs) the WAL, recording a failure. */
    private void flushHeld(boolean sync) throws IOException {
        try {
            wal.flush();
            if (sync) {
                wal.sync();
            }
        } catch (IOException ex) {
            failure = ex;
            throw ex;
        } catch (RuntimeException ex) { // reported as the I/O failure it stands for: writes stop
            failure = ex;
            throw new IOException("flushing the WAL failed: " + ex, ex);
        }
    }

    /**
     * Leader only, mutex not held. Syncs the finished WAL, then starts the next one — if the
     * directory's lock is still held. A writer that took the lock over from this one (presumed dead,
     * on shared storage) has fenced the WALs it listed, but would never see one created after that:
     * writes acknowledged in it would be lost. A failed check fails the group like a failed append.
     */
    private void roll() throws IOException {
        long number = e.versions.newFileNumber();
        wal.sync();
        e.dirLock.checkHeld(); // after the sync, which may have stalled; cheap (a volatile read on HDFS)
        LogWriter next = new LogWriter(e.fs.newWritableFile(e.dir.resolve(FileNames.log(number))), LogFormat.KIND_WAL,
                number);
        try {
            next.flush();
            e.fs.syncDirectory(e.dir); // a synced write to the new WAL must not vanish with its directory entry
        } catch (IOException ex) {
            next.close();
            throw ex;
        }
        LogWriter old = wal;
        e.mutex.lock();
        try {
            liveWals.add(number);
            wal = next;
            walNumber = number;
            rollPending = false;
        } finally {
            e.mutex.unlock();
        }
        old.close();
    }

    /** REQUIRES: mutex held. The live WAL numbers, ascending (for a rebuild from the WAL). */
    List<Long> live() {
        return new ArrayList<>(liveWals);
    }

    /**
     * REQUIRES: mutex held. The oldest WAL still needed: the first log of every non-empty shard
     * except the {@code excluded} oldest sealed shards of {@code range}, and the current WAL.
     */
    long minLiveLog(int range, int excluded) {
        long min = walNumber;
        SuperVersion cur = e.sv;
        for (int r = 0; r < cur.active.length; r++) {
            MemShard[] sealed = cur.sealed[r];
            int keep = r == range ? sealed.length - excluded : sealed.length;
            for (int i = 0; i < keep; i++) {
                if (sealed[i].firstLog >= 0) {
                    min = Math.min(min, sealed[i].firstLog);
                }
            }
            if (cur.active[r].firstLog >= 0) {
                min = Math.min(min, cur.active[r].firstLog);
            }
        }
        return min;
    }

    /**
     * Guarded by mutex: checkpoints being written ({@link #holdDeletion}); while any is, no WAL is
     * deleted (the ones due stay in {@link #liveWals} and go at the next deletion after the last release).
     */
    private int deletionHolds;

    /**
     * Any thread, mutex not held: keeps every WAL live now (and every later one) on disk until
     * {@link #releaseDeletion}. A deletion already past choosing its files deletes only WALs older
     * than the MANIFEST's log number at that time (never one a later MANIFEST snapshot needs).
     */
    void holdDeletion() {
        e.mutex.lock();
        try {
            deletionHolds++;
        } finally {
            e.mutex.unlock();
        }
    }

    /** Any thread, mutex not held: ends a {@link #holdDeletion}; deletes what became obsolete meanwhile. */
    void releaseDeletion() {
        e.mutex.lock();
        try {
            deletionHolds--;
        } finally {
            e.mutex.unlock();
        }
        deleteObsolete();
    }

    /** Where a checkpoint cuts the log: the current WAL's number and its length after a synced flush. */
    record Cut(long walNumber, long length) {
    }

    /**
     * Flushes and syncs the current WAL and returns its number and length: a checkpoint's cut.
     * REQUIRES: the caller heads the writer queue ({@code WriteQueue.enterAlone}), mutex not held:
     * no group is appended, so the WAL ends at the record of {@code Engine.lastSequence} (writes with
     * {@code disableWal} aside) and stays that long until the caller leaves the queue.
     */
    Cut syncedCut() throws IOException {
        appendLock.lock();
        try {
            if (closed) {
                throw new io.o3lsm.DBClosedException("DB " + e.dir + " is closed");
            }
            checkNotFailed();
            flushHeld(true);
            return new Cut(walNumber, wal.size());
        } finally {
            appendLock.unlock();
        }
    }

    /** Deletes the WALs older than the MANIFEST's log number. Any thread, mutex not held. */
    void deleteObsolete() {
        List<Long> dead = new ArrayList<>();
        long logNumber = e.versions.logNumber();
        e.mutex.lock();
        try {
            if (deletionHolds > 0) {
                return; // a checkpoint copies them: the last release deletes them
            }
            while (!liveWals.isEmpty() && liveWals.first() < logNumber) {
                dead.add(liveWals.pollFirst());
            }
        } finally {
            e.mutex.unlock();
        }
        for (long n : dead) {
            try {
                e.fs.delete(e.dir.resolve(FileNames.log(n)));
            } catch (IOException ex) {
                Engine.LOG.warning("cannot delete obsolete WAL " + n + ": " + ex);
            }
        }
    }

    /** Close: syncs and closes the current WAL (no writer is left). */
    void close() throws IOException {
        appendLock.lock();
        try {
            closeWal();
        } finally {
            appendLock.unlock();
        }
    }

    private void closeWal() throws IOException {
        closed = true;
        if (wal != null) {
            try {
                wal.sync();
            } finally {
                wal.close();
            }
        }
    }

    /** A failed open: closes the WAL without syncing, ignoring errors. */
    void closeQuietly() {
        try {
            if (wal != null) {
                wal.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
    }
}
