package io.o3lsm.internal.backup;

import io.o3lsm.BackupEngine;
import io.o3lsm.BackupInfo;
import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyOptions;
import io.o3lsm.CorruptionException;
import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code bin/o3 backup}: the {@link BackupEngine} from the command line.
 *
 * <pre>
 *   bin/o3 backup create  --db DIR|URI --backup-dir DIR|URI
 *   bin/o3 backup list    --backup-dir DIR|URI
 *   bin/o3 backup verify  --backup-dir DIR|URI [--id N]        (every backup without --id)
 *   bin/o3 backup restore --backup-dir DIR|URI --id N --target DIR|URI
 *   bin/o3 backup purge   --backup-dir DIR|URI --keep N
 *   bin/o3 backup delete  --backup-dir DIR|URI --id N
 * </pre>
 *
 * {@code create} opens the DB itself (read-write: a checkpoint needs the writer queue), so the DB
 * must not be open in another process; if it is, the command says so and exits 3 (back it up from
 * that process with {@code BackupEngine.createBackup(db)}). It opens every column family without
 * merge operator or compaction filter (a job keeps operands it cannot combine), a plain DB with the
 * TTL its TTL marker records, and a family with a TTL with {@link #KEEP_ALL}. Exit codes: 0 done, 2 bad arguments, 3 the DB or
 * the backup directory is in use, 4 verify or restore found corruption, 1 anything else. See
 * docs/operations/backups.md.
 */
public final class BackupMain {
    static final String USAGE = "usage: bin/o3 backup create  --db DIR|URI --backup-dir DIR|URI\n"
            + "       bin/o3 backup list    --backup-dir DIR|URI\n"
            + "       bin/o3 backup verify  --backup-dir DIR|URI [--id N]\n"
            + "       bin/o3 backup restore --backup-dir DIR|URI --id N --target DIR|URI\n"
            + "       bin/o3 backup purge   --backup-dir DIR|URI --keep N\n"
            + "       bin/o3 backup delete  --backup-dir DIR|URI --id N\n"
            + "  DIR is a local directory; URI may name another file system (hdfs://… with o3lsm-hdfs built)\n"
            + "  create opens the DB: it must not be open in another process (exit 3 if it is)\n"
            + "  exit codes: 0 done, 2 bad arguments, 3 DB or backup directory in use, 4 corruption, 1 other";

    /** The TTL a TTL family is opened with here: long enough that nothing expires while the command runs. */
    static final Duration KEEP_ALL = Duration.ofDays(36500);

    private BackupMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String cmd = args[0];
        Map<String, String> opts = new HashMap<>();
        try {
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    out.println(USAGE);
                    return 0;
                }
                if (!a.startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException(a.startsWith("--") ? a + " needs a value" : "unexpected argument '" + a + "'");
                }
                if (!List.of("--db", "--backup-dir", "--id", "--target", "--keep").contains(a)) {
                    throw new IllegalArgumentException("unknown option " + a);
                }
                opts.put(a, args[++i]);
            }
            return switch (cmd) {
                case "create" -> create(opts, out);
                case "list", "verify", "restore", "purge", "delete" -> withEngine(cmd, opts, out);
                default -> throw new IllegalArgumentException("unknown command '" + cmd + "'");
            };
        } catch (IllegalArgumentException e) {
            err.println("o3 backup: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (InUse e) {
            err.println("o3 backup: " + e.getMessage());
            return 3;
        } catch (CorruptionException e) {
            err.println("o3 backup: " + e.getMessage());
            return 4;
        } catch (O3Exception | IOException e) {
            err.println("o3 backup: " + e.getMessage());
            return 1;
        }
    }

    private static String need(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return v;
    }

    private static int number(Map<String, String> opts, String name) {
        String v = need(opts, name);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a number, not '" + v + "'");
        }
    }

    private static int create(Map<String, String> opts, PrintStream out) throws IOException {
        URI dbUri = FileSystem.location(need(opts, "--db"));
        URI bkUri = FileSystem.location(need(opts, "--backup-dir"));
        try (FileSystem dbFs = FileSystem.forUri(dbUri)) {
            FileSystem bkFs = sameFileSystem(dbUri, bkUri) ? dbFs : FileSystem.forUri(bkUri);
            try {
                Path dbDir = FileSystem.pathOf(dbUri);
                if (!dbFs.exists(dbDir.resolve("CURRENT"))) {
                    throw new IllegalArgumentException("no DB at " + dbUri + " (no CURRENT file)");
                }
                Options options = Options.defaults().createIfMissing(false).fileSystem(dbFs);
                Duration ttl = ttlOf(dbFs, dbDir);
                if (ttl != null) {
                    options.ttl(ttl);
                }
                // families as the MANIFEST records them; a TTL family with a TTL no value reaches while we
                // have the DB open (the MANIFEST keeps only whether a family has one): nothing expires by our hand
                Set<String> ttlFamilies = DBImpl.ttlColumnFamilies(dbDir, options);
                if (ttlFamilies.contains(DB.DEFAULT_COLUMN_FAMILY)) {
                    options.ttl(KEEP_ALL);
                }
                List<ColumnFamilyDescriptor> families = new ArrayList<>();
                for (String name : DB.listColumnFamilies(dbDir, options)) {
                    if (!name.equals(DB.DEFAULT_COLUMN_FAMILY)) {
                        ColumnFamilyOptions o = ColumnFamilyOptions.defaults();
                        families.add(new ColumnFamilyDescriptor(name, ttlFamilies.contains(name) ? o.ttl(KEEP_ALL) : o));
                    }
                }
                DB db;
                try {
                    db = DB.open(dbDir, options, families);
                } catch (IllegalArgumentException e) {
                    throw new O3Exception("cannot open the DB at " + dbUri + " as the command line can (every family "
                            + "without merge operator or compaction filter): " + e.getMessage() + "; back it up from the "
                            + "application with BackupEngine.createBackup(db)", e);
                } catch (O3Exception e) {
                    if (Objects.toString(e.getMessage(), "").contains("in use")) {
                        throw new InUse("the DB at " + dbUri + " is open in another process (its LOCK is held): a "
                                + "backup needs the DB open read-write; back it up from that process with "
                                + "BackupEngine.createBackup(db), or stop it and retry", e);
                    }
                    throw e;
                }
                try (db; BackupEngine engine = openEngine(bkUri, bkFs)) {
                    BackupInfo b = engine.createBackup(db);
                    out.println("created backup " + b.id() + " at sequence " + b.sequence() + ": " + b.fileCount()
                            + " files, " + b.size() + " bytes, " + b.newFiles() + " new (" + b.newBytes() + " bytes)");
                }
            } finally {
                if (bkFs != dbFs) {
                    bkFs.close();
                }
            }
        }
        return 0;
    }

    private static int withEngine(String cmd, Map<String, String> opts, PrintStream out) throws IOException {
        URI bkUri = FileSystem.location(need(opts, "--backup-dir"));
        try (FileSystem fs = FileSystem.forUri(bkUri); BackupEngine engine = openEngine(bkUri, fs)) {
            switch (cmd) {
                case "list" -> {
                    out.println("id\ttimestamp\tsequence\tfiles\tbytes\tnew-files\tnew-bytes");
                    for (BackupInfo b : engine.listBackups()) {
                        out.println(b.id() + "\t" + b.timestamp() + "\t" + b.sequence() + "\t" + b.fileCount() + "\t"
                                + b.size() + "\t" + b.newFiles() + "\t" + b.newBytes());
                    }
                }
                case "verify" -> {
                    List<Integer> ids = new ArrayList<>();
                    if (opts.containsKey("--id")) {
                        ids.add(number(opts, "--id"));
                    } else {
                        engine.listBackups().forEach(b -> ids.add(b.id()));
                    }
                    CorruptionException first = null;
                    for (int id : ids) {
                        try {
                            BackupInfo b = engine.verify(id);
                            out.println("backup " + id + " OK: " + b.fileCount() + " files, " + b.size() + " bytes");
                        } catch (CorruptionException e) {
                            out.println("backup " + id + " CORRUPT: " + e.getMessage());
                            first = first == null ? e : first;
                        }
                    }
                    if (first != null) {
                        throw first;
                    }
                }
                case "restore" -> {
                    int id = number(opts, "--id");
                    URI targetUri = FileSystem.location(need(opts, "--target"));
                    boolean same = sameFileSystem(bkUri, targetUri);
                    FileSystem targetFs = same ? fs : FileSystem.forUri(targetUri);
                    try {
                        BackupInfo b = engine.restore(id, FileSystem.pathOf(targetUri), targetFs);
                        out.println("restored backup " + id + " (sequence " + b.sequence() + ", " + b.fileCount()
                                + " files) to " + targetUri);
                    } finally {
                        if (!same) {
                            targetFs.close();
                        }
                    }
                }
                case "purge" -> {
                    int keep = number(opts, "--keep");
                    out.println("deleted backups " + engine.purgeOldBackups(keep) + ", kept "
                            + engine.listBackups().stream().map(BackupInfo::id).toList());
                }
                case "delete" -> {
                    int id = number(opts, "--id");
                    engine.deleteBackup(id);
                    out.println("deleted backup " + id);
                }
                default -> throw new IllegalArgumentException("unknown command '" + cmd + "'");
            }
        }
        return 0;
    }

    private static BackupEngine openEngine(URI uri, FileSystem fs) {
        try {
            return BackupEngine.open(FileSystem.pathOf(uri), fs);
        } catch (O3Exception e) {
            if (Objects.toString(e.getMessage(), "").contains("another BackupEngine")) {
                throw new InUse(e.getMessage(), e);
            }
            throw e;
        }
    }

    private static boolean sameFileSystem(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getAuthority(), b.getAuthority());
    }

    /** The TTL the DB's TTL marker records ({@code ttl-millis=N}), or null when it has none. */
    private static Duration ttlOf(FileSystem fs, Path dbDir) throws IOException {
        Path p = dbDir.resolve("TTL");
        if (!fs.exists(p)) {
            return null;
        }
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            byte[] b = new byte[(int) Math.min(f.size(), 256)];
            f.readFully(0, b, 0, b.length);
            String s = new String(b, StandardCharsets.US_ASCII).trim();
            if (s.startsWith("ttl-millis=")) {
                try {
                    return Duration.ofMillis(Long.parseLong(s.substring("ttl-millis=".length()).trim()));
                } catch (NumberFormatException e) {
                    // fall through
                }
            }
            throw new O3Exception("the DB's TTL marker " + p + " reads '" + s + "', not ttl-millis=N: open the DB "
                    + "from the application and back it up with BackupEngine.createBackup(db)");
        }
    }

    /** The DB or the backup directory is held by another process or engine (exit 3). */
    private static final class InUse extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InUse(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
