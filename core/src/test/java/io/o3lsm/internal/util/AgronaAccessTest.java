package io.o3lsm.internal.util;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The flag {@link AgronaAccess}'s error names in each case; {@code io.o3lsm.ModulePathTest} shows
 * the first two in real JVMs.
 */
class AgronaAccessTest {
    @Test
    void shouldNameAddModulesJdkUnsupportedOnTheModulePathWhenItIsNotResolved() {
        String m = AgronaAccess.missingAccessMessage(false, "o3lsm.core", "org.agrona");
        assertTrue(m.contains("--add-modules jdk.unsupported"), m);
        assertTrue(m.contains("requires jdk.unsupported;"), m);
        assertTrue(m.contains("module path"), m);
        assertFalse(m.contains("--add-exports"), m);
    }

    @Test
    void shouldNameAddModulesJdkUnsupportedOnTheClassPathWhenTheImageLacksIt() {
        String m = AgronaAccess.missingAccessMessage(false, null, null);
        assertTrue(m.contains("--add-modules jdk.unsupported"), m);
        assertTrue(m.contains("class path"), m);
        assertFalse(m.contains("--add-exports"), m);
    }

    @Test
    void shouldNameTheExportToAgronasModuleWhenTheGrantIsRefusedOnTheModulePath() {
        String m = AgronaAccess.missingAccessMessage(true, "o3lsm.core", "org.agrona");
        assertTrue(m.contains("--add-exports java.base/jdk.internal.misc=org.agrona"), m);
        assertFalse(m.contains("ALL-UNNAMED"), m);
    }

    @Test
    void shouldNameTheExportToAllUnnamedWhenTheGrantIsRefusedOnTheClassPath() {
        String m = AgronaAccess.missingAccessMessage(true, null, null);
        assertTrue(m.contains("--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"), m);
    }
}
