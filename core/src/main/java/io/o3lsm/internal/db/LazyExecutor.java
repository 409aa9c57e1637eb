package io.o3lsm.internal.db;

import java.util.function.Function;

/**
 * An offload executor made on first use over the DB's memory-node link and closed once, at DB
 * close: what {@link FlushOffloader} and {@link CompactionOffloader} hold. After {@link #close} it
 * hands out nothing, so no new submission starts on a closed executor.
 *
 * <p>Thread-safe: the executor and the closed flag are guarded by {@code this}; the executor's own
 * {@code close} runs outside the lock (it may wait for pending submissions to fail).
 */
final class LazyExecutor<X extends AutoCloseable> {
    private final Engine e;
    /** How log lines name it ("flush executor"). */
    private final String name;
    private final Function<DmLink, X> factory;
    // guarded by this
    private X executor;
    private boolean closed;

    LazyExecutor(Engine e, String name, Function<DmLink, X> factory) {
        this.e = e;
        this.name = name;
        this.factory = factory;
    }

    /** The executor, made on first use over {@code link}; null once closed or if it cannot be made (logged). */
    synchronized X get(DmLink link) {
        if (closed) {
            return null;
        }
        if (executor == null) {
            try {
                executor = factory.apply(link);
            } catch (RuntimeException ex) {
                Engine.LOG.warning("cannot create the " + name + " for " + e.dir + "; running the job locally: " + ex);
                return null;
            }
        }
        return executor;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Closes the executor (if one was made); later {@link #get} calls return null. */
    void close() {
        X x;
        synchronized (this) {
            closed = true;
            x = executor;
            executor = null;
        }
        if (x != null) {
            try {
                x.close();
            } catch (Exception ex) {
                Engine.LOG.warning("closing the " + name + " of " + e.dir + " failed: " + ex);
            }
        }
    }
}
