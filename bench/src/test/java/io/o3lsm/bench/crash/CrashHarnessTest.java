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
 * instead of the real one: a correct log must pass (with merges and column families, the defaults,
 * without merges, and without families), a log that acknowledges before the bytes reach the OS must
 * be caught losing writes, and ones that drop range deletes or leave merges out of the log must be
 * caught too; with families, a log that leaves one non-default family's writes out must be caught
 * losing writes in that family, and one that logs a batch a family at a time must be caught applying
 * a batch in some families only. The correct log applies range deletes, so passing it also checks
 * that the history and the verifier agree with the engine on which keys a range delete covers (in
 * the family it names).
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
        assertFamiliesExercised(out, 3);
    }

    /**
     * With families on (the default): batches spanning families were acknowledged, and every family
     * (the default one and cf1..cfN) holds keys after the last cycle.
     */
    static void assertFamiliesExercised(String out, int families) {
        assertTrue(out.contains("families=" + families), out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("crashtest: families: (\\d+) batches spanning families "
                + "acknowledged over all cycles; keys present after the last verified cycle: (.*)").matcher(out);
        assertTrue(m.find(), "no families summary:\n" + out);
        assertTrue(Long.parseLong(m.group(1)) > 0, "no batch spanning families acknowledged:\n" + out);
        String[] perFamily = m.group(2).split(", ");
        assertEquals(families + 1, perFamily.length, out);
        for (int f = 0; f <= families; f++) {
            String[] nameCount = perFamily[f].split(" ");
            assertEquals(f == 0 ? "default" : "cf" + f, nameCount[0], out);
            assertTrue(Integer.parseInt(nameCount[1]) > 0, "family " + nameCount[0] + " holds no key:\n" + out);
        }
    }

    @Test
    void shouldPassCorrectEngineWithoutFamilies(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Config c = config(dir, LogFileDB.class.getName(), 2, buf);
        c.families = 0;
        CrashTest.Result r = CrashTest.run(c);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.ok(), out);
        assertTrue(out.contains("families=0") && !out.contains("crossFamilyBatches") && !out.contains("of family"), out);
    }

    @Test
    void shouldCatchEngineThatLosesWritesOfOneFamily(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.ForgetsAFamily.class.getName(), 2, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(r.lost() > 0, out);
        // the problems name the family that lost them, and no other
        assertTrue(out.contains("lost: key") && out.contains(" of family cf3 holds"), out);
        for (String other : new String[] {"default", "cf1", "cf2"}) {
            assertTrue(!out.contains("lost: key") || !java.util.regex.Pattern.compile("lost: key \\d+ of family " + other + " ")
                    .matcher(out).find(), "a family that keeps its writes reported lost:\n" + out);
        }
        assertTrue(out.contains("byFamily(lost/holes/corrupt)=default 0/0/0, cf1 0/0/0, cf2 0/0/0, cf3 "), out);
        assertTrue(out.contains("torn across families: every key of family cf3 agrees with the cut after batch"), out);
    }

    @Test
    void shouldCatchEngineThatTearsBatchesAcrossFamilies(@TempDir Path dir) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CrashTest.Result r = CrashTest.run(config(dir, LogFileDB.TearsAcrossFamilies.class.getName(), 3, buf));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        // each family on its own is at a batch boundary and nothing acknowledged is missing: only the
        // one cut for all families shows that the last, unacknowledged batch is in some of them only
        assertTrue(r.holes() > 0, out);
        assertEquals(0, r.lost(), out);
        assertEquals(0, r.corrupt(), out);
        assertTrue(out.contains("torn across families: every key of family ") && out.contains("(unacked, spans families)"),
                out);
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
