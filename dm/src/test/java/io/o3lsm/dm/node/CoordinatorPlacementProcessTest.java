package io.o3lsm.dm.node;

import static io.o3lsm.dm.node.JobClients.awaitOffer;
import static io.o3lsm.dm.node.JobClients.offload;
import static io.o3lsm.dm.node.JobClients.shard;
import static io.o3lsm.dm.node.JobClients.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.DmTimeoutException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.spi.MemoryNode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator of a real memory-node process under awkward timing: a worker that pauses past the
 * heartbeat limit, a job that waits in the queue, several queued jobs placed by one poll. Each test
 * failed on the first version of the coordinator.
 */
@org.junit.jupiter.api.Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoordinatorPlacementProcessTest {
    private static final String SECRET = "coordinator-secret-0123456789";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    static MemNodeProcess node;

    @BeforeAll
    static void start() throws Exception {
        node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "64m", MemNodeProcess.secret(dir, "secret", SECRET))
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
    }







    private static DmClient owner(String dbId, Duration timeout) throws Exception {
        return JobClients.owner(node, SECRET, dbId, timeout);
    }

    private static DmClient worker(String name) throws Exception {
        return JobClients.worker(node, SECRET, name, TIMEOUT);
    }

    private static Throwable root(Throwable t) {
        while (t.getCause() != null && !(t instanceof DmException)) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * A worker declared lost for missed heartbeats while its connection stays up (a pause) learns at
     * its next poll that its job ended, and no job goes into a slot it reports busy.
     */
    @Test
    void shouldTellAPausedWorkerItsJobsEndedAndRespectTheSlotsItReportsBusy() throws Exception {
        try (DmClient a = owner("db-rev-hb", TIMEOUT); DmClient w = worker("w-rev-hb")) {
            MemoryNode.RemoteShard r1 = offload(a, shard(1, 50));
            MemoryNode.RemoteShard r2 = offload(a, shard(2, 50));
            w.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0));
            CompletableFuture<MemoryNode.JobOutcome> o1 = submit(a, 1, r1, Duration.ofSeconds(60));
            Messages.JobOffer offer = awaitOffer(w, 0);
            // the worker pauses (no poll outstanding) past the heartbeat limit: its job fails
            ExecutionException e = assertThrows(ExecutionException.class, () -> o1.get(30, TimeUnit.SECONDS));
            assertTrue(root(e).getMessage().contains("no heartbeat"), root(e).getMessage());
            // it resumes, still running the job (1 of 1 slot busy)
            Messages.PollAnswer again = w.poll(new Messages.WorkerPoll(1, 1, 0, 0, 0));
            boolean told = false;
            for (long h : again.cancelled()) {
                told |= h == offer.handle();
            }
            assertTrue(told, "the worker learns that job " + offer.handle() + " ended");
            CompletableFuture<MemoryNode.JobOutcome> o2 = submit(a, 2, r2, Duration.ofSeconds(60));
            for (int i = 0; i < 4; i++) { // ~2 s of heartbeats with the slot reported busy: nothing offered
                assertTrue(w.poll(new Messages.WorkerPoll(1, 1, 0, 0, 500)).offers().isEmpty(),
                        "no job goes into a slot the worker reports busy");
            }
            Messages.JobOffer second = awaitOffer(w, 0); // the slot is free again: the queued job comes
            w.jobDone(second.handle(), true, new byte[] {1});
            assertTrue(o2.get(30, TimeUnit.SECONDS).placed());
        }
    }

    /**
     * A job's deadline counts from its submission, queue time included: the coordinator ends it (and
     * answers its owner) before the owner's own wait (deadline + 2 request timeouts) runs out, so an
     * owner never gives up on a job the coordinator still runs.
     */
    @Test
    void shouldEndAQueuedJobWithinItsDeadlineFromSubmissionBeforeItsOwnerGivesUp() throws Exception {
        try (DmClient a = owner("db-rev-queue", Duration.ofMillis(1500)); DmClient w = worker("w-rev-queue")) {
            MemoryNode.RemoteShard r1 = offload(a, shard(3, 50));
            MemoryNode.RemoteShard r2 = offload(a, shard(4, 50));
            w.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0));
            Duration deadline = Duration.ofSeconds(3);
            CompletableFuture<MemoryNode.JobOutcome> o1 = submit(a, 1, r1, deadline);
            Messages.JobOffer first = awaitOffer(w, 0);
            long t0 = System.nanoTime();
            CompletableFuture<MemoryNode.JobOutcome> o2 = submit(a, 2, r2, deadline); // queued: the only slot is busy
            while (System.nanoTime() - t0 < 2_500_000_000L) { // keep the heartbeat going; job 2 waits in the queue
                assertTrue(w.poll(new Messages.WorkerPoll(1, 1, 0, 0, 200)).offers().isEmpty());
            }
            w.jobDone(first.handle(), true, new byte[] {1});
            o1.get(10, TimeUnit.SECONDS);
            Messages.JobOffer second = awaitOffer(w, 0); // job 2 placed now, 2.5 s after its submit
            CompletableFuture<Void> keepPolling = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        w.poll(new Messages.WorkerPoll(1, 1, 0, 0, 200));
                    }
                } catch (DmException x) {
                    throw new RuntimeException(x);
                }
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> o2.get(30, TimeUnit.SECONDS));
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(root(e) instanceof DmTimeoutException,
                    "the owner gave up (" + root(e) + ") after " + waited + " ms while the coordinator still ran the job");
            assertEquals(Status.JOB_FAILED, ((DmException) root(e)).status(), String.valueOf(root(e)));
            // ended: its input is no longer readable
            ByteBuffer dst = ByteBuffer.allocateDirect(16);
            DmException denied = assertThrows(DmException.class, () -> w.awaitRead(w.readJob(second.handle(), 0, 0, 16, dst)));
            assertEquals(Status.ACCESS_DENIED, denied.status());
            keepPolling.get(30, TimeUnit.SECONDS);
        }
    }

    /** Several queued jobs placed by one worker's first poll all reach that worker. */
    @Test
    void shouldDeliverEveryQueuedJobThatOnePollPlaces() throws Exception {
        try (DmClient a = owner("db-rev-multi", TIMEOUT); DmClient w0 = worker("w-rev-noslots");
                DmClient w = worker("w-rev-multi")) {
            List<MemoryNode.RemoteShard> rs = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                rs.add(offload(a, shard(10 + i, 20)));
            }
            AtomicBoolean stop = new AtomicBoolean();
            Thread hb = new Thread(() -> { // a registered worker with no free slot: jobs queue instead of being declined
                try {
                    while (!stop.get()) {
                        w0.poll(new Messages.WorkerPoll(0, 0, 0, 0, 200));
                    }
                } catch (DmException e) {
                    throw new RuntimeException(e);
                }
            });
            hb.start();
            w0.poll(new Messages.WorkerPoll(0, 0, 0, 0, 0));
            List<CompletableFuture<MemoryNode.JobOutcome>> outs = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                outs.add(submit(a, 100 + i, rs.get(i), Duration.ofSeconds(5)));
            }
            Thread.sleep(500); // all three queued
            int offered = w.poll(new Messages.WorkerPoll(4, 0, 0, 0, 500)).offers().size(); // registers: three placed
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < 3_000_000_000L) {
                offered += w.poll(new Messages.WorkerPoll(4, 0, 0, 0, 200)).offers().size();
            }
            List<String> outcomes = new java.util.ArrayList<>();
            for (CompletableFuture<MemoryNode.JobOutcome> f : outs) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                    outcomes.add("answered");
                } catch (ExecutionException e) {
                    outcomes.add(String.valueOf(root(e).getMessage()));
                }
            }
            stop.set(true);
            hb.join();
            assertEquals(3, offered, "every placed job must reach its worker; outcomes: " + outcomes);
        }
    }
}
