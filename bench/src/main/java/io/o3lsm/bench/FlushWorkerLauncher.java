package io.o3lsm.bench;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A flush worker ({@code io.o3lsm.flush.FlushWorkerMain}, what {@code bin/o3 flushworker} runs), or
 * a compactor ({@code io.o3lsm.compaction.CompactorMain}, {@code bin/o3 compactor}; {@link #compactor}),
 * as a child JVM of the benchmark runner or the crash test, with the caller's class path (which holds
 * the o3lsm-flush jar and its dependencies) and the UCX environment, optionally behind a CPU pinning
 * prefix ({@link Pinning#prefix}). Its stderr goes to a log file.
 *
 * <p>{@link #start} returns once the worker logged {@code registered with memory node}. {@link #stop}
 * sends SIGTERM (the worker cancels running jobs and exits 0), then SIGKILL after 15 s. A shutdown
 * hook kills it if the caller exits first. Not thread-safe.
 */
public final class FlushWorkerLauncher implements AutoCloseable {
    static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String name;
    private final Path log;
    private final List<String> command;
    /** What the child logs once it is ready. */
    private final String readyMarker;
    private Process process;
    private Thread hook;

    /**
     * @param logDir  where the log file goes ({@code flushworker-NAME.log})
     * @param storage the shared storage root: every DB directory of its jobs must lie under it
     * @param prefix  command prefix (e.g. {@code taskset -c 1}), or empty
     */
    public FlushWorkerLauncher(Path logDir, String name, String memnode, Path secretFile, Path storage, int slots,
            List<String> prefix) {
        this("io.o3lsm.flush.FlushWorkerMain", "flushworker", "256m", logDir, name, memnode, secretFile,
                storage.toAbsolutePath().toString(), slots, prefix);
    }

    private FlushWorkerLauncher(String mainClass, String kind, String heap, Path logDir, String name, String memnode,
            Path secretFile, String storage, int slots, List<String> prefix) {
        this(kind, heap, logDir, name, prefix, "registered with memory node", List.of(mainClass,
                "--memnode", memnode, "--secret-file", secretFile.toString(),
                "--storage", storage, "--name", name, "--slots", Integer.toString(slots)));
    }

    private FlushWorkerLauncher(String kind, String heap, Path logDir, String name, List<String> prefix,
            String readyMarker, List<String> mainAndArgs) {
        this.name = name;
        this.readyMarker = readyMarker;
        this.log = logDir.resolve(kind + "-" + name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command = new ArrayList<>(prefix);
        command.addAll(List.of(java, "-Xms64m", "-Xmx" + heap,
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path")));
        command.addAll(mainAndArgs);
    }

    /**
     * A backup ({@code bin/o3 replica}) following {@code primary} in {@code dir}; with {@code rebuild}
     * the baseline that replays the log and flushes and compacts for itself. Ready once it logged
     * that it follows (it connects and catches up in the background).
     */
    public static FlushWorkerLauncher replica(Path logDir, String name, String primary, Path secretFile, Path dir,
            boolean rebuild, List<String> prefix) {
        List<String> args = new ArrayList<>(List.of("io.o3lsm.dm.ReplicaMain", "--primary", primary, "--dir",
                dir.toString(), "--secret-file", secretFile.toString(), "--stats-interval", "0"));
        if (rebuild) {
            args.add("--rebuild-tables");
            args.add("true");
        }
        return new FlushWorkerLauncher("replica", "2g", logDir, name, prefix, "following ", args);
    }

    /**
     * A compactor ({@code bin/o3 compactor}): runs up to {@code slots} compactions of any DB at once on
     * the shared storage {@code storage} (a URI or a local directory every DB directory lies under).
     */
    public static FlushWorkerLauncher compactor(Path logDir, String name, String memnode, Path secretFile,
            String storage, int slots, List<String> prefix) {
        return new FlushWorkerLauncher("io.o3lsm.compaction.CompactorMain", "compactor", "512m", logDir, name, memnode,
                secretFile, storage, slots, prefix);
    }

    /** Starts the worker and waits until it registered with the memory node; fails with its log otherwise. */
    public FlushWorkerLauncher start() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        process = pb.start();
        Process p = process;
        hook = new Thread(p::destroyForcibly, "worker-killer " + name);
        Runtime.getRuntime().addShutdownHook(hook);
        long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (output().contains(readyMarker)) {
                return this;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("worker " + name + " exited with status " + p.exitValue() + ":\n" + output());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("worker " + name + " did not register within 30 s:\n" + output());
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The log so far. */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** Jobs the worker logged as done ({@code "... done: ..."} lines). */
    public int jobsDone() {
        int n = 0;
        for (String line : output().split("\n")) {
            if (line.contains(" done: ")) {
                n++;
            }
        }
        return n;
    }

    /**
     * "N job(s) done, X MB read, Y MB written, mean Z ms per job" from the worker's
     * {@code done: K input(s), B bytes read, F file(s), W bytes written, T ms} lines.
     */
    public String jobSummary() {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(
                " done: \\d+ input\\(s\\), (\\d+) bytes read, \\d+ file\\(s\\), (\\d+) bytes written, ([0-9.]+) ms");
        int n = 0;
        long read = 0;
        long written = 0;
        double ms = 0;
        for (String line : output().split("\n")) {
            java.util.regex.Matcher m = p.matcher(line);
            if (m.find()) {
                n++;
                read += Long.parseLong(m.group(1));
                written += Long.parseLong(m.group(2));
                ms += Double.parseDouble(m.group(3));
            }
        }
        return String.format(java.util.Locale.ROOT, "%d job(s) done, %.1f MB read, %.1f MB written, mean %.1f MB read and %.1f ms per job",
                n, read / 1e6, written / 1e6, n == 0 ? 0.0 : read / 1e6 / n, n == 0 ? 0.0 : ms / n);
    }

    /** SIGTERM, 15 s, then SIGKILL; returns the exit status or -1. */
    public int stop() throws InterruptedException {
        if (process == null) {
            return -1;
        }
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            hook = null;
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
