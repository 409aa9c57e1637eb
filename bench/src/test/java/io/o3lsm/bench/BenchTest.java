package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchTest {
    private static final Pattern LINE = Pattern.compile(
            "^(\\w+)\\s+:\\s+[0-9.]+ micros/op\\s+\\d+ ops/sec;\\s+[0-9.]+ MB/s  ops=(\\d+) secs=[0-9.]+"
                    + "  latency us: P50 [0-9.]+ P99 [0-9.]+ P99\\.9 [0-9.]+ max [0-9.]+(?: \\((\\d+) of (\\d+) found\\))?$",
            Pattern.MULTILINE);

    private static String run(int expectedStatus, String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int status = Bench.run(new PrintStream(buf, true, StandardCharsets.UTF_8), args);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertEquals(expectedStatus, status, out);
        return out;
    }

    private static void assertFoundAll(String out, String... benchmarks) {
        Matcher m = LINE.matcher(out);
        int i = 0;
        while (m.find()) {
            assertEquals(benchmarks[i], m.group(1), out);
            assertEquals("20000", m.group(2), out);
            if (m.group(1).equals("readrandom")) {
                assertEquals(m.group(4), m.group(3), "found must equal reads\n" + out);
                assertEquals("20000", m.group(3), out);
            }
            i++;
        }
        assertEquals(benchmarks.length, i, "benchmark lines\n" + out);
        assertFalse(out.contains("WARNING"), out);
    }

    @Test
    void shouldFillAndReadEveryKeyWithO3(@TempDir Path dir) {
        String out = run(0, "--num", "20000", "--dir", dir.resolve("db").toString(), "--seed", "7");
        assertTrue(out.contains("Engine:     o3 Options{"), out);
        assertTrue(out.contains("JVM:"), out);
        assertTrue(out.contains("CPU:"), out);
        assertFoundAll(out, "fillrandom", "readrandom");
    }

    /** A concurrent hash map posing as an engine: checks the runner without the real DB. */
    public static final class MapEngine implements EngineAdapter {
        final ConcurrentHashMap<ByteBuffer, byte[]> map = new ConcurrentHashMap<>();

        @Override
        public String name() {
            return "map";
        }

        @Override
        public void open(Path dir, Settings settings) {
        }

        @Override
        public String describe() {
            return "ConcurrentHashMap";
        }

        @Override
        public void put(byte[] key, byte[] value) {
            map.put(ByteBuffer.wrap(key.clone()), value.clone());
        }

        @Override
        public int get(byte[] key, byte[] valueOut) {
            byte[] v = map.get(ByteBuffer.wrap(key));
            if (v == null) {
                return -1;
            }
            System.arraycopy(v, 0, valueOut, 0, Math.min(v.length, valueOut.length));
            return v.length;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldRunEveryBenchmarkAndCleanUpTempDir() throws Exception {
        Bench.ENGINES.put("map", MapEngine::new);
        try {
            String out = run(0, "--engine", "map", "--num", "20000", "--threads", "3",
                    "--benchmarks", "fillseq,overwrite,fillrandom,readrandom", "--key-format", "decimal");
            assertFoundAll(out, "fillseq", "overwrite", "fillrandom", "readrandom");
            Matcher m = Pattern.compile("Dir:\\s+(\\S+) \\(temporary\\)").matcher(out);
            assertTrue(m.find(), out);
            assertFalse(Files.exists(Path.of(m.group(1)).getParent()), "temp dir removed");
            // reading keys never written is reported
            String warn = run(1, "--engine", "map", "--num", "20000", "--benchmarks", "readrandom");
            assertTrue(warn.contains("WARNING: readrandom found 0 of 20000"), warn);
        } finally {
            Bench.ENGINES.remove("map");
        }
    }

    @Test
    void shouldRejectUnsupportedBenchmark() {
        String out = run(2, "--benchmarks", "nosuchbench");
        assertTrue(out.isEmpty() || !out.contains("micros/op"), out);
    }

    @Test
    void shouldPermuteEveryIndexOnce() {
        for (long n : new long[] {1, 2, 3, 1000, 65537}) {
            Permutation p = new Permutation(n, 99);
            BitSet seen = new BitSet();
            for (long i = 0; i < n; i++) {
                long x = p.at(i);
                assertTrue(x >= 0 && x < n);
                assertFalse(seen.get((int) x), "duplicate " + x);
                seen.set((int) x);
            }
        }
        Permutation p = new Permutation(1000, 1);
        long inOrder = 0;
        for (long i = 0; i < 999; i++) {
            if (p.at(i + 1) == p.at(i) + 1) {
                inOrder++;
            }
        }
        assertTrue(inOrder < 20, "not random-looking: " + inOrder);
        assertNotEquals(new Permutation(1000, 1).at(5), new Permutation(1000, 2).at(5));
    }

    @Test
    void shouldEncodeKeysInIndexOrder() {
        KeyFormat dec = new KeyFormat(KeyFormat.Kind.DECIMAL, 16, 1_000_000);
        byte[] k = new byte[16];
        dec.encode(123456, k);
        assertEquals(String.format("%016d", 123456), new String(k, StandardCharsets.US_ASCII));

        KeyFormat bin = new KeyFormat(KeyFormat.Kind.BINARY, 16, 1_000_000);
        byte[] prev = new byte[16];
        byte[] cur = new byte[16];
        int[] firstTwoBytesQuarter = new int[4];
        for (long i = 0; i < 1_000_000; i += 997) {
            bin.encode(i, cur);
            if (i > 0) {
                assertTrue(Arrays.compareUnsigned(prev, cur) < 0, "order at " + i);
            }
            assertEquals(0, cur[15]);
            firstTwoBytesQuarter[(cur[0] & 0xFF) >>> 6]++;
            System.arraycopy(cur, 0, prev, 0, 16);
        }
        bin.encode(999_999, cur);
        assertEquals((byte) 0xFF, cur[0], "last key near the top of the space");
        for (int q : firstTwoBytesQuarter) {
            assertTrue(q > 200, Arrays.toString(firstTwoBytesQuarter)); // every default shard gets keys
        }
    }
}
