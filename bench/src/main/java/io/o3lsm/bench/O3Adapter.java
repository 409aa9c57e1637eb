package io.o3lsm.bench;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** The embedded o3lsm engine ({@code DB.open} on a local directory) with its default options. */
public final class O3Adapter implements EngineAdapter {
    private final Options options;
    private DB db;
    private WriteOptions writeOptions;

    public O3Adapter() {
        this(Options.defaults());
    }

    public O3Adapter(Options options) {
        this.options = options;
    }

    @Override
    public String name() {
        return "o3";
    }

    @Override
    public void open(Path dir, Settings settings) {
        writeOptions = WriteOptions.defaults().sync(settings.sync()).disableWal(settings.disableWal());
        db = DB.open(dir, options);
    }

    @Override
    public String describe() {
        return options + " " + writeOptions;
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
    public void close() {
        if (db != null) {
            db.close();
            db = null;
        }
    }
}
