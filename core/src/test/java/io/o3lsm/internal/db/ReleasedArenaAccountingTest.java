package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arenas a flush released from the memory account stay allocated until the GC frees them (a
 * reader on an old view may still use them): they are counted as awaiting GC, and no longer once
 * collected.
 */
class ReleasedArenaAccountingTest {
    @TempDir Path dir;

    @Test
    void releasedArenasAreCountedUntilCollected() throws Exception {
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(1 << 20);
        try (DBImpl db = (DBImpl) DB.open(dir, o)) {
            MemtableSet m = db.engine().memtables;
            for (int i = 0; i < 500; i++) {
                db.put(("k" + i).getBytes(StandardCharsets.UTF_8), new byte[100]);
            }
            // a reader's pin on the current view keeps the active arena (sealed by flush) reachable
            SuperVersion pinned = db.engine().acquireSv();
            long before = m.bytesAwaitingGc();
            db.flush();
            long afterFlush = m.bytesAwaitingGc();
            assertTrue(afterFlush >= before + 64 * 1024, "the flushed arena awaits GC: " + before + " -> " + afterFlush);
            assertTrue(db.property("o3.stats").contains("awaiting GC: " + afterFlush) || afterFlush != m.bytesAwaitingGc(),
                    db.property("o3.stats"));
            pinned.unref();
            pinned = null;
            long now = afterFlush;
            for (int i = 0; i < 100 && now > 0; i++) { // System.gc() is a request: ask until it is done
                System.gc();
                Thread.sleep(20);
                now = m.bytesAwaitingGc();
            }
            assertEquals(0, now, "collected arenas are no longer counted");
        }
    }
}
