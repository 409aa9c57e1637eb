package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code DB.open} validates and keeps a copy of the caller's {@link Options}. */
class OpenKeepsItsOwnOptionsTest {
    @TempDir
    Path dir;

    @Test
    void shouldNotSeeChangesToTheOptionsMadeAfterOpen() {
        Options o = Options.defaults().level0StopTrigger(40).targetFileSize(1 << 20);
        try (DB db = DB.open(dir, o)) {
            o.level0StopTrigger(0).targetFileSize(1); // would fail validation; must not reach the open DB
            Engine e = ((DBImpl) db).engine();
            assertNotSame(o, e.options);
            assertEquals(40, e.options.level0StopTrigger());
            assertEquals(1 << 20, e.options.targetFileSize());
        }
    }
}
