package io.o3lsm.hdfs;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * An HDFS for tests: a NameNode and {@code dataNodes} DataNodes in this JVM (Hadoop's
 * MiniDFSCluster), storing under a fresh temp directory, listening on 127.0.0.1. Start it once per
 * test class; {@link #close} stops it and deletes its files.
 */
public final class MiniHdfs implements AutoCloseable {
    private final Path base;
    private final MiniDFSCluster cluster;

    private MiniHdfs(Path base, MiniDFSCluster cluster) {
        this.base = base;
        this.cluster = cluster;
    }

    public static MiniHdfs start(int dataNodes) throws IOException {
        HadoopLogging.quiet();
        Path base = Files.createTempDirectory("o3-minihdfs-");
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
        conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.setInt("dfs.replication", Math.min(3, dataNodes));
        conf.setLong("dfs.blocksize", 8L << 20);
        // a killed DataNode is noticed quickly, so writes go on without it
        conf.setInt("dfs.heartbeat.interval", 1);
        conf.setInt("dfs.namenode.heartbeat.recheck-interval", 3000);
        conf.setBoolean("dfs.permissions.enabled", false);
        try {
            MiniDFSCluster c = new MiniDFSCluster.Builder(conf).numDataNodes(dataNodes).build();
            c.waitActive();
            return new MiniHdfs(base, c);
        } catch (IOException | RuntimeException e) {
            deleteTree(base);
            throw e;
        }
    }

    /** {@code hdfs://127.0.0.1:port}. */
    public URI uri() {
        return URI.create("hdfs://127.0.0.1:" + cluster.getNameNodePort());
    }

    /** {@code hdfs://127.0.0.1:port/path?query}. */
    public URI uri(String pathAndQuery) {
        return URI.create(uri() + pathAndQuery);
    }

    public MiniDFSCluster cluster() {
        return cluster;
    }

    @Override
    public void close() throws IOException {
        try {
            cluster.shutdown(true);
        } finally {
            deleteTree(base);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        }
    }
}
