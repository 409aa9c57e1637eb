/**
 * The formats and readers the engine shares with the daemons (memory node, flush workers,
 * compactor): internal keys ({@link io.o3lsm.format.InternalKey}), the internal iterator contract
 * and the merging iterator, point-lookup results, range tombstones and CRC32C. Subpackages hold the
 * DM memtable shard ({@code memtable}), the SST ({@code table}) and the record log ({@code log}).
 *
 * <p>Published for o3lsm's own modules, which run the engine's code on the same bytes; not an
 * application API (applications use {@code io.o3lsm}). No module other than core may reference
 * {@code io.o3lsm.internal}: the layering tests of each module fail the build when one does.
 */
package io.o3lsm.format;
