package io.o3lsm.internal.backup;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decodes a meta file written by {@link BackupMetaWriter} ({@code docs/format/backup-meta.md}), exactly
 * as strictly as that page states: every damage or deviation is a {@link CorruptionException} naming
 * the file, the byte offset of the bad line (or byte), and what was expected versus found; a meta of a
 * newer format version is an {@link O3Exception}. Stateless.
 */
final class BackupMetaReader {
    private BackupMetaReader() {
    }

    /**
     * @param file       the meta file's path (for messages)
     * @param bytes      its contents
     * @param expectedId the id its file name {@code meta/N} gives; the {@code id} line must hold it
     */
    static BackupMeta decode(String file, byte[] bytes, int expectedId) {
        if (bytes.length > BackupMeta.MAX_BYTES) {
            throw tooLarge(file, bytes.length);
        }
        String text = new String(bytes, StandardCharsets.ISO_8859_1); // one char per byte: offsets are byte offsets
        if (!text.endsWith("\n")) {
            throw new CorruptionException(file, bytes.length, "a meta file ending in a newline, found "
                    + bytes.length + " bytes without one (truncated?)");
        }
        int lastStart = text.lastIndexOf('\n', text.length() - 2) + 1;
        String last = text.substring(lastStart, text.length() - 1);
        String[] ck = last.split(" ", -1);
        if (ck.length != 2 || !ck[0].equals(BackupMeta.CHECKSUM)) {
            throw new CorruptionException(file, lastStart, "a last line '" + BackupMeta.CHECKSUM + " HEX', found '"
                    + printable(last) + "'");
        }
        int body = lastStart;
        int stored = parseHex(file, lastStart, ck[1]);
        int actual = Crc32c.value(bytes, 0, body);
        if (stored != actual) {
            throw new CorruptionException(file, 0, "CRC32C " + BackupMetaWriter.hex(stored) + " of the meta file's "
                    + body + " bytes, found " + BackupMetaWriter.hex(actual));
        }
        for (int i = 0; i < body; i++) {
            int c = bytes[i] & 0xff;
            if (c != '\n' && (c < 0x20 || c > 0x7e)) {
                throw new CorruptionException(file, i, "printable ASCII (0x20-0x7e) and newlines, found byte 0x"
                        + Integer.toHexString(c));
            }
        }
        Lines in = new Lines(file, text.substring(0, lastStart));
        String[] head = in.next(2);
        if (!head[0].equals(BackupMeta.MAGIC)) {
            throw new CorruptionException(file, 0, "magic '" + BackupMeta.MAGIC + "', found '" + head[0] + "'");
        }
        long version = in.number(head[1]);
        if (version < 1) {
            throw new CorruptionException(file, 0, "format version >= 1, found " + version);
        }
        if (version > BackupMeta.VERSION) {
            throw new O3Exception(file + " is a backup meta file of format version " + version + "; this o3lsm reads "
                    + "up to version " + BackupMeta.VERSION + ": use a newer o3lsm");
        }
        long idField = in.field("id");
        if (idField < 1 || idField > Integer.MAX_VALUE) {
            throw new CorruptionException(file, in.lineStart, "an id from 1 to " + Integer.MAX_VALUE + ", found " + idField);
        }
        if (idField != expectedId) {
            throw new CorruptionException(file, in.lineStart, "id " + expectedId + " (the meta file's name), found "
                    + idField);
        }
        int id = (int) idField;
        long time = in.field("timestamp-millis");
        long seq = in.field("sequence");
        long newFiles = in.field("new-files");
        if (newFiles > Integer.MAX_VALUE) {
            throw new CorruptionException(file, in.lineStart, "new-files up to " + Integer.MAX_VALUE + ", found "
                    + newFiles);
        }
        long newBytes = in.field("new-bytes");
        long count = in.field("files");
        List<BackupMeta.Entry> files = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < count; i++) {
            String[] f = in.next(5);
            int at = in.lineStart;
            if (!f[0].equals("file")) {
                throw new CorruptionException(file, at, "'file NAME STORED SIZE CRC', found '" + String.join(" ", f) + "'");
            }
            BackupMeta.Entry e = new BackupMeta.Entry(f[1], f[2], in.number(f[3]), parseHex(file, at, f[4]));
            String problem = BackupMeta.problem(id, e);
            if (problem != null) {
                throw new CorruptionException(file, at, problem);
            }
            if (!names.add(e.name())) {
                throw new CorruptionException(file, at, "each file once, found " + e.name() + " again");
            }
            files.add(e);
        }
        if (in.pos != in.text.length()) {
            throw new CorruptionException(file, in.pos, count + " file lines then the checksum, found more lines");
        }
        return new BackupMeta(id, time, seq, (int) newFiles, newBytes, files);
    }

    /** A meta file longer than {@link BackupMeta#MAX_BYTES}: damaged (nothing writes one). */
    static CorruptionException tooLarge(String file, long size) {
        return new CorruptionException(file, BackupMeta.MAX_BYTES, "a meta file of at most " + BackupMeta.MAX_BYTES
                + " bytes, found " + size + " bytes");
    }

    /** Exactly 8 lower-case hex digits. */
    private static int parseHex(String file, long at, String s) {
        boolean ok = s.length() == 8;
        for (int i = 0; ok && i < s.length(); i++) {
            char c = s.charAt(i);
            ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f';
        }
        if (!ok) {
            throw new CorruptionException(file, at, "8 lower-case hex digits, found '" + printable(s) + "'");
        }
        return Integer.parseUnsignedInt(s, 16);
    }

    /** For messages: bytes outside printable ASCII as {@code \xNN}. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The body's lines, read in order. */
    private static final class Lines {
        final String file;
        final String text;
        int pos;
        int lineStart;

        Lines(String file, String text) {
            this.file = file;
            this.text = text;
        }

        String[] next(int words) {
            lineStart = pos;
            int nl = text.indexOf('\n', pos);
            if (nl < 0) {
                throw new CorruptionException(file, pos, "another line, found the end of the meta file");
            }
            String line = text.substring(pos, nl);
            pos = nl + 1;
            String[] w = line.split(" ", -1);
            if (w.length != words) {
                throw new CorruptionException(file, lineStart, words + " words, found '" + line + "'");
            }
            return w;
        }

        long field(String name) {
            String[] w = next(2);
            if (!w[0].equals(name)) {
                throw new CorruptionException(file, lineStart, "'" + name + " N', found '" + w[0] + " " + w[1] + "'");
            }
            return number(w[1]);
        }

        /** {@code 0} or a digit 1-9 then digits, at most 2^63-1: no sign, no leading zero. */
        long number(String s) {
            boolean ok = !s.isEmpty() && s.length() <= 19 && (s.length() == 1 || s.charAt(0) != '0');
            for (int i = 0; ok && i < s.length(); i++) {
                ok = s.charAt(i) >= '0' && s.charAt(i) <= '9';
            }
            if (ok) {
                try {
                    return Long.parseLong(s);
                } catch (NumberFormatException overflow) {
                    // past Long.MAX_VALUE
                }
            }
            throw new CorruptionException(file, lineStart, "an unsigned decimal number (no sign, no leading zero, "
                    + "at most " + Long.MAX_VALUE + "), found '" + s + "'");
        }
    }
}
