package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dropping a family while other threads write to it: every write that was not refused is covered by
 * the drop's range deletion (no write is queued behind it), so once compactions reach the family's
 * keys nothing of it is left in the stored keys; the other family keeps every write.
 */
class FamilyDropTest {
    @TempDir
    Path dir;

    @RepeatedTest(3)
    void shouldLeaveNothingOfAFamilyDroppedDuringWritesToIt() throws Exception {
        Options o = Options.defaults().writeBufferSize(1 << 20).shardArenaSize(64 << 10);
        try (DB db = DB.open(dir, o, List.of(new ColumnFamilyDescriptor("doomed"), new ColumnFamilyDescriptor("kept")))) {
            ColumnFamilyHandle doomed = db.columnFamily("doomed");
            ColumnFamilyHandle kept = db.columnFamily("kept");
            AtomicInteger written = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        for (int i = 0;; i++) {
                            byte[] k = ("w" + id + "-" + i).getBytes(StandardCharsets.UTF_8);
                            try (WriteBatch b = new WriteBatch()) {
                                db.write(b.put(kept, k, k).put(doomed, k, k)); // both or neither
                                written.incrementAndGet();
                            } catch (IllegalArgumentException ex) {
                                assertTrue(ex.getMessage().contains("was dropped") || ex.getMessage().contains("does not have"),
                                        ex.getMessage());
                                refused.incrementAndGet();
                                return;
                            }
                        }
                    } catch (Throwable ex) {
                        failure.set(ex);
                    }
                });
                th.start();
                writers.add(th);
            }
            while (written.get() < 20_000) {
                Thread.sleep(1);
            }
            db.dropColumnFamily(doomed);
            for (Thread th : writers) {
                th.join(30_000);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(4, refused.get(), "each writer was refused once the family was dropped");
            DBImpl impl = (DBImpl) db;
            Engine e = impl.engine();
            db.flush();
            e.compactions.compactRange(null, null); // every stored key, every family
            int doomedPrefix = 0;
            int keptKeys = 0;
            try (DBIterator it = e.reads.iterator(ReadOptions.defaults())) { // stored keys, prefixes and all
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] k = it.key();
                    if (k[0] == (byte) doomed.id()) {
                        doomedPrefix++;
                    } else if (k[0] == (byte) kept.id()) {
                        keptKeys++;
                    }
                }
            }
            assertEquals(0, doomedPrefix, "keys of the dropped family left after " + written.get() + " writes");
            assertEquals(written.get(), keptKeys, "the kept family has every acknowledged write");
        }
    }

    /**
     * A drop is durable when it returns, its range deletion included (the MANIFEST forgets the family
     * only after): a copy of the directory taken then, as a crash would leave it, holds none of the
     * family's keys once compacted — with the WAL flushed only by hand, too.
     */
    @org.junit.jupiter.api.Test
    void shouldMakeADropsRangeDeletionDurableBeforeTheManifestForgetsTheFamily() throws Exception {
        Options o = Options.defaults().manualWalFlush(true);
        Path copy = dir.resolve("copy");
        Path db1 = dir.resolve("db");
        try (DB db = DB.open(db1, o, List.of(new ColumnFamilyDescriptor("a")))) {
            ColumnFamilyHandle a = db.columnFamily("a");
            for (int i = 0; i < 1000; i++) {
                db.put(a, ("k" + i).getBytes(StandardCharsets.UTF_8), new byte[10]);
            }
            db.flush();
            db.dropColumnFamily(a);
            java.nio.file.Files.createDirectories(copy);
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(db1)) {
                for (Path f : files.toList()) {
                    if (!f.getFileName().toString().equals("LOCK")) {
                        java.nio.file.Files.copy(f, copy.resolve(f.getFileName()));
                    }
                }
            }
        }
        try (DB db = DB.open(copy, o, List.of())) {
            assertEquals(List.of("default"), db.listColumnFamilies());
            Engine e = ((DBImpl) db).engine();
            e.compactions.compactRange(null, null);
            int left = 0;
            try (DBIterator it = e.reads.iterator(ReadOptions.defaults())) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    left++;
                }
            }
            assertEquals(0, left, "stored keys left of the dropped family");
        }
    }
}
