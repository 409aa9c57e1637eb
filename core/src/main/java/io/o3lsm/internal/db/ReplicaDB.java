package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.version.VersionEdit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The {@link Replica} a {@code DB.openReplica} returns: reads go to the engine, which a
 * {@link ReplicaApplier} feeds from the primary; writes, flushes and compactions are refused.
 */
final class ReplicaDB implements Replica {
    /**
     * What promotion adds to the epoch: a former primary adds 1 per open, so it stays below the
     * promoted one for any realistic number of reopenings (docs/design/replication.md, "Fencing").
     */
    static final long PROMOTION_EPOCH_STEP = 1L << 32;
    /**
     * File numbers a promoted replica skips: its former primary may have created (and shipped to other
     * backups) tables with numbers beyond the last edit this one took; the new primary's never meet
     * them, so a backup can keep trusting a table it holds by number and size.
     */
    static final long PROMOTION_FILE_NUMBER_GAP = 1L << 20;

    /** The edit a promotion writes before the directory is opened as a primary. */
    static VersionEdit promotionEdit(io.o3lsm.internal.version.VersionSet versions) {
        VersionEdit bump = new VersionEdit();
        bump.epoch = versions.epoch() + PROMOTION_EPOCH_STEP;
        bump.nextFileNumber = versions.newFileNumber() + PROMOTION_FILE_NUMBER_GAP;
        return bump;
    }

    private final DBImpl db;
    private final Engine e;

    ReplicaDB(DBImpl db) {
        this.db = db;
        this.e = db.engine();
    }

    @Override
    public long appliedSequence() {
        e.checkOpen();
        return e.lastSequence;
    }

    @Override
    public boolean live() {
        return e.replicaApplier.live();
    }

    @Override
    public DB promote(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        if (options.replicaOf() != null) {
            throw new IllegalArgumentException("promote: the options name a primary to follow (replicaOf); a promoted "
                    + "replica is a primary (leave replicaOf unset, set replicationListen for its own backups)");
        }
        options.copy().validate(); // bad options fail here, before anything changes
        e.checkOpen();
        if (e.options.replicaRebuildsTables()) {
            throw new O3Exception("replica " + e.dir + " rebuilds its own tables (the comparison baseline): it is an "
                    + "ordinary DB of its own; close it and open its directory with DB.open instead of promoting it");
        }
        // its families, with the options it read them with; checked before anything changes
        List<io.o3lsm.ColumnFamilyDescriptor> descriptors = e.families == null ? null
                : e.families.descriptorsForPromotion(options);
        if (descriptors != null) {
            Families.checkOpenable(e.dir.toString(), e.versions, descriptors, options);
        }
        try {
            e.replicaApplier.checkPromotable();
            e.replicaApplier.stopFollowing();
            e.versions.writeNewManifest(promotionEdit(e.versions));
        } catch (IOException ex) {
            closeQuietly();
            throw new O3Exception("cannot promote the replica " + e.dir + ": raising its epoch failed: " + ex, ex);
        } catch (RuntimeException | Error ex) {
            closeQuietly();
            throw ex;
        }
        db.close();
        Engine.LOG.info("replica " + e.dir + " promoted: epoch " + e.versions.epoch() + ", opening it as a primary");
        if (descriptors != null) {
            return DB.open(e.dir, options, descriptors);
        }
        return DB.open(e.dir, options);
    }

    private void closeQuietly() {
        try {
            db.close();
        } catch (RuntimeException ignored) {
            // the promotion's own failure is what the caller sees
        }
    }

    private ReadOnlyException readOnly(String what) {
        e.checkOpen();
        return new ReadOnlyException(what + " refused: DB " + e.dir + " is a replica of " + e.options.replicaOf()
                + " (read-only; promote it to write)");
    }

    @Override
    public void put(byte[] key, byte[] value) {
        throw readOnly("put");
    }

    @Override
    public void put(byte[] key, byte[] value, WriteOptions options) {
        throw readOnly("put");
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value) {
        throw readOnly("put");
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value, WriteOptions options) {
        throw readOnly("put");
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        throw readOnly("merge");
    }

    @Override
    public void merge(byte[] key, byte[] operand, WriteOptions options) {
        throw readOnly("merge");
    }

    @Override
    public void delete(byte[] key) {
        throw readOnly("delete");
    }

    @Override
    public void delete(byte[] key, WriteOptions options) {
        throw readOnly("delete");
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        throw readOnly("deleteRange");
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions options) {
        throw readOnly("deleteRange");
    }

    @Override
    public void write(WriteBatch batch, WriteOptions options) {
        throw readOnly("write");
    }

    @Override
    public io.o3lsm.Transaction beginTransaction(WriteOptions options, io.o3lsm.TransactionOptions txnOptions) {
        throw readOnly("beginTransaction");
    }

    /** The engine's merge operator (for a {@code WriteBatchWithIndex} read through this replica). */
    io.o3lsm.MergeOperator mergeOperator() {
        return e.families == null ? e.options.mergeOperator() : e.families.defaultFamily().mergeOperator();
    }

    @Override
    public void flush() {
        throw readOnly("flush");
    }

    @Override
    public void flushWal(boolean sync) {
        throw readOnly("flushWal");
    }

    @Override
    public void compactRange(byte[] from, byte[] to) {
        throw readOnly("compactRange");
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
    public io.o3lsm.ColumnFamilyHandle createColumnFamily(String name, io.o3lsm.ColumnFamilyOptions options) {
        throw readOnly("createColumnFamily");
    }

    @Override
    public void dropColumnFamily(io.o3lsm.ColumnFamilyHandle family) {
        throw readOnly("dropColumnFamily");
    }

    @Override
    public void compactRange(io.o3lsm.ColumnFamilyHandle family, byte[] from, byte[] to) {
        throw readOnly("compactRange");
    }

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

    @Override
    public String toString() {
        return "Replica(" + e.dir + " of " + e.options.replicaOf() + ")";
    }
}
