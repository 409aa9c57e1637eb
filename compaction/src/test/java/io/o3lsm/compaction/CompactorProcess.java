package io.o3lsm.compaction;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A compactor run as a real separate JVM ({@code io.o3lsm.compaction.CompactorMain}, what
 * {@code bin/o3 compactor} runs) with this JVM's class path and the UCX environment. Its stderr goes
 * to a log file.
 */
final class CompactorProcess implements AutoCloseable {
    final String name;
    final Path log;
    private final List<String> command;
    private Process process;

    CompactorProcess(Path logDir, String name, int memnodePort, Path secretFile, String storage, String... extra) {
        this(logDir, name, List.of(), "io.o3lsm.compaction.CompactorMain", memnodePort, secretFile, storage, extra);
    }

    /**
     * A flush worker ({@code io.o3lsm.flush.FlushWorkerMain}, what {@code bin/o3 flushworker} runs: same
     * arguments, same "registered with memory node" line), for tests that offload flushes and compactions
     * both; needs o3lsm-flush on the test class path.
     */
    static CompactorProcess flushWorker(Path logDir, String name, int memnodePort, Path secretFile, String storage) {
        return new CompactorProcess(logDir, name, List.of(), "io.o3lsm.flush.FlushWorkerMain", memnodePort, secretFile,
                storage);
    }

    /**
     * A worker whose storage syncs take {@code slowSyncMillis} and are announced in its log ("slow
     * sync PATH"): see {@link SlowStorageCompactor}.
     */
    static CompactorProcess slowStorage(Path logDir, String name, long slowSyncMillis, int memnodePort,
            Path secretFile, String storage) {
        return new CompactorProcess(logDir, name, List.of("-DslowSyncMillis=" + slowSyncMillis),
                "io.o3lsm.compaction.SlowStorageCompactor", memnodePort, secretFile, storage);
    }

    private CompactorProcess(Path logDir, String name, List<String> jvmFlags, String mainClass, int memnodePort,
            Path secretFile, String storage, String... extra) {
        this.name = name;
        this.log = logDir.resolve((mainClass.contains("Flush") ? "flushworker-" : "compactor-") + name + "-"
                + System.nanoTime() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command = new ArrayList<>(List.of(java, "-Xmx256m"));
        command.addAll(jvmFlags);
        command.addAll(List.of(
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), mainClass,
                "--memnode", "127.0.0.1:" + memnodePort, "--secret-file", secretFile.toString(),
                "--storage", storage, "--name", name));
        command.addAll(List.of(extra));
    }

    /** Starts and waits until it registered; fails with its log otherwise. */
    CompactorProcess start() throws IOException, InterruptedException {
        process = launch();
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (output().contains("registered with memory node")) {
                return this;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("compactor exited with " + process.exitValue() + ":\n" + output());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("compactor did not start within 20 s:\n" + output());
    }

    private Process launch() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        return pb.start();
    }

    /** What a run to exit printed: its status, stdout and stderr apart. */
    record Result(int exit, String stdout, String stderr) {
    }

    /**
     * Runs {@code CompactorMain} with exactly {@code args} to its exit (help, version, argument
     * errors); stdout and stderr are kept apart. Fails if it has not exited within {@code timeoutSeconds}.
     */
    static Result runArgs(Path logDir, long timeoutSeconds, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.o3lsm.compaction.CompactorMain"));
        cmd.addAll(List.of(args));
        long id = System.nanoTime();
        Path out = logDir.resolve("compactor-run-" + id + ".out");
        Path err = logDir.resolve("compactor-run-" + id + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException("compactor " + String.join(" ", args) + " did not exit within "
                    + timeoutSeconds + " s:\n" + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    long pid() {
        return process.pid();
    }

    /** Runs to completion (argument errors, refused secret); returns the exit code. */
    int runToExit(long timeoutSeconds) throws IOException, InterruptedException {
        process = launch();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("did not exit:\n" + output());
        }
        return process.exitValue();
    }

    String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }


    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** The path of the first "slow sync PATH" line, waiting up to 60 s for it; fails with the log otherwise. */
    Path awaitSlowSync() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String line : output().split("\n")) {
                if (line.startsWith("slow sync ")) {
                    return Path.of(line.substring("slow sync ".length()).trim());
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("compactor " + name + " never started syncing an output:\n" + output());
    }

    /** Waits up to 60 s until the log contains {@code text}. */
    boolean awaitLog(String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (output().contains(text)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** Sends {@code kill -SIG} (e.g. STOP, CONT) to the process. */
    void signal(String sig) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed");
        }
    }

    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
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
