package io.o3lsm.dm.replication;

import io.o3lsm.dm.replication.ReplicationFixtures.FakeSource;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeTarget;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Measures the log ring in one JVM (not a test: speed is reported, never asserted): publish
 * throughput without waiting (async) and publish + awaitAcks(1) latency, for groups of one record
 * of {@code -Dbytes} (default 128), with one backup whose Target does nothing; then the CPU the
 * backup's threads use while idle. Usage: {@code ReplicationBench [seconds]}. Both ends share the
 * machine's cores: say so next to any figure.
 */
public final class ReplicationBench {
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int bytes = Integer.getInteger("bytes", 128);
        Path dir = Files.createTempDirectory("repl-bench");
        FakeSource src = new FakeSource();
        try (Replication.Primary p = new UcxReplicationProvider().listen(new Replication.PrimaryConfig("127.0.0.1:0",
                ReplicationFixtures.SECRET, "bench", 1, FileSystem.local(), dir, Duration.ofSeconds(10)), src)) {
            NullTarget target = new NullTarget();
            try (ReplicationBackup b = (ReplicationBackup) new UcxReplicationProvider().follow(
                    new Replication.BackupConfig(p.address(), ReplicationFixtures.SECRET, "bench-backup", 4 << 20,
                            Duration.ofSeconds(5)), target)) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!b.live() || p.backups().stream().noneMatch(Replication.BackupStatus::live)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("backup not live");
                    }
                    Thread.sleep(5);
                }
                byte[] rec = ReplicationFixtures.record(1, bytes);
                List<byte[]> group = List.of(rec);
                int[] lengths = {bytes};
                for (int phase = 0; phase < 2; phase++) { // warm-up, then measure
                    long n = 0;
                    long t0 = System.nanoTime();
                    long until = t0 + (long) ((phase == 0 ? 1 : seconds) * 1e9);
                    long ticket = 0;
                    while (System.nanoTime() < until) {
                        synchronized (src.walLock) {
                            ticket = p.publish(1, group, lengths);
                        }
                        n++;
                    }
                    p.awaitAcks(ticket, 1);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (phase == 1) {
                        System.out.printf("async publish: %.0f groups/s (%d-byte record), %d applied by the backup%n",
                                n / s, bytes, target.applied);
                    }
                }
                long[] lat = new long[200_000];
                for (int phase = 0; phase < 2; phase++) {
                    int n = 0;
                    long until = System.nanoTime() + (long) ((phase == 0 ? 1 : seconds) * 1e9);
                    while (System.nanoTime() < until && n < lat.length) {
                        long t0 = System.nanoTime();
                        long ticket;
                        synchronized (src.walLock) {
                            ticket = p.publish(1, group, lengths);
                        }
                        p.awaitAcks(ticket, 1);
                        lat[n++] = System.nanoTime() - t0;
                    }
                    if (phase == 1) {
                        long[] l = Arrays.copyOf(lat, n);
                        Arrays.sort(l);
                        System.out.printf("publish + awaitAcks(1): %d groups, P50 %.1f us, P99 %.1f us, P99.9 %.1f us%n",
                                n, l[n / 2] / 1e3, l[(int) (n * 0.99)] / 1e3, l[(int) (n * 0.999)] / 1e3);
                    }
                }
                ThreadMXBean mx = ManagementFactory.getThreadMXBean();
                Thread.sleep(500);
                long cpu0 = backupCpu(mx);
                long t0 = System.nanoTime();
                Thread.sleep((long) (seconds * 1000));
                double wall = (System.nanoTime() - t0) / 1e9;
                System.out.printf("idle backup threads: %.2f%% of one core%n", 100.0 * (backupCpu(mx) - cpu0) / 1e9 / wall);
            }
        }
    }

    private static long backupCpu(ThreadMXBean mx) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("o3-repl-backup-")) {
                sum += Math.max(0, mx.getThreadCpuTime(t.getId()));
            }
        }
        return sum;
    }

    /** Counts records; keeps nothing. */
    private static final class NullTarget extends FakeTarget {
        volatile long applied;

        @Override
        public void applyLog(long walNumber, byte[] record, int offset, int length) {
            applied++;
        }
    }
}
