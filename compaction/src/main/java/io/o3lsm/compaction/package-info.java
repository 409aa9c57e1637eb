/**
 * Compaction offloading (docs/design/compaction-offload.md): the compactor daemon at the storage
 * tier ({@link io.o3lsm.compaction.Compactor}, {@link io.o3lsm.compaction.CompactorMain},
 * {@code bin/o3 compactor}), the compaction job's spec and report
 * ({@link io.o3lsm.compaction.CompactionSpec}, docs/format/compaction-job.md), and the owner's side
 * ({@link io.o3lsm.compaction.CompactionOffloadExecutor}, found through
 * {@code io.o3lsm.spi.CompactionOffloadExecutor.Provider}). Jobs travel through the memory node's
 * coordinator as job kind 2 of the DM protocol (docs/format/dm-protocol.md, version 4).
 */
package io.o3lsm.compaction;
