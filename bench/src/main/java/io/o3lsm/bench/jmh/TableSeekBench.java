package io.o3lsm.bench.jmh;

import io.o3lsm.Compression;
import io.o3lsm.bench.FileTrees;
import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
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
 * Seek in one SST ({@link TableReader}: index block, then data block restart-point binary search
 * and linear scan) to random present keys, then read the entry. With {@code cached=true} every data
 * block comes from a warm {@link BlockCache} (the block seek plus a cache hit); with {@code false}
 * each seek reads, verifies and (with LZ4) decompresses its block from the file through the OS page
 * cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TableSeekBench {
    @Param({"100000"})
    int entries;

    @Param({"100"})
    int valueSize;

    @Param({"true", "false"})
    boolean cached;

    @Param({"NONE", "LZ4"})
    Compression compression;

    private Path dir;
    private TableReader table;
    private InternalIterator it;
    private byte[][] seekKeys;
    private int next;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        FormatAccess.ensure();
        dir = JmhSupport.tempDir("o3-jmh-sst-");
        byte[][] keys = JmhSupport.keys(entries, 3);
        byte[][] sorted = keys.clone();
        Arrays.sort(sorted, Arrays::compareUnsigned);
        byte[] value = JmhSupport.value(valueSize, 4);
        Path file = dir.resolve("000001.sst");
        FileSystem fs = FileSystem.local();
        try (FileSystem.WritableFile out = fs.newWritableFile(file)) {
            TableBuilder b = new TableBuilder(out, file.getFileName().toString(),
                    new TableOptions(4096, 16, compression, 10));
            for (byte[] k : sorted) {
                b.add(InternalKey.encode(k, 1, InternalKey.TYPE_VALUE), value);
            }
            b.finish();
            out.sync();
        }
        // cached: a block cache larger than the file, warmed by one pass, so seeks never read
        table = TableReader.open(fs.newReadableFile(file), file.getFileName().toString(), 1,
                cached ? new BlockCache(1L << 30) : null);
        if (cached) {
            try (InternalIterator warm = table.iterator()) {
                for (warm.seekToFirst(); warm.isValid(); warm.next()) {
                    // touch every block
                }
            }
        }
        it = table.iterator();
        seekKeys = new byte[entries][];
        for (int i = 0; i < entries; i++) {
            seekKeys[i] = InternalKey.seekKey(keys[i], InternalKey.MAX_SEQUENCE);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        it.close();
        table.close();
        FileTrees.delete(dir, "jmh");
    }

    @Benchmark
    public void seek(Blackhole bh) {
        byte[] k = seekKeys[next];
        if (++next == seekKeys.length) {
            next = 0;
        }
        it.seek(k);
        bh.consume(it.isValid());
        bh.consume(it.value().getByte(0));
    }
}
