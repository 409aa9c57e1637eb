package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Review finding: {@code HdfsFileSystem.size} opens the file to read its visible length. For a file
 * still being written whose last block's DataNodes cannot answer (the writer's host died with its
 * DataNode, or replication 1), the HDFS client's open asks those DataNodes for the block length, with
 * its retries ({@code dfs.client.retry.times.get-last-block-length} x
 * {@code dfs.client.retry.interval-ms.get-last-block-length}, 3 x 4 s by default, plus IPC connect
 * retries), before size() falls back to the NameNode's length. The NameNode's answer alone
 * (getFileStatus, the behaviour before 902b7a5) takes milliseconds. Callers: SecondaryDB.fingerprint
 * (every WAL and the MANIFEST, each catch-up attempt), CheckpointWriter and BackupStore (WAL copies),
 * VersionSet (MANIFEST refresh), DbProperties (total SST bytes).
 */
class HdfsSizeWithLastBlockUnreachableTest {
    @Test
    void sizeOfAFileBeingWrittenWhoseLastBlockIsUnreachableAnswersPromptly() throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(1)) {
            FileSystem fs = FileSystem.forUri(hdfs.uri("/s"));
            Path dir = Path.of("/s/d");
            fs.createDirectories(dir);
            Path p = dir.resolve("000007.log");
            FileSystem.WritableFile w = fs.newWritableFile(p);
            byte[] b = "abc".getBytes(StandardCharsets.UTF_8);
            w.append(b, 0, 3);
            w.flush(); // hflush: a reader can read 3 bytes; the NameNode still records 0
            hdfs.cluster().stopDataNode(0); // the writer's host (and its DataNode) is gone
            long t0 = System.nanoTime();
            long size = -1;
            Exception failed = null;
            try {
                size = fs.size(p);
            } catch (Exception ex) {
                failed = ex;
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("size() with the last block unreachable: " + size + " after " + ms + " ms"
                    + (failed != null ? ", failed: " + failed : ""));
            assertTrue(failed == null, "size() of an existing file failed: " + failed);
            assertTrue(ms < 2000, "size() took " + ms + " ms (getFileStatus alone: a few ms)");
            try {
                w.close();
            } catch (Exception ignored) {
                // its pipeline is gone
            }
            fs.close();
        }
    }
}
