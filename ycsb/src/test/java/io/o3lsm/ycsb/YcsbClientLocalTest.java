package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * YCSB's own client on the binding in local mode, as {@code bin/o3 ycsb} runs it: load, then run of
 * workload A (reads verified by YCSB's data-integrity check) and of workload E (scans and inserts),
 * two client threads sharing the DB; every operation must return OK, and afterwards every record
 * loaded or inserted must read back with all of its fields as YCSB wrote them.
 */
class YcsbClientLocalTest {
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
    void shouldLoadAndRunWorkloadsAAndEWithEveryOperationOk() throws Exception {
        Path db = tmp.resolve("db");
        String[] common = {"-p", "o3.dir=" + db, "-p", "recordcount=" + RECORDS, "-p", "dataintegrity=true",
            "-threads", "2"};

        YcsbRun load = YcsbRun.run(tmp.resolve("load.log"), "-load", "workloada", common).assertAllOk();
        assertEquals(RECORDS, load.count("INSERT", "OK"), load.output);
        assertEquals(1, count(load.output, "o3: opened mode=local dir=" + db), "one DB for both threads:\n" + load.output);
        assertEquals(1, count(load.output, "o3: closing " + db), load.output);

        YcsbRun a = YcsbRun.run(tmp.resolve("a.log"), "-t", "workloada",
                concat(common, "-p", "operationcount=3000")).assertAllOk();
        long reads = a.count("READ", "OK");
        long updates = a.count("UPDATE", "OK");
        assertEquals(3000, reads + updates, a.output);
        assertTrue(reads > 0 && updates > 0, a.output);
        assertEquals(reads, a.count("VERIFY", "OK"), "YCSB found each read's fields as it wrote them:\n" + a.output);

        YcsbRun e = YcsbRun.run(tmp.resolve("e.log"), "-t", "workloade",
                concat(common, "-p", "operationcount=1000")).assertAllOk();
        long scans = e.count("SCAN", "OK");
        long inserts = e.count("INSERT", "OK");
        assertEquals(1000, scans + inserts, e.output);
        assertTrue(scans > 0 && inserts > 0, e.output);

        // every record, loaded or inserted by E (record numbers RECORDS, RECORDS + 1, ...), with all its fields
        Records records = new Records("workloada", "recordcount", Integer.toString(RECORDS), "dataintegrity", "true");
        O3Client c = new O3Client();
        Properties p = new Properties();
        p.setProperty("o3.dir", db.toString());
        c.setProperties(p);
        c.init();
        try {
            for (long n = 0; n < RECORDS + inserts; n++) {
                records.assertComplete(c, n);
            }
        } finally {
            c.cleanup();
        }
        long keys = 0;
        try (DB d = DB.open(db, Options.defaults()); DBIterator it = d.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                keys++;
            }
        }
        assertEquals(RECORDS + inserts, keys, "no other keys");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }
}
