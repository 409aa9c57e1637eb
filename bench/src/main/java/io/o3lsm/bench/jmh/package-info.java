/**
 * The JMH suite: {@code bin/o3 jmh [regex] [JMH options]}. Micro-benchmarks of the hot paths, from
 * the inside out: memtable shard insert and get ({@link io.o3lsm.bench.jmh.MemtableBench}), SST
 * seek ({@link io.o3lsm.bench.jmh.TableSeekBench}), WAL append ({@link io.o3lsm.bench.jmh.WalAppendBench}),
 * the public API's put and get ({@link io.o3lsm.bench.jmh.DbApiBench}) and iterator next
 * ({@link io.o3lsm.bench.jmh.IteratorBench}), and the LZ4 codecs on SST blocks and tables
 * ({@link io.o3lsm.bench.jmh.Lz4Bench}: the pure-Java default against JNI). Each class fixes its
 * forks, warm-up and measurement in annotations; {@code bin/o3 jmh} shortens them for a quick look unless told otherwise. See
 * {@code docs/benchmarks.md}.
 *
 * <p>Internal classes use Agrona buffers, which need {@code jdk.internal.misc} exported: every fork
 * gets {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} and the setups also call
 * {@link io.o3lsm.format.FormatAccess#ensure()}.
 */
package io.o3lsm.bench.jmh;
