package io.o3lsm.bench;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code bin/o3 cluster up|status|down}: the three-layer design's daemons as real background
 * processes on this machine — a memory node (with the flush and compaction coordinator), N flush
 * workers and M compactors sharing one storage root (a directory, or HDFS) — for DBs opened in o3 mode against it
 * ({@code bin/o3 bench --cluster DIR}, or {@code Options.memoryNode} with the address and secret it
 * prints). Operations guide: {@code docs/operations/cluster.md}.
 *
 * <p>Nodes are emulated by CPU placement: with {@code pin=true} (the default on a machine with two
 * or more CPUs and taskset) every daemon runs on {@code daemon-cpus} (default: CPU 1), leaving the
 * others to the compute node. Everything lives under one directory ({@code --dir}, default
 * {@code ~/.o3lsm/cluster}):
 * <pre>
 *   cluster.properties   the settings of the last up, and the memory node's address
 *   secret               the cluster secret (0600)
 *   storage/             the shared storage root: DB directories go under it
 *   logs/ROLE.log        each daemon's output (ROLE: memnode, flushworker-I, compactor-I)
 *   run/ROLE.pid         pid of each running daemon
 * </pre>
 *
 * <p>{@code up} refuses while daemons of this directory run, starts the memory node and waits until
 * it listens, then starts the workers and waits until each registered with it; a start that fails
 * stops what it started. {@code status} prints one line per process (up or down, pid, CPU seconds,
 * RSS, jobs done, bytes read and written by its jobs) and the storage used. {@code down} sends
 * SIGTERM to the workers, then the memory node, waits {@code --grace} seconds, then SIGKILLs what
 * is left. Settings come from {@code --config FILE} (properties: the flag names without dashes)
 * and the flags, which win.
 *
 * <p>Exit codes: 0 done (status: every daemon runs); 1 failed; 2 bad arguments; 3 {@code up}:
 * already running, {@code status}: not running; 4 {@code status}: partly running.
 */
public final class Cluster {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_RUNNING_OR_NOT = 3;
    static final int EXIT_PARTLY = 4;
    /** A daemon's JVM carries {@code -Do3lsm.cluster.daemon=ROLE@DIR}: how a pid is told apart from a reused one. */
    static final String MARKER = "-Do3lsm.cluster.daemon=";

    static final String USAGE = String.join("\n",
            "usage: bin/o3 cluster up     [--dir DIR] [--config FILE] [--flush-workers N] [--compactors M]",
            "                             [--compactor-slots S] [--flush-worker-slots S] [--capacity SIZE]",
            "                             [--memnode-threads N] [--pin true|false] [--daemon-cpus LIST] [--timeout SECONDS]",
            "                             [--storage DIR|hdfs://HOST:PORT/DIR]",
            "       bin/o3 cluster status [--dir DIR]",
            "       bin/o3 cluster down   [--dir DIR] [--grace SECONDS]",
            "defaults: --dir ~/.o3lsm/cluster, 2 flush workers (1 slot each), 1 compactor (2 slots),",
            "capacity 1280m, pinned to CPU 1 when the machine has 2 or more CPUs and taskset");

    /** Settings keys and their defaults (also the flags: --KEY VALUE). */
    static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("flush-workers", "2");
        DEFAULTS.put("flush-worker-slots", "1");
        DEFAULTS.put("compactors", "1");
        DEFAULTS.put("compactor-slots", "2");
        DEFAULTS.put("capacity", "1280m");
        DEFAULTS.put("memnode-threads", "1");
        DEFAULTS.put("pin", "auto");
        DEFAULTS.put("daemon-cpus", "1");
        DEFAULTS.put("timeout", "60");
        DEFAULTS.put("grace", "15");
        DEFAULTS.put("storage", ""); // empty: DIR/storage
    }

    private final Path dir;
    private final io.o3lsm.hdfs.DaemonPids pids;
    private final Map<String, String> settings;
    private final PrintStream out;
    private final PrintStream err;

    Cluster(Path dir, Map<String, String> settings, PrintStream out, PrintStream err) {
        this.dir = canonical(dir);
        this.pids = new io.o3lsm.hdfs.DaemonPids(this.dir, MARKER);
        this.settings = settings;
        this.out = out;
        this.err = err;
    }

    /** The directory's real path when it exists (symlinks resolved: one cluster, one marker), else absolute. */
    static Path canonical(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }

    /** Whether a storage location names a remote file system ({@code hdfs://…}), not a local directory. */
    static boolean isRemote(java.net.URI storage) {
        return storage.getScheme() != null && !storage.getScheme().equalsIgnoreCase("file");
    }

    /** Whether the memory node of the cluster in {@code dir} runs (for {@code bench --cluster}). */
    static boolean memnodeRuns(Path dir) {
        return runningDaemons(dir).containsKey("memnode");
    }

    /**
     * The daemons of the cluster in {@code dir} that run, by role, in role order (pid files whose
     * process ended, or whose pid now belongs to another process, left out); empty if none or
     * unreadable.
     */
    static Map<String, Long> runningDaemons(Path dir) {
        Map<String, Long> running = new LinkedHashMap<>();
        try {
            Cluster c = new Cluster(dir, DEFAULTS, System.out, System.err);
            for (String role : c.rolesOnDisk()) {
                c.runningPid(role).ifPresent(pid -> running.put(role, pid));
            }
        } catch (IOException e) {
            // no run directory, or it cannot be listed: nothing runs that we can name
        }
        return running;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || List.of("-h", "--help", "help").contains(args[0])) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? EXIT_USAGE : EXIT_OK;
        }
        String cmd = args[0];
        Map<String, String> flags = new LinkedHashMap<>();
        Path dir = Path.of(System.getProperty("user.home"), ".o3lsm", "cluster");
        Path config = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                err.println("o3 cluster: expected --flag value, found '" + a + "'\n" + USAGE);
                return EXIT_USAGE;
            }
            String key = a.substring(2);
            String value = args[++i];
            if (key.equals("dir")) {
                dir = Path.of(value);
            } else if (key.equals("config")) {
                config = Path.of(value);
            } else if (DEFAULTS.containsKey(key)) {
                flags.put(key, value);
            } else {
                err.println("o3 cluster: unknown flag --" + key + "\n" + USAGE);
                return EXIT_USAGE;
            }
        }
        Map<String, String> settings = new LinkedHashMap<>(DEFAULTS);
        if (config != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                err.println("o3 cluster: cannot read --config " + config + ": " + e.getMessage());
                return EXIT_USAGE;
            }
            for (String k : p.stringPropertyNames()) {
                if (!DEFAULTS.containsKey(k)) {
                    err.println("o3 cluster: unknown setting '" + k + "' in " + config + " (known: "
                            + String.join(", ", DEFAULTS.keySet()) + ")");
                    return EXIT_USAGE;
                }
                settings.put(k, p.getProperty(k).trim());
            }
        }
        settings.putAll(flags);
        try {
            validate(settings);
        } catch (IllegalArgumentException e) {
            err.println("o3 cluster: " + e.getMessage());
            return EXIT_USAGE;
        }
        Cluster c = new Cluster(dir, settings, out, err);
        try {
            switch (cmd) {
                case "up":
                    return c.locked(c::up, true);
                case "down":
                    return c.locked(c::down, false);
                case "status":
                    return c.status();
                default:
                    err.println("o3 cluster: unknown command '" + cmd + "'\n" + USAGE);
                    return EXIT_USAGE;
            }
        } catch (IOException | RuntimeException e) {
            err.println("o3 cluster " + cmd + " failed: " + e);
            return EXIT_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_FAILED;
        }
    }

    static void validate(Map<String, String> s) {
        intIn(s, "flush-workers", 0, 64);
        intIn(s, "flush-worker-slots", 1, 1024);
        intIn(s, "compactors", 0, 64);
        intIn(s, "compactor-slots", 1, 1024);
        intIn(s, "memnode-threads", 1, 256);
        intIn(s, "timeout", 1, 3600);
        intIn(s, "grace", 0, 3600);
        try {
            if (Bench.parseSize(s.get("capacity")) < (64L << 20)) {
                throw new IllegalArgumentException("capacity must be at least 64m, was " + s.get("capacity"));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("capacity: " + e.getMessage());
        }
        if (!List.of("auto", "true", "false").contains(s.get("pin"))) {
            throw new IllegalArgumentException("pin must be auto, true or false, was " + s.get("pin"));
        }
        if (!s.get("storage").isEmpty()) {
            java.net.URI u;
            try {
                u = io.o3lsm.spi.FileSystem.location(s.get("storage"));
                io.o3lsm.spi.FileSystem.pathOf(u);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("storage: " + e.getMessage());
            }
            String scheme = u.getScheme() == null ? "file" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("file") && !(scheme.equals("hdfs") && u.getHost() != null)) {
                throw new IllegalArgumentException("storage must be a local directory or hdfs://HOST:PORT/DIR, was "
                        + s.get("storage"));
            }
            if (scheme.equals("file") && s.get("storage").matches("[A-Za-z][A-Za-z0-9+.-]*:.*")
                    && !s.get("storage").regionMatches(true, 0, "file:", 0, 5)) {
                throw new IllegalArgumentException("storage looks like a URI but is not one (hdfs://HOST:PORT/DIR, or a"
                        + " directory): " + s.get("storage"));
            }
        }
        if (!s.get("daemon-cpus").matches("[0-9]+([-,][0-9]+)*")) {
            throw new IllegalArgumentException("daemon-cpus must be a CPU list such as 1 or 1-3, was " + s.get("daemon-cpus"));
        }
    }

    private static int intIn(Map<String, String> s, String key, int min, int max) {
        int v;
        try {
            v = Integer.parseInt(s.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, was '" + s.get(key) + "'");
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException(key + " must be in [" + min + ", " + max + "], was " + v);
        }
        return v;
    }

    private int intSetting(String key) {
        return Integer.parseInt(settings.get(key));
    }

    private interface Command {
        int run() throws IOException, InterruptedException;
    }

    /** Runs {@code c} holding the directory's lock (two commands on one cluster exclude each other). */
    private int locked(Command c, boolean create) throws IOException, InterruptedException {
        if (!create && !Files.isDirectory(dir)) {
            err.println("o3 cluster: no cluster in " + dir);
            return EXIT_OK;
        }
        Files.createDirectories(dir);
        try (FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = ch.tryLock()) {
            if (lock == null) {
                err.println("o3 cluster: another cluster command runs on " + dir);
                return EXIT_FAILED;
            }
            return c.run();
        }
    }

    // ---------------------------------------------------------------- up

    private int up() throws IOException, InterruptedException {
        deleteStalePidFiles();
        List<String> running = new ArrayList<>();
        for (String role : rolesOnDisk()) {
            runningPid(role).ifPresent(p -> running.add(role + " (pid " + p + ")"));
        }
        if (!running.isEmpty()) {
            err.println("o3 cluster: already running in " + dir + ": " + String.join(", ", running)
                    + " (stop it with: bin/o3 cluster down --dir " + dir + ")");
            return EXIT_RUNNING_OR_NOT;
        }
        for (String sub : List.of("logs", "run", "storage")) {
            Files.createDirectories(dir.resolve(sub));
        }
        Path secret = dir.resolve("secret");
        if (Files.exists(secret) && Files.size(secret) == 0) {
            Files.delete(secret); // an up that died while writing it
        }
        if (!Files.exists(secret)) {
            MemNodeLauncher.newSecret(secret);
        }
        List<String> prefix = pinPrefix();
        int port = MemNodeLauncher.freePort();
        String address = "127.0.0.1:" + port;
        String storage;
        try {
            storage = prepareStorage();
        } catch (IOException | RuntimeException e) {
            err.println("o3 cluster: cannot use the storage " + settings.get("storage") + ": " + e.getMessage());
            return EXIT_FAILED;
        }
        long timeout = TimeUnit.SECONDS.toNanos(intSetting("timeout"));
        Map<String, Long> started = new LinkedHashMap<>();
        // interrupted (Ctrl-C, SIGTERM) before it finished: what it started is stopped, not orphaned
        boolean[] done = {false};
        Thread hook = new Thread(() -> {
            if (!done[0]) {
                try {
                    for (long pid : List.copyOf(started.values())) {
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    }
                } catch (RuntimeException e) {
                    // exiting anyway
                }
            }
        }, "o3-cluster-up-abort");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            started.put("memnode", start("memnode", prefix, "512m", "io.o3lsm.dm.MemNode", List.of("--listen", address,
                    "--capacity", settings.get("capacity"), "--secret-file", secret.toString(),
                    "--threads", settings.get("memnode-threads"), "--stats-interval", "10")));
            await("memnode", started, "listening on", timeout);
            for (int i = 1; i <= intSetting("flush-workers"); i++) {
                String role = "flushworker-" + i;
                started.put(role, start(role, prefix, "256m", "io.o3lsm.flush.FlushWorkerMain", List.of("--memnode", address,
                        "--secret-file", secret.toString(), "--storage", storage, "--name", "cluster-w" + i,
                        "--slots", settings.get("flush-worker-slots"))));
            }
            for (int i = 1; i <= intSetting("compactors"); i++) {
                String role = "compactor-" + i;
                started.put(role, start(role, prefix, "512m", "io.o3lsm.compaction.CompactorMain", List.of("--memnode",
                        address, "--secret-file", secret.toString(), "--storage", storage, "--name",
                        "cluster-c" + i, "--slots", settings.get("compactor-slots"))));
            }
            for (String role : started.keySet()) {
                if (!role.equals("memnode")) {
                    await(role, started, "registered with memory node", timeout);
                }
            }
        } catch (FailedStart e) {
            err.println("o3 cluster: " + e.getMessage());
            stop(started, 5);
            done[0] = true;
            return EXIT_FAILED;
        } catch (IOException | RuntimeException e) {
            stop(started, 5);
            done[0] = true;
            throw e;
        }
        done[0] = true;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down already
        }
        Properties p = new Properties();
        p.putAll(settings);
        p.setProperty("memnode", address);
        p.setProperty("secret-file", secret.toString());
        p.setProperty("storage", storage);
        p.setProperty("daemon-prefix", String.join(" ", prefix));
        try (Writer w = Files.newBufferedWriter(dir.resolve("cluster.properties"), StandardCharsets.UTF_8)) {
            p.store(w, "bin/o3 cluster up, " + Instant.now());
        }
        err.println("o3 cluster: up in " + dir + ": memory node " + address + ", " + settings.get("flush-workers")
                + " flush worker(s), " + settings.get("compactors") + " compactor(s), storage " + storage
                + (prefix.isEmpty() ? ", not pinned" : ", daemons on CPU " + settings.get("daemon-cpus"))
                + "; stop with: bin/o3 cluster down --dir " + dir);
        out.println(address);
        out.flush();
        return EXIT_OK;
    }

    /**
     * The shared storage root every daemon gets, made if missing: {@code DIR/storage} by default, a
     * local directory, or a URI of a remote file system ({@code hdfs://HOST:PORT/DIR}, which must be
     * reachable now: {@code bin/o3 hdfs up} starts one on this machine).
     */
    private String prepareStorage() throws IOException {
        String s = settings.get("storage");
        if (s.isEmpty()) {
            return dir.resolve("storage").toString();
        }
        java.net.URI u = io.o3lsm.spi.FileSystem.location(s);
        Path root = io.o3lsm.spi.FileSystem.pathOf(u);
        if (!isRemote(u)) {
            try {
                return Files.createDirectories(root).toString();
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new IOException("it exists and is not a directory");
            }
        }
        // Hadoop's client retries a connection for a long time (minutes, for a host that drops
        // packets): the check is bounded by --timeout
        java.util.concurrent.ExecutorService probe = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "o3-cluster-storage-check");
            t.setDaemon(true);
            return t;
        });
        try {
            probe.submit(() -> {
                try (io.o3lsm.spi.FileSystem fs = io.o3lsm.spi.FileSystem.forUri(u)) {
                    fs.createDirectories(root);
                }
                return null;
            }).get(intSetting("timeout"), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("no answer within --timeout " + intSetting("timeout") + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(String.valueOf(c), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            probe.shutdownNow();
        }
        return u.toString();
    }

    /** The taskset prefix for the daemons, or none. */
    private List<String> pinPrefix() {
        String pin = settings.get("pin");
        if (pin.equals("false")) {
            return List.of();
        }
        if (pin.equals("auto") && (Runtime.getRuntime().availableProcessors() < 2 || Pinning.taskset() == null)) {
            return List.of();
        }
        return Pinning.prefix(settings.get("daemon-cpus"));
    }

    private static final class FailedStart extends Exception {
        FailedStart(String message) {
            super(message);
        }
    }

    /** Starts one daemon in the background (its own session), output appended to its log; returns its pid. */
    private long start(String role, List<String> prefix, String heap, String mainClass, List<String> args)
            throws IOException {
        Path log = log(role);
        List<String> cmd = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                cmd.add(setsid); // not a group leader, so setsid execs in place: the pid is the daemon's
                break;
            }
        }
        cmd.addAll(prefix); // taskset execs in place too
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms64m", "-Xmx" + heap,
                pids.markerOf(role),
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", productionClassPath(), mainClass));
        cmd.addAll(args);
        Files.writeString(log, "=== " + Instant.now() + " bin/o3 cluster up starts: " + String.join(" ", cmd) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        long pid = pb.start().pid();
        Files.writeString(pidFile(role), pid + "\n", StandardCharsets.UTF_8);
        return pid;
    }

    /**
     * This JVM's class path without test artifacts ({@code *-tests.jar}, {@code test-classes}): the
     * daemons must find the real UCX client by ServiceLoader, not a test stand-in (under Maven's
     * test runner, core's test jar registers in-process fakes).
     */
    static String productionClassPath() {
        List<String> keep = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty() && !e.endsWith("-tests.jar") && !e.contains("test-classes")) {
                keep.add(e);
            }
        }
        return String.join(java.io.File.pathSeparator, keep);
    }

    /** Waits until {@code role}'s log (since its last start) contains {@code ready}; fails if it exits first. */
    private void await(String role, Map<String, Long> started, String ready, long timeoutNanos)
            throws IOException, InterruptedException, FailedStart {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            if (sinceLastStart(log(role)).contains(ready)) {
                return;
            }
            if (!isRunning(started.get(role))) {
                throw new FailedStart(role + " exited during start-up; its log " + log(role) + " ends:\n"
                        + tail(sinceLastStart(log(role))));
            }
            if (System.nanoTime() > deadline) {
                throw new FailedStart(role + " was not ready ('" + ready + "') within " + settings.get("timeout")
                        + " s; its log " + log(role) + " ends:\n" + tail(sinceLastStart(log(role))));
            }
            Thread.sleep(50);
        }
    }

    // ---------------------------------------------------------------- down

    private int down() throws IOException, InterruptedException {
        Map<String, Long> procs = new LinkedHashMap<>();
        for (String role : rolesOnDisk()) {
            runningPid(role).ifPresent(p -> procs.put(role, p));
        }
        deleteStalePidFiles();
        if (procs.isEmpty()) {
            err.println("o3 cluster: nothing runs in " + dir);
            return EXIT_OK;
        }
        List<String> left = stop(procs, intSetting("grace"));
        if (!left.isEmpty()) {
            err.println("o3 cluster: still running after SIGKILL: " + String.join(", ", left));
            return EXIT_FAILED;
        }
        return EXIT_OK;
    }

    /**
     * SIGTERM to the workers, then (once they ended) the memory node; up to {@code graceSeconds}
     * each, then SIGKILL. Returns what still runs.
     */
    private List<String> stop(Map<String, Long> procs, long graceSeconds) throws IOException, InterruptedException {
        List<String> report = new ArrayList<>();
        List<String> left = new ArrayList<>();
        Map<String, Long> workers = new LinkedHashMap<>(procs);
        Long node = workers.remove("memnode");
        stopGroup(workers, graceSeconds, report, left);
        if (node != null) {
            stopGroup(Map.of("memnode", node), graceSeconds, report, left);
        }
        if (!report.isEmpty()) {
            err.println("o3 cluster: stopped " + String.join(", ", report));
        }
        return left;
    }

    private void stopGroup(Map<String, Long> group, long graceSeconds, List<String> report, List<String> left)
            throws IOException, InterruptedException {
        for (long pid : group.values()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        while (System.nanoTime() < deadline && group.values().stream().anyMatch(Cluster::isRunning)) {
            Thread.sleep(50);
        }
        List<String> killed = new ArrayList<>();
        for (Map.Entry<String, Long> e : group.entrySet()) {
            if (isRunning(e.getValue())) {
                ProcessHandle.of(e.getValue()).ifPresent(ProcessHandle::destroyForcibly);
                killed.add(e.getKey());
            }
        }
        long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < killDeadline && group.values().stream().anyMatch(Cluster::isRunning)) {
            Thread.sleep(50);
        }
        for (Map.Entry<String, Long> e : group.entrySet()) {
            String what = e.getKey() + " (pid " + e.getValue() + ")";
            if (isRunning(e.getValue())) {
                left.add(what);
                continue;
            }
            Files.deleteIfExists(pidFile(e.getKey()));
            boolean clean = sinceLastStart(log(e.getKey())).contains("closed cleanly");
            report.add(what + (killed.contains(e.getKey()) ? " killed after " + graceSeconds + " s"
                    : clean ? " closed cleanly" : " exited"));
        }
    }

    // ---------------------------------------------------------------- status

    private int status() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve("cluster.properties"), StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            out.println("no cluster in " + dir + " (start one with: bin/o3 cluster up --dir " + dir + ")");
            return EXIT_RUNNING_OR_NOT;
        }
        List<String> roles = new ArrayList<>();
        roles.add("memnode");
        for (int i = 1; i <= Integer.parseInt(p.getProperty("flush-workers", "0")); i++) {
            roles.add("flushworker-" + i);
        }
        for (int i = 1; i <= Integer.parseInt(p.getProperty("compactors", "0")); i++) {
            roles.add("compactor-" + i);
        }
        int up = 0;
        StringBuilder lines = new StringBuilder();
        for (String role : roles) {
            Optional<Long> pid = runningPid(role);
            String log = sinceLastStart(log(role));
            String jobs = role.equals("memnode") ? memnodeJobs(log) : workerJobs(log);
            if (pid.isPresent()) {
                up++;
                long id = pid.get();
                lines.append(String.format(Locale.ROOT, "  %-14s up    pid %-7d CPU %-5s  %7.2f s CPU  RSS %6.1f MB  %s%n",
                        role, id, Pinning.allowedCpus(id), Pinning.cpuSeconds(id), Math.max(0, Pinning.rssBytes(id)) / 1e6, jobs));
            } else {
                lines.append(String.format(Locale.ROOT, "  %-14s down  %s%n", role, jobs));
            }
        }
        String state = up == 0 ? "not running" : up == roles.size() ? "running" : "partly running";
        String storage = p.getProperty("storage", "");
        boolean localStorage = !isRemote(io.o3lsm.spi.FileSystem.location(storage));
        out.print("cluster in " + dir + ": " + state + "\n"
                + "  memory node    " + p.getProperty("memnode") + " (secret " + p.getProperty("secret-file") + ")\n"
                + "  storage        " + storage + (localStorage ? String.format(Locale.ROOT, ", %.1f MB",
                        sizeOf(io.o3lsm.spi.FileSystem.pathOf(io.o3lsm.spi.FileSystem.location(storage))) / 1e6)
                        : " (remote: size not measured)") + "\n"
                + lines);
        out.flush();
        return up == 0 ? EXIT_RUNNING_OR_NOT : up == roles.size() ? EXIT_OK : EXIT_PARTLY;
    }

    /** A worker's jobs from its log: {@code done: K input(s), B bytes read, F file(s), W bytes written, T ms} lines. */
    static String workerJobs(String log) {
        int n = 0;
        long read = 0;
        long written = 0;
        for (String line : log.split("\n")) {
            int at = line.indexOf(" done: ");
            if (at < 0) {
                continue;
            }
            n++;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) bytes read.*?(\\d+) bytes written")
                    .matcher(line.substring(at));
            if (m.find()) {
                read += Long.parseLong(m.group(1));
                written += Long.parseLong(m.group(2));
            }
        }
        return String.format(Locale.ROOT, "%d job(s) done, %.1f MB in, %.1f MB out", n, read / 1e6, written / 1e6);
    }

    /** The memory node's last {@code jobs:} line (its coordinator's counters), if it logged one. */
    static String memnodeJobs(String log) {
        String last = null;
        for (String line : log.split("\n")) {
            int at = line.indexOf("jobs: ");
            if (at >= 0) {
                last = line.substring(at);
            }
        }
        return last != null ? last : "no jobs logged yet";
    }

    private static long sizeOf(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // deleted meanwhile (a compaction's input)
                }
            }).sum();
        } catch (java.io.UncheckedIOException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- pids and files

    Path log(String role) {
        return dir.resolve("logs").resolve(role + ".log");
    }

    Path pidFile(String role) {
        return pids.pidFile(role);
    }

    private List<String> rolesOnDisk() throws IOException {
        return pids.rolesOnDisk();
    }

    /** The pid in the role's pid file, if that process runs and is this directory's daemon. */
    Optional<Long> runningPid(String role) throws IOException {
        return pids.runningPid(role);
    }

    private void deleteStalePidFiles() throws IOException {
        pids.deleteStale();
    }

    /** Whether the process exists and has not exited (a zombie counts as ended). */
    static boolean isRunning(long pid) {
        return io.o3lsm.hdfs.DaemonPids.isRunning(pid);
    }

    /** The log from the last {@code up}'s banner on (logs are appended across restarts). */
    static String sinceLastStart(Path log) {
        try {
            String s = new String(Files.readAllBytes(log), StandardCharsets.UTF_8); // a bad byte is replaced, not fatal
            int at = s.lastIndexOf(" bin/o3 cluster up starts: ");
            return at < 0 ? s : s.substring(s.lastIndexOf('\n', at) + 1);
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(String s) {
        String[] lines = s.split("\n");
        return String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - 25), lines.length));
    }
}
