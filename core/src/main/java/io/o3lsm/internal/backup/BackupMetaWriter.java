package io.o3lsm.internal.backup;

import io.o3lsm.format.Crc32c;
import java.nio.charset.StandardCharsets;

/**
 * Encodes a {@link BackupMeta} as the text of {@code docs/format/backup-meta.md}: one line per field,
 * one per file, and a last line with the CRC32C of everything before it. Stateless.
 */
final class BackupMetaWriter {
    private BackupMetaWriter() {
    }

    static byte[] encode(BackupMeta m) {
        StringBuilder sb = new StringBuilder(256 + 96 * m.files().size());
        sb.append(BackupMeta.MAGIC).append(' ').append(BackupMeta.VERSION).append('\n');
        sb.append("id ").append(m.id()).append('\n');
        sb.append("timestamp-millis ").append(m.timeMillis()).append('\n');
        sb.append("sequence ").append(m.sequence()).append('\n');
        sb.append("new-files ").append(m.newFiles()).append('\n');
        sb.append("new-bytes ").append(m.newBytes()).append('\n');
        sb.append("files ").append(m.files().size()).append('\n');
        for (BackupMeta.Entry e : m.files()) {
            checkName(e.name());
            checkName(e.stored());
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
