/**
 * The DM-optimized memtable: shards that are each one contiguous, position-independent arena
 * holding a lock-free skiplist of internal keys and values, linked by 32-bit offsets from the
 * arena start. Shipping a shard to a memory node or a flush worker is copying its used bytes; the
 * receiver reads, searches and iterates the same bytes in place with {@link
 * io.o3lsm.format.memtable.ShardReader}.
 *
 * <ul>
 *   <li>{@link io.o3lsm.format.memtable.ShardDescriptor}: the byte layout (header, nodes), as
 *       constants and offset functions. Spec: {@code docs/format/dm-memtable.md}.</li>
 *   <li>{@link io.o3lsm.format.memtable.MemtableShard}: the writer owning an arena; concurrent
 *       lock-free adds, sealing.</li>
 *   <li>{@link io.o3lsm.format.memtable.ShardReader}: the reader over any buffer holding shard
 *       bytes: point gets under a snapshot sequence, zero-copy iterators, validation and checksum.</li>
 * </ul>
 *
 * <p>Lifecycle: allocate → add (many threads) → seal (waits for in-flight adds) → read, copy, ship,
 * flush → release. A sealed shard's bytes never change.
 */
package io.o3lsm.format.memtable;
