package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.dmfake.FakeFlushExecutor;
import io.o3lsm.dmfake.FakeMemoryNode;
import io.o3lsm.format.InternalKey;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner's checks of a flush worker's result that the fake executor's modes do not reach
 * (overlap, sequence bounds, completeness), and the pending-output bookkeeping of an installed
 * offload.
 */
class FlushOffloadValidationTest {
    @TempDir
    Path dir;

    private static byte[] ik(String user, long seq) {
        return InternalKey.encode(user.getBytes(StandardCharsets.UTF_8), seq, InternalKey.TYPE_VALUE);
    }

    private static FlushExecutor.FlushedFile file(long n, String from, String to, long minSeq, long maxSeq) {
        return new FlushExecutor.FlushedFile(new OutputFile(n, 1000, ik(from, maxSeq), ik(to, minSeq), minSeq, maxSeq),
                0);
    }

    private static String check(FlushOffloader o, List<FlushExecutor.FlushedFile> files) {
        // range 0 of the default boundaries of 4 shards covers user keys below 0x40 ('@'): digits
        MemoryNode.RemoteShard in = new MemoryNode.RemoteShard(1, 0, 100, 0, 10, 20);
        OffloadResultCheck.Refused r = assertThrows(OffloadResultCheck.Refused.class,
                () -> o.validate(new ShardRanges(new io.o3lsm.Options().shardBoundaries()), 0, List.of(in), new long[] {100, 101, 102}, new FlushExecutor.Done(files, 0, 0, "w")));
        return r.check;
    }

    @Test
    void shouldRefuseOverlappingOutsSequencesOutsideTheInputsAndAMissingNewestEntry() {
        try (DB db = DB.open(dir.resolve("db"), Options.defaults().shardCount(4))) {
            FlushOffloader o = ((DBImpl) db).engine().flushOffloader;
            assertEquals("overlap", check(o, List.of(file(100, "1", "5", 10, 20), file(101, "3", "7", 10, 15))));
            assertEquals("overlap", check(o, List.of(file(100, "1", "5", 10, 20), file(101, "5", "7", 10, 15))),
                    "outputs never share a user key");
            assertEquals("sequence", check(o, List.of(file(100, "1", "5", 9, 20))));
            assertEquals("sequence", check(o, List.of(file(100, "1", "5", 10, 21))));
            assertEquals("completeness", check(o, List.of(file(100, "1", "5", 10, 19))));
            assertEquals("completeness", check(o, List.of()), "no outputs for inputs with entries");
            assertEquals("number", check(o, List.of(file(100, "1", "2", 10, 20), file(100, "3", "4", 10, 15))),
                    "a number reported twice");
            assertEquals("range", check(o, List.of(file(100, "1", "A", 10, 20))), "'A' is in range 1");
            // metadata all right: the per-file checks find no file
            assertEquals("exists", check(o, List.of(file(100, "1", "2", 10, 20))));
        }
    }

    @Test
    void shouldReleaseAnInstalledAttemptsNumbersAndOrphanOnlyItsUnusedOnes() throws Exception {
        FakeMemoryNode.reset();
        FakeFlushExecutor.reset();
        Path secret = dir.resolve("secret");
        Files.write(secret, "s3cret".getBytes(StandardCharsets.UTF_8));
        Options opt = Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(32 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(32 << 20).dmBudget(256L << 20)
                .targetFileSize(1 << 20).flushOffload(true).flushOffloadMinBytes(0)
                .flushOffloadDeadline(Duration.ofMinutes(10));
        try (DB db = DB.open(dir.resolve("db"), opt)) {
            Engine e = ((DBImpl) db).engine();
            for (int i = 0; i < 20000; i++) {
                db.put(String.format("%08x", i * 2654435761L & 0xffffffffL).getBytes(StandardCharsets.UTF_8),
                        ("v" + i).getBytes(StandardCharsets.UTF_8));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!allSealedOffloaded(e)) {
                assertTrue(System.nanoTime() < deadline, "sealed shards reach the node");
                Thread.sleep(5);
            }
            ((DBImpl) db).waitForFlushes();
            assertTrue(e.stats.flushesOffloaded.sum() > 0);
            assertEquals(Set.of(), e.obsolete.pendingOutputs(), "nothing is pending once installed");
            Set<Long> live = new java.util.HashSet<>(e.versions.current().liveFiles());
            int allocated = 0;
            int installed = 0;
            for (FlushExecutor.FlushRequest r : FakeFlushExecutor.REQUESTS) {
                allocated += r.outputFileNumbers().length;
                for (long n : r.outputFileNumbers()) {
                    installed += live.contains(n) ? 1 : 0;
                }
            }
            assertTrue(installed > 0, "offloaded outputs are in the version");
            assertEquals(allocated - installed, e.obsolete.orphanCount(), "the unused numbers are orphans");
        } finally {
            FakeFlushExecutor.reset();
        }
    }

    private static boolean allSealedOffloaded(Engine e) {
        e.mutex.lock();
        try {
            for (MemShard[] list : e.sv.sealed) {
                for (MemShard m : list) {
                    if (m.remote == null) {
                        return false;
                    }
                }
            }
            return true;
        } finally {
            e.mutex.unlock();
        }
    }
}
