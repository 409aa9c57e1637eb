package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.Status;

/**
 * YCSB 0.17's client skips {@code cleanup()} when an operation throws (the client thread calls
 * {@code System.exit(0)}) and when a workload's {@code initThread} throws (the thread returns): the
 * binding's shutdown hook then closes the DB, flushing it first with {@code o3.disable_wal=true}, so
 * every record inserted before is in the DB afterwards ({@link SkippingWorkload} fails on purpose).
 */
class YcsbSkippedCleanupTest {
    static final int RECORDS = 1000;

    @TempDir
    Path tmp;

    @AfterEach
    void noDbLeftOpen() throws Exception {
        assertNull(O3Client.resetForTests(), "a DB left open by this test");
    }

    @Test
    @Timeout(YcsbRun.TIMEOUT_SECONDS + 60)
    void shouldFlushAndCloseAtExitWhenAnOperationThrows() throws Exception {
        Path db = tmp.resolve("db");
        YcsbRun load = YcsbRun.run(tmp.resolve("load.log"), true, "-load", "workloada", "-p", "o3.dir=" + db,
                "-p", "o3.disable_wal=true", "-p", "recordcount=" + RECORDS, "-p", "dataintegrity=true",
                "-p", "workload=" + SkippingWorkload.class.getName(), "-p", "skipping.fail_after=600", "-threads", "1");
        assertTrue(load.output.contains("test: insert 601 fails"), load.output);
        assertTrue(load.output.contains("o3: closing " + db + " at exit (1 client thread skipped cleanup), flushing"),
                load.output);
        assertRecords(db, 600);
    }

    @Test
    @Timeout(YcsbRun.TIMEOUT_SECONDS + 60)
    void shouldFlushAndCloseAtExitWhenAClientThreadSkipsCleanup() throws Exception {
        Path db = tmp.resolve("db");
        // thread 1's initThread fails after its init; thread 0 inserts its half, records 0..499
        YcsbRun load = YcsbRun.run(tmp.resolve("load.log"), true, "-load", "workloada", "-p", "o3.dir=" + db,
                "-p", "o3.disable_wal=true", "-p", "recordcount=" + RECORDS, "-p", "dataintegrity=true",
                "-p", "workload=" + SkippingWorkload.class.getName(), "-p", "skipping.fail_thread=1", "-threads", "2");
        assertEquals(RECORDS / 2, load.count("INSERT", "OK"), load.output);
        assertTrue(load.output.contains("test: initThread of client thread 1 fails"), load.output);
        assertTrue(load.output.contains("o3: closing " + db + " at exit (1 client thread skipped cleanup), flushing"),
                load.output);
        assertRecords(db, RECORDS / 2);
    }

    /** Records 0..n-1 are in the DB with every field, and record n is not. */
    private static void assertRecords(Path db, int n) throws Exception {
        Records records = new Records("workloada", "recordcount", Integer.toString(RECORDS), "dataintegrity", "true");
        O3Client c = new O3Client();
        Properties p = new Properties();
        p.setProperty("o3.dir", db.toString());
        c.setProperties(p);
        c.init();
        try {
            for (long i = 0; i < n; i++) {
                records.assertComplete(c, i);
            }
            assertEquals(Status.NOT_FOUND, c.read("usertable", records.key(n), null, new HashMap<>()));
        } finally {
            c.cleanup();
        }
    }
}
