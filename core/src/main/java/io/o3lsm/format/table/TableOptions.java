package io.o3lsm.format.table;

import io.o3lsm.Compression;
import io.o3lsm.Options;
import java.util.Objects;

/**
 * How a {@link TableBuilder} lays out an SST. Immutable and validated at construction
 * ({@link IllegalArgumentException} names the bad setting).
 *
 * <table>
 * <caption>Settings and defaults</caption>
 * <tr><th>setting</th><th>default</th><th>range</th><th>meaning</th></tr>
 * <tr><td>blockSize</td><td>4096</td><td>[1, 256 MiB]</td><td>a data block is cut once its
 * uncompressed size reaches this many bytes</td></tr>
 * <tr><td>restartInterval</td><td>16</td><td>[1, 65536]</td><td>keys between restart points in
 * data blocks</td></tr>
 * <tr><td>compression</td><td>LZ4</td><td></td><td>data and index block compression</td></tr>
 * <tr><td>bloomBitsPerKey</td><td>10</td><td>[0, 64]</td><td>bloom filter bits per distinct user
 * key; 0 writes no filter</td></tr>
 * </table>
 */
public final class TableOptions {
    public static final int MAX_BLOCK_SIZE = 256 << 20;
    public static final int MAX_RESTART_INTERVAL = 1 << 16;
    public static final int MAX_BLOOM_BITS_PER_KEY = 64;

    /** 4 KiB blocks, restart interval 16, LZ4, 10 bloom bits per key. */
    public static final TableOptions DEFAULT = new TableOptions(4096, 16, Compression.LZ4, 10);

    private final int blockSize;
    private final int restartInterval;
    private final Compression compression;
    private final int bloomBitsPerKey;

    public TableOptions(int blockSize, int restartInterval, Compression compression, int bloomBitsPerKey) {
        if (blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("blockSize must be in [1, " + MAX_BLOCK_SIZE + "], was " + blockSize);
        }
        if (restartInterval < 1 || restartInterval > MAX_RESTART_INTERVAL) {
            throw new IllegalArgumentException("restartInterval must be in [1, " + MAX_RESTART_INTERVAL
                    + "], was " + restartInterval);
        }
        if (bloomBitsPerKey < 0 || bloomBitsPerKey > MAX_BLOOM_BITS_PER_KEY) {
            throw new IllegalArgumentException("bloomBitsPerKey must be in [0, " + MAX_BLOOM_BITS_PER_KEY
                    + "], was " + bloomBitsPerKey);
        }
        this.blockSize = blockSize;
        this.restartInterval = restartInterval;
        this.compression = Objects.requireNonNull(compression, "compression");
        this.bloomBitsPerKey = bloomBitsPerKey;
    }

    /** The table settings of a database's options. */
    public static TableOptions of(Options o) {
        return new TableOptions(o.blockSize(), o.blockRestartInterval(), o.compression(), o.bloomBitsPerKey());
    }

    public int blockSize() {
        return blockSize;
    }

    public int restartInterval() {
        return restartInterval;
    }

    public Compression compression() {
        return compression;
    }

    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public TableOptions withBlockSize(int v) {
        return new TableOptions(v, restartInterval, compression, bloomBitsPerKey);
    }

    public TableOptions withCompression(Compression v) {
        return new TableOptions(blockSize, restartInterval, v, bloomBitsPerKey);
    }

    public TableOptions withBloomBitsPerKey(int v) {
        return new TableOptions(blockSize, restartInterval, compression, v);
    }

    @Override
    public String toString() {
        return "TableOptions{blockSize=" + blockSize + ", restartInterval=" + restartInterval
                + ", compression=" + compression + ", bloomBitsPerKey=" + bloomBitsPerKey + "}";
    }
}
