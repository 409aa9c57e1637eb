package io.o3lsm.flush;

import io.o3lsm.dm.DmAuthException;
import io.o3lsm.dm.DmException;
import io.o3lsm.spi.FileSystem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A flush worker inside a process that opened a DB in DM mode ({@code Options.flushWorkerSlots}):
 * in O3-LSM every compute node is a potential flush executor. Connects in the background, retrying
 * every second while the memory node is away (a refused secret stops the retries, logged once);
 * {@link #close} stops the retries and closes the worker (running jobs are cancelled).
 */
final class EmbeddedFlushWorker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("io.o3lsm.flush");

    private final Thread starter;
    private volatile FlushWorker worker;
    private volatile boolean closed;

    EmbeddedFlushWorker(String memoryNode, byte[] secret, String name, Path storageRoot, FileSystem fs, int slots) {
        if (slots < 1 || slots > 1024) {
            throw new IllegalArgumentException("flush worker slots must be in [1, 1024], found " + slots);
        }
        starter = new Thread(() -> {
            boolean warned = false;
            while (!closed) {
                try {
                    FlushWorker w = new FlushWorker(memoryNode, secret, name, storageRoot, fs, slots,
                            Duration.ofSeconds(10), m -> LOG.fine(name + ": " + m));
                    synchronized (this) {
                        if (closed) {
                            w.close();
                            return;
                        }
                        worker = w;
                    }
                    LOG.info("flush worker " + name + " registered with memory node " + memoryNode + " (" + slots
                            + " slot(s), storage " + storageRoot + ")");
                    return;
                } catch (DmAuthException e) {
                    LOG.severe("flush worker " + name + ": the memory node " + memoryNode + " refused it: "
                            + e.getMessage() + "; not retrying");
                    return;
                } catch (DmException | RuntimeException e) {
                    if (!warned) {
                        LOG.log(Level.WARNING, "flush worker " + name + ": memory node " + memoryNode
                                + " unreachable, retrying every second: " + e.getMessage());
                        warned = true;
                    }
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "o3lsm-flushworker-start-" + name);
        starter.setDaemon(true);
        starter.start();
    }

    /** The worker once connected, else null. */
    FlushWorker worker() {
        return worker;
    }

    @Override
    public void close() {
        FlushWorker w;
        synchronized (this) {
            closed = true;
            w = worker;
        }
        starter.interrupt();
        try {
            starter.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (w == null) {
            w = worker; // connected while we waited for the starter
        }
        if (w != null) {
            w.close();
        }
    }
}
