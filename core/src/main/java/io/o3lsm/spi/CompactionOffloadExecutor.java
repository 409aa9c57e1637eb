package io.o3lsm.spi;

import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Runs compactions on compactors at the storage tier, through the memory node's coordinator: the
 * compaction twin of {@link FlushExecutor}. The owner (the DB) picks the job with its pure picker,
 * hands it here, and validates and installs what comes back; the executor never touches the
 * MANIFEST. A job is a pure function of its input SSTs plus its pre-allocated output numbers, so
 * running it twice is safe; every attempt gets numbers of its own and creates its outputs
 * exclusively, so a zombie attempt can never overwrite a file another attempt wrote.
 *
 * <p>Found with {@link java.util.ServiceLoader} through {@link Provider} when
 * {@code Options.compactionOffload(true)} (the compaction module provides it). Implementations are
 * thread-safe. Design: {@code docs/design/compaction-offload.md}.
 */
public interface CompactionOffloadExecutor extends AutoCloseable {
    /** Creates the executor of one DB, over the DB's connection to its memory node (the coordinator). */
    interface Provider {
        CompactionOffloadExecutor create(MemoryNode.Client memoryNode);
    }

    /**
     * Submits the job and waits until it ended: {@link Done} with the files a compactor wrote,
     * {@link Local} if no compactor took it (nothing failed: the owner compacts locally).
     *
     * @throws IOException the offload failed after it was submitted (compactor lost, deadline
     *                     passed, memory node lost); the owner retries or compacts locally and must
     *                     treat the attempt's output numbers as possibly written by a zombie
     */
    Outcome execute(OffloadRequest request) throws IOException;

    /** Releases nothing the DB still uses; the default does nothing. */
    @Override
    default void close() {
    }

    /**
     * One compaction (or sub-compaction) job.
     *
     * @param job        what to compact; {@code job.directory()} names the DB directory as every
     *                   process reaching the shared storage names it
     * @param jobId      unique per DB open
     * @param attempt    1 for the first submission of a pick, then 2, ...
     * @param startLevel the level the compaction starts from: the coordinator serves lower levels first
     * @param score      the picker's score for it: among equal start levels, higher first
     * @param deadline   how long the job may take from its submission
     */
    record OffloadRequest(CompactionRequest job, long jobId, int attempt, int startLevel, double score,
            Duration deadline) {
    }

    /** One file a compactor wrote: its metadata, plus the CRC32C of the file's whole contents. */
    record CompactedFile(OutputFile file, int crc32c) {
    }

    /** How a submission ended. */
    sealed interface Outcome permits Done, Local {
    }

    /** A compactor ran the job; the owner validates the files before installing them. */
    record Done(List<CompactedFile> outputs, long bytesRead, long bytesWritten, String compactor) implements Outcome {
    }

    /** No compactor took the job (none registered, queue too long); the owner compacts locally. */
    record Local(String reason) implements Outcome {
    }
}
