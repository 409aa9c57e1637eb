package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionOffloadExecutor.Done;
import io.o3lsm.spi.CompactionOffloadExecutor.OffloadRequest;
import io.o3lsm.spi.CompactionOffloadExecutor.Outcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction offloading when a compactor fails, with real processes: SIGKILLed mid-job (the submit
 * fails, so the owner can retry or compact locally, and a retry on another compactor succeeds),
 * SIGSTOPped mid-job past the heartbeat limit (the submit fails; resumed, the zombie's late report
 * is refused with NO_SUCH_JOB and it deletes its outputs), and the owner closing its executor while
 * a submission waits (the submission fails at once instead of waiting out its deadline).
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompactionOffloadFailureProcessTest {
    @TempDir
    Path dir;

    /** The whole compaction in one output file (synced once, at its end). */
    static CompactionRequest oneOutput(Path db, List<InputFile> inputs, long number) {
        return new CompactionRequest(db, 1, inputs, 2, true, new long[0], new long[] {number}, 64 << 20, 4096, 16,
                Compression.NONE, 10);
    }

    static CompletableFuture<Outcome> submitAsync(io.o3lsm.spi.CompactionOffloadExecutor ex, OffloadRequest r) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(ex.execute(r));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "test-submit");
        t.setDaemon(true);
        t.start();
        return f;
    }

    static IOException failure(CompletableFuture<Outcome> f) throws Exception {
        try {
            Outcome o = f.get(60, TimeUnit.SECONDS);
            throw new AssertionError("the submit was expected to fail, it ended " + o);
        } catch (ExecutionException e) {
            return assertInstanceOf(IOException.class, e.getCause());
        }
    }

    @Test
    void shouldFailTheSubmitOfACompactorKilledMidJobAndSucceedOnRetryElsewhere() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path db = shared.resolve("db");
        List<InputFile> inputs = Tables.twoInputs(db);
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                DmClient client = CompactionOffloadProcessTest.owner(node, "db-kill");
                io.o3lsm.spi.CompactionOffloadExecutor ex = CompactionOffloadProcessTest.executor(client)) {
            CompactorProcess slow = CompactorProcess.slowStorage(dir, "slow", 60_000, node.port, secret,
                    shared.toString()).start();
            CompletableFuture<Outcome> first = submitAsync(ex, new OffloadRequest(oneOutput(db, inputs, 10), 1, 1, 1, 1,
                    Duration.ofSeconds(120)));
            Path writing = slow.awaitSlowSync();
            assertTrue(writing.endsWith(FlushJob.outputPath(db, 10).getFileName()), writing.toString());
            slow.kill9();
            IOException e = failure(first);
            assertTrue(e.getMessage().contains("was lost"), e.getMessage());

            // the owner's retry: a new attempt with numbers of its own, on a compactor that is alive
            try (CompactorProcess good = new CompactorProcess(dir, "good", node.port, secret, shared.toString())
                    .start()) {
                Outcome o = ex.execute(new OffloadRequest(oneOutput(db, inputs, 20), 1, 2, 1, 1,
                        Duration.ofSeconds(60)));
                Done done = assertInstanceOf(Done.class, o, String.valueOf(o));
                assertTrue(done.compactor().equals("good"));
                List<String> remote = CompactionOffloadProcessTest.checkedEntries(db, done);
                assertTrue(remote.equals(CompactionOffloadProcessTest.localEntries(db,
                        Tables.request(db, inputs, 100, 101, 102, 103, 104, 105, 106, 107))), "the retry's entries");
            } finally {
                slow.close();
            }
        }
    }

    @Test
    void shouldDeleteAStoppedCompactorsOutputsWhenItsLateReportIsRefused() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path db = shared.resolve("db");
        List<InputFile> inputs = Tables.twoInputs(db);
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess zombie = CompactorProcess.slowStorage(dir, "zombie", 10_000, node.port, secret,
                        shared.toString()).start();
                DmClient client = CompactionOffloadProcessTest.owner(node, "db-zombie");
                io.o3lsm.spi.CompactionOffloadExecutor ex = CompactionOffloadProcessTest.executor(client)) {
            CompletableFuture<Outcome> f = submitAsync(ex, new OffloadRequest(oneOutput(db, inputs, 10), 1, 1, 1, 1,
                    Duration.ofSeconds(120)));
            zombie.awaitSlowSync();
            zombie.signal("STOP"); // paused mid-job: no heartbeat
            IOException e;
            try {
                e = failure(f);
            } finally {
                zombie.signal("CONT");
            }
            assertTrue(e.getMessage().contains("no heartbeat"), e.getMessage());
            assertTrue(zombie.awaitLog("result not taken"), zombie.output());
            assertTrue(zombie.awaitLog("1 of its 1 output(s) deleted"), zombie.output());
            assertTrue(!Files.exists(FlushJob.outputPath(db, 10)), "the zombie deleted its output");
        }
    }

    @Test
    void shouldFailAWaitingSubmissionAtOnceWhenTheOwnerClosesItsExecutor() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path db = shared.resolve("db");
        List<InputFile> inputs = Tables.twoInputs(db);
        Path secret = MemNodeProcess.secret(dir, "secret", CompactionOffloadProcessTest.SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess slow = CompactorProcess.slowStorage(dir, "slow-close", 60_000, node.port, secret,
                        shared.toString()).start();
                DmClient client = CompactionOffloadProcessTest.owner(node, "db-close")) {
            io.o3lsm.spi.CompactionOffloadExecutor ex = CompactionOffloadProcessTest.executor(client);
            CompletableFuture<Outcome> f = submitAsync(ex, new OffloadRequest(oneOutput(db, inputs, 10), 1, 1, 1, 1,
                    Duration.ofHours(1)));
            slow.awaitSlowSync();
            ex.close();
            IOException e = failure(f); // well before its one-hour deadline
            assertTrue(e.getMessage().contains("cancelled by its owner"), e.getMessage());
            assertTrue(slow.awaitLog("cancelled by the coordinator"), slow.output());
            IOException after = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> ex.execute(new OffloadRequest(oneOutput(db, inputs, 11), 2, 1, 1, 1, Duration.ofSeconds(5))));
            assertTrue(after.getMessage().contains("closed"), after.getMessage());
        }
    }
}
