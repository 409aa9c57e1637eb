/**
 * Disaggregated memory: UCX transport (jucx), the memory-node daemon, the shard offload client and
 * delegated reads. Not built yet: see the issue "Disaggregated memory". Plugs into core through the
 * SPIs in {@code io.o3lsm.spi}.
 */
package io.o3lsm.dm;
