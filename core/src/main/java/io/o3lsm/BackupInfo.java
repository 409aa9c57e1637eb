package io.o3lsm;

import java.time.Instant;

/**
 * One backup in a {@link BackupEngine}'s directory, as its meta file records it.
 *
 * @param id         its number in the backup directory: 1 for the first, then increasing (a deleted
 *                   newest backup's number may be given again)
 * @param timestamp  when it was taken (wall clock)
 * @param sequence   the sequence number of the checkpoint it holds: the backup restores to exactly the
 *                   DB's writes numbered up to this one (compare it only with other backups of the same DB)
 * @param size       bytes of its files (tables it shares with other backups included)
 * @param fileCount  how many files it has
 * @param newFiles   files it added to the backup directory when taken (its private files and the tables
 *                   no earlier backup had): what the incremental backup copied
 * @param newBytes   bytes of those files
 */
public record BackupInfo(int id, Instant timestamp, long sequence, long size, int fileCount, int newFiles,
        long newBytes) {
}
