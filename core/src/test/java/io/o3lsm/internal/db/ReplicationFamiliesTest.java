package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.WriteBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication of a DB with column families over the in-process {@link LoopbackReplication}: the
 * replica holds every family's data, takes families the primary creates and drops while it follows,
 * reads them with the functions it names, keeps them across a restart, and a promoted replica is a
 * primary with the same families.
 */
class ReplicationFamiliesTest {
    @TempDir Path primaryDir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;
    Path secret;
    LoopbackReplication loop;
    static final String ADDR = "127.0.0.1:7111";

    @BeforeEach
    void setUp() throws Exception {
        secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        loop = new LoopbackReplication();
    }

    Options small() {
        return Options.defaults().shardCount(2).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
    }

    static List<ColumnFamilyDescriptor> families() {
        return List.of(new ColumnFamilyDescriptor("counts",
                ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("names"));
    }

    static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static Map<String, String> contents(DB db, ColumnFamilyHandle cf) {
        Map<String, String> out = new TreeMap<>();
        try (io.o3lsm.DBIterator it = db.iterator(ReadOptions.defaults(), cf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.put(new String(it.key()), java.util.HexFormat.of().formatHex(it.value()));
            }
        }
        return out;
    }

    void awaitInSync(DB p, Replica r) throws InterruptedException {
        ReplicationTest.await(() -> r.appliedSequence() == ((DBImpl) p).lastSequence()
                && ReplicationTest.tables((DBImpl) p).keySet().equals(
                        ReplicationTest.tables(((ReplicaDB) r).impl()).keySet()), "the replica in sync");
    }

    @Test
    void shouldReplicateEveryFamilyAndFamiliesCreatedOrDroppedWhileFollowing() throws Exception {
        try (DB p = DB.open(primaryDir, small().replicationListen(ADDR, secret), families())) {
            ColumnFamilyHandle counts = p.columnFamily("counts");
            ColumnFamilyHandle names = p.columnFamily("names");
            for (int i = 0; i < 3000; i++) {
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(counts, b("c" + (i % 50)), MergeOperators.int64(i)).put(names, b("n" + i), b("name" + i))
                            .put(b("d" + i), b("default" + i));
                    p.write(batch);
                }
            }
            try (Replica r = DB.openReplica(replicaDir, small().replicaOf(ADDR, secret), List.of(
                    new ColumnFamilyDescriptor("counts", ColumnFamilyOptions.defaults()
                            .mergeOperator(MergeOperators.int64Add()))))) {
                awaitInSync(p, r);
                assertEquals(List.of("default", "counts", "names"), r.listColumnFamilies());
                assertEquals(2957, MergeOperators.int64(r.get(r.columnFamily("counts"), b("c7"))), "the replica");
                assertEquals("name9", new String(r.get(r.columnFamily("names"), b("n9"))));
                assertEquals("default9", new String(r.get(b("d9"))));
                assertNull(r.get(r.columnFamily("names"), b("d9")), "the default family's key is not in names");
                // created and dropped on the primary while the replica follows
                ColumnFamilyHandle later = p.createColumnFamily("later", ColumnFamilyOptions.defaults());
                p.put(later, b("x"), b("late"));
                p.dropColumnFamily(names);
                for (int i = 0; i < 2000; i++) {
                    p.put(counts, b("c" + (i % 50)), MergeOperators.int64(i));
                }
                ((DBImpl) p).waitForFlushes();
                ((DBImpl) p).waitForCompactions();
                awaitInSync(p, r);
                ReplicationTest.await(() -> r.columnFamily("later") != null && r.columnFamily("names") == null,
                        "the replica took the family created and the one dropped");
                assertEquals("late", new String(r.get(r.columnFamily("later"), b("x"))));
                assertEquals(contents(p, counts), contents(r, r.columnFamily("counts")));
                assertEquals(contents(p, p.defaultColumnFamily()), contents(r, r.defaultColumnFamily()));
                assertEquals(0, ((ReplicaDB) r).impl().engine().stats.flushes.sum(), "the replica never flushes");
            }
            // restart: the replica's own MANIFEST holds the families
            try (Replica r = DB.openReplica(replicaDir, small().replicaOf(ADDR, secret), List.of(
                    new ColumnFamilyDescriptor("counts", ColumnFamilyOptions.defaults()
                            .mergeOperator(MergeOperators.int64Add()))))) {
                assertEquals(List.of("default", "counts", "later"), r.listColumnFamilies());
                assertEquals(1957, MergeOperators.int64(r.get(r.columnFamily("counts"), b("c7"))));
                awaitInSync(p, r);
            }
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> DB.openReplica(replicaDir, small().replicaOf(ADDR, secret)));
            assertTrue(ex.getMessage().contains("column families"), ex.getMessage());
        }
        // promoted: a primary with the same families
        try (DB promoted = Replica.promote(replicaDir, small(), List.of(new ColumnFamilyDescriptor("counts",
                ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("later")))) {
            assertEquals(List.of("default", "counts", "later"), promoted.listColumnFamilies());
            promoted.merge(promoted.columnFamily("counts"), b("c7"), MergeOperators.int64(1));
            assertEquals(1958, MergeOperators.int64(promoted.get(promoted.columnFamily("counts"), b("c7"))));
        }
    }
}
