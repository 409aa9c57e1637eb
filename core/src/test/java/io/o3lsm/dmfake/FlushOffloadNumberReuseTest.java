package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output numbers handed to a worker in one epoch must never be reused by the next open. */
class FlushOffloadNumberReuseTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
        FakeFlushExecutor.reset();
    }

    @AfterEach
    void after() {
        FakeFlushExecutor.reset();
    }

    @Test
    void shouldNeverReuseOutputNumbersHandedToAWorkerAfterAReopen() throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, "s3cret".getBytes(StandardCharsets.UTF_8));
        Options o = Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(32 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(32 << 20).dmBudget(256L << 20)
                .targetFileSize(256 << 10).flushOffload(true).flushOffloadMinBytes(0)
                .flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadDeadline(Duration.ofMinutes(10));
        FakeFlushExecutor.mode = FakeFlushExecutor.Mode.BLOCK_UNTIL_CLOSED;
        Path db = dir.resolve("db");
        DB d = DB.open(db, o);
        try {
            for (int i = 0; i < 20000; i++) {
                d.put(String.format("%08x", i * 2654435761L & 0xffffffffL).getBytes(StandardCharsets.UTF_8),
                        ("v" + i + "x".repeat(i % 40)).getBytes(StandardCharsets.UTF_8));
            }
            Thread t = new Thread(() -> {
                try {
                    ((DBImpl) d).waitForFlushes();
                } catch (RuntimeException expected) {
                }
            });
            t.start();
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (FakeFlushExecutor.BLOCKED.get() == 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertTrue(FakeFlushExecutor.BLOCKED.get() > 0, "a flush waits on its (fake) worker");
        } finally {
            d.close(); // the worker is a zombie now: the coordinator ends its job, it learns so later
        }
        Set<Long> handedOut = new TreeSet<>();
        for (FlushExecutor.FlushRequest r : FakeFlushExecutor.REQUESTS) {
            for (long n : r.outputFileNumbers()) {
                handedOut.add(n);
            }
        }
        FakeFlushExecutor.reset();
        try (DB d2 = DB.open(db, Options.defaults())) { // replays the WAL into fresh tables
            Set<Long> reused;
            try (Stream<Path> s = Files.list(db)) {
                reused = s.map(p -> FileNames.parse(p.getFileName().toString()))
                        .filter(p -> p != null && p.type() == FileNames.Type.TABLE)
                        .map(FileNames.Parsed::number).filter(handedOut::contains)
                        .collect(Collectors.toCollection(TreeSet::new));
            }
            assertTrue(reused.isEmpty(), "the reopened DB wrote tables " + reused + " under numbers the last epoch "
                    + "handed to a worker " + handedOut + ": a zombie of that job creates/abandons (deletes) the "
                    + "same path");
        }
    }
}
