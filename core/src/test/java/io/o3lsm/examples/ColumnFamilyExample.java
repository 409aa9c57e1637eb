package io.o3lsm.examples;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The examples of docs/column-families.md, compiled and run by DocsExampleTest. The steps share one
 * DB directory and run in order: {@link #open}, {@link #batch}, {@link #iterate}, {@link #drop},
 * {@link #reopen}; each returns what it read, which the test checks.
 */
final class ColumnFamilyExample {
    private ColumnFamilyExample() {
    }

    /** The families the examples open the DB with. */
    static List<ColumnFamilyDescriptor> families() {
        // DOCS:column-families/descriptors begin
        List<ColumnFamilyDescriptor> families = List.of(
                new ColumnFamilyDescriptor("users"),
                new ColumnFamilyDescriptor("users-by-email"),
                new ColumnFamilyDescriptor("counters",
                        ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())),
                new ColumnFamilyDescriptor("sessions",
                        ColumnFamilyOptions.defaults().ttl(Duration.ofMinutes(30))));
        // DOCS:column-families/descriptors end
        return families;
    }

    /**
     * Creates the DB with its families and writes to each; returns
     * "[default, users, users-by-email, counters, sessions] Ada/Ada Lovelace/2/open/null".
     */
    static String open(Path dir) {
        List<ColumnFamilyDescriptor> families = families();
        String read;
        // DOCS:column-families/open begin
        AtomicLong now = new AtomicLong(1_700_000_000_000L);        // a fake clock, for the TTL family
        try (DB db = DB.open(dir, Options.defaults().clock(now::get), families)) {   // creates all five
            ColumnFamilyHandle users = db.columnFamily("users");
            ColumnFamilyHandle counters = db.columnFamily("counters");
            ColumnFamilyHandle sessions = db.columnFamily("sessions");

            db.put(users, bytes("42"), bytes("Ada"));
            db.put(bytes("42"), bytes("Ada Lovelace"));              // the same key in the default family
            db.merge(counters, bytes("logins:42"), MergeOperators.int64(1));
            db.merge(counters, bytes("logins:42"), MergeOperators.int64(1));
            db.put(sessions, bytes("s-9f2c"), bytes("open"));

            String user = string(db.get(users, bytes("42")));                        // "Ada"
            String full = string(db.get(bytes("42")));                               // "Ada Lovelace"
            long logins = MergeOperators.int64(db.get(counters, bytes("logins:42"))); // 2
            String session = string(db.get(sessions, bytes("s-9f2c")));             // "open"
            now.addAndGet(Duration.ofMinutes(31).toMillis());
            String expired = string(db.get(sessions, bytes("s-9f2c")));             // null: past its TTL
            read = db.listColumnFamilies() + " " + user + "/" + full + "/" + logins + "/" + session + "/" + expired;
        }
        // DOCS:column-families/open end
        return read;
    }

    /** Reopens the DB and writes a user and its index entry atomically; returns "43 Grace". */
    static String batch(Path dir) {
        List<ColumnFamilyDescriptor> families = families();
        String read;
        // DOCS:column-families/batch begin
        try (DB db = DB.open(dir, Options.defaults(), families)) {   // a reopen names the families again
            ColumnFamilyHandle users = db.columnFamily("users");
            ColumnFamilyHandle byEmail = db.columnFamily("users-by-email");
            try (WriteBatch batch = new WriteBatch()) {                 // one WAL record: both or neither
                batch.put(users, bytes("43"), bytes("Grace"))
                        .put(byEmail, bytes("grace@example.com"), bytes("43"));
                db.write(batch);
            }
            byte[] id = db.get(byEmail, bytes("grace@example.com"));   // "43"
            byte[] name = db.get(users, id);                            // "Grace"
            read = string(id) + " " + string(name);
        }
        // DOCS:column-families/batch end
        return read;
    }

    /** Iterates one family at a snapshot; returns "42=Ada 43=Grace | 43 | Edsger". */
    static String iterate(Path dir) {
        List<ColumnFamilyDescriptor> families = families();
        try (DB db = DB.open(dir, Options.defaults(), families)) {
            ColumnFamilyHandle users = db.columnFamily("users");
            ColumnFamilyHandle byEmail = db.columnFamily("users-by-email");
            // DOCS:column-families/iterate begin
            List<String> seen = new ArrayList<>();
            String indexed;
            try (Snapshot snap = db.snapshot()) {                       // one point in time, every family
                db.put(users, bytes("44"), bytes("Edsger"));            // after the snapshot: not seen below
                db.put(byEmail, bytes("edsger@example.com"), bytes("44"));
                ReadOptions then = ReadOptions.defaults().snapshot(snap);
                try (DBIterator it = db.iterator(then, users)) {       // the family's keys only, as written
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        seen.add(string(it.key()) + "=" + string(it.value()));   // "42=Ada", "43=Grace"
                    }
                }
                indexed = string(db.get(then, byEmail, bytes("grace@example.com")));   // "43"
            }
            // DOCS:column-families/iterate end
            return String.join(" ", seen) + " | " + indexed + " | " + string(db.get(users, bytes("44")));
        }
    }

    /**
     * Creates a family, fills it, drops it; returns
     * "[default, users, users-by-email, counters, sessions, scratch] 5 null refused".
     */
    static String drop(Path dir) {
        List<ColumnFamilyDescriptor> families = families();
        try (DB db = DB.open(dir, Options.defaults(), families)) {
            // DOCS:column-families/drop begin
            ColumnFamilyHandle scratch = db.createColumnFamily("scratch", ColumnFamilyOptions.defaults());
            for (int i = 0; i < 1000; i++) {
                db.put(scratch, bytes("tmp:" + i), bytes("x"));
            }
            List<String> before = db.listColumnFamilies();        // [default, ..., sessions, scratch]
            db.dropColumnFamily(scratch);                         // one range deletion, one MANIFEST edit
            ColumnFamilyHandle gone = db.columnFamily("scratch");  // null: the name is free again
            // from now on every call naming scratch throws IllegalArgumentException
            // DOCS:column-families/drop end
            String refused;
            try {
                db.get(scratch, bytes("tmp:1"));
                refused = "read";
            } catch (IllegalArgumentException e) {
                refused = "refused";
            }
            return before + " " + scratch.id() + " " + gone + " " + refused;
        }
    }

    /**
     * Reopens without naming every family (refused), then adds one with createMissingColumnFamilies;
     * returns "refused [default, users, users-by-email, counters, sessions, audit] 6".
     */
    static String reopen(Path dir) {
        String refused;
        List<String> names;
        int auditId;
        // DOCS:column-families/reopen begin
        try (DB db = DB.open(dir, Options.defaults(), List.of(new ColumnFamilyDescriptor("users")))) {
            refused = "opened";
        } catch (IllegalArgumentException e) {   // "... has column families [users-by-email, counters,
            refused = "refused";                 //  sessions] that the open does not name ..."
        }

        List<ColumnFamilyDescriptor> more = new ArrayList<>(families());
        more.add(new ColumnFamilyDescriptor("audit"));
        Options options = Options.defaults().createMissingColumnFamilies(true);
        try (DB db = DB.open(dir, options, more)) {  // opens the four, creates "audit"
            names = db.listColumnFamilies();         // [default, users, users-by-email, counters, sessions, audit]
            auditId = db.columnFamily("audit").id(); // 6: ids of dropped families are never given again
        }
        // DOCS:column-families/reopen end
        return refused + " " + names + " " + auditId;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
