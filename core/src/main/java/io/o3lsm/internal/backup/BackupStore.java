package io.o3lsm.internal.backup;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.internal.db.PinnedCheckpoint;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.logging.Logger;
import java.util.zip.CRC32C;

/**
 * The backup directory behind {@code io.o3lsm.BackupEngine} ({@code docs/operations/backups.md}):
 * <pre>
 *   LOCK                       held while a BackupEngine has the directory open
 *   meta/N                     backup N's meta file (docs/format/backup-meta.md); the backup exists iff it does
 *   meta/N.tmp                 a meta file being written (renamed to meta/N, the commit point)
 *   shared/NNNNNN_SIZE_CRC.sst a table, named by its name in the DB, length and CRC32C (hex): one copy
 *                              however many backups hold it
 *   shared/*.tmp               a table being copied
 *   private/N/                 backup N's other files: WALs, MANIFEST, CURRENT, IDENTITY, TTL
 *   tmp/N/                     the checkpoint a backup is taken from (without its tables, which are read
 *                              from the DB's directory), when the DB is on this file system
 * </pre>
 * Everything goes through the {@link FileSystem} SPI. A file in {@code shared/} has its final name
 * only once it is complete; a backup's meta is written last, to a temp name, synced and renamed, so a
 * backup interrupted anywhere is not listed; what it left ({@code tmp/}, {@code private/N/} without
 * {@code meta/N}, shared files no meta names, {@code *.tmp}) is removed when the directory is next
 * opened. Shared files are reference-counted by the metas: a deletion removes the meta first (the
 * commit point), then the private files, then every shared file no remaining meta names.
 *
 * <p>Thread-safe: every public method holds the store's monitor. One store per directory: the LOCK
 * keeps out other processes and other stores of this process.
 */
public final class BackupStore implements Closeable {
    static final Logger LOG = Logger.getLogger("io.o3lsm.backup");
    static final String META = "meta";
    static final String SHARED = "shared";
    static final String PRIVATE = "private";
    static final String TMP = "tmp";
    static final String LOCK = "LOCK";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final int COPY_BUFFER = 1 << 20;

    private final FileSystem fs;
    private final Path root;
    private Closeable lock;
    /** Bytes written into the backup directory or a restore target since open (tests, logs). */
    private long bytesCopied;

    private BackupStore(FileSystem fs, Path root, Closeable lock) {
        this.fs = fs;
        this.root = root;
        this.lock = lock;
    }

    /**
     * Opens (creating if missing) the backup directory {@code root} on {@code fs}, takes its LOCK, and
     * removes what an interrupted backup or deletion left.
     *
     * @throws O3Exception the LOCK is held (another BackupEngine has the directory open), or the
     *                     directory cannot be created or read
     */
    public static BackupStore open(Path root, FileSystem fs) {
        Closeable lock;
        try {
            fs.createDirectories(root);
            lock = fs.lock(root.resolve(LOCK));
        } catch (IOException ex) {
            throw new O3Exception("cannot open the backup directory " + root + ": " + ex.getMessage()
                    + (ex.getMessage() != null && ex.getMessage().contains("held")
                            ? " (another BackupEngine has it open: one at a time per backup directory)" : ""), ex);
        }
        BackupStore s = new BackupStore(fs, root, lock);
        try {
            for (String d : List.of(META, SHARED, PRIVATE, TMP)) {
                fs.createDirectories(root.resolve(d));
            }
            s.cleanUp();
        } catch (IOException | RuntimeException ex) {
            s.close();
            if (ex instanceof RuntimeException r) {
                throw r;
            }
            throw new O3Exception("cannot open the backup directory " + root + ": " + ex, ex);
        }
        return s;
    }

    public Path root() {
        return root;
    }

    public synchronized long bytesCopied() {
        return bytesCopied;
    }

    // ------------------------------------------------------------------ create

    /**
     * Backs up {@code db}: a checkpoint of it without its tables ({@link DBImpl#checkpointWithoutTables})
     * is written into a staging directory ({@code tmp/N} here when the DB's file system is this store's,
     * else a sibling of the DB's directory); while the checkpoint's version is pinned, its tables not
     * yet in {@code shared/} are copied there straight from the DB's directory; the checkpoint's other
     * files go into {@code private/N/} (renamed when on this file system, else copied), and the meta is
     * written last. No table is ever written to the staging directory. It is removed whatever happens.
     */
    public synchronized BackupMeta create(DBImpl db) {
        checkOpen();
        FileSystem dbFs = db.fileSystem();
        Path dbDir = db.directory();
        int id = nextId();
        long now = System.currentTimeMillis();
        boolean sameFs = dbFs == fs;
        Path stage = sameFs ? root.resolve(TMP).resolve(Integer.toString(id))
                : dbDir.resolveSibling(dbDir.getFileName() + ".backup-" + id + "-" + Long.toHexString(System.nanoTime()));
        Path priv = root.resolve(PRIVATE).resolve(Integer.toString(id));
        Path shared = root.resolve(SHARED);
        List<Path> added = new ArrayList<>();
        boolean committed = false;
        try {
            if (sameFs) {
                deleteDir(fs, stage);
            }
            BackupMeta meta;
            try (PinnedCheckpoint cp = db.checkpointWithoutTables(stage)) {
                long sequence = cp.sequence();
                TreeMap<String, Long> tables = new TreeMap<>(); // name -> length, in the DB's directory
                for (PinnedCheckpoint.Table t : cp.tables()) {
                    tables.put(t.name(), t.size());
                }
                TreeSet<String> names = new TreeSet<>(dbFs.list(stage));
                for (String n : names) {
                    if (tables.containsKey(n)) {
                        throw new IOException("the checkpoint in " + stage + " holds table " + n + ": expected none");
                    }
                }
                names.addAll(tables.keySet());
                fs.createDirectories(priv);
                Set<String> inShared = new HashSet<>(fs.list(shared));
                List<BackupMeta.Entry> entries = new ArrayList<>();
                int newFiles = 0;
                long newBytes = 0;
                for (String name : names) {
                    Long tableSize = tables.get(name);
                    if (tableSize != null) {
                        cp.checkNotClosing();
                        Path from = cp.directory().resolve(name);
                        long size = tableSize;
                        String prefix = name.substring(0, name.length() - ".sst".length()) + "_" + size + "_";
                        int crc = 0;
                        String stored = null;
                        boolean candidate = inShared.stream().anyMatch(n -> n.startsWith(prefix) && !n.endsWith(TEMP_SUFFIX));
                        if (candidate) { // maybe backed up already: its CRC decides
                            crc = crcOf(dbFs, from);
                            String n = prefix + BackupMetaWriter.hex(crc) + ".sst";
                            if (inShared.contains(n)) {
                                stored = n;
                            }
                        }
                        if (stored == null) { // new: copy to a temp name, checksumming, then name it by its CRC
                            Path tmp = shared.resolve(prefix + id + TEMP_SUFFIX);
                            added.add(tmp);
                            crc = copy(dbFs, from, fs, tmp, size);
                            stored = prefix + BackupMetaWriter.hex(crc) + ".sst";
                            Path fin = shared.resolve(stored);
                            added.add(fin);
                            fs.rename(tmp, fin);
                            inShared.add(stored);
                            newFiles++;
                            newBytes += size;
                        }
                        entries.add(new BackupMeta.Entry(name, SHARED + "/" + stored, size, crc));
                    } else {
                        Path from = stage.resolve(name);
                        Path to = priv.resolve(name);
                        long size = dbFs.size(from);
                        int crc;
                        if (sameFs) { // a file the checkpoint wrote here: move it
                            crc = crcOf(dbFs, from);
                            fs.rename(from, to);
                        } else {
                            crc = copy(dbFs, from, fs, to, size);
                        }
                        newFiles++;
                        newBytes += size;
                        entries.add(new BackupMeta.Entry(name, PRIVATE + "/" + id + "/" + name, size, crc));
                    }
                }
                fs.syncDirectory(shared);
                fs.syncDirectory(priv);
                fs.syncDirectory(root.resolve(PRIVATE));
                meta = new BackupMeta(id, now, sequence, newFiles, newBytes, entries);
            }
            writeMeta(meta);
            committed = true;
            LOG.info("backup " + id + " of " + dbDir + " written to " + root + " at sequence " + meta.sequence() + ": "
                    + meta.files().size() + " files, " + meta.newFiles() + " new (" + meta.newBytes() + " bytes)");
            return meta;
        } catch (IOException ex) {
            throw new O3Exception("backup " + id + " of " + dbDir + " to " + root + " failed (it is not listed; what it "
                    + "wrote is removed now or at the next open): " + ex, ex);
        } finally {
            if (!committed) {
                try {
                    for (Path p : added) {
                        fs.delete(p);
                    }
                    deleteDir(fs, priv);
                    fs.delete(metaPath(id).resolveSibling(id + TEMP_SUFFIX));
                } catch (IOException | RuntimeException cleanup) {
                    LOG.warning("backup " + id + " failed and its files could not be removed (the next open of " + root
                            + " removes them): " + cleanup);
                }
            }
            try {
                deleteDir(dbFs, stage);
            } catch (IOException | RuntimeException cleanup) {
                LOG.warning("cannot remove the staging directory " + stage + " of backup " + id + ": " + cleanup);
            }
        }
    }

    /** meta/N.tmp, synced, renamed to meta/N, directory synced: the backup's commit point. */
    private void writeMeta(BackupMeta meta) throws IOException {
        byte[] b = BackupMetaWriter.encode(meta);
        Path fin = metaPath(meta.id());
        Path tmp = fin.resolveSibling(meta.id() + TEMP_SUFFIX);
        try (FileSystem.WritableFile f = fs.newWritableFile(tmp)) {
            f.append(b, 0, b.length);
            f.sync();
        }
        fs.rename(tmp, fin);
        fs.syncDirectory(fin.getParent());
    }

    private int nextId() {
        int max = 0;
        try {
            for (String d : List.of(META, PRIVATE, TMP)) {
                for (String n : fs.list(root.resolve(d))) {
                    int id = idOf(n.endsWith(TEMP_SUFFIX) ? n.substring(0, n.length() - TEMP_SUFFIX.length()) : n);
                    max = Math.max(max, id);
                }
            }
        } catch (IOException ex) {
            throw new O3Exception("cannot list the backup directory " + root + ": " + ex, ex);
        }
        return max + 1;
    }

    // ------------------------------------------------------------------ list, read

    /** Every backup whose meta reads back, by id; an unreadable meta is logged and left out. */
    public synchronized List<BackupMeta> list() {
        checkOpen();
        return new ArrayList<>(readMetas(null).values());
    }

    /**
     * The meta of backup {@code id}.
     *
     * @throws IllegalArgumentException no such backup
     * @throws CorruptionException      its meta file is damaged
     */
    public synchronized BackupMeta meta(int id) {
        checkOpen();
        Path p = metaPath(id);
        try {
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("no backup " + id + " in " + root + " (backups: "
                        + readMetas(null).keySet() + ")");
            }
            return BackupMetaReader.decode(p.toString(), readAll(p), id);
        } catch (IOException ex) {
            throw new O3Exception("cannot read " + p + ": " + ex, ex);
        }
    }

    /** Metas by id; the names of unreadable ones go to {@code unreadable} (null: logged only). */
    private TreeMap<Integer, BackupMeta> readMetas(List<String> unreadable) {
        TreeMap<Integer, BackupMeta> out = new TreeMap<>();
        try {
            for (String n : fs.list(root.resolve(META))) {
                int id = idOf(n);
                if (id <= 0) {
                    if (!n.endsWith(TEMP_SUFFIX)) { // not a name this store writes: what it names is unknown
                        LOG.warning(root.resolve(META).resolve(n) + " is not a backup meta name (meta/N) and is ignored");
                        if (unreadable != null) {
                            unreadable.add(n);
                        }
                    }
                    continue;
                }
                Path p = metaPath(id);
                try {
                    out.put(id, BackupMetaReader.decode(p.toString(), readAll(p), id));
                } catch (O3Exception | IOException ex) {
                    LOG.warning("backup " + id + " in " + root + " is unreadable and not listed: " + ex.getMessage());
                    if (unreadable != null) {
                        unreadable.add(n);
                    }
                }
            }
        } catch (IOException ex) {
            throw new O3Exception("cannot list " + root.resolve(META) + ": " + ex, ex);
        }
        return out;
    }

    // ------------------------------------------------------------------ verify

    /**
     * Reads every file of backup {@code id} and compares its length and CRC32C with the meta's.
     *
     * @throws CorruptionException naming the first bad file (its path in the backup directory and its
     *                             DB name), the offset where it differs, and every difference found
     */
    public synchronized BackupMeta verify(int id) {
        BackupMeta m = meta(id);
        List<String> problems = new ArrayList<>();
        String firstFile = null;
        long firstOffset = 0;
        for (BackupMeta.Entry e : m.files()) {
            Path p = root.resolve(e.stored());
            String problem = null;
            long offset = 0;
            try {
                if (!fs.exists(p)) {
                    problem = "missing";
                } else {
                    long size = fs.size(p);
                    if (size != e.size()) {
                        problem = "length " + e.size() + " in the meta, found " + size
                                + (size < e.size() ? " (truncated)" : " (longer)");
                        offset = Math.min(size, e.size());
                    } else {
                        int crc = crcOf(fs, p);
                        if (crc != e.crc()) {
                            problem = "CRC32C " + BackupMetaWriter.hex(e.crc()) + " in the meta, found "
                                    + BackupMetaWriter.hex(crc) + " (same length: bytes changed)";
                        }
                    }
                }
            } catch (IOException ex) {
                problem = "unreadable: " + ex;
            }
            if (problem != null) {
                problems.add(e.stored() + " (" + e.name() + "): " + problem);
                if (firstFile == null) {
                    firstFile = p.toString();
                    firstOffset = offset;
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new CorruptionException(firstFile, firstOffset, "backup " + id + " does not verify, " + problems.size()
                    + " bad file(s): " + String.join("; ", problems));
        }
        return m;
    }

    // ------------------------------------------------------------------ restore

    /**
     * Copies backup {@code id} into {@code target} on {@code targetFs} (new or empty), checking every
     * file's length and CRC32C as it is copied; CURRENT last (temp + rename), a new IDENTITY. A failure
     * removes what was written.
     *
     * @throws IllegalArgumentException {@code target} is not empty, or no such backup
     * @throws CorruptionException      a file of the backup does not match its meta (nothing restored)
     */
    public synchronized BackupMeta restore(int id, Path target, FileSystem targetFs) {
        BackupMeta m = meta(id);
        List<Path> written = new ArrayList<>();
        boolean created = false;
        try {
            if (targetFs.exists(target)) {
                List<String> there = targetFs.list(target);
                if (!there.isEmpty()) {
                    Collections.sort(there);
                    throw new IllegalArgumentException("restore target " + target + " is not empty (" + there.size()
                            + " entries, e.g. " + there.get(0) + "): a backup is restored into a new or empty "
                            + "directory; remove its contents or name another");
                }
            } else {
                targetFs.createDirectories(target);
                created = true;
            }
            BackupMeta.Entry current = null;
            long manifest = -1;
            for (BackupMeta.Entry e : m.files()) {
                if (e.name().equals(FileNames.CURRENT)) {
                    current = e;
                    continue;
                }
                if (e.name().equals("IDENTITY")) {
                    continue; // a restored copy is a DB of its own (docs/operations/backups.md)
                }
                manifest = Math.max(manifest, FileNames.manifestNumber(e.name()));
                Path to = target.resolve(e.name());
                written.add(to);
                restoreFile(id, e, targetFs, to);
            }
            if (current == null || manifest < 0) {
                throw new CorruptionException(root.resolve(META).resolve(Integer.toString(id)).toString(), 0,
                        "a backup with CURRENT and a MANIFEST, found " + (current == null ? "no CURRENT" : "no MANIFEST"));
            }
            Path identity = target.resolve("IDENTITY");
            written.add(identity);
            byte[] idBytes = (UUID.randomUUID() + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileSystem.WritableFile f = targetFs.newWritableFile(identity)) {
                f.append(idBytes, 0, idBytes.length);
                f.sync();
            }
            Path tmp = target.resolve(FileNames.temp(manifest));
            written.add(tmp);
            restoreFile(id, current, targetFs, tmp);
            written.add(target.resolve(FileNames.CURRENT));
            targetFs.rename(tmp, target.resolve(FileNames.CURRENT));
            targetFs.syncDirectory(target);
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
                targetFs.syncDirectory(parent);
            }
            LOG.info("backup " + id + " of " + root + " restored to " + target + " (" + m.files().size() + " files, "
                    + m.size() + " bytes)");
            return m;
        } catch (IOException ex) {
            removeRestored(targetFs, target, written, created, ex);
            throw new O3Exception("restore of backup " + id + " from " + root + " to " + target + " failed (nothing of it "
                    + "is left there): " + ex, ex);
        } catch (RuntimeException ex) {
            removeRestored(targetFs, target, written, created, ex);
            throw ex;
        }
    }

    private void restoreFile(int id, BackupMeta.Entry e, FileSystem targetFs, Path to) throws IOException {
        Path from = root.resolve(e.stored());
        int crc = copy(fs, from, targetFs, to, e.size());
        if (crc != e.crc()) {
            throw new CorruptionException(from.toString(), 0, "CRC32C " + BackupMetaWriter.hex(e.crc()) + " of "
                    + e.name() + " in the meta of backup " + id + ", found " + BackupMetaWriter.hex(crc));
        }
    }

    private static void removeRestored(FileSystem targetFs, Path target, List<Path> written, boolean created,
            Throwable failure) {
        try {
            for (Path p : written) {
                targetFs.delete(p);
            }
            if (created) {
                targetFs.delete(target);
            }
        } catch (IOException | RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }

    // ------------------------------------------------------------------ delete, purge, clean-up

    /**
     * Deletes backup {@code id}: its meta (the commit point), its private files, then every shared file
     * no remaining backup names.
     *
     * @throws IllegalArgumentException no such backup
     */
    public synchronized void delete(int id) {
        checkOpen();
        try {
            if (!fs.exists(metaPath(id))) {
                throw new IllegalArgumentException("no backup " + id + " in " + root + " (backups: "
                        + readMetas(null).keySet() + ")");
            }
            deleteNoGc(id);
            collectShared();
        } catch (IOException ex) {
            throw new O3Exception("deleting backup " + id + " from " + root + " failed (its meta is "
                    + "gone, the next open removes the rest): " + ex, ex);
        }
    }

    /** Deletes every backup but the newest {@code keep} (by id); returns the ids deleted. */
    public synchronized List<Integer> purge(int keep) {
        checkOpen();
        if (keep < 0) {
            throw new IllegalArgumentException("keep must be >= 0, got " + keep);
        }
        List<Integer> ids = new ArrayList<>(readMetas(null).keySet());
        List<Integer> gone = new ArrayList<>(ids.subList(0, Math.max(0, ids.size() - keep)));
        try {
            for (int id : gone) {
                deleteNoGc(id);
            }
            collectShared();
        } catch (IOException ex) {
            throw new O3Exception("purging " + root + " failed (the next open removes what is left of the backups "
                    + "whose meta is gone): " + ex, ex);
        }
        if (!gone.isEmpty()) {
            LOG.info("purged backups " + gone + " from " + root + ", kept " + Math.min(keep, ids.size()));
        }
        return gone;
    }

    private void deleteNoGc(int id) throws IOException {
        fs.delete(metaPath(id));
        fs.syncDirectory(root.resolve(META));
        deleteDir(fs, root.resolve(PRIVATE).resolve(Integer.toString(id)));
    }

    /**
     * Deletes the shared files no readable meta names (and temp files); does nothing to them while a
     * meta is unreadable, since the files it names are unknown. Returns how many it deleted.
     */
    private int collectShared() throws IOException {
        List<String> unreadable = new ArrayList<>();
        TreeMap<Integer, BackupMeta> metas = readMetas(unreadable);
        if (!unreadable.isEmpty()) {
            LOG.warning("not deleting unreferenced shared files of " + root + ": meta file(s) " + unreadable
                    + " cannot be read, and the files they name are unknown");
            return 0;
        }
        Set<String> referenced = new HashSet<>();
        for (BackupMeta m : metas.values()) {
            for (BackupMeta.Entry e : m.files()) {
                referenced.add(e.stored());
            }
        }
        int n = 0;
        Path shared = root.resolve(SHARED);
        for (String name : fs.list(shared)) {
            if (!referenced.contains(SHARED + "/" + name)) {
                fs.delete(shared.resolve(name));
                n++;
            }
        }
        if (n > 0) {
            fs.syncDirectory(shared);
        }
        return n;
    }

    /** At open: removes staging directories, temp metas, private directories without a meta, unreferenced shared files. */
    private void cleanUp() throws IOException {
        List<String> removed = new ArrayList<>();
        for (String n : fs.list(root.resolve(TMP))) {
            deleteDir(fs, root.resolve(TMP).resolve(n));
            removed.add(TMP + "/" + n);
        }
        for (String n : fs.list(root.resolve(META))) {
            if (n.endsWith(TEMP_SUFFIX)) {
                fs.delete(root.resolve(META).resolve(n));
                removed.add(META + "/" + n);
            }
        }
        for (String n : fs.list(root.resolve(PRIVATE))) {
            if (!fs.exists(root.resolve(META).resolve(n))) {
                deleteDir(fs, root.resolve(PRIVATE).resolve(n));
                removed.add(PRIVATE + "/" + n);
            }
        }
        int shared = collectShared();
        if (!removed.isEmpty() || shared > 0) {
            LOG.info("backup directory " + root + ": removed what interrupted backups left: " + removed
                    + (shared > 0 ? " and " + shared + " unreferenced shared file(s)" : ""));
        }
    }

    // ------------------------------------------------------------------ files

    private Path metaPath(int id) {
        return root.resolve(META).resolve(Integer.toString(id));
    }

    /** A positive decimal id as the store writes it (no leading zero), or -1. */
    private static int idOf(String name) {
        if (name.isEmpty() || name.length() > 9 || name.charAt(0) == '0'
                || !name.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return Integer.parseInt(name);
    }

    private byte[] readAll(Path p) throws IOException {
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            long size = f.size();
            if (size > BackupMeta.MAX_BYTES) {
                throw BackupMetaReader.tooLarge(p.toString(), size);
            }
            byte[] b = new byte[(int) size];
            f.readFully(0, b, 0, b.length);
            return b;
        }
    }

    private static int crcOf(FileSystem fs, Path p) throws IOException {
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            return io.o3lsm.format.Crc32c.ofFile(f);
        }
    }

    /**
     * Copies {@code length} bytes of {@code src} into a new {@code dst} (synced), returning their
     * CRC32C. A source of another length is reported as a {@link CorruptionException} (nothing the
     * engine writes changes length once written).
     */
    private int copy(FileSystem from, Path src, FileSystem to, Path dst, long length) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileSystem.ReadableFile in = from.newReadableFile(src)) {
            long size = in.size();
            if (size != length) {
                throw new CorruptionException(src.toString(), Math.min(size, length), "length " + length + ", found "
                        + size + (size < length ? " (truncated)" : " (longer)"));
            }
            byte[] buf = new byte[(int) Math.min(COPY_BUFFER, Math.max(length, 1))];
            try (FileSystem.WritableFile out = to.newWritableFile(dst)) {
                for (long pos = 0; pos < length;) {
                    int n = (int) Math.min(buf.length, length - pos);
                    in.readFully(pos, buf, 0, n);
                    crc.update(buf, 0, n);
                    out.append(buf, 0, n);
                    pos += n;
                }
                out.sync();
            }
        }
        bytesCopied += length;
        return (int) crc.getValue();
    }

    /** Deletes the files of a flat directory, then the directory; nothing if it does not exist. */
    private static void deleteDir(FileSystem fs, Path dir) throws IOException {
        if (!fs.exists(dir)) {
            return;
        }
        for (String n : fs.list(dir)) {
            fs.delete(dir.resolve(n));
        }
        fs.delete(dir);
    }

    private void checkOpen() {
        if (lock == null) {
            throw new IllegalStateException("the BackupEngine of " + root + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException ex) {
                LOG.warning("cannot release " + root.resolve(LOCK) + ": " + ex);
            }
            lock = null;
        }
    }
}
