package io.o3lsm.dm;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Measures, against a running memory node (not a test: speed is reported, never asserted):
 * offload throughput for shards of 1 (the engine's default arena), 4 and 32 MiB, and
 * delegated-get latency against a local {@code ShardReader.get}. Usage: {@code DmBench HOST:PORT SECRET_FILE [seconds-per-size]}.
 */
public final class DmBench {
    public static void main(String[] args) throws Exception {
        String addr = args[0];
        byte[] secret = ClusterSecret.read(java.nio.file.Path.of(args[1]));
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        int inflight = Integer.getInteger("inflight", 4);
        try (MemoryNode.Client c = new DmMemoryNodeProvider().connect(new MemoryNode.Config(addr, secret, "bench",
                System.currentTimeMillis(), 0, inflight, Duration.ofSeconds(10)))) {
            for (int mib : new int[] {1, 4, 32}) {
                MemtableShard s = MemoryNodeProcessTest.bigShard(1, mib << 20, 1);
                int len = s.usedBytes();
                int crc = s.reader().checksum();
                // Bursts of offloads that fit in the node (timed), each followed by freeing them all
                // (not timed): frees are a separate, blocking round trip that the engine issues later
                // from its own thread, so they are not part of offload throughput.
                int burst = (int) Math.max(inflight, Math.min(512, (768L << 20) / len));
                long n = 0;
                long timed = 0;
                for (int phase = 0; phase < 2; phase++) { // warm-up, then measure
                    long budget = (long) ((phase == 0 ? 1 : seconds) * 1e9);
                    n = 0;
                    timed = 0;
                    while (timed < budget) {
                        ArrayDeque<CompletableFuture<MemoryNode.RemoteShard>> q = new ArrayDeque<>();
                        List<MemoryNode.RemoteShard> done = new java.util.ArrayList<>(burst);
                        long t0 = System.nanoTime();
                        for (int i = 0; i < burst; i++) {
                            if (q.size() == inflight) {
                                done.add(q.poll().get());
                            }
                            q.add(c.offload(s.buffer().byteBuffer(), len, crc, 1, s.minSequence(), s.maxSequence()));
                        }
                        while (!q.isEmpty()) {
                            done.add(q.poll().get());
                        }
                        timed += System.nanoTime() - t0;
                        n += done.size();
                        for (MemoryNode.RemoteShard r : done) {
                            c.free(r);
                        }
                    }
                }
                double el = timed / 1e9;
                System.out.printf("OFFLOAD shard=%d MiB (used %d B) inflight=%d: %d offloads in %.2f s = %.2f GB/s"
                        + " (%.0f offloads/s, ALLOC+put+flush+COMMIT incl. node CRC32C; bursts of %d, frees untimed)%n",
                        mib, len, inflight, n, el, n * (double) len / el / 1e9, n / el, burst);
            }
            // delegated get vs local get
            MemtableShard s = MemoryNodeProcessTest.bigShard(2, 4 << 20, 1);
            MemoryNode.RemoteShard r = c.offload(s.buffer().byteBuffer(), s.usedBytes(), s.reader().checksum(), 2,
                    s.minSequence(), s.maxSequence()).get();
            int keys = (int) s.entryCount();
            Random rnd = new Random(42);
            int ops = Integer.getInteger("gets", 20000);
            long[] remote = new long[ops];
            long[] local = new long[ops];
            List<MemoryNode.RemoteShard> cands = List.of(r);
            Lookup lk = new Lookup();
            for (int i = -2000; i < ops; i++) {
                byte[] k = String.format("key%08d", rnd.nextInt(keys)).getBytes(StandardCharsets.UTF_8);
                long a = System.nanoTime();
                MemoryNode.GetResult g = c.get(cands, k, InternalKey.MAX_SEQUENCE);
                long b = System.nanoTime();
                if (g.state() != 1) {
                    throw new IllegalStateException("missing " + new String(k));
                }
                s.reader().get(k, InternalKey.MAX_SEQUENCE, lk.reset());
                long d = System.nanoTime();
                if (i >= 0) {
                    remote[i] = b - a;
                    local[i] = d - b;
                }
            }
            report("GET delegated (caller thread -> node, 1 shard of " + keys + " entries)", remote);
            report("GET local ShardReader.get (same shard)", local);
            c.free(r);
        }
    }

    static void report(String what, long[] ns) {
        long[] x = ns.clone();
        Arrays.sort(x);
        System.out.printf("%s: n=%d P50=%.1f us P99=%.1f us P99.9=%.1f us%n", what, x.length, x[x.length / 2] / 1e3,
                x[(int) (x.length * 0.99)] / 1e3, x[(int) (x.length * 0.999)] / 1e3);
    }
}
