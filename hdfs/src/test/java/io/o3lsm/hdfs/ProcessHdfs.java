package io.o3lsm.hdfs;

import io.o3lsm.testing.ChildJvm;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HDFS as real processes for a test class: {@code LocalHdfs up} (what {@code bin/o3 hdfs up} runs) starts
 * a NameNode and {@code dataNodes} DataNodes, each a background JVM listening on 127.0.0.1 only, in a
 * fresh state directory; {@link #close} runs {@code LocalHdfs down}, fails if a daemon is left, and
 * deletes the directory. A shutdown hook kills the recorded daemons if this JVM dies first.
 * Start one per class ({@code @BeforeAll}), close it in {@code @AfterAll}.
 */
public final class ProcessHdfs implements AutoCloseable {
    private final Path state;
    private final Map<String, Long> pids = new LinkedHashMap<>();
    private final Thread safetyNet;
    private URI uri;

    private ProcessHdfs(Path state) {
        this.state = state;
        this.safetyNet = new Thread(this::killRecordedDaemons, "kill-hdfs-daemons");
    }

    /** Starts the daemons; returns once every DataNode is live (or fails, having stopped them). */
    public static ProcessHdfs start(int dataNodes) throws IOException, InterruptedException {
        ProcessHdfs h = new ProcessHdfs(Files.createTempDirectory("o3-hdfs-processes-"));
        Runtime.getRuntime().addShutdownHook(h.safetyNet);
        try {
            String[] up = launcher(h.state, "up", "--dir", h.state.toString(), "--datanodes",
                    Integer.toString(dataNodes), "--port", "0", "--http-port", "0", "--timeout", "180");
            h.recordPids();
            if (!up[0].equals(Integer.toString(LocalHdfs.EXIT_OK))) {
                throw new IOException("LocalHdfs up failed: exit " + up[0] + "\n" + up[2]);
            }
            h.uri = URI.create(up[1].strip());
            if (!h.uri.toString().matches("hdfs://127\\.0\\.0\\.1:\\d+") || h.pids.size() != dataNodes + 1) {
                throw new IOException("LocalHdfs up: unexpected URI or pids " + h.uri + " " + h.pids + "\n" + up[2]);
            }
            return h;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            try {
                h.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** {@code hdfs://127.0.0.1:PORT}. */
    public URI uri() {
        return uri;
    }

    /** {@code hdfs://127.0.0.1:PORT/path}. */
    public URI uri(String path) {
        return URI.create(uri + path);
    }

    /** Exit code, stdout and stderr of one run of the launcher. */
    private static String[] launcher(Path state, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaBinary(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), LocalHdfs.class.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(state, "launcher-", ".out");
        Path err = Files.createTempFile(state, "launcher-", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IOException("launcher " + List.of(args) + " did not exit within 240 s:\n" + Files.readString(err));
        }
        return new String[] {Integer.toString(p.exitValue()), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8)};
    }

    private void recordPids() throws IOException {
        Path run = state.resolve("run");
        if (!Files.isDirectory(run)) {
            return;
        }
        try (var s = Files.list(run)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                String n = f.getFileName().toString();
                pids.put(n.substring(0, n.length() - ".pid".length()), Long.parseLong(Files.readString(f).trim()));
            }
        }
    }

    private void killRecordedDaemons() {
        for (long pid : pids.values()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** {@code LocalHdfs down}; fails if it failed or a daemon still runs (then kills it). */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            recordPids();
            String[] down = launcher(state, "down", "--dir", state.toString(), "--grace", "20");
            List<String> left = new ArrayList<>();
            pids.forEach((role, pid) -> {
                if (LocalHdfs.isRunning(pid)) {
                    left.add(role + " (pid " + pid + ")");
                }
            });
            if (!down[0].equals(Integer.toString(LocalHdfs.EXIT_OK)) || !left.isEmpty()) {
                throw new IOException("LocalHdfs down: exit " + down[0] + ", still running: " + left + "\n" + down[2]);
            }
        } finally {
            killRecordedDaemons();
            try {
                Runtime.getRuntime().removeShutdownHook(safetyNet);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            MiniHdfs.deleteTree(state);
        }
    }
}
