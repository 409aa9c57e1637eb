package io.o3lsm.bench;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A memory node that {@code bin/o3 bench --mode dm} starts for itself when no {@code --memnode} is
 * given: a child JVM running {@code io.o3lsm.dm.MemNode} (through {@link MemNodeChild}, which only
 * adds "exit when the runner's pipe closes") with the runner's own class path and the UCX
 * environment ({@link UcxEnvironment#VARIABLES}), listening on a free port of 127.0.0.1, with a
 * fresh 32-byte secret in a temporary file.
 *
 * <p>{@link #start} returns once the node logged {@code listening on}. {@link #stop} closes the
 * child's stdin (its watchdog exits with status 0 through the node's clean shutdown), escalating to
 * SIGTERM and then SIGKILL after 15 s each. Not SIGTERM first: {@code Process.destroy()} also
 * closes the pipe, and the watchdog's exit racing the signal made the status 0 or 143. If the
 * runner exits some other way, a shutdown hook kills the child; if the runner is killed outright
 * (SIGKILL, OOM killer), the child sees its stdin pipe close and exits on its own.
 */
public final class MemNodeLauncher implements AutoCloseable {
    /** Pool bytes on top of the DM budget (allocation granularity, other segments). */
    static final long CAPACITY_HEADROOM = 256L << 20;
    static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    final long capacity;
    final int threads;
    private final Path tempDir;
    private Path secretFile;
    private Path log;
    private Process process;
    private Thread hook;
    private int port;
    private List<String> prefix = List.of();

    public MemNodeLauncher(long capacity, int threads) throws IOException {
        this.capacity = capacity;
        this.threads = threads;
        this.tempDir = Files.createTempDirectory("o3-bench-memnode-");
    }

    /** A command prefix for the child (e.g. {@code taskset -c 1}, {@link Pinning#prefix}); call before {@link #start}. */
    /** The child's {@code o3lsm.dm.spinMicros} (its progress thread polls that long after work before sleeping); call before {@link #start}. */
    public MemNodeLauncher spinMicros(long micros) {
        this.spinMicros = micros;
        return this;
    }

    private long spinMicros;

    public MemNodeLauncher prefix(List<String> p) {
        this.prefix = List.copyOf(p);
        return this;
    }

    /** The node's pool size for a DM budget: the budget plus {@link #CAPACITY_HEADROOM}. */
    static long capacityFor(long dmBudget) {
        return dmBudget + CAPACITY_HEADROOM;
    }

    /**
     * Starts the node (with {@code secret} as the cluster secret file, or a fresh one when null) and
     * waits until it listens. Retries on another port if the chosen one was taken meanwhile.
     */
    public MemNodeLauncher start(Path secret) throws IOException, InterruptedException {
        secretFile = secret != null ? secret : newSecret(tempDir.resolve("secret"));
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            port = freePort();
            log = tempDir.resolve("memnode-" + port + ".log");
            try {
                launch();
                return this;
            } catch (IllegalStateException e) {
                last = e;
                if (process.isAlive() || process.exitValue() != 3) { // 3 = cannot listen (port taken)
                    break;
                }
            }
        }
        close();
        throw last;
    }

    private void launch() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(java, "-Xms64m", "-Xmx512m", "-Do3lsm.dm.spinMicros=" + spinMicros,
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), MemNodeChild.class.getName(),
                "--listen", "127.0.0.1:" + port, "--capacity", Long.toString(capacity),
                "--secret-file", secretFile.toString(), "--threads", Integer.toString(threads),
                "--stats-interval", "10"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE); // the child exits when this pipe closes
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        process = pb.start();
        Process p = process;
        hook = new Thread(p::destroyForcibly, "memnode-killer");
        Runtime.getRuntime().addShutdownHook(hook);
        long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (output().contains("listening on")) {
                return;
            }
            if (!p.isAlive()) {
                p.waitFor();
                removeHook();
                throw new IllegalStateException("memory node exited with status " + p.exitValue() + ":\n" + output());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("memory node did not listen within 30 s:\n" + output());
    }

    static Path newSecret(Path file) throws IOException {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, HexFormat.of().formatHex(b) + "\n", StandardCharsets.US_ASCII);
        return file;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    public Path secretFile() {
        return secretFile;
    }

    /** The temporary directory holding the secret and the log (deleted by {@link #close}). */
    public Path tempDir() {
        return tempDir;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public String output() {
        try {
            return log != null && Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private void removeHook() {
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            hook = null;
        }
    }

    /**
     * Closes the child's stdin and waits (15 s, then SIGTERM, 15 s, then SIGKILL); returns the exit
     * status, or -1 if it was not running.
     */
    public int stop() throws InterruptedException {
        if (process == null) {
            return -1;
        }
        try {
            OutputStream in = process.getOutputStream();
            in.close(); // end of file: the node shuts down cleanly and exits 0
        } catch (IOException e) {
            // already gone
        }
        if (process.isAlive() && !process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroy(); // SIGTERM
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        removeHook();
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** Stops the node and deletes the temporary secret and log. */
    @Override
    public void close() throws InterruptedException {
        stop();
        try (var s = Files.list(tempDir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(tempDir);
        } catch (IOException e) {
            System.err.println("bench: could not delete " + tempDir + ": " + e);
        }
    }
}
