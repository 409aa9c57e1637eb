package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.DBIterator;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.Secondary;
import io.o3lsm.Snapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The secondary instance at its edges: a DB recreated under it, refusals, dropped families, leaked iterators, close with reads in flight. */
@Timeout(120)
class SecondaryEdgeCaseTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void wipe(Path db) throws Exception {
        try (Stream<Path> files = Files.list(db)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.delete(p);
            }
        }
    }

    /**
     * The block cache outlives the views and is keyed by file number only. A DB recreated in the same
     * directory (wiped, or a backup restored there, while the secondary stays open) numbers its tables
     * from the start again: the secondary then serves the old DB's cached blocks for the new DB's table.
     */
    @Test
    void aDbRecreatedInTheSameDirectoryIsNotServedFromTheOldDbsCachedBlocks() throws Exception {
        Path db = dir.resolve("db");
        try (DB primary = DB.open(db, Options.defaults())) {
            primary.put(b("k"), b("old"));
            primary.flush();
        }
        try (Secondary sec = DB.openSecondary(db, Options.defaults())) {
            assertEquals("old", s(sec.get(b("k")))); // the table's data block is now cached
            wipe(db);
            try (DB primary = DB.open(db, Options.defaults())) {
                primary.put(b("k"), b("new"));
                primary.flush(); // the same table number as the old DB's
                primary.put(b("w"), b("in the WAL, so the fingerprint differs"));
                sec.tryCatchUp();
                assertEquals("in the WAL, so the fingerprint differs", s(sec.get(b("w"))), "the new view is installed");
                assertEquals("new", s(sec.get(b("k"))), "read from the new DB's table, not the old DB's cached block");
            }
        }
    }

    /**
     * The fingerprint (names and sizes of CURRENT, MANIFESTs, WALs) is not an identity: a DB recreated
     * with the same shape of writes has the same names and sizes, and tryCatchUp keeps the old view.
     */
    @Test
    void aDbRecreatedWithTheSameFileNamesAndSizesIsCaughtUpWith() throws Exception {
        Path db = dir.resolve("db");
        try (DB primary = DB.open(db, Options.defaults().blockCacheSize(0))) {
            primary.put(b("k"), b("old"));
        }
        try (Secondary sec = DB.openSecondary(db, Options.defaults().blockCacheSize(0))) {
            assertEquals("old", s(sec.get(b("k"))));
            long seq = sec.sequence();
            wipe(db);
            try (DB primary = DB.open(db, Options.defaults().blockCacheSize(0))) {
                primary.put(b("k"), b("new"));
                assertEquals(seq, sec.tryCatchUp());
                assertEquals("new", s(sec.get(b("k"))), "the recreated DB's write, acknowledged before tryCatchUp");
            }
        }
    }

    /** DB.ingest says ReadOnlyException on a read-only DB or a replica; WriteRefusingDB does not refuse it. */
    @Test
    void ingestIsRefusedWithReadOnlyExceptionOnASecondaryAndAReadOnlyOpen() throws Exception {
        Path db = dir.resolve("db");
        try (DB primary = DB.open(db, Options.defaults())) {
            primary.put(b("a"), b("1"));
        }
        List<Path> files = List.of(dir.resolve("x.sst"));
        try (Secondary sec = DB.openSecondary(db, Options.defaults()); DB ro = DB.openReadOnly(db, Options.defaults())) {
            assertThrows(ReadOnlyException.class, () -> sec.ingest(files, IngestOptions.defaults()), "secondary");
            assertThrows(ReadOnlyException.class, () -> ro.ingest(files, IngestOptions.defaults()), "read-only");
            assertThrows(ReadOnlyException.class, () -> sec.ingest(sec.defaultColumnFamily(), files,
                    IngestOptions.defaults()), "secondary, family");
        }
    }

    /**
     * DB.openSecondary: a family the primary drops "disappears at the catch-up that sees the drop (its
     * handles then fail with IllegalArgumentException)". Resolved by name, a handle of a dropped family
     * silently reads a new family of the same name.
     */
    @Test
    void aHandleOfADroppedFamilyDoesNotReadANewFamilyOfTheSameName() throws Exception {
        Path db = dir.resolve("db");
        List<ColumnFamilyDescriptor> fams = List.of(new ColumnFamilyDescriptor("users", ColumnFamilyOptions.defaults()));
        try (DB primary = DB.open(db, Options.defaults().createMissingColumnFamilies(true), fams);
                Secondary sec = DB.openSecondary(db, Options.defaults(), fams)) {
            primary.put(primary.columnFamily("users"), b("ada"), b("old family"));
            sec.tryCatchUp();
            ColumnFamilyHandle users = sec.columnFamily("users");
            assertEquals("old family", s(sec.get(users, b("ada"))));
            primary.dropColumnFamily(primary.columnFamily("users"));
            ColumnFamilyHandle again = primary.createColumnFamily("users", ColumnFamilyOptions.defaults());
            primary.put(again, b("ada"), b("another family"));
            sec.tryCatchUp();
            assertThrows(IllegalArgumentException.class, () -> sec.get(users, b("ada")),
                    "the old handle's family was dropped; got " + safeGet(sec, users));
        }
    }

    private static String safeGet(Secondary sec, ColumnFamilyHandle h) {
        try {
            return s(sec.get(h, b("ada")));
        } catch (RuntimeException ex) {
            return ex.toString();
        }
    }

    /**
     * An iterator or snapshot the application drops without closing pins its whole view (engine,
     * memtables rebuilt from the WALs, every table file open) forever: nothing reclaims it when it
     * becomes unreachable, and each catch-up after such a leak adds one engine more.
     */
    @Test
    void anUnreachableUnclosedIteratorDoesNotPinItsViewForever() throws Exception {
        Path db = dir.resolve("db");
        try (DB primary = DB.open(db, Options.defaults()); Secondary sec = DB.openSecondary(db, Options.defaults())) {
            for (int i = 0; i < 5; i++) {
                primary.put(b("k" + i), b("v"));
                leakIterator(sec);
                sec.tryCatchUp();
            }
            java.lang.reflect.Field f = SecondaryDB.class.getDeclaredField("live");
            f.setAccessible(true);
            int live = ((Set<?>) f.get(sec)).size();
            // the collector finds them unreachable when it runs: give it up to 20 s
            for (long end = System.nanoTime() + 20_000_000_000L; live > 1 && System.nanoTime() < end; ) {
                System.gc();
                Thread.sleep(50);
                sec.get(b("k0"));
                live = ((Set<?>) f.get(sec)).size();
            }
            assertEquals(1, live, "views held open by unreachable iterators: " + (live - 1));
        }
    }

    private static void leakIterator(Secondary sec) {
        DBIterator it = sec.iterator();
        it.seekToFirst();
    }

    /**
     * close() while reads, iterators and snapshots are in flight: every in-flight or later use fails with
     * DBClosedException (or completes), and closing the iterators and snapshots afterwards throws nothing.
     */
    @Test
    void closeWhileReadsAreInFlightFailsThemOnlyWithDBClosedException() throws Exception {
        Path db = dir.resolve("db");
        try (DB primary = DB.open(db, Options.defaults())) {
            for (int i = 0; i < 2000; i++) {
                primary.put(b(String.format("k%06d", i)), b("v" + i));
                if (i % 500 == 499) {
                    primary.flush();
                }
            }
            for (int round = 0; round < 20; round++) {
                Secondary sec = DB.openSecondary(db, Options.defaults());
                Snapshot snap = sec.snapshot();
                DBIterator open = sec.iterator();
                open.seekToFirst();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> bad = new AtomicReference<>();
                Thread[] readers = new Thread[2];
                for (int t = 0; t < readers.length; t++) {
                    int seed = t;
                    readers[t] = new Thread(() -> {
                        int i = seed;
                        while (!stop.get()) {
                            try {
                                if (i % 3 == 0) {
                                    try (DBIterator it = sec.iterator()) {
                                        for (it.seekToFirst(); it.isValid(); it.next()) {
                                            it.value();
                                        }
                                    }
                                } else {
                                    assertNotNull(sec.get(b(String.format("k%06d", i % 2000))));
                                }
                            } catch (DBClosedException expected) {
                                // fine
                            } catch (Throwable ex) {
                                bad.compareAndSet(null, ex);
                                return;
                            }
                            i++;
                        }
                    });
                    readers[t].start();
                }
                Thread.sleep(20);
                sec.close();
                Thread.sleep(10);
                stop.set(true);
                for (Thread t : readers) {
                    t.join();
                }
                try {
                    open.next();
                } catch (DBClosedException expected) {
                    // fine
                } catch (Throwable ex) {
                    bad.compareAndSet(null, ex);
                }
                open.close();
                snap.close();
                if (bad.get() != null) {
                    bad.get().printStackTrace();
                    fail("round " + round + ": " + bad.get());
                }
            }
        }
        assertTrue(true);
    }
}
