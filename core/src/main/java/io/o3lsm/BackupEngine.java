package io.o3lsm;

import io.o3lsm.internal.backup.BackupMeta;
import io.o3lsm.internal.backup.BackupStore;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.util.AgronaAccess;
import io.o3lsm.spi.FileSystem;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental backups of a DB into a backup directory: each backup is a {@link DB#checkpoint
 * checkpoint} of the live DB, cut at one sequence number while writes go on; tables (immutable) are
 * stored once however many backups hold them, everything else per backup; every file's length and
 * CRC32C are recorded, so a backup can be {@link #verify verified} and is checked again as it is
 * {@link #restore restored}. See {@code docs/operations/backups.md}.
 *
 * <pre>{@code
 * try (BackupEngine backups = BackupEngine.open(backupDir)) {
 *     BackupInfo b = backups.createBackup(db);      // db open and taking writes
 *     backups.verify(b.id());
 *     backups.purgeOldBackups(7);                  // keep the newest 7
 * }
 * try (BackupEngine backups = BackupEngine.open(backupDir)) {
 *     backups.restore(3, restoredDir);             // a new or empty directory; then DB.open(restoredDir, …)
 * }
 * }</pre>
 *
 * <p>A backup appears only once complete: its meta file, written last, atomically, is the commit
 * point; what an interrupted backup left is removed at the next {@link #open}. The backup directory
 * is reached through a {@link FileSystem} (local by default; HDFS with the {@code o3lsm-hdfs} module),
 * and may be on another file system than the DB.
 *
 * <p>Thread-safe (calls are serialized). One engine per backup directory at a time, across processes
 * too: the directory's {@code LOCK} is held until {@link #close()}.
 */
public final class BackupEngine implements AutoCloseable {
    private final BackupStore store;

    private BackupEngine(BackupStore store) {
        this.store = store;
    }

    /** {@link #open(Path, FileSystem)} on the local file system. */
    public static BackupEngine open(Path backupDir) {
        return open(backupDir, FileSystem.local());
    }

    /**
     * Opens the backup directory {@code backupDir} on {@code fs}, creating it if missing, takes its lock,
     * and removes what interrupted backups or deletions left there (staging directories, files no
     * backup's meta names). The engine does not close {@code fs}.
     *
     * @throws O3Exception another BackupEngine (in this process or another) has the directory open, or
     *                     it cannot be created or read
     */
    public static BackupEngine open(Path backupDir, FileSystem fs) {
        AgronaAccess.ensure();
        if (backupDir == null || fs == null) {
            throw new IllegalArgumentException("backupDir and fs must not be null");
        }
        return new BackupEngine(BackupStore.open(backupDir, fs));
    }

    /**
     * Backs up {@code db} while it takes writes: a checkpoint cut at one sequence number (every write
     * acknowledged before the call is in the backup, none begun after it returned), whose tables not
     * yet in the backup directory are copied into it and whose WALs, MANIFEST, CURRENT, IDENTITY and
     * TTL marker are copied as this backup's own. The checkpoint, without its tables, is staged on the
     * DB's file system (inside the backup directory when it is on the same one, else beside the DB's
     * directory) and removed afterwards; its tables are read from the DB's directory, pinned there
     * until the backup ends. Every table of the DB is read once (its CRC32C decides whether the
     * backup directory has it already); only new ones are written, once.
     *
     * @return the new backup
     * @throws IllegalArgumentException {@code db} is not a read-write DB opened by {@link DB#open}
     *                                  (a read-only DB or a replica cannot be checkpointed)
     * @throws O3Exception              reading the DB or writing the backup failed: the backup is not
     *                                  listed, and its files are removed (now, or at the next open)
     */
    public BackupInfo createBackup(DB db) {
        if (!(db instanceof DBImpl impl)) {
            throw new IllegalArgumentException("a backup is taken of a DB opened read-write by DB.open, not of "
                    + (db == null ? "null" : db.getClass().getSimpleName() + " " + db)
                    + " (a read-only DB or a replica cannot write the checkpoint a backup needs)");
        }
        return info(store.create(impl));
    }

    /** The backups in the directory, oldest (lowest id) first. A backup whose meta file is damaged is left out (and logged). */
    public List<BackupInfo> listBackups() {
        List<BackupInfo> out = new ArrayList<>();
        for (BackupMeta m : store.list()) {
            out.add(info(m));
        }
        return out;
    }

    /**
     * Reads every file of backup {@code id} and checks its length and CRC32C against the backup's meta.
     *
     * @return the backup, when every file matches
     * @throws CorruptionException      naming the first bad file (and its offset) and listing each
     *                                  difference: a missing file, another length (truncated), another
     *                                  checksum (bytes changed); or the meta file itself is damaged
     * @throws IllegalArgumentException no backup {@code id}
     */
    public BackupInfo verify(int id) {
        return info(store.verify(id));
    }

    /** {@link #restore(int, Path, FileSystem)} into a local directory. */
    public BackupInfo restore(int id, Path target) {
        return restore(id, target, FileSystem.local());
    }

    /**
     * Restores backup {@code id} into {@code target} on {@code targetFs}, which must not exist or be an
     * empty directory: every file is copied and checked against its length and CRC32C as it goes,
     * {@code CURRENT} last, so a directory a failed restore left is not a DB. The restored DB opens
     * (with {@link DB#open} and the options the source was opened with: column families, merge
     * operators, TTL) to exactly the state at the backup's {@link BackupInfo#sequence()}. It gets a new
     * {@code IDENTITY}: each restored copy is a DB of its own.
     *
     * @throws IllegalArgumentException {@code target} is not empty, or no backup {@code id}
     * @throws CorruptionException      a file of the backup does not match its meta (what was restored is removed)
     */
    public BackupInfo restore(int id, Path target, FileSystem targetFs) {
        if (target == null || targetFs == null) {
            throw new IllegalArgumentException("target and targetFs must not be null");
        }
        return info(store.restore(id, target, targetFs));
    }

    /**
     * Deletes every backup but the newest {@code keep} ones, then the tables no remaining backup holds.
     *
     * @return the ids of the backups deleted
     * @throws IllegalArgumentException {@code keep} is negative
     */
    public List<Integer> purgeOldBackups(int keep) {
        return store.purge(keep);
    }

    /**
     * Deletes backup {@code id}, then the tables no remaining backup holds.
     *
     * @throws IllegalArgumentException no backup {@code id}
     */
    public void deleteBackup(int id) {
        store.delete(id);
    }

    /** Bytes this engine has written (into the backup directory or restore targets) since it was opened. */
    public long bytesCopied() {
        return store.bytesCopied();
    }

    /** The backup directory. */
    public Path backupDir() {
        return store.root();
    }

    /** Releases the backup directory's lock. Idempotent. */
    @Override
    public void close() {
        store.close();
    }

    private static BackupInfo info(BackupMeta m) {
        return new BackupInfo(m.id(), Instant.ofEpochMilli(m.timeMillis()), m.sequence(), m.size(), m.files().size(),
                m.newFiles(), m.newBytes());
    }
}
