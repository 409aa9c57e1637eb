package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A {@link DB} that serves reads and takes no writes of its own: every read goes to the engine
 * ({@link DBImpl}); every write, flush, compaction, family change, transaction and checkpoint is
 * refused with a {@link ReadOnlyException} naming the call and saying why ({@link #why()}). Shared by
 * the two such DBs: a replica ({@link ReplicaDB}, fed by its primary) and a read-only open
 * ({@link ReadOnlyDB}). Thread-safe, as the engine.
 */
abstract class ReadOnlyFacade extends WriteRefusingDB {
    final DBImpl db;
    final Engine e;

    ReadOnlyFacade(DBImpl db) {
        this.db = db;
        this.e = db.engine();
    }

    /** What refuses a call: the DB is closed, else read-only, said with {@link #why()}. */
    @Override
    final ReadOnlyException readOnly(String what) {
        e.checkOpen();
        return new ReadOnlyException(what + " refused: DB " + e.dir + " " + why());
    }

    /** Why this DB takes no writes, after "DB dir": "is a replica of …" or "is open read-only …". */
    abstract String why();

    /** The engine's merge operator (for a {@code WriteBatchWithIndex} read through this DB). */
    @Override
    io.o3lsm.MergeOperator mergeOperator() {
        return e.families == null ? e.options.mergeOperator() : e.families.defaultFamily().mergeOperator();
    }

    @Override
    public byte[] get(byte[] key) {
        return db.get(key);
    }

    @Override
    public int get(ByteBuffer key, ByteBuffer value) {
        return db.get(key, value);
    }

    @Override
    public byte[] get(ReadOptions options, byte[] key) {
        return db.get(options, key);
    }

    @Override
    public List<byte[]> multiGet(ReadOptions options, List<byte[]> keys) {
        return db.multiGet(options, keys);
    }

    @Override
    public DBIterator iterator(ReadOptions options) {
        return db.iterator(options);
    }

    // ------------------------------------------------------------------ column families: reads only

    @Override
    public List<String> listColumnFamilies() {
        return db.listColumnFamilies();
    }

    @Override
    public io.o3lsm.ColumnFamilyHandle columnFamily(String name) {
        return db.columnFamily(name);
    }

    @Override
    public io.o3lsm.ColumnFamilyHandle defaultColumnFamily() {
        return db.defaultColumnFamily();
    }

    @Override
    public byte[] get(ReadOptions options, io.o3lsm.ColumnFamilyHandle family, byte[] key) {
        return db.get(options, family, key);
    }

    @Override
    public List<byte[]> multiGet(ReadOptions options, List<io.o3lsm.ColumnFamilyHandle> families, List<byte[]> keys) {
        return db.multiGet(options, families, keys);
    }

    @Override
    public DBIterator iterator(ReadOptions options, io.o3lsm.ColumnFamilyHandle family) {
        return db.iterator(options, family);
    }

    @Override
    public Snapshot snapshot() {
        return db.snapshot();
    }

    @Override
    public String property(String name) {
        return db.property(name);
    }

    @Override
    public DBStats stats() {
        return db.stats();
    }

    @Override
    public void close() {
        db.close();
    }

    /** The engine (tests in this package). */
    DBImpl impl() {
        return db;
    }

}
