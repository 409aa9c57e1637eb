package io.o3lsm.bench.jmh;

import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.memtable.MemtableShard;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A flush's merge: {@code fanIn} sealed memtable shards of one key range (random 16-byte keys, the
 * benchmark's binary key format) merged front to back, reading every key and value, as
 * {@code FlushJob} does, through {@link MergingIterator} (tournament tree with cached key prefixes;
 * commit 2d5d8b1 also carries the binary heap it replaced, for a side-by-side run). The score is the
 * time of one whole merge; divide by
 * {@code fanIn * perShard} for the time per entry. DM mode flushes ~130 shards at once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MergeBench {
    @State(Scope.Benchmark)
    public static class Shards {
        @Param({"8", "130"})
        int fanIn;

        /** ~7.5k entries is a full 1 MiB shard with 100-byte values. */
        @Param({"7500"})
        int perShard;

        /**
         * {@code random}: keys inserted in random order, so a shard's skip-list nodes lie in the arena in
         * random key order and iterating it chases pointers across the arena (what fillrandom leaves);
         * {@code sorted}: inserted ascending, nodes in key order, iteration reads the arena front to
         * back. The difference is what a sorted layout of sealed shards would save a flush.
         */
        @Param({"random"})
        String layout;

        List<MemtableShard> shards;

        @Setup(Level.Trial)
        public void setup() {
            FormatAccess.ensure();
            byte[][] keys = JmhSupport.keys(fanIn * perShard, 42);
            byte[] value = JmhSupport.value(100, 9);
            shards = new ArrayList<>();
            long seq = 1;
            if ("sorted".equals(layout)) {
                for (int s = 0; s < fanIn; s++) {
                    Arrays.sort(keys, s * perShard, (s + 1) * perShard, Arrays::compareUnsigned);
                }
            }
            for (int s = 0; s < fanIn; s++) {
                MemtableShard shard = MemtableShard.allocate(s, perShard * 180 + (1 << 16));
                for (int i = 0; i < perShard; i++) {
                    byte[] k = keys[s * perShard + i];
                    if (!shard.add(seq++, InternalKey.TYPE_VALUE, k, 0, k.length, value, 0, value.length)) {
                        throw new IllegalStateException("shard full");
                    }
                }
                shards.add(shard);
            }
        }

        InternalIterator merge() {
            List<InternalIterator> its = new ArrayList<>(shards.size());
            for (MemtableShard s : shards) {
                its.add(s.reader().iterator());
            }
            return new MergingIterator(its);
        }
    }

    @Benchmark
    public long mergeAll(Shards s, Blackhole bh) {
        long n = 0;
        try (InternalIterator it = s.merge()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                DirectBuffer k = it.key();
                bh.consume(k.capacity());
                bh.consume(it.value());
                n++;
            }
        }
        return n;
    }
}
