package io.o3lsm;

import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.util.AgronaAccess;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * An open o3lsm database: a sorted map from byte-string keys to byte-string values, ordered by
 * unsigned bytewise comparison, persisted in one directory.
 *
 * <pre>{@code
 * try (DB db = DB.open(dir, Options.defaults())) {
 *     db.put(key, value);
 *     byte[] v = db.get(key);   // null when absent
 *     db.delete(key);
 * }
 * }</pre>
 *
 * <p>Thread-safe: any number of threads may read and write concurrently; concurrent writes are
 * group-committed. Keys are at most {@link #MAX_KEY_SIZE} bytes and values at most
 * {@link #MAX_VALUE_SIZE}; {@code null} keys or values, or larger ones, are rejected with
 * {@link IllegalArgumentException} naming the length and the limit — by every call that takes a key,
 * lookups, seeks, iterator bounds and compaction ranges included. Every method throws {@link DBClosedException} after
 * {@link #close()}, and {@link O3Exception} when the engine has stopped accepting writes after an
 * I/O error (reopen to recover).
 */
public interface DB extends AutoCloseable {
    /** Largest key accepted, in bytes (64 KiB). */
    int MAX_KEY_SIZE = 64 * 1024;
    /** Largest value accepted, in bytes (32 MiB). */
    int MAX_VALUE_SIZE = 32 * 1024 * 1024;

    /**
     * The version of o3lsm on the class path, as Maven built it (e.g. {@code 0.1.0-SNAPSHOT});
     * {@code "unknown"} when the build did not record it.
     */
    static String version() {
        return io.o3lsm.internal.util.BuildInfo.VERSION;
    }

    /**
     * Opens (or creates, per {@code options}) the DB a URI names: {@code file:///data/db} or a plain
     * path is a local directory; {@code hdfs://namenode:8020/o3/db} a directory on HDFS (needs the
     * {@code o3lsm-hdfs} module on the class path; see {@code docs/operations/hdfs.md}). The DB opens
     * that file system itself and closes it when the DB closes, so {@code options.fileSystem} must be
     * left unset for such a URI. Otherwise as {@link #open(Path, Options)}.
     *
     * @throws IllegalArgumentException no module on the class path serves the URI's scheme, the URI
     *                                  has no absolute path, or {@code options.fileSystem} is set too
     * @throws O3Exception              the file system cannot be reached, or as for {@code open(Path, …)}
     */
    static DB open(java.net.URI location, Options options) {
        AgronaAccess.ensure();
        return DBImpl.open(location, options);
    }

    /**
     * Opens (or, with {@link Options#createIfMissing(boolean)}, creates) the database in {@code dir},
     * recovering whatever the last process wrote: MANIFEST, then WAL replay. Only one open
     * {@code DB} may use a directory at a time; a second open fails with {@link O3Exception}.
     *
     * @throws IllegalArgumentException if the options are inconsistent, or {@code dir} is a file
     * @throws CorruptionException      if the MANIFEST or a WAL is damaged
     * @throws O3Exception              naming the cause, if the directory cannot be created or
     *                                  written, another {@code DB} has it open, or reading or writing
     *                                  its files fails; naming the JVM flag to add, if the JVM denies
     *                                  the access the engine's buffers need (on the module path:
     *                                  {@code --add-modules jdk.unsupported}; see the README)
     */
    static DB open(Path dir, Options options) {
        // before DBImpl initializes, so that a refusal is this O3Exception on every attempt, not an
        // ExceptionInInitializerError once and a bare NoClassDefFoundError after
        AgronaAccess.ensure();
        return DBImpl.open(dir, options);
    }

    /**
     * Opens (or creates) a backup of the primary {@code options.replicaOf} names, in {@code dir}: it
     * connects, catches up (the tables it lacks, then the primary's log) and follows the primary
     * until closed, reconnecting when the primary is away. Reads are served throughout, at the
     * replica's applied sequence. See {@code docs/operations/replication.md}.
     *
     * @throws IllegalArgumentException if {@code options.replicaOf} is not set, or as for {@code open}
     * @throws O3Exception              naming the cause, if the directory cannot be opened, or no module
     *                                  on the class path provides replication ({@code o3lsm-dm})
     */
    static Replica openReplica(Path dir, Options options) {
        AgronaAccess.ensure();
        return DBImpl.openReplica(dir, options);
    }

    void put(byte[] key, byte[] value);

    void put(byte[] key, byte[] value, WriteOptions options);

    /** Puts the remaining bytes of {@code key} and {@code value}; their positions are not moved. */
    void put(ByteBuffer key, ByteBuffer value);

    void put(ByteBuffer key, ByteBuffer value, WriteOptions options);

    /** The value stored for {@code key}, or {@code null} when absent. */
    byte[] get(byte[] key);

    /**
     * Looks up the remaining bytes of {@code key} and copies the value into {@code value} from its
     * position, copying at most {@code value.remaining()} bytes and advancing its position by the
     * amount copied. Returns the full length of the stored value (which may exceed what was copied),
     * or -1 when absent.
     */
    int get(ByteBuffer key, ByteBuffer value);

    void delete(byte[] key);

    void delete(byte[] key, WriteOptions options);

    /**
     * Deletes every key in {@code [fromInclusive, toExclusive)} in one operation whose cost does not
     * depend on how many keys the range holds. An empty range ({@code from >= to}) is a no-op.
     */
    void deleteRange(byte[] fromInclusive, byte[] toExclusive);

    void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions options);

    /**
     * Adds {@code operand} to {@code key}: reads return the key's value combined with every operand
     * written since, by {@link Options#mergeOperator} (a read-modify-write without a read here).
     * Range deletions, deletions and puts end the operands' reach as they do a value's. See
     * {@link MergeOperator} and {@code docs/merge-operators.md}.
     *
     * @throws IllegalStateException    if the DB was opened without a merge operator (nothing is written)
     * @throws IllegalArgumentException for a null or oversized key or operand
     */
    void merge(byte[] key, byte[] operand);

    void merge(byte[] key, byte[] operand, WriteOptions options);

    /** Applies every operation of {@code batch} atomically: all or none are visible and recovered. */
    void write(WriteBatch batch, WriteOptions options);

    default void write(WriteBatch batch) {
        write(batch, WriteOptions.defaults());
    }

    /**
     * Begins an optimistic {@link Transaction} without a snapshot: as
     * {@link #beginTransaction(WriteOptions, TransactionOptions)} with {@link TransactionOptions#defaults()}.
     */
    default Transaction beginTransaction(WriteOptions options) {
        return beginTransaction(options, TransactionOptions.defaults());
    }

    /**
     * Begins an optimistic {@link Transaction}: its writes are buffered until {@link Transaction#commit()},
     * which writes them with {@code options} (copied now) unless a key the transaction read for
     * update or wrote was written by someone else meanwhile ({@link TransactionConflictException}).
     * Close it. See {@code docs/transactions.md}.
     *
     * @throws ReadOnlyException        on a replica
     * @throws IllegalArgumentException for write options no write may have ({@code sync} with the WAL off;
     *                                  acknowledgements with the WAL off)
     * @throws ReplicationException     for acknowledgements on a DB that is not a replication primary
     */
    Transaction beginTransaction(WriteOptions options, TransactionOptions txnOptions);

    /** The value of {@code key} as of the read options' snapshot (or now), or null when absent. */
    byte[] get(ReadOptions options, byte[] key);

    /** Values of several keys as of one sequence number, in the order of {@code keys}; null for absent. */
    List<byte[]> multiGet(ReadOptions options, List<byte[]> keys);

    /** An iterator over the DB as of the read options' snapshot (or now). Close it. */
    DBIterator iterator(ReadOptions options);

    default DBIterator iterator() {
        return iterator(ReadOptions.defaults());
    }

    /** A snapshot of the current state; close it to let compaction drop what only it can see. */
    Snapshot snapshot();

    /**
     * Writes everything in the memtable to SSTs and waits for that to finish (after which the WAL
     * holds nothing that is not also in an SST).
     */
    void flush();

    /**
     * Hands the WAL's buffered records to the file system, and with {@code sync} makes them durable:
     * after it returns, every write acknowledged before the call survives a process crash (with
     * {@code sync}, a machine crash). Needed only with {@link Options#manualWalFlush}; otherwise it
     * costs one flush. It waits for a write group being appended, not for writers held back by a
     * write stall. A failure is fatal to writes, as a failed WAL write is.
     *
     * @throws O3Exception the WAL could not be flushed; the DB then refuses further writes
     */
    void flushWal(boolean sync);

    /**
     * Compacts the key range {@code [from, to]} (null = unbounded on that side) down through the
     * levels, waiting for it to finish: overwritten and deleted data in the range is dropped from
     * disk (except what live snapshots still see).
     */
    void compactRange(byte[] from, byte[] to);

    /**
     * A named property: {@code "o3.stats"} (human-readable statistics),
     * {@code "o3.num-files-at-level<N>"}, {@code "o3.sstables"} (files per level), {@code "o3.merges"}
     * (the merge operator's name, gets that combined operands, how many needed an iterator). Null for an
     * unknown name.
     */
    String property(String name);

    /** A copy of the DB's counters. */
    DBStats stats();

    /**
     * Waits for background work in progress, flushes nothing extra, and releases every resource
     * (files, off-heap memory, threads, the directory lock). Idempotent.
     */
    @Override
    void close();
}
