package io.o3lsm.internal.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/o3 backup}: {@link BackupMain} run in-process. */
@Timeout(120)
class BackupMainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

    private int run(String... args) {
        outBytes.reset();
        errBytes.reset();
        return BackupMain.run(args, new PrintStream(outBytes, true, StandardCharsets.UTF_8),
                new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldCreateListVerifyRestoreAndPurgeFromTheCommandLine() throws Exception {
        String db = dir.resolve("db").toString();
        String bk = dir.resolve("bk").toString();
        List<ColumnFamilyDescriptor> families = List.of(
                new ColumnFamilyDescriptor("counters", ColumnFamilyOptions.defaults().mergeOperator(MergeOperators.int64Add())));
        Options options = Options.defaults().ttl(Duration.ofDays(1));
        try (DB d = DB.open(Path.of(db), options, families)) {
            d.put(b("a"), b("1"));
            d.merge(d.columnFamily("counters"), b("n"), MergeOperators.int64(2));
            d.flush();
            d.merge(d.columnFamily("counters"), b("n"), MergeOperators.int64(3));
            // the DB is open here: create refuses it, naming the reason
            assertEquals(3, run("create", "--db", db, "--backup-dir", bk), err());
            assertTrue(err().contains("open in another process") && err().contains("BackupEngine.createBackup"), err());
        }
        assertEquals(0, run("create", "--db", db, "--backup-dir", bk), err());
        assertTrue(out().startsWith("created backup 1 at sequence "), out());
        try (DB d = DB.open(Path.of(db), options, families)) {
            d.put(b("a"), b("2"));
        }
        assertEquals(0, run("create", "--db", db, "--backup-dir", bk), err());
        assertTrue(out().startsWith("created backup 2 "), out());

        assertEquals(0, run("list", "--backup-dir", bk), err());
        String[] lines = out().split("\n");
        assertEquals(3, lines.length, out());
        assertTrue(lines[1].startsWith("1\t") && lines[2].startsWith("2\t"), out());

        assertEquals(0, run("verify", "--backup-dir", bk), err());
        assertTrue(out().contains("backup 1 OK") && out().contains("backup 2 OK"), out());

        assertEquals(0, run("restore", "--backup-dir", bk, "--id", "1", "--target", dir.resolve("r1").toString()), err());
        try (DB r = DB.open(dir.resolve("r1"), options, families)) {
            assertEquals("1", new String(r.get(b("a")), StandardCharsets.UTF_8));
            assertEquals(5, MergeOperators.int64(r.get(r.columnFamily("counters"), b("n"))));
        }
        assertEquals(2, run("restore", "--backup-dir", bk, "--id", "1", "--target", dir.resolve("r1").toString()));
        assertTrue(err().contains("not empty"), err());

        assertEquals(0, run("purge", "--backup-dir", bk, "--keep", "1"), err());
        assertTrue(out().contains("deleted backups [1], kept [2]"), out());

        // a damaged file: verify names it and exits 4
        Path wal;
        try (var s = Files.list(dir.resolve("bk").resolve("private").resolve("2"))) {
            wal = s.filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
        }
        Files.write(wal, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(4, run("verify", "--backup-dir", bk, "--id", "2"));
        assertTrue(out().contains("backup 2 CORRUPT") && out().contains(wal.getFileName().toString()), out());

        assertEquals(2, run("frobnicate", "--backup-dir", bk));
        assertEquals(2, run("restore", "--backup-dir", bk, "--id", "x", "--target", "t"));
        assertEquals(2, run("create", "--db", dir.resolve("nothing").toString(), "--backup-dir", bk));
        assertTrue(err().contains("no DB at"), err());
    }
}
