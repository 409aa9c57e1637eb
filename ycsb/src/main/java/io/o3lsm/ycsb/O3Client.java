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
 * reference; the {@code cleanup} that drops the last reference closes it. An {@code init} whose
 * properties name another directory or mode while the DB is open fails.
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

    /** Guards {@link #shared} and {@link #references}. */
    private static final Object OPEN_LOCK = new Object();
    private static SharedDb shared;
    private static int references;
    private static final AtomicLong ERRORS = new AtomicLong();

    /** The open DB and what it was opened with. */
    private record SharedDb(DB db, ClientConfig config) {
    }

    private DB db;
    private WriteOptions writeOptions;

    @Override
    public void init() throws DBException {
        if (db != null) {
            return; // init twice on one instance: one reference
        }
        ClientConfig config = ClientConfig.from(getProperties());
        synchronized (OPEN_LOCK) {
            if (shared == null) {
                long start = System.nanoTime();
                shared = new SharedDb(open(config), config);
                references = 0;
                // YCSB's [OVERALL] RunTime includes this: the client threads call init after its clock started
                System.err.println("o3: opened " + config + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            } else if (!shared.config().sameDb(config)) {
                throw new DBException("this JVM has " + shared.config().dir() + " open in mode " + shared.config().mode()
                        + "; one YCSB client uses one DB (o3.dir " + config.dir() + ", o3.mode " + config.mode() + ")");
            }
            references++;
            db = shared.db();
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
                d.close();
                throw new DBException("not attached to the memory node " + config.memoryNode() + " of "
                        + ClientConfig.CLUSTER + " " + config.cluster() + " within " + ClientConfig.ATTACH_TIMEOUT + "="
                        + config.attachTimeoutSeconds() + " s (is it running? bin/o3 cluster status --dir "
                        + config.cluster() + "): " + state);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                d.close();
                throw new DBException("interrupted waiting for the memory node " + config.memoryNode(), e);
            }
            state = d.property("o3.dm");
        }
        return d;
    }

    @Override
    public void cleanup() throws DBException {
        if (db == null) {
            return;
        }
        db = null;
        synchronized (OPEN_LOCK) {
            if (--references == 0) {
                SharedDb s = shared;
                shared = null;
                try {
                    System.err.println("o3: closing " + s.config().dir() + ": " + summary(s));
                    s.db().close();
                } catch (RuntimeException e) {
                    throw new DBException("closing the DB in " + s.config().dir() + " failed: " + e, e);
                }
            }
        }
    }

    /** Where flushes and compactions ran, and in a mode with a memory node its {@code o3.dm} state. */
    private static String summary(SharedDb s) {
        io.o3lsm.DBStats st = s.db().stats();
        String line = "flushes local " + st.flushesLocal() + " offloaded " + st.flushesOffloaded() + ", compactions local "
                + st.compactionsLocal() + " offloaded " + st.compactionsOffloaded();
        return s.config().memoryNode() == null ? line : line + "; o3.dm: " + s.db().property("o3.dm");
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
            RecordFormat.decodeInto(record, fields, result, table + "/" + key);
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
            for (int n = 0; n < recordcount && it.isValid(); n++, it.next()) {
                HashMap<String, ByteIterator> row = new HashMap<>();
                RecordFormat.decodeInto(it.value(), fields, row, table + "/" + keyOf(table, it.key()));
                result.add(row);
            }
            return Status.OK;
        } catch (RuntimeException e) {
            return error("scan", table, startkey, e);
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
            LinkedHashMap<String, byte[]> record = RecordFormat.decode(stored, table + "/" + key);
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
