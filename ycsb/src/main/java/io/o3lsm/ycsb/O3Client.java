package io.o3lsm.ycsb;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.ReadOptions;
import io.o3lsm.WriteOptions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import site.ycsb.ByteIterator;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * The o3lsm binding of YCSB's Java client: {@code site.ycsb.Client -db io.o3lsm.ycsb.O3Client}
 * ({@code bin/o3 ycsb load|run}; {@code docs/operations/ycsb.md}).
 *
 * <p><b>One DB per JVM.</b> YCSB makes one instance per client thread and calls {@link #init} and
 * {@link #cleanup} on each from that thread. The first {@code init} opens the DB that the
 * {@code o3.*} properties describe ({@link ClientConfig}); later ones share it and count a
 * reference; the {@code cleanup} that drops the last reference closes it, flushing it first when
 * {@code o3.disable_wal=true} (closing flushes nothing, and without a WAL the memtables' writes would
 * be lost). YCSB skips {@code cleanup} when an operation throws (it calls {@code System.exit}) or a
 * workload's {@code initThread} does (the thread returns), so a JVM shutdown hook closes (and
 * flushes) a DB still open at exit. An {@code init} whose properties name another directory or mode
 * while the DB is open fails; so does one for the DB whose open failed last in this JVM, at once,
 * with that failure (the client threads do not each try again).
 *
 * <p><b>Records.</b> A record is one key ({@code table 0x00 key}) whose value holds every field
 * ({@link RecordFormat}). {@link #read} returns the asked-for fields (all when {@code fields} is
 * null); {@link #scan} iterates from the start key within the table; {@link #update} reads the record,
 * merges the given fields into it and writes it back; {@link #insert} writes the record whole (a
 * record already there is replaced); {@link #delete} deletes it. Writes of one key are serialized by a
 * striped lock, so concurrent updates of different fields of one record do not lose each other
 * (every writer of the DB is in this JVM: one process opens a DB directory at a time).
 *
 * <p><b>Status.</b> {@code OK}; {@code NOT_FOUND} for a read, update or delete of a key that is not
 * there; {@code ERROR} when o3lsm throws (the DB closed, an I/O failure, a stored value that is not a
 * record, a record too large for one value). The first errors are printed on stderr with their cause,
 * then one line every 10,000. Thread-safe: instances are used by one thread each, the shared state is
 * guarded.
 */
public class O3Client extends site.ycsb.DB {
    /** Stripes of the per-key write lock. */
    private static final int LOCK_STRIPES = 1024;
    private static final ReentrantLock[] LOCKS = new ReentrantLock[LOCK_STRIPES];
    /** Errors printed in full before printing only every {@link #ERROR_EVERY}th. */
    private static final int ERRORS_IN_FULL = 10;
    private static final long ERROR_EVERY = 10_000;

    static {
        for (int i = 0; i < LOCK_STRIPES; i++) {
            LOCKS[i] = new ReentrantLock();
        }
    }

    /** Guards {@link #shared}, {@link #references} and {@link #failedOpen}. */
    private static final Object OPEN_LOCK = new Object();
    private static SharedDb shared;
    private static int references;
    /**
     * The open that failed last in this JVM, or null: an {@code init} for the same DB fails at once
     * with it rather than trying again (YCSB's client threads each call {@code init}; with a memory
     * node that does not answer, each would wait {@code o3.attach_timeout} in turn).
     */
    private static FailedOpen failedOpen;
    private static final AtomicLong ERRORS = new AtomicLong();

    /** The open DB, what it was opened with, and the shutdown hook that closes it if YCSB skips cleanup. */
    private static final class SharedDb {
        final DB db;
        final ClientConfig config;
        final Thread hook;

        SharedDb(DB db, ClientConfig config) {
            this.db = db;
            this.config = config;
            this.hook = new Thread(() -> closeAtExit(this), "o3-ycsb-close-at-exit");
        }
    }

    /** A failed open of the DB {@code config} describes. */
    private record FailedOpen(ClientConfig config, DBException error) {
    }

    /** The shared DB this instance holds a reference to (null before init and after cleanup). */
    private SharedDb mine;
    private DB db;
    private WriteOptions writeOptions;

    @Override
    public void init() throws DBException {
        if (mine != null) {
            return; // init twice on one instance: one reference
        }
        ClientConfig config = ClientConfig.from(getProperties());
        synchronized (OPEN_LOCK) {
            if (shared == null) {
                if (failedOpen != null && failedOpen.config().sameDb(config)) {
                    throw new DBException("opening the DB in " + config.dir() + " failed already in this JVM (not "
                            + "tried again): " + failedOpen.error().getMessage(), failedOpen.error());
                }
                long start = System.nanoTime();
                SharedDb s;
                try {
                    s = new SharedDb(open(config), config);
                } catch (DBException e) {
                    failedOpen = new FailedOpen(config, e);
                    throw e;
                }
                failedOpen = null;
                try {
                    // YCSB skips cleanup when an operation throws (System.exit) or a workload's initThread
                    // does (the thread returns): the hook then flushes (without a WAL) and closes the DB
                    Runtime.getRuntime().addShutdownHook(s.hook);
                } catch (IllegalStateException e) { // the JVM is shutting down
                    try {
                        s.db.close();
                    } catch (RuntimeException c) {
                        e.addSuppressed(c);
                    }
                    throw new DBException("the JVM is shutting down: not opening the DB in " + config.dir(), e);
                }
                shared = s;
                references = 0;
                // YCSB's [OVERALL] RunTime includes this: the client threads call init after its clock started
                System.err.println("o3: opened " + config + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            } else if (!shared.config.sameDb(config)) {
                throw new DBException("this JVM has " + shared.config.dir() + " open in mode " + shared.config.mode()
                        + "; one YCSB client uses one DB (o3.dir " + config.dir() + ", o3.mode " + config.mode() + ")");
            }
            references++;
            mine = shared;
            db = shared.db;
            writeOptions = config.writeOptions();
        }
    }

    /** Opens the DB; with a memory node, returns once the DB is attached to it. */
    private static DB open(ClientConfig config) throws DBException {
        DB d;
        try {
            d = DB.open(config.dir(), config.options());
        } catch (RuntimeException e) {
            throw new DBException("cannot open the DB in " + config.dir() + " (" + ClientConfig.DIR + ", "
                    + ClientConfig.MODE + "=" + config.mode() + "): " + e, e);
        }
        if (config.memoryNode() == null) {
            return d;
        }
        long deadline = System.nanoTime() + config.attachTimeoutSeconds() * 1_000_000_000L;
        String state = d.property("o3.dm");
        while (state == null || !state.contains("attached=true")) {
            if (System.nanoTime() > deadline) {
                throw closing(d, new DBException("not attached to the memory node " + config.memoryNode() + " of "
                        + ClientConfig.CLUSTER + " " + config.cluster() + " within " + ClientConfig.ATTACH_TIMEOUT + "="
                        + config.attachTimeoutSeconds() + " s (is it running? bin/o3 cluster status --dir "
                        + config.cluster() + "): " + state));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw closing(d, new DBException("interrupted waiting for the memory node " + config.memoryNode(), e));
            }
            state = d.property("o3.dm");
        }
        return d;
    }

    /** Closes {@code d} after a failed open; returns {@code e}, with a failure to close added as suppressed. */
    private static DBException closing(DB d, DBException e) {
        try {
            d.close();
        } catch (RuntimeException c) {
            e.addSuppressed(c);
        }
        return e;
    }

    @Override
    public void cleanup() throws DBException {
        SharedDb s = mine;
        if (s == null) {
            return;
        }
        mine = null;
        db = null;
        synchronized (OPEN_LOCK) {
            if (shared != s) {
                return; // closed already: at exit, or by resetForTests
            }
            if (--references > 0) {
                return;
            }
            shared = null;
            try {
                String summary;
                try {
                    summary = summary(s);
                } catch (RuntimeException e) {
                    summary = "(no summary: " + e + ")";
                }
                System.err.println("o3: closing " + s.config.dir() + ": " + summary);
                flushAndClose(s);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(s.hook);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down: the hook runs, finds the DB no longer shared, and does nothing
                }
            }
        }
    }

    /**
     * Closes the shared DB, flushing it first when writes skip the WAL: {@link DB#close} flushes
     * nothing, and without a WAL what is only in the memtables would be lost.
     */
    private static void flushAndClose(SharedDb s) throws DBException {
        RuntimeException failure = null;
        try {
            if (s.config.writeOptions().disableWal()) {
                s.db.flush();
            }
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            try {
                s.db.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw new DBException("closing the DB in " + s.config.dir() + " failed: " + failure, failure);
        }
    }

    /** The shutdown hook: closes {@code s} if it is still shared (YCSB skipped the last cleanup). */
    private static void closeAtExit(SharedDb s) {
        synchronized (OPEN_LOCK) {
            if (shared != s) {
                return; // closed by the last cleanup
            }
            shared = null;
            System.err.println("o3: closing " + s.config.dir() + " at exit (" + references + " client thread"
                    + (references == 1 ? "" : "s") + " skipped cleanup)" + (s.config.writeOptions().disableWal()
                    ? ", flushing first (" + ClientConfig.DISABLE_WAL + "=true)" : ""));
            references = 0;
            try {
                flushAndClose(s);
            } catch (DBException e) {
                System.err.println("o3: " + e.getMessage());
            }
        }
    }

    /**
     * For tests: closes a DB that is still shared (a test that did not clean up every instance), forgets
     * a failed open, and returns what was left open, or null. The instances that still refer to the DB
     * find it closed.
     */
    static String resetForTests() throws DBException {
        synchronized (OPEN_LOCK) {
            failedOpen = null;
            SharedDb s = shared;
            if (s == null) {
                return null;
            }
            String left = s.config.dir() + " with " + references + " reference" + (references == 1 ? "" : "s");
            shared = null;
            references = 0;
            try {
                flushAndClose(s);
            } finally {
                Runtime.getRuntime().removeShutdownHook(s.hook);
            }
            return left;
        }
    }

    /** Where flushes and compactions ran, and in a mode with a memory node its {@code o3.dm} state. */
    private static String summary(SharedDb s) {
        io.o3lsm.DBStats st = s.db.stats();
        String line = "flushes local " + st.flushesLocal() + " offloaded " + st.flushesOffloaded() + ", compactions local "
                + st.compactionsLocal() + " offloaded " + st.compactionsOffloaded();
        return s.config.memoryNode() == null ? line : line + "; o3.dm: " + s.db.property("o3.dm");
    }

    /** The DB this instance uses (null before {@link #init} and after {@link #cleanup}). */
    DB db() {
        return db;
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            byte[] record = db.get(RecordFormat.key(table, key));
            if (record == null) {
                return Status.NOT_FOUND;
            }
            RecordFormat.decodeInto(record, fields, result, () -> table + "/" + key);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("read", table, key, e);
        }
    }

    @Override
    public Status scan(String table, String startkey, int recordcount, Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        try (DBIterator it = db.iterator(ReadOptions.defaults().upperBound(RecordFormat.tableEnd(table)))) {
            it.seek(RecordFormat.key(table, startkey));
            scanRows(it, table, recordcount, fields, result);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("scan", table, startkey, e);
        }
    }

    /**
     * Adds up to {@code recordcount} records from {@code it}'s position to {@code result}; advances
     * {@code it} only to a record it adds (not past the last one wanted).
     */
    static void scanRows(DBIterator it, String table, int recordcount, Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        int n = 0;
        while (n < recordcount && it.isValid()) {
            HashMap<String, ByteIterator> row = new HashMap<>();
            RecordFormat.decodeInto(it.value(), fields, row, () -> table + "/" + keyOf(table, it.key()));
            result.add(row);
            if (++n < recordcount) {
                it.next();
            }
        }
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] k;
        try {
            k = RecordFormat.key(table, key);
        } catch (RuntimeException e) {
            return error("update", table, key, e);
        }
        ReentrantLock lock = lockOf(k);
        lock.lock();
        try {
            byte[] stored = db.get(k);
            if (stored == null) {
                return Status.NOT_FOUND;
            }
            LinkedHashMap<String, byte[]> record = RecordFormat.decode(stored, () -> table + "/" + key);
            for (Map.Entry<String, ByteIterator> e : values.entrySet()) {
                record.put(e.getKey(), e.getValue().toArray());
            }
            db.put(k, RecordFormat.encode(record), writeOptions);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("update", table, key, e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        try {
            byte[] k = RecordFormat.key(table, key);
            byte[] record = RecordFormat.encodeIterators(values);
            ReentrantLock lock = lockOf(k);
            lock.lock();
            try {
                db.put(k, record, writeOptions);
            } finally {
                lock.unlock();
            }
            return Status.OK;
        } catch (RuntimeException e) {
            return error("insert", table, key, e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        byte[] k;
        try {
            k = RecordFormat.key(table, key);
        } catch (RuntimeException e) {
            return error("delete", table, key, e);
        }
        ReentrantLock lock = lockOf(k);
        lock.lock();
        try {
            if (db.get(k) == null) {
                return Status.NOT_FOUND;
            }
            db.delete(k, writeOptions);
            return Status.OK;
        } catch (RuntimeException e) {
            return error("delete", table, key, e);
        } finally {
            lock.unlock();
        }
    }

    private static ReentrantLock lockOf(byte[] key) {
        return LOCKS[(java.util.Arrays.hashCode(key) & 0x7fffffff) % LOCK_STRIPES];
    }

    /** YCSB's key from an o3lsm key of {@code table}, for messages. */
    private static String keyOf(String table, byte[] k) {
        int skip = table.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
        return new String(k, Math.min(skip, k.length), Math.max(0, k.length - skip), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Status error(String op, String table, String key, RuntimeException e) {
        long n = ERRORS.incrementAndGet();
        if (n <= ERRORS_IN_FULL) {
            System.err.println("o3: " + op + " " + table + "/" + key + " failed: " + e
                    + (e.getCause() != null ? " (cause: " + e.getCause() + ")" : ""));
        } else if (n % ERROR_EVERY == 0) {
            System.err.println("o3: " + n + " operations failed so far (the first " + ERRORS_IN_FULL + " are shown above)");
        }
        return Status.ERROR;
    }
}
