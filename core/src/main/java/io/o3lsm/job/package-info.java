/**
 * Flush and compaction job execution: pure functions from inputs (shard iterators or input SSTs,
 * the sequences to keep, pre-allocated output file numbers) to output SSTs described as
 * {@link io.o3lsm.spi.CompactionExecutor.OutputFile}s. The owning DB picks jobs and installs their
 * results; the jobs never touch a MANIFEST.
 *
 * <ul>
 *   <li>{@link io.o3lsm.job.FlushJob}: sealed shards of one key range → L0 SSTs.</li>
 *   <li>{@link io.o3lsm.job.CompactionJob}: the in-process {@link io.o3lsm.spi.CompactionExecutor}.</li>
 * </ul>
 *
 * <p>Published for o3lsm's modules (flush workers and compactors run the same code on the same
 * bytes; see {@link io.o3lsm.format}); not an application API.
 */
package io.o3lsm.job;
