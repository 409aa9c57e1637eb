package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With replication 3, a DataNode stopped while the DB writes (WAL appends in its pipeline, flushes
 * and compactions creating files) loses nothing acknowledged: the write pipelines go on with the
 * DataNodes left, and a reopen reads every key back.
 */
class HdfsDataNodeLossTest {
    private static MiniHdfs hdfs;

    @BeforeAll
    static void startHdfs() throws IOException {
        hdfs = MiniHdfs.start(3);
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    private static byte[] key(int i) {
        return String.format("key%08d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        return ("value-" + i + "-" + "x".repeat(100)).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldLoseNoAcknowledgedWriteWhenADataNodeDiesUnderLoad() throws Exception {
        URI uri = hdfs.uri("/dnloss/db");
        Options opts = Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10)
                .targetFileSize(64 << 10).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
        int n = 20_000;
        int killAt = n / 3;
        WriteOptions sync = WriteOptions.defaults().sync(true);
        try (DB db = DB.open(uri, opts)) {
            for (int i = 0; i < n; i++) {
                if (i == killAt) {
                    assertTrue(hdfs.cluster().stopDataNode(1) != null, "a DataNode was stopped");
                }
                db.put(key(i), value(i), i % 100 == 0 ? sync : WriteOptions.defaults());
            }
            assertEquals(2, hdfs.cluster().getDataNodes().size());
            assertTrue(db.stats().flushes() > 0, "flushes ran after the DataNode died: " + db.stats());
        }
        try (DB db = DB.open(uri, opts)) {
            for (int i = 0; i < n; i++) {
                assertArrayEquals(value(i), db.get(key(i)), "key " + i);
            }
        }
    }
}
