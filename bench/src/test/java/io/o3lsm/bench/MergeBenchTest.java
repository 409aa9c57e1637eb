package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.MergeOperators;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The merge benchmarks (issue 16) through the runner: mergerandom, mergeseq and readmerged on small
 * sizes, on o3 and RocksDB, their verification (which passes on a correct engine and fails on one
 * that loses merges), LevelDB's "n/a", and the arguments the runner refuses.
 */
class MergeBenchTest {
    private static final String COUNTERS = "mergerandom,mergeseq,readmerged";

    private static Map<String, Object> result(List<Map<String, Object>> rs, String workload) {
        return rs.stream().filter(r -> r.get("workload").equals(workload)).findFirst().orElseThrow();
    }

    /**
     * 20k merges over 500 counters, random then in order, then reads; a fill before and a readrandom
     * after show that the counters' key space leaves the fill's keys alone. Two threads.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "o3"})
    void shouldMergeAndVerifyEveryCounter(String engine, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        String text = BenchRunTest.run(0, "--engine", engine, "--num", "20000", "--merge-keys", "500", "--threads", "2",
                "--benchmarks", "fillrandom," + COUNTERS + ",readrandom", "--seed", "16", "--progress", "off",
                "--out", out.toString());
        assertTrue(text.contains("Merges:     --num merges of +1 into 500 counters"), text);
        assertTrue(text.contains(engine.equals("o3") ? "mergeOperator=o3.int64add" : "merge_operator=uint64add"), text);
        assertFalse(text.contains("FAILED") || text.contains("WARNING"), text);
        List<Map<String, Object>> rs = BenchRunTest.list(BenchRunTest.results(out));
        for (String w : List.of("mergerandom", "mergeseq", "readmerged")) {
            Map<String, Object> r = result(rs, w);
            assertEquals("ok", r.get("status"), r.toString());
            assertEquals(20000L, ((Number) r.get("ops")).longValue(), r.toString());
            Map<?, ?> p = (Map<?, ?>) r.get("percentiles_us");
            assertTrue(((Number) p.get("p50")).doubleValue() > 0, r.toString());
            assertEquals(500L, ((Map<?, ?>) r.get("settings")).get("merge_keys"));
        }
        Map<String, Object> read = result(rs, "readmerged");
        // 40000 merges over 500 counters: mergeseq alone puts 40 into each, so every read finds one
        assertEquals(20000L, ((Number) read.get("found")).longValue(), read.toString());
        assertTrue(String.valueOf(read.get("note")).startsWith(
                "verified: every one of the 500 counters holds its merges, sum 40000 = 40000 merges"), read.toString());
        Map<String, Object> rr = result(rs, "readrandom");
        assertEquals(20000L, ((Number) rr.get("found")).longValue(), "the fill's keys untouched: " + rr);
    }

    /** mergeseq alone, one thread, decimal keys: every counter gets num / keys. */
    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "o3"})
    void shouldVerifySequentialMergesWithDecimalKeys(String engine) {
        String text = BenchRunTest.run(0, "--engine", engine, "--num", "20000", "--merge-keys", "500",
                "--key-format", "decimal", "--benchmarks", "mergeseq,readmerged", "--reads", "5000", "--progress", "off");
        assertTrue(text.contains("[verified: every one of the 500 counters holds its merges, sum 20000 = 20000 merges; "
                + "5000 of 5000 reads found a counter]"), text);
    }

    @Test
    void shouldReportLevelDbNotApplicable() {
        String text = BenchRunTest.run(0, "--engine", "leveldb", "--num", "2000", "--merge-keys", "100",
                "--benchmarks", "fillrandom," + COUNTERS, "--progress", "off");
        assertTrue(text.contains("Note:       leveldb has no merge operator: mergerandom, mergeseq, readmerged reported n/a"),
                text);
        for (String w : List.of("mergerandom", "mergeseq", "readmerged")) {
            assertTrue(text.contains(String.format("%-12s : n/a (leveldb lacks a feature %s needs", w, w)), text);
        }
    }

    /** A map posing as an engine with a counter merge; {@code lossy} drops every 1000th merge. */
    static final class CounterMap implements EngineAdapter {
        final ConcurrentHashMap<ByteBuffer, byte[]> map = new ConcurrentHashMap<>();
        final boolean lossy;
        final AtomicLong merges = new AtomicLong();

        CounterMap(boolean lossy) {
            this.lossy = lossy;
        }

        @Override
        public String name() {
            return lossy ? "lossymap" : "countermap";
        }

        @Override
        public void open(Path dir, Settings settings) {
        }

        @Override
        public String describe() {
            return "ConcurrentHashMap with int64 add" + (lossy ? ", dropping every 1000th merge" : "");
        }

        @Override
        public void useCounterMerge() {
        }

        @Override
        public void merge(byte[] key, byte[] operand) {
            if (lossy && merges.incrementAndGet() % 1000 == 0) {
                return;
            }
            long add = MergeOperators.int64(operand);
            map.merge(ByteBuffer.wrap(key.clone()), operand.clone(),
                    (a, b) -> MergeOperators.int64(MergeOperators.int64(a) + add));
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

    /** The check can fail: an engine that loses merges fails readmerged loudly, with exit status 1. */
    @Test
    void shouldFailReadmergedWhenMergesAreLost() {
        Bench.ENGINES.put("countermap", () -> new CounterMap(false));
        Bench.ENGINES.put("lossymap", () -> new CounterMap(true));
        try {
            String good = BenchRunTest.run(0, "--engine", "countermap", "--num", "20000", "--merge-keys", "500",
                    "--threads", "3", "--benchmarks", COUNTERS, "--progress", "off");
            assertTrue(good.contains("[verified: every one of the 500 counters holds its merges, sum 40000 = 40000 merges"),
                    good);
            String bad = BenchRunTest.run(1, "--engine", "lossymap", "--num", "20000", "--merge-keys", "500",
                    "--benchmarks", COUNTERS, "--progress", "off");
            assertTrue(bad.contains("readmerged   : FAILED (java.lang.IllegalStateException: VERIFICATION FAILED: "), bad);
            // 40 of the 40000 merges dropped (20 of mergeseq's all on counter 499: the 1000th, 2000th, ...)
            assertTrue(bad.contains("the 500 counters sum to 39960, expected 40000 (40000 merges of +1); "), bad);
            assertTrue(bad.contains("timed reads returned a wrong counter (first: counter "), bad);
        } finally {
            Bench.ENGINES.remove("countermap");
            Bench.ENGINES.remove("lossymap");
        }
    }

    @Test
    void shouldFailVerificationOnAWrongTotalOrCounter() {
        long[] expected = {3, 0, 5};
        assertNull(Workloads.verifyCounters(expected, new long[] {3, 0, 5}, 0, 8));
        assertNull(Workloads.verifyCounters(expected, new long[] {3, 0, 5}, 2, 6), "2 before the merges");
        // the counters as expected, but they do not add up to the merges done
        String total = Workloads.verifyCounters(expected, new long[] {3, 0, 5}, 0, 9);
        assertNotNull(total);
        assertTrue(total.startsWith("the 3 counters sum to 8, expected 9 (9 merges of +1); 0 counters differ"), total);
        // the right total, distributed wrongly
        String moved = Workloads.verifyCounters(expected, new long[] {4, 0, 4}, 0, 8);
        assertEquals("the 3 counters sum to 8, expected 8 (8 merges of +1); 2 counters differ: counter 0 holds 4 "
                + "instead of 3, counter 2 holds 4 instead of 5", moved);
    }

    @Test
    void shouldRefuseReadmergedWithoutMergesAndKeysWithoutRoomForTheMark() {
        for (String[] args : List.of(
                new String[] {"--benchmarks", "readmerged"},
                new String[] {"--benchmarks", "fillrandom,readmerged,mergerandom"},
                new String[] {"--benchmarks", "mergerandom", "--merge-keys", "0"},
                new String[] {"--benchmarks", "mergerandom", "--merge-keys", "10000001"},
                new String[] {"--benchmarks", "mergerandom", "--key-size", "8"},
                new String[] {"--benchmarks", "mergerandom", "--key-format", "decimal", "--key-size", "4",
                    "--num", "1000", "--merge-keys", "10000"})) {
            assertThrows(CommandLine.ParameterException.class, () -> Bench.plan(args), String.join(" ", args));
        }
        // without merge benchmarks --merge-keys and the key size are not checked against each other
        Bench.plan("--benchmarks", "fillrandom", "--key-size", "8");
        assertEquals(List.of("mergeseq", "readmerged"), Bench.plan("--benchmarks", "mergeseq,readmerged").names());
    }

    @Test
    void shouldKeepCountersApartFromTheFillsKeys() {
        for (KeyFormat.Kind kind : KeyFormat.Kind.values()) {
            KeyFormat fill = new KeyFormat(kind, 16, 1000);
            KeyFormat counters = fill.counters(1000);
            Set<ByteBuffer> fillKeys = new HashSet<>();
            for (long i = 0; i < 2000; i++) { // the fill's keys and as many inserted after it
                byte[] k = new byte[16];
                fill.encode(i, k);
                fillKeys.add(ByteBuffer.wrap(k));
            }
            byte[] previous = null;
            for (long i = 0; i < 1000; i++) {
                byte[] k = new byte[16];
                counters.encode(i, k);
                assertFalse(fillKeys.contains(ByteBuffer.wrap(k)), kind + " counter " + i);
                if (previous != null) {
                    assertTrue(java.util.Arrays.compareUnsigned(previous, k) < 0, kind + ": index order");
                }
                previous = k;
            }
            assertThrows(IllegalArgumentException.class, () -> counters.encode(1000, new byte[16]));
        }
        byte[] k = new byte[16];
        new KeyFormat(KeyFormat.Kind.DECIMAL, 16, 10).counters(10000).encode(42, k);
        assertArrayEquals("m000000000000042".getBytes(java.nio.charset.StandardCharsets.US_ASCII), k);
    }
}
