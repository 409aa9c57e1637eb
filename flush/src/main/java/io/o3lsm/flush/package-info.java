/**
 * Flush offloading: the flush coordinator (hosted by the memory node) and flush workers. Not built
 * yet; core flushes locally until this module plugs in through {@code io.o3lsm.spi}.
 */
package io.o3lsm.flush;
