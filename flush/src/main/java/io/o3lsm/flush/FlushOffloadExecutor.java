package io.o3lsm.flush;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;

/**
 * The owner's side of flush offloading: encodes the job ({@link FlushSpec}), submits it to the
 * memory node's coordinator over the DB's own connection, and decodes what the worker reports.
 * The owner validates the files before it installs them. Thread-safe (one submit per flush thread).
 */
public final class FlushOffloadExecutor implements FlushExecutor {
    private final MemoryNode.Client client;
    /** Submissions waiting for their outcome: (job id, attempt). */
    private final java.util.Set<java.util.Map.Entry<Long, Integer>> inFlight = java.util.concurrent.ConcurrentHashMap
            .newKeySet();
    private volatile boolean closed;

    public FlushOffloadExecutor(MemoryNode.Client client) {
        this.client = client;
    }

    /** Registered in {@code META-INF/services/io.o3lsm.spi.FlushExecutor$Provider}. */
    public static final class Provider implements FlushExecutor.Provider {
        @Override
        public FlushExecutor create(MemoryNode.Client memoryNode) {
            return new FlushOffloadExecutor(memoryNode);
        }

        @Override
        public AutoCloseable startWorker(String memoryNode, byte[] secret, String name, java.nio.file.Path storageRoot,
                io.o3lsm.spi.FileSystem fs, int slots) {
            return new EmbeddedFlushWorker(memoryNode, secret, name, storageRoot, fs, slots);
        }
    }

    @Override
    public Outcome execute(FlushRequest r) throws IOException {
        java.util.Map.Entry<Long, Integer> key = java.util.Map.entry(r.jobId(), r.attempt());
        inFlight.add(key);
        MemoryNode.JobOutcome o;
        try {
            if (closed) {
                throw new IOException("flush executor closed");
            }
            o = client.submitJob(new MemoryNode.JobSubmit(MemoryNode.JOB_KIND_FLUSH, r.jobId(), r.attempt(),
                    r.inputs(), FlushSpec.encode(r), r.placement() == Placement.ALWAYS, r.ownerLoad(),
                    r.pressureBytes(), r.deadline()));
        } catch (DmException e) {
            if (e instanceof io.o3lsm.dm.DmTimeoutException) {
                try { // the coordinator may still run it: end it, so its inputs are unpinned and its slot freed
                    client.cancelJob(r.jobId(), r.attempt());
                } catch (IOException | RuntimeException ignored) {
                    // ended meanwhile, or the node is gone
                }
            }
            throw new IOException("offloaded flush of range " + r.range() + " (job " + r.jobId() + " attempt "
                    + r.attempt() + ") failed: " + e.getMessage(), e);
        } finally {
            inFlight.remove(key);
        }
        if (!o.placed()) {
            return new Local(o.message());
        }
        try {
            FlushSpec.Report rep = FlushSpec.decodeReport(o.result());
            return new Done(rep.files(), rep.bytesRead(), rep.bytesWritten(), o.worker());
        } catch (MalformedMessageException e) {
            throw new IOException("worker " + o.worker() + " sent a malformed report for job " + r.jobId() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Cancels every submission still waiting (the coordinator ends those jobs and their submits fail),
     * so a flush thread waiting here does not hold the DB's close up until the deadline.
     */
    @Override
    public void close() {
        closed = true;
        for (java.util.Map.Entry<Long, Integer> j : inFlight) {
            try {
                client.cancelJob(j.getKey(), j.getValue());
            } catch (IOException | RuntimeException e) {
                // the job ended meanwhile, or the node is gone (then the submit fails on its own)
            }
        }
    }
}
