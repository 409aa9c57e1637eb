package io.o3lsm.hdfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code bin/o3 hdfs}'s arguments: what it accepts, and a message naming what was wrong otherwise. */
class LocalHdfsArgsTest {
    private static String refused(String... argv) {
        return assertThrows(LocalHdfs.UsageException.class, () -> LocalHdfs.parse(argv)).getMessage();
    }

    @Test
    void shouldParseUpWithItsOptions() throws Exception {
        LocalHdfs.Args a = LocalHdfs.parse(new String[] {"up", "--datanodes", "2", "--port=9000", "--dir", "/tmp/h"});
        assertEquals("up", a.command());
        assertEquals(2, a.datanodes());
        assertEquals(9000, a.port());
    }

    @Test
    void shouldNameWhatIsWrongWithBadArguments() {
        assertTrue(refused().contains("missing command"));
        assertTrue(refused("sideways").contains("unknown command 'sideways'"));
        assertTrue(refused("up", "--nosuch").contains("unknown option --nosuch for 'up'"));
        assertTrue(refused("down", "--datanodes", "3").contains("unknown option --datanodes for 'down'"));
        assertTrue(refused("up", "--port").contains("--port needs a value"));
        assertTrue(refused("up", "--port", "x").contains("port"));
        assertTrue(refused("up", "--datanodes", "2", "--datanodes", "3").contains("given twice"));
        assertTrue(refused("up", "stray").contains("unexpected argument 'stray'"));
    }
}
