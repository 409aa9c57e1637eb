package io.o3lsm;

import static io.o3lsm.DBTest.b;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.internal.db.DBImpl;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leveled compaction seen through the public API. */
class CompactionTest {
    @TempDir
    Path dir;

    static Options tiny() {
        return Options.defaults().writeBufferSize(512 << 10).shardArenaSize(64 << 10).shardCount(2)
                .targetFileSize(64 << 10).blockSize(512).maxBytesForLevelBase(1 << 20).level0CompactionTrigger(2);
    }

    static String k(int i) {
        return String.format("key%06d", i);
    }

    @Test
    void shouldCompactIntoDeeperLevelsAndKeepEveryValue() {
        try (DB db = DB.open(dir, tiny())) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 20000; i++) {
                    db.put(b(k(i)), b("v" + round + "-" + i));
                }
            }
            ((DBImpl) db).waitForFlushes();
            ((DBImpl) db).waitForCompactions();
            DBStats st = db.stats();
            int deeper = 0;
            for (int l = 1; l < st.levels(); l++) {
                deeper += st.filesAtLevel(l);
            }
            assertTrue(deeper > 0, "compaction moved data below L0: " + st);
            assertTrue(st.compactions() > 0 && st.compactionBytesWritten() > 0, st.toString());
            assertTrue(st.writeAmplification() > 1.0, "WAL + flush + compaction over user bytes: " + st);
            for (int i = 0; i < 20000; i += 13) {
                assertArrayEquals(b("v2-" + i), db.get(b(k(i))));
            }
            assertTrue(db.property("o3.stats").contains("write amplification"));
            assertEquals(Integer.toString(st.filesAtLevel(0)), db.property("o3.num-files-at-level0"));
            assertThrows(IllegalArgumentException.class, () -> db.property("no.such.property"));
        }
    }

    @Test
    void shouldDropOverwrittenAndDeletedDataOnCompactRange() {
        try (DB db = DB.open(dir, tiny())) {
            for (int i = 0; i < 20000; i++) {
                db.put(b(k(i)), new byte[100]);
            }
            db.compactRange(null, null);
            long before = totalBytes(db.stats());
            db.deleteRange(b(k(0)), b(k(15000)));
            for (int i = 15000; i < 20000; i += 2) {
                db.delete(b(k(i)));
            }
            db.compactRange(null, null);
            long after = totalBytes(db.stats());
            assertTrue(after * 4 < before, "deleted data dropped from disk: " + before + " -> " + after);
            assertNull(db.get(b(k(10))));
            assertNull(db.get(b(k(15000))));
            assertArrayEquals(new byte[100], db.get(b(k(15001))));
            try (DBIterator it = db.iterator()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    n++;
                }
                assertEquals(2500, n);
            }
        }
    }

    private static long totalBytes(DBStats st) {
        long s = 0;
        for (int l = 0; l < st.levels(); l++) {
            s += st.bytesAtLevel(l);
        }
        return s;
    }

    @Test
    void shouldKeepAnOpenIteratorAndSnapshotReadableAcrossCompactions() throws IOException {
        try (DB db = DB.open(dir, tiny())) {
            for (int i = 0; i < 5000; i++) {
                db.put(b(k(i)), b("old" + i));
            }
            db.flush();
            Snapshot snap = db.snapshot();
            DBIterator it = db.iterator();
            it.seekToFirst();
            for (int i = 0; i < 5000; i++) {
                db.put(b(k(i)), b("new" + i));
            }
            db.deleteRange(b(k(0)), b(k(2500)));
            db.compactRange(null, null);
            // the files the iterator started on are gone from the current version
            int n = 0;
            for (; it.isValid(); it.next()) {
                assertArrayEquals(b("old" + n), it.value());
                n++;
            }
            assertEquals(5000, n);
            it.close();
            ReadOptions at = ReadOptions.defaults().snapshot(snap);
            assertArrayEquals(b("old7"), db.get(at, b(k(7))));
            assertNull(db.get(b(k(7))));
            assertArrayEquals(b("new4000"), db.get(b(k(4000))));
            snap.close();
            db.compactRange(null, null);
            assertNull(db.get(b(k(7))));
        }
        // the obsolete files were deleted once nothing pinned them
        try (DB db = DB.open(dir, tiny())) {
            List<Long> live = ((DBImpl) db).currentVersion().liveFiles();
            try (Stream<Path> s = Files.list(dir)) {
                List<String> ssts = s.map(p -> p.getFileName().toString()).filter(x -> x.endsWith(".sst"))
                        .collect(Collectors.toList());
                assertEquals(live.size(), ssts.size(), "only live tables on disk: " + ssts + " live " + live);
            }
        }
    }

    @Test
    void shouldReportCorruptionInACompactedSstAndNeverAWrongValue() throws IOException {
        Options o = tiny().compression(Compression.NONE).blockCacheSize(0);
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 20000; i++) {
                db.put(b(k(i)), b("value-" + i));
            }
            db.compactRange(null, null);
            DBStats st = db.stats();
            assertEquals(0, st.filesAtLevel(0), "everything compacted below L0");
        }
        Path victim;
        try (Stream<Path> s = Files.list(dir)) {
            victim = s.filter(p -> p.toString().endsWith(".sst")).sorted().findFirst().orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
            long off = f.length() / 3;
            f.seek(off);
            int v = f.read();
            f.seek(off);
            f.write(v ^ 0x04);
        }
        int corrupt = 0;
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 20000; i++) {
                try {
                    byte[] v = db.get(b(k(i)));
                    if (v == null) {
                        fail(k(i) + " vanished instead of reporting corruption");
                    }
                    assertArrayEquals(b("value-" + i), v);
                } catch (CorruptionException e) {
                    assertTrue(e.getMessage().contains(victim.getFileName().toString()), e.getMessage());
                    corrupt++;
                }
            }
            boolean iteratorFailed = false;
            try (DBIterator it = db.iterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    assertFalse(new String(it.value()).isEmpty());
                }
            } catch (CorruptionException e) {
                iteratorFailed = true;
            }
            assertTrue(iteratorFailed, "a full scan crosses the damaged block");
        }
        assertTrue(corrupt > 0, "the damaged block was reported");
    }
}
