package io.o3lsm.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * What the JVM did during one benchmark: GC pauses (count, total, longest), the heap in use right
 * after each collection (the largest such figure: live data plus old garbage not yet collected, the
 * honest "how much heap does the engine hold"), the sum of the heap pools' peaks (mostly the young
 * generation filling up between collections: G1 sizes it from the free heap, so with {@code -Xms1g}
 * it says more about the collector than about the engine), and the process's CPU time (all threads:
 * the benchmark's, the engine's background threads, JIT and GC).
 *
 * <p>Pauses come from the collectors' notifications ({@code GcInfo.getDuration()}: for G1's young
 * and mixed collections and for full collections that is the stop-the-world time). JDK 17's G1
 * reports its concurrent cycle through no bean, so the short remark and cleanup pauses that end a
 * marking cycle are missing here; a JFR recording has them ({@code jdk.GCPhasePause}). One meter per
 * benchmark: {@link #start()} before it, {@link #stop()} after; not thread-safe otherwise (the
 * listener runs on the JMX notification thread and synchronizes on the meter).
 */
final class MemoryMeter {
    /** GC causes the runner itself triggers between engines; never counted as the engine's pauses. */
    private static final String SYSTEM_GC = "System.gc()";

    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = (n, h) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            onGc(GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData()));
        }
    };
    private long cpuAtStart;
    private long collectionsAtStart;

    private long notified;
    private int pauses;
    private long pauseMillis;
    private long maxPauseMillis;
    private long maxHeapAfterGc = -1;

    /** Resets the pools' peaks, remembers the CPU time and starts listening for collections. */
    void start() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
        cpuAtStart = processCpuNanos();
        collectionsAtStart = collections();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter em) {
                em.addNotificationListener(listener, null, null);
                emitters.add(em);
            }
        }
    }

    /** Stops listening and fills {@code r}'s memory, GC and CPU figures. */
    void stop(Result r) {
        r.cpuSeconds = cpuAtStart < 0 ? -1 : (processCpuNanos() - cpuAtStart) / 1e9;
        r.peakHeapBytes = sumOfPoolPeaks();
        // notifications arrive on their own thread: give the last ones a moment
        long expected = collections() - collectionsAtStart;
        long deadline = System.nanoTime() + 500_000_000L;
        synchronized (this) {
            while (notified < expected && System.nanoTime() < deadline) {
                try {
                    wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        for (NotificationEmitter em : emitters) {
            try {
                em.removeNotificationListener(listener);
            } catch (javax.management.ListenerNotFoundException e) {
                // already gone
            }
        }
        emitters.clear();
        synchronized (this) {
            r.gcPauses = pauses;
            r.gcPauseMillis = pauseMillis;
            r.gcMaxPauseMillis = maxPauseMillis;
            r.heapAfterGcBytes = maxHeapAfterGc;
        }
    }

    private synchronized void onGc(GarbageCollectionNotificationInfo info) {
        notified++;
        notifyAll();
        if (SYSTEM_GC.equals(info.getGcCause())) {
            return;
        }
        long d = info.getGcInfo().getDuration();
        pauses++;
        pauseMillis += d;
        maxPauseMillis = Math.max(maxPauseMillis, d);
        long used = 0;
        for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (isHeapPool(e.getKey())) {
                used += e.getValue().getUsed();
            }
        }
        maxHeapAfterGc = Math.max(maxHeapAfterGc, used);
    }

    private static boolean isHeapPool(String name) {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getName().equals(name)) {
                return p.getType() == MemoryType.HEAP;
            }
        }
        return false;
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    /** Sum of the heap pools' peak usage since {@link #start} (an upper bound of the peak heap). */
    static long sumOfPoolPeaks() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** CPU time of the whole process in nanoseconds, or -1 where the JVM does not report it. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
