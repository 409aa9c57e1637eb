package io.o3lsm.bench.jmh;

import io.o3lsm.bench.FileTrees;
import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The public API on an embedded DB in a temporary directory, default options, WAL on without
 * sync: {@code put} of random keys (overwriting {@code entries} keys round robin: the DB keeps
 * flushing as it would under load), {@code get} of present keys into a caller's buffer
 * (zero-allocation path), and {@code getArray} (the allocating {@code byte[] get(byte[])}).
 * Single-threaded; run with {@code -t N} for concurrent callers (group commit).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DbApiBench {
    @Param({"100", "1000"})
    int valueSize;

    @Param({"100000"})
    int entries;

    private Path dir;
    private DB db;
    private byte[][] keys;
    private byte[] value;
    private final WriteOptions writeOptions = WriteOptions.defaults();

    /** Per-thread cursor and buffers. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        ByteBuffer out;
    }

    @Setup(Level.Trial)
    public void setup() {
        dir = JmhSupport.tempDir("o3-jmh-db-");
        db = DB.open(dir.resolve("db"), Options.defaults());
        keys = JmhSupport.keys(entries, 6);
        value = JmhSupport.value(valueSize, 7);
        for (byte[] k : keys) {
            db.put(k, value);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        db.close();
        FileTrees.delete(dir, "jmh");
    }

    private byte[] nextKey(Cursor c) {
        byte[] k = keys[c.next];
        c.next = (c.next + 7919) % keys.length; // stride through the keys; threads start at 0 and interleave
        return k;
    }

    @Benchmark
    public void put(Cursor c) {
        db.put(nextKey(c), value, writeOptions);
    }

    @Benchmark
    public int get(Cursor c) {
        if (c.out == null) {
            c.out = ByteBuffer.allocate(valueSize);
        }
        c.out.clear();
        return db.get(ByteBuffer.wrap(nextKey(c)), c.out);
    }

    @Benchmark
    public void getArray(Cursor c, Blackhole bh) {
        bh.consume(db.get(nextKey(c)));
    }
}
