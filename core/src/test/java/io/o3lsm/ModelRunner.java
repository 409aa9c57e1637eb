package io.o3lsm;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * One randomized run of {@link ModelTest}: drives a {@link DB} through the public API with a random
 * sequence of operations chosen from {@link Op}, applies every write to a {@link ModelState} as
 * well, and checks each read (get, multiGet, bounded iterators walked both ways, reads through live
 * snapshots and through iterators held across writes, flushes and compactions) against the model.
 *
 * <p>The operation sequence is a pure function of the seed: choices depend on the model, never on
 * what the engine returned, so a seed replays the same operations (background flush and compaction
 * timing may still differ). A failed check throws {@link AssertionError}; {@link #report} describes
 * the run and its last {@value #LOG_TAIL} operations. Not thread-safe.
 */
final class ModelRunner implements AutoCloseable {
    static final int LOG_TAIL = 50;
    private static final int MAX_SNAPSHOTS = 4;

    /**
     * Key bytes: both ends of the unsigned range, values either side of the sign bit and of the
     * default shard boundaries (first byte 0x10, 0x40, 0x80, 0xc0 …), and two letters.
     */
    private static final byte[] ALPHABET = {0x00, 0x01, 0x0f, 0x10, 0x3f, 0x40, 0x41, 0x7f, (byte) 0x80, (byte) 0x81,
        (byte) 0xbf, (byte) 0xc0, (byte) 0xfe, (byte) 0xff, 'a', 'b'};

    /** Operations and their weights. */
    enum Op {
        PUT(14), DELETE(6), DELETE_RANGE(3), BATCH(8), BULK(2), GET(10), MULTI_GET(4), ITERATE(6), WALK(8),
        HELD_ITERATOR(2), SNAPSHOT(3), SNAPSHOT_READ(7), SNAPSHOT_CLOSE(2), FLUSH(2), COMPACT(1), REOPEN(1),
        /** Drawn only when the options have a merge operator (other runs keep their sequences). */
        MERGE(8),
        /** Last: drawn only when the options have a TTL; moves the fake clock forward. */
        ADVANCE_CLOCK(4);

        final int weight;

        Op(int weight) {
            this.weight = weight;
        }
    }

    private record LiveSnapshot(int id, Snapshot snapshot, ModelState state) {
    }

    private final String name;
    private final Path dir;
    private final Options options;
    /** The fake clock of a run with {@link Options#ttl} (the options' clock), millis; null otherwise. */
    private final java.util.concurrent.atomic.AtomicLong clock;
    /** {@link Options#ttl} in millis, 0 when off. */
    private final long ttlMillis;
    private final long seed;
    private final Random rnd;
    private final ModelOpLog log = new ModelOpLog(LOG_TAIL);
    private final List<byte[]> pool = new ArrayList<>();
    private final List<LiveSnapshot> snapshots = new ArrayList<>();
    private final int[] opCounts = new int[Op.values().length];
    private final int totalWeight;
    private final StringBuilder trail = new StringBuilder();

    private final java.util.function.BiFunction<Path, Options, DB> opener;
    private DB db;
    private ModelState model = new ModelState();
    private volatile int step;
    private int iterations;
    private int snapshotIds;
    private long lastSnapshotSequence = -1;
    private long flushes;
    private long compactions;
    private int opens;
    private String lastStats = "";
    /** Per level, the most files seen there (sampled at flushes, compactions and closes). */
    private final int[] maxFilesPerLevel = new int[16];

    ModelRunner(String name, Path dir, Options options, long seed) {
        this(name, dir, options, seed, DB::open);
    }

    /** With {@code opener} instead of {@link DB#open} (the runner's self-test uses a reference DB). */
    ModelRunner(String name, Path dir, Options options, long seed, java.util.function.BiFunction<Path, Options, DB> opener) {
        this.opener = opener;
        this.name = name;
        this.dir = dir;
        if (options.ttl() != null) {
            this.clock = new java.util.concurrent.atomic.AtomicLong(1_700_000_000_000L);
            this.ttlMillis = options.ttl().toMillis();
            options = options.copy().clock(clock::get);
        } else {
            this.clock = null;
            this.ttlMillis = 0;
        }
        this.options = options;
        this.seed = seed;
        this.rnd = new Random(seed);
        int w = 0;
        for (Op op : Op.values()) {
            if (enabled(op)) {
                w += op.weight;
            }
        }
        totalWeight = w;
        buildPool();
    }

    /** Opens the DB and runs {@code iterations} random operations, then a full check before and after a reopen. */
    void run(int iterations) {
        this.iterations = iterations;
        open();
        for (step = 1; step <= iterations; step++) {
            Op op = pickOp();
            opCounts[op.ordinal()]++;
            doOp(op);
        }
        step = iterations + 1;
        log.add(step, "final check: flush, compactRange(null, null), full scan, reopen, full scan");
        checkEverything("final (before flush)");
        flush();
        compact(null, null);
        checkEverything("final (after flush and full compaction)");
        reopen();
        checkEverything("final (after reopen)");
        closeDb();
    }

    /** Cumulative flushes and compactions the DB reported over all opens of this run. */
    long flushes() {
        return flushes;
    }

    long compactions() {
        return compactions;
    }

    /** One line: what ran, for the test output. */
    String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(": ").append(iterations).append(" ops, ").append(model.size()).append(" keys at the end, ")
                .append(opens).append(" opens, ").append(flushes).append(" flushes, ").append(compactions)
                .append(" compactions; most files per level seen ").append(levelsSeen()).append("; ops");
        for (Op op : Op.values()) {
            sb.append(' ').append(op.name().toLowerCase()).append('=').append(opCounts[op.ordinal()]);
        }
        sb.append("; last stats ").append(lastStats);
        return sb.toString();
    }

    /** What a failure report says: seed, step, the op log tail and the DB's files when it can tell. */
    String report(Throwable failure, String rerun) {
        StringBuilder sb = new StringBuilder();
        sb.append("ModelTest ").append(name).append(" FAILED at step ").append(step).append('/').append(iterations)
                .append(" (seed ").append(seed).append("; rerun: ").append(rerun).append(")\n");
        sb.append("options: ").append(options).append('\n');
        if (failure != null) {
            sb.append("failure: ").append(failure).append('\n');
        }
        sb.append("live snapshots: ");
        for (LiveSnapshot s : snapshots) {
            sb.append('#').append(s.id).append(' ');
        }
        sb.append("\nlast operations (oldest first):\n").append(log.tail());
        if (db != null) {
            try {
                sb.append("o3.sstables:\n").append(db.property("o3.sstables")).append('\n');
            } catch (Throwable t) {
                sb.append("(o3.sstables unavailable: ").append(t).append(")\n");
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (LiveSnapshot s : snapshots) {
            try {
                s.snapshot.close();
            } catch (Throwable ignored) {
                // best effort on the failure path
            }
        }
        snapshots.clear();
        if (db != null) {
            try {
                db.close();
            } catch (Throwable ignored) {
                // best effort on the failure path
            }
            db = null;
        }
    }

    // ------------------------------------------------------------------ operations

    private boolean enabled(Op op) {
        return switch (op) {
            case MERGE -> options.mergeOperator() != null;
            case ADVANCE_CLOCK -> clock != null;
            default -> true;
        };
    }

    /** The write time the DB stamps now (the fake clock), 0 without TTL. */
    private long now() {
        return clock == null ? 0 : clock.get();
    }

    /**
     * Moves the fake clock forward (by up to half the TTL, or to just before or just past the next
     * expiry) and expires the model's values and every live snapshot's: reads hide expired values by
     * the current time, snapshot reads included.
     */
    private void advanceClock() {
        long by = switch (rnd.nextInt(4)) {
            case 0 -> 1;
            case 1 -> ttlMillis; // a value written now-ish sits at the boundary
            default -> 1 + rnd.nextInt((int) Math.max(1, ttlMillis / 2));
        };
        long now = clock.addAndGet(by);
        int gone = model.expire(now, ttlMillis);
        for (LiveSnapshot s : snapshots) {
            s.state.expire(now, ttlMillis);
        }
        log.add(step, "clock +" + by + " ms to " + now + ": " + gone + " values expired");
    }

    private Op pickOp() {
        int r = rnd.nextInt(totalWeight);
        for (Op op : Op.values()) {
            if (!enabled(op)) {
                continue;
            }
            r -= op.weight;
            if (r < 0) {
                return op;
            }
        }
        throw new AssertionError();
    }

    private void doOp(Op op) {
        switch (op) {
            case PUT -> put();
            case DELETE -> delete();
            case DELETE_RANGE -> deleteRange();
            case BATCH -> batch();
            case BULK -> bulk(100 + rnd.nextInt(300));
            case GET -> get();
            case MULTI_GET -> multiGet(null, model, "latest");
            case ITERATE -> iterate(null, model, "latest", true);
            case WALK -> iterate(null, model, "latest", false);
            case HELD_ITERATOR -> heldIterator();
            case SNAPSHOT -> snapshot();
            case SNAPSHOT_READ -> snapshotRead();
            case SNAPSHOT_CLOSE -> snapshotClose();
            case FLUSH -> flush();
            case COMPACT -> compactRandom();
            case REOPEN -> reopen();
            case MERGE -> merge();
            case ADVANCE_CLOCK -> advanceClock();
            default -> throw new AssertionError(op);
        }
    }

    private void open() {
        db = opener.apply(dir, options);
        opens++;
    }

    private void sampleLevels() {
        DBStats s = db.stats();
        for (int l = 0; l < Math.min(s.levels(), maxFilesPerLevel.length); l++) {
            maxFilesPerLevel[l] = Math.max(maxFilesPerLevel[l], s.filesAtLevel(l));
        }
    }

    private String levelsSeen() {
        StringBuilder sb = new StringBuilder("[");
        int last = maxFilesPerLevel.length - 1;
        while (last > 0 && maxFilesPerLevel[last] == 0) {
            last--;
        }
        for (int l = 0; l <= last; l++) {
            sb.append(l == 0 ? "" : ", ").append(maxFilesPerLevel[l]);
        }
        return sb.append(']').toString();
    }

    private void closeDb() {
        for (LiveSnapshot s : snapshots) {
            s.snapshot.close();
        }
        snapshots.clear();
        try {
            sampleLevels();
            DBStats s = db.stats();
            flushes += s.flushes();
            compactions += s.compactions();
            lastStats = s.toString();
        } finally {
            db.close();
            db = null;
        }
    }

    private void reopen() {
        log.add(step, "reopen (closing " + snapshots.size() + " snapshots first)");
        closeDb();
        open();
        trail.setLength(0);
        try (DBIterator it = db.iterator()) {
            fullScan(it, model, null, null, true, "after reopen");
        }
    }

    private void put() {
        byte[] k = randomKey();
        byte[] v = randomValue();
        int how = rnd.nextInt(10);
        if (how == 0) {
            ByteBuffer kb = bufferOf(k);
            ByteBuffer vb = bufferOf(v);
            log.add(step, "put(ByteBuffer) " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(v));
            db.put(kb, vb);
        } else if (how == 1) {
            log.add(step, "put sync " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(v));
            db.put(k, v, WriteOptions.defaults().sync(true));
        } else {
            log.add(step, "put " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(v));
            db.put(k, v);
        }
        model.put(k, v, now());
    }

    /** A merge of a short operand into a key, often one that holds a value or earlier operands. */
    private void merge() {
        byte[] k = rnd.nextInt(2) == 0 ? randomPresentKey() : randomKey();
        byte[] operand = value(1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 300 : 12));
        log.add(step, "merge " + ModelOpLog.hex(k) + " += " + ModelOpLog.val(operand) + " (was "
                + ModelOpLog.val(model.get(k)) + ")");
        if (rnd.nextInt(10) == 0) {
            db.merge(k, operand, WriteOptions.defaults().sync(true));
        } else {
            db.merge(k, operand);
        }
        modelMerge(k, operand);
    }

    private void modelMerge(byte[] k, byte[] operand) {
        model.put(k, options.mergeOperator().fullMerge(k, model.get(k), List.of(operand)));
    }

    private void delete() {
        byte[] k = rnd.nextInt(3) == 0 ? randomPresentKey() : randomKey();
        log.add(step, "delete " + ModelOpLog.hex(k) + " (was " + ModelOpLog.val(model.get(k)) + ")");
        if (rnd.nextInt(10) == 0) {
            db.delete(k, WriteOptions.defaults().sync(true));
        } else {
            db.delete(k);
        }
        model.delete(k);
    }

    private void deleteRange() {
        byte[][] r = randomRange();
        log.add(step, "deleteRange [" + ModelOpLog.hex(r[0]) + ", " + ModelOpLog.hex(r[1]) + ") covering "
                + model.countInRange(r[0], r[1]) + " keys");
        db.deleteRange(r[0], r[1]);
        model.deleteRange(r[0], r[1]);
    }

    private void batch() {
        int n = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 60 : 12);
        StringBuilder desc = new StringBuilder("batch of " + n + ":");
        try (WriteBatch b = new WriteBatch()) {
            for (int i = 0; i < n; i++) {
                int kind = rnd.nextInt(options.mergeOperator() != null ? 25 : 20);
                if (kind >= 20) {
                    byte[] k = rnd.nextBoolean() ? randomPresentKey() : randomKey();
                    byte[] operand = value(1 + rnd.nextInt(12));
                    b.merge(k, operand);
                    modelMerge(k, operand);
                    desc.append(" merge ").append(ModelOpLog.hex(k)).append("+=").append(ModelOpLog.val(operand));
                } else if (kind < 13) {
                    byte[] k = randomKey();
                    byte[] v = randomValue();
                    if (rnd.nextInt(5) == 0) {
                        b.put(bufferOf(k), bufferOf(v));
                    } else {
                        b.put(k, v);
                    }
                    model.put(k, v, now());
                    desc.append(" put ").append(ModelOpLog.hex(k)).append('=').append(ModelOpLog.val(v));
                } else if (kind < 19) {
                    byte[] k = rnd.nextBoolean() ? randomPresentKey() : randomKey();
                    if (rnd.nextInt(5) == 0) {
                        b.delete(bufferOf(k));
                    } else {
                        b.delete(k);
                    }
                    model.delete(k);
                    desc.append(" del ").append(ModelOpLog.hex(k));
                } else {
                    byte[][] r = randomRange();
                    desc.append(" rdel [").append(ModelOpLog.hex(r[0])).append(", ").append(ModelOpLog.hex(r[1]))
                            .append(")~").append(model.countInRange(r[0], r[1]));
                    b.deleteRange(r[0], r[1]);
                    model.deleteRange(r[0], r[1]);
                }
            }
            log.add(step, desc.length() > 1500 ? desc.substring(0, 1500) + " …" : desc.toString());
            db.write(b, rnd.nextInt(10) == 0 ? WriteOptions.defaults().sync(true) : WriteOptions.defaults());
        }
    }

    /** Many puts of larger values in batches of up to 50: fills memtables so that flushes and compactions run. */
    private void bulk(int n) {
        log.add(step, "bulk: " + n + " puts of 200..2000 B in batches of up to 50, half to new keys");
        int i = 0;
        while (i < n) {
            int m = Math.min(n - i, 1 + rnd.nextInt(50));
            try (WriteBatch b = new WriteBatch()) {
                for (int j = 0; j < m; j++) {
                    byte[] k;
                    if (rnd.nextBoolean()) {
                        k = pool.get(rnd.nextInt(pool.size()));
                    } else {
                        byte[] p = pool.get(rnd.nextInt(pool.size()));
                        k = Arrays.copyOf(p, p.length + 2);
                        k[p.length] = (byte) rnd.nextInt(256);
                        k[p.length + 1] = (byte) rnd.nextInt(256);
                    }
                    byte[] v = value(200 + rnd.nextInt(1800));
                    b.put(k, v);
                    model.put(k, v, now());
                }
                db.write(b);
            }
            i += m;
        }
        sampleLevels();
    }

    private void get() {
        int n = 1 + rnd.nextInt(8);
        for (int i = 0; i < n; i++) {
            byte[] k = rnd.nextInt(3) == 0 ? randomPresentKey() : randomKey();
            int how = rnd.nextInt(4);
            trail.setLength(0);
            if (how == 0) {
                log.add(step, "get(ReadOptions) " + ModelOpLog.hex(k));
                checkValue("get(ReadOptions.defaults(), " + ModelOpLog.hex(k) + ")", model.get(k),
                        db.get(ReadOptions.defaults().fillCache(rnd.nextBoolean()), k));
            } else if (how == 1) {
                log.add(step, "get(ByteBuffer) " + ModelOpLog.hex(k));
                checkByteBufferGet(k);
            } else {
                log.add(step, "get " + ModelOpLog.hex(k));
                checkValue("get(" + ModelOpLog.hex(k) + ")", model.get(k), db.get(k));
            }
        }
    }

    private void checkByteBufferGet(byte[] k) {
        byte[] expected = model.get(k);
        int cap = rnd.nextBoolean() ? 4096 : rnd.nextInt(64);
        int off = rnd.nextInt(4);
        ByteBuffer dst = (rnd.nextBoolean() ? ByteBuffer.allocateDirect(cap + off) : ByteBuffer.allocate(cap + off));
        dst.position(off);
        int n = db.get(bufferOf(k), dst);
        String what = "get(ByteBuffer " + ModelOpLog.hex(k) + ", dst capacity " + cap + ")";
        if (expected == null) {
            if (n != -1) {
                throw new AssertionError(what + " returned " + n + ", expected -1 (absent)");
            }
            return;
        }
        if (n != expected.length) {
            throw new AssertionError(what + " returned length " + n + ", expected " + expected.length);
        }
        int copied = Math.min(cap, expected.length);
        if (dst.position() != off + copied) {
            throw new AssertionError(what + " left position " + dst.position() + ", expected " + (off + copied));
        }
        byte[] got = new byte[copied];
        dst.flip().position(off);
        dst.get(got);
        if (!Arrays.equals(got, Arrays.copyOf(expected, copied))) {
            throw new AssertionError(what + " copied different bytes than the value " + ModelOpLog.val(expected));
        }
    }

    private void multiGet(Snapshot snapshot, ModelState m, String at) {
        int n = rnd.nextInt(25);
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            keys.add(rnd.nextInt(8) == 0 && !keys.isEmpty() ? keys.get(rnd.nextInt(keys.size()))
                    : rnd.nextInt(3) == 0 ? randomPresentKey(m) : randomKey());
        }
        log.add(step, "multiGet at " + at + " of " + n + " keys");
        ReadOptions ro = ReadOptions.defaults().snapshot(snapshot);
        List<byte[]> got = db.multiGet(ro, keys);
        if (got.size() != n) {
            throw new AssertionError("multiGet at " + at + " returned " + got.size() + " values for " + n + " keys");
        }
        for (int i = 0; i < n; i++) {
            checkValue("multiGet at " + at + " key #" + i + " " + ModelOpLog.hex(keys.get(i)), m.get(keys.get(i)),
                    got.get(i));
        }
    }

    /** A full scan (forward or backward) or a random walk, with random bounds, at {@code snapshot} or now. */
    private void iterate(Snapshot snapshot, ModelState m, String at, boolean scan) {
        byte[][] bounds = randomBounds();
        ReadOptions ro = ReadOptions.defaults().snapshot(snapshot).lowerBound(bounds[0]).upperBound(bounds[1]);
        if (rnd.nextInt(4) == 0) {
            ro = ro.fillCache(false);
        }
        if (rnd.nextInt(8) == 0) {
            ro = ro.verifyChecksums(false);
        }
        String b = "[" + ModelOpLog.hex(bounds[0]) + ", " + ModelOpLog.hex(bounds[1]) + ")";
        trail.setLength(0);
        boolean forward = rnd.nextBoolean();
        log.add(step, (scan ? (forward ? "forward scan" : "backward scan") : "walk") + " at " + at + " bounds " + b);
        try (DBIterator it = db.iterator(ro)) {
            if (scan) {
                fullScan(it, m, bounds[0], bounds[1], forward, "scan at " + at + " bounds " + b);
            } else {
                walk(it, m, bounds[0], bounds[1], 1 + rnd.nextInt(60), "walk at " + at + " bounds " + b);
            }
        }
    }

    /**
     * An iterator (at a snapshot or now) created, then writes, flushes and compactions, then the
     * iterator read: it must still show the state of when it was created.
     */
    private void heldIterator() {
        LiveSnapshot s = !snapshots.isEmpty() && rnd.nextInt(3) == 0 ? snapshots.get(rnd.nextInt(snapshots.size())) : null;
        ModelState m = s != null ? s.state.copy() : model.copy(); // the iterator's clock stops at its creation
        byte[][] bounds = rnd.nextBoolean() ? new byte[2][] : randomBounds();
        ReadOptions ro = ReadOptions.defaults().snapshot(s == null ? null : s.snapshot).lowerBound(bounds[0])
                .upperBound(bounds[1]);
        String at = s == null ? "iterator creation" : "snapshot #" + s.id;
        String b = "[" + ModelOpLog.hex(bounds[0]) + ", " + ModelOpLog.hex(bounds[1]) + ")";
        log.add(step, "held iterator at " + at + " bounds " + b + ": opened");
        try (DBIterator it = db.iterator(ro)) {
            boolean started = rnd.nextBoolean();
            trail.setLength(0);
            if (started) {
                // position it before the writes too: the writes must not move or change what it shows
                it.seekToFirst();
                expectPosition(it, m, m.first(bounds[0], bounds[1]), "held iterator at " + at + " before writes");
            }
            int writes = 1 + rnd.nextInt(6);
            for (int i = 0; i < writes; i++) {
                switch (rnd.nextInt(8)) {
                    case 0, 1 -> put();
                    case 2 -> delete();
                    case 3 -> deleteRange();
                    case 4 -> batch();
                    case 5 -> bulk(50 + rnd.nextInt(150));
                    case 6 -> flush();
                    default -> compactRandom();
                }
                if (clock != null && rnd.nextInt(3) == 0) {
                    advanceClock();
                }
            }
            log.add(step, "held iterator at " + at + " bounds " + b + ": read after " + writes + " writes");
            trail.setLength(0);
            if (rnd.nextBoolean()) {
                fullScan(it, m, bounds[0], bounds[1], rnd.nextBoolean(), "held iterator at " + at + " bounds " + b);
            } else {
                walk(it, m, bounds[0], bounds[1], 1 + rnd.nextInt(60), "held iterator at " + at + " bounds " + b);
            }
        }
    }

    private void snapshot() {
        if (snapshots.size() >= MAX_SNAPSHOTS) {
            snapshotClose();
            return;
        }
        Snapshot s = db.snapshot();
        int id = ++snapshotIds;
        log.add(step, "snapshot #" + id + " at sequence " + s.sequence() + " (" + model.size() + " keys)");
        if (s.sequence() < lastSnapshotSequence) {
            throw new AssertionError("snapshot #" + id + " has sequence " + s.sequence()
                    + ", below the earlier snapshot sequence " + lastSnapshotSequence);
        }
        lastSnapshotSequence = s.sequence();
        snapshots.add(new LiveSnapshot(id, s, model.copy()));
    }

    private void snapshotRead() {
        if (snapshots.isEmpty()) {
            snapshot();
            return;
        }
        LiveSnapshot s = snapshots.get(rnd.nextInt(snapshots.size()));
        String at = "snapshot #" + s.id;
        switch (rnd.nextInt(4)) {
            case 0 -> {
                ReadOptions ro = ReadOptions.defaults().snapshot(s.snapshot);
                int n = 1 + rnd.nextInt(8);
                for (int i = 0; i < n; i++) {
                    byte[] k = rnd.nextBoolean() ? randomPresentKey(s.state) : randomKey();
                    log.add(step, "get at " + at + " " + ModelOpLog.hex(k));
                    checkValue("get at " + at + " " + ModelOpLog.hex(k), s.state.get(k), db.get(ro, k));
                }
            }
            case 1 -> multiGet(s.snapshot, s.state, at);
            case 2 -> iterate(s.snapshot, s.state, at, true);
            default -> iterate(s.snapshot, s.state, at, false);
        }
    }

    private void snapshotClose() {
        if (snapshots.isEmpty()) {
            return;
        }
        LiveSnapshot s = snapshots.remove(rnd.nextInt(snapshots.size()));
        log.add(step, "close snapshot #" + s.id);
        s.snapshot.close();
        if (rnd.nextInt(4) == 0) {
            s.snapshot.close(); // idempotent
            byte[] k = randomKey();
            ReadOptions ro = ReadOptions.defaults().snapshot(s.snapshot);
            expectIllegalState("get through closed snapshot #" + s.id, () -> db.get(ro, k));
            expectIllegalState("iterator through closed snapshot #" + s.id, () -> db.iterator(ro).close());
        }
    }

    private void flush() {
        log.add(step, "flush");
        sampleLevels();
        db.flush();
    }

    private void compactRandom() {
        byte[] from = rnd.nextInt(4) == 0 ? null : randomKey();
        byte[] to = rnd.nextInt(4) == 0 ? null : randomKey();
        if (from != null && to != null && ModelState.compare(from, to) > 0) {
            byte[] t = from;
            from = to;
            to = t;
        }
        compact(from, to);
    }

    private void compact(byte[] from, byte[] to) {
        log.add(step, "compactRange [" + (from == null ? "-inf" : ModelOpLog.hex(from)) + ", "
                + (to == null ? "+inf" : ModelOpLog.hex(to)) + "]");
        sampleLevels();
        db.compactRange(from, to);
    }

    // ------------------------------------------------------------------ checks

    /** Every pool key by get and multiGet, a full scan each way, and every live snapshot scanned. */
    private void checkEverything(String when) {
        trail.setLength(0);
        List<byte[]> keys = new ArrayList<>(pool);
        keys.add(new byte[0]);
        List<byte[]> got = db.multiGet(ReadOptions.defaults(), keys);
        for (int i = 0; i < keys.size(); i++) {
            byte[] k = keys.get(i);
            checkValue(when + ": get " + ModelOpLog.hex(k), model.get(k), db.get(k));
            checkValue(when + ": multiGet " + ModelOpLog.hex(k), model.get(k), got.get(i));
        }
        try (DBIterator it = db.iterator()) {
            fullScan(it, model, null, null, true, when + ": forward scan");
            trail.setLength(0);
            fullScan(it, model, null, null, false, when + ": backward scan");
        }
        for (LiveSnapshot s : snapshots) {
            try (DBIterator it = db.iterator(ReadOptions.defaults().snapshot(s.snapshot))) {
                trail.setLength(0);
                fullScan(it, s.state, null, null, true, when + ": forward scan at snapshot #" + s.id);
            }
        }
    }

    private void fullScan(DBIterator it, ModelState m, byte[] lower, byte[] upper, boolean forward, String ctx) {
        if (forward) {
            move(it, "seekToFirst");
            it.seekToFirst();
        } else {
            move(it, "seekToLast");
            it.seekToLast();
        }
        byte[] exp = forward ? m.first(lower, upper) : m.last(lower, upper);
        int n = 0;
        while (true) {
            expectPosition(it, m, exp, ctx + (forward ? ", forward" : ", backward") + " entry " + n);
            if (exp == null) {
                break;
            }
            if (rnd.nextInt(8) == 0) {
                checkZeroCopy(it, exp, m.get(exp), ctx + " entry " + n);
            }
            if (forward) {
                it.next();
                exp = m.next(exp, upper);
            } else {
                it.prev();
                exp = m.prev(exp, lower);
            }
            n++;
        }
    }

    /** {@code moves} random steps: next, prev, or a fresh seek of one of four kinds. */
    private void walk(DBIterator it, ModelState m, byte[] lower, byte[] upper, int moves, String ctx) {
        byte[] exp = reposition(it, m, lower, upper, ctx);
        for (int i = 0; i < moves; i++) {
            if (exp == null) {
                if (rnd.nextInt(3) == 0) {
                    int which = rnd.nextInt(4);
                    String what = new String[] {"next", "prev", "key", "value"}[which];
                    expectIllegalState(ctx + ": " + what + "() on an invalid iterator (moves: " + trail + ")", () -> {
                        switch (which) {
                            case 0 -> it.next();
                            case 1 -> it.prev();
                            case 2 -> it.key();
                            default -> it.value();
                        }
                    });
                }
                exp = reposition(it, m, lower, upper, ctx);
                continue;
            }
            int r = rnd.nextInt(10);
            if (r < 4) {
                move(it, "next");
                it.next();
                exp = m.next(exp, upper);
            } else if (r < 8) {
                move(it, "prev");
                it.prev();
                exp = m.prev(exp, lower);
            } else {
                exp = reposition(it, m, lower, upper, ctx);
                continue;
            }
            expectPosition(it, m, exp, ctx);
            if (exp != null && rnd.nextInt(3) == 0) {
                checkZeroCopy(it, exp, m.get(exp), ctx);
            }
        }
    }

    private byte[] reposition(DBIterator it, ModelState m, byte[] lower, byte[] upper, String ctx) {
        byte[] exp;
        int kind = rnd.nextInt(6);
        if (kind == 0) {
            move(it, "seekToFirst");
            it.seekToFirst();
            exp = m.first(lower, upper);
        } else if (kind == 1) {
            move(it, "seekToLast");
            it.seekToLast();
            exp = m.last(lower, upper);
        } else {
            byte[] t = seekTarget(m, lower, upper);
            if (kind < 4) {
                move(it, "seek(" + ModelOpLog.hex(t) + ")");
                it.seek(t);
                exp = m.seek(t, lower, upper);
            } else {
                move(it, "seekForPrev(" + ModelOpLog.hex(t) + ")");
                it.seekForPrev(t);
                exp = m.seekForPrev(t, lower, upper);
            }
        }
        expectPosition(it, m, exp, ctx);
        if (exp != null && rnd.nextInt(3) == 0) {
            checkZeroCopy(it, exp, m.get(exp), ctx);
        }
        return exp;
    }

    private byte[] seekTarget(ModelState m, byte[] lower, byte[] upper) {
        int r = rnd.nextInt(10);
        if (r == 0 && lower != null) {
            return lower;
        }
        if (r == 1 && upper != null) {
            return upper;
        }
        if (r < 5) {
            byte[] k = randomPresentKey(m);
            if (r == 4 && k.length > 0) {
                // just before or after a present key
                return rnd.nextBoolean() ? Arrays.copyOf(k, k.length - 1) : Arrays.copyOf(k, k.length + 1);
            }
            return k;
        }
        return randomKey();
    }

    private void move(DBIterator it, String what) {
        if (trail.length() > 600) {
            trail.delete(0, trail.indexOf(" ", 200) + 1).insert(0, "… ");
        }
        trail.append(what).append(' ');
    }

    private void expectPosition(DBIterator it, ModelState m, byte[] expKey, String ctx) {
        boolean valid = it.isValid();
        if (expKey == null) {
            if (valid) {
                byte[] k = it.key();
                throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(it.value())
                        + ", expected no entry (model value of that key: " + ModelOpLog.val(m.get(k)) + "); moves: "
                        + trail);
            }
            return;
        }
        if (!valid) {
            throw new AssertionError(ctx + ": iterator invalid, expected " + ModelOpLog.hex(expKey) + " = "
                    + ModelOpLog.val(m.get(expKey)) + "; moves: " + trail);
        }
        byte[] k = it.key();
        if (!Arrays.equals(k, expKey)) {
            throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(k) + " = " + ModelOpLog.val(it.value())
                    + ", expected " + ModelOpLog.hex(expKey) + " = " + ModelOpLog.val(m.get(expKey))
                    + " (model value of the key found: " + ModelOpLog.val(m.get(k)) + "); moves: " + trail);
        }
        byte[] v = it.value();
        byte[] ev = m.get(expKey);
        if (!Arrays.equals(v, ev)) {
            throw new AssertionError(ctx + ": iterator at " + ModelOpLog.hex(k) + " has value " + ModelOpLog.val(v)
                    + ", expected " + ModelOpLog.val(ev) + "; moves: " + trail);
        }
    }

    /** The zero-copy accessors must agree with {@code key()} and {@code value()}. */
    private void checkZeroCopy(DBIterator it, byte[] key, byte[] value, String ctx) {
        checkView(ctx + ": keyBuffer()", it.keyBuffer(), key);
        checkView(ctx + ": valueBuffer()", it.valueBuffer(), value);
        checkCopyInto(ctx + ": key(ByteBuffer)", key, dst -> it.key(dst));
        checkCopyInto(ctx + ": value(ByteBuffer)", value, dst -> it.value(dst));
        if (!Arrays.equals(it.key(), key)) {
            throw new AssertionError(ctx + ": key() changed after the zero-copy accessors were used");
        }
    }

    private static void checkView(String what, ByteBuffer view, byte[] expected) {
        if (!view.isReadOnly()) {
            throw new AssertionError(what + " is writable; the contract is a read-only view");
        }
        byte[] got = new byte[view.remaining()];
        view.duplicate().get(got);
        if (!Arrays.equals(got, expected)) {
            throw new AssertionError(what + " holds " + ModelOpLog.hex(got) + ", key()/value() say "
                    + ModelOpLog.hex(expected));
        }
    }

    private void checkCopyInto(String what, byte[] expected, java.util.function.ToIntFunction<ByteBuffer> copy) {
        int cap = rnd.nextInt(4) == 0 ? rnd.nextInt(Math.max(1, expected.length)) : expected.length + rnd.nextInt(8);
        int off = rnd.nextInt(5);
        ByteBuffer dst = rnd.nextBoolean() ? ByteBuffer.allocateDirect(off + cap) : ByteBuffer.allocate(off + cap);
        dst.position(off);
        int n = copy.applyAsInt(dst);
        if (n != expected.length) {
            throw new AssertionError(what + " returned " + n + ", expected the full length " + expected.length);
        }
        int copied = Math.min(cap, expected.length);
        if (dst.position() != off + copied) {
            throw new AssertionError(what + " into " + cap + " free bytes moved the position to " + dst.position()
                    + ", expected " + (off + copied));
        }
        byte[] got = new byte[copied];
        dst.position(off);
        dst.get(got);
        if (!Arrays.equals(got, Arrays.copyOf(expected, copied))) {
            throw new AssertionError(what + " copied " + ModelOpLog.hex(got) + ", expected " + ModelOpLog.hex(expected));
        }
    }

    private void checkValue(String what, byte[] expected, byte[] got) {
        if (!Arrays.equals(expected, got)) {
            throw new AssertionError(what + ": got " + ModelOpLog.val(got) + ", model says " + ModelOpLog.val(expected)
                    + (trail.length() > 0 ? "; moves: " + trail : ""));
        }
    }

    private static void expectIllegalState(String what, Runnable r) {
        try {
            r.run();
        } catch (IllegalStateException expected) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError(what + " threw " + e + ", expected IllegalStateException", e);
        }
        throw new AssertionError(what + " did not throw; expected IllegalStateException");
    }

    // ------------------------------------------------------------------ random data

    /** ~400 distinct keys of 1..8 alphabet bytes (a third extend or cut another, so prefixes are shared) and a few long ones. */
    private void buildPool() {
        TreeSet<byte[]> keys = new TreeSet<>(Arrays::compareUnsigned);
        List<byte[]> order = new ArrayList<>();
        while (keys.size() < 400) {
            byte[] k;
            if (!order.isEmpty() && rnd.nextInt(3) == 0) {
                byte[] base = order.get(rnd.nextInt(order.size()));
                if (rnd.nextInt(4) == 0 && base.length > 1) {
                    k = Arrays.copyOf(base, 1 + rnd.nextInt(base.length - 1));
                } else {
                    int extra = 1 + rnd.nextInt(3);
                    k = Arrays.copyOf(base, base.length + extra);
                    for (int i = base.length; i < k.length; i++) {
                        k[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                    }
                }
            } else {
                k = new byte[1 + rnd.nextInt(8)];
                for (int i = 0; i < k.length; i++) {
                    k[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                }
            }
            if (rnd.nextInt(100) == 0) {
                byte[] longKey = Arrays.copyOf(k, 100 + rnd.nextInt(400)); // longer than a 256 B block
                for (int i = k.length; i < longKey.length; i++) {
                    longKey[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                }
                k = longKey;
            }
            if (keys.add(k)) {
                order.add(k);
            }
        }
        pool.addAll(order);
    }

    /** A pool key mostly; rarely the empty key or a fresh random key. */
    private byte[] randomKey() {
        int r = rnd.nextInt(300);
        if (r == 0) {
            return new byte[0];
        }
        if (r < 15) {
            byte[] k = new byte[1 + rnd.nextInt(10)];
            for (int i = 0; i < k.length; i++) {
                k[i] = rnd.nextInt(3) == 0 ? (byte) rnd.nextInt(256) : ALPHABET[rnd.nextInt(ALPHABET.length)];
            }
            return k;
        }
        return pool.get(rnd.nextInt(pool.size()));
    }

    private byte[] randomPresentKey() {
        return randomPresentKey(model);
    }

    private byte[] randomPresentKey(ModelState m) {
        if (m.size() == 0) {
            return randomKey();
        }
        return m.keyAt(rnd.nextInt(m.size()));
    }

    /**
     * [from, to): mostly narrow (a key and a key just above it), often over a run of up to 30
     * present keys, rarely wide (two random keys) or empty; sometimes reversed (a no-op).
     */
    private byte[][] randomRange() {
        byte[] a;
        byte[] b;
        int r = rnd.nextInt(20);
        if (r < 10) {
            a = randomKey();
            b = Arrays.copyOf(a, a.length + 1);
            b[a.length] = ALPHABET[rnd.nextInt(ALPHABET.length)];
            if (rnd.nextBoolean() && a.length > 0) {
                b = a.clone();
                b[b.length - 1] = (byte) Math.min(0xff, (b[b.length - 1] & 0xff) + 1 + rnd.nextInt(16));
            }
        } else if (r < 16 && model.size() > 1) {
            int i = rnd.nextInt(model.size());
            int j = Math.min(model.size() - 1, i + 1 + rnd.nextInt(30));
            a = model.keyAt(i);
            b = model.keyAt(j);
            if (rnd.nextInt(3) == 0) {
                b = Arrays.copyOf(b, b.length + 1); // include the upper key itself
            }
        } else if (r < 18) {
            a = randomKey();
            b = randomKey();
        } else {
            a = randomKey();
            b = a.clone(); // empty range
        }
        if (ModelState.compare(a, b) > 0 && rnd.nextInt(5) != 0) {
            return new byte[][] {b, a};
        }
        return new byte[][] {a, b};
    }

    /** Iterator bounds: each side null half of the time; sometimes crossed (an empty view). */
    private byte[][] randomBounds() {
        byte[] lo = rnd.nextBoolean() ? null : randomKey();
        byte[] hi = rnd.nextBoolean() ? null : randomKey();
        if (lo != null && hi != null && ModelState.compare(lo, hi) > 0 && rnd.nextInt(8) != 0) {
            return new byte[][] {hi, lo};
        }
        return new byte[][] {lo, hi};
    }

    private byte[] randomValue() {
        int r = rnd.nextInt(1000);
        int len = r < 50 ? 0 : r < 700 ? rnd.nextInt(100) : r < 970 ? 100 + rnd.nextInt(1900)
                : r < 997 ? 2000 + rnd.nextInt(30000) : 64 * 1024 + rnd.nextInt(256 * 1024); // the last: above an arena
        return value(len);
    }

    /** Random bytes with runs of a repeated pattern, so that LZ4 finds something to compress. */
    private byte[] value(int len) {
        byte[] v = new byte[len];
        int i = 0;
        while (i < len) {
            int run = Math.min(len - i, 1 + rnd.nextInt(32));
            if (rnd.nextBoolean()) {
                byte x = (byte) rnd.nextInt(256);
                Arrays.fill(v, i, i + run, x);
            } else {
                for (int j = i; j < i + run; j++) {
                    v[j] = (byte) rnd.nextInt(256);
                }
            }
            i += run;
        }
        return v;
    }

    /** A heap or direct buffer whose remaining bytes are {@code b}, at a random position. */
    private ByteBuffer bufferOf(byte[] b) {
        int off = rnd.nextInt(4);
        ByteBuffer buf = rnd.nextBoolean() ? ByteBuffer.allocateDirect(off + b.length + 3) : ByteBuffer.allocate(off + b.length + 3);
        buf.position(off);
        buf.put(b);
        buf.flip();
        buf.position(off);
        return buf;
    }

    /** The current step, for timeout reports. */
    int step() {
        return step;
    }

    /** The op log tail, for timeout reports. */
    String logTail() {
        return log.tail();
    }
}
