package io.o3lsm.internal.backup;

import io.o3lsm.internal.db.FileNames;
import java.util.List;

/**
 * The contents of one backup's meta file ({@code docs/format/backup-meta.md}), and the constants its
 * writer ({@link BackupMetaWriter}) and reader ({@link BackupMetaReader}) share. A backup exists exactly
 * when its meta file does: it is written last, atomically.
 *
 * @param id         the backup's number in its backup directory (1, 2, …)
 * @param timeMillis when the backup was taken (wall clock, milliseconds since the epoch)
 * @param sequence   the sequence number the checkpoint under it was cut at
 * @param newFiles   files this backup added to the backup directory (its private files and the tables
 *                   no earlier backup had)
 * @param newBytes   bytes of those files
 * @param files      every file of the backed-up DB, in the order the reader found them
 */
public record BackupMeta(int id, long timeMillis, long sequence, int newFiles, long newBytes, List<Entry> files) {
    /** First line's first word. */
    static final String MAGIC = "o3lsm-backup-meta";
    /** The format version this code writes; the reader accepts 1 up to it. */
    static final int VERSION = 1;
    /** The last line's keyword, followed by the CRC32C of every byte before that line. */
    static final String CHECKSUM = "crc32c";
    /** The largest meta file read (bytes); a longer one is damaged. */
    static final int MAX_BYTES = 64 << 20;
    /** The DB's identity file: in every backup, but a restore writes a new one. */
    static final String IDENTITY = "IDENTITY";
    /** The TTL marker of a DB opened with a TTL ({@code io.o3lsm.internal.db.TtlMarker}). */
    static final String TTL = "TTL";

    public BackupMeta {
        files = List.copyOf(files);
    }

    /** Total bytes of the backup's files. */
    public long size() {
        long s = 0;
        for (Entry e : files) {
            s += e.size;
        }
        return s;
    }

    /**
     * What is wrong with {@code e} as a file line of backup {@code id}'s meta, or null
     * (docs/format/backup-meta.md, "Names"): {@code name} is one DB file name ({@code NNNNNN.sst},
     * {@code NNNNNN.log}, {@code MANIFEST-NNNNNN} as the DB writes them, {@code CURRENT}, {@code IDENTITY},
     * {@code TTL}), and {@code stored} is exactly {@code shared/NNNNNN_SIZE_CRC.sst} for a table (its
     * number, the entry's size and CRC) or {@code private/ID/NAME} for any other file. Nothing else can
     * be resolved against the backup directory or a restore target, so no meta can name a path outside
     * them.
     */
    static String problem(int id, Entry e) {
        String name = e.name();
        if (e.size() < 0) {
            return "a non-negative size, found " + e.size();
        }
        FileNames.Parsed p = FileNames.parse(name);
        String expected;
        if (p != null && p.type() == FileNames.Type.TABLE && name.equals(FileNames.table(p.number()))) {
            expected = BackupStore.SHARED + "/" + name.substring(0, name.length() - ".sst".length()) + "_" + e.size()
                    + "_" + BackupMetaWriter.hex(e.crc()) + ".sst";
        } else if (name.equals(FileNames.CURRENT) || name.equals(IDENTITY) || name.equals(TTL)
                || p != null && p.type() == FileNames.Type.LOG && name.equals(FileNames.log(p.number()))
                || p != null && p.type() == FileNames.Type.MANIFEST && name.equals(FileNames.manifest(p.number()))) {
            expected = BackupStore.PRIVATE + "/" + id + "/" + name;
        } else {
            return "a DB file name (NNNNNN.sst, NNNNNN.log, MANIFEST-NNNNNN, CURRENT, IDENTITY or TTL), found '" + name
                    + "'";
        }
        if (!e.stored().equals(expected)) {
            return "'" + expected + "' as where " + name + " is stored, found '" + e.stored() + "'";
        }
        return null;
    }

    /**
     * One file of the backed-up DB.
     *
     * @param name   its name in the DB directory ({@code 000012.sst}, {@code CURRENT}, …)
     * @param stored where it is, relative to the backup directory ({@code shared/000012_4096_0a1b2c3d.sst},
     *               {@code private/3/CURRENT})
     * @param size   its length in bytes
     * @param crc    the CRC32C of its bytes (unmasked)
     */
    public record Entry(String name, String stored, long size, int crc) {
    }
}
