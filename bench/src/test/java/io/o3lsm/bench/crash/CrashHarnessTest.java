package io.o3lsm.bench.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-test loop end to end (child JVMs, SIGKILL, history, verification) against toy engines
 * instead of the real one: a correct log must pass (with merges, the default, and without), a log
 * that acknowledges before the bytes reach the OS must be caught losing writes, and ones that drop
 * range deletes or leave merges out of the log must be caught too. The correct
 * log applies range deletes, so passing it also checks that the history and the verifier agree with
 * the engine on which keys a range delete covers.
 */
@Tag("crash")
class CrashHarnessTest {
    private static CrashTest.Config config(Path dir, String factory, int cycles, ByteArrayOutputStream buf) {
        CrashTest.Config c = new CrashTest.Config();
        c.cycles = cycles;
        c.seed = 42L;
        c.sync = false;
        c.dir = dir.resolve("db");
        c.keys = 2000;
        c.minRunMs = 200;
        c.maxRunMs = 400;
        c.dbFactory = factory;
        c.out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        return c;
    }

    @Test
    void shouldPassCorrectEngine(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.class.getName(), 3, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.ok(), out);
        assertEquals(3, r.cycles(), out);
        assertTrue(out.contains("merges=true") && out.contains("keysWithOperands="), out);
        for (int acked : r.ackedPerCycle()) {
            assertTrue(acked > 0, out);
        }
        String[] lines = out.trim().split("\n");
        assertEquals("crashtest: cycles=3 lost=0 holes=0 corrupt=0", lines[lines.length - 1]);
    }

    @Test
    void shouldCatchEngineThatLosesAcknowledgedWrites(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.Lossy.class.getName(), 2, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.lost() > 0, out);
        assertTrue(out.contains("lost: key"), out);
    }

    @Test
    void shouldCatchEngineThatForgetsMerges(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.ForgetsMerges.class.getName(), 2, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.lost() > 0, out);
        assertTrue(out.contains("lost: key") && out.contains("merge v"), out);
    }

    @Test
    void shouldPassCorrectEngineWithoutMerges(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Config c = config(dir, LogFileDB.class.getName(), 2, buf);
        c.merges = false;
        CrashTest.Result r = CrashTest.run(c);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.ok(), out);
        assertTrue(out.contains("merges=false") && !out.contains("keysWithOperands"), out);
    }

    @Test
    void shouldCatchEngineThatDropsRangeDeletes(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.IgnoresRangeDeletes.class.getName(), 2, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.lost() > 0, out);
        assertTrue(out.contains("range del"), out);
    }
}
