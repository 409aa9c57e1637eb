package io.o3lsm.internal.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.HistogramSnapshot;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HistogramTest {
    @Test
    void shouldPlaceEveryValueInABucketWhoseBoundsHoldIt() {
        Random rnd = new Random(Long.getLong("tests.seed", 7));
        for (int i = 0; i < 100_000; i++) {
            long v = (rnd.nextLong() >>> 1) >>> rnd.nextInt(63);
            int b = Histogram.bucket(v);
            assertTrue(b >= 0 && b < Histogram.BUCKETS, v + " -> " + b);
            assertTrue(Histogram.lowerBound(b) <= v && v <= Histogram.upperBound(b), v + " in bucket " + b);
        }
        for (int b = 1; b < Histogram.BUCKETS; b++) {
            assertEquals(Histogram.upperBound(b - 1) + 1, Histogram.lowerBound(b), "contiguous at " + b);
        }
    }

    @Test
    void shouldReportPercentilesWithinABucketOfTheExactOnes() {
        long seed = Long.getLong("tests.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Histogram h = new Histogram("t");
        long[] values = new long[50_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (long) Math.exp(rnd.nextDouble() * 16); // 1 .. ~9 million, log-spread
            h.record(values[i]);
        }
        Arrays.sort(values);
        HistogramSnapshot s = h.snapshot(1);
        assertEquals(values.length, s.count());
        assertEquals(Arrays.stream(values).sum(), (long) s.sum());
        assertEquals(values[values.length - 1], (long) s.max());
        assertEquals(values[0], (long) s.min());
        for (double p : new double[] {0.50, 0.95, 0.99}) {
            double exact = values[(int) Math.ceil(p * values.length) - 1];
            double got = p == 0.50 ? s.p50() : p == 0.95 ? s.p95() : s.p99();
            assertTrue(Math.abs(got - exact) <= exact * 0.125 + 1, "P" + p + " " + got + " vs " + exact + " (seed "
                    + seed + ")");
        }
    }

    @Test
    void shouldCountValuesRecordedFromManyThreads() throws Exception {
        Histogram h = new Histogram("t");
        Thread[] ts = new Thread[8];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    h.record(i);
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(80_000, h.count());
        assertEquals(80_000, h.snapshot(1000).count());
    }

    @Test
    void shouldReportOrderedFiguresInEverySnapshotTakenWhileValuesArrive() throws Exception {
        for (int round = 0; round < 200; round++) {
            Histogram h = new Histogram("t");
            long v = 1000 + round;
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 50; i++) {
                    h.record(v + i);
                }
            });
            writer.start();
            while (writer.isAlive()) {
                HistogramSnapshot s = h.snapshot(1);
                if (s.count() > 0) {
                    assertTrue(s.min() >= 0 && s.min() <= s.p50() && s.p50() <= s.p99() && s.p99() <= s.max()
                            && s.max() < 1_000_000, s.toString());
                }
            }
            writer.join();
        }
    }
}
