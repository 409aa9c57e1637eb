package io.o3lsm.spi;

import io.o3lsm.Compression;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one compaction job: a pure function from input SSTs (plus pre-allocated output file numbers
 * and the live snapshots) to output SSTs. The owning DB picks the job, then installs the result with
 * a VersionEdit in its MANIFEST; the executor never touches the MANIFEST. Running a job twice is
 * safe (outputs are rewritten; unused outputs are collected as orphans at the next open).
 *
 * <p>The default, {@link io.o3lsm.job.CompactionJob}, runs the job in the DB's own process (used
 * when {@link io.o3lsm.Options#compactionExecutor} is not set); an executor that ships the request
 * to a compactor at the storage tier plugs in through that option. Implementations are thread-safe.
 */
public interface CompactionExecutor {
    CompactionResult execute(CompactionRequest request) throws IOException;

    /** One input SST. */
    record InputFile(int level, long number, long size) {
    }

    /**
     * A job. {@code snapshots} (ascending) are sequence numbers that must stay readable: for each
     * user key the job keeps the newest entry at or below each of them and the newest overall.
     * {@code bottommost}: no older data for these keys exists below the output level, so tombstones
     * visible to every snapshot may be dropped. Table settings describe how outputs are written.
     * {@code lowerBound} (inclusive) and {@code upperBound} (exclusive) are user keys that confine a
     * <em>sub-compaction</em> to one key range of its compaction (null = unbounded on that side):
     * only entries and range tombstones inside them are read and written. {@code mergeOperator}
     * names the {@link io.o3lsm.MergeOperator} that combines merge operands (null: none, operands
     * are kept as they are); an executor that cannot find it fails the request. {@code filter}
     * describes the {@link io.o3lsm.CompactionFilter} to apply (null: none).
     */
    record CompactionRequest(Path directory, long epoch, List<InputFile> inputs, int outputLevel,
            boolean bottommost, long[] snapshots, long[] outputFileNumbers, long targetFileSize, int blockSize,
            int restartInterval, Compression compression, int bloomBitsPerKey, byte[] lowerBound, byte[] upperBound,
            String mergeOperator, Filter filter, List<FamilyTable> familyTables) {
        /** {@code familyTables}: null is taken as empty (a DB without column families). */
        public CompactionRequest {
            familyTables = familyTables == null ? List.of() : List.copyOf(familyTables);
        }

        /** As the canonical constructor, for a DB without column families. */
        public CompactionRequest(Path directory, long epoch, List<InputFile> inputs, int outputLevel,
                boolean bottommost, long[] snapshots, long[] outputFileNumbers, long targetFileSize, int blockSize,
                int restartInterval, Compression compression, int bloomBitsPerKey, byte[] lowerBound,
                byte[] upperBound, String mergeOperator, Filter filter) {
            this(directory, epoch, inputs, outputLevel, bottommost, snapshots, outputFileNumbers, targetFileSize,
                    blockSize, restartInterval, compression, bloomBitsPerKey, lowerBound, upperBound, mergeOperator,
                    filter, List.of());
        }

        /** As the canonical constructor, with no compaction filter. */
        public CompactionRequest(Path directory, long epoch, List<InputFile> inputs, int outputLevel,
                boolean bottommost, long[] snapshots, long[] outputFileNumbers, long targetFileSize, int blockSize,
                int restartInterval, Compression compression, int bloomBitsPerKey, byte[] lowerBound,
                byte[] upperBound, String mergeOperator) {
            this(directory, epoch, inputs, outputLevel, bottommost, snapshots, outputFileNumbers, targetFileSize,
                    blockSize, restartInterval, compression, bloomBitsPerKey, lowerBound, upperBound, mergeOperator,
                    null);
        }

        /** As the canonical constructor, with no merge operator and no compaction filter. */
        public CompactionRequest(Path directory, long epoch, List<InputFile> inputs, int outputLevel,
                boolean bottommost, long[] snapshots, long[] outputFileNumbers, long targetFileSize, int blockSize,
                int restartInterval, Compression compression, int bloomBitsPerKey, byte[] lowerBound,
                byte[] upperBound) {
            this(directory, epoch, inputs, outputLevel, bottommost, snapshots, outputFileNumbers, targetFileSize,
                    blockSize, restartInterval, compression, bloomBitsPerKey, lowerBound, upperBound, null);
        }

        /** A whole compaction (no sub-range bounds). */
        public CompactionRequest(Path directory, long epoch, List<InputFile> inputs, int outputLevel,
                boolean bottommost, long[] snapshots, long[] outputFileNumbers, long targetFileSize, int blockSize,
                int restartInterval, Compression compression, int bloomBitsPerKey) {
            this(directory, epoch, inputs, outputLevel, bottommost, snapshots, outputFileNumbers, targetFileSize,
                    blockSize, restartInterval, compression, bloomBitsPerKey, null, null);
        }
    }

    /**
     * The {@link io.o3lsm.CompactionFilter} a flush or compaction job applies.
     *
     * @param name           the filter's name (resolved by {@link io.o3lsm.CompactionFilters#byName}
     *                       where the job runs)
     * @param nowMillis      the owner's clock when the job was created
     *                       ({@link io.o3lsm.CompactionFilter.Context#nowMillis})
     * @param newestSnapshot the newest live snapshot's sequence when the job was created, 0 if none:
     *                       only entries above it are filtered (a snapshot never sees a filtered entry)
     */
    /**
     * The table options of one column family of a family-aware DB: a job given any cuts its outputs
     * where the family changes, so that no file holds two families' keys, and writes each family's
     * files with its compression and bloom bits (block size and restart interval are the request's).
     * A DB without column families gives none.
     */
    record FamilyTable(int family, Compression compression, int bloomBitsPerKey) {
        public FamilyTable {
            if (family < 0 || compression == null || bloomBitsPerKey < 0 || bloomBitsPerKey > 64) {
                throw new IllegalArgumentException("a family table needs family >= 0, a compression and bloom bits in "
                        + "[0, 64]; was " + family + ", " + compression + ", " + bloomBitsPerKey);
            }
        }
    }

    record Filter(String name, long nowMillis, long newestSnapshot) {
        public Filter {
            io.o3lsm.CompactionFilters.checkName(name);
            if (newestSnapshot < 0) {
                throw new IllegalArgumentException("newestSnapshot must be >= 0, was " + newestSnapshot);
            }
        }
    }

    /** One output SST, described as a VersionEdit needs it (internal keys, inclusive sequence range). */
    record OutputFile(long number, long size, byte[] smallest, byte[] largest, long smallestSequence,
            long largestSequence) {
    }

    /** What the job produced and how many bytes it moved. */
    record CompactionResult(List<OutputFile> outputs, long bytesRead, long bytesWritten) {
    }
}
