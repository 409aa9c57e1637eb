package io.o3lsm.spi;

import io.o3lsm.Compression;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Runs a flush somewhere other than the DB's own process: the flush twin of
 * {@link CompactionExecutor}. The owner (the DB) picks the job under its mutex, hands it here
 * (the sealed shards of one key range, all already on the memory node), and installs what comes
 * back after validating it; the executor never touches the MANIFEST. A job is a pure function of
 * its inputs plus its pre-allocated output file numbers, so running it twice is safe, and every
 * attempt gets numbers of its own (a zombie attempt can never overwrite a file another attempt
 * wrote: outputs are created exclusively).
 *
 * <p>Found with {@link java.util.ServiceLoader} through {@link Provider} when
 * {@code Options.flushOffload(true)} (the flush module provides it). The local flush
 * ({@link io.o3lsm.job.FlushJob}) needs no executor. Implementations are thread-safe.
 * Design: {@code docs/design/flush-offload.md}.
 */
public interface FlushExecutor extends AutoCloseable {
    /** Creates the executor of one DB, over the DB's connection to its memory node. */
    interface Provider {
        FlushExecutor create(MemoryNode.Client memoryNode);

        /**
         * Starts a flush worker inside this process ({@code Options.flushWorkerSlots}): it registers
         * with the coordinator of {@code memoryNode} and runs up to {@code slots} flush jobs of any
         * DB at once, writing outputs under {@code storageRoot} through {@code fs}. Connecting
         * happens in the background (retried while the node is away); closing the handle cancels
         * running jobs and disconnects.
         */
        default AutoCloseable startWorker(String memoryNode, byte[] secret, String name, Path storageRoot,
                FileSystem fs, int slots) {
            throw new UnsupportedOperationException("this flush executor provider cannot run a worker");
        }
    }

    /**
     * Submits the job and waits until it ended: {@link Done} with the files a worker wrote,
     * {@link Local} if no worker took it (nothing failed: the owner flushes locally).
     *
     * @throws IOException the offload failed after it was submitted (worker lost, deadline passed,
     *                     memory node lost); the owner flushes locally (a fallback) and must treat
     *                     the attempt's output numbers as possibly written by a zombie
     */
    Outcome execute(FlushRequest request) throws IOException;

    /** Releases nothing the DB still uses; the default does nothing. */
    @Override
    default void close() {
    }

    /** Placement policy: by load (the default), or whenever any worker has a free slot. */
    enum Placement {
        /** The least-loaded worker, only if it is less loaded than the owner. */
        LOAD,
        /** Any worker with a free slot (benchmarks and tests of the offload path). */
        ALWAYS
    }

    /**
     * One flush job.
     *
     * @param directory         the DB directory, as every process reaching the shared storage names it
     * @param epoch             the owner's open epoch
     * @param jobId             unique per DB open
     * @param attempt           1 for the first submission of a pick, then 2, ...
     * @param range             the shard range
     * @param inputs            the range's sealed shards, newest first, all on the memory node
     * @param tombstones        the range tombstones the inputs hold
     * @param snapshots         sequences that must stay readable, ascending
     * @param outputFileNumbers numbers this attempt may use, in order; no other attempt gets them
     * @param ownerLoad         the owner's own load, 0 = idle, 1 = every core it may use busy
     * @param pressureBytes     the range's sealed bytes: the coordinator serves the largest first
     * @param deadline          how long the job may take once placed
     * @param mergeOperator     the name of the merge operator that combines operands, or null (none:
     *                          operands are kept); a worker that cannot find it fails the job
     * @param filter            the compaction filter the flush applies
     *                          ({@link io.o3lsm.Options#compactionFilterOnFlush}), or null
     * @param familyTables      a family-aware DB's families and their table options (empty otherwise):
     *                          see {@link CompactionExecutor.FamilyTable}
     */
    record FlushRequest(Path directory, long epoch, long jobId, int attempt, int range,
            List<MemoryNode.RemoteShard> inputs, List<RangeTombstone> tombstones, long[] snapshots,
            long[] outputFileNumbers, long targetFileSize, int blockSize, int restartInterval, Compression compression,
            int bloomBitsPerKey, Placement placement, double ownerLoad, long pressureBytes, Duration deadline,
            String mergeOperator, CompactionExecutor.Filter filter, List<CompactionExecutor.FamilyTable> familyTables) {
        /** {@code familyTables}: null is taken as empty (a DB without column families). */
        public FlushRequest {
            familyTables = familyTables == null ? List.of() : List.copyOf(familyTables);
        }

        /** As the canonical constructor, for a DB without column families. */
        public FlushRequest(Path directory, long epoch, long jobId, int attempt, int range,
                List<MemoryNode.RemoteShard> inputs, List<RangeTombstone> tombstones, long[] snapshots,
                long[] outputFileNumbers, long targetFileSize, int blockSize, int restartInterval,
                Compression compression, int bloomBitsPerKey, Placement placement, double ownerLoad,
                long pressureBytes, Duration deadline, String mergeOperator, CompactionExecutor.Filter filter) {
            this(directory, epoch, jobId, attempt, range, inputs, tombstones, snapshots, outputFileNumbers,
                    targetFileSize, blockSize, restartInterval, compression, bloomBitsPerKey, placement, ownerLoad,
                    pressureBytes, deadline, mergeOperator, filter, List.of());
        }

        /** As the canonical constructor, with no compaction filter. */
        public FlushRequest(Path directory, long epoch, long jobId, int attempt, int range,
                List<MemoryNode.RemoteShard> inputs, List<RangeTombstone> tombstones, long[] snapshots,
                long[] outputFileNumbers, long targetFileSize, int blockSize, int restartInterval,
                Compression compression, int bloomBitsPerKey, Placement placement, double ownerLoad,
                long pressureBytes, Duration deadline, String mergeOperator) {
            this(directory, epoch, jobId, attempt, range, inputs, tombstones, snapshots, outputFileNumbers,
                    targetFileSize, blockSize, restartInterval, compression, bloomBitsPerKey, placement, ownerLoad,
                    pressureBytes, deadline, mergeOperator, null, List.of());
        }

        /** As the canonical constructor, with no merge operator and no compaction filter. */
        public FlushRequest(Path directory, long epoch, long jobId, int attempt, int range,
                List<MemoryNode.RemoteShard> inputs, List<RangeTombstone> tombstones, long[] snapshots,
                long[] outputFileNumbers, long targetFileSize, int blockSize, int restartInterval,
                Compression compression, int bloomBitsPerKey, Placement placement, double ownerLoad,
                long pressureBytes, Duration deadline) {
            this(directory, epoch, jobId, attempt, range, inputs, tombstones, snapshots, outputFileNumbers,
                    targetFileSize, blockSize, restartInterval, compression, bloomBitsPerKey, placement, ownerLoad,
                    pressureBytes, deadline, null, null, List.of());
        }
    }

    /** One file a worker wrote: its metadata, plus the CRC32C of the file's whole contents. */
    record FlushedFile(OutputFile file, int crc32c) {
    }

    /** How a submission ended. */
    sealed interface Outcome permits Done, Local {
    }

    /** A worker ran the job; the owner validates the files before installing them. */
    record Done(List<FlushedFile> outputs, long bytesRead, long bytesWritten, String worker) implements Outcome {
    }

    /** No worker took the job (none registered, none free, none less loaded than the owner, queue full). */
    record Local(String reason) implements Outcome {
    }
}
