package io.o3lsm.examples;

import io.o3lsm.CompactionFilter;
import io.o3lsm.DB;
import io.o3lsm.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** The examples of docs/compaction-filters.md, compiled and run by DocsExampleTest. */
final class CompactionFilterExample {
    private CompactionFilterExample() {
    }

    // DOCS:compaction-filters/filter begin
    /** Drops session entries ("session:...") whose value says they ended; masks card numbers. */
    public static final class SessionFilter implements CompactionFilter {
        @Override
        public String name() {
            return "example.sessions";                         // jobs carry this name to workers
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            String k = new String(key, StandardCharsets.UTF_8);
            String v = new String(value, StandardCharsets.UTF_8);
            if (k.startsWith("session:") && v.equals("ended")) {
                return CompactionFilter.remove();              // a deletion takes its place
            }
            if (k.startsWith("card:") && !v.startsWith("****")) {
                return CompactionFilter.change(("****" + v.substring(v.length() - 4))
                        .getBytes(StandardCharsets.UTF_8));
            }
            return CompactionFilter.keep();
        }
    }
    // DOCS:compaction-filters/filter end

    /** Returns what is left after a full compaction: "card:1=****4242 session:a=open". */
    static String sessions(Path dir) {
        // DOCS:compaction-filters/use begin
        Options options = Options.defaults().compactionFilter(new SessionFilter());
        try (DB db = DB.open(dir, options)) {
            db.put(bytes("session:a"), bytes("open"));
            db.put(bytes("session:b"), bytes("ended"));
            db.put(bytes("card:1"), bytes("4111111111114242"));
            byte[] ended = db.get(bytes("session:b"));            // "ended": reads never filter
            db.compactRange(null, null);                          // compactions do
            byte[] gone = db.get(bytes("session:b"));             // null
            return "card:1=" + string(db.get(bytes("card:1"))) + " session:a=" + string(db.get(bytes("session:a")));
        }
        // DOCS:compaction-filters/use end
    }

    /** Returns {visible before expiry, visible after} as "v/null". */
    static String ttl(Path dir) {
        // DOCS:compaction-filters/ttl begin
        AtomicLong now = new AtomicLong(1_700_000_000_000L);     // a fake clock; the default is the system's
        Options options = Options.defaults().ttl(Duration.ofHours(1)).clock(now::get);
        try (DB db = DB.open(dir, options)) {
            db.put(bytes("token"), bytes("v"));                   // stamped with now
            now.addAndGet(Duration.ofMinutes(59).toMillis());
            String before = string(db.get(bytes("token")));      // "v"
            now.addAndGet(Duration.ofMinutes(2).toMillis());
            String after = string(db.get(bytes("token")));       // null: expired, hidden at once
            db.compactRange(null, null);                          // and gone from the files
            return before + "/" + after;
        }
        // DOCS:compaction-filters/ttl end
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
