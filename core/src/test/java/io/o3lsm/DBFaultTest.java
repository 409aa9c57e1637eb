package io.o3lsm;

import static io.o3lsm.DBTest.b;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** Corruption and I/O failures: typed errors, never a wrong value, nothing acknowledged lost. */
class DBFaultTest {
    @TempDir
    Path dir;

    private List<Path> files(String suffixOrPrefix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffixOrPrefix)
                    || p.getFileName().toString().startsWith(suffixOrPrefix)).sorted().collect(Collectors.toList());
        }
    }

    private static void flipBit(Path p, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(offset);
            int v = f.read();
            f.seek(offset);
            f.write(v ^ 0x10);
        }
    }

    @Test
    void shouldReportAFlippedBitInTheMiddleOfTheWal() throws IOException {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < 200; i++) {
                db.put(b("key" + i), b("value-" + i));
            }
        }
        Path log = files(".log").get(0);
        flipBit(log, Files.size(log) / 2);
        CorruptionException e = assertThrows(CorruptionException.class, () -> DB.open(dir, Options.defaults()));
        assertTrue(e.getMessage().contains(log.getFileName().toString()), e.getMessage());
        assertTrue(e.offset() > 0);
    }

    @Test
    void shouldRecoverUpToTheLastWholeRecordOfATruncatedWal() throws IOException {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < 200; i++) {
                db.put(b("key" + i), b("value-" + i));
            }
        }
        Path log = files(".log").get(0);
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(f.length() - 5); // cut into the last record
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            boolean missingSeen = false;
            int present = 0;
            for (int i = 0; i < 200; i++) {
                byte[] v = db.get(b("key" + i));
                if (v == null) {
                    missingSeen = true;
                } else {
                    assertFalse(missingSeen, "a hole: key" + i + " present after a missing key");
                    assertArrayEquals(b("value-" + i), v);
                    present++;
                }
            }
            assertTrue(present == 199, "exactly the torn last record is dropped, present=" + present);
        }
    }

    @Test
    void shouldReportAFlippedBitInAnSstAndNeverReturnAWrongValue() throws IOException {
        Options o = DBTest.small().compression(Compression.NONE);
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 5000; i++) {
                db.put(b(String.format("key%05d", i)), b("value-" + i));
            }
            ((DBImpl) db).waitForFlushes();
        }
        try (DB db = DB.open(dir, o)) {
            // reopen moved the WAL tail into an SST too
        }
        List<Path> ssts = files(".sst");
        assertFalse(ssts.isEmpty());
        Path victim = ssts.get(0);
        flipBit(victim, Files.size(victim) / 3);
        int corruptions = 0;
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 5000; i++) {
                try {
                    byte[] v = db.get(b(String.format("key%05d", i)));
                    if (v != null) {
                        assertArrayEquals(b("value-" + i), v, "wrong value for key" + i);
                    } else {
                        fail("key" + i + " vanished instead of reporting corruption");
                    }
                } catch (CorruptionException e) {
                    assertTrue(e.getMessage().contains(victim.getFileName().toString()), e.getMessage());
                    corruptions++;
                }
            }
        }
        assertTrue(corruptions > 0, "the flipped bit was never reported");
    }

    @Test
    void shouldReportAFlippedBitInTheManifest() throws IOException {
        try (DB db = DB.open(dir, DBTest.small())) {
            for (int i = 0; i < 20000; i++) {
                db.put(b("key" + i), new byte[100]);
            }
            ((DBImpl) db).waitForFlushes();
        }
        Path manifest = files("MANIFEST-").get(0);
        flipBit(manifest, 40); // inside the first record (the snapshot), followed by flush edits
        CorruptionException e = assertThrows(CorruptionException.class, () -> DB.open(dir, DBTest.small()));
        assertTrue(e.getMessage().contains("MANIFEST"), e.getMessage());
    }

    @Test
    void shouldRefuseWritesAfterAWalWriteFailureAndLoseNothingAcknowledged() {
        FaultInjectingFileSystem fs = new FaultInjectingFileSystem();
        Options o = Options.defaults().fileSystem(fs);
        int acked = 0;
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < 500; i++) {
                db.put(b("key" + i), b("v" + i));
                acked++;
            }
            fs.failAppendsTo(n -> n.endsWith(".log"));
            O3Exception e = assertThrows(O3Exception.class, () -> db.put(b("doomed"), b("x")));
            assertTrue(e.getMessage().contains("WAL"), e.getMessage());
            fs.heal();
            e = assertThrows(O3Exception.class, () -> db.put(b("after"), b("y")));
            assertTrue(e.getMessage().contains("refuses"), e.getMessage());
            assertArrayEquals(b("v3"), db.get(b("key3")), "reads still work");
        } catch (O3Exception closeFailure) {
            // close may report the broken WAL; the data check below is what matters
        }
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < acked; i++) {
                assertArrayEquals(b("v" + i), db.get(b("key" + i)));
            }
            assertNull(db.get(b("after")));
        }
    }

    @Test
    void shouldRefuseWritesAfterAFlushFailureAndRecoverOnReopen() {
        FaultInjectingFileSystem fs = new FaultInjectingFileSystem();
        Options o = DBTest.small().fileSystem(fs);
        int acked = 0;
        try (DB db = DB.open(dir, o)) {
            fs.failCreationOf(n -> n.endsWith(".sst"));
            try {
                for (int i = 0; i < 200000; i++) {
                    db.put(b("key" + i), new byte[100]);
                    acked++;
                }
                fail("writes kept being accepted although no flush can succeed");
            } catch (O3Exception e) {
                assertTrue(e.getMessage().contains("flush") || e.getMessage().contains("refuses"), e.getMessage());
            }
        }
        assertTrue(acked > 100, "writes were accepted until the first flush failed: " + acked);
        try (DB db = DB.open(dir, DBTest.small())) {
            for (int i = 0; i < acked; i++) {
                assertArrayEquals(new byte[100], db.get(b("key" + i)), "key" + i);
            }
        }
    }
}
