package io.o3lsm.internal.backup;

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
