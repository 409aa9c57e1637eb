package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class MemoryMeterTest {
    private static volatile Object sink;

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    @Test
    void shouldReportThePausesOfCollectionsDuringTheBenchmark() {
        MemoryMeter m = new MemoryMeter();
        m.start();
        long before = collections();
        // allocate garbage until the collector has run at least once (bounded: 64 GiB of 1 MiB arrays)
        for (int i = 0; i < 65536 && collections() == before; i++) {
            sink = new byte[1 << 20];
        }
        assertTrue(collections() > before, "no collection after 64 GiB of garbage");
        Result r = new Result();
        m.stop(r);
        assertTrue(r.gcPauses >= 1, "pauses " + r.gcPauses);
        assertTrue(r.gcMaxPauseMillis <= r.gcPauseMillis, r.gcMaxPauseMillis + " > " + r.gcPauseMillis);
        assertTrue(r.heapAfterGcBytes > 0, "heap after GC " + r.heapAfterGcBytes);
        assertTrue(r.peakHeapBytes >= r.heapAfterGcBytes, r.peakHeapBytes + " < " + r.heapAfterGcBytes);
        assertTrue(r.cpuSeconds >= 0, "cpu " + r.cpuSeconds); // -1 = not reported
    }

    @Test
    void shouldNotCountTheRunnersSystemGc() {
        MemoryMeter m = new MemoryMeter();
        m.start();
        System.gc(); // the runner's GC between engines; an explicit GC is stop-the-world, but not the engine's doing
        Result r = new Result();
        m.stop(r);
        assertEquals(0, r.gcPauses);
        assertEquals(-1, r.heapAfterGcBytes);
    }
}
