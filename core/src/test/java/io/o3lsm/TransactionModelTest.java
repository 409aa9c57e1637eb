package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Randomized model test of transactions, a sibling of {@link ModelTest} under the same option sets
 * (tiny files, one shard, many shards without block cache, defaults, sub-compactions): up to three
 * transactions open at once (with and without a snapshot) interleaved with plain puts, deletes,
 * range deletions, bulk loads, flushes and full compactions. Every transactional read (get,
 * getForUpdate, bounded iterators both ways) is checked against a {@link ModelState} view (the DB
 * model at the snapshot or now, overlaid with the transaction's writes), and every commit's outcome
 * against the model's prediction: it must fail with {@link TransactionConflictException} exactly when
 * some key it tracked was written (put, delete, covering range deletion, another transaction's commit)
 * after the transaction's read sequence for it, and then change nothing.
 *
 * <p>Option sets with {@link Options#ttl} run on a fake clock ({@link Options#clock}) that only the
 * test moves, as in {@link ModelRunner}: the model stamps each committed value with the clock's time
 * and expires values (in the DB model and in every open snapshot's base) by the engine's rule,
 * {@code now - written > ttl}, when the clock moves. A transaction's own uncommitted writes carry no
 * stamp and never expire; they are stamped when the commit writes them. On the wall clock the model
 * could not know which values the DB already hides.
 *
 * <p>Seeded: prints {@code -Dtests.seed=S} and accepts it back; {@code -Dmodel.iterations=N} sets the
 * operations per option set (default {@value #ITERATIONS_DEFAULT}).
 */
class TransactionModelTest {
    static final int ITERATIONS_DEFAULT = 800;
    private static final long BASE_SEED = seed();
    private static final int ITERATIONS = Integer.getInteger("model.iterations", ITERATIONS_DEFAULT);
    private static final int MAX_OPEN = 3;

    @TempDir
    Path dir;

    private static long seed() {
        String s = System.getProperty("tests.seed");
        return s == null || s.isEmpty() ? System.nanoTime() ^ 0x5DEECE66DL : Long.decode(s);
    }

    enum Op {
        DB_PUT(10), DB_DELETE(4), DB_DELETE_RANGE(2), DB_GET(4), BULK(1), FLUSH(2), COMPACT(1),
        BEGIN(5), TXN_PUT(10), TXN_DELETE(4), TXN_GET(8), TXN_GET_FOR_UPDATE(10), TXN_ITERATE(3),
        SAVE_POINT(2), ROLLBACK_TO_SAVE_POINT(2), COMMIT(6), ROLLBACK(1),
        /** Last, drawn only when the options have a TTL (so other sets draw as before): moves the fake clock. */
        ADVANCE_CLOCK(3);

        final int weight;

        Op(int weight) {
            this.weight = weight;
        }
    }

    private static final byte[] TOMBSTONE = new byte[0];

    private record RangeDel(byte[] from, byte[] to, long time) {
    }

    private record SavePoint(TreeMap<byte[], byte[]> overlay, int tracked) {
    }

    /** One open transaction and what the model knows of it. */
    private static final class Txn {
        final int id;
        final Transaction txn;
        final boolean snapshot;
        final ModelState base;
        final long beginTime;
        /** Keys the transaction wrote: value, or {@link #TOMBSTONE} for a delete. */
        TreeMap<byte[], byte[]> overlay = new TreeMap<>(Arrays::compareUnsigned);
        final TreeMap<byte[], Long> tracked = new TreeMap<>(Arrays::compareUnsigned);
        final List<byte[]> trackOrder = new ArrayList<>();
        final ArrayDeque<SavePoint> savePoints = new ArrayDeque<>();

        Txn(int id, Transaction txn, boolean snapshot, ModelState base, long beginTime) {
            this.id = id;
            this.txn = txn;
            this.snapshot = snapshot;
            this.base = base;
            this.beginTime = beginTime;
        }
    }

    private Random rnd;
    private long seed;
    private DB db;
    private final ModelState state = new ModelState();
    /** Logical time of writes and tracking, for the conflict model (not the TTL clock). */
    private long clock;
    /** The fake TTL clock of a set with {@link Options#ttl} (the options' clock), millis; null otherwise. */
    private AtomicLong wallClock;
    /** {@link Options#ttl} in millis, 0 when off. */
    private long ttlMillis;
    private final TreeMap<byte[], Long> pointWrites = new TreeMap<>(Arrays::compareUnsigned);
    private final List<RangeDel> rangeDels = new ArrayList<>();
    private final List<Txn> open = new ArrayList<>();
    private final List<byte[]> pool = new ArrayList<>();
    private final ArrayDeque<String> log = new ArrayDeque<>();
    private int step;
    private int txnIds;
    private int commits;
    private int conflicts;
    /** Values the model expired (TTL sets). */
    private int expired;

    @ParameterizedTest
    @EnumSource(ModelTest.OptionSet.class)
    void shouldMatchTheModelWithTransactions(ModelTest.OptionSet set) {
        seed = BASE_SEED ^ (0x9E3779B97F4A7C15L * (set.ordinal() + 1));
        rnd = new Random(seed);
        System.out.println("TransactionModelTest " + set + ": -Dtests.seed=" + BASE_SEED + " (set seed " + seed + "), "
                + ITERATIONS + " operations");
        for (int i = 0; i < 24; i++) {
            byte[] k = new byte[1 + rnd.nextInt(3)];
            rnd.nextBytes(k);
            pool.add(k);
        }
        Options options = set.options();
        if (options.ttl() != null) {
            wallClock = new AtomicLong(1_700_000_000_000L);
            ttlMillis = options.ttl().toMillis();
            options = options.copy().clock(wallClock::get);
        }
        int total = 0;
        for (Op op : Op.values()) {
            if (enabled(op)) {
                total += op.weight;
            }
        }
        db = DB.open(dir.resolve("db"), options);
        try {
            for (step = 1; step <= ITERATIONS; step++) {
                int r = rnd.nextInt(total);
                for (Op op : Op.values()) {
                    if (!enabled(op)) {
                        continue;
                    }
                    r -= op.weight;
                    if (r < 0) {
                        doOp(op);
                        break;
                    }
                }
            }
            while (!open.isEmpty()) {
                commit(open.get(0));
            }
            for (byte[] k : pool) {
                assertArrayEquals(state.get(k), db.get(k), () -> failure("final get " + hex(k)));
            }
        } catch (Throwable t) {
            throw new AssertionError(failure("failed: " + t) + "\nrerun: mvn -B -o -pl core test "
                    + "-Dtest='TransactionModelTest' -Dtests.seed=" + BASE_SEED + " -Dmodel.iterations=" + ITERATIONS, t);
        } finally {
            for (Txn t : open) {
                t.txn.close();
            }
            db.close();
        }
        System.out.println("TransactionModelTest " + set + ": " + commits + " commits, " + conflicts + " conflicts"
                + (wallClock == null ? "" : ", " + expired + " values expired"));
        assertTrue(commits > 0 && (ITERATIONS < ITERATIONS_DEFAULT || conflicts > 0),
                "the run should commit and conflict: " + commits + " commits, " + conflicts + " conflicts");
        assertTrue(wallClock == null || ITERATIONS < ITERATIONS_DEFAULT || expired > 0,
                "a TTL set should expire values: none expired");
    }

    private String failure(String what) {
        return "TransactionModelTest step " + step + " (seed " + seed + "): " + what + "\nlast operations:\n"
                + String.join("\n", log);
    }

    private void log(String s) {
        log.addLast(step + ": " + s);
        if (log.size() > 40) {
            log.removeFirst();
        }
    }

    private static String hex(byte[] k) {
        return HexFormat.of().formatHex(k);
    }

    private boolean enabled(Op op) {
        return op != Op.ADVANCE_CLOCK || wallClock != null;
    }

    /** The write time the DB stamps now (the fake clock), 0 without TTL. */
    private long now() {
        return wallClock == null ? 0 : wallClock.get();
    }

    /**
     * Moves the fake clock forward (by 1 ms, by exactly the TTL so that a value written just before
     * sits on the boundary, or by up to half the TTL) and expires the model's values and every open
     * snapshot transaction's base: the DB hides expired values by the time of the read, snapshot
     * reads included.
     */
    private void advanceClock() {
        long by = switch (rnd.nextInt(4)) {
            case 0 -> 1;
            case 1 -> ttlMillis;
            default -> 1 + rnd.nextInt((int) Math.max(1, ttlMillis / 2));
        };
        long now = wallClock.addAndGet(by);
        int gone = state.expire(now, ttlMillis);
        expired += gone;
        for (Txn t : open) {
            if (t.snapshot) {
                t.base.expire(now, ttlMillis);
            }
        }
        log("clock +" + by + " ms to " + now + ": " + gone + " values expired");
    }

    private byte[] key() {
        return pool.get(rnd.nextInt(pool.size()));
    }

    private byte[] value() {
        byte[] v = new byte[rnd.nextInt(4) == 0 ? 200 + rnd.nextInt(800) : 1 + rnd.nextInt(16)];
        rnd.nextBytes(v);
        return v;
    }

    private Txn someTxn() {
        return open.isEmpty() ? null : open.get(rnd.nextInt(open.size()));
    }

    private long lastWrite(byte[] k) {
        long t = pointWrites.getOrDefault(k, 0L);
        for (RangeDel d : rangeDels) {
            if (d.time > t && Arrays.compareUnsigned(d.from, k) <= 0 && Arrays.compareUnsigned(k, d.to) < 0) {
                t = d.time;
            }
        }
        return t;
    }

    private void doOp(Op op) {
        Txn t = someTxn();
        switch (op) {
            case DB_PUT -> {
                byte[] k = key();
                byte[] v = value();
                log("db.put " + hex(k));
                db.put(k, v);
                state.put(k, v, now());
                pointWrites.put(k, ++clock);
            }
            case DB_DELETE -> {
                byte[] k = key();
                log("db.delete " + hex(k));
                db.delete(k);
                state.delete(k);
                pointWrites.put(k, ++clock);
            }
            case DB_DELETE_RANGE -> {
                byte[] a = key();
                byte[] b = key();
                log("db.deleteRange " + hex(a) + " " + hex(b));
                db.deleteRange(a, b);
                state.deleteRange(a, b);
                ++clock;
                if (Arrays.compareUnsigned(a, b) < 0) {
                    rangeDels.add(new RangeDel(a, b, clock));
                }
            }
            case DB_GET -> {
                byte[] k = key();
                log("db.get " + hex(k));
                assertArrayEquals(state.get(k), db.get(k), () -> failure("db.get " + hex(k)));
            }
            case BULK -> {
                log("bulk");
                for (int i = 0; i < 200; i++) {
                    byte[] k = key();
                    byte[] v = new byte[300];
                    rnd.nextBytes(v);
                    db.put(k, v);
                    state.put(k, v, now());
                    pointWrites.put(k, ++clock);
                }
            }
            case FLUSH -> {
                log("flush");
                db.flush();
            }
            case COMPACT -> {
                log("compactRange(null, null)");
                db.compactRange(null, null);
            }
            case BEGIN -> {
                if (open.size() < MAX_OPEN) {
                    boolean snap = rnd.nextBoolean();
                    int id = ++txnIds;
                    log("begin #" + id + (snap ? " with snapshot" : ""));
                    Transaction txn = db.beginTransaction(WriteOptions.defaults(),
                            TransactionOptions.defaults().setSnapshot(snap));
                    open.add(new Txn(id, txn, snap, snap ? state.copy() : null, clock));
                }
            }
            case TXN_PUT -> {
                if (t != null) {
                    byte[] k = key();
                    byte[] v = value();
                    log("#" + t.id + " put " + hex(k));
                    t.txn.put(k, v);
                    track(t, k);
                    t.overlay.put(k, v);
                }
            }
            case TXN_DELETE -> {
                if (t != null) {
                    byte[] k = key();
                    log("#" + t.id + " delete " + hex(k));
                    t.txn.delete(k);
                    track(t, k);
                    t.overlay.put(k, TOMBSTONE);
                }
            }
            case TXN_GET, TXN_GET_FOR_UPDATE -> {
                if (t != null) {
                    byte[] k = key();
                    boolean forUpdate = op == Op.TXN_GET_FOR_UPDATE;
                    log("#" + t.id + (forUpdate ? " getForUpdate " : " get ") + hex(k));
                    byte[] got = forUpdate ? t.txn.getForUpdate(ReadOptions.defaults(), k)
                            : t.txn.get(ReadOptions.defaults(), k);
                    if (forUpdate) {
                        track(t, k);
                    }
                    assertArrayEquals(view(t).get(k), got, () -> failure("#" + t.id + " get " + hex(k)));
                }
            }
            case TXN_ITERATE -> {
                if (t != null) {
                    iterate(t);
                }
            }
            case SAVE_POINT -> {
                if (t != null) {
                    log("#" + t.id + " setSavePoint");
                    t.txn.setSavePoint();
                    t.savePoints.push(new SavePoint(new TreeMap<>(t.overlay), t.trackOrder.size()));
                }
            }
            case ROLLBACK_TO_SAVE_POINT -> {
                if (t != null && !t.savePoints.isEmpty()) {
                    log("#" + t.id + " rollbackToSavePoint");
                    t.txn.rollbackToSavePoint();
                    SavePoint sp = t.savePoints.pop();
                    t.overlay = sp.overlay;
                    List<byte[]> since = t.trackOrder.subList(sp.tracked, t.trackOrder.size());
                    for (byte[] k : since) {
                        t.tracked.remove(k);
                    }
                    since.clear();
                }
            }
            case COMMIT -> {
                if (t != null) {
                    commit(t);
                }
            }
            case ROLLBACK -> {
                if (t != null) {
                    log("#" + t.id + " rollback");
                    t.txn.rollback();
                    t.txn.close();
                    open.remove(t);
                }
            }
            case ADVANCE_CLOCK -> advanceClock();
            default -> throw new AssertionError(op);
        }
    }

    private void track(Txn t, byte[] k) {
        if (!t.tracked.containsKey(k)) {
            t.tracked.put(k, t.snapshot ? t.beginTime : clock);
            t.trackOrder.add(k);
        }
    }

    /** What the transaction sees: the DB at its snapshot (or now) with its writes over it. */
    private ModelState view(Txn t) {
        ModelState v = (t.snapshot ? t.base : state).copy();
        for (Map.Entry<byte[], byte[]> e : t.overlay.entrySet()) {
            if (e.getValue() == TOMBSTONE) {
                v.delete(e.getKey());
            } else {
                v.put(e.getKey(), e.getValue());
            }
        }
        return v;
    }

    private void iterate(Txn t) {
        byte[] lower = rnd.nextInt(3) == 0 ? key() : null;
        byte[] upper = rnd.nextInt(3) == 0 ? key() : null;
        log("#" + t.id + " iterate [" + (lower == null ? "" : hex(lower)) + ", " + (upper == null ? "" : hex(upper)) + ")");
        ModelState v = view(t);
        List<Map.Entry<byte[], byte[]>> want = v.entries(lower, upper);
        try (DBIterator it = t.txn.iterator(ReadOptions.defaults().lowerBound(lower).upperBound(upper))) {
            int i = 0;
            for (it.seekToFirst(); it.isValid(); it.next(), i++) {
                int at = i;
                assertTrue(i < want.size(), () -> failure("forward: extra key " + hex(it.key())));
                assertArrayEquals(want.get(i).getKey(), it.key(), () -> failure("forward key #" + at));
                assertArrayEquals(want.get(i).getValue(), it.value(), () -> failure("forward value #" + at));
            }
            assertEquals(want.size(), i, () -> failure("forward count"));
            i = want.size() - 1;
            for (it.seekToLast(); it.isValid(); it.prev(), i--) {
                int at = i;
                assertTrue(i >= 0, () -> failure("backward: extra key " + hex(it.key())));
                assertArrayEquals(want.get(i).getKey(), it.key(), () -> failure("backward key #" + at));
            }
            assertEquals(-1, i, () -> failure("backward count"));
            for (int s = 0; s < 4; s++) {
                byte[] target = key();
                it.seek(target);
                byte[] exp = v.seek(target, lower, upper);
                if (exp == null) {
                    assertFalse(it.isValid(), () -> failure("seek " + hex(target) + " should end"));
                } else {
                    assertArrayEquals(exp, it.key(), () -> failure("seek " + hex(target)));
                    it.prev();
                    byte[] p = v.prev(exp, lower);
                    if (p == null) {
                        assertFalse(it.isValid(), () -> failure("seek then prev should end"));
                    } else {
                        assertArrayEquals(p, it.key(), () -> failure("seek " + hex(target) + " then prev"));
                    }
                }
                it.seekForPrev(target);
                byte[] expPrev = v.seekForPrev(target, lower, upper);
                if (expPrev == null) {
                    assertFalse(it.isValid(), () -> failure("seekForPrev " + hex(target) + " should end"));
                } else {
                    assertArrayEquals(expPrev, it.key(), () -> failure("seekForPrev " + hex(target)));
                    it.next();
                    byte[] n = v.next(expPrev, upper);
                    if (n == null) {
                        assertFalse(it.isValid(), () -> failure("seekForPrev then next should end"));
                    } else {
                        assertArrayEquals(n, it.key(), () -> failure("seekForPrev " + hex(target) + " then next"));
                    }
                }
            }
        }
    }

    private void commit(Txn t) {
        List<byte[]> conflicting = new ArrayList<>();
        for (Map.Entry<byte[], Long> e : t.tracked.entrySet()) {
            if (lastWrite(e.getKey()) > e.getValue()) {
                conflicting.add(e.getKey());
            }
        }
        log("#" + t.id + " commit (" + t.overlay.size() + " keys written, " + t.tracked.size() + " tracked, expect "
                + (conflicting.isEmpty() ? "success" : "conflict") + ")");
        open.remove(t);
        try {
            t.txn.commit();
            if (!conflicting.isEmpty()) {
                fail(failure("#" + t.id + " committed, but " + hex(conflicting.get(0)) + " was written after it was "
                        + "tracked at " + t.tracked.get(conflicting.get(0)) + " (last write " + lastWrite(conflicting.get(0))
                        + ")"));
            }
            commits++;
            if (!t.overlay.isEmpty()) {
                long time = ++clock;
                for (Map.Entry<byte[], byte[]> e : t.overlay.entrySet()) {
                    if (e.getValue() == TOMBSTONE) {
                        state.delete(e.getKey());
                    } else {
                        state.put(e.getKey(), e.getValue(), now());
                    }
                    pointWrites.put(e.getKey(), time);
                }
            }
        } catch (TransactionConflictException ex) {
            conflicts++;
            assertFalse(conflicting.isEmpty(), () -> failure("#" + t.id + " conflict not in the model: " + ex.getMessage()));
            assertTrue(conflicting.stream().anyMatch(k -> Arrays.equals(k, ex.key())),
                    () -> failure("conflict names " + hex(ex.key()) + ", the model " + conflicting.size() + " other keys"));
            for (byte[] k : t.overlay.keySet()) {
                assertArrayEquals(state.get(k), db.get(k), () -> failure("a failed commit wrote " + hex(k)));
            }
        } finally {
            t.txn.close();
        }
    }
}
