package io.o3lsm.bench;

import static io.o3lsm.bench.BenchRunTest.list;
import static io.o3lsm.bench.BenchRunTest.refused;
import static io.o3lsm.bench.BenchRunTest.results;
import static io.o3lsm.bench.BenchRunTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.hdfs.MiniHdfs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --storage URI}: the o3 DB on HDFS (an in-JVM MiniDFSCluster), its files measured and
 * deleted through the file system, and the arguments it cannot go with refused.
 */
@Tag("hdfs")
class BenchOnSharedStorageTest {
    private static MiniHdfs hdfs;

    @BeforeAll
    static void startHdfs() throws IOException {
        hdfs = MiniHdfs.start(1);
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @Test
    void shouldRunOnHdfsMeasureItsFilesThereAndDeleteTheRunDirectory(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        String storage = hdfs.uri("/bench-runs?sync=hflush").toString();
        String text = run(0, "--storage", storage, "--num", "4000", "--reads", "2000", "--benchmarks",
                "fillrandom,readrandom", "--write-buffer-size", "1m", "--manual-wal-flush", "--out", out.toString(), "--seed", "3",
                "--progress", "off");
        assertTrue(text.contains("Dir:        hdfs://127.0.0.1:"), text);
        assertTrue(text.contains("manualWalFlush=true"), text);
        List<Map<String, Object>> rs = list(results(out));
        Map<String, Object> fill = rs.stream().filter(r -> r.get("workload").equals("fillrandom")).findFirst().orElseThrow();
        assertEquals("ok", fill.get("status"), fill.toString());
        assertTrue(((Number) fill.get("disk_bytes")).longValue() > 4000L * 100, "the DB's bytes on HDFS: " + fill);
        Map<String, Object> read = rs.stream().filter(r -> r.get("workload").equals("readrandom")).findFirst().orElseThrow();
        assertEquals(2000L, read.get("found"), read.toString());
        FileStatus[] left = hdfs.cluster().getFileSystem().listStatus(new org.apache.hadoop.fs.Path("/bench-runs"));
        assertEquals(0, left.length, "the run's directory is deleted afterwards: " + List.of(left));
    }

    @Test
    void shouldRefuseStorageWithOtherEnginesModesOrADirectory(@TempDir Path tmp) {
        String storage = hdfs.uri("/x").toString();
        assertTrue(refused("--storage", storage, "--engine", "rocksdb").contains("runs only the o3 engine"));
        assertTrue(refused("--storage", storage, "--compare", "o3,leveldb").contains("runs only the o3 engine"));
        assertTrue(refused("--storage", storage, "--mode", "dm").contains("--mode local and caas"));
        assertTrue(refused("--storage", storage, "--dir", tmp.toString()).contains("exclude each other"));
        assertTrue(refused("--storage", "file:relative").contains("--storage"));
        assertTrue(refused("--manual-wal-flush", "--mode", "dm").contains("--manual-wal-flush works in --mode local"));
    }
}
