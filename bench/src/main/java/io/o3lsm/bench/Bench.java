package io.o3lsm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A db_bench-style runner: {@code bin/o3 bench}. Opens one engine in a directory, runs the listed
 * benchmarks in order against it, and prints one line per benchmark with throughput and latency
 * percentiles.
 *
 * <ul>
 *   <li>{@code fillseq}: {@code num} puts in key order.</li>
 *   <li>{@code fillrandom}: {@code num} puts, every key of {@code [0, num)} exactly once, in a
 *   seeded random order ({@link Permutation}), so a later {@code readrandom} finds every key.</li>
 *   <li>{@code overwrite}: {@code num} puts of random keys of {@code [0, num)} (with repeats).</li>
 *   <li>{@code readrandom}: {@code reads} gets of random keys of {@code [0, num)}; prints how many
 *   were found and warns (exit status 1) when not all were.</li>
 * </ul>
 *
 * <p>What is measured: the wall time from the start signal until every thread finished its share,
 * and, per operation, the {@code System.nanoTime()} around the engine call only (key encoding and
 * value copying happen outside it) recorded in an HdrHistogram. No warm-up: the first benchmark
 * includes JIT compilation, as db_bench's includes a cold cache. Values are 50% compressible, like
 * db_bench's default {@code --compression_ratio=0.5}. MB/s counts key plus value bytes (found
 * values only for reads).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "db_bench-style benchmark runner (fillseq, fillrandom, overwrite, readrandom).")
public final class Bench implements Callable<Integer> {
    /** Engines by {@code --engine} name. Add rocksdb/leveldb adapters here. */
    static final Map<String, Supplier<EngineAdapter>> ENGINES = new LinkedHashMap<>();

    static {
        ENGINES.put("o3", O3Adapter::new);
    }

    static final List<String> SUPPORTED = List.of("fillseq", "fillrandom", "overwrite", "readrandom");

    @Option(names = "--benchmarks", split = ",", defaultValue = "fillrandom,readrandom",
            description = "comma-separated, run in order: fillseq, fillrandom, overwrite, readrandom (default ${DEFAULT-VALUE})")
    List<String> benchmarks;

    @Option(names = "--num", defaultValue = "1000000", description = "keys to write (default ${DEFAULT-VALUE})")
    long num;

    @Option(names = "--reads", defaultValue = "-1", description = "gets for readrandom (default: --num)")
    long reads;

    @Option(names = "--key-size", defaultValue = "16", description = "key bytes (default ${DEFAULT-VALUE})")
    int keySize;

    @Option(names = "--value-size", defaultValue = "100", description = "value bytes (default ${DEFAULT-VALUE})")
    int valueSize;

    @Option(names = "--key-format", defaultValue = "binary",
            description = "binary (spread over all memtable shards) or decimal (db_bench's \"%%016d\"; all in one shard) (default ${DEFAULT-VALUE})")
    String keyFormat;

    @Option(names = "--threads", defaultValue = "1", description = "threads issuing operations (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--sync", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "fsync the WAL on every write (default ${DEFAULT-VALUE})")
    boolean sync;

    @Option(names = "--disable-wal", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "skip the WAL (default ${DEFAULT-VALUE})")
    boolean disableWal;

    @Option(names = "--dir", description = "DB directory, kept afterwards (default: a fresh temp dir, deleted at the end)")
    Path dir;

    @Option(names = "--engine", defaultValue = "o3", description = "engine: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})",
            completionCandidates = EngineNames.class)
    String engine;

    @Option(names = "--seed", description = "seed of the key orders (default: random; printed)")
    Long seed;

    private PrintStream out = System.out;

    static final class EngineNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ENGINES.keySet().iterator();
        }
    }

    public static void main(String[] args) {
        System.exit(run(System.out, args));
    }

    /** Runs with {@code args}, printing to {@code out}; returns the exit status. */
    public static int run(PrintStream out, String... args) {
        Bench b = new Bench();
        b.out = out;
        CommandLine cl = new CommandLine(b);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        List<String> names = benchmarks.stream().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        for (String n : names) {
            if (!SUPPORTED.contains(n)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "unknown or not yet supported benchmark '" + n
                        + "' (supported: " + String.join(", ", SUPPORTED) + "; readseq needs iterators)");
            }
        }
        if (num < 1 || threads < 1 || valueSize < 0 || keySize < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "need --num >= 1, --threads >= 1, --key-size >= 1, --value-size >= 0");
        }
        if (reads < 0) {
            reads = num;
        }
        Supplier<EngineAdapter> factory = ENGINES.get(engine);
        if (factory == null) {
            throw new CommandLine.ParameterException(new CommandLine(this), "unknown engine '" + engine + "' (known: " + ENGINES.keySet() + ")");
        }
        KeyFormat keys;
        try {
            keys = new KeyFormat(KeyFormat.Kind.valueOf(keyFormat.toUpperCase(Locale.ROOT)), keySize, num);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
        long s = seed != null ? seed : System.nanoTime();

        Path dbDir = dir;
        Path tempRoot = null;
        try {
            if (dbDir == null) {
                tempRoot = Files.createTempDirectory("o3-bench-");
                dbDir = tempRoot.resolve("db");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        int status = 0;
        try (EngineAdapter db = factory.get()) {
            db.open(dbDir, new EngineAdapter.Settings(sync, disableWal, threads));
            printHeader(db, keys, names, s, dbDir, tempRoot != null);
            byte[] data = randomData(s, 2 * valueSize);
            for (String name : names) {
                Stats st = runOne(name, db, keys, data, s);
                out.println(st.line(name));
                if (name.equals("readrandom") && st.found != st.ops) {
                    out.println("WARNING: readrandom found " + st.found + " of " + st.ops
                            + " keys; every read key was in [0, num) and should exist after a fill");
                    status = 1;
                }
            }
        } finally {
            if (tempRoot != null) {
                deleteTree(tempRoot);
            }
        }
        out.flush();
        return status;
    }

    private void printHeader(EngineAdapter db, KeyFormat keys, List<String> names, long s, Path dbDir, boolean temp) {
        Runtime rt = Runtime.getRuntime();
        String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                .collect(Collectors.joining(", "));
        out.println("o3lsm bench (db_bench style)");
        out.println("Date:       " + ZonedDateTime.now());
        out.println("CPU:        " + rt.availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        out.println("JVM:        " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")
                + " (" + System.getProperty("java.vm.vendor") + "), max heap " + (rt.maxMemory() >> 20) + " MiB, GC " + gcs);
        out.println("JVM args:   " + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        out.println("Engine:     " + db.name() + " " + db.describe());
        out.println("Keys:       " + keySize + " bytes each, " + keys);
        out.println("Values:     " + valueSize + " bytes each (50% compressible)");
        out.println("Entries:    " + num);
        out.println("Reads:      " + reads);
        out.println("RawSize:    " + String.format(Locale.ROOT, "%.1f MB (estimated)", (keySize + valueSize) * (double) num / 1048576.0));
        out.println("Threads:    " + threads);
        out.println("WAL:        " + (disableWal ? "off" : "on") + ", sync=" + sync);
        out.println("Dir:        " + dbDir + (temp ? " (temporary)" : ""));
        out.println("Seed:       " + s + " (rerun with --seed " + s + ")");
        out.println("Benchmarks: " + String.join(",", names));
        out.println("------------------------------------------------");
    }

    /** Result of one benchmark. */
    static final class Stats {
        long ops;
        long found;
        long bytes;
        double seconds;
        Histogram latency;

        String line(String name) {
            double secs = Math.max(seconds, 1e-9);
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%-12s : %10.3f micros/op %9d ops/sec; %7.1f MB/s  ops=%d secs=%.3f",
                    name, secs * 1e6 / Math.max(ops, 1), (long) (ops / secs), bytes / 1048576.0 / secs, ops, seconds));
            sb.append(String.format(Locale.ROOT, "  latency us: P50 %.2f P99 %.2f P99.9 %.2f max %.2f",
                    latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
                    latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3));
            if (name.equals("readrandom")) {
                sb.append(" (").append(found).append(" of ").append(ops).append(" found)");
            }
            return sb.toString();
        }
    }

    private Stats runOne(String name, EngineAdapter db, KeyFormat keys, byte[] data, long s) {
        boolean isRead = name.equals("readrandom");
        long total = isRead ? reads : num;
        long benchSeed = Permutation.mix(s ^ name.hashCode());
        Permutation perm = new Permutation(num, s); // same order whenever fillrandom runs
        Histogram[] hist = new Histogram[threads];
        long[] found = new long[threads];
        Throwable[] failure = new Throwable[1];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int tid = t;
            final long lo = total * t / threads;
            final long hi = total * (t + 1) / threads;
            hist[t] = new Histogram(3_600_000_000_000L, 3);
            Thread th = new Thread(() -> {
                try {
                    byte[] key = new byte[keySize];
                    byte[] value = new byte[valueSize];
                    SplittableRandom rnd = new SplittableRandom(benchSeed + tid * 0x9E3779B97F4A7C15L);
                    Histogram h = hist[tid];
                    int dataPos = (int) ((data.length / threads) * (long) tid) % Math.max(1, data.length - valueSize);
                    long f = 0;
                    ready.countDown();
                    go.await();
                    for (long i = lo; i < hi; i++) {
                        long index;
                        switch (name) {
                            case "fillseq" -> index = i;
                            case "fillrandom" -> index = perm.at(i);
                            default -> index = rnd.nextLong(num);
                        }
                        keys.encode(index, key);
                        if (isRead) {
                            long t0 = System.nanoTime();
                            int len = db.get(key, value);
                            long t1 = System.nanoTime();
                            h.recordValue(t1 - t0);
                            if (len >= 0) {
                                f++;
                            }
                        } else {
                            if (dataPos + valueSize > data.length) {
                                dataPos = 0;
                            }
                            System.arraycopy(data, dataPos, value, 0, valueSize);
                            dataPos += valueSize;
                            long t0 = System.nanoTime();
                            db.put(key, value);
                            long t1 = System.nanoTime();
                            h.recordValue(t1 - t0);
                        }
                    }
                    found[tid] = f;
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                } finally {
                    done.countDown();
                }
            }, "bench-" + name + "-" + t);
            ts.add(th);
            th.start();
        }
        long start;
        long end;
        try {
            ready.await();
            start = System.nanoTime();
            go.countDown();
            done.await();
            end = System.nanoTime();
            for (Thread th : ts) {
                th.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (failure[0] != null) {
            throw new IllegalStateException(name + " failed: " + failure[0], failure[0]);
        }
        Stats st = new Stats();
        st.ops = total;
        st.seconds = (end - start) / 1e9;
        st.latency = new Histogram(3_600_000_000_000L, 3);
        for (int t = 0; t < threads; t++) {
            st.latency.add(hist[t]);
            st.found += found[t];
        }
        st.bytes = isRead ? st.found * (long) (keySize + valueSize) : total * (long) (keySize + valueSize);
        return st;
    }

    /**
     * At least 1 MiB (and {@code minLength}) of value bytes, half random printable characters and
     * half repeats, like db_bench's RandomGenerator.
     */
    static byte[] randomData(long seed, int minLength) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] d = new byte[Math.max(1 << 20, minLength)];
        int piece = 100;
        for (int pos = 0; pos < d.length; pos += piece) {
            int n = Math.min(piece, d.length - pos);
            int half = (n + 1) / 2;
            for (int i = 0; i < half; i++) {
                d[pos + i] = (byte) (' ' + rnd.nextInt(95));
            }
            System.arraycopy(d, pos, d, pos + half, n - half);
        }
        return d;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("bench: could not delete " + root + ": " + e);
        }
    }
}
