package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized model test of the whole public API: put / delete / deleteRange / batches mixing all
 * three / get / multiGet / bounded iterators walked forward and backward / reads through live
 * snapshots and through iterators held across writes / flush / compactRange / reopen, checked
 * against a {@link java.util.TreeMap} ({@link ModelState}) by {@link ModelRunner}, under several option
 * sets (two with {@link Options#ttl} on a fake clock the runner advances).
 *
 * <p>Seeded: prints {@code -Dtests.seed=S} and accepts it back; each option set derives its own seed
 * from it. Short by default ({@value #SHORT_ITERATIONS} operations per option set);
 * {@code -Dtests.slow=true} runs {@value #SLOW_ITERATIONS}, {@code -Dmodel.iterations=N} runs N. A
 * failure reports the step, the seed, a rerun command and the last {@value ModelRunner#LOG_TAIL}
 * operations.
 *
 * <pre>
 *   mvn -B -o -pl core test -Dtest=ModelTest                          # short
 *   mvn -B -o -pl core test -Dtest=ModelTest -Dtests.slow=true        # long
 *   mvn -B -o -pl core test -Dtest='ModelTest#shouldMatchModelWithTinyFilesAndLz4' -Dtests.seed=42 -Dmodel.iterations=5000
 * </pre>
 */
class ModelTest {
    static final int SHORT_ITERATIONS = 300;
    static final int SLOW_ITERATIONS = 2000;
    private static final long BASE_SEED = seed();
    private static final int ITERATIONS = Integer.getInteger("model.iterations",
            Boolean.getBoolean("tests.slow") ? SLOW_ITERATIONS : SHORT_ITERATIONS);

    @TempDir
    Path dir;

    /** The option sets the model runs under. */
    enum OptionSet {
        /** Tiny memtables and files: many flushes, compactions into deeper levels; LZ4. */
        TINY_LZ4("shouldMatchModelWithTinyFilesAndLz4") {
            @Override
            Options options() {
                return tiny().compression(Compression.LZ4);
            }
        },
        /** The same without compression, one memtable shard. */
        TINY_NONE_ONE_SHARD("shouldMatchModelWithTinyFilesUncompressedOneShard") {
            @Override
            Options options() {
                return tiny().compression(Compression.NONE).shardCount(1);
            }
        },
        /** 16 memtable shards, no block cache (every read goes to the file). */
        MANY_SHARDS_NO_CACHE("shouldMatchModelWithManyShardsAndNoBlockCache") {
            @Override
            Options options() {
                return Options.defaults().shardCount(16).blockCacheSize(0).writeBufferSize(2 << 20)
                        .mergeOperator(MergeOperators.stringAppend(","))
                        .shardArenaSize(64 << 10).targetFileSize(64 << 10).blockSize(512)
                        .maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
            }
        },
        /** Everything at its default (flushes come from flush() and close). */
        DEFAULTS("shouldMatchModelWithDefaults") {
            @Override
            Options options() {
                return Options.defaults();
            }
        },
        /** Tiny files with compactions split into up to 4 sub-compactions, two compaction threads. */
        TINY_SUBCOMPACTIONS("shouldMatchModelWithSubcompactions") {
            @Override
            Options options() {
                return tiny().maxSubcompactions(4).maxBackgroundCompactions(2);
            }
        },
        /**
         * Tiny files with a 2 s TTL on a fake clock the runner moves forward: values expire in the
         * model as in the DB, compactions drop them. No merge operator (TTL refuses one). The options
         * carry the wall clock: a runner must install its own ({@link Options#clock}) and expire its
         * model by it, or values vanish whenever a loaded machine stretches the run past the TTL.
         */
        TINY_TTL("shouldMatchModelWithTtl") {
            @Override
            Options options() {
                return tiny().mergeOperator(null).ttl(Duration.ofSeconds(2));
            }
        },
        /** TTL applied by flushes too, with sub-compactions. */
        TINY_TTL_ON_FLUSH_SUBCOMPACTIONS("shouldMatchModelWithTtlOnFlushAndSubcompactions") {
            @Override
            Options options() {
                return tiny().mergeOperator(null).ttl(Duration.ofMillis(500)).compactionFilterOnFlush(true)
                        .maxSubcompactions(4).maxBackgroundCompactions(2);
            }
        };

        final String testMethod;

        OptionSet(String testMethod) {
            this.testMethod = testMethod;
        }

        abstract Options options();

        static Options tiny() {
            return Options.defaults().writeBufferSize(256 << 10).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                    .blockSize(256).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2)
                    .mergeOperator(MergeOperators.stringAppend(","));
        }
    }

    @Test
    void shouldMatchModelWithTinyFilesAndLz4() {
        run(OptionSet.TINY_LZ4);
    }

    @Test
    void shouldMatchModelWithTinyFilesUncompressedOneShard() {
        run(OptionSet.TINY_NONE_ONE_SHARD);
    }

    @Test
    void shouldMatchModelWithManyShardsAndNoBlockCache() {
        run(OptionSet.MANY_SHARDS_NO_CACHE);
    }

    @Test
    void shouldMatchModelWithDefaults() {
        run(OptionSet.DEFAULTS);
    }

    @Test
    void shouldMatchModelWithSubcompactions() {
        run(OptionSet.TINY_SUBCOMPACTIONS);
    }

    @Test
    void shouldMatchModelWithTtl() {
        run(OptionSet.TINY_TTL);
    }

    @Test
    void shouldMatchModelWithTtlOnFlushAndSubcompactions() {
        run(OptionSet.TINY_TTL_ON_FLUSH_SUBCOMPACTIONS);
    }

    private void run(OptionSet set) {
        long seed = BASE_SEED ^ (0x9E3779B97F4A7C15L * (set.ordinal() + 1));
        String rerun = "mvn -B -o -pl core test -Dtest='ModelTest#" + set.testMethod + "' -Dtests.seed=" + BASE_SEED
                + " -Dmodel.iterations=" + ITERATIONS;
        System.out.println("ModelTest " + set + ": -Dtests.seed=" + BASE_SEED + " (set seed " + seed + "), "
                + ITERATIONS + " operations");
        ModelRunner runner = new ModelRunner(set.name(), dir.resolve("db"), set.options(), seed);
        Duration limit = Duration.ofSeconds(120 + ITERATIONS / 4);
        try {
            assertTimeoutPreemptively(limit, () -> runner.run(ITERATIONS),
                    () -> "timed out after " + limit + " at step " + runner.step() + " (a hang? the last operation listed"
                            + " below did not return)");
        } catch (Throwable t) {
            String report = runner.report(t, rerun);
            System.out.println(report);
            runner.close();
            throw new AssertionError(report, t);
        }
        runner.close();
        System.out.println("ModelTest " + runner.summary());
        assertTrue(runner.flushes() > 0, () -> "the run flushed nothing: " + runner.summary());
        if (set != OptionSet.DEFAULTS && ITERATIONS >= SHORT_ITERATIONS) {
            assertTrue(runner.compactions() > 0, () -> "tiny files but no compaction ran: " + runner.summary());
        }
    }

    private static long seed() {
        String s = System.getProperty("tests.seed");
        return s == null || s.isEmpty() ? System.nanoTime() ^ 0x5DEECE66DL : Long.decode(s);
    }

    // ------------------------------------------------------------------ API contracts the runner relies on

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldAgreeOnZeroCopyAccessors() {
        try (DB db = DB.open(dir.resolve("db"), Options.defaults())) {
            db.put(b("alpha"), b("one"));
            db.put(b("beta"), new byte[0]);
            db.flush();
            db.put(b("gamma"), b("three, after the flush"));
            try (DBIterator it = db.iterator()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = it.key();
                    byte[] v = it.value();
                    ByteBuffer kb = it.keyBuffer();
                    ByteBuffer vb = it.valueBuffer();
                    assertTrue(kb.isReadOnly() && vb.isReadOnly(), "views must be read-only");
                    assertEquals(ByteBuffer.wrap(k), kb);
                    assertEquals(ByteBuffer.wrap(v), vb);
                    ByteBuffer dst = ByteBuffer.allocateDirect(64).position(3);
                    assertEquals(k.length, it.key(dst));
                    assertEquals(3 + k.length, dst.position());
                    assertEquals(ByteBuffer.wrap(k), dst.flip().position(3));
                    ByteBuffer small = ByteBuffer.allocate(2);
                    assertEquals(v.length, it.value(small), "full length even when the buffer is smaller");
                    assertEquals(Math.min(2, v.length), small.position());
                    n++;
                }
                assertEquals(3, n);
            }
        }
    }

    @Test
    void shouldRejectIteratorUseAfterCloseOrWhileInvalid() {
        try (DB db = DB.open(dir.resolve("db"), Options.defaults())) {
            db.put(b("a"), b("1"));
            DBIterator it = db.iterator();
            it.seek(b("b"));
            assertFalse(it.isValid());
            assertThrows(IllegalStateException.class, it::key);
            assertThrows(IllegalStateException.class, it::value);
            assertThrows(IllegalStateException.class, it::next);
            assertThrows(IllegalStateException.class, it::prev);
            it.seekToFirst();
            assertArrayEquals(b("a"), it.key());
            it.close();
            assertDoesNotThrow(it::close, "close is idempotent");
            assertThrows(IllegalStateException.class, it::seekToFirst);
            assertThrows(IllegalStateException.class, it::seekToLast);
            assertThrows(IllegalStateException.class, () -> it.seek(b("a")));
            assertThrows(IllegalStateException.class, () -> it.seekForPrev(b("a")));
            assertThrows(IllegalStateException.class, it::next);
            assertThrows(IllegalStateException.class, it::key);
            assertThrows(IllegalStateException.class, it::keyBuffer);
        }
    }

    @Test
    void shouldRejectClosedSnapshotAndKeepOpenOnesStable() {
        try (DB db = DB.open(dir.resolve("db"), Options.defaults())) {
            db.put(b("k"), b("old"));
            Snapshot s = db.snapshot();
            db.put(b("k"), b("new"));
            db.deleteRange(b("a"), b("z"));
            ReadOptions at = ReadOptions.defaults().snapshot(s);
            assertArrayEquals(b("old"), db.get(at, b("k")));
            assertNull(db.get(b("k")));
            assertEquals(List.of("old"), db.multiGet(at, List.of(b("k"))).stream().map(String::new).toList());
            s.close();
            assertDoesNotThrow(s::close, "close is idempotent");
            assertThrows(IllegalStateException.class, () -> db.get(at, b("k")));
            assertThrows(IllegalStateException.class, () -> db.multiGet(at, List.of(b("k"))));
            assertThrows(IllegalStateException.class, () -> db.iterator(at).close());
        }
    }
}
