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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A db_bench-style runner: {@code bin/o3 bench}. Opens each engine ({@code --engine}, or every one
 * of {@code --compare}) in its own directory, runs the listed benchmarks ({@link Workloads}) in
 * order against it on the same generated data (same seed: same keys, orders and values), prints a
 * db_bench line per benchmark, then a summary table and, when comparing, a side-by-side table with
 * ratios against the first engine. With {@code --out DIR} it also writes {@code results.json},
 * {@code summary.md} and PNG charts ({@link Report}).
 *
 * <p>Engines run one after another in this JVM; between engines the previous one is closed, its
 * temporary directory deleted and a GC requested, so they do not share memory or disk. Settings
 * that make the engines comparable ({@code --write-buffer-size}, {@code --bloom-bits},
 * {@code --cache-size}, {@code --compression}, WAL and sync) are passed to every adapter, which
 * prints in its "Engine:" line what it did with them. Values are 50% compressible, like db_bench's
 * default {@code --compression_ratio=0.5}. MB/s counts key plus value bytes (found values only for
 * reads).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
        description = {"db_bench-style benchmark runner: o3 alone or side by side with RocksDB (RocksJava) and "
                + "LevelDB-Java.", "No arguments: fillrandom then readrandom of 1M keys on o3."})
public final class Bench implements Callable<Integer> {
    /** Engines by {@code --engine} name. */
    static final Map<String, Supplier<EngineAdapter>> ENGINES = new LinkedHashMap<>();
    /** --mode dm defaults: 16 MiB local, 1 GiB on the memory node (issue 4's configuration). */
    static final long DM_DEFAULT_LOCAL = 16L << 20;
    static final long DM_DEFAULT_DM = 1L << 30;

    static {
        ENGINES.put("o3", O3Adapter::new);
        ENGINES.put("rocksdb", RocksDbAdapter::new);
        ENGINES.put("leveldb", LevelDbAdapter::new);
    }

    @Option(names = "--benchmarks", split = ",", defaultValue = "fillrandom,readrandom",
            description = "comma-separated, run in order (default ${DEFAULT-VALUE}): fillseq, fillrandom, overwrite, "
                    + "readrandom, readseq, seekrandom, multireadrandom, readwhilewriting, deleterandom, ycsba, ycsbb, ycsbc, ycsbd, "
                    + "ycsbe, ycsbf, mergerandom, mergeseq, readmerged (counters: --merge-keys; readmerged verifies them)")
    List<String> benchmarks;

    @Option(names = "--engine", defaultValue = "o3", description = "engine: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})",
            completionCandidates = EngineNames.class)
    String engine;

    @Option(names = "--compare", split = ",",
            description = "run these engines one after another on the same data and print ratios against the first, "
                    + "e.g. o3,rocksdb,leveldb (overrides --engine)")
    List<String> compare;

    @Option(names = "--mode", defaultValue = "local", description = "local (embedded), dm (o3's write buffer extended "
            + "into a memory node's RAM; other engines then run local), dm-flush, caas or o3 (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--compare-modes", split = ",", description = "run o3 in these modes one after another, each with "
            + "its own daemons, on the same keys and values (one seed), and print ratios against the first, e.g. "
            + "caas,local,dm,dm-flush,o3; with --out, one results.json, summary and charts for all")
    List<String> compareModes;

    /** The results and settings of the last {@link #runAll} (read by {@link #compareModes()}). */
    private List<Result> lastResults = List.of();
    private EngineAdapter.Settings lastSettings;

    @Option(names = "--local-budget", description = "local memory for the write buffer (the write buffer size), e.g. 16m "
            + "(default: --write-buffer-size in --mode local, 16m in --mode dm)")
    String localBudget;

    @Option(names = "--dm-budget", description = "disaggregated memory for the write buffer in --mode dm (default 1g)")
    String dmBudget;

    @Option(names = "--memnode", description = "--mode dm: HOST:PORT of a running memory node (bin/o3 memnode); "
            + "default: start one as a child process on 127.0.0.1 for this run")
    String memnode;

    @Option(names = "--cluster", description = "run against a cluster started by bin/o3 cluster up --dir DIR: its memory "
            + "node, flush workers, compactors and storage (the DB goes in a fresh directory under DIR/storage); "
            + "any mode but local")
    Path cluster;

    /** With {@link #cluster}: its shared storage root, where the DB directory is made. */
    private Path clusterStorage;

    @Option(names = "--secret-file", description = "--mode dm: the cluster secret file (required with --memnode; "
            + "default for a node the runner starts: a fresh random secret)")
    Path secretFile;

    @Option(names = "--memnode-threads", defaultValue = "1",
            description = "--mode dm: --threads of the memory node the runner starts (default ${DEFAULT-VALUE})")
    int memnodeThreads;

    @Option(names = "--flush-workers", description = "--mode dm-flush: flush workers the runner starts as child JVMs "
            + "(default 2; 0 with --memnode: use the workers already registered with that node)")
    Integer flushWorkers;

    @Option(names = "--flush-placement", defaultValue = "load",
            description = "--mode dm-flush: load (the coordinator offloads only to a worker less loaded than this process) "
                    + "or always (any worker with a free slot) (default ${DEFAULT-VALUE})")
    String flushPlacement;

    @Option(names = "--compactors", description = "--mode caas: compactors the runner starts as child JVMs "
            + "(default 1; 0 with --memnode: use the compactors already registered with that node)")
    Integer compactors;

    @Option(names = "--replicas", defaultValue = "0", description = "o3: backups (bin/o3 replica) the runner starts as "
            + "child JVMs (on the daemon CPU with --pin), following this run's DB as their primary; their CPU-seconds "
            + "and disk writes are reported per benchmark (default ${DEFAULT-VALUE})")
    int replicas;

    @Option(names = "--replication", defaultValue = "ship", description = "with --replicas: ship (the primary ships "
            + "the tables it builds, backups never flush or compact: Talos) or rebuild (the baseline: only the log "
            + "travels, backups flush and compact for themselves) (default ${DEFAULT-VALUE})")
    String replication;

    @Option(names = "--replication-acks", defaultValue = "0", description = "with --replicas: backups every write "
            + "waits for (WriteOptions.replicationAcks; default 0: acknowledged locally, backups follow)")
    int replicationAcks;

    @Option(names = "--compactor-slots", defaultValue = "2",
            description = "--mode caas: --slots of each compactor the runner starts (default ${DEFAULT-VALUE})")
    int compactorSlots;

    @Option(names = "--storage", description = "o3 in --mode local or caas: the shared file system the DB lives on, as a URI "
            + "(hdfs://127.0.0.1:8020/o3-bench; see bin/o3 hdfs up). The DB is made in a fresh directory under it, "
            + "deleted after the run; caas compactors are started with it as their storage root (default: a local directory)")
    String storage;

    /** {@link #storage} parsed; null for a local directory. */
    private java.net.URI storageUri;

    @Option(names = "--memnode-spin-micros", defaultValue = "0", description = "the memory node this run starts: "
            + "how long its progress thread polls after work before it sleeps (o3lsm.dm.spinMicros; with --pin it "
            + "has a core of its own) (default ${DEFAULT-VALUE})")
    long memnodeSpinMicros;

    @Option(names = "--dm-read-cache", description = "o3 in dm modes: Options.dmReadCacheBytes, the heap for entry "
            + "locations of offloaded shards (one-sided gets), e.g. 64m; 0 = off (default: o3's, 64m)")
    String dmReadCache;

    @Option(names = "--adaptive-shards", defaultValue = "true", arity = "1", description = "o3: "
            + "Options.adaptiveShardBoundaries, move the memtable shard boundaries to the keys written (default ${DEFAULT-VALUE})")
    boolean adaptiveShards;

    @Option(names = "--statistics", defaultValue = "true", arity = "1", description = "o3: Options.statistics, "
            + "the per-operation tickers and latency histograms (default ${DEFAULT-VALUE}; false to measure their cost)")
    boolean statistics;

    @Option(names = "--dm-read-flush-trigger", defaultValue = "-1", description = "o3 in dm modes: "
            + "Options.dmReadFlushTrigger, remote reads of a range after which it is flushed; 0 = off (default: o3's, 1024)")
    int dmReadFlushTrigger;

    @Option(names = "--manual-wal-flush", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "o3's manualWalFlush: unsynced writes stay in the WAL's buffer until it fills (on HDFS: no hflush "
                    + "per write; a crash loses the unflushed tail) (default ${DEFAULT-VALUE})")
    boolean manualWalFlush;

    @Option(names = "--flush-min-bytes", description = "--mode dm-flush: flushOffloadMinBytes, e.g. 4m (default: o3's, 16m)")
    String flushMinBytes;

    @Option(names = "--shard-arena-size", description = "o3's shardArenaSize, e.g. 1m (default: o3's: the local budget / 16, "
            + "at most 64m)")
    String shardArenaSize;

    @Option(names = "--pin", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "emulate nodes by CPU placement: this process on CPU 0, every daemon it starts on CPU 1 "
                    + "(taskset; see docs/benchmarks-o3.md) (default ${DEFAULT-VALUE})")
    boolean pin;

    @Option(names = "--num", defaultValue = "1000000", description = "keys to write (default ${DEFAULT-VALUE})")
    long num;

    @Option(names = "--reads", defaultValue = "-1",
            description = "operations of readrandom, readseq, seekrandom, readwhilewriting, readmerged and YCSB (default: --num)")
    long reads;

    @Option(names = "--merge-keys", defaultValue = "10000", description = "counters of mergerandom, mergeseq and "
            + "readmerged: --num merges of +1 spread over this many keys, in a key space of their own; at most "
            + "10000000 (default ${DEFAULT-VALUE})")
    long mergeKeys;

    @Option(names = "--duration", defaultValue = "0",
            description = "seconds per benchmark instead of op counts (default ${DEFAULT-VALUE}: use --num/--reads)")
    double duration;

    @Option(names = "--threads", defaultValue = "1", description = "threads issuing operations (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--key-size", defaultValue = "16", description = "key bytes (default ${DEFAULT-VALUE})")
    int keySize;

    @Option(names = "--value-size", defaultValue = "100", description = "value bytes (default ${DEFAULT-VALUE})")
    int valueSize;

    @Option(names = "--key-format", defaultValue = "binary",
            description = "binary (spread over all memtable shards) or decimal (db_bench's \"%%016d\"; o3's adaptive shard boundaries spread them) (default ${DEFAULT-VALUE})")
    String keyFormat;

    @Option(names = "--seek-nexts", defaultValue = "0", description = "nexts after each seek of seekrandom (default ${DEFAULT-VALUE}, as db_bench)")
    int seekNexts;

    @Option(names = "--batch-size", defaultValue = "16", description = "keys per multiGet of multireadrandom (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--max-scan-length", defaultValue = "100", description = "longest YCSB E scan (default ${DEFAULT-VALUE}, as YCSB)")
    int maxScanLength;

    @Option(names = "--write-buffer-size", defaultValue = "64m", description = "memtable size of every engine (default ${DEFAULT-VALUE})")
    String writeBufferSize;

    @Option(names = "--bloom-bits", defaultValue = "10", description = "bloom filter bits per key, 0 = none (default ${DEFAULT-VALUE})")
    int bloomBits;

    @Option(names = "--cache-size", defaultValue = "64m", description = "block cache size of every engine, 0 = none (default ${DEFAULT-VALUE})")
    String cacheSize;

    @Option(names = "--compression", defaultValue = "none",
            description = "none, lz4 or snappy (default ${DEFAULT-VALUE}: the one setting all three engines share; "
                    + "o3 has no snappy, LevelDB-Java no lz4)")
    String compression;

    @Option(names = "--sync", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "fsync the WAL on every write (default ${DEFAULT-VALUE})")
    boolean sync;

    @Option(names = "--disable-wal", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "skip the WAL (default ${DEFAULT-VALUE})")
    boolean disableWal;

    @Option(names = "--dir", description = "DB directory, kept afterwards; with --compare one subdirectory per engine "
            + "(default: a fresh temp dir per engine, deleted after it ran)")
    Path dir;

    @Option(names = "--out", description = "write results.json, summary.md and PNG charts into this directory")
    Path outDir;

    @Option(names = "--seed", description = "seed of the key orders and values (default: random; printed)")
    Long seed;

    @Option(names = "--progress", defaultValue = "auto",
            description = "progress bar on stderr for long benchmarks: auto (when stderr is a terminal), on, off (default ${DEFAULT-VALUE})")
    String progress;

    private PrintStream out = System.out;
    private String[] args = new String[0];

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
        b.args = args.clone();
        CommandLine cl = new CommandLine(b);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        return cl.execute(args);
    }

    /** Parses sizes like {@code 65536}, {@code 64k}, {@code 64m}, {@code 1g}, {@code 64MiB} ({@link io.o3lsm.Sizes}). */
    static long parseSize(String s) {
        return io.o3lsm.Sizes.parse(s);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(new CommandLine(this), msg);
    }

    /** Everything {@link #call()} derives from the arguments before it runs anything. */
    record Plan(List<String> names, List<String> engines, EngineAdapter.Settings settings, KeyFormat keys,
            boolean showProgress, long seed, boolean startsMemNode, long memNodeCapacity) {
    }

    /** Parses {@code args} without running anything (for tests). */
    static Plan plan(String... args) {
        Bench b = new Bench();
        new CommandLine(b).parseArgs(args);
        return b.plan();
    }

    /** Validates the arguments and resolves defaults; throws a ParameterException on bad ones. */
    Plan plan() {
        List<String> names = benchmarks.stream().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        for (String n : names) {
            if (!Workloads.NAMES.contains(n)) {
                throw bad("unknown benchmark '" + n + "' (known: " + String.join(", ", Workloads.NAMES) + ")");
            }
        }
        if (num < 1 || threads < 1 || valueSize < 0 || keySize < 1 || seekNexts < 0 || maxScanLength < 1 || duration < 0
                || batchSize < 1 || batchSize > 100_000) {
            throw bad("need --num >= 1, --threads >= 1, --key-size >= 1, --value-size >= 0, --seek-nexts >= 0, --batch-size in [1, 100000], "
                    + "--max-scan-length >= 1, --duration >= 0");
        }
        if (reads < 0) {
            reads = num;
        }
        boolean merges = names.stream().anyMatch(Workloads::isMerge);
        if (merges) {
            if (mergeKeys < 1 || mergeKeys > 10_000_000) {
                throw bad("--merge-keys must be 1..10000000, was " + mergeKeys);
            }
            int firstWrite = -1;
            for (int i = 0; i < names.size(); i++) {
                if (firstWrite < 0 && Workloads.MERGE_WRITES.contains(names.get(i))) {
                    firstWrite = i;
                }
            }
            int firstRead = names.indexOf("readmerged");
            if (firstRead >= 0 && (firstWrite < 0 || firstRead < firstWrite)) {
                throw bad("readmerged reads and verifies the counters that mergerandom or mergeseq wrote: list one of "
                        + "them before it in --benchmarks");
            }
        }
        List<String> engines = compare != null && !compare.isEmpty()
                ? compare.stream().map(String::trim).filter(s -> !s.isEmpty()).distinct().collect(Collectors.toList())
                : List.of(engine);
        for (String e : engines) {
            if (!ENGINES.containsKey(e)) {
                throw bad("unknown engine '" + e + "' (known: " + String.join(", ", ENGINES.keySet()) + ")");
            }
        }
        Modes.Mode m = Modes.get(mode);
        if (m == null) {
            throw bad("unknown mode '" + mode + "' (known: " + String.join(", ", Modes.MODES.keySet()) + ")");
        }
        boolean dmMode = Modes.isDm(mode);
        if (!List.of("load", "always").contains(flushPlacement.toLowerCase(Locale.ROOT))) {
            throw bad("--flush-placement must be load or always, was " + flushPlacement);
        }
        if (flushWorkers != null && flushWorkers < 0) {
            throw bad("--flush-workers must be >= 0");
        }
        if (compactors != null && compactors < 0) {
            throw bad("--compactors must be >= 0");
        }
        if (compactorSlots < 1 || compactorSlots > 1024) {
            throw bad("--compactor-slots must be 1..1024, was " + compactorSlots);
        }
        if (replicas < 0 || replicas > 8) {
            throw bad("--replicas must be 0..8, was " + replicas);
        }
        if (!List.of("ship", "rebuild").contains(replication)) {
            throw bad("--replication must be ship or rebuild, was " + replication);
        }
        if (replicationAcks < 0 || replicationAcks > replicas) {
            throw bad("--replication-acks must be 0..--replicas (" + replicas + "), was " + replicationAcks);
        }
        if (replicas > 0 && (!engines.equals(List.of("o3")) || storage != null || cluster != null)) {
            throw bad("--replicas replicates o3 alone on a local directory: not with --compare, --storage or --cluster");
        }
        if (storage != null) {
            try {
                storageUri = io.o3lsm.spi.FileSystem.location(storage);
                io.o3lsm.spi.FileSystem.pathOf(storageUri);
            } catch (IllegalArgumentException e) {
                throw bad("--storage: " + e.getMessage());
            }
            if (!List.of("local", "caas").contains(mode)) {
                throw bad("--storage works in --mode local and caas, not " + mode);
            }
            if (!engines.equals(List.of("o3"))) {
                throw bad("--storage runs only the o3 engine (RocksDB and LevelDB need a local directory), not "
                        + String.join(", ", engines));
            }
            if (dir != null) {
                throw bad("--storage and --dir exclude each other: with --storage the DB is made in a fresh directory "
                        + "under the storage URI");
            }
        }
        if (manualWalFlush && dmMode) {
            throw bad("--manual-wal-flush works in --mode local and caas: with memtable offloading a lost shard is "
                    + "rebuilt from the WAL, which must hold every acknowledged write");
        }
        boolean nodeMode = Modes.needsMemNode(mode);
        if (!m.otherEnginesSupported() && !engines.contains("o3")) {
            throw bad("--mode " + mode + " runs only on the o3 engine (with --compare, the others run in --mode local)");
        }
        String comp = compression.toLowerCase(Locale.ROOT);
        if (!List.of("none", "lz4", "snappy").contains(comp)) {
            throw bad("--compression must be none, lz4 or snappy, was " + compression);
        }
        long wbs;
        long cache;
        long local;
        long dm;
        try {
            wbs = parseSize(writeBufferSize);
            cache = parseSize(cacheSize);
            local = localBudget != null ? parseSize(localBudget) : dmMode ? DM_DEFAULT_LOCAL : wbs;
            dm = dmBudget != null ? parseSize(dmBudget) : dmMode ? DM_DEFAULT_DM : 0;
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        try {
            if (flushMinBytes != null) {
                parseSize(flushMinBytes);
            }
            if (shardArenaSize != null) {
                parseSize(shardArenaSize);
            }
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        if (local < 1 << 20) {
            throw bad("--local-budget must be at least 1m, was " + localBudget);
        }
        if (cluster != null) {
            if (!nodeMode) {
                throw bad("--cluster needs a mode that uses the memory node (dm, dm-flush, caas, o3), not " + mode);
            }
            if (memnode != null || secretFile != null || storage != null || dir != null) {
                throw bad("--cluster gives the memory node, secret and storage: it excludes --memnode, --secret-file, "
                        + "--storage and --dir");
            }
            if ((flushWorkers != null && flushWorkers > 0) || (compactors != null && compactors > 0)) {
                throw bad("--cluster uses the cluster's flush workers and compactors: start more with bin/o3 cluster up "
                        + "--flush-workers N --compactors M, not --flush-workers/--compactors");
            }
            if (!Cluster.memnodeRuns(cluster)) {
                throw bad("--cluster " + cluster + ": its memory node does not run (bin/o3 cluster status --dir " + cluster
                        + ")");
            }
            java.util.Properties cp = new java.util.Properties();
            try (java.io.Reader r = Files.newBufferedReader(cluster.resolve("cluster.properties"))) {
                cp.load(r);
            } catch (IOException e) {
                throw bad("--cluster " + cluster + ": no cluster.properties there (start one with bin/o3 cluster up --dir "
                        + cluster + "): " + e.getMessage());
            }
            memnode = cp.getProperty("memnode");
            secretFile = Path.of(cp.getProperty("secret-file", cluster.resolve("secret").toString()));
            try {
                java.net.URI st = io.o3lsm.spi.FileSystem.location(cp.getProperty("storage",
                        cluster.resolve("storage").toString()));
                if (Cluster.isRemote(st)) {
                    storageUri = st; // a cluster on HDFS: the DB is made there, as with --storage
                    if (!engines.equals(List.of("o3"))) {
                        throw bad("--cluster " + cluster + ": its storage is " + st + ", where only the o3 engine runs "
                                + "(RocksDB and LevelDB need a local directory), not " + String.join(", ", engines));
                    }
                } else {
                    clusterStorage = io.o3lsm.spi.FileSystem.pathOf(st);
                }
            } catch (IllegalArgumentException e) {
                throw bad("--cluster " + cluster + ": cluster.properties names a bad storage: " + e.getMessage());
            }
            if (memnode == null) {
                throw bad("--cluster " + cluster + ": cluster.properties names no memory node");
            }
        }
        boolean startsNode = false;
        long capacity = 0;
        if (nodeMode) {
            if (dmMode && dm < 1 << 20) {
                throw bad("--dm-budget must be at least 1m in --mode dm, was " + dmBudget);
            }
            if (memnode != null) {
                if (!memnode.matches("[^\\s:]+:\\d{1,5}") || Integer.parseInt(memnode.substring(memnode.lastIndexOf(':') + 1)) > 65535
                        || Integer.parseInt(memnode.substring(memnode.lastIndexOf(':') + 1)) < 1) {
                    throw bad("--memnode must be HOST:PORT, was '" + memnode + "'");
                }
                if (secretFile == null) {
                    throw bad("--memnode needs --secret-file (the node's cluster secret)");
                }
            } else {
                startsNode = true;
                capacity = MemNodeLauncher.capacityFor(dmMode ? dm : 0); // caas: the coordinator only
                if (memnodeThreads < 0) {
                    throw bad("--memnode-threads must be >= 0");
                }
            }
            if (secretFile != null && !Files.isReadable(secretFile)) {
                throw bad("--secret-file " + secretFile + " is not a readable file");
            }
        }
        KeyFormat keys;
        try {
            keys = new KeyFormat(KeyFormat.Kind.valueOf(keyFormat.toUpperCase(Locale.ROOT)), keySize, num);
            if (merges) {
                keys.counters(mergeKeys); // room for the mark of their key space
            }
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        boolean showProgress = switch (progress.toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> System.console() != null;
        };
        long s = seed != null ? seed : System.nanoTime();
        // the write buffer is the local budget in every mode; dm mode adds the memory node's budget
        EngineAdapter.Settings settings = new EngineAdapter.Settings(sync, disableWal, threads, local, bloomBits, cache,
                comp, mode, local, dm, nodeMode ? memnode : null, nodeMode ? secretFile : null);
        return new Plan(names, engines, settings, keys, showProgress, s, startsNode, capacity);
    }

    /**
     * {@code --compare-modes}: this run's arguments once per mode ({@code --mode M}, the same seed,
     * no {@code --out}), each a whole run with its own daemons; then the ratios, and with {@code
     * --out} one report whose "engines" are the modes.
     */
    private int compareModes() {
        List<String> modes = compareModes.stream().map(String::trim).filter(m -> !m.isEmpty()).distinct().toList();
        for (String m : modes) {
            if (Modes.get(m) == null) {
                out.println("bench: unknown mode '" + m + "' in --compare-modes (known: "
                        + String.join(", ", Modes.MODES.keySet()) + ")");
                return 2;
            }
        }
        List<String> dropped = List.of("--compare-modes", "--out", "--mode", "--seed");
        for (String a : args) {
            for (String f : List.of("--compare", "--engine", "--dir", "--cluster", "--memnode", "--secret-file", "--storage")) {
                if (a.equals(f) || a.startsWith(f + "=")) {
                    out.println("bench: --compare-modes runs o3 alone, each mode with daemons of its own in a fresh "
                            + "directory: it excludes " + f);
                    return 2;
                }
            }
        }
        if (modes.size() < 2) {
            out.println("bench: --compare-modes needs two or more modes, was " + compareModes);
            return 2;
        }
        long s = seed != null ? seed : System.nanoTime();
        List<String> base = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String flag = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (dropped.contains(flag)) {
                if (!a.contains("=")) {
                    i++; // its value
                }
                continue;
            }
            base.add(a);
        }
        List<Result> all = new ArrayList<>();
        EngineAdapter.Settings first = null;
        int status = 0;
        for (String m : modes) {
            List<String> a = new ArrayList<>(base);
            a.addAll(List.of("--mode", m, "--seed", Long.toString(s)));
            out.println("================================================ --mode " + m);
            Bench b = new Bench();
            b.out = out;
            b.args = a.toArray(new String[0]);
            CommandLine cl = new CommandLine(b);
            cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
            cl.setErr(new PrintWriter(out, true, StandardCharsets.UTF_8));
            int st = cl.execute(b.args);
            status |= st;
            if (st == 2) {
                return 2; // bad arguments: the same for every mode
            }
            for (Result r : b.lastResults) {
                r.engine = m;
                all.add(r);
            }
            if (first == null) {
                first = b.lastSettings;
            }
        }
        List<String> workloadsRun = new ArrayList<>();
        for (Result r : all) {
            if (!workloadsRun.contains(r.workload)) {
                workloadsRun.add(r.workload);
            }
        }
        out.println();
        out.println("Modes compared (o3 in each; ratios against " + modes.get(0) + ", seed " + s + "):");
        Report.printComparison(out, all, modes, workloadsRun);
        out.println();
        out.println("Per mode: CPU seconds of this process (the compute node) and of the daemons (the other nodes), "
                + "MB through the memory node, MB written to storage, stall, flushes and compactions local/offloaded");
        out.println(String.format(Locale.ROOT, "%-16s %-9s %12s %11s %13s %16s %10s %9s %10s %13s", "benchmark", "mode",
                "compute CPU s", "us CPU/op", "daemons CPU s", "memnode MB in/out", "storage MB", "stall ms",
                "flushes", "compactions"));
        for (String w : workloadsRun) {
            for (Result r : all) {
                if (!r.workload.equals(w)) {
                    continue;
                }
                double daemonCpu = r.daemonCpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum();
                out.println(String.format(Locale.ROOT, "%-16s %-9s %12.2f %11.2f %13.2f %16s %10s %9s %10s %13s", w,
                        r.engine, r.cpuSeconds, r.ops > 0 && r.cpuSeconds >= 0 ? r.cpuSeconds * 1e6 / r.ops : 0.0,
                        daemonCpu,
                        r.memnodeBytesIn < 0 ? "-" : String.format(Locale.ROOT, "%.1f/%.1f", r.memnodeBytesIn / 1e6,
                                r.memnodeBytesOut / 1e6),
                        r.storageBytesWritten < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.storageBytesWritten / 1e6),
                        r.stallMillis < 0 ? "-" : String.format(Locale.ROOT, "%.0f", r.stallMillis),
                        r.flushesByPlace == null ? "-" : r.flushesByPlace[0] + "/" + r.flushesByPlace[1],
                        r.compactionsByPlace == null ? "-" : r.compactionsByPlace[0] + "/" + r.compactionsByPlace[1]));
            }
        }
        if (outDir != null && first != null) {
            try {
                Path json = Report.writeJson(outDir, jsonHeader(modes, s), all, modes, settingsJson(first, s));
                Files.writeString(outDir.resolve("summary.md"), Report.markdown(all, modes, workloadsRun) + "\n\n"
                        + Report.modeCostsMarkdown(all, modes, workloadsRun), StandardCharsets.UTF_8);
                List<Path> charts = Report.writeCharts(outDir, all, modes, workloadsRun);
                out.println("Wrote " + json + ", " + outDir.resolve("summary.md") + " and " + charts.size() + " charts");
            } catch (IOException | RuntimeException | Error e) { // an AWT error drawing a chart: the data is written first
                out.println("WARNING: report not written: " + e);
                status |= 1;
            }
        }
        out.flush();
        return status;
    }

    @Override
    public Integer call() {
        if (compareModes != null && !compareModes.isEmpty()) {
            return compareModes();
        }
        Plan plan = plan();
        Modes.Mode m = Modes.get(mode);
        if (!m.available()) {
            out.println("bench: " + m.unavailableReason());
            out.flush();
            return 2;
        }
        List<String> names = plan.names();
        List<String> engines = plan.engines();
        KeyFormat keys = plan.keys();
        long s = plan.seed();
        EngineAdapter.Settings settings = plan.settings();
        Workloads.Config cfg = new Workloads.Config(num, reads, keySize, valueSize, threads, duration, seekNexts,
                maxScanLength, s, keys, randomData(s, 2 * valueSize), plan.showProgress(), batchSize, mergeKeys);

        daemonPrefix = List.of();
        if (pin) {
            try {
                daemonPrefix = Pinning.prefix(Pinning.DAEMON_CPU);
                Pinning.pinSelf(Pinning.COMPUTE_CPU);
            } catch (IOException | RuntimeException e) {
                out.println("bench: --pin failed: " + e.getMessage());
                out.flush();
                return 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            out.println("Pinning:    this process (pid " + ProcessHandle.current().pid() + ", all threads) on CPU "
                    + Pinning.allowedCpus(ProcessHandle.current().pid()) + "; every daemon it starts on CPU " + Pinning.DAEMON_CPU
                    + " (" + String.join(" ", daemonPrefix) + ")");
        }
        MemNodeLauncher node = null;
        List<FlushWorkerLauncher> workers = new ArrayList<>();
        if (plan.startsMemNode()) {
            try {
                node = new MemNodeLauncher(plan.memNodeCapacity(), memnodeThreads).prefix(daemonPrefix)
                        .spinMicros(memnodeSpinMicros).start(secretFile);
            } catch (IOException | RuntimeException e) {
                out.println("bench: could not start a memory node: " + e.getMessage());
                out.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            settings = settings.withMemoryNode(node.address(), node.secretFile());
        }
        if (Modes.offloadsFlushes(mode)) {
            int n = flushWorkers != null ? flushWorkers : memnode != null ? 0 : 2;
            Path storage = dir != null ? dir.toAbsolutePath().getParent() : Path.of(System.getProperty("java.io.tmpdir"));
            try {
                Path logDir = node != null ? node.tempDir() : Files.createTempDirectory("o3-bench-flushworkers-");
                for (int i = 1; i <= n; i++) {
                    workers.add(new FlushWorkerLauncher(logDir, "bench-w" + i, settings.memoryNode(), settings.secretFile(),
                            storage, 1, daemonPrefix).start());
                }
            } catch (IOException | RuntimeException e) {
                out.println("bench: could not start flush workers: " + e.getMessage());
                stopWorkers(workers);
                stopNode(node);
                out.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopWorkers(workers);
                return 1;
            }
            for (FlushWorkerLauncher w : workers) {
                out.println("FlushWorker: " + w.name() + " started by this run: pid " + w.pid() + ", 1 slot, storage root "
                        + storage + ", log " + w.log());
            }
        }
        if (Modes.offloadsCompactions(mode)) {
            int before = workers.size();
            int n = compactors != null ? compactors : memnode != null ? 0 : 1;
            String storage = storageUri != null ? storageUri.toString()
                    : dir != null ? dir.toAbsolutePath().getParent().toString() : System.getProperty("java.io.tmpdir");
            try {
                Path logDir = node != null ? node.tempDir() : Files.createTempDirectory("o3-bench-compactors-");
                // the DB directory is made under it at open; the compactors want it to exist when they start
                if (storageUri == null) {
                    Files.createDirectories(Path.of(storage));
                } else {
                    try (io.o3lsm.spi.FileSystem fs = io.o3lsm.spi.FileSystem.forUri(storageUri)) {
                        fs.createDirectories(io.o3lsm.spi.FileSystem.pathOf(storageUri));
                    }
                }
                for (int i = 1; i <= n; i++) {
                    workers.add(FlushWorkerLauncher.compactor(logDir, "bench-c" + i, settings.memoryNode(),
                            settings.secretFile(), storage, compactorSlots, daemonPrefix).start());
                }
            } catch (IOException | RuntimeException e) {
                out.println("bench: could not start compactors: " + e.getMessage());
                stopWorkers(workers);
                stopNode(node);
                out.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopWorkers(workers);
                return 1;
            }
            for (FlushWorkerLauncher w : workers.subList(before, workers.size())) {
                out.println("Compactor:  " + w.name() + " started by this run: pid " + w.pid() + ", " + compactorSlots
                        + " slot(s), storage root " + storage + ", log " + w.log());
            }
        }
        daemons.clear();
        if (node != null) {
            daemons.put("memnode", node.pid());
        }
        if (cluster != null) { // the cluster's daemons, for their CPU seconds per benchmark
            daemons.putAll(Cluster.runningDaemons(cluster));
        }
        for (FlushWorkerLauncher w : workers) {
            daemons.put(w.name(), w.pid());
        }
        try {
            return runAll(plan, settings, cfg, node);
        } finally {
            for (FlushWorkerLauncher w : workers) {
                out.println((w.name().startsWith("bench-c") ? "Compactor " : "Flush worker ") + w.name() + ": " + w.jobSummary() + ", CPU "
                        + String.format(Locale.ROOT, "%.2f", Pinning.cpuSeconds(w.pid())) + " s in all");
            }
            stopWorkers(workers);
            if (node != null) {
                try {
                    out.println("Memory node: CPU " + String.format(Locale.ROOT, "%.2f", Pinning.cpuSeconds(node.pid()))
                            + " s in all");
                    int st = node.stop();
                    String log = node.output();
                    out.println("Memory node: stopped, exit status " + st
                            + (log.contains("closed cleanly") ? ", closed cleanly" : ""));
                    if (st != 0) {
                        out.println("Memory node log:\n" + log);
                    }
                    node.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                out.flush();
            }
        }
    }

    /** The command prefix of every daemon this run starts (CPU pinning), or empty. */
    private List<String> daemonPrefix = List.of();

    /** Daemons this run started (name → pid), whose CPU-seconds are reported per benchmark. */
    private final Map<String, Long> daemons = new LinkedHashMap<>();

    private void stopWorkers(List<FlushWorkerLauncher> workers) {
        for (FlushWorkerLauncher w : workers) {
            try {
                w.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void stopNode(MemNodeLauncher node) {
        if (node != null) {
            try {
                node.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A side connection to the memory node, only to read its STATS (bytes in and out over UCX);
     * null when not in a dm mode or it cannot connect (then the line says so).
     */
    private io.o3lsm.dm.client.DmClient statsClient(EngineAdapter.Settings st) {
        if (!Modes.isDm(st.mode()) || st.memoryNode() == null) {
            return null;
        }
        try {
            return io.o3lsm.dm.client.DmClient.connect(new io.o3lsm.spi.MemoryNode.Config(st.memoryNode(),
                    io.o3lsm.dm.ClusterSecret.read(st.secretFile()), "bench-stats-" + ProcessHandle.current().pid(), 1, 0, 1,
                    java.time.Duration.ofSeconds(10)));
        } catch (IOException | RuntimeException | LinkageError e) {
            out.println("Note:       memory node STATS not reachable (" + e + "): no UCX byte counts");
            return null;
        }
    }

    /** {bytesIn, bytesOut} of the memory node, or null. */
    /** Bytes the engine's flushes wrote so far; 0 for an engine that does not count them (map, leveldb). */
    private static long flushBytes(EngineAdapter db) {
        EngineAdapter.IoCounters io = db.ioCounters();
        return io == null ? 0 : io.flushBytes();
    }

    private static long[] nodeBytes(io.o3lsm.dm.client.DmClient c) {
        if (c == null) {
            return null;
        }
        try {
            io.o3lsm.dm.protocol.Messages.Stats s = c.stats();
            return new long[] {s.bytesIn(), s.bytesOut()};
        } catch (io.o3lsm.dm.DmException | RuntimeException e) {
            return null;
        }
    }

    /** Bytes written to storage so far (/proc/PID/io write_bytes) by this process and every daemon, as {@link #cpuNow}. */
    private long[] diskWritesNow() {
        long[] w = new long[1 + daemons.size()];
        w[0] = Pinning.diskWriteBytes(ProcessHandle.current().pid());
        int i = 1;
        for (long pid : daemons.values()) {
            w[i++] = Pinning.diskWriteBytes(pid);
        }
        return w;
    }

    /**
     * "replication  : …" — per backup its CPU-seconds and bytes written to storage during the benchmark
     * (I/O amplification: per byte the workload wrote), the primary's own storage writes, and the bytes
     * the primary sent to its backups.
     */
    private String replicationLine(Result r, long[] d0, long[] d1, long sent) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-13s: primary wrote %.1f MB", "replication",
                d0[0] >= 0 && d1[0] >= 0 ? (d1[0] - d0[0]) / 1e6 : -1.0));
        int i = 1;
        for (String d : daemons.keySet()) {
            if (d.startsWith("replica") && d0[i] >= 0 && d1[i] >= 0) {
                long w = d1[i] - d0[i];
                r.daemonDiskWriteBytes.put(d, w);
                Double cpu = r.daemonCpuSeconds.get(d);
                sb.append(String.format(Locale.ROOT, "; %s CPU %.2f s, wrote %.1f MB", d, cpu == null ? -1.0 : cpu, w / 1e6));
                if (r.userBytesWritten > 0) {
                    sb.append(String.format(Locale.ROOT, " (%.2f x user bytes)", (double) w / r.userBytesWritten));
                }
            }
            i++;
        }
        r.replicationBytesSent = sent;
        return sb.append(String.format(Locale.ROOT, "; sent to backups %.1f MB", sent / 1e6)).toString();
    }

    /** CPU seconds of this process and of every daemon, in {@link #daemons} order after "compute". */
    private double[] cpuNow() {
        double[] c = new double[1 + daemons.size()];
        c[0] = Pinning.cpuSeconds(ProcessHandle.current().pid());
        int i = 1;
        for (long pid : daemons.values()) {
            c[i++] = Pinning.cpuSeconds(pid);
        }
        return c;
    }

    private int runAll(Plan plan, EngineAdapter.Settings settings, Workloads.Config cfg, MemNodeLauncher node) {
        List<String> names = plan.names();
        List<String> engines = plan.engines();
        KeyFormat keys = plan.keys();
        long s = plan.seed();
        printHeader(engines, keys, names, s, settings);
        if (mode.equals("local") && (dmBudget != null || memnode != null || secretFile != null)) {
            out.println("Note:       --dm-budget, --memnode and --secret-file are ignored in --mode local");
        }
        if (Modes.needsMemNode(mode)) {
            out.println("MemoryNode: " + (node != null
                    ? "started by this run: pid " + node.pid() + " at " + node.address() + ", capacity "
                            + (node.capacity >> 20) + " MiB (dm budget + 256 MiB), --threads " + node.threads
                            + ", log " + node.log()
                    : settings.memoryNode() + " (given), secret " + settings.secretFile()));
            for (String e : engines) {
                if (!e.equals("o3")) {
                    out.println("Note:       " + e + " has no dm mode: it runs in --mode local with write buffer "
                            + (settings.localBudget() >> 20) + " MiB (the local budget)");
                }
            }
        }

        List<Result> results = new ArrayList<>();
        int status = 0;
        for (String e : engines) {
            status |= runEngine(e, e.equals("o3") ? settings : settings.local(), cfg, names, results);
        }
        lastResults = results;
        lastSettings = settings;
        Report.printSummary(out, results);
        List<String> workloadsRun = new ArrayList<>();
        for (Result r : results) {
            if (!workloadsRun.contains(r.workload)) {
                workloadsRun.add(r.workload);
            }
        }
        if (engines.size() > 1) {
            Report.printComparison(out, results, engines, workloadsRun);
        }
        if (outDir != null) {
            try {
                Path json = Report.writeJson(outDir, jsonHeader(engines, s), results, engines, settingsJson(settings, s));
                Files.writeString(outDir.resolve("summary.md"), Report.markdown(results, engines, workloadsRun) + "\n",
                        StandardCharsets.UTF_8);
                out.println();
                out.println("Wrote " + json + " and " + outDir.resolve("summary.md"));
                try {
                    List<Path> charts = Report.writeCharts(outDir, results, engines, workloadsRun);
                    out.println("Wrote " + charts.size() + " charts: "
                            + charts.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", ")));
                } catch (IOException | RuntimeException | Error e) {
                    out.println("WARNING: charts not written: " + e);
                    status |= 1;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        out.flush();
        return status;
    }

    /** Deletes a run's directory on shared storage: its DB directories and their files (two levels, as made). */
    private void deleteShared(io.o3lsm.spi.FileSystem fs, Path root) {
        try {
            if (!fs.exists(root)) {
                return;
            }
            for (String sub : fs.list(root)) {
                Path d = root.resolve(sub);
                for (String f : fs.list(d)) {
                    fs.delete(d.resolve(f));
                }
                fs.delete(d);
            }
            fs.delete(root);
        } catch (IOException | RuntimeException e) {
            out.println("bench: could not delete " + fs.uri(root) + ": " + e.getMessage());
        }
    }

    /** Runs every benchmark on one engine; returns 1 if something failed or reads missed keys. */
    private int runEngine(String name, EngineAdapter.Settings settings, Workloads.Config cfg, List<String> names,
            List<Result> results) {
        Path tempRoot = null;
        Path dbDir;
        io.o3lsm.spi.FileSystem sharedFs = null;
        try {
            if (storageUri != null) {
                sharedFs = io.o3lsm.spi.FileSystem.forUri(storageUri);
                tempRoot = io.o3lsm.spi.FileSystem.pathOf(storageUri)
                        .resolve("o3-bench-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis());
                dbDir = tempRoot.resolve(name);
            } else if (clusterStorage != null) {
                // under the cluster's storage root, where its flush workers and compactors find it
                tempRoot = Files.createDirectories(clusterStorage.resolve("o3-bench-" + ProcessHandle.current().pid()
                        + "-" + System.currentTimeMillis()));
                dbDir = tempRoot.resolve(name);
            } else if (dir == null) {
                tempRoot = Files.createTempDirectory("o3-bench-");
                dbDir = tempRoot.resolve(name);
            } else {
                dbDir = compare != null && !compare.isEmpty() ? dir.resolve(name) : dir;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int status = 0;
        out.println("------------------------------------------------");
        io.o3lsm.dm.client.DmClient stats = null;
        List<FlushWorkerLauncher> backups = new ArrayList<>();
        Path replicaRoot = null;
        try (EngineAdapter db = ENGINES.get(name).get()) {
            String primaryAddress = null;
            if (db instanceof O3Adapter o3 && replicas > 0) {
                try {
                    replicaRoot = Files.createTempDirectory("o3-bench-replicas-");
                    Path secret = MemNodeLauncher.newSecret(replicaRoot.resolve("secret"));
                    primaryAddress = "127.0.0.1:" + MemNodeLauncher.freePort();
                    o3.replicating(new O3Adapter.Replicating(primaryAddress, secret, replication.equals("ship"),
                            replicationAcks));
                    for (int i = 1; i <= replicas; i++) {
                        backups.add(FlushWorkerLauncher.replica(replicaRoot, "replica" + i, primaryAddress, secret,
                                replicaRoot.resolve("replica" + i), replication.equals("rebuild"), daemonPrefix));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            List<String> mergeNames = names.stream().filter(Workloads::isMerge).toList();
            if (!mergeNames.isEmpty()) {
                try {
                    db.useCounterMerge();
                } catch (UnsupportedOperationException e) {
                    out.println("Note:       " + e.getMessage() + ": " + String.join(", ", mergeNames) + " reported n/a");
                }
            }
            if (db instanceof O3Adapter o3) {
                o3.storage(storageUri);
                o3.tuning(new O3Adapter.Tuning(shardArenaSize != null ? parseSize(shardArenaSize) : 0,
                        flushPlacement.toLowerCase(Locale.ROOT), flushMinBytes != null ? parseSize(flushMinBytes) : -1,
                        manualWalFlush, dmReadCache != null ? parseSize(dmReadCache) : -1, dmReadFlushTrigger,
                        adaptiveShards, statistics));
            }
            try {
                db.open(dbDir, settings);
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                out.println("Engine:     " + name + " FAILED TO OPEN: " + e);
                for (String n : names) {
                    Result r = new Result();
                    r.engine = name;
                    r.mode = settings.mode();
                    r.workload = n;
                    r.status = Result.Status.FAILED;
                    r.note = "open failed: " + e;
                    results.add(r);
                }
                return 1;
            }
            if (!backups.isEmpty()) {
                try {
                    for (FlushWorkerLauncher b : backups) {
                        b.start();
                        daemons.put(b.name(), b.pid());
                    }
                    ((O3Adapter) db).awaitBackups(backups.size(), 60_000);
                } catch (IOException | RuntimeException e) {
                    out.println("bench: could not start the backups: " + e.getMessage());
                    return 1;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return 1;
                }
                out.println("Replicas:   " + backups.size() + " backup(s) started by this run (bin/o3 replica), "
                        + (replication.equals("ship") ? "tables shipped (never flush or compact)"
                                : "rebuilding (the baseline: replay the log, flush and compact themselves)")
                        + ", writes wait for " + replicationAcks + " acknowledgement(s); primary at " + primaryAddress
                        + ", logs in " + replicaRoot);
            }
            // after DB.open: it grants Agrona the jdk.internal.misc export the DM client needs
            stats = name.equals("o3") ? statsClient(settings) : null;
            out.println("Engine:     " + db.name() + " " + db.describe());
            out.println("Dir:        " + (sharedFs != null ? sharedFs.uri(dbDir) : dbDir)
                    + (tempRoot != null ? " (temporary)" : ""));
            Workloads w = new Workloads(db, cfg, dbDir, settings.mode()).storage(sharedFs);
            for (String n : names) {
                if (w.needsLoad(n)) {
                    Result load = w.run("load");
                    out.println(load.line() + "  (YCSB load phase: fillrandom of --num records)");
                    results.add(load);
                }
                double[] cpu0 = cpuNow();
                long[] disk0 = diskWritesNow();
                long sent0 = db instanceof O3Adapter o3 ? o3.replicationBytesSent() : 0;
                long[] bytes0 = nodeBytes(stats);
                long[] fl0 = db instanceof O3Adapter o3 ? o3.flushesByPlace() : null;
                long flushBytes0 = flushBytes(db);
                Result r = w.run(n);
                double[] cpu1 = cpuNow();
                long[] disk1 = diskWritesNow();
                long sent1 = db instanceof O3Adapter o3 ? o3.replicationBytesSent() : 0;
                long[] bytes1 = nodeBytes(stats);
                long[] fl1 = db instanceof O3Adapter o3 ? o3.flushesByPlace() : null;
                long flushBytes1 = flushBytes(db);
                out.println(r.line() + (r.note != null && r.ok() ? "  [" + r.note + "]" : ""));
                out.println("  " + resources(r, cpu0, cpu1, bytes0, bytes1, fl0, fl1, flushBytes1 - flushBytes0));
                if (!backups.isEmpty()) {
                    out.println("  " + replicationLine(r, disk0, disk1, sent1 - sent0));
                }
                for (Map.Entry<String, org.HdrHistogram.Histogram> t : r.opLatency.entrySet()) {
                    if (t.getKey().startsWith("get-")) {
                        org.HdrHistogram.Histogram h = t.getValue();
                        out.println(String.format(Locale.ROOT, "  %-13s: %d gets, latency us: P50 %.2f P99 %.2f P99.9 %.2f max %.2f",
                                t.getKey(), h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3));
                    }
                }
                if (r.engineState != null) {
                    out.println(String.format(Locale.ROOT, "  %-13s: %s", "o3.dm", r.engineState));
                }
                if (Workloads.isMerge(n) && r.status != Result.Status.NA) {
                    String ms = db.mergeState();
                    if (ms != null) {
                        out.println(String.format(Locale.ROOT, "  %-13s: %s", "merges", ms));
                    }
                }
                if (r.shardState != null) {
                    out.println(String.format(Locale.ROOT, "  %-13s: %s", "o3.shards", r.shardState));
                }
                out.flush();
                results.add(r);
                if (r.status == Result.Status.FAILED) {
                    status = 1;
                }
                if (r.ok() && r.expectAllFound && r.found != r.keysRead()) {
                    out.println("WARNING: " + n + " found " + r.found + " of " + r.keysRead()
                            + " keys; every read key was in [0, num) and should exist after a fill");
                    status = 1;
                }
            }
        } finally {
            for (FlushWorkerLauncher b : backups) {
                try {
                    double cpu = Pinning.cpuSeconds(b.pid());
                    int st = b.isAlive() ? b.stop() : -1;
                    String log = b.output();
                    int at = log.lastIndexOf("shutting down (signal): ");
                    out.println("Backup " + b.name() + ": CPU " + String.format(Locale.ROOT, "%.2f", cpu) + " s in all, "
                            + "stopped with status " + st + (at >= 0 ? "; " + log.substring(at + 24).trim() : ""));
                    if (st != 0) {
                        out.println("Backup " + b.name() + " log:\n" + log);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                daemons.remove(b.name());
            }
            if (replicaRoot != null) {
                FileTrees.delete(replicaRoot, "bench");
            }
            if (stats != null) {
                try {
                    stats.close();
                } catch (RuntimeException e) {
                    // only a side connection
                }
            }
            if (sharedFs != null) {
                deleteShared(sharedFs, tempRoot);
                try {
                    sharedFs.close();
                } catch (IOException e) {
                    out.println("bench: closing " + storageUri + " failed: " + e.getMessage());
                }
            } else if (tempRoot != null) {
                FileTrees.delete(tempRoot, "bench");
            }
            System.gc();
        }
        return status;
    }

    /**
     * "resources    : compute CPU …" — this process's and each daemon's CPU-seconds during the
     * benchmark (/proc/PID/stat utime + stime), compute CPU per million operations, the engine's
     * stall time, the memory node's bytes in/out (its STATS, including this side connection's few
     * bytes) and the flushes by place, all as differences over the benchmark. Background work that
     * continues after the benchmark ends is not in these figures.
     */
    private String resources(Result r, double[] cpu0, double[] cpu1, long[] b0, long[] b1, long[] f0, long[] f1,
            long flushBytes) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-13s: compute CPU %.2f s (%.2f s per M ops)",
                "resources", cpu1[0] - cpu0[0], r.ops > 0 ? (cpu1[0] - cpu0[0]) / (r.ops / 1e6) : 0.0));
        int i = 1;
        double daemonTotal = 0;
        for (String d : daemons.keySet()) {
            if (cpu0[i] < 0 || cpu1[i] < 0) { // it was gone at the start or the end: no figure, not a negative one
                sb.append(", ").append(d).append(" gone");
                i++;
                continue;
            }
            double c = cpu1[i] - cpu0[i];
            daemonTotal += c;
            r.daemonCpuSeconds.put(d, Math.round(c * 100) / 100.0);
            sb.append(String.format(Locale.ROOT, ", %s %.2f s", d, c));
            i++;
        }
        if (!daemons.isEmpty()) {
            sb.append(String.format(Locale.ROOT, ", daemons %.2f s", daemonTotal));
        }
        sb.append(r.stallMillis >= 0 ? String.format(Locale.ROOT, "; stall %.0f ms", r.stallMillis) : "; stall n/a");
        if (b0 != null && b1 != null) {
            sb.append(String.format(Locale.ROOT, "; memnode in %.1f MB out %.1f MB", (b1[0] - b0[0]) / 1e6, (b1[1] - b0[1]) / 1e6));
            r.memnodeBytesIn = b1[0] - b0[0];
            r.memnodeBytesOut = b1[1] - b0[1];
        }
        if (f0 != null && f1 != null) {
            r.flushesByPlace = new long[] {f1[0] - f0[0], f1[1] - f0[1], f1[2] - f0[2]};
            if (f0.length >= 7 && f1.length >= 7) {
                r.compactionsByPlace = new long[] {f1[4] - f0[4], f1[5] - f0[5], f1[6] - f0[6]};
            }
            sb.append("; flushes local ").append(f1[0] - f0[0]).append(" offloaded ").append(f1[1] - f0[1])
                    .append(" fallback ").append(f1[2] - f0[2]).append(" refused ").append(f1[3] - f0[3]);
            long n = (f1[0] - f0[0]) + (f1[1] - f0[1]) + (f1[2] - f0[2]);
            if (n > 0) {
                sb.append(String.format(Locale.ROOT, " (mean %.1f MB written per flush)", flushBytes / 1e6 / n));
            }
            if (f0.length >= 7 && f1.length >= 7) {
                sb.append("; compactions local ").append(f1[4] - f0[4]).append(" offloaded ").append(f1[5] - f0[5])
                        .append(" fallback ").append(f1[6] - f0[6]);
            }
        }
        return sb.toString();
    }

    private void printHeader(List<String> engines, KeyFormat keys, List<String> names, long s, EngineAdapter.Settings st) {
        Runtime rt = Runtime.getRuntime();
        String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                .collect(Collectors.joining(", "));
        out.println("o3lsm bench (db_bench style)");
        out.println("Date:       " + ZonedDateTime.now());
        out.println("CPU:        " + rt.availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", memory "
                + (totalMemory() >> 20) + " MiB");
        out.println("JVM:        " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")
                + " (" + System.getProperty("java.vm.vendor") + "), max heap " + (rt.maxMemory() >> 20) + " MiB, GC " + gcs);
        out.println("JVM args:   " + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        out.println("Engines:    " + String.join(", ", engines) + (engines.size() > 1 ? " (ratios against " + engines.get(0) + ")" : ""));
        out.println("Mode:       " + st.mode() + ", local budget " + (st.localBudget() >> 20) + " MiB"
                + (st.dmBudget() > 0 && Modes.isDm(st.mode()) ? ", dm budget " + (st.dmBudget() >> 20) + " MiB" : "")
                + (Modes.offloadsFlushes(st.mode()) ? ", flush offload on, placement " + flushPlacement.toLowerCase(Locale.ROOT)
                        + ", flushOffloadMinBytes " + (flushMinBytes != null ? flushMinBytes : "o3 default") : "")
                + (shardArenaSize != null ? ", shardArenaSize " + shardArenaSize : ""));
        out.println("Settings:   write buffer " + (st.localBudget() >> 20) + " MiB, bloom " + st.bloomBitsPerKey()
                + " bits/key, block cache " + (st.blockCacheSize() >> 20) + " MiB, compression " + st.compression()
                + ", WAL " + (st.disableWal() ? "off" : "on") + ", sync=" + st.sync());
        out.println("Keys:       " + keySize + " bytes each, " + keys);
        out.println("Values:     " + valueSize + " bytes each (50% compressible)");
        out.println("Entries:    " + num);
        out.println("Reads:      " + reads + " (readrandom, readseq, seekrandom, readwhilewriting, readmerged, YCSB operations)");
        if (names.stream().anyMatch(Workloads::isMerge)) {
            out.println("Merges:     --num merges of +1 into " + mergeKeys + " counters (" + keys.counters(mergeKeys)
                    + "); 8-byte little-endian int64 add: o3's MergeOperators.int64Add() (Java), RocksDB's built-in "
                    + "uint64add (C++); readmerged verifies every counter");
        }
        if (duration > 0) {
            out.println("Duration:   " + duration + " s per benchmark (instead of counts)");
        }
        out.println("RawSize:    " + String.format(Locale.ROOT, "%.1f MB (estimated)", (keySize + valueSize) * (double) num / 1048576.0));
        out.println("Threads:    " + threads);
        out.println("WAL:        " + (disableWal ? "off" : "on") + ", sync=" + sync);
        out.println("Seed:       " + s + " (rerun with --seed " + s + ")");
        out.println("Benchmarks: " + String.join(",", names));
    }

    static long totalMemory() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize();
        }
        return -1;
    }

    private Map<String, Object> jsonHeader(List<String> engines, long s) {
        Runtime rt = Runtime.getRuntime();
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("tool", "o3lsm bench");
        h.put("format_version", 1);
        h.put("date", ZonedDateTime.now().toString());
        h.put("command", "bin/o3 bench " + String.join(" ", args));
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", rt.availableProcessors());
        machine.put("memory_bytes", totalMemory());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version") + " ("
                + System.getProperty("java.vm.vendor") + ")");
        machine.put("max_heap_bytes", rt.maxMemory());
        machine.put("jvm_args", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        h.put("machine", machine);
        h.put("engines", engines);
        h.put("seed", s);
        return h;
    }

    private Map<String, Object> settingsJson(EngineAdapter.Settings st, long s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num", num);
        m.put("reads", reads);
        m.put("duration_seconds", duration);
        m.put("threads", threads);
        m.put("key_size", keySize);
        m.put("value_size", valueSize);
        m.put("key_format", keyFormat);
        m.put("seek_nexts", seekNexts);
        m.put("batch_size", batchSize);
        m.put("max_scan_length", maxScanLength);
        m.put("merge_keys", mergeKeys);
        m.put("write_buffer_size", st.localBudget());
        m.put("bloom_bits_per_key", st.bloomBitsPerKey());
        m.put("block_cache_size", st.blockCacheSize());
        m.put("compression", st.compression());
        m.put("wal", !st.disableWal());
        m.put("sync", st.sync());
        m.put("mode", st.mode());
        m.put("local_budget", st.localBudget());
        m.put("dm_budget", st.dmBudget());
        if (st.memoryNode() != null) {
            m.put("memory_node", st.memoryNode());
        }
        m.put("seed", s);
        return m;
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

}
