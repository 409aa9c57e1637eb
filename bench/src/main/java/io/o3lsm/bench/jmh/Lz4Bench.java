package io.o3lsm.bench.jmh;

import io.o3lsm.Compression;
import io.o3lsm.bench.FileTrees;
import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.spi.FileSystem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
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

/**
 * What the pure-Java LZ4 default costs against lz4-java's JNI binding ({@code codec=java|jni};
 * the engine's choice is {@code io.o3lsm.format.table.Lz4Codec}, switched with
 * {@code -Do3lsm.lz4=jni}). Each codec runs in its own fork, so the engine's one-per-JVM choice
 * is the one measured; the setup fails if lz4-java's JNI library is (or is not) loaded against the
 * parameter.
 *
 * <ul>
 *   <li>{@code compressBlock}, {@code decompressBlock}: one 4 KiB SST data block (the default
 *       block size; 16-byte keys as internal keys, prefix-compressed with restarts every 16 entries
 *       as {@code docs/format/sstable.md} lays them out, {@code valueSize}-byte half-compressible
 *       values, each different: 58% of the size after LZ4), cycling over 64 different blocks;</li>
 *   <li>{@code writeTable}: a whole LZ4 table of {@code entries} entries built by
 *       {@link TableBuilder} into a file that discards the bytes (blocks, bloom, CRCs,
 *       compression; no I/O);</li>
 *   <li>{@code scanTable}: a full scan of that table by {@link TableReader} without a block cache
 *       (each block read from the OS page cache, CRC-checked and decompressed).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Lz4Bench {
    @Param({"java", "jni"})
    String codec;

    @Param({"100"})
    int valueSize;

    @Param({"20000"})
    int entries;

    private LZ4Compressor compressor;
    private LZ4SafeDecompressor decompressor;
    private byte[][] blocks;
    private byte[][] compressed;
    private int[] compressedLength;
    private byte[] out;
    private byte[] restored;
    private int next;

    private byte[][] sortedKeys;
    /** 1,024 different values, so that no block repeats one (entry i gets value i mod 1,024). */
    private byte[][] values;
    private Path dir;
    private TableReader table;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        // before the first table is built: the engine picks its codec once per JVM
        System.setProperty("o3lsm.lz4", codec);
        FormatAccess.ensure();
        LZ4Factory factory = switch (codec) {
            case "java" -> LZ4Factory.safeInstance();
            case "jni" -> LZ4Factory.nativeInstance();
            default -> throw new IllegalArgumentException("codec must be java or jni, was " + codec);
        };
        compressor = factory.fastCompressor();
        decompressor = factory.safeDecompressor();

        values = new byte[1024][];
        for (int i = 0; i < values.length; i++) {
            values[i] = JmhSupport.value(valueSize, 100 + i);
        }
        byte[][] keys = JmhSupport.keys(64 * 64, 7);
        Arrays.sort(keys, Arrays::compareUnsigned);
        blocks = new byte[64][];
        compressed = new byte[64][];
        compressedLength = new int[64];
        out = new byte[compressor.maxCompressedLength(8192)];
        for (int b = 0; b < blocks.length; b++) {
            blocks[b] = dataBlock(keys, b * 64, values, 4096);
            compressed[b] = new byte[compressor.maxCompressedLength(blocks[b].length)];
            compressedLength[b] = compressor.compress(blocks[b], 0, blocks[b].length, compressed[b], 0, compressed[b].length);
        }
        restored = new byte[8192];
        long raw = 0;
        long packed = 0;
        for (int b = 0; b < blocks.length; b++) {
            raw += blocks[b].length;
            packed += compressedLength[b];
        }
        System.out.printf("codec=%s: %d data blocks of %d bytes on average, compressed to %.1f%%%n",
                codec, blocks.length, raw / blocks.length, 100.0 * packed / raw);

        sortedKeys = JmhSupport.keys(entries, 3);
        Arrays.sort(sortedKeys, Arrays::compareUnsigned);
        dir = JmhSupport.tempDir("o3-jmh-lz4-");
        Path file = dir.resolve("000001.sst");
        FileSystem fs = FileSystem.local();
        try (FileSystem.WritableFile f = fs.newWritableFile(file)) {
            build(f);
            f.sync();
        }
        table = TableReader.open(fs.newReadableFile(file), file.getFileName().toString(), 1, null);
        if (net.jpountz.util.Native.isLoaded() != codec.equals("jni")) {
            throw new IllegalStateException("codec=" + codec + " but lz4-java's JNI library is "
                    + (net.jpountz.util.Native.isLoaded() ? "" : "not ") + "loaded");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        table.close();
        FileTrees.delete(dir, "jmh");
    }

    /**
     * A data block of about {@code targetSize} bytes as {@code BlockBuilder} lays it out: entries
     * from {@code keys[from…]} (version 1 of each) with prefix-shared keys, a restart every 16.
     */
    private static byte[] dataBlock(byte[][] keys, int from, byte[][] values, int targetSize) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(targetSize + 256);
        java.util.List<Integer> restarts = new java.util.ArrayList<>();
        byte[] last = new byte[0];
        for (int i = from; b.size() < targetSize; i++) {
            byte[] k = InternalKey.encode(keys[i % keys.length], 1, InternalKey.TYPE_VALUE);
            byte[] value = values[i % values.length];
            int shared = 0;
            if ((i - from) % 16 == 0) {
                restarts.add(b.size());
            } else {
                while (shared < Math.min(k.length, last.length) && k[shared] == last[shared]) {
                    shared++;
                }
            }
            varint(b, shared);
            varint(b, k.length - shared);
            varint(b, value.length);
            b.write(k, shared, k.length - shared);
            b.write(value, 0, value.length);
            last = k;
        }
        for (int r : restarts) {
            fixed32(b, r);
        }
        fixed32(b, restarts.size());
        return b.toByteArray();
    }

    private static void varint(ByteArrayOutputStream b, int v) {
        while ((v & ~0x7F) != 0) {
            b.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b.write(v);
    }

    private static void fixed32(ByteArrayOutputStream b, int v) {
        for (int i = 0; i < 4; i++) {
            b.write(v >>> (8 * i));
        }
    }

    private long build(FileSystem.WritableFile f) throws IOException {
        TableBuilder b = new TableBuilder(f, "000001.sst", new TableOptions(4096, 16, Compression.LZ4, 10));
        for (int i = 0; i < sortedKeys.length; i++) {
            b.add(InternalKey.encode(sortedKeys[i], 1, InternalKey.TYPE_VALUE), values[i % values.length]);
        }
        return b.finish().fileSize();
    }

    @Benchmark
    public int compressBlock() {
        int b = next++ & 63;
        return compressor.compress(blocks[b], 0, blocks[b].length, out, 0, out.length);
    }

    @Benchmark
    public int decompressBlock() {
        int b = next++ & 63;
        return decompressor.decompress(compressed[b], 0, compressedLength[b], restored, 0, restored.length);
    }

    @Benchmark
    public long writeTable() throws IOException {
        try (DiscardingFile f = new DiscardingFile()) {
            return build(f);
        }
    }

    @Benchmark
    public long scanTable() {
        long sum = 0;
        try (InternalIterator it = table.iterator(false, true)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                sum += it.value().getByte(0);
            }
        }
        return sum;
    }

    /** A file that counts and drops what is appended, so {@code writeTable} measures no I/O. */
    private static final class DiscardingFile implements FileSystem.WritableFile {
        private long size;

        @Override
        public void append(byte[] src, int off, int len) {
            size += len;
        }

        @Override
        public void flush() {
        }

        @Override
        public void sync() {
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() {
        }
    }
}
