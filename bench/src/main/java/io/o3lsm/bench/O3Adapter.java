package io.o3lsm.bench;

import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The embedded o3lsm engine ({@code DB.open} on a local directory). With the runner's settings it
 * sets {@code writeBufferSize} (the local budget), {@code bloomBitsPerKey}, {@code blockCacheSize}
 * and {@code compression}; everything else keeps o3's defaults, which mirror RocksDB's (64 MiB
 * SSTs, L0 triggers 4/20/36, 256 MiB L1, 4 KiB blocks). Constructed with explicit {@link Options},
 * it uses them unchanged.
 */
public final class O3Adapter implements EngineAdapter {
    private final Options fixedOptions;
    private Options options;
    private DB db;
    private WriteOptions writeOptions;
    private String note = "";

    public O3Adapter() {
        this(null);
    }

    public O3Adapter(Options options) {
        this.fixedOptions = options;
    }

    @Override
    public String name() {
        return "o3";
    }

    @Override
    public void open(Path dir, Settings settings) {
        writeOptions = WriteOptions.defaults().sync(settings.sync()).disableWal(settings.disableWal());
        if (fixedOptions != null) {
            options = fixedOptions;
        } else {
            options = Options.defaults()
                    .writeBufferSize(settings.localBudget())
                    .bloomBitsPerKey(settings.bloomBitsPerKey())
                    .blockCacheSize(settings.blockCacheSize());
            switch (settings.compression().toLowerCase(Locale.ROOT)) {
                case "none" -> options.compression(Compression.NONE);
                case "lz4" -> options.compression(Compression.LZ4);
                default -> {
                    options.compression(Compression.NONE);
                    note = " (o3 has no " + settings.compression() + " compression: using none)";
                }
            }
        }
        db = DB.open(dir, options);
    }

    @Override
    public String describe() {
        return options + " " + writeOptions + note;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        db.put(key, value, writeOptions);
    }

    @Override
    public int get(byte[] key, byte[] valueOut) {
        // the wrappers do not escape; C2 normally scalar-replaces them
        return db.get(ByteBuffer.wrap(key), ByteBuffer.wrap(valueOut));
    }

    @Override
    public void delete(byte[] key) {
        db.delete(key, writeOptions);
    }

    @Override
    public Cursor newCursor() {
        DBIterator it = db.iterator();
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
                return it.key(ByteBuffer.wrap(out));
            }

            @Override
            public int value(byte[] out) {
                return it.value(ByteBuffer.wrap(out));
            }

            @Override
            public void close() {
                it.close();
            }
        };
    }

    @Override
    public IoCounters ioCounters() {
        DBStats s = db.stats();
        return new IoCounters(s.walBytesWritten(), s.flushBytesWritten(), s.compactionBytesWritten());
    }

    /** The open DB, for callers that need more than the adapter offers. */
    public DB db() {
        return db;
    }

    @Override
    public void close() {
        if (db != null) {
            db.close();
            db = null;
        }
    }
}
