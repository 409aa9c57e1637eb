package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.DB;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.Replica;
import io.o3lsm.SstFileWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica restarted when an ingest was the last thing it applied (no write after it): its log never
 * carries the ingest's sequence S, so recovering the published sequence from the log and the
 * watermarks alone reopened it at S - 1, reading the older value of an ingested key although its
 * MANIFEST names the ingest's tables (ReplicaApplier.recover now also takes the newest sequence of
 * the tables it installed). A promotion from there keeps the ingest.
 */
class ReplicaIngestRestartTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;
    @TempDir Path staging;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] x) {
        return x == null ? null : new String(x, StandardCharsets.UTF_8);
    }

    @Test
    void replicaRestartedRightAfterAnIngestStillShowsTheIngestedValue() throws Exception {
        Path secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7133";
        Options o = Options.defaults().shardCount(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
        Path f = staging.resolve("a.sst");
        try (SstFileWriter w = SstFileWriter.open(f, o)) {
            w.put(b("k1"), b("ingested"));
            w.finish();
        }
        long applied;
        try (DB p = DB.open(primaryDir, o.copy().replicationListen(addr, secret))) {
            try (Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
                ReplicationTest.await(((ReplicaDB) r).impl().engine().replicaApplier::caughtUpOnce, "caught up");
                p.put(b("k1"), b("old"));
                p.put(b("k2"), b("v2"));
                p.ingest(List.of(f), IngestOptions.defaults());
                ReplicationMergeTest.awaitInSync(p, r);
                assertEquals("ingested", str(r.get(b("k1"))), "before the restart");
                applied = r.appliedSequence();
            }
        }
        // the primary is gone; the replica reopens on its own
        try (Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
            assertEquals("ingested", str(r.get(b("k1"))), "the restarted replica reads the ingested value");
            assertEquals(applied, r.appliedSequence(), "the restarted replica's published sequence");
        }
    }

    @Test
    void replicaPromotedRightAfterAnIngestKeepsTheIngestAndGivesTheNextWriteANewSequence() throws Exception {
        Path secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7134";
        Options o = Options.defaults().shardCount(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
        Path f = staging.resolve("a.sst");
        try (SstFileWriter w = SstFileWriter.open(f, o)) {
            w.put(b("k1"), b("ingested"));
            w.finish();
        }
        try (DB p = DB.open(primaryDir, o.copy().replicationListen(addr, secret))) {
            try (Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
                ReplicationTest.await(((ReplicaDB) r).impl().engine().replicaApplier::caughtUpOnce, "caught up");
                p.put(b("k1"), b("old"));
                p.ingest(List.of(f), IngestOptions.defaults());
                ReplicationMergeTest.awaitInSync(p, r);
            }
        }
        try (Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
            try (DB promoted = r.promote(o.copy())) {
                assertEquals("ingested", str(promoted.get(b("k1"))), "once promoted");
                promoted.put(b("k1"), b("new"));
                assertEquals("new", str(promoted.get(b("k1"))), "a write after the promotion");
                promoted.flush();
                promoted.compactRange(null, null);
                assertEquals("new", str(promoted.get(b("k1"))), "a write after the promotion, flushed and compacted");
            }
        }
    }
}
