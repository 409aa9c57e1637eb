package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.util.FamilyFunctions;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tables of a family-aware DB: no table holds two families' keys (flush and compaction cut
 * their outputs where the family changes), and each is written with its family's compression and
 * bloom bits.
 */
class FamilyTablesTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteEachFamilysKeysToTablesOfItsOwnWithItsTableOptions() throws Exception {
        Options o = Options.defaults().compression(Compression.NONE).bloomBitsPerKey(10).writeBufferSize(1 << 20)
                .shardArenaSize(64 << 10).targetFileSize(64 << 10).level0CompactionTrigger(2);
        try (DB db = DB.open(dir, o, List.of(
                new ColumnFamilyDescriptor("packed", ColumnFamilyOptions.defaults().compression(Compression.LZ4)
                        .bloomBitsPerKey(0)),
                new ColumnFamilyDescriptor("plain")))) {
            ColumnFamilyHandle packed = db.columnFamily("packed");
            ColumnFamilyHandle plain = db.columnFamily("plain");
            byte[] v = "a value that compresses well, a value that compresses well".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 6000; i++) { // interleaved: every memtable shard holds all three families
                byte[] k = String.format("key%06d", i).getBytes(StandardCharsets.UTF_8);
                db.put(k, v);
                db.put(packed, k, v);
                db.put(plain, k, v);
            }
            db.flush();
            checkTables((DBImpl) db, "after flush");
            db.compactRange(packed, null, null);
            db.compactRange(null, null);
            checkTables((DBImpl) db, "after compactions");
        }
    }

    @Test
    void shouldGiveADroppedFamilysRangeDeletionTablesOfItsOwn() throws Exception {
        Options o = Options.defaults().writeBufferSize(1 << 20).shardArenaSize(64 << 10).targetFileSize(64 << 10)
                .level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300);
        try (DB db = DB.open(dir, o, List.of(new ColumnFamilyDescriptor("a"), new ColumnFamilyDescriptor("b"),
                new ColumnFamilyDescriptor("c"), new ColumnFamilyDescriptor("d")))) {
            byte[] v = "v".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 100; i++) {
                byte[] k = String.format("k%03d", i).getBytes(StandardCharsets.UTF_8);
                db.put(db.columnFamily("a"), k, v);
                db.put(db.columnFamily("c"), k, v);
            }
            db.put(db.columnFamily("b"), v, v);
            db.put(db.columnFamily("d"), v, v);
            db.flush();
            // b lies between a and c, d after them: the drops' range deletions reach families without keys
            db.dropColumnFamily(db.columnFamily("b"));
            db.dropColumnFamily(db.columnFamily("d"));
            db.put(db.columnFamily("a"), "late".getBytes(StandardCharsets.UTF_8), v);
            db.put(db.columnFamily("c"), "late".getBytes(StandardCharsets.UTF_8), v);
            db.flush();
            DBImpl impl = (DBImpl) db;
            int tombstoneTables = 0;
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                for (FileMetaData f : impl.currentVersion().files(level)) {
                    Path p = dir.resolve(FileNames.table(f.number));
                    java.util.Set<Integer> families = new java.util.TreeSet<>();
                    try (FileSystem.ReadableFile file = FileSystem.local().newReadableFile(p);
                            TableReader r = TableReader.open(file, p.toString(), f.number);
                            io.o3lsm.format.InternalIterator it = r.iterator()) {
                        for (it.seekToFirst(); it.isValid(); it.next()) {
                            byte[] k = new byte[it.key().capacity()];
                            it.key().getBytes(0, k);
                            families.add(FamilyFunctions.familyOf(k));
                        }
                        for (io.o3lsm.format.RangeTombstone t : r.rangeTombstones()) {
                            families.add(FamilyFunctions.familyOf(t.start));
                            tombstoneTables++;
                        }
                    }
                    assertEquals(1, families.size(), "table " + f.number + " holds families " + families);
                }
            }
            assertEquals(2, tombstoneTables, "one table for each dropped family's range deletion");
        }
    }

    private void checkTables(DBImpl db, String when) throws Exception {
        Engine e = db.engine();
        Version v = db.currentVersion();
        Map<Integer, Integer> tablesPerFamily = new HashMap<>();
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : v.files(level)) {
                int first = FamilyFunctions.familyOf(f.smallest);
                int last = FamilyFunctions.familyOf(f.largest);
                assertEquals(first, last, "table " + f.number + " holds two families' keys " + when);
                tablesPerFamily.merge(first, 1, Integer::sum);
                Path p = dir.resolve(FileNames.table(f.number));
                try (FileSystem.ReadableFile file = FileSystem.local().newReadableFile(p);
                        TableReader r = TableReader.open(file, p.toString(), f.number)) {
                    TableProperties props = r.properties();
                    boolean isPacked = first == 1;
                    assertEquals(isPacked ? Compression.LZ4 : Compression.NONE, props.compression(),
                            "table " + f.number + " of family " + first + " " + when);
                    assertEquals(isPacked ? 0 : 10, props.bloomBitsPerKey(), "table " + f.number + " " + when);
                }
            }
        }
        assertEquals(3, tablesPerFamily.size(), "tables of every family " + when + ": " + tablesPerFamily);
        assertTrue(e.families != null);
    }
}
