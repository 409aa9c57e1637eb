/**
 * The o3lsm binding of the official YCSB Java client ({@code site.ycsb:core}): {@link io.o3lsm.ycsb.O3Client}
 * ({@code bin/o3 ycsb load|run -P workloada …}; {@code docs/operations/ycsb.md}). Uses o3lsm through
 * its public API only.
 */
package io.o3lsm.ycsb;
