package io.o3lsm.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The check the other modules run must be able to fail: core itself references its internals. */
class LayeringCheckTest {
    @Test
    void shouldReportReferencesToInternalPackages() {
        List<String> found = LayeringCheck.violations(LayeringCheck.moduleClassDirs(LayeringCheckTest.class));
        assertTrue(found.stream().anyMatch(s -> s.startsWith("io/o3lsm/Options.class -> io.o3lsm.internal.fs.LocalFileSystem")),
                "expected Options -> LocalFileSystem among " + found.size() + " references: "
                        + found.subList(0, Math.min(10, found.size())));
    }
}
