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
 * A {@link DB} that takes no writes of its own: every write, flush, compaction, family change,
 * transaction and checkpoint is refused with the {@link ReadOnlyException} {@link #readOnly} builds,
 * naming the call and saying why. The reads are the subclass's: {@link ReadOnlyFacade} (a replica,
 * a read-only open: one engine) and {@link SecondaryDB} (an engine replaced at each catch-up).
 */
abstract class WriteRefusingDB implements DB {
    /** What refuses call {@code what}: a {@link io.o3lsm.DBClosedException} if closed, else a ReadOnlyException. */
    abstract ReadOnlyException readOnly(String what);

    /** The merge operator of the default family (for a {@code WriteBatchWithIndex} read through this DB). */
    abstract io.o3lsm.MergeOperator mergeOperator();
    @Override
    public long checkpoint(java.nio.file.Path target) {
        throw readOnly("checkpoint");
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
    public void ingest(java.util.List<java.nio.file.Path> files, io.o3lsm.IngestOptions options) {
        throw readOnly("ingest");
    }

    @Override
    public void ingest(io.o3lsm.ColumnFamilyHandle family, java.util.List<java.nio.file.Path> files,
            io.o3lsm.IngestOptions options) {
        throw readOnly("ingest");
    }
}
