package io.o3lsm.internal.db;

import io.o3lsm.Options;
import io.o3lsm.internal.util.OwnedThreads;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * The DB's attachment to a memory node: takes the {@link MemoryNode.Provider} (the dm module) from
 * {@link DmPreflight}, connects in the background and keeps retrying while the node is away
 * (logging one warning per outage), accounts the DM bytes this DB holds, counts requests that failed
 * in a row (for {@link DmRecovery}'s slow-or-lost rule), and frees segments off the caller's thread
 * without waiting for the node. Thread-safe.
 */
final class DmLink implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("io.o3lsm");

    private final MemoryNode.Provider provider;
    /** The flush module's executor provider; null unless {@code Options.flushOffload}. */
    private final io.o3lsm.spi.FlushExecutor.Provider flushProvider;
    /** The compaction module's offload executor provider; null unless {@code Options.compactionOffload}. */
    private final io.o3lsm.spi.CompactionOffloadExecutor.Provider compactionProvider;
    private final MemoryNode.Config config;
    private final ScheduledExecutorService exec;
    private final OwnedThreads threads;
    private volatile MemoryNode.Client client;
    private final AtomicLong used = new AtomicLong();
    /**
     * Failures counted since the last request that succeeded, and when the last one was counted
     * (nanoTime; 0 = none). Guarded by {@code this}; {@link #succeeded} reads the count without it.
     */
    private volatile int countedFailures;
    private long lastCountedFailure;
    private final AtomicBoolean warned = new AtomicBoolean();
    private final Runnable onConnected;
    /** Run (on the link's thread) when the transport reports an attached node failed; set once after construction. */
    private volatile Runnable onDisconnected = () -> { };
    private final AtomicBoolean watching = new AtomicBoolean();
    private volatile boolean closed;
    /** This process's own flush worker ({@code Options.flushWorkerSlots}), or null. */
    private final AutoCloseable worker;

    /**
     * @param workerStorage the shared-storage root of this process's flush worker; used only with
     *                      {@code Options.flushWorkerSlots}
     */
    DmLink(Options options, DmPreflight.Checked checked, String dbId, long epoch, java.nio.file.Path workerStorage,
            Runnable onConnected) {
        this.onConnected = onConnected;
        this.provider = checked.provider();
        this.flushProvider = checked.flushProvider();
        this.compactionProvider = checked.compactionProvider();
        byte[] secret = checked.secret();
        this.config = new MemoryNode.Config(options.memoryNodeAddress(), secret, dbId, epoch, options.dmBudget(),
                options.offloadInflightLimit(), options.dmRequestTimeout());
        this.threads = new OwnedThreads("o3lsm-dm-link", dbId);
        ScheduledThreadPoolExecutor x = new ScheduledThreadPoolExecutor(1, threads);
        x.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // close drops pending retries
        this.exec = x;
        exec.execute(this::tryConnect);
        this.worker = options.flushWorkerSlots() > 0 ? flushProvider.startWorker(options.memoryNodeAddress(), secret,
                dbId + "-worker", workerStorage, options.fileSystem(), options.flushWorkerSlots()) : null;
    }

    private void tryConnect() {
        if (closed || client != null) {
            return;
        }
        try {
            MemoryNode.Client c = provider.connect(config);
            client = c;
            warned.set(false);
            LOG.info("attached to memory node " + config.address() + " (epoch " + config.epoch() + ")");
            onConnected.run();
            if (watching.compareAndSet(false, true)) {
                exec.schedule(this::watch, WATCH_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (IOException | RuntimeException e) {
            if (warned.compareAndSet(false, true)) {
                LOG.warning("memory node " + config.address() + " unreachable; using local memtables and local "
                        + "flush until it is back: " + e);
            }
            if (!closed) {
                exec.schedule(this::tryConnect, 1, TimeUnit.SECONDS);
            }
        }
    }

    /** How often an attached link checks that the transport still has its node. */
    static final long WATCH_MILLIS = 500;

    /** Sets what runs when the transport reports the attached node failed (the DB treats it as lost). */
    void onDisconnected(Runnable r) {
        onDisconnected = r;
    }

    /**
     * Every {@link #WATCH_MILLIS}: a node the transport reports failed is news the DB acts on at once
     * (shards only the node held rebuilt from the WAL, listeners told) — not only when a request to it
     * fails, which never happens if the DB holds nothing only there and offloads nothing meanwhile.
     */
    private void watch() {
        if (closed) {
            return;
        }
        MemoryNode.Client c = client;
        if (c != null && !c.isConnected() && !warned.get()) {
            try {
                onDisconnected.run();
            } catch (RuntimeException ex) {
                LOG.warning("acting on the loss of memory node " + config.address() + " failed: " + ex);
            }
        }
        try {
            exec.schedule(this::watch, WATCH_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException ex) {
            // closing
        }
    }

    /** The client; throws {@link DmLostException} while detached. */
    MemoryNode.Client client() {
        MemoryNode.Client c = client;
        if (c == null) {
            throw new DmLostException("not attached to a memory node");
        }
        return c;
    }

    /** The flush executor provider, or null unless flush offloading is on. */
    io.o3lsm.spi.FlushExecutor.Provider flushProvider() {
        return flushProvider;
    }

    /** The compaction offload executor provider, or null unless compaction offloading is on. */
    io.o3lsm.spi.CompactionOffloadExecutor.Provider compactionProvider() {
        return compactionProvider;
    }

    /**
     * Runs {@code task} on this link's thread after {@code delayNanos} (a timer: the task should hand
     * real work to another pool). Dropped if the link is closed first.
     */
    void schedule(Runnable task, long delayNanos) {
        if (closed) {
            return;
        }
        try {
            exec.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: what the task would have collected is collected at the next open
        }
    }

    boolean connected() {
        MemoryNode.Client c = client;
        return c != null && c.isConnected();
    }

    long used() {
        return used.get();
    }

    void addUsed(long bytes) {
        used.addAndGet(bytes);
    }

    /**
     * The node was lost: warn once; the client's own reconnect (or ours) re-attaches later. The DM
     * account is settled shard by shard as the engine forgets or frees remote copies. Returns true the
     * first time since the node was last (re)attached: the loss is news (listeners are told).
     */
    boolean lost(Throwable cause) {
        boolean first = warned.compareAndSet(false, true);
        if (first) {
            LOG.warning("memory node " + config.address() + " lost (" + cause.getMessage()
                    + "); offloaded shards are rebuilt from the WAL and writes continue locally");
        }
        MemoryNode.Client c = client;
        if (c != null && !c.isConnected()) {
            // let the client reconnect on its own; poll for it
            exec.schedule(this::pollReconnect, 1, TimeUnit.SECONDS);
        }
        return first;
    }

    /** The node's {@code host:port}. */
    String address() {
        return config.address();
    }

    private void pollReconnect() {
        MemoryNode.Client c = client;
        if (closed || c == null) {
            return;
        }
        if (c.isConnected()) {
            warned.set(false);
            LOG.info("memory node " + config.address() + " is back; offloading resumes");
            onConnected.run();
        } else {
            exec.schedule(this::pollReconnect, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * A request to the node failed (not stale): returns true if the node is to be treated as lost —
     * the transport reported the peer failed ({@link #connected()} is false), or {@code lostAfter}
     * failures were counted with none succeeding in between. Failures within one request timeout of
     * the last counted one are one event and count once: requests that were waiting on the same
     * stall all fail together (three readers behind one pause are not three signs of a lost node),
     * so a node that answers nothing is declared lost after about {@code lostAfter} request timeouts.
     * Resets the count when it answers true. Any thread.
     */
    synchronized boolean failedRequest(int lostAfter) {
        if (!connected()) {
            countedFailures = 0;
            lastCountedFailure = 0;
            return true;
        }
        long now = System.nanoTime();
        if (lastCountedFailure != 0 && now - lastCountedFailure < config.requestTimeout().toNanos()) {
            return false; // the same stall as the failure counted last
        }
        lastCountedFailure = now;
        if (++countedFailures >= lostAfter) {
            countedFailures = 0;
            lastCountedFailure = 0;
            return true;
        }
        return false;
    }

    /** True while requests to the node have failed with none succeeding since. Any thread. */
    boolean failing() {
        return countedFailures != 0;
    }

    /** A request to the node succeeded. Any thread; cheap when nothing failed. */
    void succeeded() {
        if (countedFailures != 0) {
            synchronized (this) {
                countedFailures = 0;
                lastCountedFailure = 0;
            }
        }
    }

    /**
     * Frees a segment without waiting for the node's answer (a node that is slow or gone must not
     * hold up the caller or this link's thread); a failed FREE only leaks DM until the node drops
     * this epoch or restarts. Any thread, with or without the DB mutex.
     */
    void free(MemoryNode.RemoteShard rs) {
        used.addAndGet(-rs.length());
        MemoryNode.Client c = client;
        if (c == null || closed) {
            return;
        }
        try {
            exec.execute(() -> c.freeAsync(rs).whenComplete((v, e) -> {
                if (e != null) {
                    LOG.fine("freeing DM segment " + rs.segmentId() + " failed: " + e);
                }
            }));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the segment stays on the node until this DB reopens (a new epoch) or the node restarts
        }
    }

    /**
     * Close, before {@link #close()}: FREEs {@code shards} and waits up to {@code millis} for the
     * node's answers. A FREE that fails or is not answered in time only leaves its segment on the node
     * until this DB reopens or the node restarts. Calling thread; mutex not held.
     */
    void freeAndWait(java.util.List<MemoryNode.RemoteShard> shards, long millis) {
        MemoryNode.Client c = client;
        if (shards.isEmpty() || c == null || closed) {
            return;
        }
        if (!c.isConnected()) {
            // a disconnected client queues FREEs until it reconnects, and closing it drops them: the
            // node keeps these segments until it learns the DB is gone (docs/operations/memnode.md)
            return;
        }
        java.util.List<java.util.concurrent.CompletableFuture<Void>> answers = new java.util.ArrayList<>();
        for (MemoryNode.RemoteShard rs : shards) {
            used.addAndGet(-rs.length());
            try {
                answers.add(c.freeAsync(rs));
            } catch (RuntimeException ex) {
                LOG.fine("freeing DM segment " + rs.segmentId() + " at close failed: " + ex);
            }
        }
        try {
            java.util.concurrent.CompletableFuture.allOf(answers.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
                    .get(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
            LOG.fine("freeing " + shards.size() + " DM segments at close: " + ex);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (worker != null) {
            try {
                worker.close(); // cancels its running jobs; before the client, which its jobs do not use
            } catch (Exception e) {
                LOG.warning("closing this process's flush worker failed: " + e);
            }
        }
        exec.shutdown(); // pending retries are dropped; a running attempt is waited for
        threads.join(30);
        MemoryNode.Client c = client;
        client = null;
        if (c != null) {
            c.close();
        }
    }
}
