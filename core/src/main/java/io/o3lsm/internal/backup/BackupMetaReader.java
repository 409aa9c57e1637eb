package io.o3lsm.internal.backup;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a meta file written by {@link BackupMetaWriter} ({@code docs/format/backup-meta.md}). Every
 * damage is a {@link CorruptionException} naming the file, the byte offset of the bad line, and what
 * was expected versus found; a meta of a newer format version is an {@link O3Exception}. Stateless.
 */
final class BackupMetaReader {
    private BackupMetaReader() {
    }

    static BackupMeta decode(String file, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1); // one char per byte: offsets are byte offsets
        if (!text.endsWith("\n")) {
            throw new CorruptionException(file, bytes.length, "a meta file ending in a newline, found "
                    + bytes.length + " bytes without one (truncated?)");
        }
        int lastStart = text.lastIndexOf('\n', text.length() - 2) + 1;
        String last = text.substring(lastStart, text.length() - 1);
        String[] ck = last.split(" ");
        if (ck.length != 2 || !ck[0].equals(BackupMeta.CHECKSUM)) {
            throw new CorruptionException(file, lastStart, "a last line '" + BackupMeta.CHECKSUM + " HEX', found '"
                    + last + "'");
        }
        int body = lastStart;
        int stored = (int) parseHex(file, lastStart, ck[1]);
        int actual = Crc32c.value(bytes, 0, body);
        if (stored != actual) {
            throw new CorruptionException(file, 0, "CRC32C " + BackupMetaWriter.hex(stored) + " of the meta file's "
                    + body + " bytes, found " + BackupMetaWriter.hex(actual));
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
        int id = (int) in.field("id");
        long time = in.field("timestamp-millis");
        long seq = in.field("sequence");
        int newFiles = (int) in.field("new-files");
        long newBytes = in.field("new-bytes");
        long count = in.field("files");
        List<BackupMeta.Entry> files = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            int at = in.pos;
            String[] f = in.next(5);
            if (!f[0].equals("file")) {
                throw new CorruptionException(file, at, "'file NAME STORED SIZE CRC', found '" + String.join(" ", f) + "'");
            }
            files.add(new BackupMeta.Entry(f[1], f[2], in.number(f[3]), (int) parseHex(file, at, f[4])));
        }
        if (in.pos != in.text.length()) {
            throw new CorruptionException(file, in.pos, count + " file lines then the checksum, found more lines");
        }
        return new BackupMeta(id, time, seq, newFiles, newBytes, files);
    }

    private static long parseHex(String file, long at, String s) {
        if (s.length() != 8) {
            throw new CorruptionException(file, at, "8 hex digits, found '" + s + "'");
        }
        try {
            return Long.parseLong(s, 16);
        } catch (NumberFormatException e) {
            throw new CorruptionException(file, at, "8 hex digits, found '" + s + "'");
        }
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

        long number(String s) {
            try {
                long v = Long.parseLong(s);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                return v;
            } catch (NumberFormatException e) {
                throw new CorruptionException(file, lineStart, "a non-negative decimal number, found '" + s + "'");
            }
        }
    }
}
