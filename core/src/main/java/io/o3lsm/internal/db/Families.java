package io.o3lsm.internal.db;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.CompactionFilter;
import io.o3lsm.CompactionFilters;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.util.FamilyFunctions;
import io.o3lsm.internal.util.Limits;
import io.o3lsm.internal.util.TtlStamp;
import io.o3lsm.internal.version.VersionEdit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The column families of a family-aware DB ({@code docs/column-families.md}): the registry in
 * memory (its durable copy is MANIFEST state, {@link io.o3lsm.internal.version.VersionSet}), the
 * handles, and the translation between a family's user keys and the keys the engine stores —
 * {@code varint32(family id) || user key}, the default family (id 0) included. Everything below
 * this class (write queue, WAL, memtables, SSTs, jobs, the memory node, replication) sees stored
 * keys only; the families' functions see user keys through {@link FamilyFunctions}.
 *
 * <p>Thread-safe: the maps are replaced whole under {@link #lock} (create, drop) and read without it.
 */
final class Families {
    static final int DEFAULT_ID = 0;

    private Engine e;
    private final Object lock = new Object();
    private volatile Map<Integer, Family> byId;
    private volatile Map<String, Family> byName;
    /** What jobs carry: every live family's table options, ids ascending. */
    private volatile List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables = List.of();
    final FamilyFunctions.Merge merge;
    final FamilyFunctions.Filter filter;
    /** Families marked dropped so far (changed under the engine's mutex; see {@link WriteQueue}). */
    private volatile int drops;
    /** Largest translation buffer a thread keeps between writes. */
    private static final int SCRATCH_KEPT = 1 << 20;
    private final ThreadLocal<WriteBatch> translated = ThreadLocal.withInitial(WriteBatch::new);

    /** One family: its handle, prefix and functions. */
    static final class Family implements ColumnFamilyHandle {
        final Families owner;
        final int id;
        final String name;
        final byte[] prefix;
        /** The first stored key after every key of the family: the prefix with its last byte plus one. */
        final byte[] end;
        /**
         * Final but for a new replica's default family, made before the primary's registry arrives,
         * which then takes the registry's TTL flag ({@link #retune}).
         */
        volatile ColumnFamilyOptions options;
        volatile long ttlMillis;
        /** The family's own write buffer (0: none) and the bytes written to it since its shards were last sealed. */
        final long writeBufferSize;
        final java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean dropped;

        Family(Families owner, int id, String name, ColumnFamilyOptions options) {
            this.owner = owner;
            this.id = id;
            this.name = name;
            this.prefix = FamilyFunctions.prefix(id);
            this.end = prefix.clone();
            end[end.length - 1]++; // a varint's last byte is below 0x80: no carry
            this.options = options;
            this.ttlMillis = options.ttl() == null ? 0 : options.ttl().toMillis();
            this.writeBufferSize = options.writeBufferSize();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int id() {
            return id;
        }

        MergeOperator mergeOperator() {
            return options.mergeOperator();
        }

        /** {@code userKey} as stored: checked, then prefixed. */
        byte[] storedKey(byte[] userKey) {
            Limits.checkKey(userKey, "key");
            return prefixed(userKey, "key");
        }

        byte[] prefixed(byte[] userKey, String what) {
            if (prefix.length + userKey.length > DB.MAX_KEY_SIZE) {
                throw new IllegalArgumentException(what + " has " + userKey.length + " bytes; in column family \""
                        + name + "\" a key may have at most " + (DB.MAX_KEY_SIZE - prefix.length)
                        + " (the family's prefix takes " + prefix.length + ")");
            }
            byte[] k = Arrays.copyOf(prefix, prefix.length + userKey.length);
            System.arraycopy(userKey, 0, k, prefix.length, userKey.length);
            return k;
        }

        int flags() {
            return ttlMillis > 0 ? VersionEdit.FAMILY_FLAG_TTL : 0;
        }

        /** A new replica's default family takes the options the primary's registry calls for. */
        void retune(ColumnFamilyOptions o) {
            options = o;
            ttlMillis = o.ttl() == null ? 0 : o.ttl().toMillis();
        }

        @Override
        public String toString() {
            return "ColumnFamily(" + name + ", id " + id + (dropped ? ", dropped" : "") + ")";
        }
    }

    /**
     * The families of a DB being opened: those registered (each named by a descriptor, or the default
     * one by {@code dbOptions}), plus those the descriptors add; {@code created} gets the registry
     * entries to record. The functions are the dispatching ones in {@code engineOptions}.
     */
    /** The DB's compression and bloom bits: a family's unless its options set its own. */
    private final io.o3lsm.Compression dbCompression;
    private final int dbBloomBits;

    private Families(Options dbOptions) {
        this.dbCompression = dbOptions.compression();
        this.dbBloomBits = dbOptions.bloomBitsPerKey();
        this.merge = new FamilyFunctions.Merge(Map.of());
        this.filter = new FamilyFunctions.Filter(Map.of());
    }

    /** Wires the engine in (once, before the DB is used). */
    void attach(Engine engine) {
        this.e = engine;
    }

    /**
     * The plan of an open: which families exist after it, with which options, and the registry edit
     * for the ones it creates. Checks everything before the DB is touched.
     */
    record Plan(List<Object[]> families, VersionEdit edit, Options dbOptions) {
        // families: {Integer id, String name, ColumnFamilyOptions options}
    }

    /**
     * Plans the families of an open: {@code registered} (the MANIFEST's, empty for a new DB),
     * {@code descriptors} (null: plain {@code DB.open}, the default family only), {@code options}
     * (its functions are the default family's unless a "default" descriptor gives them).
     *
     * @throws IllegalArgumentException naming what is inconsistent
     */
    static Plan plan(String dir, List<VersionEdit.Family> registered, int nextId, boolean exists, boolean aware,
            List<ColumnFamilyDescriptor> descriptors, Options options) {
        Map<String, ColumnFamilyOptions> given = new LinkedHashMap<>();
        if (descriptors != null) {
            for (ColumnFamilyDescriptor d : descriptors) {
                if (d == null) {
                    throw new IllegalArgumentException("column family descriptors must not hold null");
                }
                if (given.put(d.name(), d.options().copy().validate()) != null) {
                    throw new IllegalArgumentException("column family \"" + d.name() + "\" is named twice");
                }
            }
        }
        boolean optionFunctions = setsFunctions(options);
        ColumnFamilyOptions dflt = given.get(DB.DEFAULT_COLUMN_FAMILY);
        if (dflt != null && optionFunctions) {
            throw new IllegalArgumentException("the default column family's merge operator, compaction filter and ttl "
                    + "are set both in Options and in its descriptor: set them in one place");
        }
        if (dflt == null) {
            dflt = ColumnFamilyOptions.defaults().mergeOperator(options.mergeOperator())
                    .compactionFilter(options.compactionFilter()).ttl(options.ttl()).validate();
        }
        List<Object[]> out = new ArrayList<>();
        VersionEdit edit = new VersionEdit();
        Map<String, VersionEdit.Family> byName = new LinkedHashMap<>();
        for (VersionEdit.Family f : registered) {
            byName.put(f.name(), f);
        }
        if (!aware) {
            return null;
        }
        List<String> missing = new ArrayList<>();
        for (VersionEdit.Family f : registered) {
            if (f.id() != DEFAULT_ID && !given.containsKey(f.name())) {
                missing.add(f.name());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the DB in " + dir + " has column families " + missing + " that the "
                    + "open does not name: DB.open(dir, options, descriptors) must name every family but the default "
                    + "one (DB.listColumnFamilies lists them)");
        }
        if (!exists) {
            edit.families = true;
        }
        int next = Math.max(nextId, 1);
        if (!byName.containsKey(DB.DEFAULT_COLUMN_FAMILY)) {
            VersionEdit.Family f = new VersionEdit.Family(DEFAULT_ID, DB.DEFAULT_COLUMN_FAMILY,
                    dflt.ttl() != null ? VersionEdit.FAMILY_FLAG_TTL : 0);
            edit.addedFamilies.add(f);
            byName.put(f.name(), f);
        }
        for (String name : given.keySet()) {
            if (!byName.containsKey(name)) {
                if (exists && !options.createMissingColumnFamilies()) {
                    throw new IllegalArgumentException("the DB in " + dir + " has no column family \"" + name
                            + "\" and Options.createMissingColumnFamilies is false");
                }
                VersionEdit.Family f = new VersionEdit.Family(next++, name,
                        given.get(name).ttl() != null ? VersionEdit.FAMILY_FLAG_TTL : 0);
                edit.addedFamilies.add(f);
                byName.put(name, f);
            }
        }
        edit.nextFamilyId = next;
        for (VersionEdit.Family f : byName.values()) {
            ColumnFamilyOptions o = f.id() == DEFAULT_ID ? dflt : given.get(f.name());
            boolean ttl = o.ttl() != null;
            boolean stamped = (f.flags() & VersionEdit.FAMILY_FLAG_TTL) != 0;
            if (ttl != stamped) {
                throw new IllegalArgumentException("column family \"" + f.name() + "\" was created "
                        + (stamped ? "with" : "without") + " a ttl and is opened " + (ttl ? "with" : "without")
                        + " one: a family's values are stamped for its whole life, or never");
            }
            out.add(new Object[] {f.id(), f.name(), o});
        }
        return new Plan(out, edit, options);
    }

    /**
     * A replica's families: those its MANIFEST registers (none for a new replica), each with the
     * options {@code descriptors} give it by name — else none of its own (a family the primary has
     * with a TTL then keeps its values' stamps hidden but never expires them: name it with its ttl).
     * Families the primary creates or drops later are taken from the MANIFEST as they arrive
     * ({@link #registryChanged}).
     */
    static Families forReplica(List<VersionEdit.Family> registered, List<ColumnFamilyDescriptor> descriptors,
            Options options) {
        Map<String, ColumnFamilyOptions> given = new LinkedHashMap<>();
        for (ColumnFamilyDescriptor d : descriptors) {
            if (d == null) {
                throw new IllegalArgumentException("column family descriptors must not hold null");
            }
            if (given.put(d.name(), d.options().copy().validate()) != null) {
                throw new IllegalArgumentException("column family \"" + d.name() + "\" is named twice");
            }
        }
        if (!given.containsKey(DB.DEFAULT_COLUMN_FAMILY)) {
            given.put(DB.DEFAULT_COLUMN_FAMILY, ColumnFamilyOptions.defaults().mergeOperator(options.mergeOperator())
                    .compactionFilter(options.compactionFilter()).ttl(options.ttl()).validate());
        }
        Families fs = new Families(options);
        fs.replicaOptions = given;
        fs.replicaNamed = new java.util.HashSet<>();
        for (ColumnFamilyDescriptor d : descriptors) {
            fs.replicaNamed.add(d.name());
        }
        if (options.ttl() != null) {
            fs.replicaNamed.add(DB.DEFAULT_COLUMN_FAMILY);
        }
        fs.install(fs.replicaFamilies(registered, true));
        return fs;
    }

    /** A replica's descriptors by name (null on a primary). */
    private Map<String, ColumnFamilyOptions> replicaOptions;

    /**
     * A TTL for a stamped family the replica does not name with one: reads strip the stamps, nothing
     * expires (the primary's compactions remove what expired there).
     */
    static final java.time.Duration HIDDEN_TTL = java.time.Duration.ofMillis(Long.MAX_VALUE / 4);

    /** A replica's names given options explicitly (descriptors; the default family when Options set a ttl). */
    private java.util.Set<String> replicaNamed;

    /**
     * A replica's families for the registered ones, keeping the Family objects it has (handles stay
     * valid). {@code strict} (at open): a family named with a ttl it was not created with, or without
     * the one it was, is refused; later (a registry edit the applier takes) it is read as it was
     * created, with a warning.
     */
    private Map<Integer, Family> replicaFamilies(List<VersionEdit.Family> registered, boolean strict) {
        Map<Integer, Family> m = new TreeMap<>();
        Map<Integer, Family> have = byId == null ? Map.of() : byId;
        for (VersionEdit.Family r : registered) {
            boolean stamped = (r.flags() & VersionEdit.FAMILY_FLAG_TTL) != 0;
            Family f = have.get(r.id());
            if (f == null) {
                f = new Family(this, r.id(), r.name(), replicaOptions(r, stamped, strict));
            } else if ((f.ttlMillis > 0) != stamped) {
                // only a new replica's default family, made before the registry arrived: no other id's flag changes
                f.retune(replicaOptions(r, stamped, strict));
            }
            m.put(r.id(), f);
        }
        if (!m.containsKey(DEFAULT_ID)) { // a new replica: the primary's snapshot brings the registry
            m.put(DEFAULT_ID, new Family(this, DEFAULT_ID, DB.DEFAULT_COLUMN_FAMILY,
                    replicaOptions.get(DB.DEFAULT_COLUMN_FAMILY)));
        }
        return m;
    }

    /** The options a replica reads registered family {@code r} with. */
    private ColumnFamilyOptions replicaOptions(VersionEdit.Family r, boolean stamped, boolean strict) {
        ColumnFamilyOptions o = replicaOptions.get(r.name());
        if (o == null) {
            o = ColumnFamilyOptions.defaults();
        }
        if ((o.ttl() != null) == stamped) {
            return o;
        }
        if (replicaNamed.contains(r.name())) {
            String what = "column family \"" + r.name() + "\" was created " + (stamped ? "with" : "without")
                    + " a ttl and the replica names it " + (o.ttl() != null ? "with" : "without") + " one";
            if (strict) {
                throw new IllegalArgumentException(what);
            }
            Engine.LOG.warning(what + ": it is read as it was created (" + (stamped ? "stamps stripped, nothing "
                    + "expires here" : "no ttl") + ")");
        }
        return o.copy().ttl(stamped ? HIDDEN_TTL : null);
    }

    /**
     * The descriptors a promoted replica opens with: every live family with the options it was read
     * with — the default family's too, unless {@code promoteOptions} set its functions (merge
     * operator, compaction filter, ttl), which then are its.
     */
    List<ColumnFamilyDescriptor> descriptorsForPromotion(Options promoteOptions) {
        List<ColumnFamilyDescriptor> out = new ArrayList<>();
        for (Family f : byId.values()) {
            if (f.id != DEFAULT_ID || !setsFunctions(promoteOptions)) {
                out.add(new ColumnFamilyDescriptor(f.name, f.options));
            }
        }
        return out;
    }

    /** Whether {@code o} sets the default family's functions (then no "default" descriptor may). */
    static boolean setsFunctions(Options o) {
        return o.mergeOperator() != null || o.compactionFilter() != null || o.ttl() != null;
    }

    /**
     * Throws {@link IllegalArgumentException} unless a DB whose MANIFEST {@code versions} holds opens
     * with {@code descriptors} and {@code options} (a promotion checks before it raises the epoch).
     */
    static void checkOpenable(String dir, io.o3lsm.internal.version.VersionSet versions, List<ColumnFamilyDescriptor> descriptors,
            Options options) {
        if (versions.families()) {
            plan(dir, versions.liveFamilies(), versions.nextFamilyId(), true, true, descriptors, options);
        }
    }

    /** A replica's MANIFEST took families created or dropped on the primary: the live ones become its. */
    void registryChanged() {
        synchronized (lock) {
            Map<Integer, Family> next = replicaFamilies(e.versions.liveFamilies(), false);
            for (Family f : byId.values()) {
                if (!next.containsKey(f.id) || next.get(f.id) != f) {
                    f.dropped = true;
                    retired.put(f.id, f);
                }
            }
            install(next);
        }
    }

    /** The families of a plan ({@link #attach} the engine next). */
    static Families of(Plan plan) {
        Map<Integer, Family> m = new TreeMap<>();
        Families fs = new Families(plan.dbOptions());
        for (Object[] f : plan.families()) {
            m.put((Integer) f[0], new Family(fs, (Integer) f[0], (String) f[1], (ColumnFamilyOptions) f[2]));
        }
        fs.install(m);
        return fs;
    }

    /**
     * Dropped families of this session: their functions stay in the dispatching ones (an iterator or a
     * job begun before the drop still meets their keys; compactions remove those keys later).
     */
    private final Map<Integer, Family> retired = new TreeMap<>();

    /**
     * Publishes {@code families} (the live ones) and rebuilds the dispatching functions from them and
     * the {@link #retired} ones. REQUIRES: {@link #lock} (or construction).
     *
     * @throws IllegalArgumentException if the functions' table would not fit in a job ({@link #checkFits})
     */
    private void install(Map<Integer, Family> families) {
        publish(prepare(families));
    }

    /** A registry computed and checked, not yet published. */
    private record Prepared(Map<Integer, Family> ids, Map<String, Family> names,
            Map<Integer, MergeOperator> ops, Map<Integer, CompactionFilter> filters,
            List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables) {
    }

    /**
     * The registry of {@code families} (and the retired ones), checked ({@link #checkFits}) but not
     * published: nothing can use a family before {@link #publish}.
     */
    private Prepared prepare(Map<Integer, Family> families) {
        Map<Integer, Family> ids = Collections.unmodifiableMap(new TreeMap<>(families));
        Map<Integer, Family> all = new TreeMap<>(retired);
        all.putAll(ids);
        Map<Integer, MergeOperator> ops = new TreeMap<>();
        Map<Integer, CompactionFilter> filters = new TreeMap<>();
        for (Family f : all.values()) {
            if (f.options.mergeOperator() != null) {
                ops.put(f.id, f.options.mergeOperator());
            }
            if (f.ttlMillis > 0) {
                filters.put(f.id, CompactionFilters.ttl(f.options.ttl(), f.options.compactionFilter()));
            } else if (f.options.compactionFilter() != null) {
                filters.put(f.id, f.options.compactionFilter());
            }
        }
        checkFits(ops, filters, all.size());
        Map<String, Family> names = new LinkedHashMap<>();
        for (Family f : ids.values()) {
            names.put(f.name, f);
        }
        List<io.o3lsm.spi.CompactionExecutor.FamilyTable> t = new ArrayList<>();
        for (Family f : all.values()) {
            t.add(new io.o3lsm.spi.CompactionExecutor.FamilyTable(f.id,
                    f.options.compression() != null ? f.options.compression() : dbCompression,
                    f.options.bloomBitsPerKey() >= 0 ? f.options.bloomBitsPerKey() : dbBloomBits));
        }
        return new Prepared(ids, Collections.unmodifiableMap(names), ops, filters, List.copyOf(t));
    }

    private void publish(Prepared p) {
        tables = p.tables();
        merge.update(p.ops());
        filter.update(p.filters());
        byName = p.names();
        byId = p.ids();
    }

    /** Most families a DB may have (live, and dropped in this session): what a job's family tables may list. */
    static final int MAX_FAMILIES = 65_536;

    /**
     * Throws {@link IllegalArgumentException} unless the tables jobs would carry fit their limits: the
     * operators' and the filters' names ({@link FamilyFunctions#MAX_NAME}), the number of families.
     */
    private static void checkFits(Map<Integer, MergeOperator> ops, Map<Integer, CompactionFilter> filters, int count) {
        if (count > MAX_FAMILIES) {
            throw new IllegalArgumentException("a DB may have at most " + MAX_FAMILIES + " column families, "
                    + "dropped ones of this session included; would have " + count);
        }
        Map<Integer, String> names = new TreeMap<>();
        ops.forEach((id, op) -> names.put(id, op.name()));
        FamilyFunctions.checkFits(names, "merge operators");
        names.clear();
        filters.forEach((id, f) -> names.put(id, f.name()));
        FamilyFunctions.checkFits(names, "compaction filters and TTLs");
    }

    /** Every live family's table options, ids ascending (jobs cut their outputs at families and use these). */
    List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables() {
        return tables;
    }

    Family defaultFamily() {
        return byId.get(DEFAULT_ID);
    }

    /** The live family named {@code name}, or null. */
    Family byName(String name) {
        return byName.get(name);
    }

    List<String> names() {
        List<String> out = new ArrayList<>();
        for (Family f : byId.values()) {
            out.add(f.name);
        }
        return out;
    }

    /**
     * The live family {@code cf} stands for.
     *
     * @throws IllegalArgumentException for null, a dropped family, or a handle of another DB
     */
    Family check(ColumnFamilyHandle cf) {
        if (cf == null) {
            throw new IllegalArgumentException("column family handle must not be null");
        }
        if (!(cf instanceof Family f) || f.owner != this) {
            throw new IllegalArgumentException(cf + " is not a column family of DB " + e.dir);
        }
        if (f.dropped) {
            throw new IllegalArgumentException("column family \"" + f.name + "\" of DB " + e.dir + " was dropped");
        }
        return f;
    }

    /** As {@link #check} but a dropped family's handle is accepted too (compactRange reclaims its space). */
    Family checkOwned(ColumnFamilyHandle cf) {
        if (cf == null) {
            throw new IllegalArgumentException("column family handle must not be null");
        }
        if (!(cf instanceof Family f) || f.owner != this) {
            throw new IllegalArgumentException(cf + " is not a column family of DB " + e.dir);
        }
        return f;
    }

    /** How many families have been marked dropped: a write translated before a change is translated again. */
    int drops() {
        return drops;
    }

    /** The time to live of a stored key's family, 0 when none. */
    long ttlMillis(byte[] storedKey) {
        Family f = byId.get(FamilyFunctions.familyOf(storedKey));
        return f == null ? 0 : f.ttlMillis;
    }

    // ------------------------------------------------------------------ create and drop

    ColumnFamilyHandle create(String name, ColumnFamilyOptions options) throws IOException {
        new io.o3lsm.ColumnFamilyDescriptor(name, options == null ? null : options); // checks the name
        ColumnFamilyOptions o = options.copy().validate();
        synchronized (lock) {
            e.checkOpen();
            if (byName.containsKey(name)) {
                throw new IllegalArgumentException("column family \"" + name + "\" already exists in DB " + e.dir);
            }
            return e.installer.locked(() -> {
                e.checkOpen(); // the MANIFEST is open until close has waited for the installer
                int id = e.versions.nextFamilyId();
                Family f = new Family(this, id, name, o);
                Map<Integer, Family> m = new TreeMap<>(byId);
                m.put(id, f);
                // refuses a family whose functions would not fit in a job, before the MANIFEST has it
                Prepared next = prepare(m);
                VersionEdit edit = new VersionEdit();
                edit.addedFamilies.add(new VersionEdit.Family(id, name, f.flags()));
                edit.nextFamilyId = id + 1;
                // durable before anyone can find it: a write to it must never reach the WAL under an id
                // the MANIFEST has not given out (after a crash the next family created would get it)
                logAndShip(edit);
                publish(next);
                return f;
            });
        }
    }

    /**
     * Drops a family: its keys are deleted by one range deletion over its prefix (space comes back as
     * compactions reach them), then the MANIFEST forgets it. Its id is never given again.
     */
    void drop(ColumnFamilyHandle cf) throws IOException {
        synchronized (lock) {
            Family f = check(cf);
            if (f.id == DEFAULT_ID) {
                throw new IllegalArgumentException("the default column family cannot be dropped");
            }
            e.mutex.lock();
            try {
                f.dropped = true; // writes naming it are refused from now: translated ones too (WriteQueue)
                drops++;
            } finally {
                e.mutex.unlock();
            }
            WriteBatch b = new WriteBatch();
            b.appendPrefixed(InternalKey.TYPE_RANGE_DELETION, f.prefix, new byte[0], 0, 0, f.end, 0, f.end.length);
            try {
                // durable before the MANIFEST forgets the family: else a crash could leave its keys owned by none
                e.writes.writeStored(b, WriteOptions.defaults().sync(true));
            } catch (RuntimeException ex) {
                f.dropped = false; // nothing was deleted: the family stays (writes refused meanwhile failed)
                throw ex;
            }
            e.installer.locked(() -> {
                e.checkOpen();
                VersionEdit edit = new VersionEdit();
                edit.droppedFamilies.add(f.id);
                logAndShip(edit);
                retired.put(f.id, f);
                Map<Integer, Family> m = new TreeMap<>(byId);
                m.remove(f.id);
                install(m);
                return null;
            });
        }
    }

    /** REQUIRES: the installer's lock. A registry edit to the MANIFEST, and to the backups. */
    private void logAndShip(VersionEdit edit) throws IOException {
        io.o3lsm.internal.version.Version v = e.versions.logAndApply(edit);
        if (e.replication != null) {
            e.replication.shipInstalled(edit, v);
        }
    }

    // ------------------------------------------------------------------ writes

    /**
     * {@code batch} as the engine stores it: each operation's key (and a range deletion's end)
     * prefixed with its family's, values of families with a TTL stamped with {@code nowMillis}. The
     * result is this thread's scratch batch, valid until the thread's next write.
     *
     * @throws IllegalArgumentException an operation names a family that is not live, or a key is too long
     * @throws IllegalStateException    a merge into a family without a merge operator
     */
    WriteBatch translate(WriteBatch batch, java.util.function.LongSupplier clock) {
        for (ColumnFamilyHandle h : batch.familyHandles()) {
            try {
                check(h); // a handle of another DB (or an earlier open) names a family here by its id only
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(ex.getMessage() + "; nothing of the batch was written");
            }
        }
        WriteBatch out = translated.get();
        if (out.rep().length > SCRATCH_KEPT) {
            out = new WriteBatch(); // a large batch's buffer is not kept for the thread's life
            translated.set(out);
        }
        out.clear();
        byte[] rep = batch.rep();
        int limit = batch.size();
        int[] pos = {WriteBatch.HEADER_SIZE};
        Map<Integer, Family> ids = byId;
        long now = Long.MIN_VALUE;
        while (pos[0] < limit) {
            int code = rep[pos[0]++] & 0xFF;
            int id = DEFAULT_ID;
            if ((code & WriteBatch.FAMILY_OP) != 0) {
                id = (int) Coding.getVarint32(rep, pos, limit);
                code &= ~WriteBatch.FAMILY_OP;
            }
            int klen = (int) Coding.getVarint32(rep, pos, limit);
            int koff = pos[0];
            pos[0] += klen;
            int vlen = 0;
            int voff = pos[0];
            if (code != InternalKey.TYPE_DELETION) {
                vlen = (int) Coding.getVarint32(rep, pos, limit);
                voff = pos[0];
                pos[0] += vlen;
            }
            Family f = ids.get(id);
            if (f != null && f.writeBufferSize > 0) {
                countWritten(f, f.prefix.length + klen + vlen);
            }
            if (f == null || f.dropped) {
                throw new IllegalArgumentException("the write batch names column family id " + id + ", which DB "
                        + e.dir + " does not have (dropped, or a handle of another DB); nothing was written");
            }
            if (f.prefix.length + klen > DB.MAX_KEY_SIZE) {
                throw new IllegalArgumentException("a key of " + klen + " bytes is too long for column family \""
                        + f.name + "\" (at most " + (DB.MAX_KEY_SIZE - f.prefix.length) + "); nothing was written");
            }
            switch (code) {
                case InternalKey.TYPE_VALUE -> {
                    if (f.ttlMillis > 0) {
                        if (vlen > DB.MAX_VALUE_SIZE - TtlStamp.SIZE) {
                            throw new IllegalArgumentException("in column family \"" + f.name + "\" (ttl) a value may "
                                    + "have at most " + (DB.MAX_VALUE_SIZE - TtlStamp.SIZE) + " bytes, found " + vlen
                                    + "; nothing was written");
                        }
                        now = now == Long.MIN_VALUE ? clock.getAsLong() : now;
                        byte[] v = TtlStamp.stamp(rep, voff, vlen, now);
                        out.appendPrefixed(code, f.prefix, rep, koff, klen, v, 0, v.length);
                    } else {
                        out.appendPrefixed(code, f.prefix, rep, koff, klen, rep, voff, vlen);
                    }
                }
                case InternalKey.TYPE_DELETION -> out.appendPrefixed(code, f.prefix, rep, koff, klen, null, 0, 0);
                case InternalKey.TYPE_MERGE -> {
                    if (f.options.mergeOperator() == null) {
                        throw new IllegalStateException("column family \"" + f.name + "\" of DB " + e.dir + " has no "
                                + "merge operator (ColumnFamilyOptions.mergeOperator): merge is refused; nothing was "
                                + "written");
                    }
                    out.appendPrefixed(code, f.prefix, rep, koff, klen, rep, voff, vlen);
                }
                case InternalKey.TYPE_RANGE_DELETION -> {
                    if (f.prefix.length + vlen > DB.MAX_KEY_SIZE) {
                        throw new IllegalArgumentException("a deleteRange end key of " + vlen + " bytes is too long for "
                                + "column family \"" + f.name + "\"; nothing was written");
                    }
                    byte[] end = new byte[f.prefix.length + vlen];
                    System.arraycopy(f.prefix, 0, end, 0, f.prefix.length);
                    System.arraycopy(rep, voff, end, f.prefix.length, vlen);
                    out.appendPrefixed(code, f.prefix, rep, koff, klen, end, 0, end.length);
                }
                default -> throw new IllegalStateException("write batch operation type " + code);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ per-family write buffers

    /** Families of this thread's last translated batch that went over their write buffer. */
    private final ThreadLocal<List<Family>> overBudget = ThreadLocal.withInitial(ArrayList::new);

    private void countWritten(Family f, long bytes) {
        if (f.written.addAndGet(bytes) >= f.writeBufferSize) {
            List<Family> due = overBudget.get();
            if (!due.contains(f)) {
                due.add(f);
            }
        }
    }

    /** This thread's last translated batch was not written: its bytes do not count. */
    void writeFailed() {
        overBudget.get().clear();
    }

    /**
     * After this thread's write: a family whose bytes written since its shards were last sealed reach
     * its write buffer gets the memtable shards of its key range sealed and flushed (its counter starts
     * again). Called without the mutex. Never throws: the write it follows is applied.
     */
    void afterWrite() {
        List<Family> due = overBudget.get();
        if (due.isEmpty()) {
            return;
        }
        List<Family> now = new ArrayList<>(due);
        due.clear();
        for (Family f : now) {
            long w = f.written.get();
            if (w >= f.writeBufferSize && f.written.compareAndSet(w, 0)) {
                try {
                    e.flushes.sealRanges(f.prefix, f.end);
                } catch (RuntimeException ex) {
                    // this thread's write is applied: it is not reported failed for a seal that could not
                    // be made (a background error, a close); the next write over the buffer tries again,
                    // and a background error fails that write itself
                    f.written.addAndGet(w);
                    Engine.LOG.fine("DB " + e.dir + ": sealing column family \"" + f.name + "\" after a write: " + ex);
                }
            }
        }
    }

    // ------------------------------------------------------------------ reads

    /** An iterator over family {@code f} as of the read options: its user keys, in order, nothing else. */
    DBIterator iterator(Family f, ReadOptions ro) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        ReadOptions inner = ro.copy();
        inner.lowerBound(ro.lowerBound() == null ? f.prefix : f.prefixed(ro.lowerBound(), "lowerBound"));
        inner.upperBound(ro.upperBound() == null ? f.end : f.prefixed(ro.upperBound(), "upperBound"));
        DBIterator it = new FamilyIterator(e.reads.iterator(inner), f);
        if (f.ttlMillis > 0) {
            it = new TtlIterator(it, f.ttlMillis, e.options.clock().getAsLong());
        }
        return it;
    }

    /** Builds an iterator over stored keys from a base iterator and stored-key bounds (a transaction's index). */
    interface StoredIteratorFactory {
        DBIterator build(DBIterator base, byte[] lower, byte[] upper);
    }

    /**
     * An iterator over family {@code f} whose stored-key iterator is {@code factory}'s over the DB's
     * (a transaction merges its index in): bounds prefixed, TTL applied to the DB's values, keys stripped.
     */
    DBIterator withIndex(Family f, ReadOptions ro, StoredIteratorFactory factory) {
        ReadOptions inner = ro.copy();
        byte[] lower = ro.lowerBound() == null ? f.prefix : f.prefixed(ro.lowerBound(), "lowerBound");
        byte[] upper = ro.upperBound() == null ? f.end : f.prefixed(ro.upperBound(), "upperBound");
        inner.lowerBound(lower).upperBound(upper);
        DBIterator base = e.reads.iterator(inner);
        if (f.ttlMillis > 0) {
            base = new TtlIterator(base, f.ttlMillis, e.options.clock().getAsLong());
        }
        return new FamilyIterator(factory.build(base, lower, upper), f);
    }

    /**
     * The handle of family {@code id}, live or dropped in this session (a transaction re-adds its
     * operations to its batch; one naming a dropped family is refused at commit). A family unknown
     * here cannot be in a transaction's index.
     */
    ColumnFamilyHandle handleOf(int id) {
        Family f = byId.get(id);
        if (f == null) {
            synchronized (lock) {
                f = retired.get(id);
            }
        }
        if (f == null) {
            throw new IllegalStateException("no column family " + id + " in DB " + e.dir);
        }
        return f;
    }

    /** A family's view of an iterator over stored keys bounded to it: seeks prefixed, keys stripped. */
    private static final class FamilyIterator extends ForwardingDBIterator {
        private final Family f;
        private final int n;

        FamilyIterator(DBIterator in, Family f) {
            super(in);
            this.f = f;
            this.n = f.prefix.length;
        }

        @Override
        public void seek(byte[] target) {
            in.seek(f.storedKey(target));
        }

        @Override
        public void seekForPrev(byte[] target) {
            in.seekForPrev(f.storedKey(target));
        }

        @Override
        public byte[] key() {
            byte[] k = in.key();
            return Arrays.copyOfRange(k, n, k.length);
        }

        @Override
        public ByteBuffer keyBuffer() {
            ByteBuffer b = in.keyBuffer();
            return b.position(b.position() + n).slice();
        }

        @Override
        public int key(ByteBuffer dst) {
            return copyInto(keyBuffer(), dst);
        }
    }
}
