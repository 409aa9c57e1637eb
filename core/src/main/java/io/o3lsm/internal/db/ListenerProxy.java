package io.o3lsm.internal.db;

import io.o3lsm.EventListener;
import io.o3lsm.internal.util.OwnedThreads;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.logging.Level;

/**
 * The sending side of {@link EventListener} calls: the engine {@link #post}s an event (any thread,
 * any lock held — it never blocks), and one daemon thread per DB, {@code o3lsm-listener-1 <dir>},
 * takes events from a bounded queue and calls every listener with each, in order. A full queue drops
 * the new event and counts it ({@link #dropped}); a listener that throws is logged and skipped for that
 * event only. Without listeners there is no queue and no thread, and {@link #post} does nothing.
 *
 * <p>{@link #close}: called after the flush and compaction threads have ended; delivers what is queued
 * (waiting up to {@link #CLOSE_WAIT_MILLIS}), then interrupts the thread and returns. Thread-safe.
 */
final class ListenerProxy {
    static final long CLOSE_WAIT_MILLIS = 5_000;

    private static final Consumer<EventListener> STOP = l -> {
    };

    private final List<EventListener> listeners;
    private final BlockingQueue<Consumer<EventListener>> queue;
    private final LongAdder dropped;
    private final OwnedThreads threads;
    private final String owner;
    private final Thread thread;
    private volatile boolean closed;

    ListenerProxy(List<EventListener> listeners, int capacity, String owner, LongAdder dropped) {
        this.listeners = List.copyOf(listeners);
        this.dropped = dropped;
        this.owner = owner;
        if (this.listeners.isEmpty()) {
            this.queue = null;
            this.threads = null;
            this.thread = null;
            return;
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.threads = new OwnedThreads("o3lsm-listener", owner);
        this.thread = threads.newThread(this::deliverLoop);
        this.thread.start();
    }

    /** True when some listener is registered (callers may skip building an event otherwise). */
    boolean active() {
        return queue != null && !closed;
    }

    /** Queues {@code event} for the listener thread; drops and counts it when the queue is full. Never blocks. */
    void post(Consumer<EventListener> event) {
        if (queue == null || closed) {
            return;
        }
        if (!queue.offer(event)) {
            dropped.increment();
        }
    }

    private void deliverLoop() {
        while (true) {
            Consumer<EventListener> ev;
            try {
                ev = queue.take();
            } catch (InterruptedException ex) {
                return; // close gave up waiting
            }
            if (ev == STOP) {
                return;
            }
            for (EventListener l : listeners) {
                try {
                    ev.accept(l);
                } catch (Throwable t) { // a listener's failure is its own: log it, keep delivering
                    Engine.LOG.log(Level.WARNING, "event listener " + l + " threw; the event is skipped for it", t);
                }
            }
        }
    }

    /** Delivers the events queued so far (bounded wait), then stops the thread. Idempotent. */
    void close() {
        if (queue == null || closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() == thread) {
            // close called by a listener: this thread stops once the listener returns; never join or
            // interrupt itself (close's own file work would run with the flag set)
            if (!queue.offer(STOP)) {
                queue.clear();
                queue.offer(STOP);
            }
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        boolean interrupted = false;
        try {
            while (!queue.offer(STOP, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                if (System.nanoTime() >= deadline) {
                    break;
                }
            }
        } catch (InterruptedException ex) {
            interrupted = true;
        }
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException ex) {
            interrupted = true;
        }
        if (thread.isAlive()) {
            int left = queue.size() - (queue.contains(STOP) ? 1 : 0);
            queue.clear();
            queue.offer(STOP); // a listener that swallows the interrupt still finds it and stops
            dropped.add(left);
            Engine.LOG.warning("event listener thread of " + owner + " still busy after " + CLOSE_WAIT_MILLIS
                    + " ms at close; " + left + " undelivered events dropped, thread interrupted");
            thread.interrupt();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The listener thread while alive (tests). */
    List<Thread> liveThreads() {
        return threads == null ? List.of() : threads.alive();
    }
}
