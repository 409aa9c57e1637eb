package io.o3lsm.bench.jmh;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.bench.FileTrees;
import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
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
 * Iterator next, reading each entry's key and value without copying: {@code dbNext} through the
 * public {@link DBIterator} (merging memtable shards and SSTs) on a DB holding {@code entries} keys
 * (flushed to SSTs if {@code flushed}), and {@code shardNext} over one memtable shard's skiplist.
 * At the end each iterator starts over from the first key (a rare seek inside the measurement).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class IteratorBench {
    /** One memtable shard holding {@code entries} keys, and an iterator over it. */
    @State(Scope.Thread)
    public static class ShardState {
        @Param({"100000"})
        int entries;

        @Param({"100"})
        int valueSize;

        InternalIterator it;

        @Setup(Level.Trial)
        public void setup() {
            FormatAccess.ensure();
            byte[][] keys = JmhSupport.keys(entries, 8);
            byte[] value = JmhSupport.value(valueSize, 9);
            MemtableShard shard = MemtableShard.allocate(0, (int) ((long) entries * (valueSize + 96) + (1 << 20)));
            for (int i = 0; i < entries; i++) {
                shard.add(i + 1, InternalKey.TYPE_VALUE, keys[i], 0, keys[i].length, value, 0, valueSize);
            }
            it = shard.reader().iterator();
            it.seekToFirst();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            it.close();
        }
    }

    /** A DB holding {@code entries} keys (flushed to SSTs if {@code flushed}), and an iterator over it. */
    @State(Scope.Thread)
    public static class DbState {
        @Param({"100000"})
        int entries;

        @Param({"100"})
        int valueSize;

        @Param({"false", "true"})
        boolean flushed;

        Path dir;
        DB db;
        DBIterator it;

        @Setup(Level.Trial)
        public void setup() {
            byte[][] keys = JmhSupport.keys(entries, 8);
            byte[] value = JmhSupport.value(valueSize, 9);
            dir = JmhSupport.tempDir("o3-jmh-it-");
            db = DB.open(dir.resolve("db"), Options.defaults());
            for (byte[] k : keys) {
                db.put(k, value);
            }
            if (flushed) {
                db.flush();
            }
            it = db.iterator();
            it.seekToFirst();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (it != null) {
                it.close();
            }
            if (db != null) {
                db.close();
            }
            FileTrees.delete(dir, "jmh");
        }
    }

    @Benchmark
    public void dbNext(DbState s, Blackhole bh) {
        DBIterator it = s.it;
        it.next();
        if (!it.isValid()) {
            it.seekToFirst();
        }
        bh.consume(it.keyBuffer());
        bh.consume(it.valueBuffer());
    }

    @Benchmark
    public void shardNext(ShardState s, Blackhole bh) {
        InternalIterator it = s.it;
        it.next();
        if (!it.isValid()) {
            it.seekToFirst();
        }
        bh.consume(it.key());
        bh.consume(it.value());
    }
}
