package io.o3lsm.internal.db;

import io.o3lsm.format.InternalIterator;
import org.agrona.DirectBuffer;

/**
 * The inner iterator of a DB iterator whose view held shards only the memory node had: at each seek
 * of the inner iterator (seek, seekToFirst, seekToLast; a DB iterator's own seeks, and its next after
 * stepping back past the first entry), if a flush has installed since its
 * children were built, it rebuilds them over the current view at the <em>same</em> sequence and
 * closes the old ones. So a long-lived iterator stops making the node merge shards that a flush
 * (read-aware, or any other) has turned into SSTs, and releases their segments.
 *
 * <p>Why the same sequence stays right over a newer view: the iterator holds its sequence as a
 * snapshot ({@link Snapshots#hold}), registered under the mutex together with the read of the
 * sequence, so every flush or compaction picked after that keeps what is visible at it; one picked
 * before kept what was visible at the published sequence of its pick, which was no higher, and
 * nothing between that and ours that a reader at ours can see (DBImpl's write groups are published
 * whole). A newer view holds everything up to the sequence. The range tombstones the DB iterator
 * applies were collected from the first view: they stay true at the sequence.
 *
 * <p>A rebuild that fails (the memory node lost meanwhile) keeps the old children, which stay
 * readable: they pin their view and their remote copies. Not thread-safe, as the DB iterator.
 */
final class RefreshingIterator implements InternalIterator {
    /** What one build over one view gave: the merged children, and whether any of them reads the memory node. */
    record Built(InternalIterator iterator, boolean remote) {
    }

    interface Source {
        /** Builds the children over {@code sv} at the iterator's sequence; closes what it opened if it throws. */
        Built build(SuperVersion sv);
    }

    private final Engine e;
    private final Source source;
    private final Runnable onClose;
    private SuperVersion sv;
    private InternalIterator inner;
    private boolean remote;
    private long flushesAtBuild;
    private boolean closed;

    /** Takes over {@code sv}'s reference and {@code built}; {@code onClose} releases the held sequence. */
    RefreshingIterator(Engine e, SuperVersion sv, Built built, long flushesAtBuild, Source source, Runnable onClose) {
        this.e = e;
        this.sv = sv;
        this.inner = built.iterator();
        this.remote = built.remote();
        this.flushesAtBuild = flushesAtBuild;
        this.source = source;
        this.onClose = onClose;
    }

    /** Views this iterator has been rebuilt over (tests). */
    int refreshes;

    private void maybeRefresh() {
        long flushes = e.flushInstalls;
        if (!remote || flushes == flushesAtBuild || e.closing || e.closed) {
            return;
        }
        flushesAtBuild = flushes;
        SuperVersion next = e.acquireSv();
        Built b;
        try {
            b = source.build(next);
        } catch (RuntimeException ex) {
            next.unref();
            Engine.LOG.fine("iterator kept its view: rebuilding over a newer one failed: " + ex);
            return;
        } catch (Error ex) {
            next.unref();
            throw ex;
        }
        InternalIterator old = inner;
        SuperVersion oldSv = sv;
        inner = b.iterator();
        remote = b.remote();
        sv = next;
        refreshes++;
        try {
            old.close();
        } finally {
            oldSv.unref();
        }
    }

    @Override
    public boolean isValid() {
        return inner.isValid();
    }

    @Override
    public void seekToFirst() {
        maybeRefresh();
        inner.seekToFirst();
    }

    @Override
    public void seekToLast() {
        maybeRefresh();
        inner.seekToLast();
    }

    @Override
    public void seek(byte[] targetInternalKey) {
        maybeRefresh();
        inner.seek(targetInternalKey);
    }

    @Override
    public void next() {
        inner.next();
    }

    @Override
    public void prev() {
        inner.prev();
    }

    @Override
    public DirectBuffer key() {
        return inner.key();
    }

    @Override
    public DirectBuffer value() {
        return inner.value();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            inner.close();
        } finally {
            try {
                sv.unref();
            } finally {
                onClose.run();
            }
        }
    }
}
