package io.o3lsm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.HdrHistogram.Histogram;

/**
 * The benchmarks of {@code bin/o3 bench}, run against one open engine. One instance per engine per
 * run: it remembers whether the key space was loaded and how many keys YCSB inserted since.
 *
 * <p>db_bench's benchmarks (16-byte keys and 100-byte values by default):
 * <ul>
 *   <li>{@code fillseq}: {@code num} puts in key order.</li>
 *   <li>{@code fillrandom}: {@code num} puts, every key of {@code [0, num)} exactly once, in a seeded
 *   random order ({@link Permutation}), so a later read finds every key.</li>
 *   <li>{@code overwrite}: {@code num} puts of random keys of {@code [0, num)} (with repeats).</li>
 *   <li>{@code readrandom}: {@code reads} gets of random keys of {@code [0, num)}; all must be found
 *   after a fill, else a WARNING and exit status 1.</li>
 *   <li>{@code readseq}: {@code reads} iterator steps from the first key (one iterator per thread,
 *   starting over at the end).</li>
 *   <li>{@code seekrandom}: {@code reads} seeks to random keys, each followed by
 *   {@code --seek-nexts} nexts (one iterator per thread, reused).</li>
 *   <li>{@code multireadrandom}: {@code reads} random keys of {@code [0, num)} asked for in
 *   multiGets of {@code --batch-size} keys; one operation is one multiGet (its latency is the
 *   batch's), and the note gives keys per second. All must be found after a fill, as readrandom.</li>
 *   <li>{@code readwhilewriting}: {@code --threads} threads doing readrandom while one more thread
 *   overwrites random keys as fast as it can; only the readers are measured.</li>
 *   <li>{@code deleterandom}: {@code num} deletes of random keys of {@code [0, num)}.</li>
 * </ul>
 * YCSB's core workloads, on the {@code num} loaded records (loaded first by an implicit
 * {@code load}, a fillrandom, if no fill ran before), {@code reads} operations each:
 * <ul>
 *   <li>{@code ycsba} 50% read / 50% update, zipfian; {@code ycsbb} 95/5, zipfian;
 *   {@code ycsbc} 100% read, zipfian;</li>
 *   <li>{@code ycsbd} 95% read / 5% insert, latest;</li>
 *   <li>{@code ycsbe} 95% scan / 5% insert, zipfian start key, scan length uniform in [1, 100]
 *   (a new iterator per scan);</li>
 *   <li>{@code ycsbf} 50% read / 50% read-modify-write, zipfian.</li>
 * </ul>
 * Merge benchmarks (issue 16), on {@code --merge-keys} counters ({@code mergeKeys}, default
 * 10000) in a key space of their own ({@link KeyFormat#counters}), with the engine's counter merge
 * operator ({@link EngineAdapter#useCounterMerge}: 8-byte little-endian int64 add):
 * <ul>
 *   <li>{@code mergerandom}: {@code num} merges of +1 into counters chosen uniformly at random
 *   (seeded);</li>
 *   <li>{@code mergeseq}: {@code num} merges of +1 into the counters in index order, round robin;</li>
 *   <li>{@code readmerged}: {@code reads} gets of counters chosen uniformly at random. Every value a
 *   timed get returned is checked (outside the timing) against the count the merges of this run put
 *   there, and at the end every counter is read again: each must hold its count, and their sum must
 *   be the number of merges (plus what the counters held before the first merge of the run, 0 on a
 *   fresh DB). Any difference fails the benchmark ({@link Result.Status#FAILED}, exit status 1)
 *   with the keys and totals that differ: a benchmark that reads garbage fast is worthless. It
 *   needs a merge benchmark earlier in the run ({@link Bench} refuses the list otherwise).</li>
 * </ul>
 * An engine without merge (LevelDB) reports the three "n/a".
 * "zipfian" is YCSB's scrambled zipfian with constant 0.99 ({@link Zipfian.Scrambled}), "latest"
 * its skewed-latest ({@link Zipfian.Latest}). Updates and inserts write whole values; YCSB's
 * read-modify-write is a get and a put timed as one operation.
 *
 * <p>What is measured: the wall time from the start signal until every thread finished its share
 * (or {@code --duration} elapsed), and per operation the {@code System.nanoTime()} around the
 * engine call only (key encoding and value copying happen outside it) in an HdrHistogram. No
 * warm-up: the first benchmark includes JIT compilation, as db_bench's includes a cold cache.
 */
public final class Workloads {
    /** Every benchmark name, in the order of the help text. */
    public static final List<String> NAMES = List.of("fillseq", "fillrandom", "overwrite", "readrandom", "readseq",
            "seekrandom", "multireadrandom", "readwhilewriting", "deleterandom", "ycsba", "ycsbb", "ycsbc", "ycsbd", "ycsbe", "ycsbf",
            "mergerandom", "mergeseq", "readmerged");

    /** The benchmarks that write merges ({@link #isMerge} adds {@code readmerged}, which reads them). */
    public static final List<String> MERGE_WRITES = List.of("mergerandom", "mergeseq");

    /** Whether benchmark {@code name} needs the engine's counter merge operator. */
    public static boolean isMerge(String name) {
        return MERGE_WRITES.contains(name) || name.equals("readmerged");
    }

    /** The operand of every merge: +1 as an 8-byte little-endian int64. Never modified. */
    private static final byte[] PLUS_ONE = io.o3lsm.MergeOperators.int64(1);

    /** Benchmark parameters shared by every engine of a run. */
    public record Config(long num, long reads, int keySize, int valueSize, int threads, double durationSeconds,
            int seekNexts, int maxScanLength, long seed, KeyFormat keys, byte[] data, boolean progress, int batchSize,
            long mergeKeys) {
        public Config(long num, long reads, int keySize, int valueSize, int threads, double durationSeconds,
                int seekNexts, int maxScanLength, long seed, KeyFormat keys, byte[] data, boolean progress, int batchSize) {
            this(num, reads, keySize, valueSize, threads, durationSeconds, seekNexts, maxScanLength, seed, keys, data,
                    progress, batchSize, 10_000);
        }
    }

    private static final String[] YCSB_OPS = {"read", "update", "insert", "scan", "readmodifywrite"};
    /**
     * readrandom's latency split in dm mode: gets answered locally (memtables, SSTs), gets delegated
     * to the memory node, and gets answered by a one-sided read of a cached entry location.
     */
    static final String GET_LOCAL = "get-local";
    static final String GET_REMOTE = "get-delegated";
    static final String GET_CACHED = "get-cached";
    private static final int READ = 0;
    private static final int UPDATE = 1;
    private static final int INSERT = 2;
    private static final int SCAN = 3;
    private static final int RMW = 4;

    private final EngineAdapter db;
    private final Config cfg;
    private final Path dir;
    /** The shared file system {@link #dir} is on, or null for a local directory. */
    private io.o3lsm.spi.FileSystem storage;
    private final String mode;
    private final Permutation perm;
    /** Next index for an insert (YCSB D, E). */
    private final AtomicLong nextInsert;
    /** Highest index known to be inserted. */
    private final AtomicLong lastInserted;
    private boolean loaded;
    /** The engine's I/O counters when this run started (null: it does not count), and why not. */
    private final EngineAdapter.IoCounters ioAtOpen;
    private final String ioNote;
    /** Key + value bytes the benchmarks wrote so far: write amplification is cumulative since open. */
    private long userBytesSinceOpen;
    /** Whether deleterandom ran since the last fill (then readrandom may miss keys). */
    private boolean deleted;
    /** The merge benchmarks' keys (null until one runs). */
    private KeyFormat counterKeys;
    /**
     * What each counter should hold after the merge benchmarks so far: its value before the first
     * of them plus the merges since; null before the first one and after one failed.
     */
    private long[] counterExpected;
    /** Sum of the counters before the first merge benchmark, and the merges since (for the messages). */
    private long counterBaseline;
    private long mergesDone;
    /** Why the counters cannot be read back: the engine has no merge, or a merge benchmark failed. */
    private RuntimeException counterProblem;

    /** Sets the shared file system the DB directory is on (null: local); returns this. */
    Workloads storage(io.o3lsm.spi.FileSystem fs) {
        this.storage = fs;
        return this;
    }

    public Workloads(EngineAdapter db, Config cfg, Path dir, String mode) {
        EngineAdapter.IoCounters io = null;
        String note = null;
        try {
            io = db.ioCounters();
            if (io == null) {
                note = db.name() + " does not count bytes written";
            }
        } catch (UnsupportedOperationException e) {
            note = db.name() + " does not report bytes written yet (UnsupportedOperationException: " + e.getMessage() + ")";
        }
        this.ioAtOpen = io;
        this.ioNote = note;
        this.db = db;
        this.cfg = cfg;
        this.dir = dir;
        this.mode = mode;
        this.perm = new Permutation(cfg.num(), cfg.seed()); // same order whenever fillrandom runs
        this.nextInsert = new AtomicLong(cfg.num());
        this.lastInserted = new AtomicLong(cfg.num() - 1);
    }

    /** Whether a YCSB workload needs an implicit load first. */
    public boolean needsLoad(String name) {
        return name.startsWith("ycsb") && !loaded;
    }

    /**
     * Runs benchmark {@code name}. A feature the engine lacks ({@link UnsupportedOperationException})
     * gives an {@link Result.Status#NA} result, any other failure a {@link Result.Status#FAILED} one.
     */
    public Result run(String name) {
        Result r = new Result();
        r.engine = db.name();
        r.mode = mode;
        r.workload = name;
        long stallAtStart = stallMicros();
        EngineAdapter.IoCounters ioAtStart = ioCounters();
        MemoryMeter meter = new MemoryMeter();
        meter.start();
        try {
            execute(name, r);
        } catch (UnsupportedOperationException e) {
            r.status = Result.Status.NA;
            r.note = db.name() + " lacks a feature " + name + " needs"
                    + (e.getMessage() == null ? "" : " (UnsupportedOperationException: " + e.getMessage() + ")");
        } catch (RuntimeException | Error e) {
            r.status = Result.Status.FAILED;
            Throwable c = e.getCause() != null && e instanceof IllegalStateException && e.getMessage() != null
                    && e.getMessage().startsWith(name + " failed") ? e.getCause() : e;
            r.note = String.valueOf(c);
        }
        meter.stop(r);
        long stallNow = stallMicros();
        r.stallMillis = stallAtStart < 0 || stallNow < 0 ? -1 : (stallNow - stallAtStart) / 1e3;
        r.rssBytes = rss();
        try {
            r.engineState = db.modeState();
            r.shardState = db.shardState();
        } catch (RuntimeException e) {
            r.engineState = "(state unavailable: " + e + ")";
        }
        r.diskBytes = storage != null ? diskBytes(storage, dir) : diskBytes(dir);
        userBytesSinceOpen += r.userBytesWritten;
        EngineAdapter.IoCounters ioAtEnd = ioCounters();
        if (userBytesSinceOpen == 0) {
            r.writeAmplificationNote = "no writes";
        } else if (ioAtOpen == null) {
            r.writeAmplificationNote = ioNote;
        } else if (ioAtEnd == null) {
            r.writeAmplificationNote = db.name() + " does not report bytes written yet";
        } else {
            r.writeAmplification = (ioAtEnd.total() - ioAtOpen.total()) / (double) userBytesSinceOpen;
        }
        if (ioAtStart != null && ioAtEnd != null) {
            r.storageBytesWritten = ioAtEnd.total() - ioAtStart.total();
            r.storageBytesByKind = new long[] {ioAtEnd.walBytes() - ioAtStart.walBytes(),
                    ioAtEnd.flushBytes() - ioAtStart.flushBytes(), ioAtEnd.compactionBytes() - ioAtStart.compactionBytes()};
        }
        return r;
    }

    /** The engine's bytes written so far, or null if it does not count them. */
    private EngineAdapter.IoCounters ioCounters() {
        try {
            return db.ioCounters();
        } catch (RuntimeException e) { // not counted, or not available now: no figure, the benchmark goes on
            return null;
        }
    }

    private void execute(String name, Result r) {
        long num = cfg.num();
        long reads = cfg.reads();
        switch (name) {
            case "fillseq", "load", "fillrandom", "overwrite" -> {
                runThreads(r, num, false, t -> new PutWorker(name, t));
                if (!name.equals("overwrite")) {
                    loaded = true;
                    deleted = false;
                }
            }
            case "readrandom" -> {
                // db_bench only counts; we also warn, as a fill then readrandom must find every key
                r.expectAllFound = !deleted && cfg.durationSeconds() == 0;
                // o3 in dm mode, one thread: split latencies into gets the memory node answered
                // (the engine's delegated-get counter moved), gets a one-sided read answered (its
                // cached-get counter moved) and the rest
                java.util.function.LongSupplier remote = cfg.threads() == 1 ? db.remoteGetCounter() : null;
                java.util.function.LongSupplier cached = remote != null ? db.cachedGetCounter() : null;
                if (remote != null) {
                    r.opLatency.put(GET_LOCAL, Result.newHistogram());
                    r.opLatency.put(GET_REMOTE, Result.newHistogram());
                    r.opLatency.put(GET_CACHED, Result.newHistogram());
                }
                runThreads(r, reads, false, t -> new GetWorker(t, remote, cached));
                r.opLatency.values().removeIf(h -> h.getTotalCount() == 0);
            }
            case "multireadrandom" -> {
                r.expectAllFound = !deleted && cfg.durationSeconds() == 0;
                int batch = cfg.batchSize();
                r.keysPerOp = batch;
                runThreads(r, Math.max(1, reads / batch), false, MultiGetWorker::new);
                r.note = String.format(Locale.ROOT, "each op is a multiGet of %d keys: %.0f keys/s", batch,
                        r.ops * (double) batch / Math.max(r.seconds, 1e-9));
            }
            case "readwhilewriting" -> runThreads(r, reads, true, t -> new GetWorker(t, null, null));
            case "deleterandom" -> {
                runThreads(r, num, false, DeleteWorker::new);
                loaded = false;
                deleted = true;
            }
            case "readseq" -> runThreads(r, reads, false, t -> new ScanWorker());
            case "seekrandom" -> runThreads(r, reads, false, SeekWorker::new);
            case "ycsba", "ycsbb", "ycsbc", "ycsbd", "ycsbe", "ycsbf" -> {
                for (String op : YCSB_OPS) {
                    r.opLatency.put(op, Result.newHistogram());
                }
                runThreads(r, reads, false, t -> new YcsbWorker(name, t, reads));
                r.opLatency.values().removeIf(h -> h.getTotalCount() == 0);
            }
            case "mergerandom", "mergeseq" -> runMerges(name, r);
            case "readmerged" -> readMerged(r);
            default -> throw new IllegalArgumentException("unknown benchmark " + name);
        }
    }

    // ------------------------------------------------------------------ merge benchmarks

    private KeyFormat counterKeys() {
        if (counterKeys == null) {
            counterKeys = cfg.keys().counters(cfg.mergeKeys());
        }
        return counterKeys;
    }

    /** mergerandom / mergeseq: {@code num} merges of +1; afterwards the counters' expected values. */
    private void runMerges(String name, Result r) {
        int k = Math.toIntExact(cfg.mergeKeys());
        long[] before = counterExpected;
        if (before == null) {
            // the first merge benchmark (or the first after a failed one): what the counters hold now,
            // untimed (absent on a fresh DB: 0)
            before = readCounters(name);
            counterBaseline = Arrays.stream(before).sum();
            mergesDone = 0;
        }
        counterExpected = null; // until this one completes
        long[][] perThread = new long[cfg.threads()][];
        try {
            runThreads(r, cfg.num(), false, t -> new MergeWorker(name, t, perThread[t] = new long[k]));
        } catch (UnsupportedOperationException e) {
            counterProblem = e;
            throw e;
        } catch (RuntimeException e) {
            counterProblem = new IllegalStateException(name + " failed, so the counters are unknown: " + e.getMessage(), e);
            throw e;
        }
        long[] expected = before.clone();
        long counted = 0;
        for (long[] counts : perThread) {
            if (counts != null) {
                for (int i = 0; i < k; i++) {
                    expected[i] += counts[i];
                    counted += counts[i];
                }
            }
        }
        if (counted != r.ops) {
            counterProblem = new IllegalStateException(name + " counted " + counted + " merges but did " + r.ops);
            throw counterProblem;
        }
        mergesDone += r.ops;
        counterExpected = expected;
        counterProblem = null;
        r.note = String.format(Locale.ROOT, "%d merges of +1 into %d counters (%.1f per counter)", r.ops, k,
                r.ops / (double) k);
    }

    /** readmerged: timed gets of random counters, each checked untimed, then every counter read and checked. */
    private void readMerged(Result r) {
        if (counterExpected == null) {
            if (counterProblem instanceof UnsupportedOperationException u) {
                throw u;
            }
            throw counterProblem != null ? counterProblem
                    : new IllegalStateException("readmerged reads the counters mergerandom or mergeseq wrote: run one first");
        }
        long[] expected = counterExpected;
        LongAdder wrong = new LongAdder();
        java.util.concurrent.atomic.AtomicReference<String> firstWrong = new java.util.concurrent.atomic.AtomicReference<>();
        runThreads(r, cfg.reads(), false, t -> new ReadCounterWorker(t, expected, wrong, firstWrong));
        long[] actual = readCounters("readmerged");
        String problem = verifyCounters(expected, actual, counterBaseline, mergesDone);
        if (problem != null || wrong.sum() > 0) {
            throw new IllegalStateException("VERIFICATION FAILED: "
                    + (wrong.sum() > 0 ? wrong.sum() + " of " + r.ops + " timed reads returned a wrong counter (first: "
                            + firstWrong.get() + ")" + (problem != null ? "; " : "") : "")
                    + (problem != null ? problem : ""));
        }
        r.note = String.format(Locale.ROOT, "verified: every one of the %d counters holds its merges, sum %d = %d merges"
                + "%s; %d of %d reads found a counter", expected.length, Arrays.stream(actual).sum(), mergesDone,
                counterBaseline != 0 ? " + " + counterBaseline + " before" : "", r.found, r.ops);
    }

    /**
     * Null when {@code actual} is {@code expected}; else what differs: the sum against
     * {@code baseline + merges} and the first keys that differ.
     */
    static String verifyCounters(long[] expected, long[] actual, long baseline, long merges) {
        long sum = 0;
        long wantSum = baseline + merges;
        int differ = 0;
        StringBuilder examples = new StringBuilder();
        for (int i = 0; i < expected.length; i++) {
            sum += actual[i];
            if (actual[i] != expected[i]) {
                if (differ < 5) {
                    examples.append(differ == 0 ? "" : ", ").append("counter ").append(i).append(" holds ")
                            .append(actual[i]).append(" instead of ").append(expected[i]);
                }
                differ++;
            }
        }
        if (differ == 0 && sum == wantSum) {
            return null;
        }
        return "the " + expected.length + " counters sum to " + sum + ", expected " + wantSum + " (" + merges
                + " merges of +1" + (baseline != 0 ? " + " + baseline + " before them" : "") + "); " + differ
                + " counters differ" + (differ > 0 ? ": " + examples + (differ > 5 ? ", ..." : "") : "");
    }

    /** Every counter's value now (absent = 0), read untimed; fails on a value that is not 8 bytes. */
    private long[] readCounters(String benchmark) {
        KeyFormat keys = counterKeys();
        int k = Math.toIntExact(cfg.mergeKeys());
        byte[] key = new byte[cfg.keySize()];
        byte[] value = new byte[16];
        long[] out = new long[k];
        for (int i = 0; i < k; i++) {
            keys.encode(i, key);
            int n = db.get(key, value);
            if (n >= 0 && n != 8) {
                throw new IllegalStateException(benchmark + ": counter " + i + " holds a " + n
                        + "-byte value, not an 8-byte int64");
            }
            out[i] = n < 0 ? 0 : decodeInt64(value);
        }
        return out;
    }

    /** Little-endian int64 in {@code b[0, 8)} (the layout of o3's int64Add and RocksDB's uint64add). */
    static long decodeInt64(byte[] b) {
        return (b[0] & 0xFFL) | (b[1] & 0xFFL) << 8 | (b[2] & 0xFFL) << 16 | (b[3] & 0xFFL) << 24
                | (b[4] & 0xFFL) << 32 | (b[5] & 0xFFL) << 40 | (b[6] & 0xFFL) << 48 | (b[7] & 0xFFL) << 56;
    }

    // ------------------------------------------------------------------ the thread harness

    /** One thread's share of a benchmark: prepare untimed, execute timed. */
    private abstract static class Worker {
        final Histogram latency = Result.newHistogram();
        long found;
        long bytes;
        long userBytes;

        /** Sets up operation {@code i} (key encoding, value copy, choices); not timed. */
        abstract void prepare(long i);

        /** Performs it against the engine; timed. Returns the operation type for per-type latency. */
        abstract int execute();

        /** Releases what the worker holds (iterators); called on its own thread. */
        void finish() {
        }
    }

    private interface WorkerFactory {
        Worker create(int thread);
    }

    private void runThreads(Result r, long total, boolean withWriter, WorkerFactory factory) {
        int threads = cfg.threads();
        boolean byTime = cfg.durationSeconds() > 0;
        long durationNanos = (long) (cfg.durationSeconds() * 1e9);
        Worker[] workers = new Worker[threads];
        long[] counts = new long[threads];
        Histogram[][] perType = new Histogram[threads][];
        String[] typeNames = r.opLatency.keySet().toArray(new String[0]);
        Throwable[] failure = new Throwable[1];
        LongAdder progress = new LongAdder();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicBoolean stop = new AtomicBoolean();
        long[] startNanos = new long[1];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int tid = t;
            final long lo = byTime ? 0 : total * t / threads;
            final long hi = byTime ? Long.MAX_VALUE : total * (t + 1) / threads;
            Thread th = new Thread(() -> {
                Worker w = null;
                long i = lo;
                try {
                    w = factory.create(tid);
                    workers[tid] = w;
                    Histogram h = w.latency;
                    Histogram[] types = typeNames.length == 0 ? null : new Histogram[typeNames.length];
                    if (types != null) {
                        for (int k = 0; k < types.length; k++) {
                            types[k] = Result.newHistogram();
                        }
                        perType[tid] = types;
                    }
                    ready.countDown();
                    go.await();
                    long deadline = startNanos[0] + durationNanos;
                    for (; i < hi; i++) {
                        if (((i - lo) & 255) == 255) {
                            progress.add(256);
                            if (stop.get() || (byTime && System.nanoTime() >= deadline)) {
                                break;
                            }
                        }
                        w.prepare(i);
                        long t0 = System.nanoTime();
                        int type = w.execute();
                        long t1 = System.nanoTime();
                        h.recordValue(t1 - t0);
                        if (types != null) {
                            types[type].recordValue(t1 - t0);
                        }
                        if (t1 - t0 >= SlowOperationEvent.THRESHOLD_NANOS) {
                            SlowOperationEvent.record(db.name(), r.workload, t1 - t0);
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                    stop.set(true);
                    ready.countDown();
                } finally {
                    counts[tid] = i - lo;
                    progress.add((i - lo) & 255);
                    try {
                        if (w != null) {
                            w.finish();
                        }
                    } catch (RuntimeException e) {
                        // the benchmark's own failure (if any) is the interesting one
                    }
                    done.countDown();
                }
            }, "bench-" + r.workload + "-" + t);
            ts.add(th);
            th.setDaemon(true);
            th.start();
        }
        Thread writer = null;
        AtomicBoolean writerStop = new AtomicBoolean();
        long[] writerOps = new long[1];
        if (withWriter) {
            writer = new Thread(() -> {
                try {
                    PutWorker pw = new PutWorker("overwrite", threads);
                    go.await();
                    long i = 0;
                    while (!writerStop.get()) {
                        pw.prepare(i++);
                        pw.execute();
                    }
                    writerOps[0] = i;
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                    stop.set(true);
                }
            }, "bench-writer");
            writer.setDaemon(true);
            writer.start();
        }
        Monitor monitor = new Monitor(r, byTime ? durationNanos : total, byTime, progress);
        long start;
        long end;
        try {
            ready.await();
            start = System.nanoTime();
            startNanos[0] = start;
            monitor.start(start);
            go.countDown();
            done.await();
            end = System.nanoTime();
            writerStop.set(true);
            for (Thread th : ts) {
                th.join();
            }
            if (writer != null) {
                writer.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            monitor.close();
        }
        if (failure[0] != null) {
            Throwable f = failure[0];
            if (f instanceof UnsupportedOperationException u) {
                throw u;
            }
            throw new IllegalStateException(r.workload + " failed: " + f, f);
        }
        r.seconds = (end - start) / 1e9;
        for (int t = 0; t < threads; t++) {
            Worker w = workers[t];
            r.ops += counts[t];
            r.latency.add(w.latency);
            r.found += w.found;
            r.bytes += w.bytes;
            r.userBytesWritten += w.userBytes;
            if (perType[t] != null) {
                for (int k = 0; k < typeNames.length; k++) {
                    r.opLatency.get(typeNames[k]).add(perType[t][k]);
                }
            }
        }
        if (withWriter) {
            r.note = String.format(Locale.ROOT, "1 writer thread did %d overwrites (%.0f/s) alongside", writerOps[0],
                    writerOps[0] / Math.max(r.seconds, 1e-9));
        }
    }

    /**
     * Samples the operation count every 200 ms: the throughput-over-time series of the charts and,
     * when enabled, the progress bar on stderr (throughput so far, ETA).
     */
    private final class Monitor {
        private final Result r;
        private final long max;
        private final boolean byTime;
        private final LongAdder progress;
        private Thread thread;
        private volatile boolean closed;
        private long start;

        Monitor(Result r, long max, boolean byTime, LongAdder progress) {
            this.r = r;
            this.max = max;
            this.byTime = byTime;
            this.progress = progress;
        }

        void start(long startNanos) {
            this.start = startNanos;
            boolean bar = cfg.progress() && (byTime ? cfg.durationSeconds() >= 3 : max >= 100_000);
            thread = new Thread(() -> loop(bar), "bench-monitor");
            thread.setDaemon(true);
            thread.start();
        }

        private void loop(boolean showBar) {
            ProgressBar bar = null;
            if (showBar) {
                bar = new ProgressBarBuilder().setTaskName(r.engine + " " + r.workload)
                        .setInitialMax(byTime ? max / 1_000_000 : max)
                        .setUnit(byTime ? " ms" : " ops", 1)
                        .setUpdateIntervalMillis(500)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .build();
            }
            long lastOps = 0;
            long lastT = start;
            try {
                while (!closed) {
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        break;
                    }
                    long now = System.nanoTime();
                    long ops = progress.sum();
                    sample(now, ops, lastT, lastOps);
                    lastOps = ops;
                    lastT = now;
                    if (bar != null) {
                        bar.stepTo(byTime ? Math.min(max, now - start) / 1_000_000 : Math.min(ops, max));
                        bar.setExtraMessage(String.format(Locale.ROOT, "%,.0f ops/s", ops / ((now - start) / 1e9)));
                    }
                }
                long now = System.nanoTime();
                long ops = progress.sum();
                if (now - lastT > 20_000_000L || r.throughputSeries.isEmpty()) {
                    sample(now, ops, lastT, lastOps);
                }
            } finally {
                if (bar != null) {
                    bar.stepTo(bar.getMax());
                    bar.close();
                }
            }
        }

        private void sample(long now, long ops, long lastT, long lastOps) {
            double secs = (now - lastT) / 1e9;
            synchronized (r.throughputSeries) {
                r.throughputSeries.add(new double[] {(now - start) / 1e9, secs <= 0 ? 0 : (ops - lastOps) / secs});
            }
        }

        void close() {
            closed = true;
            if (thread != null) {
                thread.interrupt();
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    // ------------------------------------------------------------------ workers

    private SplittableRandom randomFor(String name, int thread) {
        return new SplittableRandom(Permutation.mix(cfg.seed() ^ name.hashCode()) + thread * 0x9E3779B97F4A7C15L);
    }

    /** Key and value buffers plus the value source shared by the workers. */
    private abstract class KvWorker extends Worker {
        final byte[] key = new byte[cfg.keySize()];
        final byte[] value = new byte[cfg.valueSize()];
        final byte[] data = cfg.data();
        int dataPos;

        KvWorker(int thread) {
            dataPos = (int) (((long) data.length / Math.max(1, cfg.threads() + 1)) * thread)
                    % Math.max(1, data.length - value.length);
        }

        void nextValue() {
            if (dataPos + value.length > data.length) {
                dataPos = 0;
            }
            System.arraycopy(data, dataPos, value, 0, value.length);
            dataPos += value.length;
        }
    }

    private final class PutWorker extends KvWorker {
        private final String kind;
        private final SplittableRandom rnd;

        PutWorker(String kind, int thread) {
            super(thread);
            this.kind = kind;
            this.rnd = randomFor(kind, thread);
        }

        @Override
        void prepare(long i) {
            long num = cfg.num();
            long index = switch (kind) {
                case "fillseq" -> i;
                case "fillrandom", "load" -> perm.at(i % num) + (i / num) * num;
                default -> rnd.nextLong(num);
            };
            cfg.keys().encode(index, key);
            nextValue();
        }

        @Override
        int execute() {
            db.put(key, value);
            userBytes += key.length + value.length;
            bytes += key.length + value.length;
            return 0;
        }
    }

    private final class GetWorker extends KvWorker {
        private final SplittableRandom rnd;
        private final java.util.function.LongSupplier remote;
        private final java.util.function.LongSupplier cached;

        /**
         * {@code remote}, {@code cached}: the engine's delegated-get and cached-get counters to classify
         * each get by (types 0 local, 1 delegated, 2 cached), or null.
         */
        GetWorker(int thread, java.util.function.LongSupplier remote, java.util.function.LongSupplier cached) {
            super(thread);
            this.rnd = randomFor("readrandom", thread);
            this.remote = remote;
            this.cached = cached;
        }

        @Override
        void prepare(long i) {
            cfg.keys().encode(rnd.nextLong(cfg.num()), key);
        }

        @Override
        int execute() {
            long before = remote == null ? 0 : remote.getAsLong();
            long cachedBefore = cached == null ? 0 : cached.getAsLong();
            int n = db.get(key, value);
            if (n >= 0) {
                found++;
                bytes += key.length + n;
            }
            if (remote != null && remote.getAsLong() != before) {
                return 1;
            }
            return cached != null && cached.getAsLong() != cachedBefore ? 2 : 0;
        }
    }

    private final class MultiGetWorker extends Worker {
        private final SplittableRandom rnd;
        private final List<byte[]> keys = new ArrayList<>();

        MultiGetWorker(int thread) {
            this.rnd = randomFor("multireadrandom", thread);
        }

        @Override
        void prepare(long i) {
            keys.clear();
            for (int k = 0; k < cfg.batchSize(); k++) {
                byte[] key = new byte[cfg.keySize()];
                cfg.keys().encode(rnd.nextLong(cfg.num()), key);
                keys.add(key);
            }
        }

        @Override
        int execute() {
            List<byte[]> values = db.multiGet(keys);
            for (int k = 0; k < values.size(); k++) {
                byte[] v = values.get(k);
                if (v != null) {
                    found++;
                    bytes += keys.get(k).length + v.length;
                }
            }
            return 0;
        }
    }

    private final class DeleteWorker extends KvWorker {
        private final SplittableRandom rnd;

        DeleteWorker(int thread) {
            super(thread);
            this.rnd = randomFor("deleterandom", thread);
        }

        @Override
        void prepare(long i) {
            cfg.keys().encode(rnd.nextLong(cfg.num()), key);
        }

        @Override
        int execute() {
            db.delete(key);
            userBytes += key.length;
            return 0;
        }
    }

    private final class ScanWorker extends KvWorker {
        private EngineAdapter.Cursor cursor;

        ScanWorker() {
            super(0);
        }

        @Override
        void prepare(long i) {
        }

        @Override
        int execute() {
            if (cursor == null) {
                cursor = db.newCursor();
                cursor.seekToFirst();
            } else {
                cursor.next();
                if (!cursor.isValid()) {
                    cursor.seekToFirst(); // start over, as the share may exceed the key count
                }
            }
            if (cursor.isValid()) {
                found++;
                bytes += cursor.key(key) + cursor.value(value);
            }
            return 0;
        }

        @Override
        void finish() {
            if (cursor != null) {
                cursor.close();
            }
        }
    }

    private final class SeekWorker extends KvWorker {
        private final SplittableRandom rnd;
        private final byte[] target = new byte[cfg.keySize()];
        private EngineAdapter.Cursor cursor;

        SeekWorker(int thread) {
            super(thread);
            this.rnd = randomFor("seekrandom", thread);
        }

        @Override
        void prepare(long i) {
            cfg.keys().encode(rnd.nextLong(cfg.num()), target);
        }

        @Override
        int execute() {
            if (cursor == null) {
                cursor = db.newCursor();
            }
            cursor.seek(target);
            if (cursor.isValid()) {
                int n = cursor.key(key);
                if (n == target.length && Arrays.equals(key, target)) {
                    found++;
                }
                bytes += n + cursor.value(value);
                for (int j = 0; j < cfg.seekNexts() && cursor.isValid(); j++) {
                    cursor.next();
                    if (cursor.isValid()) {
                        bytes += cursor.key(key) + cursor.value(value);
                    }
                }
            }
            return 0;
        }

        @Override
        void finish() {
            if (cursor != null) {
                cursor.close();
            }
        }
    }

    /** mergerandom / mergeseq: one merge of +1 per operation; counts the merges per counter, untimed. */
    private final class MergeWorker extends Worker {
        private final boolean sequential;
        private final SplittableRandom rnd;
        private final long[] counts;
        private final KeyFormat keys = counterKeys();
        private final byte[] key = new byte[cfg.keySize()];

        MergeWorker(String name, int thread, long[] counts) {
            this.sequential = name.equals("mergeseq");
            this.rnd = randomFor(name, thread);
            this.counts = counts;
        }

        @Override
        void prepare(long i) {
            int k = (int) (sequential ? i % counts.length : rnd.nextLong(counts.length));
            keys.encode(k, key);
            counts[k]++; // the harness executes every operation it prepared (or the run fails)
        }

        @Override
        int execute() {
            db.merge(key, PLUS_ONE);
            userBytes += key.length + PLUS_ONE.length;
            bytes += key.length + PLUS_ONE.length;
            return 0;
        }
    }

    /**
     * readmerged: one get of a random counter per operation; the value it returned is checked against
     * the expected count in the next {@link #prepare} (or {@link #finish}), outside the timing.
     */
    private final class ReadCounterWorker extends Worker {
        private final SplittableRandom rnd;
        private final long[] expected;
        private final LongAdder wrong;
        private final java.util.concurrent.atomic.AtomicReference<String> firstWrong;
        private final KeyFormat keys = counterKeys();
        private final byte[] key = new byte[cfg.keySize()];
        private final byte[] value = new byte[16];
        private int current = -1;
        private int length;

        ReadCounterWorker(int thread, long[] expected, LongAdder wrong,
                java.util.concurrent.atomic.AtomicReference<String> firstWrong) {
            this.rnd = randomFor("readmerged", thread);
            this.expected = expected;
            this.wrong = wrong;
            this.firstWrong = firstWrong;
        }

        private void check() {
            if (current < 0) {
                return;
            }
            long want = expected[current];
            boolean ok = length < 0 ? want == 0 : length == 8 && decodeInt64(value) == want;
            if (!ok) {
                wrong.increment();
                firstWrong.compareAndSet(null, "counter " + current + ": " + (length < 0 ? "absent"
                        : length == 8 ? "read " + decodeInt64(value) : "a " + length + "-byte value")
                        + ", expected " + want);
            }
            current = -1;
        }

        @Override
        void prepare(long i) {
            check();
            current = (int) rnd.nextLong(expected.length);
            keys.encode(current, key);
        }

        @Override
        int execute() {
            length = db.get(key, value);
            if (length >= 0) {
                found++;
                bytes += key.length + length;
            }
            return 0;
        }

        @Override
        void finish() {
            check();
        }
    }

    /** YCSB's CoreWorkload transaction phase for one of workloads A..F. */
    private final class YcsbWorker extends KvWorker {
        private final SplittableRandom rnd;
        private final double read;
        private final double update;
        private final double insert;
        private final double scan;
        private final Zipfian.Scrambled zipfian;
        private final Zipfian.Latest latest;
        private int op;
        private int scanLength;
        private long inserting;
        private final byte[] readBuf = new byte[cfg.valueSize()];

        YcsbWorker(String workload, int thread, long opCount) {
            super(thread);
            this.rnd = randomFor(workload, thread);
            double[] p = switch (workload) {
                case "ycsba" -> new double[] {0.5, 0.5, 0, 0};
                case "ycsbb" -> new double[] {0.95, 0.05, 0, 0};
                case "ycsbc" -> new double[] {1, 0, 0, 0};
                case "ycsbd" -> new double[] {0.95, 0, 0.05, 0};
                case "ycsbe" -> new double[] {0, 0, 0.05, 0.95};
                case "ycsbf" -> new double[] {0.5, 0, 0, 0}; // the rest read-modify-write
                default -> throw new IllegalArgumentException(workload);
            };
            read = p[0];
            update = p[1];
            insert = p[2];
            scan = p[3];
            if (workload.equals("ycsbd")) {
                zipfian = null;
                latest = new Zipfian.Latest(lastInserted.get(), rnd);
            } else {
                // YCSB sizes the key chooser for the records plus the expected inserts (x2)
                long expectedNew = (long) (Math.max(opCount, cfg.num()) * insert * 2);
                zipfian = new Zipfian.Scrambled(cfg.num() + expectedNew, rnd);
                latest = null;
            }
        }

        private long nextKeyIndex() {
            long last = lastInserted.get();
            if (latest != null) {
                return latest.next(last);
            }
            long k;
            do {
                k = zipfian.next();
            } while (k > last);
            return k;
        }

        @Override
        void prepare(long i) {
            double d = rnd.nextDouble();
            if (d < read) {
                op = READ;
            } else if (d < read + update) {
                op = UPDATE;
            } else if (d < read + update + insert) {
                op = INSERT;
            } else if (d < read + update + insert + scan) {
                op = SCAN;
            } else {
                op = RMW;
            }
            if (op == INSERT) {
                inserting = nextInsert.getAndIncrement();
                cfg.keys().encode(inserting, key);
            } else {
                cfg.keys().encode(nextKeyIndex(), key);
            }
            if (op == UPDATE || op == INSERT || op == RMW) {
                nextValue();
            }
            if (op == SCAN) {
                scanLength = 1 + rnd.nextInt(cfg.maxScanLength());
            }
        }

        @Override
        int execute() {
            switch (op) {
                case READ -> {
                    int n = db.get(key, readBuf);
                    if (n >= 0) {
                        found++;
                        bytes += key.length + n;
                    }
                }
                case UPDATE -> {
                    db.put(key, value);
                    userBytes += key.length + value.length;
                    bytes += key.length + value.length;
                }
                case INSERT -> {
                    db.put(key, value);
                    userBytes += key.length + value.length;
                    bytes += key.length + value.length;
                    lastInserted.accumulateAndGet(inserting, Math::max);
                }
                case SCAN -> {
                    try (EngineAdapter.Cursor c = db.newCursor()) {
                        c.seek(key);
                        int n = 0;
                        while (n < scanLength && c.isValid()) {
                            bytes += c.key(readBuf) + c.value(readBuf);
                            n++;
                            c.next();
                        }
                        if (n > 0) {
                            found++;
                        }
                    }
                }
                default -> {
                    int n = db.get(key, readBuf);
                    if (n >= 0) {
                        found++;
                    }
                    db.put(key, value);
                    userBytes += key.length + value.length;
                    bytes += 2L * (key.length + value.length);
                }
            }
            return op;
        }

    }

    // ------------------------------------------------------------------ measurements

    /** The engine's stall counter, or -1 when it has none (or it failed: the benchmark's own error matters more). */
    private long stallMicros() {
        try {
            return db.stallMicros();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Resident set size of this process from /proc (Linux), or -1. */
    static long rss() {
        return Pinning.rssBytes(ProcessHandle.current().pid());
    }

    /** Bytes of the files in {@code dir} on a shared file system (files deleted meanwhile are skipped). */
    static long diskBytes(io.o3lsm.spi.FileSystem fs, Path dir) {
        long sum = 0;
        try {
            if (!fs.exists(dir)) {
                return -1;
            }
            for (String name : fs.list(dir)) {
                try {
                    sum += fs.size(dir.resolve(name));
                } catch (java.io.FileNotFoundException | NoSuchFileException e) {
                    // compacted away while we looked
                }
            }
        } catch (IOException | RuntimeException e) {
            return sum;
        }
        return sum;
    }

    /** Bytes of all files under {@code dir} (files deleted meanwhile are skipped). */
    static long diskBytes(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return -1;
        }
        long[] sum = new long[1];
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(p -> {
                try {
                    if (Files.isRegularFile(p)) {
                        sum[0] += Files.size(p);
                    }
                } catch (NoSuchFileException e) {
                    // compacted away while we looked
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return sum[0];
        }
        return sum[0];
    }
}
