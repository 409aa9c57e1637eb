package io.o3lsm.internal.db;

import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.util.AgronaAccess;
import io.o3lsm.internal.util.Limits;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.internal.version.VersionSet;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.List;

/**
 * The embedded engine's façade: {@link #open} (the order in which the parts are built, recovered
 * and started), {@link #close} (the order in which they stop), and the {@link DB} API, each call
 * handed to the part that owns it. The parts share one {@link Engine}; their map — what each owns,
 * its lock, and the path of a write, a get and a flush through them — is
 * {@code docs/design/engine-structure.md}.
 *
 * <p>Thread-safe: every method may be called from any thread; see {@link Engine} for the locking.
 */
public final class DBImpl implements DB {
    static {
        AgronaAccess.ensure(); // before any Agrona buffer is touched
    }

    private final Engine e;
    private final FileSystem.Lock dirLock;
    private final Recovery recovery;
    private final DbProperties properties;
    /** Unregisters the DB's MBean ({@link DbMBean}); null when {@code Options.jmx} is off or registering failed. */
    private volatile AutoCloseable mbean;

    private DBImpl(Path dir, Options options, FileSystem.Lock dirLock, VersionSet versions) {
        this(dir, options, dirLock, versions, null);
    }

    private DBImpl(Path dir, Options options, FileSystem.Lock dirLock, VersionSet versions, Families families) {
        this(dir, options, dirLock, versions, families, false);
    }

    private DBImpl(Path dir, Options options, FileSystem.Lock dirLock, VersionSet versions, Families families,
            boolean readOnly) {
        this(dir, options, dirLock, versions, families, readOnly, null);
    }

    private DBImpl(Path dir, Options options, FileSystem.Lock dirLock, VersionSet versions, Families families,
            boolean readOnly, io.o3lsm.format.table.BlockCache sharedBlockCache) {
        this.dirLock = dirLock;
        this.e = new Engine(dir, options, versions, dirLock, readOnly, sharedBlockCache);
        try {
            assemble(options, versions, families);
        } catch (RuntimeException | Error ex) {
            e.listeners.close(); // started by the Engine; no DBImpl will exist to close it
            throw ex;
        }
        this.recovery = new Recovery(e);
        this.properties = new DbProperties(e);
        versions.setObsoleteListener(e.obsolete::versionReleased);
    }

    /** The engine's parts, in order (the constructor's body). */
    private void assemble(Options options, VersionSet versions, Families families) {
        if (families != null) {
            families.attach(e);
            e.families = families;
            List<byte[]> recorded = versions.shardBoundaries();
            if (!(options.adaptiveShardBoundaries() && !recorded.isEmpty()
                    && recorded.size() == options.shardCount() - 1)) {
                // the default family's keys start with its prefix: so do the ranges that split them
                List<byte[]> bs = new java.util.ArrayList<>();
                for (byte[] b : options.shardBoundaries()) {
                    bs.add(families.defaultFamily().prefixed(b, "shard boundary"));
                }
                e.ranges = new ShardRanges(bs);
            }
        }
        e.snapshots = new Snapshots(e);
        e.wals = new WalSet(e);
        e.memtables = new MemtableSet(e);
        e.writes = new WriteQueue(e);
        e.dm = new DmOffloader(e);
        e.dmRecovery = new DmRecovery(e);
        e.flushes = new FlushScheduler(e);
        e.flushOffloader = new FlushOffloader(e);
        e.compactions = new CompactionScheduler(e);
        e.compactionOffloader = new CompactionOffloader(e);
        e.installer = new VersionInstaller(e);
        e.obsolete = new ObsoleteFiles(e);
        e.reads = new ReadPath(e);
    }

    // ------------------------------------------------------------------ open and close

    /**
     * Opens the DB a URI names: {@code file:} (or no scheme) as {@link #open(Path, Options)}; any other
     * scheme on the file system {@link FileSystem#forUri} opens for it, which the DB owns and closes.
     */
    public static DB open(URI location, Options options) {
        return open(location, options, null);
    }

    /** {@code descriptors}: as {@link #open(Path, Options, List)}; null: a plain open. */
    public static DB open(URI location, Options options, List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (location == null) {
            throw new IllegalArgumentException("location must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        Path dir = FileSystem.pathOf(location);
        String scheme = location.getScheme();
        if (scheme == null || scheme.equalsIgnoreCase("file")) {
            return descriptors == null ? open(dir, options) : open(dir, options, descriptors);
        }
        if (options.fileSystem() != FileSystem.local()) {
            throw new IllegalArgumentException("options.fileSystem is set and " + location
                    + " names a file system too: name the DB by path, or leave fileSystem unset");
        }
        FileSystem fs;
        try {
            fs = FileSystem.forUri(location);
        } catch (IOException ex) {
            throw new O3Exception("cannot open " + location + ": its file system cannot be reached: " + ex, ex);
        }
        try {
            return open(dir, options.copy().fileSystem(fs), fs, descriptors);
        } catch (RuntimeException | Error ex) {
            try {
                fs.close();
            } catch (IOException suppressed) {
                ex.addSuppressed(suppressed);
            }
            throw ex;
        }
    }

    public static DB open(Path dir, Options options) {
        return open(dir, options, (FileSystem) null);
    }

    /** {@code DB.open(dir, options, descriptors)}: with column families. */
    public static DB open(Path dir, Options options, List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (descriptors == null) {
            throw new IllegalArgumentException("descriptors must not be null");
        }
        return open(dir, options, null, List.copyOf(descriptors));
    }

    private static DB open(Path dir, Options options, FileSystem ownedFs) {
        return open(dir, options, ownedFs, null);
    }

    /**
     * {@code ownedFs}: a file system this DB opened and closes after its lock (null: the caller's);
     * {@code descriptors}: the column families to open (null: a plain open, the default family only).
     */
    private static DB open(Path dir, Options options, FileSystem ownedFs,
            List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (dir == null) {
            throw new IllegalArgumentException("dir must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        options = options.copy().validate(); // the DB's own: later changes to the caller's object do not reach it
        if (options.replicaOf() != null) {
            throw new IllegalArgumentException("Options.replicaOf is for DB.openReplica (a backup); DB.open opens a "
                    + "primary or a standalone DB");
        }
        // checks that can fail come before anything is created, locked or recovered
        DmPreflight.Checked dmChecked = options.memoryNodeAddress() != null ? DmPreflight.check(options) : null;
        FileSystem fs = options.fileSystem();
        FileSystem.Lock lock = null;
        VersionSet versions = null;
        DBImpl db = null;
        try {
            if (!fs.exists(dir)) {
                if (!options.createIfMissing()) {
                    throw new O3Exception("no database in " + dir + " (the directory does not exist) and createIfMissing is false");
                }
            }
            lock = createAndLock(fs, dir);
            if (ownedFs != null) {
                FileSystem.Lock dirLockOnly = lock;
                lock = new FileSystem.Lock() {
                    @Override
                    public void checkHeld() throws IOException {
                        dirLockOnly.checkHeld();
                    }

                    @Override
                    public void close() throws IOException {
                        try {
                            dirLockOnly.close();
                        } finally {
                            ownedFs.close();
                        }
                    }
                };
            }
            versions = new VersionSet(fs, dir, lock);
            boolean exists = versions.recover();
            if (exists && options.errorIfExists()) {
                throw new O3Exception("a database already exists in " + dir + " and errorIfExists is true");
            }
            if (!exists && !options.createIfMissing()) {
                throw new O3Exception("no database in " + dir + " and createIfMissing is false");
            }
            Families families = null;
            boolean aware = exists ? versions.families() : descriptors != null;
            if (aware) {
                if (options.replicationListen() != null && !options.replicationShipTables()) {
                    throw new IllegalArgumentException("a DB with column families replicates by shipping its tables: "
                            + "Options.replicationShipTables(false) (the rebuilding baseline) is not built for it");
                }
                Families.Plan plan = Families.plan(dir.toString(), versions.liveFamilies(), versions.nextFamilyId(),
                        exists, true, descriptors, options);
                families = Families.of(plan);
                versions.applyRegistry(plan.edit()); // durable with the MANIFEST recovery writes
                // below the API every key is stored prefixed: the functions dispatch on the prefix
                options.mergeOperator(families.merge).compactionFilter(families.filter).ttl(null);
            } else if (descriptors != null) {
                options = plainWithDescriptors(dir, options, descriptors);
            }
            TtlMarker.check(fs, dir, exists, options.ttl());
            Recovery.identity(fs, dir); // every DB has one from its first open (a secondary tells DBs apart by it)
            db = new DBImpl(dir, options, lock, versions, families);
            db.recovery.recover(exists);
            if (options.replicationListen() != null) {
                Engine e = db.e;
                ReplicationSource source = new ReplicationSource(e, e.previousEpoch, e.epochStart);
                String id = Recovery.identity(fs, dir);
                // no install between listening and publishing the source: a compaction recovery
                // scheduled must reach a backup that connects at once (before any write: not returned yet)
                e.installer.locked(() -> {
                    source.start(id);
                    e.replication = source;
                    return null;
                });
            }
            if (options.memoryNodeAddress() != null) {
                Engine e = db.e;
                Path workerStorage = options.flushWorkerStorage() != null ? options.flushWorkerStorage()
                        : dir.toAbsolutePath().getParent();
                DmLink link = new DmLink(options, dmChecked, Recovery.identity(fs, dir), versions.epoch(), workerStorage,
                        () -> {
                    e.mutex.lock();
                    try {
                        e.dm.offloadSealed();
                    } finally {
                        e.mutex.unlock();
                    }
                });
                String nodeAddress = options.memoryNodeAddress();
                link.onDisconnected(() -> {
                    if (!e.closing && !e.closed && e.bgError == null) {
                        e.dmRecovery.lost(new DmLostException("the transport reported memory node " + nodeAddress
                                + " failed"));
                    }
                });
                e.dm.attach(link);
            }
            db.registerMBean();
            return db;
        } catch (IOException ex) {
            cleanupFailedOpen(db, versions, lock);
            throw new O3Exception("cannot open " + dir + ": " + ex, ex);
        } catch (RuntimeException | Error ex) {
            cleanupFailedOpen(db, versions, lock);
            throw ex;
        }
    }

    /** The lock of a read-only open: none is held, and any step that would need one is refused. */
    private static final FileSystem.Lock NO_LOCK = new FileSystem.Lock() {
        @Override
        public void checkHeld() throws IOException {
            throw new IOException("a read-only DB holds no lock and writes no file");
        }

        @Override
        public void close() {
        }
    };

    /** Attempts of a read-only open before it gives up on a writer that keeps changing the files. */
    static final int READ_ONLY_OPEN_ATTEMPTS = 5;

    /**
     * {@code DB.openReadOnly}: no lock, no file written; the MANIFEST recovered and the WALs replayed
     * into memory ({@link Recovery#recoverReadOnly}). {@code descriptors}: as {@code DB.openReadOnly(dir,
     * options, families)}; null: none given. A DB open read-write elsewhere may switch its MANIFEST or
     * delete a WAL between the reads of one attempt (a file is gone, or the attempt finds CURRENT switched
     * or the log number raised once it has read the WALs): up to {@link #READ_ONLY_OPEN_ATTEMPTS} attempts
     * are made, as listColumnFamilies makes.
     */
    public static DB openReadOnly(Path dir, Options options, List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (dir == null || options == null) {
            throw new IllegalArgumentException((dir == null ? "dir" : "options") + " must not be null");
        }
        return new ReadOnlyDB(recoverReadOnly(dir, readOnlyOptions(options), descriptors, null, "open " + dir
                + " read-only"));
    }

    /** The options of a read-only engine: validated, the caller's copy, no memory node, replication or offloading. */
    static Options readOnlyOptions(Options options) {
        options = options.copy().validate();
        // its own copy: no memory node, replication or offloading (the WAL holds every write)
        return options.memoryNode(null, null).replicationListen(null, null).replicaOf(null, null).flushOffload(false)
                .compactionOffload(false);
    }

    /**
     * A read-only engine over {@code dir} as of now, with the retries {@link #openReadOnly} describes;
     * {@code sharedBlockCache}: as {@link Engine}'s (null: its own). {@code what} says what failed in an
     * error ("open /d read-only"). Shared by {@code DB.openReadOnly} and a secondary's catch-up.
     */
    static DBImpl recoverReadOnly(Path dir, Options options, List<io.o3lsm.ColumnFamilyDescriptor> descriptors,
            io.o3lsm.format.table.BlockCache sharedBlockCache, String what) {
        return readWhileFilesMove(what, () -> openReadOnlyOnce(dir, options.copy(), descriptors, sharedBlockCache));
    }

    /** One attempt of a {@link #readWhileFilesMove}. */
    @FunctionalInterface
    interface FilesRead<T> {
        T read() throws IOException;
    }

    /**
     * Runs {@code read} — a reader of a DB's files that takes no lock — again while it fails the way a
     * DB open read-write there makes it fail (a file gone: a WAL or table deleted, the MANIFEST switched;
     * a MANIFEST seen changed or cut mid-record), up to {@link #READ_ONLY_OPEN_ATTEMPTS} attempts.
     * Other failures are thrown at once. {@code what} says what failed in an error ("open /d read-only").
     */
    static <T> T readWhileFilesMove(String what, FilesRead<T> read) {
        for (int attempt = 1;; attempt++) {
            try {
                return read.read();
            } catch (IOException | O3Exception ex) {
                boolean race = ex instanceof IOException || ex instanceof io.o3lsm.CorruptionException
                        || ex.getCause() instanceof IOException;
                if (!race) {
                    throw ex instanceof O3Exception o ? o : new O3Exception("cannot " + what + ": " + ex, ex);
                }
                if (attempt >= READ_ONLY_OPEN_ATTEMPTS) {
                    throw new O3Exception("cannot " + what + ": its files changed during each of "
                            + attempt + " attempts (a DB open read-write there flushing, compacting or reopening "
                            + "faster than they can be read); the last: " + ex, ex);
                }
                Engine.LOG.fine(what + ", attempt " + attempt + ": " + ex + "; trying again");
                try {
                    Thread.sleep(10L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new O3Exception("interrupted: " + what, ie);
                }
            }
        }
    }

    private static DBImpl openReadOnlyOnce(Path dir, Options options,
            List<io.o3lsm.ColumnFamilyDescriptor> descriptors, io.o3lsm.format.table.BlockCache sharedBlockCache)
            throws IOException {
        FileSystem fs = options.fileSystem();
        VersionSet versions = new VersionSet(fs, dir, NO_LOCK).lookOnly(); // no lease taken from a live writer
        DBImpl db = null;
        try {
            if (!fs.exists(dir) || !versions.recover()) {
                throw new O3Exception("no database in " + dir + " (no CURRENT file) to open read-only");
            }
            Families families = null;
            if (versions.families()) {
                List<io.o3lsm.ColumnFamilyDescriptor> given = descriptors == null ? List.of() : descriptors;
                java.util.Set<String> registered = new java.util.HashSet<>();
                for (VersionEdit.Family f : versions.liveFamilies()) {
                    registered.add(f.name());
                }
                for (io.o3lsm.ColumnFamilyDescriptor d : given) {
                    if (d != null && !registered.contains(d.name())) {
                        throw new IllegalArgumentException("the DB in " + dir + " has no column family \"" + d.name()
                                + "\" (it has " + registered + "); a read-only open creates none");
                    }
                }
                families = Families.forReplica(versions.liveFamilies(), given, options);
                options.mergeOperator(families.merge).compactionFilter(families.filter).ttl(null);
            } else if (descriptors != null) {
                options = plainWithDescriptors(dir, options, descriptors);
            }
            TtlMarker.check(fs, dir, true, options.ttl()); // reads only, for an existing DB
            db = new DBImpl(dir, options, NO_LOCK, versions, families, true, sharedBlockCache);
            db.recovery.recoverReadOnly();
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                // open the tables now (as the table cache has room): a writer elsewhere may delete them later
                for (io.o3lsm.internal.version.FileMetaData f : versions.current().files(level)) {
                    db.e.tableCache.acquire(f.number).release();
                }
            }
            db.registerMBean(); // beside a read-write open of the same directory: ",instance=N"
            return db;
        } catch (IOException | RuntimeException | Error ex) {
            cleanupFailedOpen(db, versions, null);
            throw ex;
        }
    }

    /** {@code DB.listColumnFamilies(dir, options)}: the MANIFEST's registry, read without the lock. */
    public static List<String> listColumnFamilies(Path dir, Options options) {
        if (dir == null || options == null) {
            throw new IllegalArgumentException((dir == null ? "dir" : "options") + " must not be null");
        }
        FileSystem fs = options.fileSystem();
        List<String> names = readWhileFilesMove("list the column families of " + dir,
                () -> listColumnFamiliesOnce(fs, dir));
        if (names == null) {
            throw new O3Exception("no database in " + dir + " (no CURRENT file)");
        }
        return names;
    }

    /**
     * The column families of a family-aware DB that were created with a TTL (their values carry
     * stamps, so they must be opened with one), read from its MANIFEST without opening it; empty for a
     * DB created without families (its {@code TTL} marker tells). For tools that open a DB they did not
     * create ({@code bin/o3 backup create}).
     *
     * @throws O3Exception no DB is there, or its files cannot be read
     */
    public static java.util.Set<String> ttlColumnFamilies(Path dir, Options options) {
        return readWhileFilesMove("read the column families of " + dir,
                () -> ttlColumnFamiliesOnce(options.fileSystem(), dir));
    }

    private static java.util.Set<String> ttlColumnFamiliesOnce(FileSystem fs, Path dir) throws IOException {
        VersionSet versions = new VersionSet(fs, dir, () -> { }).lookOnly(); // reads only: no lock needed
        try {
            if (!versions.recover()) {
                throw new O3Exception("no database in " + dir + " (no CURRENT file)");
            }
            java.util.Set<String> out = new java.util.TreeSet<>();
            if (versions.families()) {
                for (io.o3lsm.internal.version.VersionEdit.Family f : versions.liveFamilies()) {
                    if ((f.flags() & io.o3lsm.internal.version.VersionEdit.FAMILY_FLAG_TTL) != 0) {
                        out.add(f.name());
                    }
                }
            }
            return out;
        } finally {
            versions.close();
        }
    }

    /** The families a DB's MANIFEST lists; null when there is no DB (no CURRENT). */
    private static List<String> listColumnFamiliesOnce(FileSystem fs, Path dir) throws IOException {
        VersionSet versions = new VersionSet(fs, dir, () -> { }).lookOnly(); // reads only: no lock needed
        try {
            if (!versions.recover()) {
                return null;
            }
            if (!versions.families()) {
                return List.of(DB.DEFAULT_COLUMN_FAMILY);
            }
            List<String> out = new java.util.ArrayList<>();
            for (io.o3lsm.internal.version.VersionEdit.Family f : versions.liveFamilies()) {
                out.add(f.name());
            }
            return out;
        } finally {
            versions.close();
        }
    }

    /**
     * A DB created without column families opened with descriptors: they may name the default family
     * only, whose functions then become the options'.
     */
    private static Options plainWithDescriptors(Path dir, Options options,
            List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        for (io.o3lsm.ColumnFamilyDescriptor d : descriptors) {
            if (d == null) {
                throw new IllegalArgumentException("column family descriptors must not hold null");
            }
            if (!d.name().equals(DB.DEFAULT_COLUMN_FAMILY)) {
                throw new IllegalArgumentException("the DB in " + dir + " was created without column families "
                        + "(by DB.open(dir, options)): it has the default family only, and cannot open or create \""
                        + d.name() + "\" (a DB gets families when DB.open(dir, options, descriptors) creates it)");
            }
            io.o3lsm.ColumnFamilyOptions o = d.options().copy().validate();
            if (o.mergeOperator() != null || o.compactionFilter() != null || o.ttl() != null) {
                if (options.mergeOperator() != null || options.compactionFilter() != null || options.ttl() != null) {
                    throw new IllegalArgumentException("the default column family's merge operator, compaction "
                            + "filter and ttl are set both in Options and in its descriptor: set them in one place");
                }
                options.mergeOperator(o.mergeOperator()).compactionFilter(o.compactionFilter()).ttl(o.ttl());
                options.validate();
            }
        }
        return options;
    }

    /**
     * Creates {@code dir} if missing and takes its LOCK file, telling apart the reasons this can fail:
     * {@code dir} is not a directory (a caller mistake: {@link IllegalArgumentException}), the
     * directory or its LOCK file cannot be written, or another DB holds the lock ({@link O3Exception}).
     * A lock that is not a {@link FileSystem.Lock} is one that cannot be taken away: its
     * {@code checkHeld} does nothing.
     */
    private static FileSystem.Lock createAndLock(FileSystem fs, Path dir) throws IOException {
        try {
            fs.createDirectories(dir);
        } catch (FileAlreadyExistsException ex) {
            throw new IllegalArgumentException("cannot open a DB at " + dir + ": it is a file, not a directory", ex);
        } catch (FileSystemException ex) {
            throw new O3Exception("cannot open a DB at " + dir + ": cannot create the directory " + ex.getFile()
                    + (ex.getReason() != null ? " (" + ex.getReason() + ")" : ""), ex);
        }
        Path lockFile = dir.resolve(FileNames.LOCK);
        try {
            Closeable lock = fs.lock(lockFile);
            return lock instanceof FileSystem.Lock l ? l : lock::close;
        } catch (AccessDeniedException ex) {
            boolean lockExists = fs.exists(lockFile);
            throw new O3Exception("cannot open a DB at " + dir + ": "
                    + (lockExists ? "its LOCK file is not writable" : "the directory is not writable")
                    + " (permission denied opening " + lockFile + ")", ex);
        } catch (FileSystemException ex) {
            throw new O3Exception("cannot open a DB at " + dir + ": cannot create or open its LOCK file " + lockFile
                    + (ex.getReason() != null ? " (" + ex.getReason() + ")" : ""), ex);
        } catch (IOException ex) {
            throw new O3Exception("cannot open a DB at " + dir + ": it is in use by another DB instance ("
                    + ex.getMessage() + ")", ex);
        }
    }

    /**
     * Opens a replica ({@code DB.openReplica}): the directory's tables, MANIFEST and log files as its
     * last run left them (memtables rebuilt from its own log), then it follows its primary.
     */
    public static io.o3lsm.Replica openReplica(Path dir, Options options) {
        return openReplica(dir, options, null);
    }

    /**
     * {@code descriptors}: a replica of a DB with column families (the options of those it reads with
     * functions); null: of a DB without them.
     */
    public static io.o3lsm.Replica openReplica(Path dir, Options options,
            List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (dir == null) {
            throw new IllegalArgumentException("dir must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        options = options.copy().validate();
        if (options.replicaOf() == null) {
            throw new IllegalArgumentException("DB.openReplica needs Options.replicaOf(primary host:port, secretFile)");
        }
        if (options.memoryNodeAddress() != null) {
            throw new IllegalArgumentException("a replica cannot use a memory node (memoryNode is set): it never "
                    + "flushes, its memtables hold what its primary has not flushed yet");
        }
        FileSystem fs = options.fileSystem();
        FileSystem.Lock lock = null;
        VersionSet versions = null;
        DBImpl db = null;
        try {
            lock = createAndLock(fs, dir);
            versions = new VersionSet(fs, dir, lock);
            boolean exists = versions.recover();
            Families families = null;
            if (versions.families() && descriptors == null) {
                throw new IllegalArgumentException("the replica in " + dir + " holds a DB with column families: open it "
                        + "with DB.openReplica(dir, options, descriptors)");
            }
            if (exists && !versions.families() && descriptors != null) {
                throw new IllegalArgumentException("the replica in " + dir + " holds a DB without column families: "
                        + "open it with DB.openReplica(dir, options)");
            }
            if (descriptors != null) {
                if (options.replicaRebuildsTables()) {
                    throw new IllegalArgumentException("a replica of a DB with column families takes the primary's "
                            + "tables: Options.replicaRebuildsTables (the rebuilding baseline) is not built for it");
                }
                families = Families.forReplica(versions.liveFamilies(), descriptors, options);
                options.mergeOperator(families.merge).compactionFilter(families.filter).ttl(null);
            }
            db = new DBImpl(dir, options, lock, versions, families);
            ReplicaApplier applier = new ReplicaApplier(db.e);
            db.e.replicaApplier = applier;
            if (options.replicaRebuildsTables()) {
                db.recovery.recover(exists); // an ordinary DB its applier writes into
            } else {
                applier.recover(exists);
            }
            applier.start();
            db.registerMBean();
            return new ReplicaDB(db);
        } catch (IOException ex) {
            cleanupFailedOpen(db, versions, lock);
            throw new O3Exception("cannot open the replica " + dir + ": " + ex, ex);
        } catch (RuntimeException | Error ex) {
            cleanupFailedOpen(db, versions, lock);
            throw ex;
        }
    }

    /** {@code Replica.promote(dir, options)}: raises the epoch of a closed replica directory, then opens it. */
    public static DB promoteDirectory(Path dir, Options options) {
        return promoteDirectory(dir, options, null);
    }

    /**
     * As {@link #promoteDirectory(Path, Options)}; {@code descriptors}: the families to open a
     * directory of a DB with column families with (null: each of its families, without functions).
     */
    public static DB promoteDirectory(Path dir, Options options, List<io.o3lsm.ColumnFamilyDescriptor> descriptors) {
        if (dir == null || options == null) {
            throw new IllegalArgumentException((dir == null ? "dir" : "options") + " must not be null");
        }
        if (options.replicaOf() != null) {
            throw new IllegalArgumentException("promote: the options name a primary to follow (replicaOf); a promoted "
                    + "replica is a primary");
        }
        options.copy().validate();
        FileSystem fs = options.fileSystem();
        try {
            if (!fs.exists(dir.resolve(FileNames.CURRENT)) || !fs.exists(dir.resolve("IDENTITY"))) {
                throw new O3Exception("cannot promote " + dir + ": it holds no replica state (no MANIFEST received "
                        + "from a primary)");
            }
            FileSystem.Lock lock = createAndLock(fs, dir);
            VersionSet versions = new VersionSet(fs, dir, lock);
            try {
                versions.recover();
                if (versions.families() && descriptors == null) {
                    descriptors = new java.util.ArrayList<>();
                    for (io.o3lsm.internal.version.VersionEdit.Family f : versions.liveFamilies()) {
                        if (f.id() != 0 || !Families.setsFunctions(options)) {
                            descriptors.add(new io.o3lsm.ColumnFamilyDescriptor(f.name(),
                                    (f.flags() & io.o3lsm.internal.version.VersionEdit.FAMILY_FLAG_TTL) != 0
                                            ? io.o3lsm.ColumnFamilyOptions.defaults().ttl(Families.HIDDEN_TTL)
                                            : io.o3lsm.ColumnFamilyOptions.defaults()));
                        }
                    }
                }
                if (descriptors != null) {
                    Families.checkOpenable(dir.toString(), versions, descriptors, options); // before the epoch is raised
                }
                versions.writeNewManifest(ReplicaDB.promotionEdit(versions));
            } finally {
                try {
                    versions.close();
                } finally {
                    lock.close();
                }
            }
        } catch (IOException ex) {
            throw new O3Exception("cannot promote " + dir + ": " + ex, ex);
        }
        Engine.LOG.info("replica directory " + dir + " promoted; opening it as a primary");
        return descriptors != null ? open(dir, options, descriptors) : open(dir, options);
    }

    private static void cleanupFailedOpen(DBImpl db, VersionSet versions, FileSystem.Lock lock) {
        if (db != null) {
            Engine e = db.e;
            if (e.replication != null) {
                e.replication.close();
            }
            if (e.replicaApplier != null) {
                try {
                    e.replicaApplier.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            e.mutex.lock();
            try {
                e.closing = true; // background work started by recovery gives up
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
            e.flushOffloader.close();
            e.compactionOffloader.close();
            e.flushes.stop();
            e.compactions.stop();
            e.dm.close();
            e.listeners.close();
            e.tableCache.close();
            e.wals.closeQuietly();
            e.closed = true;
        }
        try {
            if (versions != null) {
                versions.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
        try {
            if (lock != null) {
                lock.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
    }

    /**
     * With {@code Options.jmx}, registers the DB's MBean (the last step of an open). A failure (no
     * {@code java.management} module, a refusing security manager) is logged; the DB opens anyway.
     */
    private void registerMBean() {
        if (!e.options.jmx()) {
            return;
        }
        try {
            mbean = DbMBean.register(e, properties);
        } catch (Exception | LinkageError ex) {
            Engine.LOG.warning("DB " + e.dir + " opened without its MBean (Options.jmx): " + ex);
        }
    }

    /** Unregisters the MBean (first thing at close: a scrape must not find a closing DB). */
    private void unregisterMBean() {
        AutoCloseable m = mbean;
        mbean = null;
        if (m != null) {
            try {
                m.close();
            } catch (Exception | LinkageError ex) {
                Engine.LOG.warning("DB " + e.dir + ": unregistering its MBean failed: " + ex);
            }
        }
    }

    /** The MBean's object name, or null without one (tests). */
    String mbeanName() {
        AutoCloseable m = mbean;
        return m == null ? null : m.toString();
    }

    @Override
    public void close() {
        unregisterMBean();
        e.mutex.lock();
        try {
            if (e.closing) { // another caller is closing: return when it is done, as it will
                while (!e.closed) {
                    e.bgChanged.awaitUninterruptibly();
                }
                return;
            }
            e.closing = true;
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
        // an offloaded flush or compaction (compactRange's too, in its caller's thread) may be waiting on a
        // remote worker for up to its deadline: closing the offload executors ends those waits now (the
        // job's inputs stay live); later jobs find the executors closed and run locally or give up
        e.flushOffloader.close();
        e.compactionOffloader.close();
        e.mutex.lock();
        try {
            // a compactRange runs in its caller's thread: let it stop before files are released
            e.compactions.awaitManualDone();
            // so does a checkpoint: it gives up at its next file (DBClosedException) and removes its copy
            while (e.checkpoints > 0) {
                e.bgChanged.awaitUninterruptibly();
            }
            // wait for the writer queue to drain: queued writers see `closing` and fail
            e.writes.enterAlone();
            e.writes.leave(); // any writer still queued behind us will find `closing` set
        } finally {
            e.mutex.unlock();
        }
        IOException failure = null;
        // replication first: no more shipping from a primary (its pinned versions are released), no
        // more applying on a replica (its log is synced and closed)
        if (e.replication != null) {
            e.replication.close();
        }
        if (e.replicaApplier != null) {
            try {
                e.replicaApplier.close();
            } catch (IOException ex) {
                failure = ex;
            }
        }
        try {
            // every thread the DB started is joined before the files it may use are released: a running
            // flush finishes, a running compaction gives up (CompactionJob polls `closing`); the flush
            // executor is closed first, which fails offloaded flushes still waiting (they leave their
            // shards to the WAL); so is the compaction offload executor (an offloaded compaction still
            // waiting ends, is not run locally, and leaves its inputs live). Both were closed above,
            // before waiting for compactRange; closing again is a no-op.
            e.flushes.stop();
            e.compactions.stop();
            e.dm.close();
            // every event source has stopped: close a slowdown stall still open, then deliver what is queued
            e.mutex.lock();
            try {
                e.slowdownMaybeOver();
            } finally {
                e.mutex.unlock();
            }
            e.listeners.close();
            boolean walFailed = e.wals.failed();
            try {
                e.wals.close();
            } catch (IOException ex) {
                // an already-reported WAL failure is not news, nor is a lost directory lock (another owner
                // took the files: its lease recovery fails this sync); any other (a flush failed earlier,
                // say, and now the WAL's last records, buffered with manualWalFlush, cannot be written) is
                failure = walFailed || lockLost() ? null : ex;
            }
            e.tableCache.close();
            try {
                e.versions.close();
            } catch (IOException ex) {
                failure = failure == null ? ex : failure;
            }
            try {
                dirLock.close();
            } catch (IOException ex) {
                failure = failure == null ? ex : failure;
            }
        } finally {
            e.mutex.lock();
            try {
                e.closed = true;
                e.bgChanged.signalAll(); // concurrent close() callers
            } finally {
                e.mutex.unlock();
            }
        }
        if (failure != null) {
            throw new O3Exception("closing " + e.dir + " failed: " + failure, failure);
        }
    }

    // ------------------------------------------------------------------ writes (WriteQueue)

    @Override
    public void put(byte[] key, byte[] value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(byte[] key, byte[] value, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.put(key, value);
        timedWrite(b, wo, true);
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.put(key, value);
        timedWrite(b, wo, true);
    }

    @Override
    public void delete(byte[] key) {
        delete(key, WriteOptions.defaults());
    }

    @Override
    public void delete(byte[] key, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.delete(key);
        timedWrite(b, wo, false);
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        deleteRange(fromInclusive, toExclusive, WriteOptions.defaults());
    }

    @Override
    public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.deleteRange(fromInclusive, toExclusive);
        timedWrite(b, wo, false);
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        merge(key, operand, WriteOptions.defaults());
    }

    @Override
    public void merge(byte[] key, byte[] operand, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.merge(key, operand);
        timedWrite(b, wo, false);
    }

    @Override
    public void write(WriteBatch batch, WriteOptions wo) {
        timedWrite(batch, wo, false);
    }

    /**
     * {@link WriteQueue#write}, timed into the write histogram (and the put histogram for a put) when
     * {@code Options.statistics} is on; two {@code System.nanoTime} calls, nothing allocated.
     */
    private void timedWrite(WriteBatch b, WriteOptions wo, boolean put) {
        EngineStats s = e.stats;
        if (!s.enabled) {
            e.writes.write(b, wo);
            return;
        }
        long t0 = System.nanoTime();
        e.writes.write(b, wo);
        long d = System.nanoTime() - t0;
        s.writeNanos.record(d);
        if (put) {
            s.putNanos.record(d);
        }
    }

    // ------------------------------------------------------------------ transactions (TransactionImpl)

    @Override
    public io.o3lsm.Transaction beginTransaction(WriteOptions wo, io.o3lsm.TransactionOptions txnOptions) {
        if (wo == null || txnOptions == null) {
            throw new IllegalArgumentException((wo == null ? "write options" : "transaction options")
                    + " must not be null");
        }
        e.checkOpen();
        if (e.replica) {
            throw new io.o3lsm.ReadOnlyException("beginTransaction refused: DB " + e.dir + " is a replica (read-only; "
                    + "promote it to write)");
        }
        e.writes.checkOptions(wo.sync(), wo.disableWal(), wo.replicationAcks()); // now, not at commit
        return new TransactionImpl(e, this, wo, txnOptions);
    }

    /**
     * The merge operator {@code db} was opened with, if it is an o3lsm DB (or replica) and has one;
     * otherwise null. For {@code WriteBatchWithIndex}, which combines its operands with the DB's value.
     */
    public static io.o3lsm.MergeOperator mergeOperatorOf(DB db) {
        if (db instanceof DBImpl d) {
            return d.e.families == null ? d.e.options.mergeOperator() : d.e.families.defaultFamily().mergeOperator();
        }
        if (db instanceof WriteRefusingDB r) {
            return r.mergeOperator();
        }
        return null;
    }

    // ------------------------------------------------------------------ reads (ReadPath, Snapshots)

    @Override
    public byte[] get(byte[] key) {
        return get(ReadOptions.defaults(), key);
    }

    @Override
    public int get(ByteBuffer key, ByteBuffer value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException((key == null ? "key" : "value") + " buffer must not be null");
        }
        Limits.checkKeyLength(key.remaining(), "key");
        byte[] k = new byte[key.remaining()];
        key.duplicate().get(k);
        byte[] v = get(k);
        if (v == null) {
            return -1;
        }
        value.put(v, 0, Math.min(v.length, value.remaining()));
        return v.length;
    }

    @Override
    public byte[] get(ReadOptions ro, byte[] key) {
        if (e.families != null) {
            return get(ro, e.families.defaultFamily(), key);
        }
        return e.reads.get(ro, key);
    }

    @Override
    public List<byte[]> multiGet(ReadOptions ro, List<byte[]> keys) {
        if (e.families != null) {
            if (keys == null) {
                throw new IllegalArgumentException("keys must not be null");
            }
            return multiGet(ro, java.util.Collections.nCopies(keys.size(), e.families.defaultFamily()), keys);
        }
        return e.reads.multiGet(ro, keys);
    }

    @Override
    public DBIterator iterator(ReadOptions ro) {
        if (e.families != null) {
            return iterator(ro, e.families.defaultFamily());
        }
        return e.reads.iterator(ro);
    }

    // ------------------------------------------------------------------ column families (Families)


    /** The family {@code cf} stands for (null: the plain default family of a DB without families). */
    private Families.Family family(ColumnFamilyHandle cf) {
        if (e.families != null) {
            return e.families.check(cf);
        }
        if (cf == null) {
            throw new IllegalArgumentException("column family handle must not be null");
        }
        if (cf != e.plainDefault) {
            throw new IllegalArgumentException(cf + " is not a column family of DB " + e.dir);
        }
        return null;
    }

    private Families requireFamilies(String what) {
        e.checkOpen();
        if (e.families == null) {
            throw new IllegalStateException(what + ": DB " + e.dir + " was created without column families (by "
                    + "DB.open(dir, options)); a DB gets them when DB.open(dir, options, descriptors) creates it");
        }
        return e.families;
    }

    @Override
    public ColumnFamilyHandle createColumnFamily(String name, io.o3lsm.ColumnFamilyOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("column family options must not be null");
        }
        Families f = requireFamilies("createColumnFamily");
        if (e.replica) {
            throw new io.o3lsm.ReadOnlyException("createColumnFamily refused: DB " + e.dir + " is a replica");
        }
        try {
            return f.create(name, options);
        } catch (IOException ex) {
            O3Exception err = new O3Exception("creating column family \"" + name + "\" in " + e.dir + " failed "
                    + "writing the MANIFEST; the DB refuses further writes until reopened: " + ex, ex);
            e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.MANIFEST);
            throw err;
        }
    }

    @Override
    public void dropColumnFamily(ColumnFamilyHandle cf) {
        Families f = requireFamilies("dropColumnFamily");
        try {
            f.drop(cf);
        } catch (IOException ex) {
            O3Exception err = new O3Exception("dropping " + cf + " in " + e.dir + " failed writing the MANIFEST; "
                    + "the DB refuses further writes until reopened (its keys are deleted already): " + ex, ex);
            e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.MANIFEST);
            throw err;
        }
    }

    @Override
    public List<String> listColumnFamilies() {
        e.checkOpen();
        return e.families == null ? List.of(DB.DEFAULT_COLUMN_FAMILY) : e.families.names();
    }

    @Override
    public ColumnFamilyHandle columnFamily(String name) {
        if (name == null) {
            throw new IllegalArgumentException("column family name must not be null");
        }
        e.checkOpen();
        if (e.families == null) {
            return DB.DEFAULT_COLUMN_FAMILY.equals(name) ? e.plainDefault : null;
        }
        return e.families.byName(name);
    }

    @Override
    public ColumnFamilyHandle defaultColumnFamily() {
        e.checkOpen();
        return e.families == null ? e.plainDefault : e.families.defaultFamily();
    }

    @Override
    public void put(ColumnFamilyHandle cf, byte[] key, byte[] value, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.put(checkedForBatch(cf), key, value);
        timedWrite(b, wo, true);
    }

    @Override
    public void delete(ColumnFamilyHandle cf, byte[] key, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.delete(checkedForBatch(cf), key);
        timedWrite(b, wo, false);
    }

    @Override
    public void merge(ColumnFamilyHandle cf, byte[] key, byte[] operand, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.merge(checkedForBatch(cf), key, operand);
        timedWrite(b, wo, false);
    }

    @Override
    public void deleteRange(ColumnFamilyHandle cf, byte[] fromInclusive, byte[] toExclusive, WriteOptions wo) {
        WriteBatch b = e.writes.threadBatch();
        b.deleteRange(checkedForBatch(cf), fromInclusive, toExclusive);
        timedWrite(b, wo, false);
    }

    /** {@code cf} after checking it is this DB's (a batch carries only its id). */
    private ColumnFamilyHandle checkedForBatch(ColumnFamilyHandle cf) {
        family(cf);
        return cf;
    }

    @Override
    public byte[] get(ReadOptions ro, ColumnFamilyHandle cf, byte[] key) {
        Families.Family f = family(cf);
        if (f == null) {
            return e.reads.get(ro, key);
        }
        return e.reads.get(ro, f.storedKey(key));
    }

    @Override
    public List<byte[]> multiGet(ReadOptions ro, List<ColumnFamilyHandle> families, List<byte[]> keys) {
        if (families == null || keys == null) {
            throw new IllegalArgumentException((families == null ? "families" : "keys") + " must not be null");
        }
        if (families.size() != keys.size()) {
            throw new IllegalArgumentException("multiGet: " + families.size() + " families for " + keys.size()
                    + " keys; give one family per key");
        }
        List<byte[]> stored = new java.util.ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            Families.Family f = family(families.get(i));
            byte[] k = keys.get(i);
            if (f == null) {
                stored.add(k);
            } else {
                Limits.checkKey(k, "keys[" + i + "]");
                stored.add(f.storedKey(k));
            }
        }
        return e.reads.multiGet(ro, stored);
    }

    @Override
    public DBIterator iterator(ReadOptions ro, ColumnFamilyHandle cf) {
        Families.Family f = family(cf);
        if (f == null) {
            return e.reads.iterator(ro);
        }
        e.checkOpen();
        return e.families.iterator(f, ro);
    }

    @Override
    public void compactRange(ColumnFamilyHandle cf, byte[] from, byte[] to) {
        // a dropped family's handle too: compacting its range now gives its space back
        Families.Family f = e.families != null ? e.families.checkOwned(cf) : family(cf);
        if (f == null) {
            compactRange(from, to);
            return;
        }
        if (from != null) {
            Limits.checkKeyLength(from.length, "compactRange start key");
        }
        if (to != null) {
            Limits.checkKeyLength(to.length, "compactRange end key");
        }
        compactStored(from == null ? f.prefix : f.prefixed(from, "compactRange start key"),
                to == null ? f.end : f.prefixed(to, "compactRange end key"));
    }

    @Override
    public Snapshot snapshot() {
        return e.snapshots.create();
    }

    // ------------------------------------------------------------------ flush and compaction

    /** Whether the directory's lock can no longer be vouched for (on shared storage: another owner may hold it). */
    private boolean lockLost() {
        try {
            e.dirLock.checkHeld();
            return false;
        } catch (IOException ex) {
            return true;
        }
    }

    @Override
    public void flushWal(boolean sync) {
        e.checkOpen();
        // not behind the write queue (a leader may be parked in a write stall): only behind a group's append
        try {
            e.wals.flushNow(sync);
        } catch (IOException ex) {
            O3Exception err = new O3Exception("flushing the WAL of " + e.dir + " failed; the DB refuses further "
                    + "writes until reopened (" + e.acknowledgedWritesNote() + "): " + ex, ex);
            e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.WRITE);
            throw err;
        }
    }

    @Override
    public void flush() {
        e.flushes.flushAll();
    }

    @Override
    public void compactRange(byte[] from, byte[] to) {
        if (e.families != null) {
            compactRange(e.families.defaultFamily(), from, to);
            return;
        }
        if (from != null) {
            Limits.checkKeyLength(from.length, "compactRange start key");
        }
        if (to != null) {
            Limits.checkKeyLength(to.length, "compactRange end key");
        }
        compactStored(from, to);
    }

    /** Compacts {@code [from, to]} of the keys as stored. */
    private void compactStored(byte[] from, byte[] to) {
        e.checkOpen();
        flush();
        e.compactions.compactRange(from, to);
    }

    // ------------------------------------------------------------------ bulk ingest (IngestJob)

    @Override
    public void ingest(List<Path> files, io.o3lsm.IngestOptions options) {
        e.checkOpen();
        ingestInto(e.families != null ? e.families.defaultFamily() : e.plainDefault, files, options);
    }

    @Override
    public void ingest(ColumnFamilyHandle cf, List<Path> files, io.o3lsm.IngestOptions options) {
        e.checkOpen();
        ingestInto(cf, files, options);
    }

    private void ingestInto(ColumnFamilyHandle cf, List<Path> files, io.o3lsm.IngestOptions options) {
        Families.Family f = family(cf);
        new IngestJob(e, f, options == null ? io.o3lsm.IngestOptions.defaults() : options.copy()).run(files);
    }

    // ------------------------------------------------------------------ checkpoint (CheckpointWriter)

    @Override
    public long checkpoint(Path target) {
        if (target == null) {
            throw new IllegalArgumentException("checkpoint target must not be null");
        }
        return new CheckpointWriter(e, target).write();
    }

    /**
     * For the backup engine: a checkpoint into {@code target} without its tables, which stay pinned in
     * this DB's directory until the result is closed ({@link PinnedCheckpoint}).
     */
    public PinnedCheckpoint checkpointWithoutTables(Path target) {
        if (target == null) {
            throw new IllegalArgumentException("checkpoint target must not be null");
        }
        return new CheckpointWriter(e, target).writeWithoutTables();
    }

    /** The file system the DB's files are on (for the backup engine, which stages a checkpoint there). */
    public FileSystem fileSystem() {
        return e.fs;
    }

    /** The DB's directory in {@link #fileSystem()}. */
    public Path directory() {
        return e.dir;
    }

    // ------------------------------------------------------------------ properties (DbProperties)

    @Override
    public String property(String name) {
        return properties.property(name);
    }

    @Override
    public DBStats stats() {
        return properties.stats();
    }

    // ------------------------------------------------------------------ for tests and stats

    /** Live sequence number. */
    public long lastSequence() {
        return e.lastSequence;
    }

    /** Blocks until no sealed shard is waiting for flush (test hook). */
    public void waitForFlushes() {
        e.flushes.waitForFlushes();
    }

    /**
     * Test hook: in DM mode, {@code true} reads cached entries one-sided always, {@code false}
     * delegates always, null chooses by measured latency (the default; {@code RemoteReadChoice}).
     */
    public void forceRemoteReadChoice(Boolean oneSided) {
        e.readChoice.force(oneSided);
    }

    /** Blocks until no flush is running, without asking for any (test hook). */
    public void waitForRunningFlushes() {
        e.flushes.waitForRunning();
    }

    /** Blocks until no compaction runs or is due (test hook). */
    public void waitForCompactions() {
        e.compactions.waitForCompactions();
    }

    /** The shared state and parts (for tests in this package). */
    Engine engine() {
        return e;
    }

    public Version currentVersion() {
        return e.versions.current();
    }

    @Override
    public String toString() {
        return "DB(" + e.dir + ")";
    }
}
