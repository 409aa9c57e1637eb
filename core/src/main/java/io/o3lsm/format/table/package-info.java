/**
 * The SST file format: sorted internal keys and values in prefix-compressed, checksummed (and
 * optionally LZ4-compressed) data blocks, a full-file bloom filter over user keys, a block of range
 * tombstones, a properties block, a metaindex and an index block, between a header and a
 * checksummed footer. Data blocks are read through the shared
 * {@link io.o3lsm.format.table.BlockCache}. Specified byte for byte in
 * {@code docs/format/sstable.md}.
 *
 * <ul>
 *   <li>{@link io.o3lsm.format.table.TableFormat}: constants and layouts shared by reader and
 *       writer (header, footer, block trailer, block handles).</li>
 *   <li>{@link io.o3lsm.format.table.TableBuilder} writes a table;
 *       {@link io.o3lsm.format.table.TableReader} reads one (point gets and iterators).</li>
 *   <li>{@link io.o3lsm.format.table.BlockBuilder} / {@link io.o3lsm.format.table.Block} /
 *       {@link io.o3lsm.format.table.BlockIterator}: one block's entries and restart array.</li>
 *   <li>{@link io.o3lsm.format.table.BloomFilter}: the filter block and its XXH64 hash.</li>
 * </ul>
 *
 * Published for o3lsm's modules (see {@link io.o3lsm.format}); not an application API.
 */
package io.o3lsm.format.table;
