package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.Options;
import io.o3lsm.Replica;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Column families at their edges: a create not yet durable, foreign handles in a plain DB's batch, replicas of TTL and merging default families, a seal after a write. */
class FamilyEdgeCaseTest {
    @TempDir Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A DB without families writes a batch naming another DB's (default) family handle. */
    @Test
    void plainDbRefusesABatchNamingAnotherDbsHandle() {
        try (DB plain = DB.open(dir.resolve("plain"), Options.defaults());
                DB other = DB.open(dir.resolve("other"), Options.defaults(), List.of(new ColumnFamilyDescriptor("x")))) {
            assertThrows(IllegalArgumentException.class, () -> plain.put(other.defaultColumnFamily(), b("k"), b("v")),
                    "the plain call refuses it");
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(other.defaultColumnFamily(), b("k"), b("v"));
                assertThrows(IllegalArgumentException.class, () -> plain.write(batch), "the batch should be refused too");
            }
        }
    }

    /**
     * createColumnFamily publishes the family (columnFamily(name) finds it) before the MANIFEST has it.
     * A write to it in that window is in the WAL under an id the MANIFEST never gave out; after a crash
     * (here: a copy of the directory taken while the MANIFEST record is held back) the next family
     * created gets that id and the write appears in it.
     */
    @Test
    void aFamilyIsNotWritableBeforeTheManifestHasIt() throws Exception {
        Path live = dir.resolve("live");
        Path crashed = dir.resolve("crashed");
        CountDownLatch appending = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean();
        FileSystem fs = new ForwardingFileSystem() {
            @Override
            protected WritableFile wrap(Path path, WritableFile w) {
                if (!path.getFileName().toString().startsWith("MANIFEST")) {
                    return w;
                }
                return new ForwardingWritableFile(w) {
                    @Override
                    public void append(byte[] src, int off, int len) throws IOException {
                        if (armed.getAndSet(false)) {
                            appending.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException ex) {
                                throw new IOException(ex);
                            }
                        }
                        super.append(src, off, len);
                    }
                };
            }
        };
        DB db = DB.open(live, Options.defaults().fileSystem(fs), List.of());
        armed.set(true);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread creator = new Thread(() -> {
            try {
                db.createColumnFamily("x", ColumnFamilyOptions.defaults());
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        creator.start();
        appending.await();
        ColumnFamilyHandle x = db.columnFamily("x");
        if (x != null) { // published before it is durable
            db.put(x, b("k"), b("ghost"), WriteOptions.defaults().sync(true));
        }
        // the crash image: every file as it is now (the MANIFEST record of "x" not written)
        Files.createDirectories(crashed);
        try (var files = Files.list(live)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, crashed.resolve(p.getFileName()));
                }
            }
        }
        release.countDown();
        creator.join();
        db.close();
        try (DB again = DB.open(crashed, Options.defaults(), List.of())) {
            ColumnFamilyHandle y = again.createColumnFamily("y", ColumnFamilyOptions.defaults());
            assertNull(again.get(y, b("k")), "a new family holds a key written to another before the crash");
        }
    }

    /**
     * A new replica of a primary whose default family has a TTL, opened without one: the default
     * family's values are returned with their TTL stamps (a restart of the same replica then refuses
     * to open with the same options).
     */
    @Test
    void aNewReplicaReadsTheDefaultFamilyOfATtlPrimaryWithoutStamps() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7192";
        Options o = Options.defaults().shardCount(1).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
        try (DB p = DB.open(dir.resolve("p"), o.copy().ttl(Duration.ofHours(1)).replicationListen(addr, secret),
                List.of(new ColumnFamilyDescriptor("cf")));
                Replica r = DB.openReplica(dir.resolve("r"), o.copy().replicaOf(addr, secret), List.of())) {
            p.put(b("k"), b("value"));
            p.put(p.columnFamily("cf"), b("k"), b("value"));
            ReplicationTest.awaitInSync((DBImpl) p, r);
            assertArrayEquals(b("value"), r.get(r.columnFamily("cf"), b("k")), "cf (no ttl) reads fine");
            assertArrayEquals(b("value"), r.get(b("k")), "the default family's value, unstamped");
        }
    }
    /**
     * ReplicaDB.promote reopens "with the options it read them with" (descriptorsButDefault), but the
     * default family's descriptor is left out: a replica that read its default family with an
     * operator from a "default" descriptor is promoted to a primary whose default family has none.
     */
    @Test
    void promoteKeepsTheDefaultFamilysDescriptor() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7193";
        Options o = Options.defaults().shardCount(1).replicationProvider(loop)
                .replicationAckTimeout(Duration.ofSeconds(5));
        List<ColumnFamilyDescriptor> withDefault = List.of(new ColumnFamilyDescriptor(DB.DEFAULT_COLUMN_FAMILY,
                ColumnFamilyOptions.defaults().mergeOperator(io.o3lsm.MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("cf"));
        DB promoted = null;
        try (DB p = DB.open(dir.resolve("p"), o.copy().replicationListen(addr, secret), withDefault)) {
            Replica r = DB.openReplica(dir.resolve("r"), o.copy().replicaOf(addr, secret), withDefault);
            p.merge(b("k"), io.o3lsm.MergeOperators.int64(5));
            ReplicationTest.awaitInSync((DBImpl) p, r);
            org.junit.jupiter.api.Assertions.assertEquals(5, io.o3lsm.MergeOperators.int64(r.get(b("k"))));
            p.close();
            promoted = r.promote(o.copy().replicationProvider(null));
        }
        try (DB d = promoted) {
            org.junit.jupiter.api.Assertions.assertEquals(5, io.o3lsm.MergeOperators.int64(d.get(b("k"))),
                    "the promoted primary reads its default family with the operator the replica used");
        }
    }
    /**
     * A family over its own write buffer has its shards sealed after the write returned from the
     * queue (Families.afterWrite, FlushScheduler.sealRanges). Waiting there for memtable memory, the
     * writer gets the failure of a flush it had nothing to do with — though its own write is applied
     * (and in the WAL): the caller is told it failed.
     */
    @Test
    void aWriteThatWasAppliedIsNotReportedFailedBySealingItsFamily() throws Exception {
        CountDownLatch sstCreation = new CountDownLatch(1);
        CountDownLatch fail = new CountDownLatch(1);
        FileSystem fs = new ForwardingFileSystem() {
            @Override
            public WritableFile newWritableFile(Path path) throws IOException {
                if (path.getFileName().toString().endsWith(".sst")) {
                    sstCreation.countDown();
                    try {
                        fail.await();
                    } catch (InterruptedException ex) {
                        throw new IOException(ex);
                    }
                    throw new IOException("No space left on device (injected)");
                }
                return super.newWritableFile(path);
            }
        };
        Options o = Options.defaults().fileSystem(fs).shardCount(1).shardArenaSize(64 * 1024)
                .writeBufferSize(128 * 1024);
        DB db = DB.open(dir.resolve("wb"), o, List.of(new ColumnFamilyDescriptor("small",
                ColumnFamilyOptions.defaults().writeBufferSize(96 * 1024))));
        ColumnFamilyHandle small = db.columnFamily("small");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<String> lastKey = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 200; i++) {
                    lastKey.set("k" + i);
                    db.put(small, b("k" + i), new byte[1000]);
                }
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        writer.start();
        // the writer waits for memory inside sealRanges once its family is over its write buffer
        long deadline = System.nanoTime() + 20_000_000_000L;
        boolean inSeal = false;
        while (!inSeal && System.nanoTime() < deadline && writer.isAlive()) {
            Thread.sleep(20);
            for (StackTraceElement f : writer.getStackTrace()) {
                inSeal |= f.getMethodName().equals("sealRanges");
            }
            inSeal &= writer.getState() == Thread.State.WAITING;
        }
        org.junit.jupiter.api.Assertions.assertTrue(inSeal, "the writer waits in sealRanges");
        fail.countDown(); // the flush fails: a background error
        writer.join();
        org.junit.jupiter.api.Assertions.assertNotNull(thrown.get());
        byte[] v = db.get(small, b(lastKey.get()));
        try {
            db.close();
        } catch (RuntimeException ignored) {
            // the background error
        }
        org.junit.jupiter.api.Assertions.assertNull(v == null ? null : v.length + " bytes", "put(" + lastKey.get() + ") threw " + thrown.get()
                + " but its value is in the DB");
    }
}
