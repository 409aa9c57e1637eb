package io.o3lsm.internal.db;

import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code TTL} file of a DB directory: present exactly when the DB's values carry write-time
 * stamps ({@code Options.ttl}). One line of ASCII, {@code ttl-millis=N}, the TTL the DB was created
 * with (informational: the duration may change between opens; whether TTL is on may not).
 * Stateless.
 */
final class TtlMarker {
    static final String NAME = "TTL";

    private TtlMarker() {
    }

    /**
     * At open, before recovery: a new DB ({@code exists} false) gets the marker when {@code ttl} is
     * set (and loses a stale one otherwise); an existing DB must be opened with TTL exactly when it
     * has the marker.
     *
     * @throws IllegalArgumentException TTL on or off differs from what the DB was written with
     */
    static void check(FileSystem fs, Path dir, boolean exists, Duration ttl) throws IOException {
        Path p = dir.resolve(NAME);
        boolean marked = fs.exists(p);
        if (!exists) {
            if (ttl != null) {
                byte[] b = ("ttl-millis=" + ttl.toMillis() + "\n").getBytes(StandardCharsets.US_ASCII);
                try (FileSystem.WritableFile f = fs.newWritableFile(p)) {
                    f.append(b, 0, b.length);
                    f.sync();
                }
                fs.syncDirectory(dir);
            } else if (marked) {
                fs.delete(p);
            }
            return;
        }
        if (marked && ttl == null) {
            throw new IllegalArgumentException("the DB in " + dir + " was written with Options.ttl (its values carry "
                    + "write-time stamps; see its " + NAME + " file): open it with a ttl");
        }
        if (!marked && ttl != null) {
            throw new IllegalArgumentException("the DB in " + dir + " was written without Options.ttl (it has no "
                    + NAME + " file): open it without a ttl");
        }
    }
}
