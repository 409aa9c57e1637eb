package io.o3lsm.examples;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.Secondary;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * The HDFS examples of docs/operations/read-only.md and secondary.md, compiled here (checked against
 * the pages by DocsExampleTest); the same calls run against HDFS processes in o3lsm-hdfs's
 * HdfsOperationsTest.
 */
final class HdfsOperationsExamples {
    private HdfsOperationsExamples() {
    }

    static byte[] readOnly(byte[] key) throws IOException {
        byte[] v;
        // DOCS:operations/read-only/hdfs begin
        try (FileSystem hdfs = FileSystem.forUri(URI.create("hdfs://nn:8020"));
                DB ro = DB.openReadOnly(Path.of("/o3/mydb"), Options.defaults().fileSystem(hdfs))) {
            v = ro.get(key);                   // sees the writer's hflushed WAL records: no lease is recovered
        }
        // DOCS:operations/read-only/hdfs end
        return v;
    }

    static long secondary() throws IOException {
        long seq;
        // DOCS:operations/secondary/hdfs begin
        try (FileSystem hdfs = FileSystem.forUri(URI.create("hdfs://nn:8020"));
                Secondary secondary = DB.openSecondary(Path.of("/o3/mydb"), Options.defaults().fileSystem(hdfs))) {
            seq = secondary.tryCatchUp();
        }
        // DOCS:operations/secondary/hdfs end
        return seq;
    }
}
