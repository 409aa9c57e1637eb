package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import site.ycsb.workloads.CoreWorkload;

/** The workload files of ycsb/workloads carry the parameters of YCSB's core workloads A to F, and CoreWorkload accepts them. */
class WorkloadFilesTest {
    /** name, read, update, insert, scan, read-modify-write proportions, request distribution. */
    private static final List<String[]> EXPECTED = List.of(
            new String[] {"workloada", "0.5", "0.5", "0", "0", "0", "zipfian"},
            new String[] {"workloadb", "0.95", "0.05", "0", "0", "0", "zipfian"},
            new String[] {"workloadc", "1", "0", "0", "0", "0", "zipfian"},
            new String[] {"workloadd", "0.95", "0", "0.05", "0", "0", "latest"},
            new String[] {"workloade", "0", "0", "0.05", "0.95", "0", "zipfian"},
            new String[] {"workloadf", "0.5", "0", "0", "0", "0.5", "zipfian"});

    @Test
    void shouldHoldTheCoreWorkloadsParameters() throws Exception {
        for (String[] w : EXPECTED) {
            Path file = Path.of("workloads", w[0]);
            assertTrue(Files.readString(file).startsWith("# Workload " + w[0].substring(8).toUpperCase()), file.toString());
            Properties p = Records.properties(w[0]);
            String[] names = {"readproportion", "updateproportion", "insertproportion", "scanproportion",
                "readmodifywriteproportion"};
            double sum = 0;
            for (int i = 0; i < names.length; i++) {
                assertEquals(Double.parseDouble(w[i + 1]), Double.parseDouble(p.getProperty(names[i])), w[0] + " " + names[i]);
                sum += Double.parseDouble(p.getProperty(names[i]));
            }
            assertEquals(1.0, sum, 1e-9, w[0]);
            assertEquals(w[6], p.getProperty("requestdistribution"), w[0]);
            assertEquals("site.ycsb.workloads.CoreWorkload", p.getProperty("workload"), w[0]);
            assertEquals("1000", p.getProperty("recordcount"), w[0]);
            assertEquals("1000", p.getProperty("operationcount"), w[0]);
            assertEquals("true", p.getProperty("readallfields"), w[0]);
            if (w[0].equals("workloade")) {
                assertEquals("100", p.getProperty("maxscanlength"));
                assertEquals("uniform", p.getProperty("scanlengthdistribution"));
            } else {
                assertEquals(null, p.getProperty("maxscanlength"), w[0]);
            }
            new CoreWorkload().init(p); // YCSB accepts the file
        }
    }
}
