package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.ForwardingFileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.*;

class ManifestSyncFailureTest {
    @TempDir Path dir;

    /** fsync of MANIFEST fails AFTER the bytes reached the OS (like EIO from fsync). */
    static final class SyncFailFs extends ForwardingFileSystem {
        volatile boolean armed;

        @Override
        protected WritableFile wrap(Path path, WritableFile w) {
            String name = path.getFileName().toString();
            return new ForwardingWritableFile(w) {
                @Override
                public void sync() throws IOException {
                    if (armed && name.startsWith("MANIFEST")) {
                        inner.flush();
                        throw new IOException("injected fsync EIO on " + name);
                    }
                    inner.sync();
                }
            };
        }
    }

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    @Test
    void acknowledgedWritesSurviveAFailedManifestSync() throws Exception {
        SyncFailFs fs = new SyncFailFs();
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024).fileSystem(fs);
        DB db = DB.open(dir, o);
        fs.armed = true;
        int n = 0;
        try {
            for (; n < 3000; n++) {
                db.put(b(String.format("key%06d", n)), b("value-" + n + "-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
            }
        } catch (RuntimeException e) {
            System.out.println("write refused after " + n + ": " + e);
        }
        try { ((DBImpl) db).waitForFlushes(); } catch (RuntimeException e) { System.out.println("flush failed: " + e.getMessage()); }
        try { db.close(); } catch (RuntimeException e) { System.out.println("close: " + e); }
        try (Stream<Path> s = Files.list(dir)) { System.out.println("files: " + s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList())); }
        // every put up to n was acknowledged
        try (DB db2 = DB.open(dir, Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(256 * 1024))) {
            int missing = 0; RuntimeException err = null;
            for (int i = 0; i < n; i++) {
                try {
                    if (db2.get(b(String.format("key%06d", i))) == null) missing++;
                } catch (RuntimeException e) { err = e; missing++; }
            }
            System.out.println("acknowledged " + n + ", missing/unreadable " + missing + (err != null ? ", error: " + err : ""));
            assertEquals(0, missing);
        }
    }
}
