package io.o3lsm.job;

import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * This process's recent CPU use as a fraction of the cores it may run on: 0 = idle, 1 = every core
 * it may use busy. Measured as the growth of the process's CPU time (user + system, all threads;
 * {@code com.sun.management.OperatingSystemMXBean.getProcessCpuTime}, which on Linux is
 * {@code utime + stime} of {@code /proc/self/stat}) between two samples, divided by the wall time
 * between them times {@link Runtime#availableProcessors()} (which honours the CPU affinity mask and
 * container quotas in JDK 17: a process pinned to one core of two is fully loaded at one busy
 * thread). Clamped to [0, 1].
 *
 * <p>A sample is taken at most every {@value #MIN_INTERVAL_MILLIS} ms; callers in between get the
 * cached value, so {@link #get()} is cheap enough to call per flush. Until the first interval has
 * passed, or where the JVM does not report process CPU time, the load reads 0 (unknown counts as
 * idle). The owner sends it with a flush submission and the flush worker with its heartbeats;
 * placement compares the two. Thread-safe.
 */
public final class ProcessLoad {
    /** Minimum time between two samples. */
    public static final long MIN_INTERVAL_MILLIS = 200;

    private static final ProcessLoad PROCESS = new ProcessLoad(ProcessLoad::processCpuNanos, System::nanoTime,
            Runtime.getRuntime().availableProcessors());

    private final LongSupplier cpuNanos;
    private final LongSupplier clock;
    private final int cpus;
    private long lastCpu;
    private long lastWall;
    private double load;

    /**
     * A load meter over the given sources (tests; {@link #get()} uses this process's).
     *
     * @param cpuNanos CPU time consumed so far, nanoseconds; negative if unknown
     * @param clock    a monotonic clock, nanoseconds
     * @param cpus     the cores the process may run on
     */
    public ProcessLoad(LongSupplier cpuNanos, LongSupplier clock, int cpus) {
        this.cpuNanos = cpuNanos;
        this.clock = clock;
        this.cpus = Math.max(1, cpus);
        this.lastCpu = cpuNanos.getAsLong();
        this.lastWall = clock.getAsLong();
    }

    /** This process's load, sampled at most every {@value #MIN_INTERVAL_MILLIS} ms. */
    public static double get() {
        return PROCESS.sample();
    }

    /** The load over the time since the previous sample, or the cached value if that was too recent. */
    public synchronized double sample() {
        long now = clock.getAsLong();
        long wall = now - lastWall;
        if (wall < MIN_INTERVAL_MILLIS * 1_000_000L) {
            return load;
        }
        long cpu = cpuNanos.getAsLong();
        if (cpu >= 0 && lastCpu >= 0) {
            double l = (double) (cpu - lastCpu) / ((double) wall * cpus);
            load = Math.max(0, Math.min(1, l));
        }
        lastCpu = cpu;
        lastWall = now;
        return load;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
