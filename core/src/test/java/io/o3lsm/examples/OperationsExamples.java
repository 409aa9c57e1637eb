package io.o3lsm.examples;

import io.o3lsm.BackupEngine;
import io.o3lsm.BackupInfo;
import io.o3lsm.DB;
import io.o3lsm.IngestOptions;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import io.o3lsm.Secondary;
import io.o3lsm.SstFileWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The examples of docs/operations/checkpoints.md, docs/operations/read-only.md,
 * docs/operations/secondary.md and docs/operations/backups.md, run by DocsExampleTest.
 */
final class OperationsExamples {
    private OperationsExamples() {
    }

    /** Takes a checkpoint of a live DB and opens it; returns what the copy holds. */
    static String checkpoint(Path dir, Path backups) {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        byte[] value;
        // DOCS:operations/checkpoints/take begin
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(key, "before".getBytes(StandardCharsets.UTF_8));
            long seq = db.checkpoint(backups.resolve("2026-12-24"));   // a new directory; writes go on meanwhile
            db.put(key, "after".getBytes(StandardCharsets.UTF_8));     // numbered after seq: not in the checkpoint
        }
        try (DB copy = DB.open(backups.resolve("2026-12-24"), Options.defaults())) {
            value = copy.get(key);                                    // "before": an ordinary DB of its own
        }
        // DOCS:operations/checkpoints/take end
        return new String(value, StandardCharsets.UTF_8);
    }

    /** Reads a DB read-only while it is open read-write; returns what it saw and the refusal. */
    static String readOnly(Path dir) {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        try (DB writer = DB.open(dir, Options.defaults())) {
            writer.put(key, "v".getBytes(StandardCharsets.UTF_8));
            String refused = null;
            // DOCS:operations/read-only/open begin
            try (DB ro = DB.openReadOnly(dir, Options.defaults())) {   // no LOCK, no file written
                byte[] v = ro.get(key);                               // the DB as of the open, WAL included
                try {
                    ro.put(key, v);
                } catch (ReadOnlyException e) {                       // "put refused: DB … is open read-only …"
                    refused = e.getMessage();
                }
            }
            // DOCS:operations/read-only/open end
            return new String(writer.get(key), StandardCharsets.UTF_8) + " " + refused.startsWith("put refused");
        }
    }

    /** Follows a live DB with a secondary; returns what it saw before and after catching up. */
    static String secondary(Path dir) {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        try (DB primary = DB.open(dir, Options.defaults())) {
            primary.put(key, "v1".getBytes(StandardCharsets.UTF_8));
            byte[] before;
            byte[] after;
            // DOCS:operations/secondary/follow begin
            try (Secondary secondary = DB.openSecondary(dir, Options.defaults())) { // no LOCK, no file written
                primary.put(key, "v2".getBytes(StandardCharsets.UTF_8));
                before = secondary.get(key);                  // "v1": the view of the open
                long seq = secondary.tryCatchUp();            // every write acknowledged before the call
                after = secondary.get(key);                   // "v2", at sequence seq
            }
            // DOCS:operations/secondary/follow end
            return new String(before, StandardCharsets.UTF_8) + " " + new String(after, StandardCharsets.UTF_8);
        }
    }

    /** Backs up a live DB twice, verifies, purges and restores; returns what the restored DB holds. */
    static String backup(Path dir, Path backupDir, Path restored) {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        // DOCS:operations/backups/create begin
        try (DB db = DB.open(dir, Options.defaults());
                BackupEngine backups = BackupEngine.open(backupDir)) {     // created if missing; locked while open
            db.put(key, "v1".getBytes(StandardCharsets.UTF_8));
            BackupInfo first = backups.createBackup(db);                  // writes go on meanwhile
            db.put(key, "v2".getBytes(StandardCharsets.UTF_8));
            db.flush();
            BackupInfo second = backups.createBackup(db);                 // copies only tables the first lacks
            backups.verify(second.id());                                  // CorruptionException naming a bad file
            backups.purgeOldBackups(1);                                   // keeps the newest: [second]
        }
        // DOCS:operations/backups/create end
        byte[] value;
        // DOCS:operations/backups/restore begin
        try (BackupEngine backups = BackupEngine.open(backupDir)) {
            BackupInfo newest = backups.listBackups().get(backups.listBackups().size() - 1);
            backups.restore(newest.id(), restored);                       // a new or empty directory
        }
        try (DB db = DB.open(restored, Options.defaults())) {              // the DB as of newest.sequence()
            value = db.get(key);                                          // "v2"
        }
        // DOCS:operations/backups/restore end
        return new String(value, StandardCharsets.UTF_8);
    }
    /** Writes a sorted file with SstFileWriter and ingests it; returns what the DB then holds. */
    static String ingest(Path dir, Path staging) {
        Options options = Options.defaults();
        String result;
        // DOCS:operations/bulk-ingest/write-and-ingest begin
        Path file = staging.resolve("users-0001.sst");
        try (SstFileWriter w = SstFileWriter.open(file, options)) {
            for (int i = 0; i < 1000; i++) {                         // keys strictly increasing
                w.put(String.format("user:%04d", i).getBytes(StandardCharsets.UTF_8),
                        ("name-" + i).getBytes(StandardCharsets.UTF_8));
            }
            SstFileWriter.Info info = w.finish();                    // synced and closed; info.entries() == 1000
        }
        try (DB db = DB.open(dir, options)) {
            db.put("user:0007".getBytes(StandardCharsets.UTF_8), "older".getBytes(StandardCharsets.UTF_8));
            db.ingest(List.of(file), IngestOptions.defaults());     // all 1000 keys appear at once
            result = new String(db.get("user:0007".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        }                                                            // "name-7": the ingest is newer
        // DOCS:operations/bulk-ingest/write-and-ingest end
        return result;
    }
}
