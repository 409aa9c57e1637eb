package io.o3lsm.internal.db;

import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Names of the files in a DB directory:
 * <pre>
 *   CURRENT            name of the live MANIFEST, one line
 *   LOCK               held while the DB is open
 *   MANIFEST-NNNNNN    VersionEdit log (docs/format/manifest.md)
 *   NNNNNN.log         write-ahead log (docs/format/log.md, docs/format/write-batch.md)
 *   NNNNNN.sst         sorted table (docs/format/sstable.md)
 *   NNNNNN.dbtmp       temporary file (CURRENT being replaced); deleted at open
 *   IDENTITY           the DB's UUID, written at the first open in DM mode (docs/design/dm-mode.md)
 * </pre>
 * All numbers come from one counter, recorded in the MANIFEST.
 */
public final class FileNames {
    private FileNames() {
    }

    public static final String CURRENT = "CURRENT";
    public static final String LOCK = "LOCK";

    public enum Type { LOG, TABLE, MANIFEST, TEMP, CURRENT, LOCK }

    /** A parsed name; {@code number} is -1 for CURRENT and LOCK. */
    public record Parsed(Type type, long number) {
    }

    public static String log(long number) {
        return pad(number) + ".log";
    }

    public static String table(long number) {
        return pad(number) + ".sst";
    }

    public static String manifest(long number) {
        return "MANIFEST-" + pad(number);
    }

    public static String temp(long number) {
        return pad(number) + ".dbtmp";
    }

    private static String pad(long n) {
        String s = Long.toString(n);
        return s.length() >= 6 ? s : "000000".substring(s.length()) + s;
    }

    /** MANIFEST number from a name, or -1. */
    public static long manifestNumber(String name) {
        Parsed p = parse(name);
        return p != null && p.type == Type.MANIFEST ? p.number : -1;
    }

    /** Parses a file name of this DB, or returns null for a name that is not ours. */
    public static Parsed parse(String name) {
        if (name.equals(CURRENT)) {
            return new Parsed(Type.CURRENT, -1);
        }
        if (name.equals(LOCK)) {
            return new Parsed(Type.LOCK, -1);
        }
        if (name.startsWith("MANIFEST-")) {
            long n = number(name.substring(9));
            return n < 0 ? null : new Parsed(Type.MANIFEST, n);
        }
        int dot = name.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        long n = number(name.substring(0, dot));
        if (n < 0) {
            return null;
        }
        return switch (name.substring(dot)) {
            case ".log" -> new Parsed(Type.LOG, n);
            case ".sst" -> new Parsed(Type.TABLE, n);
            case ".dbtmp" -> new Parsed(Type.TEMP, n);
            default -> null;
        };
    }

    private static long number(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(s);
    }

    /**
     * Writes and syncs {@code NNNNNN.dbtmp} holding the next content of CURRENT; the caller renames it
     * over CURRENT (atomic) and syncs the directory.
     */
    public static void writeCurrentTemp(FileSystem fs, Path dir, long number) throws IOException {
        byte[] content = (manifest(number) + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = dir.resolve(temp(number));
        try (FileSystem.WritableFile f = fs.newWritableFile(tmp)) {
            f.append(content, 0, content.length);
            f.sync();
        }
    }
}
