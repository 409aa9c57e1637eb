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
    /** The name of the default column family, which every DB has and which the single-family API uses. */
    String DEFAULT_COLUMN_FAMILY = "default";

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
     * Opens (or creates) a DB with column families ({@code docs/column-families.md}). A DB created by
     * this method is <em>family-aware</em>: it gets every family {@code families} names (the default
     * one always), and {@link #createColumnFamily} works on it. An existing family-aware DB must be
     * opened naming every family it has but the default one (as RocksDB requires); families it lacks
     * are created with {@link Options#createMissingColumnFamilies}. The default family's functions
     * (merge operator, compaction filter, ttl) come from its descriptor when {@code families} names
     * {@value #DEFAULT_COLUMN_FAMILY}, else from {@code options}. A DB created by
     * {@link #open(Path, Options)} has the default family only, and opens here if {@code families}
     * names no other. Handles: {@link #columnFamily(String)}.
     *
     * <pre>{@code
     * try (DB db = DB.open(dir, Options.defaults(), List.of(
     *         new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
     *         new ColumnFamilyDescriptor("sessions", ColumnFamilyOptions.defaults().ttl(Duration.ofHours(1)))))) {
     *     ColumnFamilyHandle counters = db.columnFamily("counters");
     *     db.merge(counters, key, MergeOperators.int64(1));
     * }
     * }</pre>
     *
     * @throws IllegalArgumentException a family the DB has is not named, one named is missing (without
     *                                  createMissingColumnFamilies), a name is repeated, a family's ttl
     *                                  does not match how it was created, or as for {@link #open(Path, Options)}
     */
    static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
        AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null (DB.open(dir, options) opens without them)");
        }
        return DBImpl.open(dir, options, families);
    }

    /**
     * As {@link #open(Path, Options, List)} for the DB a URI names (a local path or, with the
     * {@code o3lsm-hdfs} module, {@code hdfs://…}), as {@link #open(java.net.URI, Options)}.
     */
    static DB open(java.net.URI location, Options options, List<ColumnFamilyDescriptor> families) {
        AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null (DB.open(location, options) opens without "
                    + "them)");
        }
        return DBImpl.open(location, options, List.copyOf(families));
    }

    /**
     * The names of the column families of the DB in {@code dir}, read from its MANIFEST without opening
     * it (it may be open elsewhere): {@value #DEFAULT_COLUMN_FAMILY} first, then in order of creation;
     * {@code [default]} for a DB created without families. {@code options} gives the file system.
     *
     * @throws O3Exception        no DB is there, or its files cannot be read
     * @throws CorruptionException the MANIFEST is damaged
     */
    static List<String> listColumnFamilies(Path dir, Options options) {
        AgronaAccess.ensure();
        return DBImpl.listColumnFamilies(dir, options);
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

    /**
     * Opens (or creates) a backup of a primary whose DB has column families: as
     * {@link #openReplica(Path, Options)}, the replica's families being the primary's — those it
     * creates or drops are created or dropped here as the replica follows. {@code families} gives the
     * options (merge operator, compaction filter, ttl) of the families it reads with functions, by
     * name; a family it does not name has none (a TTL family's values then never expire here). The
     * default family's options come from its descriptor, else from {@code options}.
     *
     * @throws IllegalArgumentException the directory holds a replica of a DB without families, or as
     *                                  for {@code openReplica(dir, options)}
     */
    static Replica openReplica(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
        AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null (DB.openReplica(dir, options) opens a "
                    + "replica of a DB without them)");
        }
        return DBImpl.openReplica(dir, options, List.copyOf(families));
    }

    /**
     * Opens the DB in {@code dir} read-only: takes no LOCK and writes no file (so it works on a
     * read-only directory or file system, and while another process has the DB open read-write),
     * recovers the MANIFEST and replays the WALs into memory only. Every read works (gets, multiGet,
     * iterators, snapshots, properties); every write, {@code flush}, {@code flushWal},
     * {@code compactRange}, {@code beginTransaction}, {@code createColumnFamily},
     * {@code dropColumnFamily} and {@code checkpoint} throws {@link ReadOnlyException} naming the call.
     * No background flush or compaction runs. It sees the DB as of its open (what was in the files
     * then: over a DB open elsewhere, a consistent prefix of its writes) and never follows later
     * writes; reopen to see them. A DB with column families opened here serves every family, read
     * without functions but the default one's: {@link #openReadOnly(Path, Options, List)} gives them. {@code options} gives the file system, caches and
     * the default family's merge operator, compaction filter and ttl (which must match the DB's); its
     * memory-node, offload and replication settings are ignored (the WAL holds every write). See
     * {@code docs/operations/read-only.md}.
     *
     * @throws O3Exception        no DB is in {@code dir} (no CURRENT), or its files cannot be read
     * @throws CorruptionException the MANIFEST or a WAL is damaged (a torn WAL tail is dropped, as a
     *                            read-write open drops it)
     * @throws IllegalArgumentException the options do not match the DB (ttl on or off)
     */
    static DB openReadOnly(Path dir, Options options) {
        AgronaAccess.ensure();
        return DBImpl.openReadOnly(dir, options, null);
    }

    /**
     * {@link #openReadOnly(Path, Options)} for a DB with column families: every family the DB has is
     * served (handles by {@link #columnFamily(String)}); {@code families} gives the options of those
     * read with functions (merge operator, compaction filter, ttl), by name; a family it does not name
     * is read without them (as a replica reads it: merge operands of such a family cannot be combined).
     * Naming a family the DB does not have is an error (nothing can be created read-only).
     *
     * @throws IllegalArgumentException a named family does not exist, a name is repeated, or as for
     *                                  {@link #openReadOnly(Path, Options)}
     */
    static DB openReadOnly(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
        AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null (DB.openReadOnly(dir, options) opens "
                    + "without them)");
        }
        return DBImpl.openReadOnly(dir, options, List.copyOf(families));
    }

    /**
     * Opens a secondary instance of the DB in {@code primaryDir}: read-only like
     * {@link #openReadOnly(Path, Options)} (no LOCK taken, no file written, nothing flushed or
     * compacted; works while a primary has the DB open read-write, on the same or a shared file
     * system), and able to follow that primary with {@link Secondary#tryCatchUp()}. Its first view is
     * the DB as of this open. {@code options} as for {@code openReadOnly}; its {@code jmx} setting is
     * ignored (a secondary registers no MBean). See {@code docs/operations/secondary.md}.
     *
     * @throws O3Exception        no DB is in {@code primaryDir}, or its files cannot be read
     * @throws CorruptionException the MANIFEST or a WAL is damaged
     * @throws IllegalArgumentException the options do not match the DB (ttl on or off)
     */
    static Secondary openSecondary(Path primaryDir, Options options) {
        AgronaAccess.ensure();
        return io.o3lsm.internal.db.SecondaryDB.open(primaryDir, options, null);
    }

    /**
     * {@link #openSecondary(Path, Options)} for a DB with column families, the families given as for
     * {@link #openReadOnly(Path, Options, List)}. A family the primary creates later is served from
     * the catch-up that first sees it (read without functions); one it drops disappears at the
     * catch-up that sees the drop (its handles then fail with {@link IllegalArgumentException}).
     */
    static Secondary openSecondary(Path primaryDir, Options options, List<ColumnFamilyDescriptor> families) {
        AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null (DB.openSecondary(dir, options) opens "
                    + "without them)");
        }
        return io.o3lsm.internal.db.SecondaryDB.open(primaryDir, options, List.copyOf(families));
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

    // ------------------------------------------------------------------ column families

    /**
     * Creates a column family and returns its handle; durable when it returns. Only in a family-aware
     * DB (created by {@link #open(Path, Options, List)}).
     *
     * @throws IllegalArgumentException the name is invalid or taken, or the options are inconsistent
     * @throws IllegalStateException    the DB was created without column families
     */
    default ColumnFamilyHandle createColumnFamily(String name, ColumnFamilyOptions options) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    /**
     * Drops a column family: its keys are gone for every read that starts after the call, its name is
     * free again, its handle refused by every call but {@link #compactRange(ColumnFamilyHandle, byte[],
     * byte[])}; the space its data takes comes back as compactions reach it (or at once, by that call).
     * Iterators already open keep seeing it; reads through a snapshot need a handle, so they do not.
     * Durable when it returns. The default family cannot be dropped.
     */
    default void dropColumnFamily(ColumnFamilyHandle family) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    /** The names of the DB's column families, the default one first, then in order of creation. */
    default List<String> listColumnFamilies() {
        return List.of(DEFAULT_COLUMN_FAMILY);
    }

    /** The handle of the column family named {@code name}, or null when the DB has none by that name. */
    default ColumnFamilyHandle columnFamily(String name) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    /** The default column family's handle: what the methods without a family use. Every DB has it. */
    default ColumnFamilyHandle defaultColumnFamily() {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    default void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
        put(family, key, value, WriteOptions.defaults());
    }

    default void put(ColumnFamilyHandle family, byte[] key, byte[] value, WriteOptions options) {
        try (WriteBatch b = new WriteBatch()) {
            write(b.put(family, key, value), options);
        }
    }

    default void delete(ColumnFamilyHandle family, byte[] key) {
        delete(family, key, WriteOptions.defaults());
    }

    default void delete(ColumnFamilyHandle family, byte[] key, WriteOptions options) {
        try (WriteBatch b = new WriteBatch()) {
            write(b.delete(family, key), options);
        }
    }

    default void deleteRange(ColumnFamilyHandle family, byte[] fromInclusive, byte[] toExclusive) {
        deleteRange(family, fromInclusive, toExclusive, WriteOptions.defaults());
    }

    default void deleteRange(ColumnFamilyHandle family, byte[] fromInclusive, byte[] toExclusive,
            WriteOptions options) {
        try (WriteBatch b = new WriteBatch()) {
            write(b.deleteRange(family, fromInclusive, toExclusive), options);
        }
    }

    /** {@link #merge(byte[], byte[])} in {@code family}, combined by the family's merge operator. */
    default void merge(ColumnFamilyHandle family, byte[] key, byte[] operand) {
        merge(family, key, operand, WriteOptions.defaults());
    }

    default void merge(ColumnFamilyHandle family, byte[] key, byte[] operand, WriteOptions options) {
        try (WriteBatch b = new WriteBatch()) {
            write(b.merge(family, key, operand), options);
        }
    }

    default byte[] get(ColumnFamilyHandle family, byte[] key) {
        return get(ReadOptions.defaults(), family, key);
    }

    /** The value of {@code key} in {@code family} as of the read options' snapshot (or now), or null. */
    default byte[] get(ReadOptions options, ColumnFamilyHandle family, byte[] key) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    /** Values of {@code keys[i]} in {@code families[i]} as of one sequence number; null for absent. */
    default List<byte[]> multiGet(ReadOptions options, List<ColumnFamilyHandle> families, List<byte[]> keys) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    default DBIterator iterator(ColumnFamilyHandle family) {
        return iterator(ReadOptions.defaults(), family);
    }

    /**
     * An iterator over {@code family} only (its keys, without any other family's) as of the read
     * options' snapshot (or now); the options' bounds are keys of the family. Close it.
     */
    default DBIterator iterator(ReadOptions options, ColumnFamilyHandle family) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
    }

    /**
     * {@link #compactRange(byte[], byte[])} over keys of {@code family} (null: its first or last key).
     * Also takes the handle of a family dropped since: compacting its range gives its space back now
     * rather than when compactions reach it.
     */
    default void compactRange(ColumnFamilyHandle family, byte[] from, byte[] to) {
        throw new UnsupportedOperationException(getClass().getName() + " has no column families");
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
     * Writes a consistent, openable copy of this DB into the new directory {@code target} while writes
     * continue: the copy holds exactly the writes numbered up to the returned sequence number — every
     * write acknowledged before the call, none begun after it returned — and opens with
     * {@link #open} like any DB (column families, merge operands, range deletions and TTL stamps as
     * they are here). Tables are hard links where the file system allows
     * ({@link io.o3lsm.spi.FileSystem#link}) and copies otherwise; the WAL is synced and copied up to
     * the cut; the copy gets a MANIFEST of its own, a new identity (it is a different DB from its
     * first write on), and every file and the directory are synced before it returns. The copy is
     * built in a staging directory beside {@code target} ({@code <target>.o3ckpt-<random>}) and
     * renamed to {@code target} last: {@code target} holds a complete checkpoint or nothing (a crash
     * may leave a staging directory, never a partial target). Writers wait only while the WAL is
     * synced. Writes made with {@code WriteOptions.disableWal} and not yet flushed are not in the copy
     * (as they would not survive a crash): call {@link #flush()} first if you use it. {@code target}'s
     * parent directories are created. {@link #close()} waits for a running checkpoint, which gives up
     * at its next file. See {@code docs/operations/checkpoints.md}.
     *
     * @return the sequence number the checkpoint is cut at (meaningful within this DB only)
     * @throws IllegalArgumentException {@code target} exists, is null, or has no parent; or another
     *                                  checkpoint created it meanwhile (its files are left alone)
     * @throws ReadOnlyException        on a read-only DB or a replica (checkpoint the primary)
     * @throws DBClosedException        the DB is closed, or was closed during the call (nothing is left)
     * @throws O3Exception              the DB refuses writes after an earlier failure (reopen it first),
     *                                  writing the copy failed (nothing of it is left), or the WAL could
     *                                  not be synced (the DB then refuses writes)
     * @throws UnsupportedOperationException an implementation that cannot write checkpoints (this
     *                                  default)
     */
    default long checkpoint(Path target) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot write checkpoints");
    }

    /**
     * Takes SSTs written by {@link SstFileWriter} into the DB atomically: a reader sees all of their
     * entries or none. Each file is verified (checksums, key order, every entry at sequence 0), the
     * files' key ranges must not overlap each other, and each is copied (or with
     * {@link IngestOptions#moveFiles} hard-linked) into the DB directory. Writes wait while the files
     * are installed; memtables holding keys in the files' ranges are flushed first (unless
     * {@link IngestOptions#allowBlockingFlush} is false: then the ingest is refused). When the files
     * overlap data already in the DB, or a snapshot or iterator is open, their entries get one new
     * sequence number — they override older values of their keys and are overridden by later writes —
     * and a snapshot taken before the ingest does not see them. Each file goes to the deepest level it
     * fits without overlapping newer data. In a family-aware DB, into the default family. See
     * {@code docs/operations/bulk-ingest.md}.
     *
     * @throws IllegalArgumentException a file is missing, empty, not written by SstFileWriter, or the
     *         files overlap each other; the target has a ttl
     * @throws IllegalStateException    the files overlap unflushed writes and blocking flushes are not allowed
     * @throws CorruptionException      a file fails verification (names the file and offset)
     * @throws ReadOnlyException        on a read-only DB or a replica
     * @throws O3Exception              copying or installing failed (nothing was ingested); or writing
     *         the MANIFEST failed: then the outcome is unknown (the message says so), the DB refuses
     *         writes until reopened, and the reopened DB holds all of the files or none
     */
    default void ingest(List<Path> files, IngestOptions options) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot ingest files");
    }

    /**
     * As {@link #ingest(List, IngestOptions)}, into {@code family}: the files' keys are the family's
     * keys (the writer knows no family; the ingest prefixes them, which rewrites the files).
     */
    default void ingest(ColumnFamilyHandle family, List<Path> files, IngestOptions options) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot ingest files");
    }

    /**
     * Compacts the key range {@code [from, to]} (null = unbounded on that side) down through the
     * levels, waiting for it to finish: overwritten and deleted data in the range is dropped from
     * disk (except what live snapshots still see).
     */
    void compactRange(byte[] from, byte[] to);

    /**
     * A named property, as text: RocksDB's property names with the {@code o3.} prefix where RocksDB has
     * one ({@code o3.stats}, {@code o3.levelstats}, {@code o3.sstables}, {@code o3.num-files-at-level<N>},
     * {@code o3.estimate-num-keys}, {@code o3.total-sst-files-size}, {@code o3.live-sst-files-size},
     * {@code o3.cur-size-all-mem-tables}, {@code o3.num-immutable-mem-table},
     * {@code o3.estimate-pending-compaction-bytes}, {@code o3.num-running-compactions},
     * {@code o3.block-cache-usage}, {@code o3.num-snapshots}, {@code o3.aggregated-table-properties}, ...),
     * and o3's own ({@code o3.merges}, {@code o3.dm}, {@code o3.shards}, {@code o3.replication}). Every
     * name and its meaning: {@code docs/operations/metrics.md}. Never null.
     *
     * @throws IllegalArgumentException for an unknown name (the message names it and lists the known
     *         ones; a {@code rocksdb.} name is told its {@code o3.} spelling), or a level out of range
     */
    String property(String name);

    /**
     * A copy of the DB's counters: level shape, tickers and histograms ({@link DBStats#ticker},
     * {@link DBStats#histogram}). They count from this open and are never reset while it lasts.
     */
    DBStats stats();

    /**
     * Waits for background work in progress, flushes nothing extra, and releases every resource
     * (files, off-heap memory, threads, the directory lock). Idempotent.
     */
    @Override
    void close();
}
