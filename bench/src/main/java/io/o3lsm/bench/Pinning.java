package io.o3lsm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Emulating separate nodes on one host by CPU placement ({@code bin/o3 bench --pin}, the DM
 * crash test's daemons): the compute node (this JVM) on one CPU, every daemon it starts on another,
 * through util-linux's {@code taskset}. See docs/benchmarks-o3.md for what this models and what not.
 *
 * <p>{@link #pinSelf} sets the affinity of <em>every</em> thread of this JVM ({@code taskset -a -p}):
 * {@code taskset -p PID} alone would move only the main thread, and the JVM's GC, JIT and other
 * threads already running would stay free. Threads created later inherit the affinity of their
 * creator. The JVM sized its GC and JIT thread pools for all CPUs at start-up; it keeps them.
 */
public final class Pinning {
    /** The compute node's CPU and the daemons' CPU under {@code --pin}. */
    public static final String COMPUTE_CPU = "0";
    public static final String DAEMON_CPU = "1";

    private Pinning() {
    }

    /** The {@code taskset} executable, or null if util-linux's taskset is not on the PATH. */
    public static String taskset() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "taskset");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /** The command prefix that runs a child on {@code cpus} ({@code taskset -c CPUS}); empty for null. */
    public static List<String> prefix(String cpus) {
        if (cpus == null) {
            return List.of();
        }
        String t = taskset();
        if (t == null) {
            throw new IllegalStateException("taskset not found (install util-linux) but CPU pinning was asked for");
        }
        return List.of(t, "-c", cpus);
    }

    /** Pins every thread of this JVM to {@code cpus}; returns taskset's output (the new affinity list). */
    public static String pinSelf(String cpus) throws IOException, InterruptedException {
        String t = taskset();
        if (t == null) {
            throw new IllegalStateException("taskset not found (install util-linux): cannot --pin");
        }
        List<String> cmd = new ArrayList<>(List.of(t, "-a", "-c", "-p", cpus, Long.toString(ProcessHandle.current().pid())));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("taskset -a -c -p " + cpus + " failed: " + out);
        }
        return out;
    }

    /** This process's CPUs as the kernel reports them ({@code Cpus_allowed_list} of /proc/self/status), or "?". */
    public static String allowedCpus(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII)) {
                if (l.startsWith("Cpus_allowed_list:")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "?";
    }

    /** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on every Linux architecture o3 runs on). */
    static final double TICKS_PER_SECOND = 100.0;

    /** Resident memory of process {@code pid} ({@code VmRSS} of /proc/PID/status), or -1 if unknown. */
    public static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.trim().split("\\s+")[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process ended
        }
        return -1;
    }

    /**
     * User + system CPU seconds of process {@code pid} so far, from fields 14 and 15 of
     * {@code /proc/PID/stat}; -1 if unreadable (the process is gone, or not Linux).
     */
    /** Bytes {@code pid} caused to be written to storage (/proc/PID/io write_bytes), or -1. */
    public static long diskWriteBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("write_bytes:")) {
                    return Long.parseLong(line.substring("write_bytes:".length()).trim());
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    public static double cpuSeconds(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // f[0] is field 3 (state)
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
