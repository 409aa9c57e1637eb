package io.o3lsm.bench.jmh;

import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.memtable.MemtableShard;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AtomicBuffer;
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
 * One memtable shard ({@link MemtableShard}, the off-heap skiplist): insert of random keys, and get
 * of present keys, single-threaded. Insert re-initializes the same arena when it fills (the reset is
 * a header rewrite, inside the measurement but rare). Get looks up random keys among
 * {@code entries} loaded in setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MemtableBench {
    @Param({"100", "1000"})
    int valueSize;

    @Param({"100000"})
    int entries;

    private static final int ARENA = 64 << 20;

    private MemtableShard insertShard;
    private AtomicBuffer insertArena;
    private MemtableShard getShard;
    private byte[][] keys;
    private byte[] value;
    private long sequence;
    private int next;
    private final Lookup lookup = new Lookup();

    @Setup(Level.Trial)
    public void setup() {
        FormatAccess.ensure();
        keys = JmhSupport.keys(entries, 1);
        value = JmhSupport.value(valueSize, 2);
        insertShard = MemtableShard.allocate(0, ARENA);
        insertArena = insertShard.buffer();
        long need = (long) entries * (16 + 8 + valueSize + 64) + (1 << 20);
        getShard = MemtableShard.allocate(1, (int) Math.min(Integer.MAX_VALUE - 64, need));
        for (int i = 0; i < entries; i++) {
            if (!getShard.add(i + 1, InternalKey.TYPE_VALUE, keys[i], 0, 16, value, 0, valueSize)) {
                throw new IllegalStateException("get shard too small at " + i);
            }
        }
    }

    @Benchmark
    public boolean insert() {
        byte[] k = keys[next];
        if (++next == keys.length) {
            next = 0;
        }
        long seq = ++sequence;
        if (!insertShard.add(seq, InternalKey.TYPE_VALUE, k, 0, 16, value, 0, valueSize)) {
            insertShard = new MemtableShard(insertArena, 0); // full: start over in the same arena
            return insertShard.add(seq, InternalKey.TYPE_VALUE, k, 0, 16, value, 0, valueSize);
        }
        return true;
    }

    @Benchmark
    public void get(Blackhole bh) {
        byte[] k = keys[next];
        if (++next == keys.length) {
            next = 0;
        }
        bh.consume(getShard.reader().get(k, Long.MAX_VALUE, lookup.reset()));
        bh.consume(lookup.value);
    }
}
