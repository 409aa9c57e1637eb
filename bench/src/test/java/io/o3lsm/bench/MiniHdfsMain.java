package io.o3lsm.bench;

import io.o3lsm.hdfs.MiniHdfs;

/**
 * An HDFS to measure against by hand (not a test): starts {@link MiniHdfs} with {@code args[0]}
 * DataNodes (default 3, replication min(3, n)) in this JVM, prints {@code HDFS hdfs://127.0.0.1:PORT}
 * and serves until killed (SIGTERM/SIGINT stop it and delete its files). See docs/benchmarks-o3.md,
 * "Storage on HDFS", for the command line.
 */
public final class MiniHdfsMain {
    private MiniHdfsMain() {
    }

    public static void main(String[] args) throws Exception {
        int dataNodes = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        MiniHdfs hdfs = MiniHdfs.start(dataNodes);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                hdfs.close();
            } catch (Exception e) {
                System.err.println("MiniHdfsMain: close failed: " + e);
            }
        }, "minihdfs-stop"));
        System.out.println("HDFS " + hdfs.uri() + " (" + dataNodes + " DataNodes, pid " + ProcessHandle.current().pid() + ")");
        System.out.flush();
        Thread.currentThread().join();
    }
}
