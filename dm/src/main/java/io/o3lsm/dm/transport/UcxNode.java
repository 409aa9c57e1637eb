package io.o3lsm.dm.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;

/**
 * One UCX context and one worker, owned by one progress thread: an Agrona {@link AgentRunner}
 * running a {@link ProgressAgent} with a {@link WorkerIdleStrategy} that polls briefly after work
 * and otherwise sleeps in {@code worker.waitForEvents()} (event-driven when idle: these machines have
 * 2 cores).
 *
 * <p><b>Threads.</b> Only the progress thread touches the worker, its endpoints, listener and
 * remote keys (touching an endpoint from another thread aborts the JVM with UCX 1.13). Other
 * threads hand it work with {@link #submit} (a many-to-one queue plus {@code worker.signal()}, the
 * one worker call UCX allows from any thread). UCX callbacks run on the progress thread, sometimes
 * inside the call that submitted the operation.
 *
 * <p><b>Close order</b> ({@link #close}): the owner's stop hook runs on the progress thread
 * (remote keys, then endpoints, then the listener), then the thread ends, then the worker, the
 * mapped memory and finally the context are released.
 */
public final class UcxNode implements AutoCloseable {
    private static final int QUEUE_CAPACITY = 1 << 16;
    /**
     * How long a progress thread keeps polling after work before it sleeps: system property
     * {@code o3lsm.dm.spinMicros}, default 0: sleep at once. Worth setting only where progress
     * threads have cores of their own: on a 2-core machine the polling threads (caller, client and
     * node progress) starve the one that must answer (a delegated get went from 45 to 311 µs at P50).
     */
    static final long SPIN_NANOS = Long.getLong("o3lsm.dm.spinMicros", 0) * 1000;

    private final String name;
    private final UcpContext context;
    private final UcpWorker worker;
    private final ManyToOneConcurrentArrayQueue<Runnable> commands = new ManyToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final List<UcpMemory> memory = new ArrayList<>();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final AgentRunner runner;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile Throwable startFailure;
    private volatile boolean stopRequested;
    private volatile Thread progressThread;
    private boolean closed; // under lifecycle write lock
    private Runnable stopHook;

    /**
     * Creates the context and worker and starts the progress thread, which runs {@code init} first.
     *
     * @param init runs on the progress thread before anything else (register AM handlers, map
     *             memory, open a listener); an exception there fails the constructor
     * @throws UcxUnavailableException if the UCX native libraries cannot be loaded
     */
    public UcxNode(String name, Consumer<UcxNode> init) {
        this.name = name;
        UcxEnvironment.check();
        UcpContext ctx;
        try {
            // workers shared between threads: a caller's own worker ({@link #newWorker}) runs beside the progress thread's
            ctx = new UcpContext(new UcpParams().requestAmFeature().requestRmaFeature().requestWakeupFeature()
                    .setMtWorkersShared(true));
        } catch (LinkageError e) {
            throw new UcxUnavailableException(UcxEnvironment.missingLibraryMessage(), e);
        }
        this.context = ctx;
        this.worker = context.newWorker(new UcpWorkerParams()); // thread mode SINGLE: one owner thread
        ProgressAgent agent = new ProgressAgent(init);
        this.runner = new AgentRunner(new WorkerIdleStrategy(), this::onAgentError, null, agent);
        AgentRunner.startOnThread(runner, r -> {
            Thread t = new Thread(r, name + "-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (startFailure != null) {
            close();
            if (startFailure instanceof RuntimeException) {
                throw (RuntimeException) startFailure;
            }
            throw new IllegalStateException(name + ": start failed", startFailure);
        }
    }

    /** Progress thread only. */
    public UcpWorker worker() {
        return worker;
    }

    public boolean onProgressThread() {
        return Thread.currentThread() == progressThread;
    }

    /** Runs on the progress thread when the node closes, before the worker is released. Set during init. */
    public void onStop(Runnable hook) {
        this.stopHook = hook;
    }

    /**
     * A second worker on this node's context, for callers that progress it themselves (thread mode
     * MULTI: different threads use it, one at a time as the caller serializes them). The caller
     * closes it before this node closes.
     */
    public UcpWorker newWorker() {
        return context.newWorker(new UcpWorkerParams().requestThreadSafety());
    }

    /**
     * Maps {@code length} bytes of UCX-allocated memory (registered once; the node's pool slabs).
     * UCX-allocated rather than a registered direct buffer: only such memory is reachable through
     * the shared-memory transports. Released by {@link #close} after the worker.
     */
    public UcpMemory allocateMemory(long length) {
        UcpMemory m = context.memoryMap(new UcpMemMapParams().allocate().setLength(length));
        synchronized (memory) {
            memory.add(m);
        }
        return m;
    }

    /**
     * Registers {@code length} bytes at {@code address} that are already mapped (typically a
     * sub-range of a slab from {@link #allocateMemory}) without allocating. Not released by
     * {@link #close}: the caller owns it and deregisters it ({@link UcpMemory#deregister}) before
     * the memory goes away.
     *
     * <p><b>Not an access control.</b> Measured with UCX 1.13.1 (SubRangeKeySpikeTest): with UCX's
     * registration cache on (the default, {@code UCX_RCACHE_ENABLE=try}) a range inside an
     * already-registered slab returns the slab's own registration (its address, length and packed
     * key); with the cache off it is a real registration, but over tcp and shared memory a peer
     * holding its key reads any address of this process (outside the range, after the
     * deregistration) and an unmapped address crashes this process. Only hardware-checked
     * transports (RDMA verbs) would enforce bounds and revocation.
     */
    public UcpMemory mapExisting(long address, long length) {
        return context.memoryMap(new UcpMemMapParams().setAddress(address).setLength(length));
    }

    /**
     * Hands {@code command} to the progress thread (any thread; FIFO per submitting thread).
     *
     * @return false if the node is closed (the command will not run)
     */
    public boolean submit(Runnable command) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                return false;
            }
            while (!commands.offer(command)) {
                Thread.yield();
            }
            worker.signal();
            return true;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Stops the progress thread (running the stop hook on it) and releases worker, memory and
     * context. Idempotent. Must not be called on the progress thread.
     */
    @Override
    public void close() {
        if (onProgressThread()) {
            throw new IllegalStateException("UcxNode.close() called on its own progress thread");
        }
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            stopRequested = true;
            worker.signal();
        } finally {
            lifecycle.writeLock().unlock();
        }
        runner.close(2000, t -> worker.signal()); // retries: signal again if it did not wake yet
        worker.close();
        synchronized (memory) {
            for (int i = memory.size() - 1; i >= 0; i--) {
                try {
                    memory.get(i).close();
                } catch (RuntimeException e) {
                    System.err.println(name + ": releasing memory failed: " + e);
                }
            }
            memory.clear();
        }
        context.close();
    }

    private void onAgentError(Throwable t) {
        if (t instanceof AgentTerminationException) {
            return;
        }
        System.err.println(name + "-progress: " + t);
        t.printStackTrace();
    }

    /** Drains commands and progresses the worker. */
    private final class ProgressAgent implements Agent {
        private final Consumer<UcxNode> init;

        ProgressAgent(Consumer<UcxNode> init) {
            this.init = init;
        }

        @Override
        public void onStart() {
            progressThread = Thread.currentThread();
            try {
                init.accept(UcxNode.this);
            } catch (Throwable t) {
                startFailure = t;
                stopRequested = true;
            } finally {
                started.countDown();
            }
        }

        @Override
        public int doWork() throws Exception {
            if (stopRequested) {
                throw new AgentTerminationException();
            }
            int work = commands.drain(UcxNode::runCommand);
            work += worker.progress();
            return work;
        }

        @Override
        public void onClose() {
            Runnable hook = stopHook;
            if (hook != null) {
                try {
                    hook.run();
                } catch (Throwable t) {
                    System.err.println(name + ": stop hook failed: " + t);
                }
            }
            // Commands that arrived after the stop request: run them so waiting callers get failed
            // answers instead of hanging (the owner's hook has marked itself closed).
            commands.drain(UcxNode::runCommand);
        }

        @Override
        public String roleName() {
            return name + "-progress";
        }
    }

    private static void runCommand(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            System.err.println("dm progress command failed: " + t);
            t.printStackTrace();
        }
    }

    /**
     * Polls for up to {@link #SPIN_NANOS} after the last duty cycle that did work (an answer to a
     * request just sent usually arrives within tens of microseconds, and waking a thread from
     * epoll costs about as much), then sleeps in {@code worker.waitForEvents()} when no command is
     * queued. {@link #submit} signals the worker, so a command never waits for an unrelated event;
     * a signal sent before the wait makes the wait return at once (no lost wake-up).
     */
    private final class WorkerIdleStrategy implements IdleStrategy {
        private long lastWork;

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                lastWork = System.nanoTime();
                return;
            }
            if (SPIN_NANOS > 0 && System.nanoTime() - lastWork < SPIN_NANOS) {
                Thread.onSpinWait();
                return;
            }
            idle();
        }

        @Override
        public void idle() {
            if (commands.isEmpty() && !stopRequested) {
                worker.waitForEvents();
                lastWork = System.nanoTime(); // woken by an event: poll for its follow-ups
            }
        }

        @Override
        public void reset() {
        }

        @Override
        public String alias() {
            return "ucx-spin-then-wait";
        }
    }

}
