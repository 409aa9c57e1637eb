package io.o3lsm;

import io.o3lsm.ColumnFamilyModelState.Kind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * Runs {@link ModelRunner} against one column family of a family-aware DB while writing into its
 * other families, for {@link ColumnFamilyModelTest}.
 *
 * <p>{@link #open} is the runner's opener: it opens the DB with {@link DB#open(Path, Options, List)}
 * naming every family (functions re-supplied, descriptors shuffled, now and then one more family
 * created by {@link Options#createMissingColumnFamilies}) and returns a {@link FamilyView}, which
 * presents the modelled family as a {@link DB}: every call goes to the family overloads (for the
 * default family, at random to those or to the plain API), the runner's batches are rebuilt with
 * the family's handle and mixed with writes to other families, and snapshots are the DB's own. Along
 * the runner's calls the harness writes into the other ("noise") families — a string-append family
 * (the default one when another is modelled), an int64-add counter family, a TTL family on the fake
 * clock, one with a compaction filter, a plain one, and short-lived families it creates and drops —
 * each checked against its own {@link ColumnFamilyModelState}: gets, cross-family multiGets, bounded
 * iterators both ways, reads at the runner's snapshots and its own, iterators held across a drop of
 * their family (merging ones too, see {@link ColumnFamilyDropIteratorTest}),
 * batches that must fail whole (a dropped family's handle, a merge into a family without an operator,
 * a key too long for a family), and handles that must be refused once dropped or once their DB has
 * closed. Every noise family is checked in full after each reopen and before each close; the runner
 * checks the modelled one, so data leaking either way is caught. {@link #finish} then drops, re-creates
 * and compacts every family and checks that the modelled family still holds what the runner last
 * verified.
 *
 * <p>The harness's choices come from its own seeded {@link Random} and its models, never from what
 * the engine returned, so a seed replays them. {@code wrap} lets the self-test put a deliberately
 * broken DB between the harness and the engine. Not thread-safe.
 */
final class ColumnFamilyModelHarness {
    static final String MODELLED = "modelled";
    private static final String COUNTERS = "counters";
    private static final String SESSIONS = "sessions";
    private static final String FILTERED = "filtered";
    private static final String PLAIN = "plain";
    private static final int MAX_OWN_SNAPSHOTS = 2;
    private static final int MAX_TRACKED_SNAPSHOTS = 16;
    private static final int MAX_TMP_FAMILIES = 3;
    private static final int MAX_STALE = 10;
    private static final byte[] ALPHABET = {0x00, 0x01, 0x0f, 0x10, 0x7f, (byte) 0x80, (byte) 0xfe, (byte) 0xff, 'a',
        'b', 'R', 'C'};

    /** A live family other than the modelled one. */
    private static final class Fam {
        final String name;
        final Kind kind;
        ColumnFamilyHandle handle;
        int id;
        ColumnFamilyModelState state;

        Fam(String name, Kind kind) {
            this.name = name;
            this.kind = kind;
            this.state = new ColumnFamilyModelState(kind);
        }

        boolean isDefault() {
            return name.equals(DB.DEFAULT_COLUMN_FAMILY);
        }

        @Override
        public String toString() {
            return name + "#" + id + "(" + kind + ")";
        }
    }

    /** A snapshot and the noise families' states it reads (by family id; a family created after it reads empty). */
    private record SnapState(int no, Snapshot snapshot, Map<Integer, ColumnFamilyModelState> states) {
    }

    /** A noise write: what it does to the DB (alone or in a batch) and to the model. */
    private record NoiseOp(Fam fam, int type, byte[] key, byte[] value) {
        static final int PUT = 1;
        static final int DELETE = 0;
        static final int DELETE_RANGE = 2;
        static final int MERGE = 3;

        String describe() {
            return switch (type) {
                case PUT -> "put " + fam.name + " " + ModelOpLog.hex(key) + "=" + ModelOpLog.val(value);
                case DELETE -> "del " + fam.name + " " + ModelOpLog.hex(key);
                case DELETE_RANGE -> "rdel " + fam.name + " [" + ModelOpLog.hex(key) + ", " + ModelOpLog.hex(value)
                        + ")";
                default -> "merge " + fam.name + " " + ModelOpLog.hex(key) + "+=" + ModelOpLog.val(value);
            };
        }

        void addTo(WriteBatch b) {
            switch (type) {
                case PUT -> b.put(fam.handle, key, value);
                case DELETE -> b.delete(fam.handle, key);
                case DELETE_RANGE -> b.deleteRange(fam.handle, key, value);
                default -> b.merge(fam.handle, key, value);
            }
        }

        void apply(long now) {
            switch (type) {
                case PUT -> fam.state.put(key, value, now);
                case DELETE -> fam.state.delete(key);
                case DELETE_RANGE -> fam.state.deleteRange(key, value);
                default -> fam.state.merge(key, value, now);
            }
        }
    }

    private final String name;
    private final boolean modelDefault;
    private final Random rnd;
    private final UnaryOperator<DB> wrap;
    /** The harness's fake clock, when the runner has none (its modelled family has no TTL); else null. */
    private final AtomicLong ownClock;
    private final ModelOpLog log = new ModelOpLog(ModelRunner.LOG_TAIL);
    /** The noise families, in creation order (the default one first when it is noise). */
    private final Map<String, Fam> live = new LinkedHashMap<>();
    /** Handles that must be refused: of dropped families, and of closed opens. */
    private final List<ColumnFamilyHandle> stale = new ArrayList<>();
    private final List<SnapState> tracked = new ArrayList<>();
    private final List<SnapState> own = new ArrayList<>();
    private final List<byte[]> pool = new ArrayList<>();
    /** Keys the runner used lately: noise goes to the same user keys, so a leak shows. */
    private final List<byte[]> recent = new ArrayList<>();
    private final int[] counts = new int[Count.values().length];

    private enum Count {
        NOISE_WRITES, NOISE_BATCHES, MIXED_BATCHES, POISONED, DROPS, CREATES, OPEN_CREATES, CHECKS, SNAPSHOT_CHECKS,
        HELD_ACROSS_DROP, STALE_CHECKS, MIXED_MULTIGETS, NOISE_COMPACTIONS, CLOCK_ADVANCES
    }

    private IntSupplier step = () -> 0;
    private LongSupplier clock;
    private Options lastRunnerOptions;
    private Path dir;
    private DB db;
    private ColumnFamilyHandle modelled;
    private int modelledId = -1;
    private int maxId;
    private int opens;
    private int tmpNames;
    private int snapshotNos;
    private boolean failed;
    /** The modelled family's contents at the last close (what the runner had just verified). */
    private List<byte[][]> modelledAtClose;

    /**
     * @param name         for reports
     * @param modelDefault the runner models the default family (else a family named {@value #MODELLED})
     * @param defaultKind  the default family's functions when it is noise (ignored when modelled)
     * @param seed         the harness's own seed
     * @param wrap         applied to each DB opened (the self-test's broken DBs; identity otherwise)
     */
    ColumnFamilyModelHarness(String name, boolean modelDefault, Kind defaultKind, long seed, UnaryOperator<DB> wrap) {
        this.name = name;
        this.modelDefault = modelDefault;
        this.rnd = new Random(seed);
        this.wrap = wrap;
        this.ownClock = new AtomicLong(1_800_000_000_000L);
        if (!modelDefault) {
            live.put(DB.DEFAULT_COLUMN_FAMILY, new Fam(DB.DEFAULT_COLUMN_FAMILY, defaultKind));
        }
        for (Fam f : List.of(new Fam(COUNTERS, Kind.COUNTER), new Fam(SESSIONS, Kind.TTL), new Fam(FILTERED,
                Kind.FILTERED), new Fam(PLAIN, Kind.PLAIN))) {
            live.put(f.name, f);
        }
        buildPool();
    }

    /** Where the runner is, for the op log. */
    void stepSource(IntSupplier s) {
        this.step = s;
    }

    // ------------------------------------------------------------------ open and close

    /** The runner's opener: opens the family-aware DB and returns the modelled family as a DB. */
    DB open(Path dir, Options runnerOptions) {
        this.dir = dir;
        this.lastRunnerOptions = runnerOptions;
        boolean first = opens == 0;
        // the runner's options carry the modelled family's functions; the DB's own must not
        Options o = runnerOptions.copy().mergeOperator(null).compactionFilter(null).ttl(null);
        if (runnerOptions.ttl() == null) {
            o.clock(ownClock::get);
        }
        clock = o.clock();
        boolean functionsInOptions = rnd.nextBoolean();
        ColumnFamilyOptions mo = ColumnFamilyOptions.defaults().mergeOperator(runnerOptions.mergeOperator())
                .compactionFilter(runnerOptions.compactionFilter()).ttl(runnerOptions.ttl());
        List<ColumnFamilyDescriptor> ds = new ArrayList<>();
        ColumnFamilyOptions dflt = modelDefault ? mo : live.get(DB.DEFAULT_COLUMN_FAMILY).kind.options();
        if (functionsInOptions) {
            o.mergeOperator(dflt.mergeOperator()).compactionFilter(dflt.compactionFilter()).ttl(dflt.ttl());
        } else if (rnd.nextInt(4) != 0 || dflt.mergeOperator() != null || dflt.ttl() != null
                || dflt.compactionFilter() != null) {
            ds.add(new ColumnFamilyDescriptor(DB.DEFAULT_COLUMN_FAMILY, dflt));
        }
        if (!modelDefault) {
            ds.add(new ColumnFamilyDescriptor(MODELLED, mo));
        }
        for (Fam f : live.values()) {
            if (!f.isDefault()) {
                ds.add(new ColumnFamilyDescriptor(f.name, f.kind.options()));
            }
        }
        Fam added = null;
        if (!first && rnd.nextInt(4) == 0 && tmpCount() < MAX_TMP_FAMILIES) {
            added = new Fam("tmp" + (++tmpNames), randomTmpKind());
            ds.add(new ColumnFamilyDescriptor(added.name, added.kind.options()));
            o.createMissingColumnFamilies(true);
            counts[Count.OPEN_CREATES.ordinal()]++;
        }
        Collections.shuffle(ds, rnd);
        log.add(step.getAsInt(), "harness: open #" + (opens + 1) + " with " + ds.stream().map(ColumnFamilyDescriptor::name)
                .toList() + (functionsInOptions ? ", default family's functions in Options" : "")
                + (added != null ? ", creating " + added + " (createMissingColumnFamilies)" : ""));
        db = wrap.apply(DB.open(dir, o, ds));
        opens++;
        modelled = modelDefault ? db.defaultColumnFamily() : db.columnFamily(MODELLED);
        check(modelled != null, "no handle for the modelled family after open");
        if (first) {
            modelledId = modelled.id();
        } else {
            check(modelled.id() == modelledId, "the modelled family's id changed across reopen: " + modelledId + " -> "
                    + modelled.id());
        }
        maxId = Math.max(maxId, modelled.id());
        for (Fam f : live.values()) {
            ColumnFamilyHandle h = f.isDefault() ? db.defaultColumnFamily() : db.columnFamily(f.name);
            check(h != null, "no handle for " + f + " after open");
            check(h.name().equals(f.name), "columnFamily(" + f.name + ") returned a handle named " + h.name());
            if (first) {
                f.id = h.id();
            } else {
                check(h.id() == f.id, f + " has id " + h.id() + " after reopen");
            }
            f.handle = h;
            maxId = Math.max(maxId, f.id);
        }
        if (added != null) {
            added.handle = db.columnFamily(added.name);
            check(added.handle != null, "createMissingColumnFamilies did not create " + added.name);
            check(added.handle.id() > maxId, added.name + " got id " + added.handle.id() + ", not above every id given"
                    + " before (" + maxId + ")");
            added.id = added.handle.id();
            maxId = added.id;
            live.put(added.name, added);
        }
        checkFamilyList("after open #" + opens);
        if (!first) {
            checkAll("after reopen #" + opens);
            checkStale();
        }
        return new FamilyView();
    }

    /** Before the DB closes: every noise family checked in full, the harness's snapshots closed. */
    private void beforeClose() {
        for (SnapState s : own) {
            s.snapshot.close();
        }
        own.clear();
        tracked.clear();
        if (!failed) {
            checkAll("before close");
            modelledAtClose = scanModelled();
        }
        stale.add(modelled);
        for (Fam f : live.values()) {
            if (rnd.nextInt(3) == 0) {
                stale.add(f.handle); // a handle of a closed DB
            }
        }
        trimStale();
    }

    /**
     * After the runner's run: opens again, then drops and re-creates families, compacts every one,
     * reopens, and checks everything — the modelled family must still hold what the runner verified
     * last. The DB is closed at the end.
     */
    void finish() {
        check(modelledAtClose != null, "the runner never closed the DB");
        List<byte[][]> expected = modelledAtClose;
        DB view = open(dir, lastRunnerOptions);
        try {
            checkModelled(expected, "finish, after open");
            log.add(step.getAsInt(), "harness finish: drop every tmp family, drop and re-create " + PLAIN
                    + ", compact every family");
            for (Fam f : new ArrayList<>(live.values())) {
                if (f.name.startsWith("tmp")) {
                    drop(f, false);
                }
            }
            Fam plain = live.get(PLAIN);
            if (plain != null) {
                drop(plain, true);
            }
            noiseBulk(100 + rnd.nextInt(200));
            view.flush();
            for (Fam f : live.values()) {
                db.compactRange(f.handle, null, null);
            }
            db.compactRange(modelled, null, null);
            checkAll("finish, after full compaction");
            checkModelled(expected, "finish, after full compaction");
        } finally {
            view.close();
        }
        view = open(dir, lastRunnerOptions);
        try {
            checkModelled(expected, "finish, after the last reopen");
        } finally {
            view.close();
        }
    }

    /** Marks the run failed: closes skip their checks (the failure path closes best-effort). */
    void failed() {
        failed = true;
    }

    /** Closes the DB if still open (failure path), best effort. */
    void closeQuietly() {
        failed = true;
        if (db != null) {
            try {
                for (SnapState s : own) {
                    s.snapshot.close();
                }
                own.clear();
                db.close();
            } catch (Throwable ignored) {
                // best effort on the failure path
            }
            db = null;
        }
    }

    private void checkFamilyList(String when) {
        Map<Integer, String> byId = new java.util.TreeMap<>();
        byId.put(modelledId, modelDefault ? DB.DEFAULT_COLUMN_FAMILY : MODELLED);
        for (Fam f : live.values()) {
            byId.put(f.id, f.name);
        }
        List<String> expected = new ArrayList<>(byId.values());
        List<String> got = db.listColumnFamilies();
        check(got.equals(expected), when + ": listColumnFamilies() = " + got + ", expected " + expected
                + " (the default one first, then by creation)");
    }

    private int tmpCount() {
        int n = 0;
        for (Fam f : live.values()) {
            if (f.name.startsWith("tmp")) {
                n++;
            }
        }
        return n;
    }

    private Kind randomTmpKind() {
        Kind[] ks = {Kind.PLAIN, Kind.APPEND, Kind.COUNTER, Kind.TTL_FILTERED, Kind.FILTERED};
        return ks[rnd.nextInt(ks.length)];
    }

    private long now() {
        return clock.getAsLong();
    }

    // ------------------------------------------------------------------ the hooks the view calls

    private void afterWrite() {
        int r = rnd.nextInt(1000);
        if (r < 300) {
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) {
                noiseWrite();
            }
        } else if (r < 340) {
            noiseBulk(30 + rnd.nextInt(120));
        } else if (r < 380) {
            checkRandomFamily();
        } else if (r < 410) {
            dropOrCreate();
        } else if (r < 440) {
            ownSnapshot();
        } else if (r < 445) {
            noiseCompaction(); // a flush and a compaction: the costliest noise, kept rare
        }
        if (!runnerOwnsClock() && rnd.nextInt(15) == 0) {
            advanceClock();
        }
    }

    private void afterRead(ReadOptions ro) {
        if (rnd.nextInt(12) != 0) {
            return;
        }
        SnapState s = ro == null || ro.snapshot() == null ? null : find(ro.snapshot());
        if (ro != null && ro.snapshot() != null && s == null) {
            return; // a snapshot the harness no longer tracks
        }
        List<Fam> fams = new ArrayList<>(live.values());
        checkFamily(fams.get(rnd.nextInt(fams.size())), s, "noise check beside a runner read");
    }

    private void afterFlushOrCompaction() {
        int r = rnd.nextInt(10);
        if (r < 1) {
            noiseCompaction();
        } else if (r < 3) {
            dropOrCreate();
        } else if (r < 5) {
            checkRandomFamily();
        }
    }

    private boolean runnerOwnsClock() {
        return lastRunnerOptions.ttl() != null;
    }

    private void advanceClock() {
        long by = switch (rnd.nextInt(4)) {
            case 0 -> 1;
            case 1 -> ColumnFamilyModelState.TTL_MILLIS;
            default -> 1 + rnd.nextInt((int) ColumnFamilyModelState.TTL_MILLIS / 2);
        };
        long t = ownClock.addAndGet(by);
        counts[Count.CLOCK_ADVANCES.ordinal()]++;
        log.add(step.getAsInt(), "harness: clock +" + by + " ms to " + t);
    }

    // ------------------------------------------------------------------ noise writes

    private Fam randomFam() {
        List<Fam> fams = new ArrayList<>(live.values());
        return fams.get(rnd.nextInt(fams.size()));
    }

    private NoiseOp randomNoiseOp(Fam f) {
        int r = rnd.nextInt(f.kind.merges() ? 20 : 14);
        if (r >= 14) {
            return new NoiseOp(f, NoiseOp.MERGE, noiseKey(f), operand(f));
        }
        if (r < 9) {
            return new NoiseOp(f, NoiseOp.PUT, noiseKey(f), noiseValue(f));
        }
        if (r < 13) {
            return new NoiseOp(f, NoiseOp.DELETE, rnd.nextBoolean() ? presentKey(f) : noiseKey(f), null);
        }
        byte[][] range = noiseRange(f);
        return new NoiseOp(f, NoiseOp.DELETE_RANGE, range[0], range[1]);
    }

    /** One write to a random noise family, through the family API (the default family's sometimes the plain one). */
    private void noiseWrite() {
        Fam f = randomFam();
        NoiseOp op = randomNoiseOp(f);
        WriteOptions wo = rnd.nextInt(10) == 0 ? WriteOptions.defaults().sync(true) : WriteOptions.defaults();
        boolean plain = f.isDefault() && rnd.nextBoolean();
        log.add(step.getAsInt(), "harness: " + op.describe() + (plain ? " (plain API)" : ""));
        switch (op.type) {
            case NoiseOp.PUT -> {
                if (plain) {
                    db.put(op.key, op.value, wo);
                } else {
                    db.put(f.handle, op.key, op.value, wo);
                }
            }
            case NoiseOp.DELETE -> {
                if (plain) {
                    db.delete(op.key, wo);
                } else {
                    db.delete(f.handle, op.key, wo);
                }
            }
            case NoiseOp.DELETE_RANGE -> {
                if (plain) {
                    db.deleteRange(op.key, op.value, wo);
                } else {
                    db.deleteRange(f.handle, op.key, op.value, wo);
                }
            }
            default -> {
                if (plain) {
                    db.merge(op.key, op.value, wo);
                } else {
                    db.merge(f.handle, op.key, op.value, wo);
                }
            }
        }
        op.apply(now());
        counts[Count.NOISE_WRITES.ordinal()]++;
    }

    /** Many puts of larger values across the noise families in batches: flushes then hold several families. */
    private void noiseBulk(int n) {
        log.add(step.getAsInt(), "harness: bulk of " + n + " puts of 100..1500 B across the noise families");
        int i = 0;
        while (i < n) {
            int m = Math.min(n - i, 1 + rnd.nextInt(40));
            List<NoiseOp> ops = new ArrayList<>();
            try (WriteBatch b = new WriteBatch()) {
                for (int j = 0; j < m; j++) {
                    Fam f = randomFam();
                    byte[] v = f.kind == Kind.COUNTER ? MergeOperators.int64(rnd.nextInt(1000)) : bigValue();
                    NoiseOp op = new NoiseOp(f, NoiseOp.PUT, noiseKey(f), v);
                    op.addTo(b);
                    ops.add(op);
                }
                db.write(b);
            }
            long t = now();
            for (NoiseOp op : ops) {
                op.apply(t);
            }
            i += m;
        }
        counts[Count.NOISE_BATCHES.ordinal()]++;
    }

    private void noiseCompaction() {
        Fam f = randomFam();
        byte[] from = rnd.nextInt(3) == 0 ? null : noiseKey(f);
        byte[] to = rnd.nextInt(3) == 0 ? null : noiseKey(f);
        if (from != null && to != null && Arrays.compareUnsigned(from, to) > 0) {
            byte[] t = from;
            from = to;
            to = t;
        }
        log.add(step.getAsInt(), "harness: compactRange(" + f + ", " + ModelOpLog.hex(from) + ", " + ModelOpLog.hex(to)
                + ")");
        db.compactRange(f.handle, from, to);
        counts[Count.NOISE_COMPACTIONS.ordinal()]++;
    }

    // ------------------------------------------------------------------ the runner's writes, mixed

    /** One operation of the runner's, for the modelled family. */
    private record RunnerOp(int type, byte[] key, byte[] value) {
        String describe() {
            return switch (type) {
                case NoiseOp.PUT -> "put " + ModelOpLog.hex(key);
                case NoiseOp.DELETE -> "del " + ModelOpLog.hex(key);
                case NoiseOp.DELETE_RANGE -> "rdel [" + ModelOpLog.hex(key) + ", " + ModelOpLog.hex(value) + ")";
                default -> "merge " + ModelOpLog.hex(key);
            };
        }
    }

    /** The operations of a batch the runner built (plain operations only; {@code docs/format/write-batch.md}). */
    private static List<RunnerOp> decode(WriteBatch b) {
        byte[] rep = b.rep();
        int limit = b.size();
        int[] pos = {WriteBatch.HEADER_SIZE};
        List<RunnerOp> out = new ArrayList<>();
        while (pos[0] < limit) {
            int type = rep[pos[0]++] & 0xFF;
            if (type > 3) {
                throw new AssertionError("the runner's batch holds operation type " + type);
            }
            int klen = varint(rep, pos);
            byte[] key = Arrays.copyOfRange(rep, pos[0], pos[0] + klen);
            pos[0] += klen;
            byte[] value = null;
            if (type != NoiseOp.DELETE) {
                int vlen = varint(rep, pos);
                value = Arrays.copyOfRange(rep, pos[0], pos[0] + vlen);
                pos[0] += vlen;
            }
            out.add(new RunnerOp(type, key, value));
        }
        if (out.size() != b.count()) {
            throw new AssertionError("decoded " + out.size() + " operations of a batch of " + b.count());
        }
        return out;
    }

    private static int varint(byte[] b, int[] pos) {
        int v = 0;
        for (int shift = 0; ; shift += 7) {
            int x = b[pos[0]++] & 0xFF;
            v |= (x & 0x7F) << shift;
            if (x < 0x80) {
                return v;
            }
        }
    }

    /**
     * Writes the runner's operations atomically in one batch with the modelled family's handle (the
     * default family's: at random per operation, its handle or the plain methods), with noise
     * operations of other families mixed in when {@code mix}. Sometimes first writes the same batch
     * with one invalid operation added, which must be refused whole.
     */
    private void writeRunnerOps(List<RunnerOp> ops, WriteOptions wo, boolean mix) {
        List<Consumer<WriteBatch>> emit = new ArrayList<>();
        List<NoiseOp> noise = new ArrayList<>();
        StringBuilder desc = new StringBuilder();
        for (RunnerOp op : ops) {
            if (mix && rnd.nextInt(3) == 0) {
                NoiseOp n = randomNoiseOp(randomFam());
                noise.add(n);
                emit.add(n::addTo);
                desc.append(' ').append(n.describe());
            }
            boolean plain = modelDefault && rnd.nextBoolean();
            ColumnFamilyHandle cf = modelled;
            emit.add(b -> {
                switch (op.type) {
                    case NoiseOp.PUT -> {
                        if (plain) {
                            b.put(op.key, op.value);
                        } else {
                            b.put(cf, op.key, op.value);
                        }
                    }
                    case NoiseOp.DELETE -> {
                        if (plain) {
                            b.delete(op.key);
                        } else {
                            b.delete(cf, op.key);
                        }
                    }
                    case NoiseOp.DELETE_RANGE -> {
                        if (plain) {
                            b.deleteRange(op.key, op.value);
                        } else {
                            b.deleteRange(cf, op.key, op.value);
                        }
                    }
                    default -> {
                        if (plain) {
                            b.merge(op.key, op.value);
                        } else {
                            b.merge(cf, op.key, op.value);
                        }
                    }
                }
            });
            remember(op.key);
        }
        if (mix && rnd.nextBoolean()) {
            NoiseOp n = randomNoiseOp(randomFam());
            noise.add(n);
            emit.add(n::addTo);
            desc.append(' ').append(n.describe());
        }
        if (mix) {
            counts[Count.MIXED_BATCHES.ordinal()]++;
            log.add(step.getAsInt(), "harness: the runner's " + ops.size() + " ops in one batch with" + (desc.length() > 600
                    ? desc.substring(0, 600) + " …" : desc.toString()));
        }
        if (mix && rnd.nextInt(6) == 0) {
            poisoned(emit);
        }
        try (WriteBatch b = new WriteBatch()) {
            for (Consumer<WriteBatch> e : emit) {
                e.accept(b);
            }
            db.write(b, wo);
        }
        long t = now();
        for (NoiseOp n : noise) {
            n.apply(t);
        }
    }

    /**
     * The batch {@code emit} builds plus fresh noise writes and one operation the DB must refuse: the
     * whole batch must be refused, nothing of it written (checked on the noise keys it named).
     */
    private void poisoned(List<Consumer<WriteBatch>> emit) {
        List<Consumer<WriteBatch>> bad = new ArrayList<>(emit);
        List<NoiseOp> extra = new ArrayList<>();
        for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
            NoiseOp op = randomNoiseOp(randomFam());
            extra.add(op);
            bad.add(rnd.nextInt(bad.size() + 1), op::addTo);
        }
        List<ColumnFamilyHandle> dropped = new ArrayList<>();
        for (ColumnFamilyHandle h : stale) {
            if (droppedIds.contains(h.id())) {
                dropped.add(h); // ids are never given again: a batch naming it must be refused
            }
        }
        List<Fam> noMerge = live.values().stream().filter(f -> !f.kind.merges()).toList();
        int kind = rnd.nextInt(4);
        if (kind == 0 && dropped.isEmpty()) {
            kind = 1;
        }
        if (kind == 1 && noMerge.isEmpty()) {
            kind = 2;
        }
        Class<? extends RuntimeException> expected = kind == 1 ? IllegalStateException.class
                : IllegalArgumentException.class;
        Consumer<WriteBatch> poison;
        String what;
        switch (kind) {
            case 0 -> {
                ColumnFamilyHandle h = dropped.get(rnd.nextInt(dropped.size()));
                poison = b -> b.put(h, noiseKey(null), noiseValue(null));
                what = "a put into dropped " + h;
            }
            case 1 -> {
                Fam f = noMerge.get(rnd.nextInt(noMerge.size()));
                poison = b -> b.merge(f.handle, noiseKey(f), operand(f));
                what = "a merge into " + f + ", which has no merge operator";
            }
            case 2 -> {
                Fam f = randomFam();
                byte[] longKey = new byte[DB.MAX_KEY_SIZE]; // the family's prefix makes it one byte too long
                poison = b -> b.put(f.handle, longKey, noiseValue(f));
                what = "a put of a " + DB.MAX_KEY_SIZE + "-byte key into " + f;
            }
            default -> {
                Fam f = randomFam();
                byte[] longEnd = new byte[DB.MAX_KEY_SIZE];
                Arrays.fill(longEnd, (byte) 0xff);
                poison = b -> b.deleteRange(f.handle, new byte[] {1}, longEnd);
                what = "a deleteRange of " + f + " with a " + DB.MAX_KEY_SIZE + "-byte end key";
            }
        }
        bad.add(rnd.nextInt(bad.size() + 1), poison);
        log.add(step.getAsInt(), "harness: the same batch plus " + extra.size() + " noise ops and " + what
                + ": must be refused whole");
        counts[Count.POISONED.ordinal()]++;
        try (WriteBatch b = new WriteBatch()) {
            for (Consumer<WriteBatch> e : bad) {
                e.accept(b);
            }
            expectThrows(expected, "a batch holding " + what, () -> db.write(b));
        }
        long t = now();
        for (NoiseOp op : extra) {
            ReadOptions ro = ReadOptions.defaults();
            op.fam.state.checkGet(op.key, db.get(ro, op.fam.handle, op.key), t, "after a refused batch, "
                    + op.fam);
        }
    }

    /** Ids of dropped families. */
    private final java.util.Set<Integer> droppedIds = new java.util.HashSet<>();

    // ------------------------------------------------------------------ drop and create

    private void dropOrCreate() {
        List<Fam> droppable = live.values().stream().filter(f -> !f.isDefault()).toList();
        if (droppable.isEmpty() || (tmpCount() < MAX_TMP_FAMILIES && rnd.nextInt(3) == 0)) {
            create("tmp" + (++tmpNames), randomTmpKind());
            return;
        }
        Fam f = droppable.get(rnd.nextInt(droppable.size()));
        drop(f, !f.name.startsWith("tmp") || rnd.nextBoolean());
    }

    private Fam create(String famName, Kind kind) {
        Fam f = new Fam(famName, kind);
        log.add(step.getAsInt(), "harness: createColumnFamily " + famName + " (" + kind + ")");
        f.handle = db.createColumnFamily(famName, kind.options());
        check(f.handle.name().equals(famName), "created " + famName + " but the handle says " + f.handle.name());
        check(f.handle.id() > maxId, famName + " got id " + f.handle.id() + ", not above every id given before ("
                + maxId + ")");
        f.id = f.handle.id();
        maxId = f.id;
        ColumnFamilyHandle byName = db.columnFamily(famName);
        check(byName != null && byName.id() == f.id, "columnFamily(" + famName + ") is " + byName
                + ", not the created family");
        live.put(famName, f);
        counts[Count.CREATES.ordinal()]++;
        checkFamilyList("after creating " + f);
        // a new family is empty, whatever a dropped one of the same name held
        for (int i = 0; i < 5; i++) {
            byte[] k = noiseKey(f);
            byte[] got = db.get(f.handle, k);
            check(got == null, "new family " + f + " holds " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(got));
        }
        return f;
    }

    /**
     * Drops {@code f} (sometimes with an iterator held over it, which must keep showing the dropped
     * contents; sometimes with a snapshot taken first, pinning them), checks that every use of its
     * handle is refused, and when {@code recreate} creates a family of the same name (a tmp family's
     * with another kind at random), which must be empty.
     */
    private void drop(Fam f, boolean recreate) {
        DBIterator held = null;
        ColumnFamilyModelState heldState = null;
        long heldNow = 0;
        byte[][] heldBounds = null;
        if (rnd.nextInt(3) == 0 && own.size() < MAX_OWN_SNAPSHOTS) {
            ownSnapshot();
        }
        if (rnd.nextBoolean()) {
            heldBounds = rnd.nextBoolean() ? new byte[2][] : bounds(f);
            heldState = f.state.copy();
            heldNow = now();
            held = db.iterator(ReadOptions.defaults().lowerBound(heldBounds[0]).upperBound(heldBounds[1]), f.handle);
            if (rnd.nextBoolean()) {
                held.seekToFirst(); // positioned before the drop too
            }
        }
        log.add(step.getAsInt(), "harness: dropColumnFamily " + f + " (" + f.state.size() + " keys" + (held != null
                ? ", an iterator held over it" : "") + ")" + (recreate ? ", then create it again" : ""));
        try {
            db.dropColumnFamily(f.handle);
            counts[Count.DROPS.ordinal()]++;
            live.remove(f.name);
            droppedIds.add(f.id);
            stale.add(f.handle);
            trimStale();
            check(db.columnFamily(f.name) == null, "columnFamily(" + f.name + ") still answers after the drop");
            checkFamilyList("after dropping " + f);
            checkRefused(f.handle, "dropped " + f, true);
            if (held != null) {
                for (int i = 0, n = rnd.nextInt(4); i < n; i++) {
                    noiseWrite();
                }
                if (rnd.nextInt(3) == 0) {
                    db.flush();
                }
                if (rnd.nextInt(4) == 0) {
                    noiseCompaction();
                }
                ColumnFamilyModelState m = heldState;
                String ctx = "iterator held over " + f + " across its drop, bounds [" + ModelOpLog.hex(heldBounds[0])
                        + ", " + ModelOpLog.hex(heldBounds[1]) + ")";
                scan(held, m, heldBounds[0], heldBounds[1], heldNow, rnd.nextBoolean(), ctx);
                counts[Count.HELD_ACROSS_DROP.ordinal()]++;
            }
        } finally {
            if (held != null) {
                held.close();
            }
        }
        if (recreate) {
            create(f.name, f.name.startsWith("tmp") && rnd.nextBoolean() ? randomTmpKind() : f.kind);
        }
    }

    /**
     * Every use of {@code h} must throw IllegalArgumentException — but for {@code compactRange} of a
     * family dropped in this open ({@code droppedHere}), which is accepted: compacting a dropped
     * family's range gives its space back. A handle of an earlier open is refused there too.
     */
    private void checkRefused(ColumnFamilyHandle h, String what, boolean droppedHere) {
        counts[Count.STALE_CHECKS.ordinal()]++;
        byte[] k = noiseKey(null);
        ReadOptions ro = ReadOptions.defaults();
        expectThrows(IllegalArgumentException.class, "get of " + what, () -> db.get(h, k));
        expectThrows(IllegalArgumentException.class, "get(ReadOptions) of " + what, () -> db.get(ro, h, k));
        expectThrows(IllegalArgumentException.class, "put into " + what, () -> db.put(h, k, new byte[] {1}));
        expectThrows(IllegalArgumentException.class, "delete from " + what, () -> db.delete(h, k));
        expectThrows(IllegalArgumentException.class, "deleteRange of " + what, () -> db.deleteRange(h, new byte[0], k));
        expectThrows(IllegalArgumentException.class, "merge into " + what, () -> db.merge(h, k, new byte[8]));
        expectThrows(IllegalArgumentException.class, "iterator over " + what, () -> db.iterator(ro, h).close());
        if (droppedHere) {
            if (rnd.nextInt(4) == 0) {
                db.compactRange(h, null, null); // accepted; what it removes is checked by the reads after
            }
        } else {
            expectThrows(IllegalArgumentException.class, "compactRange of " + what, () -> db.compactRange(h, null, null));
        }
        expectThrows(IllegalArgumentException.class, "dropColumnFamily of " + what, () -> db.dropColumnFamily(h));
        expectThrows(IllegalArgumentException.class, "multiGet naming " + what,
                () -> db.multiGet(ro, List.of(modelled, h), List.of(k, k)));
    }

    /** After a reopen: a few stale handles (dropped, or of an earlier open) must be refused. */
    private void checkStale() {
        for (int i = 0; i < 2 && !stale.isEmpty(); i++) {
            ColumnFamilyHandle h = stale.get(rnd.nextInt(stale.size()));
            checkRefused(h, "stale " + h, false);
        }
    }

    private void trimStale() {
        while (stale.size() > MAX_STALE) {
            stale.remove(rnd.nextInt(stale.size()));
        }
    }

    // ------------------------------------------------------------------ snapshots

    /** Takes a snapshot of the harness's own, or closes one. */
    private void ownSnapshot() {
        if (own.size() >= MAX_OWN_SNAPSHOTS || (!own.isEmpty() && rnd.nextInt(3) == 0)) {
            SnapState s = own.remove(rnd.nextInt(own.size()));
            if (rnd.nextBoolean()) {
                checkFamily(randomFam(), s, "before closing harness snapshot #" + s.no);
            }
            log.add(step.getAsInt(), "harness: close own snapshot #" + s.no);
            s.snapshot.close();
            tracked.remove(s);
            return;
        }
        SnapState s = track(db.snapshot());
        own.add(s);
        log.add(step.getAsInt(), "harness: own snapshot #" + s.no + " at " + s.snapshot.sequence());
    }

    private SnapState track(Snapshot snapshot) {
        Map<Integer, ColumnFamilyModelState> states = new HashMap<>();
        for (Fam f : live.values()) {
            states.put(f.id, f.state.copy());
        }
        SnapState s = new SnapState(++snapshotNos, snapshot, states);
        tracked.add(s);
        while (tracked.size() > MAX_TRACKED_SNAPSHOTS) {
            SnapState oldest = tracked.stream().filter(t -> !own.contains(t)).findFirst().orElse(null);
            if (oldest == null) {
                break;
            }
            tracked.remove(oldest);
        }
        return s;
    }

    private SnapState find(Snapshot s) {
        for (SnapState t : tracked) {
            if (t.snapshot == s) {
                return t;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ checks

    private void checkRandomFamily() {
        Fam f = randomFam();
        SnapState s = null;
        if (!tracked.isEmpty() && rnd.nextInt(3) == 0) {
            List<SnapState> open = new ArrayList<>(own);
            if (!open.isEmpty()) {
                s = open.get(rnd.nextInt(open.size()));
            }
        }
        checkFamily(f, s, "noise check");
    }

    /**
     * Gets, a cross-family multiGet, and a bounded scan or walk of {@code f}, at {@code s} (null:
     * now). {@code s} must be open.
     */
    private void checkFamily(Fam f, SnapState s, String why) {
        counts[(s == null ? Count.CHECKS : Count.SNAPSHOT_CHECKS).ordinal()]++;
        ColumnFamilyModelState m = s == null ? f.state : s.states.getOrDefault(f.id,
                new ColumnFamilyModelState(f.kind));
        ReadOptions ro = ReadOptions.defaults().snapshot(s == null ? null : s.snapshot);
        String at = s == null ? "now" : "harness snapshot #" + s.no;
        String ctx = why + ": " + f + " at " + at;
        log.add(step.getAsInt(), "harness: check " + f + " at " + at + " (" + m.size() + " keys)");
        long t = now();
        for (int i = 0, n = 2 + rnd.nextInt(8); i < n; i++) {
            byte[] k = rnd.nextBoolean() && m.size() > 0 ? m.randomKey(rnd) : noiseKey(f);
            byte[] got = f.isDefault() && s == null && rnd.nextBoolean() ? db.get(k) : db.get(ro, f.handle, k);
            m.checkGet(k, got, t, ctx);
        }
        if (rnd.nextBoolean()) {
            mixedMultiGet(s);
        }
        byte[][] b = rnd.nextBoolean() ? new byte[2][] : bounds(f);
        ReadOptions iro = ReadOptions.defaults().snapshot(ro.snapshot()).lowerBound(b[0]).upperBound(b[1]);
        String ictx = ctx + ", bounds [" + ModelOpLog.hex(b[0]) + ", " + ModelOpLog.hex(b[1]) + ")";
        try (DBIterator it = f.isDefault() && s == null && rnd.nextInt(3) == 0 ? db.iterator(iro)
                : db.iterator(iro, f.handle)) {
            if (rnd.nextInt(3) == 0) {
                walk(it, m, b[0], b[1], t, f, ictx);
            } else {
                scan(it, m, b[0], b[1], t, rnd.nextBoolean(), ictx);
            }
        }
    }

    /** One multiGet over keys of every noise family (and the modelled one's, unchecked), at {@code s}. */
    private void mixedMultiGet(SnapState s) {
        counts[Count.MIXED_MULTIGETS.ordinal()]++;
        List<Fam> fams = new ArrayList<>();
        List<ColumnFamilyHandle> hs = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0, n = 1 + rnd.nextInt(30); i < n; i++) {
            if (rnd.nextInt(6) == 0) {
                fams.add(null);
                hs.add(modelled);
                keys.add(noiseKey(null));
                continue;
            }
            Fam f = randomFam();
            ColumnFamilyModelState m = stateAt(f, s);
            fams.add(f);
            hs.add(f.handle);
            keys.add(rnd.nextBoolean() && m.size() > 0 ? m.randomKey(rnd) : noiseKey(f));
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults().snapshot(s == null ? null : s.snapshot), hs, keys);
        check(got.size() == keys.size(), "multiGet of " + keys.size() + " keys returned " + got.size() + " values");
        long t = now();
        for (int i = 0; i < keys.size(); i++) {
            Fam f = fams.get(i);
            if (f != null) {
                stateAt(f, s).checkGet(keys.get(i), got.get(i), t, "multiGet across families at "
                        + (s == null ? "now" : "snapshot #" + s.no) + ", key #" + i + " of " + f);
            }
        }
    }

    private ColumnFamilyModelState stateAt(Fam f, SnapState s) {
        return s == null ? f.state : s.states.getOrDefault(f.id, new ColumnFamilyModelState(f.kind));
    }

    /** Every noise family in full: every key by one multiGet across families, a full scan each way. */
    private void checkAll(String when) {
        long t = now();
        log.add(step.getAsInt(), "harness: full check of every noise family " + when);
        List<Fam> fams = new ArrayList<>();
        List<ColumnFamilyHandle> hs = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        for (Fam f : live.values()) {
            for (byte[] k : f.state.keys()) {
                fams.add(f);
                hs.add(f.handle);
                keys.add(k);
            }
            for (int i = 0; i < 20; i++) {
                fams.add(f);
                hs.add(f.handle);
                keys.add(noiseKey(f));
            }
        }
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), hs, keys);
        for (int i = 0; i < keys.size(); i++) {
            Fam f = fams.get(i);
            f.state.checkGet(keys.get(i), got.get(i), t, when + ": multiGet of " + f);
        }
        for (Fam f : live.values()) {
            try (DBIterator it = db.iterator(ReadOptions.defaults(), f.handle)) {
                scan(it, f.state, null, null, t, true, when + ": forward scan of " + f);
                scan(it, f.state, null, null, t, false, when + ": backward scan of " + f);
            }
        }
    }

    private void scan(DBIterator it, ColumnFamilyModelState m, byte[] lo, byte[] hi, long t, boolean forward,
            String ctx) {
        if (forward) {
            it.seekToFirst();
        } else {
            it.seekToLast();
        }
        String c = ctx + (forward ? ", forward" : ", backward");
        byte[] at = m.expectLanding(it, null, true, forward, lo, hi, t, c + " from the start");
        int n = 0;
        while (at != null) {
            if (forward) {
                it.next();
            } else {
                it.prev();
            }
            n++;
            at = m.expectLanding(it, at, false, forward, lo, hi, t, c + " entry " + n + " (after "
                    + ModelOpLog.hex(at) + ")");
        }
    }

    private void walk(DBIterator it, ColumnFamilyModelState m, byte[] lo, byte[] hi, long t, Fam f, String ctx) {
        byte[] at = null;
        StringBuilder moves = new StringBuilder();
        for (int i = 0, n = 1 + rnd.nextInt(30); i < n; i++) {
            int r = rnd.nextInt(10);
            if (at == null || r < 3) {
                byte[] target = rnd.nextBoolean() && m.size() > 0 ? m.randomKey(rnd) : noiseKey(f);
                boolean fwd = rnd.nextBoolean();
                moves.append(fwd ? " seek " : " seekForPrev ").append(ModelOpLog.hex(target));
                if (fwd) {
                    it.seek(target);
                } else {
                    it.seekForPrev(target);
                }
                at = m.expectLanding(it, target, true, fwd, lo, hi, t, ctx + ", moves" + moves);
            } else {
                boolean fwd = r < 7;
                moves.append(fwd ? " next" : " prev");
                if (fwd) {
                    it.next();
                } else {
                    it.prev();
                }
                at = m.expectLanding(it, at, false, fwd, lo, hi, t, ctx + ", moves" + moves);
            }
            if (at != null && rnd.nextInt(4) == 0) {
                ByteBuffer kb = it.keyBuffer();
                byte[] k = new byte[kb.remaining()];
                kb.duplicate().get(k);
                check(Arrays.equals(k, at), ctx + ": keyBuffer() holds " + ModelOpLog.hex(k) + ", key() "
                        + ModelOpLog.hex(at));
            }
        }
    }

    /** The modelled family's entries, by a forward scan of its own. */
    private List<byte[][]> scanModelled() {
        List<byte[][]> out = new ArrayList<>();
        try (DBIterator it = db.iterator(ReadOptions.defaults(), modelled)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(new byte[][] {it.key(), it.value()});
            }
        }
        return out;
    }

    private void checkModelled(List<byte[][]> expected, String when) {
        List<byte[][]> got = scanModelled();
        int n = Math.min(expected.size(), got.size());
        for (int i = 0; i < n; i++) {
            if (!Arrays.equals(expected.get(i)[0], got.get(i)[0]) || !Arrays.equals(expected.get(i)[1], got.get(i)[1])) {
                throw new AssertionError(when + ": modelled family entry " + i + " is " + ModelOpLog.hex(got.get(i)[0])
                        + " = " + ModelOpLog.val(got.get(i)[1]) + ", the runner last verified "
                        + ModelOpLog.hex(expected.get(i)[0]) + " = " + ModelOpLog.val(expected.get(i)[1]));
            }
        }
        check(expected.size() == got.size(), when + ": the modelled family holds " + got.size()
                + " entries, the runner last verified " + expected.size());
        for (int i = 0; i < Math.min(50, got.size()); i++) {
            byte[][] e = got.get(rnd.nextInt(got.size()));
            check(Arrays.equals(e[1], db.get(modelled, e[0])), when + ": get of modelled " + ModelOpLog.hex(e[0])
                    + " disagrees with the scan");
        }
    }

    // ------------------------------------------------------------------ random data

    private void buildPool() {
        TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
        while (keys.size() < 300) {
            byte[] k = new byte[1 + rnd.nextInt(6)];
            for (int i = 0; i < k.length; i++) {
                k[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
            }
            if (keys.add(k)) {
                pool.add(k);
            }
        }
    }

    private void remember(byte[] key) {
        if (recent.size() < 300) {
            recent.add(key);
        } else {
            recent.set(rnd.nextInt(recent.size()), key);
        }
    }

    /** Often a key the runner used lately (the same user key in another family), else the pool's, rarely empty. */
    private byte[] noiseKey(Fam f) {
        int r = rnd.nextInt(100);
        if (r == 0) {
            return new byte[0];
        }
        if (r < 45 && !recent.isEmpty()) {
            return recent.get(rnd.nextInt(recent.size()));
        }
        return pool.get(rnd.nextInt(pool.size()));
    }

    private byte[] presentKey(Fam f) {
        byte[] k = f.state.randomKey(rnd);
        return k == null ? noiseKey(f) : k;
    }

    private byte[][] noiseRange(Fam f) {
        byte[] a = rnd.nextBoolean() ? presentKey(f) : noiseKey(f);
        byte[] b;
        if (rnd.nextInt(3) == 0) {
            b = noiseKey(f);
        } else {
            b = Arrays.copyOf(a, a.length + 1);
            b[a.length] = ALPHABET[rnd.nextInt(ALPHABET.length)];
        }
        return Arrays.compareUnsigned(a, b) <= 0 ? new byte[][] {a, b} : new byte[][] {b, a};
    }

    private byte[][] bounds(Fam f) {
        byte[] lo = rnd.nextBoolean() ? null : noiseKey(f);
        byte[] hi = rnd.nextBoolean() ? null : noiseKey(f);
        if (lo != null && hi != null && Arrays.compareUnsigned(lo, hi) > 0 && rnd.nextInt(6) != 0) {
            return new byte[][] {hi, lo};
        }
        return new byte[][] {lo, hi};
    }

    /**
     * A short value; a third start with the filter's remove marker and a fifth with its change marker
     * (in every family: a filter applied to the wrong one shows), a counter family's are 8 bytes.
     */
    private byte[] noiseValue(Fam f) {
        if (f != null && f.kind == Kind.COUNTER) {
            return MergeOperators.int64(rnd.nextInt(2000) - 1000);
        }
        int r = rnd.nextInt(100);
        int len = r < 5 ? 0 : r < 80 ? 1 + rnd.nextInt(24) : r < 97 ? 25 + rnd.nextInt(300) : 300 + rnd.nextInt(3000);
        return marked(len);
    }

    private byte[] bigValue() {
        return marked(100 + rnd.nextInt(1400));
    }

    private byte[] marked(int len) {
        byte[] v = new byte[len];
        for (int i = 0; i < len; i++) {
            v[i] = (byte) (i < 8 ? 'a' + rnd.nextInt(26) : rnd.nextInt(256));
        }
        if (len > 0) {
            int m = rnd.nextInt(15);
            v[0] = m < 5 ? ColumnFamilyModelState.MarkerFilter.REMOVE : m < 8 ? ColumnFamilyModelState.MarkerFilter.CHANGE
                    : v[0];
        }
        return v;
    }

    private byte[] operand(Fam f) {
        if (f.kind == Kind.COUNTER) {
            return MergeOperators.int64(rnd.nextInt(200) - 100);
        }
        return marked(1 + rnd.nextInt(10));
    }

    // ------------------------------------------------------------------ reports

    String summary() {
        StringBuilder sb = new StringBuilder("harness ").append(name).append(": ").append(opens).append(" opens, ")
                .append("families at the end ").append(live.values()).append(", modelled id ").append(modelledId)
                .append(", highest id ").append(maxId).append(";");
        for (Count c : Count.values()) {
            sb.append(' ').append(c.name().toLowerCase()).append('=').append(counts[c.ordinal()]);
        }
        return sb.toString();
    }

    String report() {
        return summary() + "\nharness operations (oldest first; step numbers are the runner's):\n" + log.tail();
    }

    /** How many times a {@link Count} happened (the test asserts the run exercised what it claims). */
    int count(String what) {
        return counts[Count.valueOf(what).ordinal()];
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }

    private static void expectThrows(Class<? extends RuntimeException> type, String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            if (type.isInstance(e)) {
                return;
            }
            throw new AssertionError(what + " threw " + e + ", expected " + type.getSimpleName(), e);
        }
        throw new AssertionError(what + " did not throw; expected " + type.getSimpleName());
    }

    // ------------------------------------------------------------------ the view the runner drives

    /**
     * The modelled family as a {@link DB}: what {@link ModelRunner} drives. Reads and writes go to the
     * family's overloads (for the default family, at random to those or to the plain methods); the
     * runner's batches are rebuilt for the family and often mixed with noise writes; snapshots are the
     * DB's. Transactions and the family-management methods are not part of the view.
     */
    private final class FamilyView implements DB {
        private boolean closed;

        private boolean plain() {
            return modelDefault && rnd.nextBoolean();
        }

        private void single(RunnerOp op, WriteOptions wo) {
            remember(op.key);
            if (rnd.nextInt(4) == 0) {
                writeRunnerOps(List.of(op), wo, true); // as a batch across families
            } else {
                boolean p = plain();
                switch (op.type) {
                    case NoiseOp.PUT -> {
                        if (p) {
                            db.put(op.key, op.value, wo);
                        } else {
                            db.put(modelled, op.key, op.value, wo);
                        }
                    }
                    case NoiseOp.DELETE -> {
                        if (p) {
                            db.delete(op.key, wo);
                        } else {
                            db.delete(modelled, op.key, wo);
                        }
                    }
                    case NoiseOp.DELETE_RANGE -> {
                        if (p) {
                            db.deleteRange(op.key, op.value, wo);
                        } else {
                            db.deleteRange(modelled, op.key, op.value, wo);
                        }
                    }
                    default -> {
                        if (p) {
                            db.merge(op.key, op.value, wo);
                        } else {
                            db.merge(modelled, op.key, op.value, wo);
                        }
                    }
                }
            }
            afterWrite();
        }

        @Override
        public void put(byte[] key, byte[] value) {
            put(key, value, WriteOptions.defaults());
        }

        @Override
        public void put(byte[] key, byte[] value, WriteOptions options) {
            single(new RunnerOp(NoiseOp.PUT, key, value), options);
        }

        @Override
        public void put(ByteBuffer key, ByteBuffer value) {
            put(key, value, WriteOptions.defaults());
        }

        @Override
        public void put(ByteBuffer key, ByteBuffer value, WriteOptions options) {
            if (plain()) {
                db.put(key, value, options);
                remember(bytes(key));
                afterWrite();
            } else {
                put(bytes(key), bytes(value), options);
            }
        }

        @Override
        public byte[] get(byte[] key) {
            byte[] v = plain() ? db.get(key) : db.get(modelled, key);
            afterRead(null);
            return v;
        }

        @Override
        public int get(ByteBuffer key, ByteBuffer value) {
            if (plain()) {
                return db.get(key, value);
            }
            byte[] v = db.get(modelled, bytes(key));
            if (v == null) {
                return -1;
            }
            value.put(v, 0, Math.min(v.length, value.remaining()));
            return v.length;
        }

        @Override
        public void delete(byte[] key) {
            delete(key, WriteOptions.defaults());
        }

        @Override
        public void delete(byte[] key, WriteOptions options) {
            single(new RunnerOp(NoiseOp.DELETE, key, null), options);
        }

        @Override
        public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
            deleteRange(fromInclusive, toExclusive, WriteOptions.defaults());
        }

        @Override
        public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions options) {
            single(new RunnerOp(NoiseOp.DELETE_RANGE, fromInclusive, toExclusive), options);
        }

        @Override
        public void merge(byte[] key, byte[] operand) {
            merge(key, operand, WriteOptions.defaults());
        }

        @Override
        public void merge(byte[] key, byte[] operand, WriteOptions options) {
            single(new RunnerOp(NoiseOp.MERGE, key, operand), options);
        }

        @Override
        public void write(WriteBatch batch, WriteOptions options) {
            writeRunnerOps(decode(batch), options, rnd.nextInt(3) != 0);
            afterWrite();
        }

        @Override
        public Transaction beginTransaction(WriteOptions options, TransactionOptions txnOptions) {
            throw new UnsupportedOperationException("the family view has no transactions");
        }

        @Override
        public byte[] get(ReadOptions options, byte[] key) {
            byte[] v = plain() ? db.get(options, key) : db.get(options, modelled, key);
            afterRead(options);
            return v;
        }

        @Override
        public List<byte[]> multiGet(ReadOptions options, List<byte[]> keys) {
            if (plain()) {
                List<byte[]> out = db.multiGet(options, keys);
                afterRead(options);
                return out;
            }
            if (rnd.nextBoolean()) {
                List<byte[]> out = db.multiGet(options, Collections.nCopies(keys.size(), modelled), keys);
                afterRead(options);
                return out;
            }
            // the runner's keys among keys of other families, in one multiGet
            SnapState s = options.snapshot() == null ? null : find(options.snapshot());
            boolean checkNoise = options.snapshot() == null || s != null;
            List<ColumnFamilyHandle> hs = new ArrayList<>();
            List<byte[]> all = new ArrayList<>();
            List<Fam> fams = new ArrayList<>();
            List<Integer> mine = new ArrayList<>();
            for (byte[] k : keys) {
                while (rnd.nextInt(3) == 0) {
                    Fam f = randomFam();
                    hs.add(f.handle);
                    all.add(rnd.nextBoolean() ? k : noiseKey(f));
                    fams.add(f);
                }
                mine.add(all.size());
                hs.add(modelled);
                all.add(k);
                fams.add(null);
            }
            List<byte[]> got = db.multiGet(options, hs, all);
            check(got.size() == all.size(), "multiGet of " + all.size() + " keys returned " + got.size() + " values");
            if (checkNoise) {
                counts[Count.MIXED_MULTIGETS.ordinal()]++;
                long t = now();
                for (int i = 0; i < all.size(); i++) {
                    Fam f = fams.get(i);
                    if (f != null) {
                        stateAt(f, s).checkGet(all.get(i), got.get(i), t, "noise key #" + i + " of " + f
                                + " in the runner's multiGet at " + (s == null ? "now" : "snapshot #" + s.no));
                    }
                }
            }
            List<byte[]> out = new ArrayList<>();
            for (int i : mine) {
                out.add(got.get(i));
            }
            return out;
        }

        @Override
        public DBIterator iterator(ReadOptions options) {
            DBIterator it = plain() ? db.iterator(options) : db.iterator(options, modelled);
            afterRead(options);
            return it;
        }

        @Override
        public Snapshot snapshot() {
            Snapshot s = db.snapshot();
            track(s);
            return s;
        }

        @Override
        public void flush() {
            db.flush();
            afterFlushOrCompaction();
        }

        @Override
        public void flushWal(boolean sync) {
            db.flushWal(sync);
        }

        @Override
        public void compactRange(byte[] from, byte[] to) {
            if (plain()) {
                db.compactRange(from, to);
            } else {
                db.compactRange(modelled, from, to);
            }
            afterFlushOrCompaction();
        }

        @Override
        public String property(String property) {
            return db.property(property);
        }

        @Override
        public DBStats stats() {
            return db.stats();
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                beforeClose();
            } finally {
                db.close();
                db = null;
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
