package io.o3lsm.internal.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.BackupEngine;
import io.o3lsm.BackupInfo;
import io.o3lsm.CorruptionException;
import io.o3lsm.DB;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.Options;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Review 4 findings on the backup engine: each test asserts the safe behaviour and fails on 0cf9776. */
class Review4BackupTest {
    @TempDir Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void fill(DB db, int from, int to) {
        for (int i = from; i < to; i++) {
            db.put(b("key" + i), b("value" + i));
        }
        db.flush();
    }

    /** A meta whose file name climbs out of the target: restore writes outside the target directory. */
    @Test
    void restoreMustRefuseAMetaWhoseNameEscapesTheTarget() throws IOException {
        Path db = dir.resolve("db");
        Path bk = dir.resolve("bk");
        try (DB d = DB.open(db, Options.defaults().jmx(false)); BackupEngine e = BackupEngine.open(bk)) {
            fill(d, 0, 10);
            e.createBackup(d);
        }
        Path meta = bk.resolve("meta").resolve("1");
        BackupMeta m = BackupMetaReader.decode(meta.toString(), Files.readAllBytes(meta));
        List<BackupMeta.Entry> files = new ArrayList<>();
        for (BackupMeta.Entry x : m.files()) {
            files.add(x.name().endsWith(".log") ? new BackupMeta.Entry("../escaped.log", x.stored(), x.size(), x.crc()) : x);
        }
        Files.write(meta, BackupMetaWriter.encode(new BackupMeta(m.id(), m.timeMillis(), m.sequence(), m.newFiles(),
                m.newBytes(), files)));
        Path target = dir.resolve("restore").resolve("r");
        try (BackupEngine e = BackupEngine.open(bk)) {
            try {
                e.restore(1, target);
            } catch (RuntimeException expected) {
                // refusing is the fix
            }
        }
        assertFalse(Files.exists(dir.resolve("restore").resolve("escaped.log")),
                "restore wrote " + dir.resolve("restore").resolve("escaped.log") + " outside its target");
    }

    /** meta/5 holding "id 1": listed twice as id 1; purge(1) then deletes private/1, which the kept meta names. */
    @Test
    void aMetaWhoseIdDiffersFromItsFileNameMustBeRefused() throws IOException {
        Path db = dir.resolve("db");
        Path bk = dir.resolve("bk");
        try (DB d = DB.open(db, Options.defaults().jmx(false)); BackupEngine e = BackupEngine.open(bk)) {
            fill(d, 0, 10);
            e.createBackup(d);
        }
        Files.copy(bk.resolve("meta").resolve("1"), bk.resolve("meta").resolve("5"));
        try (BackupEngine e = BackupEngine.open(bk)) {
            List<Integer> ids = e.listBackups().stream().map(BackupInfo::id).toList();
            assertFalse(ids.equals(List.of(1, 1)), "listed " + ids);
        }
    }

    /**
     * Same FileSystem object for DB and backups, links unsupported (another device): every backup copies
     * the whole DB into tmp/N, not only its new tables (backups.md says "new tables are written twice").
     */
    @Test
    void anIncrementalBackupWithNothingNewMustNotRewriteEveryTable() throws IOException {
        AtomicLong tmpBytes = new AtomicLong();
        FileSystem fs = new ForwardingFileSystem(FileSystem.local()) {
            @Override
            protected WritableFile wrap(Path path, WritableFile file) throws IOException {
                if (!path.toString().contains("/bk/tmp/")) {
                    return file;
                }
                return new ForwardingWritableFile(file) {
                    @Override
                    public void append(byte[] src, int off, int len) throws IOException {
                        tmpBytes.addAndGet(len);
                        super.append(src, off, len);
                    }
                };
            }
        };
        Path db = dir.resolve("db");
        Path bk = dir.resolve("bk");
        try (DB d = DB.open(db, Options.defaults().jmx(false).fileSystem(fs)); BackupEngine e = BackupEngine.open(bk, fs)) {
            for (int t = 0; t < 5; t++) {
                for (int i = 0; i < 2000; i++) {
                    d.put(b("key" + t + "_" + i), new byte[100]);
                }
                d.flush();
            }
            e.createBackup(d);
            long first = tmpBytes.getAndSet(0);
            BackupInfo second = e.createBackup(d);
            long again = tmpBytes.get();
            assertTrue(again < first / 2, "second backup (" + second.newFiles() + " new files, " + second.newBytes()
                    + " new bytes) wrote " + again + " bytes into tmp/ (first: " + first + ")");
        }
    }
}
