/** Benchmark runner and operational tools built on the public API. */
package io.o3lsm.bench;
