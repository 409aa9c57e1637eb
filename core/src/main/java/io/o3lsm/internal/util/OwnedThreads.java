package io.o3lsm.internal.util;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A {@link ThreadFactory} for the threads one database (or daemon) owns: each thread is named
 * {@code "<role>-<n> <owner>"} (so a thread dump says whose it is), is a daemon (a forgotten
 * {@code close()} does not keep the JVM alive), and is remembered, so that {@link #join} can wait
 * until every thread it ever made has terminated — not merely until its pool says it is idle.
 *
 * <p>Thread-safe.
 */
public final class OwnedThreads implements ThreadFactory {
    private static final Logger LOG = Logger.getLogger("io.o3lsm");

    private final String role;
    private final String owner;
    private final List<Thread> threads = new ArrayList<>();
    private int next;

    /** Threads named {@code "<role>-<n> <owner>"}. */
    public OwnedThreads(String role, String owner) {
        this.role = role;
        this.owner = owner;
    }

    @Override
    public synchronized Thread newThread(Runnable r) {
        Thread t = new Thread(r, role + "-" + (++next) + " " + owner);
        t.setDaemon(true);
        threads.removeIf(x -> x.getState() == Thread.State.TERMINATED);
        threads.add(t);
        return t;
    }

    /**
     * Waits until every thread made here has terminated (the caller has already told them to stop,
     * e.g. with {@code ExecutorService.shutdown()}), including any made while it waits. Waits as
     * long as it takes, logging a warning with the thread's current stack every
     * {@code warnAfterSeconds} seconds so that a hang is visible. An interrupt does not cut the wait
     * short (the caller is about to release what these threads use); the interrupt flag is set
     * again on return.
     */
    public void join(long warnAfterSeconds) {
        boolean interrupted = false;
        while (true) {
            List<Thread> all = alive();
            all.remove(Thread.currentThread()); // a thread of this pool closing its owner cannot wait for itself
            if (all.isEmpty()) {
                break;
            }
            for (Thread t : all) {
                while (t.isAlive()) {
                    try {
                        t.join(TimeUnit.SECONDS.toMillis(warnAfterSeconds));
                    } catch (InterruptedException e) {
                        interrupted = true;
                        continue;
                    }
                    if (t.isAlive()) {
                        StringBuilder stack = new StringBuilder();
                        for (StackTraceElement el : t.getStackTrace()) {
                            stack.append("\n\tat ").append(el);
                        }
                        LOG.warning("still waiting for thread '" + t.getName() + "' to stop" + stack);
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Threads made here that have not terminated yet (for tests and diagnostics). */
    public synchronized List<Thread> alive() {
        List<Thread> out = new ArrayList<>();
        for (Thread t : threads) {
            if (t.isAlive()) {
                out.add(t);
            }
        }
        return out;
    }
}
