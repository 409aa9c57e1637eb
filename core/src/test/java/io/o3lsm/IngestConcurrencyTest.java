package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link DB#ingest} against concurrent writers, compactions and snapshots (docs/operations/bulk-ingest.md). */
@Timeout(120)
class IngestConcurrencyTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static final class Gates extends ForwardingFileSystem {
        final CountDownLatch compactionGate = new CountDownLatch(1);
        final Semaphore flushPermits = new Semaphore(Integer.MAX_VALUE);
        volatile boolean gateCompactions;
        volatile boolean gateFlushes;

        private void gate(Path path) {
            if (!path.getFileName().toString().endsWith(".sst")) {
                return;
            }
            String t = Thread.currentThread().getName();
            try {
                if (gateCompactions && (t.startsWith("o3lsm-compaction") || t.startsWith("o3lsm-subcompaction"))) {
                    compactionGate.await();
                } else if (gateFlushes && t.startsWith("o3lsm-flush")) {
                    flushPermits.acquire();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public WritableFile newWritableFile(Path path) throws IOException {
            gate(path);
            return super.newWritableFile(path);
        }

        @Override
        public WritableFile newWritableFileExclusive(Path path) throws IOException {
            gate(path);
            return super.newWritableFileExclusive(path);
        }
    }

    private static long sealed(DB db) {
        return Long.parseLong(db.property("o3.num-immutable-mem-table").trim());
    }

    /** Waits (up to 20 s) for a state the scenario needs before its next step, instead of a fixed sleep. */
    private static void await(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + 20_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    private static int l0Files(DB db) {
        return ((io.o3lsm.internal.db.DBImpl) db).currentVersion().files(0).size();
    }

    private static String s(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /**
     * A writer heading the queue is stalled at level0StopTrigger (WriteQueue.waitForL0), waiting for a
     * compaction; the ingest must not pause compactions before it heads the writer queue itself, or
     * each waits for the other forever.
     */
    @Test
    void shouldNotDeadlockWithAWriterStalledOnL0() throws Exception {
        Gates fs = new Gates();
        Options o = Options.defaults().writeBufferSize(512 << 10).shardArenaSize(64 << 10).shardCount(1)
                .level0CompactionTrigger(2).level0SlowdownTrigger(2).level0StopTrigger(3)
                .maxBackgroundCompactions(1).fileSystem(fs);
        Path in = dir.resolve("z.sst");
        try (SstFileWriter w = SstFileWriter.open(in, o)) {
            w.put(b("z1"), b("z"));
            w.finish();
        }
        DB db = DB.open(dir.resolve("db"), o);
        try {
            db.put(b("a"), b("1"));
            db.flush(); // f1
            fs.gateCompactions = true;
            db.put(b("a"), b("2"));
            db.flush(); // f2: C1 {f1, f2} starts and blocks
            Thread.sleep(300);
            fs.flushPermits.drainPermits();
            fs.gateFlushes = true;
            db.put(b("a"), b("3"));
            CompletableFuture<Void> x = CompletableFuture.runAsync(db::flush); // J3 {M3} blocks
            await(() -> sealed(db) >= 1, "M3 sealed");
            db.put(b("a"), b("4"));
            CompletableFuture<Void> y = CompletableFuture.runAsync(db::flush); // seals M4
            await(() -> sealed(db) >= 2, "M4 sealed");
            db.put(b("a"), b("5")); // M5 active
            fs.flushPermits.release(1); // f3; J4 {M4} blocks
            await(() -> l0Files(db) >= 3, "f3 installed");
            // J4 must have picked M4 alone before M5 is sealed, or it flushes both into one file
            await(fs.flushPermits::hasQueuedThreads, "J4 {M4} picked, waiting at the gate");
            CompletableFuture<Void> wf = CompletableFuture.runAsync(db::flush); // seals M5
            await(() -> sealed(db) >= 2, "M5 sealed beside M4");
            fs.flushPermits.release(1000); // f4, f5
            x.get(10, TimeUnit.SECONDS);
            y.get(10, TimeUnit.SECONDS);
            wf.get(10, TimeUnit.SECONDS);
            assertTrue(l0Files(db) >= 5, "L0 files " + l0Files(db));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> db.put(b("a"), b("6"))); // stalls on L0
            Thread.sleep(300);
            CompletableFuture<Void> ingest = CompletableFuture.runAsync(
                    () -> db.ingest(List.of(in), IngestOptions.defaults())); // pauses compactions, waits for C1
            Thread.sleep(300);
            fs.compactionGate.countDown(); // C1 finishes: L0 = f3, f4, f5 (depth 3 = stop)
            try {
                ingest.get(15, TimeUnit.SECONDS);
                writer.get(15, TimeUnit.SECONDS);
            } catch (TimeoutException ex) {
                fail("deadlock: ingest done=" + ingest.isDone() + ", stalled writer done=" + writer.isDone()
                        + ", L0 files " + l0Files(db));
            }
        } finally {
            fs.compactionGate.countDown();
            fs.flushPermits.release(1000);
            CompletableFuture.runAsync(db::close).get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * An ingest that keeps sequence 0 (no snapshot, nothing overlapping) releases the mutex between
     * that decision and the view swap (directory sync, MANIFEST write). A snapshot requested meanwhile
     * (here: during the directory sync) must see the same thing when taken and later: it waits for the
     * swap, then sees the ingested keys.
     */
    @Test
    void shouldGiveASnapshotTakenDuringTheInstallAStableView() throws Exception {
        AtomicReference<DB> ref = new AtomicReference<>();
        record Taken(Snapshot snap, String seenThen) {
        }
        AtomicReference<CompletableFuture<Taken>> taken = new AtomicReference<>();
        class Hook extends ForwardingFileSystem {
            volatile boolean armed;

            @Override
            public void syncDirectory(Path d) throws IOException {
                super.syncDirectory(d);
                if (armed) {
                    armed = false;
                    CompletableFuture<Taken> f = CompletableFuture.supplyAsync(() -> {
                        Snapshot snap = ref.get().snapshot();
                        return new Taken(snap, s(ref.get().get(ReadOptions.defaults().snapshot(snap), b("k001"))));
                    });
                    taken.set(f);
                    try {
                        f.get(300, TimeUnit.MILLISECONDS); // it waits for the view swap: give it a chance not to
                    } catch (TimeoutException expected) {
                        // waiting, as it should
                    } catch (Exception ex) {
                        throw new IOException(ex);
                    }
                }
            }
        }
        Hook fs = new Hook();
        Options o = Options.defaults().writeBufferSize(512 << 10).shardArenaSize(64 << 10).shardCount(2).fileSystem(fs);
        Path in = dir.resolve("k.sst");
        try (SstFileWriter w = SstFileWriter.open(in, o)) {
            for (int i = 0; i < 5; i++) {
                w.put(b(String.format("k%03d", i)), b("v" + i));
            }
            w.finish();
        }
        try (DB db = DB.open(dir.resolve("db"), o)) {
            ref.set(db);
            db.put(b("a"), b("x")); // lastSequence 1, another key range: the ingest keeps sequence 0
            fs.armed = true;
            db.ingest(List.of(in), IngestOptions.defaults());
            Taken t = taken.get().get(10, TimeUnit.SECONDS);
            try (Snapshot snap = t.snap()) {
                assertEquals(t.seenThen(), s(db.get(ReadOptions.defaults().snapshot(snap), b("k001"))),
                        "the same snapshot sees something else after the install");
                assertEquals("v1", t.seenThen(), "the snapshot waited for the view swap");
            }
        }
    }
}
