/**
 * Compaction offloading: the compaction worker daemon at the storage tier. Not built yet; core
 * compacts locally until this module plugs in through {@code io.o3lsm.spi}.
 */
package io.o3lsm.compaction;
