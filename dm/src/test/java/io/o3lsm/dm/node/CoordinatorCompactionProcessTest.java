package io.o3lsm.dm.node;

import static io.o3lsm.dm.node.JobClients.offload;
import static io.o3lsm.dm.node.JobClients.shard;
import static io.o3lsm.dm.node.JobClients.submit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Opcode;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.spi.MemoryNode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compaction half of the coordinator of a real memory-node process (protocol version 4): job
 * kinds keep flush jobs and compactions apart, the compaction queue's order (lower start level,
 * higher score, FIFO), the decline rules (no compactor, queue full), failures (a lost compactor, a
 * deadline), and hostile or outdated messages answered with errors while the node keeps serving.
 * Each test has a node of its own, so no other test's worker is registered there.
 */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoordinatorCompactionProcessTest {
    private static final String SECRET = "coordinator-compaction-secret-0123";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int COMPACTION = Messages.kindBit(Messages.KIND_COMPACTION);
    private static final int FLUSH = Messages.kindBit(Messages.KIND_FLUSH);

    @TempDir
    Path dir;
    MemNodeProcess node;
    final ExecutorService submitters = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-submit");
        t.setDaemon(true);
        return t;
    });

    @BeforeEach
    void start() throws Exception {
        node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", MemNodeProcess.secret(dir, "secret", SECRET))
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        submitters.shutdownNow();
        if (node != null) {
            node.close();
        }
    }

    private DmClient owner(String dbId) throws Exception {
        return JobClients.owner(node, SECRET, dbId, TIMEOUT);
    }

    private DmClient worker(String name) throws Exception {
        return JobClients.worker(node, SECRET, name, TIMEOUT);
    }

    /** Submits compaction job {@code jobId} (spec {jobId}) from another thread. */
    private CompletableFuture<MemoryNode.JobOutcome> compaction(DmClient owner, long jobId, int level, double score,
            Duration deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return owner.submitJob(MemoryNode.JobSubmit.compaction(jobId, 1, new byte[] {(byte) jobId}, deadline,
                        level, score));
            } catch (DmException e) {
                throw new RuntimeException(e);
            }
        }, submitters);
    }

    /** Polls (1 slot free, the given kinds) until an offer arrives. */
    private static Messages.JobOffer awaitOffer(DmClient w, int kinds) throws Exception {
        for (int i = 0; i < 100; i++) {
            Messages.PollAnswer a = w.poll(new Messages.WorkerPoll(1, 0, 0, 0, 500, kinds));
            if (!a.offers().isEmpty()) {
                assertEquals(1, a.offers().size());
                return a.offers().get(0);
            }
        }
        throw new AssertionError("no offer within 100 polls");
    }

    /** Waits until the node has logged {@code n} compactions queued in all. */
    private void awaitQueued(int n) throws Exception {
        for (int i = 0; i < 3000; i++) {
            String log = node.output();
            int count = 0;
            for (int at = log.indexOf(" queued: "); at >= 0; at = log.indexOf(" queued: ", at + 1)) {
                count++;
            }
            if (count >= n) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the node did not queue " + n + " compactions:\n" + node.output());
    }

    /** Heartbeats {@code p} (its wait capped at 200 ms) from another thread until closed, so the worker is not lost meanwhile. */
    private static AutoCloseable keepAlive(DmClient w, Messages.WorkerPoll p) {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Messages.WorkerPoll beat = new Messages.WorkerPoll(p.slots(), p.running(), p.load(), 0, 200, p.kinds());
        Thread t = new Thread(() -> {
            while (!stop.get()) {
                try {
                    assertTrue(w.poll(beat).offers().isEmpty(), "nothing is offered into a slot reported busy");
                } catch (DmException e) {
                    return;
                }
            }
        }, "test-heartbeat");
        t.setDaemon(true);
        t.start();
        return () -> {
            stop.set(true);
            t.join(10_000);
        };
    }

    private static int status(Throwable t) {
        while (t != null && !(t instanceof DmException)) {
            t = t.getCause();
        }
        return t == null ? Integer.MIN_VALUE : ((DmException) t).status();
    }

    @Test
    void shouldGiveFlushJobsOnlyToFlushWorkersAndCompactionsOnlyToCompactors() throws Exception {
        try (DmClient a = owner("db-kinds"); DmClient c = worker("compactor-1")) {
            MemoryNode.RemoteShard input = offload(a, shard(1, 50));
            c.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, COMPACTION)); // registers a compactor only
            MemoryNode.JobOutcome declined = submit(a, 1, input, Duration.ofSeconds(30)).get(30, TimeUnit.SECONDS);
            assertFalse(declined.placed(), "a flush job never goes to a compactor");
            assertTrue(declined.message().startsWith("no flush workers registered"), declined.message());

            CompletableFuture<MemoryNode.JobOutcome> compacted = compaction(a, 2, 1, 1.0, Duration.ofSeconds(30));
            Messages.JobOffer offer = awaitOffer(c, COMPACTION);
            assertEquals(Messages.KIND_COMPACTION, offer.kind());
            assertEquals(2, offer.jobId());
            assertEquals("db-kinds", offer.dbId());
            assertTrue(offer.segments().isEmpty(), "a compaction names no segments");
            assertArrayEquals(new byte[] {2}, offer.spec());
            // it has no inputs in DM: JOB_READ is refused
            assertEquals(Status.BAD_REQUEST, status(assertThrows(DmException.class,
                    () -> c.awaitRead(c.readJob(offer.handle(), 0, 0, 16, ByteBuffer.allocateDirect(16))))));
            c.jobDone(offer.handle(), true, new byte[] {9});
            MemoryNode.JobOutcome done = compacted.get(30, TimeUnit.SECONDS);
            assertTrue(done.placed());
            assertEquals("compactor-1", done.worker());
            assertArrayEquals(new byte[] {9}, done.result());

            try (DmClient f = worker("flusher-1")) {
                f.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, FLUSH));
                // a compaction goes to the compactor, a flush to the flush worker, even with both idle
                CompletableFuture<MemoryNode.JobOutcome> c3 = compaction(a, 3, 0, 1.0, Duration.ofSeconds(30));
                Messages.JobOffer co = awaitOffer(c, COMPACTION);
                assertEquals(3, co.jobId());
                CompletableFuture<MemoryNode.JobOutcome> f4 = submit(a, 4, input, Duration.ofSeconds(30));
                Messages.JobOffer fo = awaitOffer(f, FLUSH);
                assertEquals(4, fo.jobId());
                assertEquals(Messages.KIND_FLUSH, fo.kind());
                assertEquals(1, fo.segments().size());
                f.jobDone(fo.handle(), true, new byte[0]);
                c.jobDone(co.handle(), true, new byte[0]);
                assertTrue(f4.get(30, TimeUnit.SECONDS).placed());
                assertTrue(c3.get(30, TimeUnit.SECONDS).placed());
            }
        }
    }

    @Test
    void shouldDeclineACompactionWhenNoCompactorIsRegistered() throws Exception {
        try (DmClient a = owner("db-nocompactor"); DmClient f = worker("flusher-only")) {
            MemoryNode.JobOutcome none = compaction(a, 1, 0, 1.0, Duration.ofSeconds(30)).get(30, TimeUnit.SECONDS);
            assertFalse(none.placed());
            assertEquals("no compactors registered", none.message());
            f.poll(new Messages.WorkerPoll(4, 0, 0, 0, 0, FLUSH)); // a flush worker with free slots is no compactor
            MemoryNode.JobOutcome still = compaction(a, 2, 0, 1.0, Duration.ofSeconds(30)).get(30, TimeUnit.SECONDS);
            assertFalse(still.placed());
            assertEquals("no compactors registered", still.message());
        }
    }

    @Test
    void shouldServeCompactionsLowerStartLevelFirstThenHigherScoreThenInSubmissionOrder() throws Exception {
        try (DmClient a = owner("db-order"); DmClient c = worker("compactor-order")) {
            Messages.WorkerPoll busy = new Messages.WorkerPoll(1, 1, 0, 0, 0, COMPACTION);
            c.poll(busy); // registered, its one slot busy
            // job id: start level, score
            long[][] jobs = {{1, 2, 10}, {2, 1, 5}, {3, 1, 20}, {4, 1, 5}, {5, 0, 1}, {6, 2, 30}};
            List<CompletableFuture<MemoryNode.JobOutcome>> outcomes = new ArrayList<>();
            try (AutoCloseable beat = keepAlive(c, busy)) {
                for (int i = 0; i < jobs.length; i++) {
                    outcomes.add(compaction(a, jobs[i][0], (int) jobs[i][1], jobs[i][2] / 10.0,
                            Duration.ofSeconds(60)));
                    awaitQueued(i + 1); // in this submission order
                }
            }
            List<Long> served = new ArrayList<>();
            for (int i = 0; i < jobs.length; i++) {
                Messages.JobOffer o = awaitOffer(c, COMPACTION);
                served.add(o.jobId());
                c.jobDone(o.handle(), true, new byte[0]);
            }
            // level 0; level 1 by score (5 and 5 in submission order: 2 before 4); level 2 by score
            assertEquals(List.of(5L, 3L, 2L, 4L, 6L, 1L), served);
            for (CompletableFuture<MemoryNode.JobOutcome> o : outcomes) {
                assertTrue(o.get(30, TimeUnit.SECONDS).placed());
            }
        }
    }

    @Test
    void shouldPlaceOnTheCompactorWithTheFewestRunningJobs() throws Exception {
        try (DmClient a = owner("db-fewest"); DmClient c1 = worker("compactor-busy");
                DmClient c2 = worker("compactor-idle")) {
            // c1 registered first, 4 slots with 2 running (reported); c2 has 2 slots, none running, and
            // reports a high CPU load, which compaction placement does not consider
            Messages.WorkerPoll c1Busy = new Messages.WorkerPoll(4, 2, 0, 0, 0, COMPACTION);
            c1.poll(c1Busy);
            c2.poll(new Messages.WorkerPoll(2, 0, 900, 0, 0, COMPACTION));
            AutoCloseable beat = keepAlive(c1, new Messages.WorkerPoll(2, 2, 0, 0, 0, COMPACTION)); // no free slot
            
            CompletableFuture<MemoryNode.JobOutcome> o1 = compaction(a, 1, 0, 1.0, Duration.ofSeconds(30));
            Messages.JobOffer first = null;
            for (int i = 0; i < 100 && first == null; i++) {
                Messages.PollAnswer ans = c2.poll(new Messages.WorkerPoll(2, 0, 900, 0, 500, COMPACTION));
                if (!ans.offers().isEmpty()) {
                    first = ans.offers().get(0);
                }
            }
            assertTrue(first != null, "the compactor with no running jobs takes it, though its load is higher");
            CompletableFuture<MemoryNode.JobOutcome> o2 = compaction(a, 2, 0, 1.0, Duration.ofSeconds(30));
            Messages.JobOffer second = null; // c2 now runs 1, c1 reports 2: c2 again
            for (int i = 0; i < 100 && second == null; i++) {
                Messages.PollAnswer ans = c2.poll(new Messages.WorkerPoll(2, 1, 900, 0, 500, COMPACTION));
                if (!ans.offers().isEmpty()) {
                    second = ans.offers().get(0);
                }
            }
            assertEquals(2, second.jobId());
            beat.close();
            // c2 is full (2 of 2); c1 has free slots: the third goes there
            CompletableFuture<MemoryNode.JobOutcome> o3 = compaction(a, 3, 0, 1.0, Duration.ofSeconds(30));
            Messages.JobOffer third = null;
            for (int i = 0; i < 100 && third == null; i++) {
                Messages.PollAnswer ans = c1.poll(new Messages.WorkerPoll(4, 2, 0, 0, 500, COMPACTION));
                if (!ans.offers().isEmpty()) {
                    third = ans.offers().get(0);
                }
            }
            assertEquals(3, third.jobId());
            c2.jobDone(first.handle(), true, new byte[0]);
            c2.jobDone(second.handle(), true, new byte[0]);
            c1.jobDone(third.handle(), true, new byte[0]);
            assertEquals("compactor-idle", o1.get(30, TimeUnit.SECONDS).worker());
            assertEquals("compactor-idle", o2.get(30, TimeUnit.SECONDS).worker());
            assertEquals("compactor-busy", o3.get(30, TimeUnit.SECONDS).worker());
        }
    }

    @Test
    void shouldDeclineACompactionWhenSixtyFourAlreadyWait() throws Exception {
        try (DmClient a = owner("db-full"); DmClient c = worker("compactor-full")) {
            Messages.WorkerPoll busy = new Messages.WorkerPoll(1, 1, 0, 0, 0, COMPACTION);
            c.poll(busy); // its one slot busy: everything queues
            List<CompletableFuture<MemoryNode.JobOutcome>> waiting = new ArrayList<>();
            try (AutoCloseable beat = keepAlive(c, busy)) {
                for (int i = 1; i <= Coordinator.COMPACTION_QUEUE_LIMIT; i++) {
                    waiting.add(compaction(a, i, 1, 1.0, Duration.ofSeconds(60)));
                }
                awaitQueued(Coordinator.COMPACTION_QUEUE_LIMIT);
                MemoryNode.JobOutcome full = compaction(a, 1000, 0, 99.0, Duration.ofSeconds(60))
                        .get(30, TimeUnit.SECONDS);
                assertFalse(full.placed(), "the 65th compaction is run locally");
                assertTrue(full.message().startsWith("compaction queue full"), full.message());
                for (int i = 0; i < waiting.size(); i++) {
                    assertFalse(waiting.get(i).isDone(), "job " + (i + 1) + " still waits");
                }
            }
            // the compactor frees its slot: the queue drains in order, one job at a time
            Messages.JobOffer o = awaitOffer(c, COMPACTION); // all at level 1, score 1: the first to arrive
            assertTrue(o.jobId() >= 1 && o.jobId() <= Coordinator.COMPACTION_QUEUE_LIMIT, "job " + o.jobId());
            c.jobDone(o.handle(), true, new byte[0]);
            assertTrue(waiting.get((int) o.jobId() - 1).get(30, TimeUnit.SECONDS).placed());
        }
    }

    @Test
    void shouldFailACompactionWhoseCompactorIsLostAndRefuseTheLateReport() throws Exception {
        try (DmClient a = owner("db-lost"); DmClient c = worker("compactor-lost")) {
            c.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, COMPACTION));
            CompletableFuture<MemoryNode.JobOutcome> o = compaction(a, 1, 0, 1.0, Duration.ofSeconds(60));
            Messages.JobOffer offer = awaitOffer(c, COMPACTION);
            // the compactor stops polling past the heartbeat limit: lost, the owner's submit fails
            ExecutionException e = assertThrows(ExecutionException.class, () -> o.get(30, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e), e.toString());
            assertTrue(e.getCause().getMessage().contains("was lost"), e.getCause().getMessage());
            // its late report is refused: it must delete its outputs
            assertEquals(Status.NO_SUCH_JOB, status(assertThrows(DmException.class,
                    () -> c.jobDone(offer.handle(), true, new byte[0]))));
        }
    }

    /**
     * Compaction 1 runs on {@code c} (the only compactor), compaction 2 waits in the queue; returns
     * both submissions.
     */
    private List<CompletableFuture<MemoryNode.JobOutcome>> oneRunningOneQueued(DmClient owner, DmClient c)
            throws Exception {
        c.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, COMPACTION));
        CompletableFuture<MemoryNode.JobOutcome> running = compaction(owner, 1, 0, 1.0, Duration.ofMinutes(10));
        awaitOffer(c, COMPACTION);
        CompletableFuture<MemoryNode.JobOutcome> queued = compaction(owner, 2, 0, 1.0, Duration.ofMinutes(10));
        awaitQueued(1);
        return List.of(running, queued);
    }

    /** The queued compaction is declined (its owner compacts locally) long before its 10-minute deadline. */
    private static void assertDeclinedForWantOfACompactor(CompletableFuture<MemoryNode.JobOutcome> queued)
            throws Exception {
        MemoryNode.JobOutcome out = queued.get(60, TimeUnit.SECONDS);
        assertFalse(out.placed(), "declined, not placed");
        assertTrue(out.message().contains("no compactors registered"), out.message());
    }

    @Test
    void shouldDeclineQueuedCompactionsWhenTheLastCompactorIsLost() throws Exception {
        try (DmClient a = owner("db-orphaned")) {
            List<CompletableFuture<MemoryNode.JobOutcome>> jobs;
            try (DmClient c = worker("compactor-only")) {
                jobs = oneRunningOneQueued(a, c);
            } // the only compactor disconnects
            ExecutionException e = assertThrows(ExecutionException.class, () -> jobs.get(0).get(60, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e), e.toString());
            assertDeclinedForWantOfACompactor(jobs.get(1));
        }
    }

    @Test
    void shouldDeclineQueuedCompactionsWhenTheLastCompactorStopsRunningThem() throws Exception {
        try (DmClient a = owner("db-kinds"); DmClient c = worker("compactor-turned")) {
            List<CompletableFuture<MemoryNode.JobOutcome>> jobs = oneRunningOneQueued(a, c);
            c.poll(new Messages.WorkerPoll(1, 1, 0, 0, 0, FLUSH)); // from now on it runs flush jobs only
            assertDeclinedForWantOfACompactor(jobs.get(1));
        }
    }

    @Test
    void shouldFailACompactionPastItsDeadlineAndTellItsCompactor() throws Exception {
        try (DmClient a = owner("db-deadline"); DmClient c = worker("compactor-slow")) {
            c.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, COMPACTION));
            CompletableFuture<MemoryNode.JobOutcome> o = compaction(a, 1, 0, 1.0, Duration.ofMillis(1500));
            Messages.JobOffer offer = awaitOffer(c, COMPACTION);
            boolean told = false;
            for (int i = 0; i < 40 && !told; i++) { // keeps heartbeating while it "runs" the job
                for (long h : c.poll(new Messages.WorkerPoll(1, 1, 0, 0, 500, COMPACTION)).cancelled()) {
                    told |= h == offer.handle();
                }
            }
            assertTrue(told, "the compactor learns that its job ended");
            ExecutionException e = assertThrows(ExecutionException.class, () -> o.get(30, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e));
            assertTrue(e.getCause().getMessage().contains("did not finish within 1500 ms"), e.getCause().getMessage());
        }
    }

    @Test
    void shouldAnswerMalformedOrOutdatedCompactionMessagesWithErrorsAndKeepServing() throws Exception {
        try (DmClient a = owner("db-hostile"); DmClient c = worker("compactor-hostile")) {
            c.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0, COMPACTION));
            List<byte[]> badSubmits = List.of(
                    // a compaction naming a segment, a NaN score, a start level of 64, an unknown kind
                    body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 1, 1, new long[] {42}, new byte[1])),
                    body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 1, Double.NaN, new long[0], new byte[1])),
                    body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 64, 1, new long[0], new byte[1])),
                    body(new Messages.JobSubmit(7, 1, 1, 0, 0, 0, 1000, 0, 0, new long[0], new byte[1])),
                    // truncated: no spec
                    java.util.Arrays.copyOf(body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 1, 1, new long[0],
                            new byte[0])), 50),
                    // a spec length past the end
                    lying(body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 1, 1, new long[0], new byte[4]))));
            for (byte[] b : badSubmits) {
                assertEquals(Status.BAD_REQUEST, status(assertThrows(DmException.class,
                        () -> a.rawRequest(MessageHeaderDescriptor.PROTOCOL_VERSION, Opcode.JOB_SUBMIT, b))));
            }
            // polls with no kinds or unknown kinds
            for (int kinds : new int[] {0, 4, 0x80000000}) {
                byte[] b = new Messages.WorkerPoll(1, 0, 0, 0, 0, kinds).encode(new BodyWriter()).toByteArray();
                assertEquals(Status.BAD_REQUEST, status(assertThrows(DmException.class,
                        () -> c.rawRequest(MessageHeaderDescriptor.PROTOCOL_VERSION, Opcode.WORKER_POLL, b))));
            }
            // a version 3 peer: refused with UNSUPPORTED_VERSION, whatever it sends
            byte[] v3poll = java.util.Arrays.copyOf(new Messages.WorkerPoll(1, 0, 0, 0, 0).encode(new BodyWriter())
                    .toByteArray(), 24); // version 3 had no kinds field
            DmException old = assertThrows(DmException.class, () -> c.rawRequest(3, Opcode.WORKER_POLL, v3poll));
            assertEquals(Status.UNSUPPORTED_VERSION, old.status());
            assertTrue(old.getMessage().contains("expected protocol version " + MessageHeaderDescriptor.PROTOCOL_VERSION + ", found 3"), old.getMessage());
            DmException oldSubmit = assertThrows(DmException.class, () -> a.rawRequest(3, Opcode.JOB_SUBMIT,
                    body(new Messages.JobSubmit(2, 1, 1, 0, 0, 0, 1000, 1, 1, new long[0], new byte[1]))));
            assertEquals(Status.UNSUPPORTED_VERSION, oldSubmit.status());

            // the node, the owner and the compactor still work
            CompletableFuture<MemoryNode.JobOutcome> o = compaction(a, 5, 0, 1.0, Duration.ofSeconds(30));
            Messages.JobOffer offer = awaitOffer(c, COMPACTION);
            c.jobDone(offer.handle(), true, new byte[] {1});
            assertTrue(o.get(30, TimeUnit.SECONDS).placed());
            assertTrue(a.stats().capacity() > 0);
        }
    }

    private static byte[] body(Messages.JobSubmit m) {
        return m.encode(new BodyWriter()).toByteArray();
    }

    /** The spec's length field (the last int32 before the spec) set past the end of the body. */
    private static byte[] lying(byte[] b) {
        ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(b.length - 4 - 4, 1 << 20);
        return b;
    }
}
