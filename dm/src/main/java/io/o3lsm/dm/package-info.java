/**
 * Disaggregated memory over UCX (jucx 1.12.1 + libucx0 1.13): the memory-node daemon
 * ({@link io.o3lsm.dm.MemNode}), the {@link io.o3lsm.spi.MemoryNode} client and provider, and the
 * typed errors ({@link io.o3lsm.dm.DmException} and subclasses). Sub-packages: {@code transport}
 * (UCX context/worker owned by one progress agent, framed active messages), {@code protocol}
 * (wire layouts, spec in {@code docs/format/dm-protocol.md}), {@code node} (pool, segments,
 * request handling), {@code client}. Operations: {@code docs/operations/memnode.md}.
 */
package io.o3lsm.dm;
