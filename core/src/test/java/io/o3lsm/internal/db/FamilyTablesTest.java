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
