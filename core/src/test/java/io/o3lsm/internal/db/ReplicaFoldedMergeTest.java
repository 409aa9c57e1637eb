package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica keeps a memtable shard the primary's tables cover only in part. When the
 * primary's flush folded a key's operands into a value (or a partial merge) at the newest operand's
 * sequence S, the replica's shard still holds the raw operand at S: the sequence dedupe takes them for
 * "the same entry" (DBIter drops the table's folded value, losing the base and older operands), while
 * the point lookup takes the folded value as the base and applies the operand at S once more —
 * unless the replica copies such shards without what the tables hold (ReplicationMergeTest).
 */
class ReplicaFoldedMergeTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadAKeyWhoseOperandsThePrimaryFoldedIntoItsBaseAsThePrimaryDoes() throws Exception {
        Path secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7191";
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(1024 * 1024)
                .targetFileSize(64 * 1024).replicationProvider(loop).replicationAckTimeout(Duration.ofSeconds(5))
                .mergeOperator(MergeOperators.int64Add());
        byte[] k = b("k");
        try (DB p = DB.open(primaryDir, o.copy().replicationListen(addr, secret));
                Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
            p.put(k, MergeOperators.int64(100));
            p.merge(k, MergeOperators.int64(1));
            byte[] filler = new byte[500];
            for (int i = 0; i < 100; i++) { // ~50 KB more: both sides seal their first arena in here
                p.put(b("f" + i), filler);
            }
            for (int i = 100; i < 160; i++) {
                p.put(b("f" + i), filler);
            }
            p.merge(k, MergeOperators.int64(2));
            p.flush(); // one flush of both shards: k becomes VALUE 103 at the sequence of "+2"
            ReplicationTest.awaitInSync((DBImpl) p, r);
            p.merge(k, MergeOperators.int64(4));
            ReplicationTest.awaitInSync((DBImpl) p, r);

            assertEquals(107, MergeOperators.int64(p.get(k)), "the primary");
            long viaIter;
            try (DBIterator it = r.iterator(ReadOptions.defaults())) {
                it.seek(k);
                viaIter = Arrays.equals(it.key(), k) ? MergeOperators.int64(it.value()) : -1;
            }
            long viaGet = MergeOperators.int64(r.get(k));
            assertEquals("get=107 iterator=107", "get=" + viaGet + " iterator=" + viaIter, "the replica");
        }
    }
}
