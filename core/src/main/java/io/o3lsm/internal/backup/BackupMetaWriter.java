package io.o3lsm.internal.backup;

import io.o3lsm.format.Crc32c;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Encodes a {@link BackupMeta} as the text of {@code docs/format/backup-meta.md}: one line per field,
 * one per file, and a last line with the CRC32C of everything before it. Stateless.
 */
final class BackupMetaWriter {
    private BackupMetaWriter() {
    }

    /**
     * @throws IllegalArgumentException {@code m} breaks a rule the reader checks (an id below 1, a
     *                                  negative number, a file line {@link BackupMeta#problem} refuses, a
     *                                  name twice): nothing is written that would not read back
     */
    static byte[] encode(BackupMeta m) {
        if (m.id() < 1 || m.timeMillis() < 0 || m.sequence() < 0 || m.newFiles() < 0 || m.newBytes() < 0) {
            throw new IllegalArgumentException("backup meta " + m + " cannot be written: id must be >= 1, the other "
                    + "numbers >= 0");
        }
        Set<String> names = new HashSet<>();
        for (BackupMeta.Entry e : m.files()) {
            checkName(e.name());
            checkName(e.stored());
            String problem = BackupMeta.problem(m.id(), e);
            if (problem != null) {
                throw new IllegalArgumentException("file " + e + " cannot be written to the meta of backup " + m.id()
                        + ": expected " + problem);
            }
            if (!names.add(e.name())) {
                throw new IllegalArgumentException("file " + e.name() + " twice in the meta of backup " + m.id());
            }
        }
        StringBuilder sb = new StringBuilder(256 + 96 * m.files().size());
        sb.append(BackupMeta.MAGIC).append(' ').append(BackupMeta.VERSION).append('\n');
        sb.append("id ").append(m.id()).append('\n');
        sb.append("timestamp-millis ").append(m.timeMillis()).append('\n');
        sb.append("sequence ").append(m.sequence()).append('\n');
        sb.append("new-files ").append(m.newFiles()).append('\n');
        sb.append("new-bytes ").append(m.newBytes()).append('\n');
        sb.append("files ").append(m.files().size()).append('\n');
        for (BackupMeta.Entry e : m.files()) {
            sb.append("file ").append(e.name()).append(' ').append(e.stored()).append(' ').append(e.size()).append(' ')
                    .append(hex(e.crc())).append('\n');
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        String tail = BackupMeta.CHECKSUM + " " + hex(Crc32c.value(body, 0, body.length)) + "\n";
        byte[] t = tail.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[body.length + t.length];
        System.arraycopy(body, 0, out, 0, body.length);
        System.arraycopy(t, 0, out, body.length, t.length);
        return out;
    }

    /** Eight lower-case hex digits. */
    static String hex(int crc) {
        String s = Integer.toHexString(crc);
        return "00000000".substring(s.length()) + s;
    }

    private static void checkName(String s) {
        if (s.isEmpty() || s.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException("file name '" + s + "' cannot be written to a backup meta file");
        }
    }
}
