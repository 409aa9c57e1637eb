package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --mode dm} end to end: the runner starts its own memory node (a real child JVM over UCX),
 * fills through it with a tiny local budget so shards are offloaded and local copies dropped, reads
 * back (delegated gets), prints the o3.dm state, and stops the node cleanly.
 */
@Tag("dm")
class DmModeBenchTest {
    @Test
    void shouldRunFillAndReadThroughAMemoryNodeItStarts(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        // 1 MiB local (256 KiB arenas) + 64 MiB DM: 20000 x 116 B = 2.3 MB, so most shards end up remote-only
        String text = BenchRunTest.run(0, "--mode", "dm", "--num", "20000", "--local-budget", "1m", "--dm-budget", "64m",
                "--benchmarks", "fillrandom,readrandom", "--seed", "5", "--progress", "off", "--out", out.toString());
        assertTrue(text.contains("MemoryNode: started by this run"), text);
        assertTrue(text.contains("memoryNode=127.0.0.1:"), text);
        assertTrue(text.contains("(20000 of 20000 found)"), text);
        assertTrue(text.contains("Memory node: stopped, exit status 0, closed cleanly"), text);
        Matcher m = Pattern.compile("o3\\.dm\\s*: (mode=dm attached=true .*)").matcher(text);
        assertTrue(m.find(), text);
        assertTrue(field(m.group(1), "offloads") > 0, m.group(1));
        // the shards went to the node this run started (its own counters), not to an in-process stand-in
        Matcher in = Pattern.compile("memnode in ([0-9.]+) MB").matcher(text);
        assertTrue(in.find() && Double.parseDouble(in.group(1)) > 1.0, text);
        assertTrue(m.find(), text); // after readrandom
        String afterRead = m.group(1);
        // remote-only shards are read one-sided from their cached entry locations
        assertTrue(field(afterRead, "droppedLocal") > 0 && field(afterRead, "cachedGets") > 0, afterRead);
        assertTrue(text.contains("  get-cached "), text);

        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) Json.parse(Files.readString(out.resolve("results.json")));
        List<Map<String, Object>> rs = BenchRunTest.list(root);
        assertEquals("dm", rs.get(0).get("mode"));
        assertTrue(((String) rs.get(1).get("engine_state")).contains("delegatedGets="), rs.get(1).toString());
    }

    @Test
    void shouldCompareModesOnTheSameDataWithRatiosAndOneReport(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        String text = BenchRunTest.run(0, "--compare-modes", "local,dm,o3", "--num", "20000", "--reads", "2000",
                "--local-budget", "1m", "--dm-budget", "16m", "--flush-min-bytes", "64k", "--flush-placement", "always",
                "--benchmarks", "fillrandom,readrandom", "--seed", "5", "--progress", "off", "--out", out.toString());
        assertTrue(text.contains("Modes compared (o3 in each; ratios against local, seed 5)"), text);
        assertTrue(text.contains("(20000 of 20000 found)") || text.contains("(2000 of 2000 found)"), text);
        assertTrue(text.matches("(?s).*readrandom .*\\([0-9.]+x\\).*\\([0-9.]+x\\).*"), text);
        assertTrue(text.contains("Flush worker bench-w1") && text.contains("Compactor bench-c1"), text);
        assertTrue(text.matches(
                "(?s).*Per mode: .*\\nfillrandom +o3 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+/[0-9.]+ +[0-9.]+ +[0-9]+ .*"), text);
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) Json.parse(Files.readString(out.resolve("results.json")));
        assertEquals(List.of("local", "dm", "o3"), root.get("engines"));
        List<Map<String, Object>> rs = BenchRunTest.list(root);
        assertEquals(6, rs.size(), rs.toString());
        for (Map<String, Object> r : rs) {
            assertEquals(r.get("engine"), r.get("mode"), r.toString()); // each result is labelled by its mode
        }
        // per mode, the other nodes' costs: daemon CPU by process, bytes through the memory node, places
        Map<String, Object> localFill = rs.get(0);
        assertEquals(null, localFill.get("daemon_cpu_seconds"), localFill.toString());
        Map<String, Object> o3Fill = rs.get(4);
        assertEquals("o3", o3Fill.get("mode"));
        Map<?, ?> cpu = (Map<?, ?>) o3Fill.get("daemon_cpu_seconds");
        assertTrue(cpu.containsKey("memnode") && cpu.containsKey("bench-w1") && cpu.containsKey("bench-c1"), cpu.toString());
        assertTrue(((Number) o3Fill.get("memnode_bytes_in")).longValue() > 1_000_000, o3Fill.toString());
        assertTrue(((Map<?, ?>) o3Fill.get("flushes_by_place")).containsKey("offloaded"), o3Fill.toString());
        // the fill wrote its WAL and tables to storage (20000 x ~116 B of keys and values at least once)
        assertTrue(((Number) o3Fill.get("storage_bytes_written")).longValue() > 2_000_000, o3Fill.toString());
        Map<?, ?> kinds = (Map<?, ?>) o3Fill.get("storage_bytes_by_kind");
        assertEquals(((Number) o3Fill.get("storage_bytes_written")).longValue(), ((Number) kinds.get("wal")).longValue()
                + ((Number) kinds.get("flush")).longValue() + ((Number) kinds.get("compaction")).longValue(), kinds.toString());
        assertTrue(((Number) kinds.get("wal")).longValue() > 2_000_000, kinds.toString());
        assertTrue(Files.exists(out.resolve("summary-throughput.png")));
        assertTrue(Files.size(out.resolve("cpu-fillrandom.png")) > 0, "the CPU-per-node chart");
        String summary = Files.readString(out.resolve("summary.md"));
        assertTrue(summary.matches("(?s).*\\| fillrandom \\| o3 \\| [0-9,]+ \\| [0-9.]+x \\| .*"), summary);
        // refused: one mode, an unknown one, and flags that pick one engine or one place
        BenchRunTest.run(2, "--compare-modes", "dm");
        BenchRunTest.run(2, "--compare-modes", "local,nosuch");
        BenchRunTest.run(2, "--compare-modes", "local,dm", "--dir", tmp.resolve("d").toString());
        BenchRunTest.run(2, "--compare-modes", "local,dm", "--compare", "o3,rocksdb");
    }

    @Test
    void shouldDelegateGetsWithTheReadCacheOff(@TempDir Path tmp) throws Exception {
        String text = BenchRunTest.run(0, "--mode", "dm", "--num", "20000", "--local-budget", "1m", "--dm-budget", "64m",
                "--dm-read-cache", "0", "--dm-read-flush-trigger", "0", "--benchmarks", "fillrandom,readrandom",
                "--seed", "5", "--progress", "off", "--out", tmp.resolve("out").toString());
        assertTrue(text.contains("(20000 of 20000 found)"), text);
        Matcher m = Pattern.compile("o3\\.dm\\s*: (mode=dm attached=true .*)").matcher(text);
        assertTrue(m.find() && m.find(), text);
        String afterRead = m.group(1);
        assertTrue(field(afterRead, "delegatedGets") > 0 && field(afterRead, "cachedGets") == 0, afterRead);
        assertTrue(text.contains("  get-delegated") && !text.contains("  get-cached "), text);
    }

    static long field(String prop, String name) {
        for (String part : prop.split(" ")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + prop);
    }
}
