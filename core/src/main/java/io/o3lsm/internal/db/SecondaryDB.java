package io.o3lsm.internal.db;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.DBClosedException;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.ReadOptions;
import io.o3lsm.Secondary;
import io.o3lsm.Snapshot;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The {@link Secondary} {@code DB.openSecondary} returns: a read-only instance following a primary
 * by catching up on demand. docs/operations/secondary.md.
 *
 * <p><b>How.</b> A view is one read-only engine ({@link DBImpl#recoverReadOnly}: the MANIFEST read,
 * the WALs it does not cover replayed into memtables, the version's tables opened). A catch-up builds
 * a whole new engine from the primary's files as they are now and swaps it in by one volatile write
 * ({@link #current}); the memtables are rebuilt from scratch rather than extended, so a write the
 * primary has meanwhile flushed to a table can never be held twice (a merge operand counted twice).
 * The successive engines share one block cache.
 *
 * <p><b>Lifetime of a view.</b> A view is reference counted: one reference while it is current, one
 * per read in flight, per open iterator and per open snapshot ({@link SecondarySnapshot}, whose reads
 * go to the view it was taken on). It is closed when the last is dropped; {@link #close} closes every
 * view at once.
 *
 * <p><b>Column families.</b> Handles belong to one engine: a handle is resolved again, by name, in
 * the view a call reads.
 *
 * <p>Thread-safe: reads never block on a catch-up; catch-ups and {@link #close} are serialized on
 * {@link #catchUpLock}.
 */
public final class SecondaryDB extends WriteRefusingDB implements Secondary {
    private final Path dir;
    private final Options options;
    private final List<ColumnFamilyDescriptor> descriptors;
    /** Shared by the views of one DB identity (guarded by catchUpLock; a new identity gets a new cache). */
    private BlockCache blockCache;
    /** The primary's IDENTITY when the current view was built (guarded by catchUpLock). */
    private String identity;
    private final Object catchUpLock = new Object();
    /** The installed view; null once closed. */
    private volatile View current;
    /** Every view not yet closed (the current one, and older ones still read). */
    private final Set<View> live = ConcurrentHashMap.newKeySet();
    /** The primary's MANIFEST and WAL sizes read just before the current view was built; guarded by catchUpLock. */
    private Map<String, Long> seen;

    /** One engine and its references (one while current, one per read, iterator and snapshot). */
    private final class View {
        final DBImpl db;
        final long sequence;
        private final AtomicInteger refs = new AtomicInteger(1);

        View(DBImpl db) {
            this.db = db;
            this.sequence = db.engine().lastSequence;
        }

        boolean tryRef() {
            while (true) {
                int n = refs.get();
                if (n == 0) {
                    return false;
                }
                if (refs.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        void release() {
            if (refs.decrementAndGet() == 0) {
                live.remove(this);
                try {
                    db.close();
                } catch (RuntimeException ex) { // the view is gone either way; its reader's call succeeded
                    Engine.LOG.warning("secondary " + dir + ": closing an old view failed: " + ex);
                }
            }
        }
    }

    private SecondaryDB(Path dir, Options options, List<ColumnFamilyDescriptor> descriptors, BlockCache blockCache) {
        this.dir = dir;
        this.options = options;
        this.descriptors = descriptors;
        this.blockCache = blockCache;
    }

    /** {@code DB.openSecondary}: {@code descriptors} null when none are given. */
    public static Secondary open(Path dir, Options options, List<ColumnFamilyDescriptor> descriptors) {
        if (dir == null || options == null) {
            throw new IllegalArgumentException((dir == null ? "primaryDir" : "options") + " must not be null");
        }
        Options own = DBImpl.readOnlyOptions(options).jmx(false); // an MBean per view would come and go
        BlockCache cache = own.blockCacheSize() > 0 ? new BlockCache(own.blockCacheSize()) : null;
        SecondaryDB s = new SecondaryDB(dir, own, descriptors, cache);
        synchronized (s.catchUpLock) {
            s.install(s.build("open a secondary of " + dir));
        }
        return s;
    }

    /** The next view's engine; {@link #seen} is set to what the primary's files were before it was read. */
    private DBImpl build(String what) {
        Map<String, Long> before = fingerprint();
        String id = identity();
        if (identity != null && !identity.equals(id) && blockCache != null) {
            // another DB in the directory (recreated, or restored): its file numbers start over, so the
            // blocks cached under them are another DB's
            blockCache = new BlockCache(options.blockCacheSize());
        }
        DBImpl db = DBImpl.recoverReadOnly(dir, options, descriptors, blockCache, what);
        seen = before;
        identity = id;
        return db;
    }

    private void install(DBImpl db) {
        View next = new View(db);
        live.add(next);
        View old = current;
        current = next;
        if (old != null) {
            old.release();
        }
    }

    /**
     * The sizes of the primary's MANIFESTs and WALs by name (null if they could not all be read: a
     * file deleted between listing and sizing). The primary only appends to them, under fresh names: an
     * equal fingerprint means the same MANIFEST records and WAL records, hence the same view.
     */
    private Map<String, Long> fingerprint() {
        FileSystem fs = options.fileSystem();
        try {
            Map<String, Long> sizes = new TreeMap<>();
            for (String name : fs.list(dir)) {
                FileNames.Parsed p = FileNames.parse(name);
                if (p != null && (p.type() == FileNames.Type.LOG || p.type() == FileNames.Type.MANIFEST
                        || p.type() == FileNames.Type.CURRENT)) {
                    sizes.put(name, fs.size(dir.resolve(name)));
                }
            }
            sizes.put("IDENTITY " + identity(), 0L); // a DB recreated with files of the same names and sizes
            return sizes;
        } catch (IOException ex) {
            return null; // changing under us: build a view
        }
    }

    /** The primary's IDENTITY file's content ("" when absent), read without writing anything. */
    private String identity() {
        FileSystem fs = options.fileSystem();
        Path p = dir.resolve("IDENTITY");
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            byte[] b = new byte[(int) Math.min(256, f.size())];
            f.readFully(0, b, 0, b.length);
            return new String(b, java.nio.charset.StandardCharsets.UTF_8).trim();
        } catch (IOException ex) {
            return "";
        }
    }

    @Override
    public long tryCatchUp() {
        synchronized (catchUpLock) {
            View v = current;
            if (v == null) {
                throw closed();
            }
            Map<String, Long> now = fingerprint();
            if (now != null && now.equals(seen)) {
                return v.sequence;
            }
            install(build("catch up with the primary in " + dir));
            return current.sequence;
        }
    }

    @Override
    public long sequence() {
        View v = current;
        if (v == null) {
            throw closed();
        }
        return v.sequence;
    }

    private DBClosedException closed() {
        return new DBClosedException("DB " + dir + " is closed");
    }

    /** A reference on the current view (released by the caller). */
    private View acquire() {
        while (true) {
            View v = current;
            if (v == null) {
                throw closed();
            }
            if (v.tryRef()) {
                return v;
            }
            // replaced, and its last reference dropped meanwhile: the next one is current
        }
    }

    /** The view a read with {@code ro} goes to (referenced): its snapshot's, else the current one. */
    private View viewFor(ReadOptions ro) {
        if (ro != null && ro.snapshot() instanceof SecondarySnapshot s) {
            if (!s.view.tryRef()) {
                throw new IllegalStateException("snapshot at " + s.sequence() + " of " + dir + " is closed");
            }
            return s.view;
        }
        return acquire();
    }

    /** {@code ro} as the engine of a view takes it: a secondary's snapshot replaced by its engine's. */
    private static ReadOptions forEngine(ReadOptions ro) {
        if (ro != null && ro.snapshot() instanceof SecondarySnapshot s) {
            return ro.copy().snapshot(s.inner);
        }
        return ro;
    }

    private <T> T read(ReadOptions ro, BiFunction<DBImpl, ReadOptions, T> f) {
        View v = viewFor(ro);
        try {
            return f.apply(v.db, forEngine(ro));
        } finally {
            v.release();
        }
    }

    /** {@code h} resolved in view {@code v}, by name. */
    private ColumnFamilyHandle in(View v, ColumnFamilyHandle h) {
        if (h == null) {
            return null; // the engine says so
        }
        ColumnFamilyHandle r = v.db.columnFamily(h.name());
        if (r != null && r.id() != h.id()) {
            throw new IllegalArgumentException("column family \"" + h.name() + "\" (id " + h.id() + ") was dropped by "
                    + "the primary of secondary " + dir + "; the family of that name now is another (id " + r.id() + ")");
        }
        if (r == null) {
            throw new IllegalArgumentException("column family \"" + h.name() + "\" is not in the view of secondary "
                    + dir + " at sequence " + v.sequence + " (dropped by the primary, or created after that view)");
        }
        return r;
    }

    // ------------------------------------------------------------------ refusals

    @Override
    ReadOnlyException readOnly(String what) {
        if (current == null) {
            throw closed();
        }
        return new ReadOnlyException(what + " refused: DB " + dir + " is a secondary instance (DB.openSecondary: "
                + "it follows the primary with tryCatchUp; write through the primary)");
    }

    @Override
    io.o3lsm.MergeOperator mergeOperator() {
        View v = acquire();
        try {
            return DBImpl.mergeOperatorOf(v.db);
        } finally {
            v.release();
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public byte[] get(byte[] key) {
        return get(ReadOptions.defaults(), key);
    }

    @Override
    public int get(ByteBuffer key, ByteBuffer value) {
        View v = acquire();
        try {
            return v.db.get(key, value);
        } finally {
            v.release();
        }
    }

    @Override
    public byte[] get(ReadOptions options, byte[] key) {
        return read(options, (db, ro) -> db.get(ro, key));
    }

    @Override
    public List<byte[]> multiGet(ReadOptions options, List<byte[]> keys) {
        return read(options, (db, ro) -> db.multiGet(ro, keys));
    }

    @Override
    public DBIterator iterator(ReadOptions options) {
        View v = viewFor(options);
        try {
            return new ViewIterator(v.db.iterator(forEngine(options)), v);
        } catch (RuntimeException | Error ex) {
            v.release();
            throw ex;
        }
    }

    @Override
    public List<String> listColumnFamilies() {
        return read(ReadOptions.defaults(), (db, ro) -> db.listColumnFamilies());
    }

    @Override
    public ColumnFamilyHandle columnFamily(String name) {
        return read(ReadOptions.defaults(), (db, ro) -> db.columnFamily(name));
    }

    @Override
    public ColumnFamilyHandle defaultColumnFamily() {
        return read(ReadOptions.defaults(), (db, ro) -> db.defaultColumnFamily());
    }

    @Override
    public byte[] get(ReadOptions options, ColumnFamilyHandle family, byte[] key) {
        View v = viewFor(options);
        try {
            return v.db.get(forEngine(options), in(v, family), key);
        } finally {
            v.release();
        }
    }

    @Override
    public List<byte[]> multiGet(ReadOptions options, List<ColumnFamilyHandle> families, List<byte[]> keys) {
        View v = viewFor(options);
        try {
            List<ColumnFamilyHandle> resolved = null;
            if (families != null) {
                resolved = new ArrayList<>(families.size());
                for (ColumnFamilyHandle h : families) {
                    resolved.add(in(v, h));
                }
            }
            return v.db.multiGet(forEngine(options), resolved, keys);
        } finally {
            v.release();
        }
    }

    @Override
    public DBIterator iterator(ReadOptions options, ColumnFamilyHandle family) {
        View v = viewFor(options);
        try {
            return new ViewIterator(v.db.iterator(forEngine(options), in(v, family)), v);
        } catch (RuntimeException | Error ex) {
            v.release();
            throw ex;
        }
    }

    /** A snapshot of the current view; reads through it go to that view, whatever catch-ups follow. */
    @Override
    public Snapshot snapshot() {
        View v = acquire();
        try {
            return new SecondarySnapshot(v, v.db.snapshot());
        } catch (RuntimeException | Error ex) {
            v.release();
            throw ex;
        }
    }

    @Override
    public String property(String name) {
        return read(ReadOptions.defaults(), (db, ro) -> db.property(name));
    }

    @Override
    public DBStats stats() {
        return read(ReadOptions.defaults(), (db, ro) -> db.stats());
    }

    /**
     * Closes every view, including those iterators and snapshots still read (their next use throws
     * {@link DBClosedException}). Waits for a catch-up in progress. Idempotent.
     */
    @Override
    public void close() {
        synchronized (catchUpLock) {
            if (current == null) {
                return;
            }
            current = null;
            RuntimeException first = null;
            for (View v : live) {
                try {
                    v.db.close();
                } catch (RuntimeException ex) {
                    if (first == null) {
                        first = ex;
                    }
                }
            }
            live.clear();
            if (first != null) {
                throw first;
            }
        }
    }

    @Override
    public String toString() {
        View v = current;
        return "SecondaryDB(" + dir + (v == null ? ", closed)" : ", sequence " + v.sequence + ")");
    }

    /** The engine of the current view (tests in this package). */
    DBImpl currentEngine() {
        return current.db;
    }

    /** Releases a view's reference once: at close, or when its holder became unreachable unclosed. */
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    private static final class Release implements Runnable {
        private final View view;
        private final AtomicBoolean done = new AtomicBoolean();

        Release(View view) {
            this.view = view;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                view.release();
            }
        }
    }

    /**
     * A snapshot of one view, holding a reference on it until closed (or, left unclosed, until the
     * garbage collector finds it unreachable: an old view is not pinned forever).
     */
    private static final class SecondarySnapshot implements Snapshot {
        final View view;
        final Snapshot inner;
        private final AtomicBoolean closed = new AtomicBoolean();
        private final java.lang.ref.Cleaner.Cleanable cleanable;

        SecondarySnapshot(View view, Snapshot inner) {
            this.view = view;
            this.inner = inner;
            this.cleanable = CLEANER.register(this, new Release(view));
        }

        @Override
        public long sequence() {
            return inner.sequence();
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    inner.close();
                } finally {
                    cleanable.clean();
                }
            }
        }
    }

    /** An iterator of one view, holding a reference on it until closed (or found unreachable, as a snapshot). */
    private static final class ViewIterator extends ForwardingDBIterator {
        private final AtomicBoolean closed = new AtomicBoolean();
        private final java.lang.ref.Cleaner.Cleanable cleanable;

        ViewIterator(DBIterator it, View view) {
            super(it);
            this.cleanable = CLEANER.register(this, new Release(view));
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    in.close();
                } finally {
                    cleanable.clean();
                }
            }
        }
    }
}
