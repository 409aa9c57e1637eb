package io.o3lsm.examples;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.ReadOnlyException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The examples of docs/operations/checkpoints.md and docs/operations/read-only.md, run by DocsExampleTest. */
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
}
