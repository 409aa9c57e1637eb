package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.testing.LayeringCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/** This module uses core only through its published packages (see {@link LayeringCheck}). */
class LayeringTest {
    @Test
    void shouldNotReferenceCoreInternals() {
        List<String> found = LayeringCheck.violations(LayeringCheck.moduleClassDirs(LayeringTest.class));
        assertEquals(List.of(), found, "classes of o3lsm-ycsb reference io.o3lsm.internal");
    }
}
