package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.hdfs.MiniHdfs;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's randomized model test ({@link ModelTest}, {@link ModelRunner}: the whole public API
 * checked against a TreeMap, with flushes, compactions, snapshots, iterators and reopens) with the
 * DB on HDFS (an in-JVM cluster of 3 DataNodes, replication 3), opened by URI through
 * {@link DB#open(URI, Options)} at every (re)open: the same operations give the same results as on a
 * local directory. Seeded like ModelTest ({@code -Dtests.seed}, {@code -Dmodel.iterations}).
 */
class HdfsModelTest {
    private static final int ITERATIONS = Integer.getInteger("model.iterations",
            Boolean.getBoolean("tests.slow") ? ModelTest.SLOW_ITERATIONS : ModelTest.SHORT_ITERATIONS);
    private static final long BASE_SEED = seed();
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

    @Test
    void shouldMatchModelOnHdfsWithTinyFilesAndLz4() {
        run(ModelTest.OptionSet.TINY_LZ4, "shouldMatchModelOnHdfsWithTinyFilesAndLz4");
    }

    @Test
    void shouldMatchModelOnHdfsWithManyShardsAndNoBlockCache() {
        run(ModelTest.OptionSet.MANY_SHARDS_NO_CACHE, "shouldMatchModelOnHdfsWithManyShardsAndNoBlockCache");
    }

    private void run(ModelTest.OptionSet set, String method) {
        long seed = BASE_SEED ^ (0x9E3779B97F4A7C15L * (set.ordinal() + 1));
        String rerun = "mvn -B -o -pl hdfs -am verify -Dsurefire.failIfNoSpecifiedTests=false -Dtest='HdfsModelTest#"
                + method + "' -Dtests.seed=" + BASE_SEED + " -Dmodel.iterations=" + ITERATIONS;
        System.out.println("HdfsModelTest " + set + ": -Dtests.seed=" + BASE_SEED + " (set seed " + seed + "), "
                + ITERATIONS + " operations on " + hdfs.uri());
        Path dir = Path.of("/model/" + set.name().toLowerCase(java.util.Locale.ROOT) + "-" + Long.toHexString(seed));
        ModelRunner runner = new ModelRunner(set.name(), dir, set.options(), seed,
                (p, o) -> DB.open(URI.create(hdfs.uri() + p.toString()), o));
        Duration limit = Duration.ofSeconds(300 + ITERATIONS / 2);
        try {
            assertTimeoutPreemptively(limit, () -> runner.run(ITERATIONS),
                    () -> "timed out after " + limit + " at step " + runner.step());
        } catch (Throwable t) {
            String report = runner.report(t, rerun);
            System.out.println(report);
            runner.close();
            throw new AssertionError(report, t);
        }
        runner.close();
        System.out.println("HdfsModelTest " + runner.summary());
        assertTrue(runner.flushes() > 0, () -> "the run flushed nothing: " + runner.summary());
        assertTrue(runner.compactions() > 0, () -> "tiny files but no compaction ran: " + runner.summary());
    }

    private static long seed() {
        String s = System.getProperty("tests.seed");
        return s == null || s.isEmpty() ? System.nanoTime() ^ 0x5DEECE66DL : Long.decode(s);
    }
}
