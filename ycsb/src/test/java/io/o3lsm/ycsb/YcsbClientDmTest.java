package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.dm.MemNodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * YCSB's own client on the binding in dm mode, against a real memory node (a separate JVM on
 * 127.0.0.1, over UCX) described by a run directory laid out as {@code bin/o3 cluster up} leaves it.
 * A 1 MiB local budget sends the write buffer's shards to the node. Load and run workload A, then read
 * every record once (workload C with a sequential key chooser) with YCSB's data-integrity check, and
 * read every record's fields back in this JVM in dm mode too.
 */
@Tag("dm")
class YcsbClientDmTest {
    static final int RECORDS = 3000;

    @TempDir
    Path tmp;

    /** Nothing left open for the next test, even when this one failed before its cleanup. */
    @AfterEach
    void noDbLeftOpen() throws Exception {
        assertNull(O3Client.resetForTests(), "a DB left open by this test");
    }

    @Test
    @Timeout(3 * YcsbRun.TIMEOUT_SECONDS + 60) // its YCSB runs, each bounded, and the rest
    void shouldLoadRunAndFindEveryRecordThroughAMemoryNode() throws Exception {
        Path cluster = tmp.resolve("cluster");
        Path storage = cluster.resolve("storage");
        try (MemNodeProcess node = cluster(cluster)) {
            String[] common = {"-p", "o3.mode=dm", "-p", "o3.cluster=" + cluster, "-p", "o3.dir=ycsb-db",
                "-p", "o3.local_budget=1m", "-p", "o3.dm_budget=64m", "-p", "recordcount=" + RECORDS,
                "-p", "dataintegrity=true", "-threads", "2"};

            YcsbRun load = YcsbRun.run(tmp.resolve("load.log"), "-load", "workloada", common).assertAllOk();
            assertEquals(RECORDS, load.count("INSERT", "OK"), load.output);
            assertTrue(load.output.contains("o3: opened mode=dm dir=" + storage.resolve("ycsb-db")), load.output);
            Matcher m = Pattern.compile("o3: closing .*o3\\.dm: mode=dm attached=true .*\\boffloads=(\\d+)").matcher(load.output);
            assertTrue(m.find(), load.output);
            assertTrue(Long.parseLong(m.group(1)) > 0, "shards went to the memory node:\n" + load.output);

            YcsbRun a = YcsbRun.run(tmp.resolve("a.log"), "-t", "workloada",
                    YcsbClientLocalTest.concat(common, "-p", "operationcount=2000")).assertAllOk();
            assertEquals(2000, a.count("READ", "OK") + a.count("UPDATE", "OK"), a.output);
            assertEquals(a.count("READ", "OK"), a.count("VERIFY", "OK"), a.output);

            // each record read once, in record-number order, and checked by YCSB
            YcsbRun every = YcsbRun.run(tmp.resolve("c.log"), "-t", "workloadc", YcsbClientLocalTest.concat(common,
                    "-p", "operationcount=" + RECORDS, "-p", "requestdistribution=sequential")).assertAllOk();
            assertEquals(RECORDS, every.count("READ", "OK"), every.output);
            assertEquals(RECORDS, every.count("VERIFY", "OK"), every.output);

            // and every field of every record, read in this JVM in dm mode
            assertRecords(cluster, RECORDS);
        }
    }

    /**
     * YCSB skips cleanup when an operation throws ({@link SkippingWorkload}; the client thread calls
     * System.exit(0)): the binding's shutdown hook flushes (no WAL) and closes the DB, which detaches
     * it from the memory node, and every record inserted before is there when the DB opens again.
     */
    @Test
    @Timeout(YcsbRun.TIMEOUT_SECONDS + 60)
    void shouldFlushAndCloseAtExitThroughAMemoryNodeWhenAnOperationThrows() throws Exception {
        Path cluster = tmp.resolve("cluster");
        try (MemNodeProcess node = cluster(cluster)) {
            YcsbRun load = YcsbRun.run(tmp.resolve("load.log"), true, "-load", "workloada", "-p", "o3.mode=dm",
                    "-p", "o3.cluster=" + cluster, "-p", "o3.dir=ycsb-db", "-p", "o3.local_budget=1m",
                    "-p", "o3.dm_budget=64m", "-p", "o3.disable_wal=true", "-p", "recordcount=" + RECORDS,
                    "-p", "dataintegrity=true", "-p", "workload=" + SkippingWorkload.class.getName(),
                    "-p", "skipping.fail_after=2000", "-threads", "1");
            assertTrue(load.output.contains("o3: closing " + cluster.resolve("storage/ycsb-db")
                    + " at exit (1 client thread skipped cleanup), flushing"), load.output);
            assertRecords(cluster, 2000);
        }
    }

    /**
     * A memory node, and a run directory {@code cluster} as {@code bin/o3 cluster up} leaves it:
     * {@code cluster.properties} with the node's address, secret and storage, and {@code run/memnode.pid}.
     */
    private MemNodeProcess cluster(Path cluster) throws Exception {
        Path storage = Files.createDirectories(cluster.resolve("storage"));
        Files.createDirectories(cluster.resolve("run"));
        Path secret = MemNodeProcess.secret(cluster, "secret", "5e".repeat(32));
        MemNodeProcess node = new MemNodeProcess(tmp, MemNodeProcess.freePort(), "256m", secret).start();
        Files.writeString(cluster.resolve("cluster.properties"), "memnode=127.0.0.1:" + node.port
                + "\nsecret-file=" + secret + "\nstorage=" + storage + "\nflush-workers=0\ncompactors=0\n");
        Files.writeString(cluster.resolve("run/memnode.pid"), node.pid() + "\n");
        return node;
    }

    /** Every field of records 0..n-1 of {@code storage/ycsb-db}, read in this JVM in dm mode. */
    private static void assertRecords(Path cluster, int n) throws Exception {
        Records records = new Records("workloada", "recordcount", Integer.toString(RECORDS), "dataintegrity", "true");
        O3Client c = new O3Client();
        Properties p = new Properties();
        p.setProperty("o3.mode", "dm");
        p.setProperty("o3.cluster", cluster.toString());
        p.setProperty("o3.dir", "ycsb-db");
        p.setProperty("o3.local_budget", "1m");
        p.setProperty("o3.dm_budget", "64m");
        c.setProperties(p);
        c.init();
        try {
            assertTrue(c.db().property("o3.dm").contains("attached=true"), c.db().property("o3.dm"));
            for (long i = 0; i < n; i++) {
                records.assertComplete(c, i);
            }
        } finally {
            c.cleanup();
        }
    }
}
