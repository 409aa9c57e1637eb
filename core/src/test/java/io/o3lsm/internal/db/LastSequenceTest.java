package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.ForwardingFileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.*;

/** Crash (simulated by copying the directory) right after a flush's MANIFEST sync inside a write group. */
class LastSequenceTest {
    @TempDir Path dir;
    @TempDir Path snap;

    final class SnapFs extends ForwardingFileSystem {
        volatile boolean armed;
        volatile boolean taken;

        @Override
        protected WritableFile wrap(Path path, WritableFile w) {
            String name = path.getFileName().toString();
            return new ForwardingWritableFile(w) {
                @Override
                public void sync() throws IOException {
                    inner.sync();
                    if (armed && !taken && name.startsWith("MANIFEST")) {
                        taken = true;
                        try (Stream<Path> st = Files.list(dir)) {
                            for (Path p : (Iterable<Path>) st::iterator) {
                                if (!p.getFileName().toString().equals("LOCK")) {
                                    Files.copy(p, snap.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                                }
                            }
                        }
                    }
                }
            };
        }
    }

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    @Test
    void deletedKeyComesBack() throws Exception {
        SnapFs fs = new SnapFs();
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(128 * 1024);
        try (DB db = DB.open(dir, o.fileSystem(fs))) {
            fs.armed = true;
            WriteBatch wb = new WriteBatch();
            for (int i = 0; i < 3000; i++) {
                wb.put(b(String.format("k%05d", i)), b("old-" + i + "-xxxxxxxxxxxxxxxxxxxxxxxxxx"));
            }
            db.write(wb, WriteOptions.defaults().disableWal(true)); // bulk load without WAL
        }
        assertTrue(fs.taken);
        // "crash" happened at the snapshot; reopen it
        try (DB db = DB.open(snap, Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(128 * 1024))) {
            DBImpl impl = (DBImpl) db;
            System.out.println("recovered lastSequence=" + impl.lastSequence() + " L0=" + impl.currentVersion().files(0));
            System.out.println("get(k00000) after reopen = " + str(db.get(b("k00000"))));
            db.delete(b("k00000"), WriteOptions.defaults().sync(true)); // acknowledged, synced delete
            System.out.println("get(k00000) after delete = " + str(db.get(b("k00000"))));
            // a few big unrelated writes: fill the arena so the tombstone is flushed to L0
            byte[] big = new byte[20000];
            for (int i = 0; i < 5; i++) {
                db.put(b("z" + i), big);
            }
            impl.waitForFlushes();
            System.out.println("L0 after flush=" + impl.currentVersion().files(0) + " lastSequence=" + impl.lastSequence());
            byte[] v = db.get(b("k00000"));
            System.out.println("get(k00000) after flush of the tombstone = " + str(v));
            assertNull(v, "deleted key came back");
        }
    }

    static String str(byte[] v) { return v == null ? "null" : new String(v, StandardCharsets.UTF_8); }
}
