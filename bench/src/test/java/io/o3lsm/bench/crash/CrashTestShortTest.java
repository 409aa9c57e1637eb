package io.o3lsm.bench.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short crash loop against the real engine: SIGKILL a writing child, reopen, verify. Merges are on
 * (the default of {@code --merges}): the child's batches mix merges with puts, deletes and range
 * deletes, some writes are lone {@code DB.merge}s, and every recovered value must be the fold of its
 * key's writes up to one cut; each run also checks that merges were acknowledged and recovered and
 * that the children flushed or compacted while writing them. Column families are on in every variant
 * (the default of {@code --families}, 3 besides the default one, the dm-flush one included): the DB is
 * reopened naming them after each kill, every family is verified with one cut for all (a batch
 * spanning families must be in all of them or none), and each run checks that batches spanning
 * families were acknowledged and that every family holds keys. Seeded from {@code -Dtests.seed} when
 * given (the seed is printed either way); {@code -Dtests.slow=true} runs ten times as many cycles.
 */
@Tag("crash")
class CrashTestShortTest {
    private static final boolean SLOW = Boolean.getBoolean("tests.slow");

    private static CrashTest.Result run(Path dir, boolean sync, int cycles) {
        return run(dir, sync, cycles, "local", 200, 1000);
    }

    private static CrashTest.Result run(Path dir, boolean sync, int cycles, String mode, long minRunMs, long maxRunMs) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Config c = new CrashTest.Config();
        c.mode = mode;
        // dm-flush without merges: with merges and -ea (as under surefire) no flush was offloaded in three
        // runs, and offloaded flushes are what that variant is for (see its comment)
        c.merges = !mode.equals("dm-flush");
        c.cycles = SLOW ? cycles * 10 : cycles;
        String seed = System.getProperty("tests.seed");
        c.seed = seed == null || seed.isEmpty() ? null : Long.parseLong(seed);
        c.sync = sync;
        c.dir = dir.resolve("db");
        c.minRunMs = minRunMs;
        c.maxRunMs = maxRunMs;
        c.out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        CrashTest.Result r = CrashTest.run(c);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertEquals(0, r.lost(), out);
        assertEquals(0, r.holes(), out);
        assertEquals(0, r.corrupt(), out);
        assertEquals(0, r.errors(), out);
        assertEquals(c.cycles, r.cycles(), out);
        long productive = Arrays.stream(r.ackedPerCycle()).filter(a -> a > 0).count();
        assertTrue(productive >= (r.cycles() * 8 + 9) / 10,
                "too few cycles acknowledged any batch: " + Arrays.toString(r.ackedPerCycle()) + "\n" + out);
        if (mode.equals("dm-flush")) {
            // installed results of workers, as the child's DBStats counted them before each kill
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("child stats at the kill\\): local \\d+, offloaded (\\d+)")
                    .matcher(out);
            assertTrue(m.find() && Integer.parseInt(m.group(1)) > 0, "no offloaded flush was installed:\n" + out);
        }
        String[] lines = out.trim().split("\n");
        assertEquals(r.summary(), lines[lines.length - 1]);
        if (c.families > 0) {
            CrashHarnessTest.assertFamiliesExercised(out, c.families);
        }
        if (!c.merges) {
            return r;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("crashtest: merges: (\\d+) acknowledged over all cycles, "
                + "up to (\\d+) keys recovered with operands in a cycle; the children's flushes/compactions before the "
                + "kills: (\\d+)/(\\d+)").matcher(out);
        assertTrue(m.find(), "no merge summary:\n" + out);
        assertTrue(Long.parseLong(m.group(1)) > 0 && Long.parseLong(m.group(2)) > 0, "no merge acknowledged or recovered:\n" + out);
        assertTrue(Long.parseLong(m.group(3)) + Long.parseLong(m.group(4)) > 0, "no flush or compaction while merging:\n" + out);
        return r;
    }

    @Test
    @Timeout(600)
    void shouldRecoverEveryAcknowledgedWriteWithSync(@TempDir Path dir) {
        run(dir, true, 10);
    }

    @Test
    @Timeout(600)
    void shouldRecoverEveryAcknowledgedWriteWithoutSync(@TempDir Path dir) {
        run(dir, false, 5);
    }

    /**
     * dm-flush: a memory node and two flush workers (real JVMs) kept across cycles; the writer child
     * offloads flushes to them and is SIGKILLed mid-job. About 25 s. Also checks that some flush
     * was offloaded, so the mode cannot silently run everything locally. Without merges: with them
     * (the default) and assertions on ({@code -ea}, as under surefire) every flush ran locally in
     * three runs, with no offload attempt logged at FINE (with {@code --merges false}, or merges
     * without {@code -ea}, flushes were offloaded): an open question about the engine, not this test.
     */
    @Test
    @Tag("dm")
    @Timeout(600)
    void shouldRecoverEveryAcknowledgedWriteWithOffloadedFlushes(@TempDir Path dir) {
        CrashTest.Result r = run(dir, false, 4, "dm-flush", 1500, 3000);
        assertTrue(r.ok());
    }
}
