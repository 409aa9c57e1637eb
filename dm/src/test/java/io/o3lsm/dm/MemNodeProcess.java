package io.o3lsm.dm;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A memory node run as a real separate JVM ({@code io.o3lsm.dm.MemNode}) with this JVM's class
 * path and the UCX environment, for integration tests. Its stderr goes to a log file.
 */
public final class MemNodeProcess implements AutoCloseable {
    public final int port;
    public final Path log;
    private final List<String> command;
    private Process process;

    public MemNodeProcess(Path dir, int port, String capacity, Path secretFile, String... extra) {
        this.port = port;
        this.log = dir.resolve("memnode-" + port + "-" + System.nanoTime() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command = new ArrayList<>(List.of(java, "-Xmx256m",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.o3lsm.dm.MemNode",
                "--listen", "127.0.0.1:" + port, "--capacity", capacity, "--secret-file", secretFile.toString(),
                "--stats-interval", "0"));
        command.addAll(List.of(extra));
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public static Path secret(Path dir, String name, String value) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, value + "\n");
        return p;
    }

    /** Starts and waits until it listens; fails with its log otherwise. */
    public MemNodeProcess start() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        process = pb.start();
        Process started = process;
        // no orphans if the test JVM exits early (a crash of the test JVM itself still leaves one)
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains("listening on")) {
                return this;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("memory node exited with " + process.exitValue() + ":\n" + output());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("memory node did not start within 20 s:\n" + output());
    }

    /** Runs to completion (for argument errors); returns the exit code. */
    int runToExit(long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        process = pb.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("did not exit:\n" + output());
        }
        return process.exitValue();
    }

    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    public long pid() {
        return process.pid();
    }

    /** Sends SIGKILL and returns at once. */
    public void kill9() {
        process.destroyForcibly(); // SIGKILL on Linux
    }

    public boolean waitForExit() throws InterruptedException {
        return process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM and wait; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy(); // SIGTERM
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            terminate();
        }
    }
}
