package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tests of the model test itself, against {@link ModelReferenceDB} instead of the engine: an
 * obviously correct DB must pass {@link ModelRunner}, and each injected {@link ModelReferenceDB.Bug}
 * must make it fail (a checker that cannot fail checks nothing). Fixed seeds; in memory, so fast.
 */
class ModelSelfTest {
    private static final long SEED = 20240601L;

    @TempDir
    Path dir;

    private ModelRunner runner(ModelReferenceDB.Bug bug) {
        return new ModelRunner("reference-" + bug, dir.resolve("db"), Options.defaults(), SEED,
                ModelReferenceDB.opener(bug));
    }

    @Test
    void shouldPassCorrectReferenceDB() {
        try (ModelRunner r = runner(ModelReferenceDB.Bug.NONE)) {
            r.run(1500);
            assertTrue(r.flushes() > 0 && r.compactions() > 0, r.summary());
        }
    }

    @ParameterizedTest
    @EnumSource(value = ModelReferenceDB.Bug.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void shouldCatchInjectedBug(ModelReferenceDB.Bug bug) {
        try (ModelRunner r = runner(bug)) {
            AssertionError e = assertThrows(AssertionError.class, () -> r.run(1500), bug + " went unnoticed");
            String report = r.report(e, "(self-test)");
            assertTrue(report.contains("last operations"), report);
            System.out.println(bug + " caught: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
