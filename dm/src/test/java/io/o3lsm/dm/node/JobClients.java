package io.o3lsm.dm.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A DB client and worker clients driving a real memory node's coordinator, for the coordinator's process tests. */
final class JobClients {
    private JobClients() {
    }

    static DmClient owner(MemNodeProcess node, String secret, String dbId, Duration timeout) throws Exception {
        return DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port, secret.getBytes(StandardCharsets.UTF_8),
                dbId, 1, 0, 4, timeout));
    }

    static DmClient worker(MemNodeProcess node, String secret, String name, Duration timeout) throws Exception {
        return DmClient.connectWorker("127.0.0.1:" + node.port, secret.getBytes(StandardCharsets.UTF_8), name, timeout);
    }

    /** A sealed 64 KiB shard of {@code keys} 100-byte values. */
    static MemtableShard shard(int id, int keys) {
        MemtableShard s = MemtableShard.allocate(id, 64 << 10);
        byte[] v = new byte[100];
        for (int i = 0; i < keys; i++) {
            byte[] k = String.format("key%05d", i).getBytes(StandardCharsets.UTF_8);
            assertTrue(s.add(i + 1, InternalKey.TYPE_VALUE, k, 0, k.length, v, 0, v.length));
        }
        s.seal();
        return s;
    }

    static MemoryNode.RemoteShard offload(DmClient c, MemtableShard s) throws Exception {
        return c.offload(s.buffer().byteBuffer(), s.usedBytes(), s.reader().checksum(), s.shardId(), s.minSequence(),
                s.maxSequence()).get(60, TimeUnit.SECONDS);
    }

    /** Submits a flush job on {@code input} (placement ALWAYS, spec {42}) from another thread. */
    static CompletableFuture<MemoryNode.JobOutcome> submit(DmClient owner, long jobId, MemoryNode.RemoteShard input,
            Duration deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return owner.submitJob(new MemoryNode.JobSubmit(MemoryNode.JOB_KIND_FLUSH, jobId, 1, List.of(input),
                        new byte[] {42}, true, 0, 0, deadline));
            } catch (DmException e) {
                throw new RuntimeException(e);
            }
        });
    }

    /** Polls (1 slot, {@code running} of it busy) until an offer arrives; the submit runs concurrently. */
    static Messages.JobOffer awaitOffer(DmClient w, int running) throws Exception {
        for (int i = 0; i < 100; i++) {
            Messages.PollAnswer a = w.poll(new Messages.WorkerPoll(1, running, 0, 0, 500));
            if (!a.offers().isEmpty()) {
                return a.offers().get(0);
            }
        }
        throw new AssertionError("no offer within 100 polls");
    }
}
