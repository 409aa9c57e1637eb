package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.EventListener;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeMemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A memory node the transport reports failed is noticed by the DB on its own (DmLink's watch), not
 * only when a request to it fails: a DB holding nothing only on the node and offloading nothing
 * meanwhile makes no request, and used to go on without telling its listeners or rebuilding anything.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryNodeLossNoticedTest {
    @TempDir
    Path dir;

    @BeforeEach
    @AfterEach
    void reset() {
        FakeMemoryNode.reset();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void listenersHearOfANodeTheTransportReportsFailedWhileTheDbMakesNoRequest() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        EventListener l = new EventListener() {
            @Override
            public void onMemoryNodeLost(MemoryNodeInfo info) {
                events.add("lost");
            }

            @Override
            public void onMemoryNodeRecovered(MemoryNodeInfo info) {
                events.add("recovered " + info.shardsRebuilt());
            }
        };
        Options o = FakeMemoryNode.options(dir, 0).addListener(l);
        try (DB db = FakeMemoryNode.openAttached(dir.resolve("db"), o)) {
            db.put(b("k"), b("v")); // in the active shard: nothing only on the node, nothing to offload
            FakeMemoryNode.kill(); // the transport now reports the node failed; no request is made
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (events.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(List.of("lost", "recovered 0"), events, () -> "events " + events + ": " + db.property("o3.dm"));
            assertTrue(db.property("o3.dm").contains("attached=false"), db.property("o3.dm"));
            db.put(b("k2"), b("v2"));
            assertArrayEquals(b("v"), db.get(b("k")));
            assertArrayEquals(b("v2"), db.get(b("k2")));
        }
    }
}
