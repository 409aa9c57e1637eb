package io.o3lsm.internal.db;

import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Live snapshots (sequence → count), the sequence a read runs at, and the sequences a flush or
 * compaction must keep readable.
 *
 * <p>Locks: {@link #live} is guarded by {@code Engine.mutex}.
 */
final class Snapshots {
    private final Engine e;
    // guarded by mutex
    private final TreeMap<Long, Integer> live = new TreeMap<>();
    /** The snapshots {@link #create} made and not yet closed, oldest first (not iterators' holds). Guarded by mutex. */
    private final java.util.LinkedHashSet<SnapshotImpl> created = new java.util.LinkedHashSet<>();

    Snapshots(Engine e) {
        this.e = e;
    }

    /** A live snapshot; registered in {@link #live} until closed. */
    private static final class SnapshotImpl implements Snapshot {
        final Snapshots owner;
        final long sequence;
        /** A replica's snapshot: the view it reads (held until closed); null on a primary. */
        final SuperVersion pinned;
        /** Wall-clock creation time (property {@code o3.oldest-snapshot-time}). */
        final long createdMillis = System.currentTimeMillis();
        private final AtomicBoolean closedFlag = new AtomicBoolean();

        SnapshotImpl(Snapshots owner, long sequence, SuperVersion pinned) {
            this.owner = owner;
            this.sequence = sequence;
            this.pinned = pinned;
        }

        @Override
        public long sequence() {
            if (closedFlag.get()) {
                throw new IllegalStateException("snapshot is closed");
            }
            return sequence;
        }

        boolean isClosed() {
            return closedFlag.get();
        }

        @Override
        public void close() {
            if (closedFlag.compareAndSet(false, true)) {
                owner.forget(this);
                owner.release(sequence);
                if (pinned != null) {
                    pinned.unref();
                }
            }
        }

        @Override
        public String toString() {
            return "Snapshot@" + sequence + (closedFlag.get() ? " (closed)" : "");
        }
    }

    /** {@code DB.snapshot()}: a snapshot at the published sequence. Mutex not held. */
    Snapshot create() {
        e.checkOpen();
        e.mutex.lock();
        try {
            awaitFilteredInstall();
            long seq = e.lastSequence;
            SuperVersion pinned = null;
            if (e.replica) {
                // its primary drops versions no snapshot of its own needs: a replica's snapshot keeps its view
                pinned = e.acquireSv();
                seq = Math.max(seq, pinned.floor);
            }
            live.merge(seq, 1, Integer::sum);
            SnapshotImpl s = new SnapshotImpl(this, seq, pinned);
            created.add(s);
            return s;
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * REQUIRES: mutex held, and {@code seq} read under it (the published sequence, or a live
     * snapshot's). Holds it as a snapshot, for an iterator that may move to newer views ({@link
     * RefreshingIterator}); {@link #unhold} ends the hold.
     */
    /**
     * REQUIRES: mutex held. Waits while a filtered flush or compaction installs, or an ingest at
     * sequence 0: a snapshot taken between its check and its view swap could see the filter's work
     * (VersionInstaller) or the ingested entries (IngestJob) appear. Before reading the sequence or
     * pinning a view.
     */
    void awaitFilteredInstall() {
        while (e.filteredInstall > 0) {
            e.bgChanged.awaitUninterruptibly();
        }
    }

    void hold(long seq) {
        live.merge(seq, 1, Integer::sum);
    }

    /** Ends a {@link #hold}. Mutex not held. */
    void unhold(long seq) {
        release(seq);
    }

    private void forget(SnapshotImpl s) {
        e.mutex.lock();
        try {
            created.remove(s);
        } finally {
            e.mutex.unlock();
        }
    }

    /** REQUIRES: mutex held. Snapshots open now (from {@code DB.snapshot}; iterators' holds not counted). */
    int count() {
        return created.size();
    }

    /** REQUIRES: mutex held. Creation time (ms since the epoch) of the oldest open snapshot, 0 if none. */
    long oldestCreatedMillis() {
        return created.isEmpty() ? 0 : created.iterator().next().createdMillis;
    }

    /** REQUIRES: mutex held. Sequence of the oldest open snapshot, 0 if none. */
    long oldestSequence() {
        return created.isEmpty() ? 0 : created.iterator().next().sequence;
    }

    private void release(long seq) {
        e.mutex.lock();
        try {
            live.computeIfPresent(seq, (k, v) -> v == 1 ? null : v - 1);
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * The sequence a read runs at: its snapshot's, or the latest published one. Read after the view
     * is pinned: every flush or compaction in the pinned version chose what to keep at a sequence no
     * higher than the one read now, so nothing visible at it was dropped. (Reading the sequence first
     * would let a flush and compaction drop the version it needs in between.) The leader swaps the
     * view before it publishes a sequence, so the pinned view holds everything up to it.
     */
    long readSequence(ReadOptions ro) {
        Snapshot s = ro.snapshot();
        if (s == null) {
            return e.lastSequence; // callers check that the pinned view is still current (ReadPath.pin)
        }
        if (!(s instanceof SnapshotImpl si) || si.owner != this) {
            throw new IllegalArgumentException("the snapshot in the read options belongs to another DB");
        }
        if (si.isClosed()) {
            throw new IllegalStateException("the snapshot in the read options is closed");
        }
        return si.sequence();
    }

    /**
     * A replica: the view the snapshot of {@code ro} pinned, with a reference for the caller (checked
     * by {@link #readSequence} first).
     */
    SuperVersion pinnedView(ReadOptions ro) {
        SnapshotImpl si = (SnapshotImpl) ro.snapshot();
        if (si.pinned == null || !si.pinned.tryRef()) {
            throw new IllegalStateException("the snapshot in the read options is closed");
        }
        return si.pinned;
    }

    /**
     * REQUIRES: mutex held. The newest live snapshot's sequence, 0 if none: compaction filters touch
     * only entries above it.
     */
    long newestLive() {
        return live.isEmpty() ? 0 : live.lastKey();
    }

    /**
     * REQUIRES: mutex held. Whether any snapshot or iterator holds a sequence, including one at
     * sequence 0 (an empty or only bulk-loaded DB), which {@link #newestLive()} cannot tell from none.
     */
    boolean hasLive() {
        return !live.isEmpty();
    }

    /**
     * REQUIRES: mutex held. Sequences a flush or compaction must keep readable, ascending: every live
     * snapshot and the published last sequence (a sealed shard or a fresh SST may hold entries of a
     * write group that is not yet visible, and readers at the published sequence must still find
     * older versions).
     */
    long[] toKeep() {
        TreeSet<Long> set = new TreeSet<>(live.keySet());
        set.add(e.lastSequence);
        long[] out = new long[set.size()];
        int i = 0;
        for (long x : set) {
            out[i++] = x;
        }
        return out;
    }
}
