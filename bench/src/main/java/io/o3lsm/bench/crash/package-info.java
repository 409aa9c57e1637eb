/**
 * The kill -9 crash test ({@code bin/o3 crashtest}): {@link io.o3lsm.bench.crash.CrashTest} runs
 * the loop, {@code CrashHistory} records what a child intended and got acknowledged,
 * {@code CrashVerifier} judges a recovered state against it, {@code CrashCodec} makes keys and
 * self-checking values. Uses only the public API ({@code io.o3lsm}).
 */
package io.o3lsm.bench.crash;
