package io.o3lsm.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** ProcessLoad over a fake CPU-time source and clock: the arithmetic, the sampling interval, the clamp. */
class ProcessLoadTest {
    private static final long MS = 1_000_000L;

    @Test
    void shouldMeasureCpuTimeOverWallTimeTimesCores() {
        AtomicLong cpu = new AtomicLong();
        AtomicLong clock = new AtomicLong();
        ProcessLoad load = new ProcessLoad(cpu::get, clock::get, 2);
        clock.addAndGet(1000 * MS);
        cpu.addAndGet(500 * MS); // half a core of two for a second
        assertEquals(0.25, load.sample(), 1e-9);
        clock.addAndGet(1000 * MS);
        cpu.addAndGet(2000 * MS); // both cores busy
        assertEquals(1.0, load.sample(), 1e-9);
    }

    @Test
    void shouldKeepTheCachedValueBetweenSamplesCloserThanTheInterval() {
        AtomicLong cpu = new AtomicLong();
        AtomicLong clock = new AtomicLong();
        ProcessLoad load = new ProcessLoad(cpu::get, clock::get, 1);
        clock.addAndGet(ProcessLoad.MIN_INTERVAL_MILLIS * MS);
        cpu.addAndGet(ProcessLoad.MIN_INTERVAL_MILLIS * MS / 2);
        assertEquals(0.5, load.sample(), 1e-9);
        clock.addAndGet(10 * MS);
        cpu.addAndGet(10 * MS);
        assertEquals(0.5, load.sample(), 1e-9, "too soon: the cached value");
        clock.addAndGet(ProcessLoad.MIN_INTERVAL_MILLIS * MS);
        assertEquals(10.0 / (10 + ProcessLoad.MIN_INTERVAL_MILLIS), load.sample(), 1e-9,
                "the next sample covers the whole time since the previous one");
    }

    @Test
    void shouldClampAndTreatUnknownCpuTimeAsIdle() {
        AtomicLong cpu = new AtomicLong();
        AtomicLong clock = new AtomicLong();
        ProcessLoad load = new ProcessLoad(cpu::get, clock::get, 1);
        clock.addAndGet(1000 * MS);
        cpu.addAndGet(5000 * MS); // more CPU than one core gives (a shrunk affinity mask)
        assertEquals(1.0, load.sample(), 1e-9);
        ProcessLoad unknown = new ProcessLoad(() -> -1, clock::get, 1);
        clock.addAndGet(1000 * MS);
        assertEquals(0.0, unknown.sample(), 1e-9);
    }

    @Test
    void shouldReportThisProcessWithinZeroAndOne() {
        double l = ProcessLoad.get();
        assertTrue(l >= 0 && l <= 1, "load " + l);
    }
}
