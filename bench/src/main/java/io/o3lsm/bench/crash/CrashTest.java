package io.o3lsm.bench.crash;

import io.o3lsm.bench.FileTrees;
import io.o3lsm.bench.FlushWorkerLauncher;
import io.o3lsm.bench.MemNodeLauncher;
import io.o3lsm.bench.VersionProvider;
import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.CorruptionException;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.dm.transport.UcxEnvironment;
import io.o3lsm.spi.FlushExecutor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Kill-and-recover test of the write path through the public API: {@code bin/o3 crashtest}.
 *
 * <p>Each cycle starts a child JVM ({@link Child}) that opens the DB with small buffers and a small
 * level 1 (many flushes and compactions) and writes random {@link WriteBatch}es of puts, deletes
 * and range deletes (over a few neighbouring keys in key byte order) from one thread as fast as it
 * can, now and then calling {@code compactRange(null, null)}, logging each batch's intent before
 * {@code DB.write} and its acknowledgement after, to a history file kept outside the DB directory.
 * The parent SIGKILLs the child at a random moment, reopens the DB, reads every key of the key
 * space and asks {@link CrashVerifier} whether the recovered state is the
 * history cut at one batch boundary, with nothing acknowledged missing and nothing corrupt. The
 * recovered state becomes the next cycle's base.
 *
 * <p>Files: the DB lives in {@code --dir D}; the expected state in the sibling
 * {@code D.expected/}: {@code history} (the current child's intents and acks, see
 * {@link CrashHistory}), {@code state} (key → version, and merge operands, after the last verified cut),
 * {@code child.log} (the child's stderr), and {@code history.cycle-N} kept for cycles with problems.
 *
 * <p>{@code --storage URI}: the DB directory is the one the URI names on any file system o3lsm can
 * open ({@code hdfs://namenode:port/crash}, {@code file:///…}); parent and child open it with
 * {@link DB#open(URI, Options)}, which opens (and closes) that file system. The expected state stays
 * local: in {@code D.expected/} when {@code --dir D} is given too (then {@code D} itself is not
 * used), else in a temp dir deleted on success. On HDFS the DB's lock is an HDFS lease with a
 * heartbeat: the reopen after each kill first waits the lock's dead-after time (5 s by default)
 * before it recovers the leases of LOCK, MANIFEST and WALs, so a cycle takes several seconds more
 * than locally. The child's {@code sync} is then an hsync (or hflush with {@code ?sync=hflush} in the
 * URI). A SIGKILLed writer ends the process, not the DataNodes: what it hflushed is on every
 * DataNode of the pipeline, so nothing acknowledged may be lost, with {@code --sync} or without.
 *
 * <p>Why {@code lost} is checked without {@code --sync} too: SIGKILL ends a process, not the
 * machine; bytes the engine handed to the OS before acknowledging stay in the page cache and reach
 * the file. Only a machine crash may lose unsynced acknowledged writes, and this test does not
 * simulate one.
 *
 * <p>{@code --mode dm-flush}: the child opens the DB in DM mode with flush offloading
 * ({@link #dmFlushOptions}: placement ALWAYS, a 64 KiB {@code flushOffloadMinBytes}, 128 KiB arenas,
 * a 1 MiB local budget and a 4 MiB DM budget, so a shard range flushes every ~640 KiB), against a
 * memory node and {@value #DM_FLUSH_WORKERS} flush workers this process starts as real child JVMs
 * before the first cycle and keeps across cycles (a worker found dead before a cycle is restarted
 * and counted as an error). Only the writer is killed: the daemons see their owner vanish mid-job
 * every cycle, which is the case under test (jobs cancelled, late outputs orphaned, the reopened
 * DB's new epoch fencing stale results). The DB directory lies under the workers' {@code --storage}
 * root (the run's temp root, or the parent of {@code --dir}). The parent reads back with the plain
 * local options: DM is soft state, so everything acknowledged must be in the WAL and the installed
 * SSTs, offloaded or not. The child prints its flush counters ({@code DBStats}: local, offloaded,
 * fallback, refused) on stdout every 100 ms; each cycle line shows the last one it printed before
 * the kill, and the workers' count of jobs done during the cycle (from their logs).
 *
 * <p>{@code --merges} (on by default): the child opens the DB with
 * {@code MergeOperators.stringAppend(",")} and mixes merges into its batches, and about one write in
 * {@value Child#SINGLE_MERGE_ONE_IN} is a lone {@code DB.merge}; each operand is a token naming its
 * merge ({@link CrashCodec#mergeToken}), so a recovered value says exactly which put and which
 * operands it holds, and {@link CrashVerifier} checks that it is the fold of the key's writes up to
 * a cut (see its class comment). One key in {@value Child#MERGE_HEAVY_EVERY} gets mostly merges, so
 * long operand chains go through flushes and compactions (partial merges) before the kills; the
 * parent reads back with the same operator. Each cycle line shows the merges intended, the keys whose
 * recovered value holds operands, the reads that had to combine operands ({@code o3.merges}
 * mergeGets) and the child's flush and compaction counts at the kill.
 *
 * <p>{@code --families N} (3 by default; 0 = off): the DB is created and reopened, by the child and by
 * the parent after every kill, with {@link DB#open(Path, Options, List)} naming the column families
 * {@code cf1}..{@code cfN} ({@link #familyDescriptors}); with merges the default family and
 * {@code cf1} have the merge operator, the others none (so they get puts, deletes and range deletes
 * only). {@code --keys} is split evenly over the families ({@link #keysPerFamily}: 1250 keys each by
 * default, so the data a run holds does not grow with the families), and every family has the same
 * key bytes (those of keys 0..1249): a value that leaks into another family is found there. About half the batches of more than one op put each op in a random family, so
 * they span families in one atomic {@code DB.write}; the others and the lone merges write to one
 * family. The child's {@code compactRange} compacts every family. The parent reads every key of every
 * family back and {@link CrashVerifier} checks them against the history as one key space with one
 * cut, so each family must hold every acknowledged write made to it, and a batch must be in every
 * family it wrote to or in none (a batch torn across families is a hole; the report names the
 * family). Lost, holes and corrupt are counted over all families. Each cycle line shows the batches
 * spanning families; the run ends with a line of the acknowledged ones and the keys each family
 * holds. The history names an op's family as {@code P2:12} ({@link CrashHistory}); with
 * {@code --families 0} it is as before families, and the DB is a plain one ({@link DB#open(Path, Options)}).
 *
 * <p>After reading every key, the parent also scans each family with an iterator: a key the scan
 * yields that {@code get} did not find (or with another value), one it skips, a key outside the key
 * space or out of order counts as corrupt. Engines without iterators (the harness tests' toys) skip it.
 *
 * <p>Op generation is a pure function of {@code --seed}, the cycle number, {@code --merges} and
 * {@code --families}; the kill moment (and so how far each child gets) varies from run to run.
 */
@Command(name = "crashtest", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Repeatedly SIGKILL a writing child process, reopen the DB and verify the recovered state.")
public final class CrashTest implements Callable<Integer> {
    /** Line the child prints once the DB is open and it starts writing. */
    static final String WRITING = "WRITING";
    /** Prefix of the child's periodic flush- and compaction-counter line. */
    static final String STATS = "STATS ";
    /** Flush workers the dm-flush mode starts. */
    static final int DM_FLUSH_WORKERS = 2;

    @Option(names = "--cycles", required = true, description = "kill/recover cycles to run")
    int cycles;

    @Option(names = "--seed", description = "random seed (default: random; printed at the start)")
    Long seed;

    @Option(names = "--sync", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            description = "fsync the WAL on every write (default ${DEFAULT-VALUE})")
    boolean sync;

    @Option(names = "--dir", description = "DB directory; must be empty or absent (default: a temp dir, deleted on success). "
            + "With --storage, only the expected state goes here, into DIR.expected")
    Path dir;

    @Option(names = "--storage", description = "put the DB directory on this file system instead, e.g. "
            + "hdfs://127.0.0.1:9000/crash (must be empty or absent; kept afterwards); the expected state stays local. "
            + "On HDFS each reopen after a kill waits ~5 s for the dead writer's lock")
    URI storage;

    @Option(names = "--keys", defaultValue = "5000",
            description = "key space size, split evenly over the column families with --families (default ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--min-run-ms", defaultValue = "300", description = "earliest kill after the child starts writing (default ${DEFAULT-VALUE})")
    long minRunMs;

    @Option(names = "--max-run-ms", defaultValue = "1500", description = "latest kill after the child starts writing (default ${DEFAULT-VALUE})")
    long maxRunMs;

    @Option(names = "--range-deletes", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            description = "put range deletes in some batches (default ${DEFAULT-VALUE})")
    boolean rangeDeletes;

    @Option(names = "--merges", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            description = "open the DB with a string-append merge operator and put merges in the workload, "
                    + "in batches and alone (default ${DEFAULT-VALUE})")
    boolean merges;

    @Option(names = "--families", defaultValue = "3",
            description = "column families besides the default one (cf1..cfN; cf1 with the merge operator too): the "
                    + "child spreads its writes over all of them, some batches spanning several, and every family is "
                    + "verified, with one cut for all; 0 = a plain DB without families (default ${DEFAULT-VALUE})")
    int families;

    @Option(names = "--compact-every", defaultValue = "1000",
            description = "call compactRange(null, null) (with --families, over each family) after about this many batches; "
                    + "0 = never (default ${DEFAULT-VALUE})")
    int compactEvery;

    @Option(names = "--mode", defaultValue = "local",
            description = "local (the embedded engine) or dm-flush (DM mode with offloaded flushes: a memory node and "
                    + "two flush workers started by the test, kept across cycles) (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--db-factory", hidden = true,
            description = "class with a static DB open(Path, Options) used instead of DB.open (harness tests); "
                    + "with --families, open(Path, Options, List<ColumnFamilyDescriptor>)")
    String dbFactory;

    /** Settings of one run; public fields with the CLI defaults. */
    public static final class Config {
        public int cycles = 10;
        /** null: pick one. */
        public Long seed;
        public boolean sync = true;
        /** null: a temp dir, deleted when the run passes. */
        public Path dir;
        /**
         * null: the DB lives in {@link #dir}. Otherwise the DB directory this URI names (on HDFS, or
         * any file system {@code DB.open(URI, …)} reaches); {@link #dir}, if set, then only places the
         * expected state ({@code dir.expected}), else that goes into a temp dir.
         */
        public URI storage;
        public int keys = 5000;
        public long minRunMs = 300;
        public long maxRunMs = 1500;
        /** Heap of the child JVM. */
        public String childXmx = "256m";
        /** Longest wait for a child to open the DB and start writing. */
        public long childStartTimeoutMs = 120_000;
        /** Class with a static {@code DB open(Path, Options)} to use instead of {@link DB#open}; null for DB.open. */
        public String dbFactory;
        /** Whether batches sometimes hold a range delete. */
        public boolean rangeDeletes = true;
        /** Whether the DB has a merge operator and the workload holds merges (see the class comment). */
        public boolean merges = true;
        /** Column families besides the default one (see the class comment); 0: a DB without families. */
        public int families = 3;
        /** The child calls {@code compactRange(null, null)} every this many batches on average; 0 = never. */
        public int compactEvery = 1000;
        /** "local" or "dm-flush" (see the class comment). */
        public String mode = "local";
        public PrintStream out = System.out;
        /**
         * Done to the storage while each child writes (tests: stop or restart a DataNode), or null.
         * Called once per cycle from the parent, halfway between the child's start of writing and its
         * kill; the child keeps writing meanwhile.
         */
        public Disturbance whileWriting;
    }

    /** Something done to the storage under a writing child; see {@link Config#whileWriting}. */
    @FunctionalInterface
    public interface Disturbance {
        /** Does it in {@code cycle} (1-based); returns what it did, for the cycle's line, or null if nothing. */
        String apply(int cycle) throws Exception;
    }

    /** Totals of one run. */
    public record Result(long seed, int cycles, long lost, long holes, long corrupt, int errors,
            int[] ackedPerCycle, Path dir) {
        /** True when nothing was lost, torn, corrupt or broken. */
        public boolean ok() {
            return lost == 0 && holes == 0 && corrupt == 0 && errors == 0;
        }

        /** The last line printed: {@code crashtest: cycles=N lost=L holes=H corrupt=C}. */
        public String summary() {
            return "crashtest: cycles=" + cycles + " lost=" + lost + " holes=" + holes + " corrupt=" + corrupt;
        }
    }

    public static void main(String[] args) {
        System.exit(runCommandLine(System.out, args));
    }

    /** Parses {@code args} and runs, printing help and version to {@code out}; returns the exit status. */
    public static int runCommandLine(PrintStream out, String... args) {
        CommandLine cl = new CommandLine(new CrashTest());
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        Config c = new Config();
        c.cycles = cycles;
        c.seed = seed;
        c.sync = sync;
        c.dir = dir;
        c.storage = storage;
        c.keys = keys;
        c.minRunMs = minRunMs;
        c.maxRunMs = maxRunMs;
        c.dbFactory = dbFactory;
        c.rangeDeletes = rangeDeletes;
        c.merges = merges;
        c.families = families;
        c.compactEvery = compactEvery;
        c.mode = mode;
        return run(c).ok() ? 0 : 1;
    }

    /**
     * The options the child and the verifier open the DB with: small buffers and files, a 1 MiB
     * level 1 and a compaction at every second L0 file, so many flushes and compactions; with
     * {@code merges}, the merge operator {@code MergeOperators.stringAppend(",")}.
     */
    static Options crashOptions(boolean merges) {
        Options o = Options.defaults()
                .writeBufferSize(1 << 20)
                .shardArenaSize(128 << 10)
                .shardCount(4)
                .targetFileSize(256 << 10)
                .maxBytesForLevelBase(1 << 20)
                .level0CompactionTrigger(2);
        return merges ? o.mergeOperator(MergeOperators.stringAppend(",")) : o;
    }

    /**
     * The child's options in dm-flush mode: {@link #crashOptions} plus a memory node, a 1 MiB local
     * budget (8 arenas), a 4 MiB DM budget and flush offloading of every flush of at least 64 KiB to
     * whichever worker has a free slot (placement ALWAYS: the test wants offloads, not load balance).
     */
    static Options dmFlushOptions(String memnode, Path secret, boolean merges) {
        return crashOptions(merges).memoryNode(memnode, secret).localMemoryBudget(1 << 20).dmBudget(4 << 20)
                .flushOffload(true).flushOffloadMinBytes(64 << 10)
                .flushOffloadPlacement(FlushExecutor.Placement.ALWAYS)
                .flushOffloadDeadline(java.time.Duration.ofSeconds(30));
    }

    /** Most column families {@code --families} accepts. */
    static final int MAX_FAMILIES = 100;

    /**
     * The keys of each family: {@code --keys} split evenly over the default family and the others
     * (rounded down), so the data a run holds and how often a key is rewritten do not depend on
     * {@code --families}; all of them without families.
     */
    static int keysPerFamily(Config c) {
        return c.keys / (c.families + 1);
    }

    /** The names of a run's families, index = the history's family number: "default", "cf1", … "cfN". */
    static String[] familyNames(int families) {
        String[] names = new String[families + 1];
        names[0] = DB.DEFAULT_COLUMN_FAMILY;
        for (int f = 1; f <= families; f++) {
            names[f] = "cf" + f;
        }
        return names;
    }

    /** Whether family {@code f} has the merge operator (and gets merges): with merges, the default family and cf1. */
    static boolean mergesIn(int family, boolean merges) {
        return merges && family <= 1;
    }

    /**
     * The column families the child and the parent open the DB with ({@code cf1}..{@code cfN}; with
     * merges, {@code cf1} with {@code MergeOperators.stringAppend(",")}); the default family's operator
     * comes from {@link #crashOptions}.
     */
    static List<ColumnFamilyDescriptor> familyDescriptors(int families, boolean merges) {
        List<ColumnFamilyDescriptor> out = new ArrayList<>();
        String[] names = familyNames(families);
        for (int f = 1; f <= families; f++) {
            ColumnFamilyOptions o = ColumnFamilyOptions.defaults();
            if (mergesIn(f, merges)) {
                o.mergeOperator(MergeOperators.stringAppend(","));
            }
            out.add(new ColumnFamilyDescriptor(names[f], o));
        }
        return out;
    }

    /** An open DB and the file system opened for it (null: none), which {@link #close} closes after the DB. */
    record Opened(DB db, io.o3lsm.spi.FileSystem fs) {
        void close() {
            try {
                db.close();
            } finally {
                if (fs != null) {
                    try {
                        fs.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
    }

    /**
     * Opens the run's DB: in {@code storage} if set, else in {@code dir} (with {@code factory} if set);
     * with {@code families > 0} naming the families ({@link #familyDescriptors}). DB.open(URI, …) has no
     * form with families: for a remote URI the file system is opened here and closed after the DB.
     */
    static Opened openDb(String factory, URI storage, Path dir, Options o, int families, boolean merges) {
        if (families == 0) {
            return new Opened(storage != null ? DB.open(storage, o) : open(factory, dir, o), null);
        }
        List<ColumnFamilyDescriptor> cfs = familyDescriptors(families, merges);
        if (storage == null) {
            return new Opened(open(factory, dir, o, cfs), null);
        }
        Path p = io.o3lsm.spi.FileSystem.pathOf(storage);
        if (isLocal(storage)) {
            return new Opened(DB.open(p, o, cfs), null);
        }
        io.o3lsm.spi.FileSystem fs;
        try {
            fs = io.o3lsm.spi.FileSystem.forUri(storage);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach " + storage + ": " + e, e);
        }
        try {
            return new Opened(DB.open(p, o.copy().fileSystem(fs), cfs), fs);
        } catch (RuntimeException | Error e) {
            try {
                fs.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The handles of the run's families in an open DB, index = family number; null without families. */
    static ColumnFamilyHandle[] handles(DB db, int families) {
        if (families == 0) {
            return null;
        }
        String[] names = familyNames(families);
        ColumnFamilyHandle[] cfs = new ColumnFamilyHandle[families + 1];
        cfs[0] = db.defaultColumnFamily();
        for (int f = 1; f <= families; f++) {
            cfs[f] = db.columnFamily(names[f]);
            if (cfs[f] == null) {
                throw new IllegalStateException("the DB has no column family " + names[f] + " (it has "
                        + db.listColumnFamilies() + ")");
            }
        }
        return cfs;
    }

    /** The daemons of dm-flush mode: a memory node and the flush workers, kept across cycles. */
    private static final class Daemons implements AutoCloseable {
        final MemNodeLauncher node;
        final List<FlushWorkerLauncher> workers = new ArrayList<>();
        final Path storage;
        final Path logDir;

        Daemons(Path storage) throws IOException, InterruptedException {
            this.storage = storage;
            node = new MemNodeLauncher(64L << 20, 1).start(null);
            logDir = node.tempDir();
            try {
                for (int i = 1; i <= DM_FLUSH_WORKERS; i++) {
                    workers.add(newWorker(i).start());
                }
            } catch (IOException | RuntimeException | InterruptedException e) {
                close();
                throw e;
            }
        }

        FlushWorkerLauncher newWorker(int i) {
            return new FlushWorkerLauncher(logDir, "w" + i + "-" + System.nanoTime(), node.address(), node.secretFile(),
                    storage, 1, List.of());
        }

        int jobsDone() {
            int n = 0;
            for (FlushWorkerLauncher w : workers) {
                n += w.jobsDone();
            }
            return n;
        }

        /** Restarts dead workers; returns a description of each restart. */
        List<String> restartDead() throws IOException, InterruptedException {
            List<String> what = new ArrayList<>();
            for (int i = 0; i < workers.size(); i++) {
                FlushWorkerLauncher w = workers.get(i);
                if (!w.isAlive()) {
                    String tail = w.output();
                    tail = tail.substring(Math.max(0, tail.length() - 2000));
                    what.add("flush worker " + w.name() + " died (log " + w.log() + "), restarted; log tail:\n" + tail);
                    workers.set(i, newWorker(i + 1).start());
                }
            }
            if (!node.output().isEmpty() && !isAlive(node.pid())) {
                what.add("memory node died: " + node.output());
            }
            return what;
        }

        private static boolean isAlive(long pid) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        @Override
        public void close() throws InterruptedException {
            for (FlushWorkerLauncher w : workers) {
                w.stop();
            }
            node.close();
        }
    }

    /** Runs the crash loop; prints progress and, last, {@link Result#summary()}. */
    public static Result run(Config c) {
        if (c.cycles < 1 || c.keys < 1 || c.keys > CrashCodec.MAX_KEYS || c.minRunMs < 0 || c.maxRunMs < c.minRunMs) {
            throw new IllegalArgumentException("need cycles >= 1, 1 <= keys <= " + CrashCodec.MAX_KEYS
                    + ", 0 <= min-run-ms <= max-run-ms");
        }
        if (c.families < 0 || c.families > MAX_FAMILIES || c.keys < c.families + 1) {
            throw new IllegalArgumentException("need 0 <= families <= " + MAX_FAMILIES + " and keys >= families + 1 "
                    + "(the key space is split over the default family and the others)");
        }
        if (!c.mode.equals("local") && !c.mode.equals("dm-flush")) {
            throw new IllegalArgumentException("--mode must be local or dm-flush, was " + c.mode);
        }
        boolean dmFlush = c.mode.equals("dm-flush");
        if (c.storage != null) {
            if (c.dbFactory != null) {
                throw new IllegalArgumentException("--db-factory opens a local directory; it cannot be combined with --storage");
            }
            if (dmFlush && !isLocal(c.storage)) {
                throw new IllegalArgumentException("--mode dm-flush needs the DB in a local directory (its flush workers "
                        + "write to a local storage root); --storage " + c.storage + " is not one");
            }
        }
        PrintStream out = c.out;
        long seed = c.seed != null ? c.seed : System.nanoTime() ^ System.identityHashCode(c);
        out.println("crashtest: seed=" + seed + " (rerun with --seed " + seed + ") cycles=" + c.cycles + " sync=" + c.sync
                + " keys=" + c.keys + (c.families > 0 ? " (" + keysPerFamily(c) + " per family)" : "") + " kill after "
                + c.minRunMs + ".." + c.maxRunMs + " ms rangeDeletes=" + c.rangeDeletes
                + " compactEvery=" + c.compactEvery + " merges=" + c.merges + " families=" + c.families + " mode=" + c.mode);

        Path root = null;
        Path localDir; // the local DB directory, or (with --storage) the one whose sibling holds the expected state
        Path dbDir; // the DB directory: localDir, or the path --storage names within its file system
        try {
            if (c.dir == null) {
                root = Files.createTempDirectory("o3-crashtest-");
                localDir = root.resolve("db");
            } else {
                localDir = c.dir.toAbsolutePath();
            }
            if (c.storage == null) {
                dbDir = localDir;
                if (Files.isDirectory(dbDir)) {
                    try (Stream<Path> s = Files.list(dbDir)) {
                        if (s.findAny().isPresent()) {
                            throw new IllegalArgumentException("--dir " + dbDir + " is not empty; the crash test starts from an empty DB");
                        }
                    }
                }
                Files.createDirectories(dbDir);
            } else {
                dbDir = prepareStorage(c.storage);
            }
        } catch (IOException e) {
            FileTrees.delete(root, "crashtest");
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            FileTrees.delete(root, "crashtest");
            throw e;
        }
        String dbName = c.storage != null ? c.storage.toString() : dbDir.toString();
        Path expDir = localDir.resolveSibling(localDir.getFileName() + ".expected");
        out.println("crashtest: db " + dbName + ", expected state " + expDir);
        out.println("crashtest: " + crashOptions(c.merges));
        String[] familyNames = c.families > 0 ? familyNames(c.families) : null;
        int familyCount = c.families + 1;
        int perFamily = keysPerFamily(c);
        int totalKeys = perFamily * familyCount; // family f's key k is entry f * perFamily + k of the state arrays
        if (c.families > 0) {
            out.println("crashtest: column families: " + DB.DEFAULT_COLUMN_FAMILY + (c.merges ? " (merge operator from "
                    + "the options)" : "") + ", " + familyDescriptors(c.families, c.merges).stream()
                            .map(d -> d.name() + " " + d.options()).collect(java.util.stream.Collectors.joining(", ")));
        }
        Daemons daemons = null;
        if (dmFlush) {
            try {
                daemons = new Daemons(dbDir.getParent());
            } catch (IOException | RuntimeException e) {
                out.println("crashtest: ERROR could not start the memory node and flush workers: " + e);
                out.println(new Result(seed, 0, 0, 0, 0, 1, new int[0], dbDir).summary());
                return new Result(seed, 0, 0, 0, 0, 1, new int[0], dbDir);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(seed, 0, 0, 0, 0, 1, new int[0], dbDir);
            }
            out.println("crashtest: dm-flush: memory node pid " + daemons.node.pid() + " at " + daemons.node.address()
                    + "; flush workers " + daemons.workers.stream().map(w -> w.name() + " (pid " + w.pid() + ")")
                            .collect(java.util.stream.Collectors.joining(", "))
                    + ", storage root " + daemons.storage + ", logs in " + daemons.logDir + "; child options "
                    + dmFlushOptions(daemons.node.address(), daemons.node.secretFile(), c.merges));
        }
        long offloadedTotal = 0;
        long localTotal = 0;
        long fallbackTotal = 0;
        long refusedTotal = 0;
        long[] base = new long[totalKeys];
        Arrays.fill(base, CrashVerifier.ABSENT);
        long[][] baseMerges = new long[totalKeys][];
        long crossFamilyAcked = 0;
        long iteratorMismatches = 0;
        long mergesAcked = 0;
        long childFlushes = 0;
        long childCompactions = 0;
        boolean childStats = false;
        long mergedKeysMax = 0;
        long nextBatch = 1;
        long nextVersion = 1;
        long lost = 0;
        long holes = 0;
        long corrupt = 0;
        int errors = 0;
        int done = 0;
        int[] acked = new int[c.cycles];
        Set<String> notes = new HashSet<>();
        SplittableRandom killRandom = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Process[] current = new Process[1];
        Thread killer = new Thread(() -> {
            Process p = current[0];
            if (p != null) {
                p.destroyForcibly();
            }
        }, "crashtest-child-killer");
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            recreate(expDir);
            Path history = expDir.resolve("history");
            Path childLog = expDir.resolve("child.log");
            for (int cycle = 1; cycle <= c.cycles; cycle++) {
                long t0 = System.nanoTime();
                Files.write(history, new byte[0]);
                long cycleFirstVersion = nextVersion;

                // 1. child writes until killed
                int jobsBefore = 0;
                if (daemons != null) {
                    for (String d : daemons.restartDead()) {
                        errors++;
                        out.println("cycle " + cycle + "/" + c.cycles + ": ERROR " + d);
                    }
                    jobsBefore = daemons.jobsDone();
                }
                long runMs = c.minRunMs + killRandom.nextLong(c.maxRunMs - c.minRunMs + 1);
                ChildRun child = runChild(c, seed, cycle, dbDir, history, childLog, nextBatch, nextVersion, runMs, current,
                        daemons);
                String flushNote = "";
                if (daemons != null) {
                    Thread.sleep(200); // let the workers log jobs the kill cut short
                    long[] f = child.flushStats;
                    flushNote = " flushes(local/offloaded/fallback/refused)=" + (f == null ? "?"
                            : f[0] + "/" + f[1] + "/" + f[2] + "/" + f[3]) + " workerJobsDone=" + (daemons.jobsDone() - jobsBefore);
                    if (f != null) {
                        localTotal += f[0];
                        offloadedTotal += f[1];
                        fallbackTotal += f[2];
                        refusedTotal += f[3];
                    }
                }
                List<String> childNotes;
                synchronized (child.notes) {
                    childNotes = new ArrayList<>(child.notes);
                }
                for (String note : childNotes) {
                    if (notes.add(note)) {
                        out.println("cycle " + cycle + "/" + c.cycles + ": child " + note);
                    }
                }
                if (child.failure != null) {
                    errors++;
                    out.println("cycle " + cycle + "/" + c.cycles + ": ERROR " + child.failure);
                    printTail(out, childLog);
                    if (!child.startedWriting) {
                        break; // the child could not open the DB: nothing more to learn
                    }
                }

                // 2. what the child intended and got acknowledged
                CrashHistory h;
                try {
                    h = CrashHistory.parse(Files.readAllBytes(history));
                } catch (IllegalArgumentException e) {
                    errors++;
                    out.println("cycle " + cycle + "/" + c.cycles + ": ERROR unreadable history: " + e.getMessage());
                    break;
                }

                // 3. reopen and read everything back
                long[] observed = new long[totalKeys];
                long[][] observedMerges = new long[totalKeys][];
                List<String> readProblems = new ArrayList<>();
                StringBuilder levels = new StringBuilder();
                long[] scanMismatches = new long[1];
                String openFailure = readBack(c, dbDir, observed, observedMerges, readProblems, levels, scanMismatches);
                String during = child.disturbance == null ? "" : " during: " + child.disturbance;
                if (openFailure != null) {
                    out.println("cycle " + cycle + "/" + c.cycles + ": " + openFailure + during);
                    if (openFailure.startsWith("CORRUPT")) {
                        corrupt++;
                    } else {
                        errors++;
                    }
                    done = cycle;
                    keep(history, expDir, cycle);
                    break;
                }

                // 4. verify
                CrashVerifier.Report r = CrashVerifier.verify(familyNames, base, baseMerges, cycleFirstVersion, h, observed,
                        observedMerges);
                if (scanMismatches[0] > 0) {
                    // an iterator that disagrees with get returned what the DB does not hold: corrupt reads
                    r.corrupt += scanMismatches[0];
                    iteratorMismatches += scanMismatches[0];
                }
                String familyNote = "";
                if (c.families > 0) {
                    crossFamilyAcked += h.ackedCrossFamilyBatchCount();
                    familyNote = " crossFamilyBatches=" + h.crossFamilyBatchCount();
                }
                String mergeNote = "";
                long[] st = child.flushStats;
                String jobsNote = st == null || st.length < 6 ? "" : " childFlushes/compactions=" + st[4] + "/" + st[5];
                if (st != null && st.length >= 6) {
                    childStats = true;
                    childFlushes += st[4];
                    childCompactions += st[5];
                }
                if (c.merges) {
                    int mergedKeys = 0;
                    for (long[] m : observedMerges) {
                        if (m != null) {
                            mergedKeys++;
                        }
                    }
                    mergedKeysMax = Math.max(mergedKeysMax, mergedKeys);
                    mergesAcked += h.ackedMergeCount();
                    mergeNote = " merges=" + h.mergeOpCount() + " keysWithOperands=" + mergedKeys;
                }
                lost += r.lost;
                holes += r.holes;
                corrupt += r.corrupt;
                acked[cycle - 1] = r.acked;
                done = cycle;
                long ms = (System.nanoTime() - t0) / 1_000_000;
                out.println("cycle " + cycle + "/" + c.cycles + ": acked=" + r.acked + " intended=" + r.intended
                        + " cut=" + r.cut + (r.cut > r.lastAcked ? " (unacked batch applied)" : "")
                        + " ops=" + h.opCount() + " rangeDeletes=" + h.rangeOpCount() + mergeNote + familyNote + levels + jobsNote
                        + flushNote
                        + (during.isEmpty() ? "" : during + " (acked before/after it: " + child.ackedBeforeDisturbance + "/"
                                + (r.acked - child.ackedBeforeDisturbance) + ")")
                        + " run=" + runMs + "ms ms=" + ms
                        + (r.ok() ? "" : " lost=" + r.lost + " holes=" + r.holes + " corrupt=" + r.corrupt
                                + (scanMismatches[0] > 0 ? " (" + scanMismatches[0] + " of them iterator mismatches)" : "")
                                + byFamily(familyNames, r)));
                for (String p : readProblems) {
                    out.println("  " + p);
                }
                for (String p : r.problems) {
                    out.println("  " + p);
                }
                if (r.problemsOmitted > 0) {
                    out.println("  … and " + r.problemsOmitted + " more problems");
                }
                if (!r.ok() || child.failure != null) {
                    keep(history, expDir, cycle);
                }

                // 5. the recovered state is the next base; later unacked intents are dropped
                base = r.newBase;
                baseMerges = r.newBaseMerges;
                nextBatch = Math.max(nextBatch, h.maxBatchId() + 1);
                // skip a full batch of versions past anything a torn last intent line might have held
                nextVersion = Math.max(nextVersion, h.maxVersion() + 1) + Child.MAX_OPS + 1;
                writeState(expDir.resolve("state"), cycle, seed, nextBatch, nextVersion, base, baseMerges, perFamily);
            }
        } catch (IOException e) {
            errors++;
            out.println("crashtest: ERROR " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors++;
            out.println("crashtest: interrupted");
        } finally {
            Process p = current[0];
            if (p != null) {
                p.destroyForcibly();
            }
            if (daemons != null) {
                out.println("crashtest: dm-flush: flushes by place over all cycles (child stats at the kill): local "
                        + localTotal + ", offloaded " + offloadedTotal + ", fallback " + fallbackTotal + ", refused results "
                        + refusedTotal + "; flush workers' jobs done (logs): " + daemons.jobsDone());
                try {
                    daemons.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }

        if (c.merges) {
            out.println("crashtest: merges: " + mergesAcked + " acknowledged over all cycles, up to " + mergedKeysMax
                    + " keys recovered with operands in a cycle" + (childStats ? "; the children's flushes/compactions "
                            + "before the kills: " + childFlushes + "/" + childCompactions : ""));
        }
        if (c.families > 0) {
            StringBuilder present = new StringBuilder();
            for (int f = 0; f < familyCount; f++) {
                int n = 0;
                for (int k = f * perFamily; k < (f + 1) * perFamily; k++) {
                    if (base[k] != CrashVerifier.ABSENT || baseMerges[k] != null) {
                        n++;
                    }
                }
                present.append(f == 0 ? "" : ", ").append(familyNames[f]).append(' ').append(n);
            }
            out.println("crashtest: families: " + crossFamilyAcked + " batches spanning families acknowledged over all "
                    + "cycles; keys present after the last verified cycle: " + present
                    + (iteratorMismatches > 0 ? "; iterator mismatches: " + iteratorMismatches : ""));
        }
        Result result = new Result(seed, done, lost, holes, corrupt, errors, Arrays.copyOf(acked, done), dbDir);
        if (errors > 0) {
            out.println("crashtest: " + errors + " harness/engine errors (see above)");
        }
        if (root != null && result.ok()) {
            FileTrees.delete(root, "crashtest");
        } else if (!result.ok()) {
            out.println("crashtest: kept " + dbName + " and " + expDir + " for inspection; rerun with --seed " + seed);
        }
        out.println(result.summary());
        out.flush();
        return result;
    }

    private static final class ChildRun {
        boolean startedWriting;
        String failure;
        /** Lines the child printed starting with {@value Child#NOTE}. */
        final List<String> notes = new ArrayList<>();
        /**
         * The last {@value CrashTest#STATS} line's flushes by place (local, offloaded, fallback, refused)
         * and all flushes and compactions; null if none.
         */
        volatile long[] flushStats;
        /** What {@link Config#whileWriting} did, or null. */
        String disturbance;
        /** Acks in the history when the disturbance began. */
        int ackedBeforeDisturbance;
    }

    /** " byFamily(lost/holes/corrupt)=default 0/0/0, cf1 0/2/0, …", or "" without families. */
    private static String byFamily(String[] names, CrashVerifier.Report r) {
        if (names == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" byFamily(lost/holes/corrupt)=");
        for (int f = 0; f < names.length; f++) {
            sb.append(f == 0 ? "" : ", ").append(names[f]).append(' ').append(r.lostIn[f]).append('/').append(r.holesIn[f])
                    .append('/').append(r.corruptIn[f]);
        }
        return sb.toString();
    }

    private static ChildRun runChild(Config c, long seed, int cycle, Path dbDir, Path history, Path childLog,
            long firstBatch, long firstVersion, long runMs, Process[] current, Daemons daemons)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("-Xmx" + c.childXmx);
        cmd.add("-XX:+UseSerialGC");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-exports") || a.startsWith("--enable-native-access")
                    || a.startsWith("-Dio.o3lsm") || a.startsWith("-ea") || a.startsWith("-enableassertions")) {
                cmd.add(a);
            }
        }
        cmd.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
        cmd.add("--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Child.class.getName());
        cmd.add("dir=" + dbDir);
        if (c.storage != null) {
            cmd.add("storage=" + c.storage);
        }
        cmd.add("history=" + history);
        cmd.add("seed=" + seed);
        cmd.add("cycle=" + cycle);
        cmd.add("firstBatch=" + firstBatch);
        cmd.add("firstVersion=" + firstVersion);
        cmd.add("keys=" + keysPerFamily(c)); // the child's key space is that of each family
        cmd.add("sync=" + c.sync);
        cmd.add("rangeDeletes=" + c.rangeDeletes);
        cmd.add("merges=" + c.merges);
        cmd.add("families=" + c.families);
        cmd.add("compactEvery=" + c.compactEvery);
        if (c.dbFactory != null) {
            cmd.add("factory=" + c.dbFactory);
        }
        if (daemons != null) {
            cmd.add("memnode=" + daemons.node.address());
            cmd.add("secret=" + daemons.node.secretFile());
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.to(childLog.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (daemons != null) {
            pb.environment().putAll(UcxEnvironment.VARIABLES);
        }
        ChildRun run = new ChildRun();
        Process p = pb.start();
        current[0] = p;
        CountDownLatch writing = new CountDownLatch(1);
        List<String> otherOutput = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader br = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                    if (line.equals(WRITING)) {
                        writing.countDown();
                    } else if (line.startsWith(STATS)) {
                        String[] f = line.substring(STATS.length()).trim().split(" ");
                        try {
                            long[] v = new long[f.length];
                            for (int i = 0; i < f.length; i++) {
                                v[i] = Long.parseLong(f[i]);
                            }
                            if (v.length >= 4) {
                                run.flushStats = v;
                            }
                        } catch (RuntimeException ignored) {
                            // a line cut by the kill
                        }
                    } else if (line.startsWith(Child.NOTE)) {
                        synchronized (run.notes) {
                            run.notes.add(line);
                        }
                    } else {
                        synchronized (otherOutput) {
                            if (otherOutput.size() < 50) {
                                otherOutput.add(line);
                            }
                        }
                    }
                }
            } catch (IOException ignored) {
                // the child died
            }
        }, "crashtest-child-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(c.childStartTimeoutMs);
            while (!writing.await(20, TimeUnit.MILLISECONDS)) {
                if (!p.isAlive()) {
                    reader.join(1000);
                    if (writing.getCount() == 0) {
                        break;
                    }
                    run.failure = "child exited with status " + p.exitValue() + " before it started writing"
                            + (otherOutput.isEmpty() ? "" : "; stdout: " + otherOutput);
                    return run;
                }
                if (System.nanoTime() > deadline) {
                    run.failure = "child did not start writing within " + c.childStartTimeoutMs + " ms";
                    return run;
                }
            }
            run.startedWriting = true;
            long firstPart = c.whileWriting != null ? runMs / 2 : runMs;
            boolean exited = p.waitFor(firstPart, TimeUnit.MILLISECONDS);
            if (!exited && c.whileWriting != null) {
                run.ackedBeforeDisturbance = countAcks(history);
                try {
                    run.disturbance = c.whileWriting.apply(cycle);
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    run.failure = "the disturbance failed: " + e;
                    return run;
                }
                exited = p.waitFor(runMs - firstPart, TimeUnit.MILLISECONDS);
            }
            if (exited) {
                run.failure = "child exited by itself with status " + p.exitValue() + " before the kill (write error?)"
                        + (otherOutput.isEmpty() ? "" : "; stdout: " + otherOutput);
            }
            return run;
        } finally {
            p.destroyForcibly(); // SIGKILL on Unix
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException("child " + p.pid() + " did not die within 60 s of SIGKILL");
            }
            current[0] = null;
            reader.join(1000); // its stdout is closed now: collect the last notes
        }
    }

    /**
     * Opens the DB and fills {@code observed} (every key of every family, family {@code f}'s key
     * {@code k} at {@code f * keys + k}), then scans each family with an iterator and adds to
     * {@code scanMismatches[0]} each disagreement with what get returned; returns null, or why the DB
     * could not be opened ("CORRUPT …" for a CorruptionException, "ERROR …" for anything else).
     */
    private static String readBack(Config c, Path dbDir, long[] observed, long[][] observedMerges, List<String> problems,
            StringBuilder levels, long[] scanMismatches) {
        Opened od;
        try {
            od = openDb(c.dbFactory, c.storage, dbDir, crashOptions(c.merges), c.families, c.merges);
        } catch (CorruptionException e) {
            return "CORRUPT: reopen failed: " + e.getMessage();
        } catch (RuntimeException e) {
            return "ERROR: reopen failed: " + e;
        }
        DB db = od.db();
        String[] names = c.families > 0 ? familyNames(c.families) : null;
        try {
            ColumnFamilyHandle[] cfs = handles(db, c.families);
            for (int f = 0; f <= c.families; f++) {
                ColumnFamilyHandle cf = cfs == null ? null : cfs[f];
                String in = names == null ? "" : " in family " + names[f];
                int perFamily = keysPerFamily(c);
                int first = f * perFamily;
                for (int k = 0; k < perFamily; k++) {
                    byte[] key = CrashCodec.key(k);
                    byte[] v;
                    try {
                        v = cf == null ? db.get(key) : db.get(cf, key);
                    } catch (CorruptionException e) {
                        observed[first + k] = CrashVerifier.CORRUPT;
                        addProblem(problems, "corrupt: get(key " + k + " = " + CrashCodec.hex(key) + ")" + in + " threw "
                                + e.getMessage());
                        continue;
                    }
                    if (v == null) {
                        observed[first + k] = CrashVerifier.ABSENT;
                        continue;
                    }
                    CrashCodec.Decoded d = CrashCodec.decode(k, v);
                    if (d.error() != null) {
                        observed[first + k] = CrashVerifier.CORRUPT;
                        addProblem(problems, "corrupt: key " + k + " (" + CrashCodec.hex(key) + ")" + in + ": " + d.error()
                                + "; value " + CrashCodec.hex(Arrays.copyOf(v, Math.min(v.length, 32)))
                                + (v.length > 32 ? "…" : "") + " (" + v.length + " bytes)");
                        continue;
                    }
                    observed[first + k] = d.put();
                    observedMerges[first + k] = d.merges().length == 0 ? null : d.merges();
                }
                scanMismatches[0] += scan(db, cf, in, first, perFamily, observed, observedMerges, problems);
            }
            if (c.merges) {
                // reads that combined operands; keys with operands but no such read had theirs folded by a flush or compaction
                String m = db.property("o3.merges");
                java.util.regex.Matcher mm = m == null ? null : java.util.regex.Pattern.compile("mergeGets=(\\d+)").matcher(m);
                if (mm != null && mm.find()) {
                    levels.append(" mergeGets=").append(mm.group(1));
                }
            }
        } catch (RuntimeException e) {
            try {
                od.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            return "ERROR: read-back failed: " + e;
        }
        try {
            levels.append(filesPerLevel(db));
            od.close();
        } catch (RuntimeException e) {
            return "ERROR: close after read-back failed: " + e;
        }
        return null;
    }

    /**
     * Scans one family ({@code cf} null: the plain DB) with an iterator and compares it with what get
     * returned ({@code observed[first + k]} for its key {@code k}): returns the number of keys it yields
     * that get did not find or found with another value, keys get found that it skips, keys outside the
     * key space and keys out of order, each reported; 0 for an engine without iterators.
     */
    private static long scan(DB db, ColumnFamilyHandle cf, String in, int first, int keys, long[] observed,
            long[][] observedMerges, List<String> problems) {
        DBIterator it;
        try {
            it = cf == null ? db.iterator(ReadOptions.defaults()) : db.iterator(ReadOptions.defaults(), cf);
        } catch (UnsupportedOperationException e) {
            return 0; // a toy engine
        }
        long bad = 0;
        boolean[] seen = new boolean[keys];
        try (it) {
            byte[] prev = null;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (prev != null && Arrays.compareUnsigned(prev, key) >= 0) {
                    bad++;
                    addProblem(problems, "corrupt: the iterator" + in + " yields " + CrashCodec.hex(key) + " after "
                            + CrashCodec.hex(prev) + " (out of order)");
                }
                prev = key;
                int k = CrashCodec.keyIndex(key);
                if (k < 0 || k >= keys) {
                    bad++;
                    addProblem(problems, "corrupt: the iterator" + in + " yields " + CrashCodec.hex(key)
                            + ", not a key of the key space");
                    continue;
                }
                seen[k] = true;
                long obs = observed[first + k];
                if (obs == CrashVerifier.CORRUPT) {
                    continue; // get reported it
                }
                long[] om = observedMerges[first + k] == null ? new long[0] : observedMerges[first + k];
                if (obs == CrashVerifier.ABSENT && om.length == 0) {
                    bad++;
                    addProblem(problems, "corrupt: the iterator" + in + " yields key " + k + ", which get did not find");
                    continue;
                }
                CrashCodec.Decoded d = CrashCodec.decode(k, it.value());
                if (d.error() != null || d.put() != obs || !Arrays.equals(d.merges(), om)) {
                    bad++;
                    addProblem(problems, "corrupt: the iterator" + in + " yields key " + k + " with "
                            + (d.error() != null ? "a bad value (" + d.error() + ")" : CrashVerifier.fold(d.put(), d.merges()))
                            + " but get returned " + CrashVerifier.fold(obs, om));
                }
            }
        } catch (CorruptionException e) {
            addProblem(problems, "corrupt: the iterator" + in + " threw " + e.getMessage());
            return bad + 1;
        }
        for (int k = 0; k < keys; k++) {
            long obs = observed[first + k];
            if (!seen[k] && obs != CrashVerifier.CORRUPT && (obs != CrashVerifier.ABSENT || observedMerges[first + k] != null)) {
                bad++;
                addProblem(problems, "corrupt: get found key " + k + in + " but the iterator skips it");
            }
        }
        return bad;
    }

    /** " files=[n0, n1, …]" (SSTs per level after recovery, so a reader sees compaction at work), or "" if unknown. */
    private static String filesPerLevel(DB db) {
        try {
            io.o3lsm.DBStats s = db.stats();
            StringBuilder sb = new StringBuilder(" files=[");
            for (int l = 0; l < s.levels(); l++) {
                sb.append(l == 0 ? "" : ",").append(s.filesAtLevel(l));
            }
            return sb.append(']').toString();
        } catch (RuntimeException e) {
            return ""; // an engine without stats (the harness tests' toy)
        }
    }

    private static void addProblem(List<String> problems, String p) {
        if (problems.size() < 20) {
            problems.add(p);
        } else if (problems.size() == 20) {
            problems.add("… more read problems omitted");
        }
    }

    /** Complete ack lines in a history file being written (0 if it cannot be read). */
    private static int countAcks(Path history) {
        byte[] d;
        try {
            d = Files.readAllBytes(history);
        } catch (IOException e) {
            return 0;
        }
        int n = 0;
        int lineStart = 0;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == '\n') {
                if (d[lineStart] == 'A') {
                    n++;
                }
                lineStart = i + 1;
            }
        }
        return n;
    }

    private static boolean isLocal(URI u) {
        return u.getScheme() == null || u.getScheme().equalsIgnoreCase("file");
    }

    /**
     * Checks that the directory {@code storage} names is empty or absent and creates it; returns its
     * path within its file system.
     */
    private static Path prepareStorage(URI storage) throws IOException {
        Path p = io.o3lsm.spi.FileSystem.pathOf(storage);
        try (io.o3lsm.spi.FileSystem fs = io.o3lsm.spi.FileSystem.forUri(storage)) {
            if (fs.exists(p) && !fs.list(p).isEmpty()) {
                throw new IllegalArgumentException("--storage " + storage + " is not empty; the crash test starts from an empty DB");
            }
            fs.createDirectories(p);
        }
        return p;
    }

    static DB open(String factory, Path dir, Options options) {
        return open(factory, dir, options, null);
    }

    /** {@code families} null: {@code open(Path, Options)}; else {@code open(Path, Options, List)}. */
    static DB open(String factory, Path dir, Options options, List<ColumnFamilyDescriptor> families) {
        if (factory == null) {
            return families == null ? DB.open(dir, options) : DB.open(dir, options, families);
        }
        try {
            if (families != null) {
                Method m = Class.forName(factory).getMethod("open", Path.class, Options.class, List.class);
                return (DB) m.invoke(null, dir, options, families);
            }
            Method m = Class.forName(factory).getMethod("open", Path.class, Options.class);
            return (DB) m.invoke(null, dir, options);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("bad --db-factory " + factory + ": " + e, e);
        }
    }

    /**
     * Expected state after a verified cycle: one line per present key, "key version" ("key ?" when
     * unknown), followed by " +m1 +m2 …" for the versions of its merge operands ("key - +m1 …" when
     * they apply to no put).
     */
    private static void writeState(Path file, int cycle, long seed, long nextBatch, long nextVersion, long[] base,
            long[][] baseMerges, int keysPerFamily) throws IOException {
        StringBuilder sb = new StringBuilder(base.length * 12);
        sb.append("# o3lsm crashtest expected state: [family:]key version [+operand ...] (absent keys omitted; "
                + "family as in the history, none for the default one)\n");
        sb.append("# cycle=").append(cycle).append(" seed=").append(seed).append(" nextBatch=").append(nextBatch)
                .append(" nextVersion=").append(nextVersion).append('\n');
        for (int k = 0; k < base.length; k++) {
            long[] m = baseMerges[k];
            if (base[k] == CrashVerifier.ABSENT && m == null) {
                continue;
            }
            if (k >= keysPerFamily) {
                sb.append(k / keysPerFamily).append(':');
            }
            sb.append(k % keysPerFamily).append(' ');
            if (base[k] == CrashVerifier.UNKNOWN) {
                sb.append('?');
            } else if (base[k] == CrashVerifier.ABSENT) {
                sb.append('-');
            } else {
                sb.append(base[k]);
            }
            if (m != null) {
                for (long v : m) {
                    sb.append(" +").append(v);
                }
            }
            sb.append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void keep(Path history, Path expDir, int cycle) {
        try {
            Files.copy(history, expDir.resolve("history.cycle-" + cycle), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ignored) {
            // best effort: only for inspection
        }
    }

    private static void printTail(PrintStream out, Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            out.println("  child stderr (" + log + "), last lines:");
            for (String l : lines.subList(Math.max(0, lines.size() - 30), lines.size())) {
                out.println("    " + l);
            }
        } catch (IOException | UncheckedIOException e) {
            out.println("  (no child log: " + e + ")");
        }
    }

    private static void recreate(Path dir) throws IOException {
        if (Files.exists(dir)) {
            FileTrees.delete(dir, "crashtest");
        }
        Files.createDirectories(dir);
    }

    /** dm-flush child: waits (up to 60 s) until the DB reports {@code attached=true} in {@code o3.dm}, so every run offloads. */
    static void awaitAttached(DB db) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String st = db.property("o3.dm");
            if (st != null && st.contains("attached=true")) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("not attached to the memory node within 60 s: " + db.property("o3.dm"));
    }

    /**
     * The child process: opens the DB, prints {@value CrashTest#WRITING}, then writes random batches
     * in one thread until it is killed. Arguments are {@code name=value} pairs set by the parent.
     *
     * <p>A batch holds 1..{@value #MAX_OPS} ops: puts, deletes (merges) and, in about one batch in
     * {@value #RANGE_DELETE_ONE_IN} when range deletes are on, a range delete. Its bounds are the
     * encodings of two keys at most {@value #MAX_RANGE_SPAN} apart in key byte order (so it covers
     * 1..{@value #MAX_RANGE_SPAN} keys), the lower one sometimes cut to a prefix so a bound falls
     * between keys. About every {@code compactEvery} batches it calls
     * {@code compactRange(null, null)}. With merges, a point op of key {@code k} is a merge with
     * probability 1/4 (7/8 when {@code k} is a multiple of {@value #MERGE_HEAVY_EVERY}, whose puts and
     * deletes are then rare: long operand chains), and one write in {@value #SINGLE_MERGE_ONE_IN} is a
     * lone {@code DB.merge} instead of a batch. With {@code families > 0} a batch of more than one op
     * spans families with probability 1/{@value #CROSS_FAMILY_ONE_IN} (each op in a random family),
     * else all its ops are in one random family; a lone merge goes to a family with the merge operator
     * (the default one or {@code cf1}), and an op of a family without one is a put or a delete (1/4);
     * {@code compactRange} runs over each family in turn. Every 100 ms it prints a
     * {@value CrashTest#STATS} line with its flushes by place and its flush and compaction counts. An
     * engine without {@code deleteRange} (the probe {@code deleteRange(k, k)} throws
     * {@link UnsupportedOperationException}) or without {@code compactRange} is run without them, and
     * the child prints a {@value #NOTE} line saying so.
     */
    public static final class Child {
        static final int MAX_OPS = 20;
        static final int MAX_RANGE_SPAN = 20;
        static final int RANGE_DELETE_ONE_IN = 6;
        /** With merges, about one write in this many is a single {@code DB.merge}. */
        static final int SINGLE_MERGE_ONE_IN = 8;
        /** With merges, keys that are multiples of this get mostly merges. */
        static final int MERGE_HEAVY_EVERY = 8;
        /** With families, about one batch of more than one op in this many puts each op in a random family. */
        static final int CROSS_FAMILY_ONE_IN = 2;
        /** Prefix of stdout lines the parent relays once per run. */
        static final String NOTE = "NOTE ";

        private Child() {
        }

        public static void main(String[] args) {
            try {
                run(args);
            } catch (Throwable t) {
                System.err.println("crashtest child: failed");
                t.printStackTrace();
                System.err.flush();
                Runtime.getRuntime().halt(3);
            }
        }

        private static void run(String[] args) throws IOException {
            Map<String, String> a = new HashMap<>();
            for (String s : args) {
                int eq = s.indexOf('=');
                a.put(s.substring(0, eq), s.substring(eq + 1));
            }
            Path dir = Path.of(a.get("dir"));
            Path historyFile = Path.of(a.get("history"));
            long seed = Long.parseLong(a.get("seed"));
            int cycle = Integer.parseInt(a.get("cycle"));
            long batchId = Long.parseLong(a.get("firstBatch"));
            long version = Long.parseLong(a.get("firstVersion"));
            int keys = Integer.parseInt(a.get("keys"));
            boolean sync = Boolean.parseBoolean(a.get("sync"));
            boolean rangeDeletes = Boolean.parseBoolean(a.getOrDefault("rangeDeletes", "false")) && keys >= 2;
            int compactEvery = Integer.parseInt(a.getOrDefault("compactEvery", "0"));
            boolean merges = Boolean.parseBoolean(a.getOrDefault("merges", "false"));
            int families = Integer.parseInt(a.getOrDefault("families", "0"));
            int familyCount = families + 1;
            // families that take merges (those with the merge operator): the lone merges go to one of them
            int[] mergeFamilies = java.util.stream.IntStream.range(0, familyCount).filter(f -> mergesIn(f, merges)).toArray();
            WriteOptions wo = sync ? WriteOptions.defaults().sync(true) : WriteOptions.defaults();

            // op choices depend only on (seed, cycle)
            SplittableRandom rnd = new SplittableRandom(CrashCodec.mix64(seed * 0x9E3779B97F4A7C15L + cycle));
            int[] opKeys = new int[MAX_OPS];
            byte[] kinds = new byte[MAX_OPS];
            int[] fams = new int[MAX_OPS];
            byte[][] from = new byte[MAX_OPS][];
            byte[][] to = new byte[MAX_OPS][];
            byte[][] keyBytes = new byte[keys][];
            for (int k = 0; k < keys; k++) {
                keyBytes[k] = CrashCodec.key(k);
            }
            CrashVerifier.KeyOrder order = rangeDeletes ? new CrashVerifier.KeyOrder(keys) : null;
            URI storage = a.containsKey("storage") ? URI.create(a.get("storage")) : null;
            DB db;
            if (a.containsKey("memnode")) {
                Options o = dmFlushOptions(a.get("memnode"), Path.of(a.get("secret")), merges);
                db = openDb(a.get("factory"), storage, dir, o, families, merges).db();
                awaitAttached(db);
            } else {
                Options o = crashOptions(merges);
                db = openDb(a.get("factory"), storage, dir, o, families, merges).db();
            }
            ColumnFamilyHandle[] cfs = handles(db, families); // null without families: the plain API
            DB statsOf = db;
            Thread reporter = new Thread(() -> {
                while (true) {
                    try {
                        io.o3lsm.DBStats st = statsOf.stats();
                        System.out.println(STATS + st.flushesLocal() + " " + st.flushesOffloaded() + " "
                                + st.flushesFallback() + " " + st.offloadResultsRefused() + " " + st.flushes() + " "
                                + st.compactions());
                        System.out.flush();
                        Thread.sleep(100);
                    } catch (InterruptedException | RuntimeException e) {
                        return; // killed, or an engine without stats (the harness tests' toys)
                    }
                }
            }, "crashtest-child-stats");
            reporter.setDaemon(true);
            reporter.start();
            if (rangeDeletes) {
                try {
                    db.deleteRange(keyBytes[0], keyBytes[0]); // empty range: a no-op that tells whether it exists
                } catch (UnsupportedOperationException e) {
                    rangeDeletes = false;
                    System.out.println(NOTE + "range deletes off: deleteRange is not supported (" + e.getMessage() + ")");
                }
            }
            long nextCompaction = compactEvery > 0 ? 1 + rnd.nextInt(2 * compactEvery) : Long.MAX_VALUE;
            long batches = 0;
            // APPEND + plain write(): each record reaches the OS before the next step; see CrashHistory.Writer
            try (FileChannel ch = FileChannel.open(historyFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                CrashHistory.Writer history = new CrashHistory.Writer(ch);
                WriteBatch batch = new WriteBatch();
                System.out.println(WRITING);
                System.out.flush();
                while (true) {
                    boolean single = merges && rnd.nextInt(SINGLE_MERGE_ONE_IN) == 0;
                    int n = single ? 1 : 1 + rnd.nextInt(MAX_OPS);
                    int rangeAt = !single && rangeDeletes && rnd.nextInt(RANGE_DELETE_ONE_IN) == 0 ? rnd.nextInt(n) : -1;
                    // without families no draw here: the same seed gives the same ops as before families
                    boolean cross = false;
                    int home = 0;
                    if (familyCount > 1) {
                        cross = !single && n > 1 && rnd.nextInt(CROSS_FAMILY_ONE_IN) == 0;
                        home = single ? mergeFamilies[rnd.nextInt(mergeFamilies.length)] : rnd.nextInt(familyCount);
                    }
                    for (int i = 0; i < n; i++) {
                        fams[i] = cross ? rnd.nextInt(familyCount) : home;
                        if (i == rangeAt) {
                            int lo = rnd.nextInt(keys - 1);
                            int hi = Math.min(keys - 1, lo + 1 + rnd.nextInt(MAX_RANGE_SPAN));
                            byte[] f = order.encodedAt(lo);
                            if (rnd.nextInt(8) == 0) {
                                f = Arrays.copyOf(f, 2 + rnd.nextInt(f.length - 2)); // a prefix: between keys
                            }
                            kinds[i] = 'R';
                            from[i] = f;
                            to[i] = order.encodedAt(hi);
                            opKeys[i] = -1;
                            continue;
                        }
                        int k = rnd.nextInt(keys);
                        opKeys[i] = k;
                        if (single) {
                            kinds[i] = 'M';
                        } else if (!mergesIn(fams[i], merges)) {
                            kinds[i] = (byte) (rnd.nextInt(4) == 0 ? 'D' : 'P');
                        } else if (k % MERGE_HEAVY_EVERY == 0) {
                            int x = rnd.nextInt(16);
                            kinds[i] = (byte) (x == 0 ? 'D' : x == 1 ? 'P' : 'M');
                        } else {
                            int x = rnd.nextInt(8);
                            kinds[i] = (byte) (x < 2 ? 'D' : x < 4 ? 'M' : 'P');
                        }
                    }
                    history.intent(batchId, version, n, opKeys, kinds, from, to, cfs == null ? null : fams);
                    if (single) {
                        byte[] token = CrashCodec.mergeToken(opKeys[0], version);
                        if (cfs == null) {
                            db.merge(keyBytes[opKeys[0]], token, wo);
                        } else {
                            db.merge(cfs[fams[0]], keyBytes[opKeys[0]], token, wo);
                        }
                    } else {
                        batch.clear();
                        for (int i = 0; i < n; i++) {
                            int k = opKeys[i];
                            ColumnFamilyHandle cf = cfs == null ? null : cfs[fams[i]];
                            if (kinds[i] == 'R') {
                                if (cf == null) {
                                    batch.deleteRange(from[i], to[i]);
                                } else {
                                    batch.deleteRange(cf, from[i], to[i]);
                                }
                            } else if (kinds[i] == 'D') {
                                if (cf == null) {
                                    batch.delete(keyBytes[k]);
                                } else {
                                    batch.delete(cf, keyBytes[k]);
                                }
                            } else if (kinds[i] == 'M') {
                                byte[] token = CrashCodec.mergeToken(k, version + i);
                                if (cf == null) {
                                    batch.merge(keyBytes[k], token);
                                } else {
                                    batch.merge(cf, keyBytes[k], token);
                                }
                            } else {
                                byte[] value = CrashCodec.value(k, version + i);
                                if (cf == null) {
                                    batch.put(keyBytes[k], value);
                                } else {
                                    batch.put(cf, keyBytes[k], value);
                                }
                            }
                        }
                        db.write(batch, wo);
                    }
                    history.ack(batchId);
                    batchId++;
                    version += n;
                    if (++batches >= nextCompaction) {
                        nextCompaction = batches + 1 + rnd.nextInt(2 * compactEvery);
                        try {
                            if (cfs == null) {
                                db.compactRange(null, null);
                            } else {
                                for (ColumnFamilyHandle cf : cfs) {
                                    db.compactRange(cf, null, null);
                                }
                            }
                        } catch (UnsupportedOperationException e) {
                            nextCompaction = Long.MAX_VALUE;
                            System.out.println(NOTE + "compactRange off: not supported (" + e.getMessage() + ")");
                            System.out.flush();
                        }
                    }
                }
            }
        }
    }
}
