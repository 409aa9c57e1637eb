package io.o3lsm.bench;

import java.nio.file.Path;
import java.util.Locale;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.HistogramData;
import org.rocksdb.HistogramType;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Statistics;
import org.rocksdb.StatsLevel;
import org.rocksdb.TickerType;
import org.rocksdb.UInt64AddOperator;
import org.rocksdb.WriteOptions;

/**
 * RocksDB through RocksJava ({@code org.rocksdb:rocksdbjni}, which bundles the native library for
 * Linux, macOS and Windows), for comparison only. Settings mapped from the runner's: write buffer →
 * {@code write_buffer_size} (with RocksDB's default {@code max_write_buffer_number} 2), bloom bits →
 * a full-filter {@link BloomFilter}, block cache → an {@link LRUCache} of that size (0:
 * {@code no_block_cache}), compression none/lz4/snappy, {@code max_background_jobs} 3 (o3: 2 flush
 * + 1 compaction threads), WAL on/off and sync per write. A {@link Statistics} object at
 * {@link StatsLevel#EXCEPT_DETAILED_TIMERS} (RocksDB's default level) supplies the bytes written
 * for write amplification. Everything else is RocksDB's default (which o3's defaults mirror).
 *
 * <p>For the merge benchmarks ({@link #useCounterMerge}) it sets RocksDB's built-in C++
 * {@link UInt64AddOperator} ({@code uint64add}: 8-byte little-endian values, added; RocksJava cannot
 * run a merge operator written in Java); other runs have no merge operator, as before.
 */
public final class RocksDbAdapter implements EngineAdapter {
    private Options options;
    private BlockBasedTableConfig table;
    private LRUCache cache;
    private BloomFilter bloom;
    private Statistics statistics;
    private RocksDB db;
    private WriteOptions writeOptions;
    private ReadOptions readOptions;
    private String describe;
    private boolean counterMerge;
    private UInt64AddOperator mergeOperator;
    /** READ_NUM_MERGE_OPERANDS's count and sum at the previous {@link #mergeState}. */
    private long operandGets;
    private long operandSum;

    @Override
    public String name() {
        return "rocksdb";
    }

    @Override
    public void open(Path dir, Settings s) {
        if (!"local".equals(s.mode())) {
            throw new IllegalArgumentException("rocksdb runs only in --mode local, not " + s.mode());
        }
        RocksDB.loadLibrary();
        CompressionType ct = switch (s.compression().toLowerCase(Locale.ROOT)) {
            case "none" -> CompressionType.NO_COMPRESSION;
            case "lz4" -> CompressionType.LZ4_COMPRESSION;
            case "snappy" -> CompressionType.SNAPPY_COMPRESSION;
            default -> throw new IllegalArgumentException("unknown compression " + s.compression());
        };
        statistics = new Statistics();
        statistics.setStatsLevel(StatsLevel.EXCEPT_DETAILED_TIMERS);
        table = new BlockBasedTableConfig().setBlockSize(4096);
        if (s.bloomBitsPerKey() > 0) {
            bloom = new BloomFilter(s.bloomBitsPerKey(), false);
            table.setFilterPolicy(bloom);
        }
        if (s.blockCacheSize() > 0) {
            cache = new LRUCache(s.blockCacheSize());
            table.setBlockCache(cache);
        } else {
            table.setNoBlockCache(true);
        }
        options = new Options()
                .setCreateIfMissing(true)
                .setWriteBufferSize(s.localBudget())
                .setMaxBackgroundJobs(3)
                .setCompressionType(ct)
                .setStatistics(statistics)
                .setTableFormatConfig(table);
        if (counterMerge) {
            mergeOperator = new UInt64AddOperator();
            options.setMergeOperator(mergeOperator);
        }
        writeOptions = new WriteOptions().setSync(s.sync()).setDisableWAL(s.disableWal());
        readOptions = new ReadOptions();
        try {
            db = RocksDB.open(options, dir.toString());
        } catch (RocksDBException e) {
            close();
            throw new IllegalStateException("rocksdb open " + dir + ": " + e.getMessage(), e);
        }
        describe = "RocksDB " + RocksDB.rocksdbVersion() + " (rocksdbjni) write_buffer_size=" + s.localBudget()
                + " max_write_buffer_number=" + options.maxWriteBufferNumber() + " max_background_jobs=3"
                + " compression=" + ct + " bloom_bits=" + s.bloomBitsPerKey() + " block_cache=" + s.blockCacheSize()
                + " block_size=4096 level0_triggers=" + options.level0FileNumCompactionTrigger() + "/"
                + options.level0SlowdownWritesTrigger() + "/" + options.level0StopWritesTrigger()
                + " target_file_size_base=" + options.targetFileSizeBase() + " max_bytes_for_level_base="
                + options.maxBytesForLevelBase() + " sync=" + s.sync() + " disableWAL=" + s.disableWal()
                + (counterMerge ? " merge_operator=uint64add (built-in, C++)" : "");
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        try {
            db.put(writeOptions, key, value);
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb put: " + e.getMessage(), e);
        }
    }

    @Override
    public int get(byte[] key, byte[] valueOut) {
        try {
            int n = db.get(readOptions, key, valueOut);
            return n == RocksDB.NOT_FOUND ? -1 : n;
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb get: " + e.getMessage(), e);
        }
    }

    @Override
    public java.util.List<byte[]> multiGet(java.util.List<byte[]> keys) {
        try {
            return db.multiGetAsList(readOptions, java.util.Collections.nCopies(keys.size(), db.getDefaultColumnFamily()),
                    keys);
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb multiGet: " + e.getMessage(), e);
        }
    }

    @Override
    public void useCounterMerge() {
        counterMerge = true;
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        try {
            db.merge(writeOptions, key, operand);
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb merge: " + e.getMessage(), e);
        }
    }

    /**
     * Merge operands per get since the previous call (RocksDB's READ_NUM_MERGE_OPERANDS histogram,
     * every get counted), entries in the active memtable, and SST files per level.
     */
    @Override
    public String mergeState() {
        if (db == null || !counterMerge) {
            return null;
        }
        HistogramData h = statistics.getHistogramData(HistogramType.READ_NUM_MERGE_OPERANDS);
        long gets = h.getCount() - operandGets;
        long sum = h.getSum() - operandSum;
        operandGets = h.getCount();
        operandSum = h.getSum();
        StringBuilder files = new StringBuilder();
        try {
            for (int level = 0; level < options.numLevels(); level++) {
                files.append(level == 0 ? "" : "/").append(db.getProperty("rocksdb.num-files-at-level" + level));
            }
            return String.format(Locale.ROOT, "%d gets combined %.1f merge operands each (cumulative P99 %.0f, max %.0f); "
                    + "active memtable %s entries, %s immutable; SST files per level %s; merge failures %d", gets,
                    gets == 0 ? 0.0 : sum / (double) gets, h.getPercentile99(), h.getMax(),
                    db.getProperty("rocksdb.num-entries-active-mem-table"), db.getProperty("rocksdb.num-immutable-mem-table"),
                    files, statistics.getTickerCount(TickerType.NUMBER_MERGE_FAILURES));
        } catch (RocksDBException e) {
            return "rocksdb properties: " + e.getMessage();
        }
    }

    @Override
    public void delete(byte[] key) {
        try {
            db.delete(writeOptions, key);
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb delete: " + e.getMessage(), e);
        }
    }

    @Override
    public Cursor newCursor() {
        RocksIterator it = db.newIterator(readOptions);
        return new Cursor() {
            @Override
            public void seekToFirst() {
                it.seekToFirst();
            }

            @Override
            public void seek(byte[] target) {
                it.seek(target);
            }

            @Override
            public boolean isValid() {
                return it.isValid();
            }

            @Override
            public void next() {
                it.next();
            }

            @Override
            public int key(byte[] out) {
                return it.key(out);
            }

            @Override
            public int value(byte[] out) {
                return it.value(out);
            }

            @Override
            public void close() {
                it.close();
            }
        };
    }

    @Override
    public IoCounters ioCounters() {
        return new IoCounters(statistics.getTickerCount(TickerType.WAL_FILE_BYTES),
                statistics.getTickerCount(TickerType.FLUSH_WRITE_BYTES),
                statistics.getTickerCount(TickerType.COMPACT_WRITE_BYTES));
    }

    @Override
    public long stallMicros() {
        return statistics.getTickerCount(TickerType.STALL_MICROS);
    }

    @Override
    public void close() {
        if (db != null) {
            db.close();
            db = null;
        }
        for (AutoCloseable c : new AutoCloseable[] {readOptions, writeOptions, options, mergeOperator, cache, bloom,
            statistics}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // native handles: nothing useful to do
                }
            }
        }
        readOptions = null;
        writeOptions = null;
        options = null;
        mergeOperator = null;
        cache = null;
        bloom = null;
        statistics = null;
    }
}
