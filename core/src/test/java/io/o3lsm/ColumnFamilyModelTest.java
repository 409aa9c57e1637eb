package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyModelState.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized model test of column families: {@link ModelRunner}, unchanged, drives one family of a
 * family-aware DB through {@link ColumnFamilyModelHarness}'s view of it (put / delete / deleteRange /
 * merge / batches / get / multiGet / bounded iterators both ways / snapshots / held iterators /
 * flush / compactRange / reopen, TTL on a fake clock), while the harness writes into the DB's other
 * families — string-append, int64-add, TTL, compaction-filtered and plain ones, families created
 * and dropped as it goes, batches that span the modelled family and others, batches that must be
 * refused whole — and checks each against its own model, at the runner's snapshots and its own.
 * Each option set models either the default family or a named one, under tiny files and memtables
 * with forced compactions or the defaults.
 *
 * <p>Seeded: prints {@code -Dtests.seed=S} and accepts it back; each option set derives its own
 * seeds from it. Short by default ({@value #SHORT_ITERATIONS} runner operations per option set);
 * {@code -Dtests.slow=true} runs {@value #SLOW_ITERATIONS}, {@code -Dmodel.iterations=N} runs N. A
 * failure reports the seed, a rerun command, and the last operations of the runner and of the
 * harness.
 *
 * <pre>
 *   mvn -B -o -pl core test -Dtest=ColumnFamilyModelTest                      # short
 *   mvn -B -o -pl core test -Dtest=ColumnFamilyModelTest -Dtests.slow=true    # long
 *   mvn -B -o -pl core test -Dtest='ColumnFamilyModelTest#shouldMatchModelInANamedFamilyWithTinyFilesAndLz4' -Dtests.seed=42
 * </pre>
 */
class ColumnFamilyModelTest {
    static final int SHORT_ITERATIONS = 200;
    static final int SLOW_ITERATIONS = 2000;
    private static final long BASE_SEED = seed();
    private static final int ITERATIONS = Integer.getInteger("model.iterations",
            Boolean.getBoolean("tests.slow") ? SLOW_ITERATIONS : SHORT_ITERATIONS);

    @TempDir
    Path dir;

    /** The option sets: the DB's options, the modelled family's functions, which family is modelled. */
    enum OptionSet {
        /** A named family with string append; the default family appends too (another delimiter); LZ4. */
        TINY_LZ4_NAMED("shouldMatchModelInANamedFamilyWithTinyFilesAndLz4", false, Kind.APPEND) {
            @Override
            Options options() {
                return tiny().compression(Compression.LZ4);
            }
        },
        /** The default family, modelled through the plain API and its handle at random; sub-compactions. */
        TINY_DEFAULT_SUBCOMPACTIONS("shouldMatchModelInTheDefaultFamilyWithSubcompactions", true, Kind.PLAIN) {
            @Override
            Options options() {
                return tiny().maxSubcompactions(4).maxBackgroundCompactions(2);
            }
        },
        /**
         * A named family with a 500 ms TTL (the runner's fake clock, shared by the harness's TTL
         * families), filters applied on flush too; the default family counts.
         */
        TINY_TTL_ON_FLUSH_NAMED("shouldMatchModelInANamedTtlFamilyWithFiltersOnFlush", false, Kind.COUNTER) {
            @Override
            Options options() {
                return tiny().mergeOperator(null).ttl(Duration.ofMillis(500)).compactionFilterOnFlush(true);
            }
        },
        /** The default family with a 2 s TTL, one memtable shard, uncompressed. */
        TINY_TTL_DEFAULT_ONE_SHARD("shouldMatchModelInTheDefaultFamilyWithTtlOneShard", true, Kind.PLAIN) {
            @Override
            Options options() {
                return tiny().mergeOperator(null).ttl(Duration.ofSeconds(2)).compression(Compression.NONE)
                        .shardCount(1);
            }
        },
        /** 16 shards, no block cache, a named family with string append; the default family is filtered. */
        MANY_SHARDS_NO_CACHE_NAMED("shouldMatchModelInANamedFamilyWithManyShardsAndNoBlockCache", false,
                Kind.FILTERED) {
            @Override
            Options options() {
                return Options.defaults().shardCount(16).blockCacheSize(0).writeBufferSize(2 << 20)
                        .mergeOperator(MergeOperators.stringAppend(",")).shardArenaSize(64 << 10)
                        .targetFileSize(64 << 10).blockSize(512).maxBytesForLevelBase(1 << 20)
                        .level0CompactionTrigger(2);
            }
        },
        /** Everything at its default, a named family without functions; the default family has a TTL. */
        DEFAULTS_NAMED("shouldMatchModelInANamedFamilyWithDefaults", false, Kind.TTL) {
            @Override
            Options options() {
                return Options.defaults();
            }
        };

        final String testMethod;
        final boolean modelDefault;
        final Kind defaultKind;

        OptionSet(String testMethod, boolean modelDefault, Kind defaultKind) {
            this.testMethod = testMethod;
            this.modelDefault = modelDefault;
            this.defaultKind = defaultKind;
        }

        abstract Options options();

        static Options tiny() {
            return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                    .blockSize(256).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2)
                    .mergeOperator(MergeOperators.stringAppend(","));
        }
    }

    @Test
    void shouldMatchModelInANamedFamilyWithTinyFilesAndLz4() {
        run(OptionSet.TINY_LZ4_NAMED);
    }

    @Test
    void shouldMatchModelInTheDefaultFamilyWithSubcompactions() {
        run(OptionSet.TINY_DEFAULT_SUBCOMPACTIONS);
    }

    @Test
    void shouldMatchModelInANamedTtlFamilyWithFiltersOnFlush() {
        run(OptionSet.TINY_TTL_ON_FLUSH_NAMED);
    }

    @Test
    void shouldMatchModelInTheDefaultFamilyWithTtlOneShard() {
        run(OptionSet.TINY_TTL_DEFAULT_ONE_SHARD);
    }

    @Test
    void shouldMatchModelInANamedFamilyWithManyShardsAndNoBlockCache() {
        run(OptionSet.MANY_SHARDS_NO_CACHE_NAMED);
    }

    @Test
    void shouldMatchModelInANamedFamilyWithDefaults() {
        run(OptionSet.DEFAULTS_NAMED);
    }

    private void run(OptionSet set) {
        long seed = BASE_SEED ^ (0xC2B2AE3D27D4EB4FL * (set.ordinal() + 1));
        String rerun = "mvn -B -o -pl core test -Dtest='ColumnFamilyModelTest#" + set.testMethod + "' -Dtests.seed="
                + BASE_SEED + " -Dmodel.iterations=" + ITERATIONS;
        System.out.println("ColumnFamilyModelTest " + set + ": -Dtests.seed=" + BASE_SEED + " (set seed " + seed
                + "), " + ITERATIONS + " operations");
        runSet(set.name(), dir.resolve("db"), set.options(), set.modelDefault, set.defaultKind, seed, ITERATIONS,
                UnaryOperator.identity(), rerun, set != OptionSet.DEFAULTS_NAMED);
    }

    /**
     * One run: the runner over the harness's view, then the harness's finish. Shared with
     * {@link ColumnFamilyModelSelfTest}, which passes a {@code wrap} that breaks the DB.
     */
    static void runSet(String name, Path dbDir, Options options, boolean modelDefault, Kind defaultKind, long seed,
            int iterations, UnaryOperator<DB> wrap, String rerun, boolean expectCompactions) {
        ColumnFamilyModelHarness harness = new ColumnFamilyModelHarness(name, modelDefault, defaultKind,
                seed * 0x9E3779B97F4A7C15L + 1, wrap);
        ModelRunner runner = new ModelRunner(name, dbDir, options, seed, harness::open);
        harness.stepSource(runner::step);
        Duration limit = Duration.ofSeconds(120 + iterations / 4);
        try {
            assertTimeoutPreemptively(limit, () -> {
                runner.run(iterations);
                harness.finish();
            }, () -> "timed out after " + limit + " at step " + runner.step() + " (a hang? the last operation listed"
                    + " did not return)\n" + runner.logTail() + harness.report());
        } catch (Throwable t) {
            harness.failed();
            String report = runner.report(t, rerun) + harness.report();
            System.out.println(report);
            runner.close();
            harness.closeQuietly();
            throw new AssertionError(report, t);
        }
        runner.close();
        System.out.println("ColumnFamilyModelTest " + runner.summary());
        System.out.println("ColumnFamilyModelTest " + harness.summary());
        assertTrue(runner.flushes() > 0, () -> "the run flushed nothing: " + runner.summary());
        if (expectCompactions && iterations >= SHORT_ITERATIONS) {
            assertTrue(runner.compactions() > 0, () -> "tiny files but no compaction ran: " + runner.summary());
            assertTrue(harness.count("MIXED_BATCHES") > 0, () -> "no batch spanned families: " + harness.summary());
        }
        assertTrue(harness.count("DROPS") > 0 && harness.count("CREATES") > 0, harness::summary);
    }

    private static long seed() {
        String s = System.getProperty("tests.seed");
        return s == null || s.isEmpty() ? System.nanoTime() ^ 0x5DEECE66DL : Long.decode(s);
    }
}
