package io.o3lsm.compaction;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.DmTimeoutException;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The owner's side of compaction offloading: encodes the job ({@link CompactionSpec}), submits it
 * to the memory node's coordinator over the DB's own connection as a compaction job (kind 2, with
 * the start level and score the compaction queue is ordered by), and decodes what the compactor
 * reports. The owner validates the files before it installs them.
 *
 * <p>Outcomes, as {@link io.o3lsm.spi.CompactionOffloadExecutor#execute} states them:
 * {@link io.o3lsm.spi.CompactionOffloadExecutor.Local Local} when nothing was run remotely (no
 * compactor registered, the compaction queue full, no compactor slot came free within the deadline,
 * or a job the protocol cannot carry); {@link io.o3lsm.spi.CompactionOffloadExecutor.Done Done}
 * with the compactor's files; an {@link IOException} when the submission failed after it may have
 * reached a compactor (the compactor failed or was lost, the deadline passed, the job was cancelled,
 * the memory node was lost or did not answer, or the report was malformed): the attempt's output
 * numbers may then hold a zombie's files. A submission that timed out is cancelled, so the
 * coordinator frees its slot. {@link #close} cancels every submission still waiting.
 *
 * <p>Thread-safe (one submission per compaction thread; submissions run concurrently).
 */
public final class CompactionOffloadExecutor implements io.o3lsm.spi.CompactionOffloadExecutor {
    private final MemoryNode.Client client;
    /** Submissions waiting for their outcome: (job id, attempt). */
    private final Set<Map.Entry<Long, Integer>> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public CompactionOffloadExecutor(MemoryNode.Client client) {
        if (client == null) {
            throw new IllegalArgumentException("client must not be null");
        }
        this.client = client;
    }

    /** Registered in {@code META-INF/services/io.o3lsm.spi.CompactionOffloadExecutor$Provider}. */
    public static final class Provider implements io.o3lsm.spi.CompactionOffloadExecutor.Provider {
        @Override
        public io.o3lsm.spi.CompactionOffloadExecutor create(MemoryNode.Client memoryNode) {
            return new CompactionOffloadExecutor(memoryNode);
        }
    }

    /**
     * @throws IllegalArgumentException the request is malformed: attempt below 1, start level outside
     *                                  0..63, a negative or non-finite score, a deadline outside 1 ms
     *                                  to 24 hours
     * @throws IOException              the offload failed after it was submitted (see the class comment)
     */
    @Override
    public Outcome execute(OffloadRequest r) throws IOException {
        if (r.attempt() < 1 || r.startLevel() < 0 || r.startLevel() > Messages.MAX_START_LEVEL
                || !Double.isFinite(r.score()) || r.score() < 0 || r.deadline() == null || r.deadline().toMillis() < 1
                || r.deadline().toMillis() > Messages.MAX_JOB_DEADLINE_MS) {
            throw new IllegalArgumentException("expected attempt >= 1, start level in [0, " + Messages.MAX_START_LEVEL
                    + "], a finite score >= 0 and a deadline of 1 ms to 24 h, found " + r.attempt() + ", "
                    + r.startLevel() + ", " + r.score() + ", " + r.deadline());
        }
        byte[] spec;
        try {
            spec = CompactionSpec.encode(r.job());
        } catch (IllegalArgumentException e) {
            return new Local("the job cannot be offloaded: " + e.getMessage());
        }
        if (spec.length > Messages.MAX_JOB_SPEC) {
            return new Local("the job cannot be offloaded: its spec has " + spec.length + " bytes, the protocol carries "
                    + Messages.MAX_JOB_SPEC);
        }
        Map.Entry<Long, Integer> key = Map.entry(r.jobId(), r.attempt());
        inFlight.add(key);
        MemoryNode.JobOutcome o;
        try {
            if (closed) {
                throw new IOException("compaction executor closed");
            }
            o = client.submitJob(MemoryNode.JobSubmit.compaction(r.jobId(), r.attempt(), spec, r.deadline(),
                    r.startLevel(), r.score()));
        } catch (DmException e) {
            if (e instanceof DmTimeoutException) {
                try { // the coordinator may still run it: end it, so its compactor slot is freed
                    client.cancelJob(r.jobId(), r.attempt());
                } catch (IOException | RuntimeException ignored) {
                    // ended meanwhile, or the node is gone
                }
            }
            throw new IOException("offloaded compaction to level " + r.job().outputLevel() + " (job " + r.jobId()
                    + " attempt " + r.attempt() + ") failed: " + e.getMessage(), e);
        } finally {
            inFlight.remove(key);
        }
        if (!o.placed()) {
            return new Local(o.message());
        }
        try {
            CompactionSpec.Report rep = CompactionSpec.decodeReport(o.result());
            return new Done(rep.files(), rep.bytesRead(), rep.bytesWritten(), o.worker());
        } catch (MalformedMessageException e) {
            throw new IOException("compactor " + o.worker() + " sent a malformed report for job " + r.jobId()
                    + " attempt " + r.attempt() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Cancels every submission still waiting (the coordinator ends those jobs and their submits fail
     * with an {@link IOException}), so a compaction thread waiting here does not hold the DB's close
     * up until the deadline. Later submissions fail at once.
     */
    @Override
    public void close() {
        closed = true;
        for (Map.Entry<Long, Integer> j : inFlight) {
            try {
                client.cancelJob(j.getKey(), j.getValue());
            } catch (IOException | RuntimeException e) {
                // the job ended meanwhile, or the node is gone (then the submit fails on its own)
            }
        }
    }
}
