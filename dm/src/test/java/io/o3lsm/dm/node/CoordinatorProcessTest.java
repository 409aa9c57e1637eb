package io.o3lsm.dm.node;

import static io.o3lsm.dm.node.JobClients.offload;
import static io.o3lsm.dm.node.JobClients.shard;
import static io.o3lsm.dm.node.JobClients.submit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmAccessException;
import io.o3lsm.dm.DmException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator of a real memory-node process, driven by a DB client and a worker client over
 * UCX: placement, job-scoped reads (JOB_READ only for the inputs of a job the worker holds, and
 * only while it holds it), role checks, deadlines, a lost worker.
 */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CoordinatorProcessTest {
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







    private static DmClient owner(String dbId) throws Exception {
        return JobClients.owner(node, SECRET, dbId, TIMEOUT);
    }

    private static DmClient worker(String name) throws Exception {
        return JobClients.worker(node, SECRET, name, TIMEOUT);
    }

    private static Messages.JobOffer awaitOffer(DmClient w) throws Exception {
        return JobClients.awaitOffer(w, 0);
    }

    private static void register(DmClient w) throws Exception {
        w.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0)); // answered at once; the worker is known from now on
    }

    private static int status(Throwable t) {
        while (t != null && !(t instanceof DmException)) {
            t = t.getCause();
        }
        return t == null ? Integer.MIN_VALUE : ((DmException) t).status();
    }

    private static byte[] read(DmClient w, long handle, int index, int offset, int length) throws DmException {
        ByteBuffer dst = ByteBuffer.allocateDirect(length);
        w.awaitRead(w.readJob(handle, index, offset, length, dst));
        byte[] out = new byte[length];
        dst.clear();
        dst.get(out);
        return out;
    }

    @Test
    void shouldLetAWorkerReadOnlyTheInputsOfTheJobItHoldsAndOnlyWhileItHoldsIt() throws Exception {
        try (DmClient a = owner("db-access-a"); DmClient b = owner("db-access-b"); DmClient w = worker("w-access")) {
            MemtableShard sa = shard(1, 200);
            MemoryNode.RemoteShard ra = offload(a, sa);
            MemoryNode.RemoteShard rb = offload(b, shard(2, 100));
            register(w);
            CompletableFuture<MemoryNode.JobOutcome> outcome = submit(a, 1, ra, Duration.ofSeconds(30));
            Messages.JobOffer offer = awaitOffer(w);
            assertEquals("db-access-a", offer.dbId());
            assertEquals(1, offer.segments().size());
            assertEquals(ra.segmentId(), offer.segments().get(0).segmentId());
            assertArrayEquals(new byte[] {42}, offer.spec());

            // the job's input, in two pieces: exactly the offloaded bytes
            int len = ra.length();
            byte[] whole = new byte[len];
            System.arraycopy(read(w, offer.handle(), 0, 0, len / 2), 0, whole, 0, len / 2);
            System.arraycopy(read(w, offer.handle(), 0, len / 2, len - len / 2), 0, whole, len / 2, len - len / 2);
            byte[] expected = new byte[len];
            sa.buffer().getBytes(0, expected);
            assertArrayEquals(expected, whole);

            // outside the input, another input index, another job's handle: refused
            assertEquals(Status.BAD_REQUEST, status(assertThrows(DmException.class,
                    () -> read(w, offer.handle(), 0, len - 8, 16))));
            assertEquals(Status.BAD_REQUEST, status(assertThrows(DmException.class,
                    () -> read(w, offer.handle(), 1, 0, 16))));
            assertEquals(Status.ACCESS_DENIED, status(assertThrows(DmException.class,
                    () -> read(w, offer.handle() + 1, 0, 0, 16))));
            // a worker may not use a DB's opcodes on any segment (it has no remote keys either)
            assertThrows(DmAccessException.class, () -> w.readBack(rb, ByteBuffer.allocateDirect(rb.length())));
            assertThrows(DmAccessException.class, () -> w.get(List.of(rb), "key00001".getBytes(StandardCharsets.UTF_8),
                    Long.MAX_VALUE >>> 8));
            assertThrows(DmAccessException.class, () -> w.readBack(ra, ByteBuffer.allocateDirect(ra.length())));
            // and a DB may not act as a worker
            assertThrows(DmAccessException.class, () -> b.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0)));
            assertThrows(DmAccessException.class, () -> b.jobDone(offer.handle(), true, new byte[0]));

            w.jobDone(offer.handle(), true, new byte[] {7, 7});
            MemoryNode.JobOutcome o = outcome.get(30, TimeUnit.SECONDS);
            assertTrue(o.placed());
            assertEquals("w-access", o.worker());
            assertArrayEquals(new byte[] {7, 7}, o.result());

            // the job ended: its input is no longer readable, a second report is refused
            assertEquals(Status.ACCESS_DENIED, status(assertThrows(DmException.class,
                    () -> read(w, offer.handle(), 0, 0, 16))));
            assertEquals(Status.NO_SUCH_JOB, status(assertThrows(DmException.class,
                    () -> w.jobDone(offer.handle(), true, new byte[0]))));
            assertTrue(a.stats().capacity() > 0, "the node still answers");
        }
    }

    @Test
    void shouldDeclineAJobWhenNoWorkerIsRegistered() throws Exception {
        // a node of its own: no other test's worker is registered there
        try (MemNodeProcess alone = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m",
                MemNodeProcess.secret(dir, "secret-alone", SECRET)).start();
                DmClient a = DmClient.connect(new MemoryNode.Config("127.0.0.1:" + alone.port,
                        SECRET.getBytes(StandardCharsets.UTF_8), "db-noworker", 1, 0, 4, TIMEOUT))) {
            MemoryNode.RemoteShard ra = offload(a, shard(3, 50));
            MemoryNode.JobOutcome o = submit(a, 1, ra, Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS);
            assertFalse(o.placed());
            assertEquals("no workers registered", o.message());
            a.free(ra); // declined: nothing pins the input
        }
    }

    @Test
    void shouldFailASubmitWhoseCancelArrivedFirst() throws Exception {
        try (DmClient a = owner("db-earlycancel"); DmClient w = worker("w-earlycancel")) {
            MemoryNode.RemoteShard ra = offload(a, shard(6, 50));
            register(w);
            // the owner's close cancels a submission it has started but not yet sent
            assertEquals(Status.NO_SUCH_JOB, status(assertThrows(DmException.class, () -> a.cancelJob(9, 1))));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> submit(a, 9, ra, Duration.ofSeconds(60)).get(30, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e), String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().contains("cancelled by its owner before it arrived"),
                    e.getCause().getMessage());
            assertTrue(w.poll(new Messages.WorkerPoll(1, 0, 0, 0, 0)).offers().isEmpty(), "nothing was placed");
            a.free(ra); // not pinned by the refused submit
        }
    }

    @Test
    void shouldFailAJobPastItsDeadlineAndTellItsWorker() throws Exception {
        try (DmClient a = owner("db-deadline"); DmClient w = worker("w-deadline")) {
            MemoryNode.RemoteShard ra = offload(a, shard(4, 50));
            register(w);
            CompletableFuture<MemoryNode.JobOutcome> outcome = submit(a, 1, ra, Duration.ofMillis(700));
            Messages.JobOffer offer = awaitOffer(w);
            ExecutionException e = assertThrows(ExecutionException.class, () -> outcome.get(30, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e), String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().contains("did not finish within"), e.getCause().getMessage());
            boolean told = false;
            for (int i = 0; i < 20 && !told; i++) {
                for (long h : w.poll(new Messages.WorkerPoll(1, 1, 0, 0, 500)).cancelled()) {
                    told |= h == offer.handle();
                }
            }
            assertTrue(told, "the worker learns at a poll that its job was ended");
            assertEquals(Status.NO_SUCH_JOB, status(assertThrows(DmException.class,
                    () -> w.jobDone(offer.handle(), true, new byte[0]))));
            assertEquals(Status.ACCESS_DENIED, status(assertThrows(DmException.class,
                    () -> read(w, offer.handle(), 0, 0, 16))));
        }
    }

    @Test
    void shouldFailTheJobsOfAWorkerThatDisconnects() throws Exception {
        try (DmClient a = owner("db-lostworker")) {
            MemoryNode.RemoteShard ra = offload(a, shard(5, 50));
            DmClient w = worker("w-lost");
            CompletableFuture<MemoryNode.JobOutcome> outcome;
            try {
                register(w);
                outcome = submit(a, 1, ra, Duration.ofSeconds(60));
                awaitOffer(w);
            } finally {
                w.close();
            }
            ExecutionException e = assertThrows(ExecutionException.class, () -> outcome.get(30, TimeUnit.SECONDS));
            assertEquals(Status.JOB_FAILED, status(e), String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().contains("lost"), e.getCause().getMessage());
            // the inputs are unpinned and still the owner's: it can read them back and free them
            ByteBuffer back = ByteBuffer.allocateDirect(ra.length());
            a.readBack(ra, back);
            a.free(ra);
            assertFalse(node.output().contains("Exception in thread"), node.output());
        }
    }
}
