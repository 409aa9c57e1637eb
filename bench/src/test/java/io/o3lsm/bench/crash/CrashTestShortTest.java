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
 * A short crash loop against the real engine: SIGKILL a writing child, reopen, verify. Seeded from
 * {@code -Dtests.seed} when given (the seed is printed either way); {@code -Dtests.slow=true} runs
 * ten times as many cycles.
 */
@Tag("crash")
class CrashTestShortTest {
    private static final boolean SLOW = Boolean.getBoolean("tests.slow");

    private static CrashTest.Result run(Path dir, boolean sync, int cycles) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Config c = new CrashTest.Config();
        c.cycles = SLOW ? cycles * 10 : cycles;
        String seed = System.getProperty("tests.seed");
        c.seed = seed == null || seed.isEmpty() ? null : Long.parseLong(seed);
        c.sync = sync;
        c.dir = dir.resolve("db");
        c.minRunMs = 200;
        c.maxRunMs = 1000;
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
        String[] lines = out.trim().split("\n");
        assertEquals(r.summary(), lines[lines.length - 1]);
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
}
