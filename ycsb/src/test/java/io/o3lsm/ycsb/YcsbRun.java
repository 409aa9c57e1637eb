package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of YCSB's own client ({@code site.ycsb.Client -db io.o3lsm.ycsb.O3Client}, as {@code bin/o3
 * ycsb} starts it) in a JVM of its own, with this module's production class path: core's test jar,
 * whose in-process SPI stand-ins would shadow the real modes, is left out. Holds the output and the
 * {@code [OP], Return=STATUS, N} counts YCSB printed.
 */
final class YcsbRun {
    private static final Pattern RETURN = Pattern.compile("(?m)^\\[([\\w-]+)\\], Return=(\\w+), (\\d+)$");

    final String output;
    /** "OP Return=STATUS" to count, e.g. "READ OK" to 1500. */
    final Map<String, Long> returns = new TreeMap<>();

    private YcsbRun(String output) {
        this.output = output;
        Matcher m = RETURN.matcher(output);
        while (m.find()) {
            returns.put(m.group(1) + " " + m.group(2), Long.parseLong(m.group(3)));
        }
    }

    /** The count of {@code op} with status {@code status} (0 when YCSB printed none). */
    long count(String op, String status) {
        return returns.getOrDefault(op + " " + status, 0L);
    }

    /** Every count of a status other than OK, e.g. {"UPDATE ERROR": 3}. */
    Map<String, Long> notOk() {
        Map<String, Long> m = new TreeMap<>(returns);
        m.keySet().removeIf(k -> k.endsWith(" OK"));
        return m;
    }

    /** Asserts that every operation YCSB counted returned OK. */
    YcsbRun assertAllOk() {
        assertEquals(Map.of(), notOk(), output);
        assertTrue(!returns.isEmpty(), "YCSB reported no operations:\n" + output);
        return this;
    }

    /**
     * The class path of this module's main code and its runtime dependencies, and with
     * {@code testClasses} this module's test classes (e.g. {@link SkippingWorkload}).
     */
    static String productionClassPath(boolean testClasses) {
        List<String> keep = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            boolean own = e.replace(File.separatorChar, '/').endsWith("ycsb/target/test-classes");
            if (!e.isEmpty() && !e.endsWith("-tests.jar") && (!e.contains("test-classes") || (testClasses && own))) {
                keep.add(e);
            }
        }
        return String.join(File.pathSeparator, keep);
    }

    /**
     * Runs {@code site.ycsb.Client} with {@code phase} ("-load" or "-t"), the workload file
     * {@code workloads/NAME} of this module, and {@code args} (e.g. "-p", "o3.dir=…"); fails unless it
     * exits 0 within {@link #TIMEOUT_SECONDS}.
     */
    static YcsbRun run(Path log, String phase, String workload, String... args) throws Exception {
        return run(log, false, phase, workload, args);
    }

    /** The bound of one {@link #run}; a test's {@code @Timeout} allows for each of its runs taking this long. */
    static final int TIMEOUT_SECONDS = 80;

    /** As {@link #run(Path, String, String, String...)}, with this module's test classes on the class path when {@code testClasses}. */
    static YcsbRun run(Path log, boolean testClasses, String phase, String workload, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-cp", productionClassPath(testClasses), "site.ycsb.Client", "-db", O3Client.class.getName(),
                phase, "-P", Path.of("workloads", workload).toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(UcxEnvironment.VARIABLES);
        Process p = pb.start();
        boolean ended;
        try {
            ended = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } finally {
            p.destroyForcibly(); // never left behind
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(ended, "YCSB did not end within " + TIMEOUT_SECONDS + " s:\n" + out);
        assertEquals(0, p.exitValue(), out);
        return new YcsbRun(out);
    }
}
