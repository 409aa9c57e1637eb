/**
 * Caches shared by the readers of a database: {@link io.o3lsm.internal.cache.BlockCache}, the
 * on-heap sharded LRU of decoded SST blocks keyed by (file number, block offset).
 *
 * Internal: not part of the public API.
 */
package io.o3lsm.internal.cache;
