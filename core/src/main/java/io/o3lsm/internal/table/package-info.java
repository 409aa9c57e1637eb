/**
 * The SST file format: sorted internal keys and values in prefix-compressed, checksummed (and
 * optionally LZ4-compressed) data blocks, a full-file bloom filter over user keys, a block of range
 * tombstones, a properties block, a metaindex and an index block, between a header and a
 * checksummed footer. Data blocks are read through the shared
 * {@link io.o3lsm.internal.cache.BlockCache}. Specified byte for byte in
 * {@code docs/format/sstable.md}.
 *
 * <ul>
 *   <li>{@link io.o3lsm.internal.table.TableFormat}: constants and layouts shared by reader and
 *       writer (header, footer, block trailer, block handles).</li>
 *   <li>{@link io.o3lsm.internal.table.TableBuilder} writes a table;
 *       {@link io.o3lsm.internal.table.TableReader} reads one (point gets and iterators).</li>
 *   <li>{@link io.o3lsm.internal.table.BlockBuilder} / {@link io.o3lsm.internal.table.Block} /
 *       {@link io.o3lsm.internal.table.BlockIterator}: one block's entries and restart array.</li>
 *   <li>{@link io.o3lsm.internal.table.BloomFilter}: the filter block and its XXH64 hash.</li>
 * </ul>
 *
 * Internal: not part of the public API.
 */
package io.o3lsm.internal.table;
