package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OptionsTest {
    private static String message(Options o) {
        return assertThrows(IllegalArgumentException.class, o::validate).getMessage();
    }

    @Test
    void shouldNameTheBadSetting() {
        assertTrue(message(Options.defaults().level0StopTrigger(2)).contains("level0StopTrigger"));
        assertTrue(message(Options.defaults().levelSizeMultiplier(1)).contains("levelSizeMultiplier"));
        assertTrue(message(Options.defaults().blockCacheSize(-1)).contains("blockCacheSize"));
        assertTrue(message(Options.defaults().maxOpenFiles(1)).contains("maxOpenFiles"));
        assertTrue(message(Options.defaults().writeBufferSize(1 << 20).shardArenaSize(1 << 20)).contains("writeBufferSize"));
    }

    @Test
    void shouldValidateMemoryNodeSettings() {
        Path secret = Path.of("secret");
        assertTrue(message(Options.defaults().memoryNode("nohost", secret)).contains("host:port"));
        assertTrue(message(Options.defaults().memoryNode("h:99999", secret)).contains("port"));
        assertTrue(message(Options.defaults().memoryNode("h:7420", null)).contains("secret"));
        assertTrue(message(Options.defaults().memoryNode("h:7420", secret).shardArenaSize(1 << 20)
                .localMemoryBudget(2 << 20)).contains("localMemoryBudget"));
        assertEquals(1 << 20, Options.defaults().memoryNode("h:7420", secret).localMemoryBudget(16 << 20)
                .shardArenaSize(), "DM arenas derive from the local budget");
        assertTrue(message(Options.defaults().memoryNode("h:7420", secret).offloadInflightLimit(0))
                .contains("offloadInflightLimit"));
        assertTrue(message(Options.defaults().memoryNode("h:7420", secret).dmRequestTimeout(Duration.ZERO))
                .contains("dmRequestTimeout"));
        Options ok = Options.defaults().memoryNode("h:7420", secret).localMemoryBudget(16 << 20).validate();
        assertEquals(16 << 20, ok.localMemoryBudget());
        assertEquals(64L << 20, Options.defaults().localMemoryBudget(), "defaults to the write buffer size");
    }

    @Test
    void shouldValidateSubcompactionAndCompactionOffloadSettings() {
        Path secret = Path.of("secret");
        assertTrue(message(Options.defaults().maxSubcompactions(0)).contains("maxSubcompactions"));
        assertTrue(message(Options.defaults().maxSubcompactions(65)).contains("maxSubcompactions"));
        assertEquals(1, Options.defaults().maxSubcompactions(), "documented default: never split");
        String m = message(Options.defaults().compactionOffload(true));
        assertTrue(m.contains("compactionOffload") && m.contains("memoryNode"), m);
        assertTrue(message(Options.defaults().memoryNode("h:7420", secret).compactionOffload(true)
                .compactionOffloadDeadline(Duration.ZERO)).contains("compactionOffloadDeadline"));
        assertTrue(message(Options.defaults().memtableOffload(false)).contains("memtableOffload"));
        m = message(Options.defaults().memoryNode("h:7420", secret).memtableOffload(false).flushOffload(true));
        assertTrue(m.contains("flushOffload") && m.contains("memtableOffload"), m);
        Options caas = Options.defaults().memoryNode("h:7420", secret).memtableOffload(false).compactionOffload(true)
                .maxSubcompactions(4).validate();
        assertTrue(caas.compactionOffload());
        assertEquals(false, caas.memtableOffload());
        assertEquals(Duration.ofMinutes(10), caas.compactionOffloadDeadline());
        assertTrue(Options.defaults().memtableOffload(), "documented default");
    }
}
