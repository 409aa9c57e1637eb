package io.o3lsm.internal.version;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogReader;
import io.o3lsm.format.log.LogWriter;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The MANIFEST and the current {@link Version}: the single writer of the file set.
 *
 * <p>Every open writes a new MANIFEST starting with a snapshot edit and switches CURRENT to it
 * atomically (write a temp file, sync, rename, sync the directory). {@link #logAndApply} appends an
 * edit, syncs, and only then installs the new version, so an installed version is always durable.
 * A MANIFEST that grows past {@link #MAX_MANIFEST_SIZE} is replaced the same way. Right before
 * renaming over CURRENT it asks the DB directory's lock whether it still holds it
 * ({@link FileSystem.Lock#checkHeld}): on shared storage a writer that took the lock over from this
 * one (presumed dead) recovered the lease of the MANIFEST it found, but a CURRENT switched after
 * that would name a MANIFEST it never saw.
 *
 * <p>Thread-safety: {@link #logAndApply} and the recovery methods are synchronized; {@link #current()}
 * and {@link #newFileNumber()} may be called from any thread.
 */
public final class VersionSet implements AutoCloseable {
    static final long MAX_MANIFEST_SIZE = 64L << 20;

    private final FileSystem fs;
    private final Path dir;
    private final FileSystem.Lock dirLock;

    private volatile Version current = Version.empty();
    /** Versions with references (current, or used by read views): their files must stay. */
    private final java.util.Set<Version> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile Runnable obsoleteListener = () -> { };
    private final AtomicLong nextFileNumber = new AtomicLong(2);
    private long logNumber;
    private long lastSequence;
    private long epoch;
    /** Column families (family-aware DBs only): live families by id, and the next id to give. */
    private boolean families;
    private final java.util.TreeMap<Integer, VersionEdit.Family> familyRegistry = new java.util.TreeMap<>();
    private int nextFamilyId;
    private List<byte[]> shardBoundaries = List.of();
    private final Map<Integer, Long> watermarks = new HashMap<>();

    private LogWriter manifest;
    private long manifestNumber;
    private IOException manifestFailure;

    /** {@code dirLock}: the lock of {@code dir} this DB holds, consulted before every CURRENT switch. */
    public VersionSet(FileSystem fs, Path dir, FileSystem.Lock dirLock) {
        this.fs = fs;
        this.dir = dir;
        this.dirLock = dirLock;
    }

    public Version current() {
        return current;
    }

    /** Called (from any thread) when a version is released: files may have become obsolete. */
    public void setObsoleteListener(Runnable r) {
        this.obsoleteListener = r;
    }

    /** Every file number some live version still uses. */
    public java.util.Set<Long> liveFiles() {
        java.util.Set<Long> out = new HashSet<>();
        for (Version v : live) {
            out.addAll(v.liveFiles());
        }
        out.addAll(current.liveFiles());
        return out;
    }

    private void install(Version next) {
        Version prev = current;
        boolean prevHeld = currentHeld;
        live.add(next);
        next.onRelease(() -> {
            live.remove(next);
            obsoleteListener.run();
        });
        next.ref();
        current = next;
        currentHeld = true;
        if (prevHeld) {
            prev.unref();
        }
    }

    /**
     * Whether this set holds a reference on {@link #current}: not on the initial empty version (a
     * replica's first read view may hold one on it, which must not be taken for this set's).
     */
    private boolean currentHeld;

    public long newFileNumber() {
        return nextFileNumber.getAndIncrement();
    }

    /** Numbers reserved durably at a time by {@link #reserveFileNumbers}: one MANIFEST record per block. */
    static final long RESERVE_BLOCK = 4096;
    /** The next file number the MANIFEST records as of its last synced record (guarded by this). */
    private long durableNextFileNumber;

    /**
     * {@code count} fresh file numbers that no later open of this DB hands out again, even if no
     * edit using them is ever installed: before they are returned, the MANIFEST records a next file
     * number beyond them (a record carrying only that counter, synced; written once per
     * {@link #RESERVE_BLOCK} numbers). For outputs written by another process (an offloaded flush),
     * which may still create them after this DB closed or crashed and reopened.
     */
    public synchronized long[] reserveFileNumbers(int count) throws IOException {
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = newFileNumber();
        }
        long needed = out[count - 1] + 1;
        if (needed > durableNextFileNumber) {
            if (manifest == null) {
                throw new IllegalStateException("no MANIFEST open");
            }
            if (manifestFailure != null) {
                throw new IOException("the MANIFEST cannot take more edits after an earlier failure: " + manifestFailure,
                        manifestFailure);
            }
            markFileNumberUsed(needed + RESERVE_BLOCK - 1); // later numbers skip the reserved block's end
            VersionEdit edit = new VersionEdit();
            edit.nextFileNumber = nextFileNumber.get();
            byte[] rec = edit.encode();
            try {
                manifest.addRecord(rec, 0, rec.length);
                manifest.sync();
            } catch (IOException e) {
                manifestFailure = e;
                throw e;
            }
            durableNextFileNumber = edit.nextFileNumber;
        }
        return out;
    }

    /** Makes sure future file numbers are above {@code number} (seen on disk at recovery). */
    public void markFileNumberUsed(long number) {
        nextFileNumber.accumulateAndGet(number + 1, Math::max);
    }

    public synchronized long logNumber() {
        return logNumber;
    }

    /** Last sequence recorded in the MANIFEST (the live value is kept by the DB). */
    public synchronized long lastSequence() {
        return lastSequence;
    }

    public synchronized long epoch() {
        return epoch;
    }

    /**
     * A reader that only looks (DB.listColumnFamilies): {@link #recover} leaves the MANIFEST's lease
     * alone, the DB may be open and writing it elsewhere. Call before {@link #recover}.
     */
    public synchronized VersionSet lookOnly() {
        lookOnly = true;
        return this;
    }

    private boolean lookOnly;

    /** Whether the DB is family-aware (created with column families). */
    public synchronized boolean families() {
        return families;
    }

    /** The live column families, by id (empty unless {@link #families()}). */
    public synchronized List<VersionEdit.Family> liveFamilies() {
        return new ArrayList<>(familyRegistry.values());
    }

    /**
     * Takes a registry edit into memory only (an open creating families): the MANIFEST the open
     * writes next holds it, as it holds all of this state.
     */
    public synchronized void applyRegistry(VersionEdit edit) {
        if (!edit.newFiles.isEmpty() || !edit.deletedFiles.isEmpty()) {
            throw new IllegalArgumentException("a registry edit has no files");
        }
        applyCounters(edit);
    }

    /** The id the next created family gets. */
    public synchronized int nextFamilyId() {
        return nextFamilyId;
    }

    public synchronized List<byte[]> shardBoundaries() {
        return shardBoundaries;
    }

    /** Watermark of a shard range recorded for the current boundaries; 0 if none. */
    public synchronized long watermark(int range) {
        return watermarks.getOrDefault(range, 0L);
    }

    public long manifestNumber() {
        return manifestNumber;
    }

    /**
     * Reads CURRENT and replays the MANIFEST it names. Returns false if there is no CURRENT (no DB).
     */
    public synchronized boolean recover() throws IOException {
        Path currentFile = dir.resolve(FileNames.CURRENT);
        if (!fs.exists(currentFile)) {
            return false;
        }
        String name = readCurrent(currentFile);
        long number = FileNames.manifestNumber(name);
        if (number < 0) {
            throw new CorruptionException(currentFile.toString(), 0,
                    "expected a MANIFEST-NNNNNN name followed by a newline, found \"" + name + "\"");
        }
        Path manifestPath = dir.resolve(name);
        if (!fs.exists(manifestPath)) {
            throw new CorruptionException(currentFile.toString(), 0, "expected " + name + " to exist, found it missing");
        }
        // the previous owner may have left it open: close it (shared file systems), so every record it
        // synced is readable and that owner can add none after this reader
        if (!lookOnly) {
            fs.recoverLease(manifestPath);
        }
        Builder b = new Builder(current);
        boolean sawComparator = false;
        try (FileSystem.ReadableFile f = fs.newReadableFile(manifestPath)) {
            // taken before the reader takes its own: the reader reads at least this far (a writer elsewhere
            // may append meanwhile, which checkUnchangedSinceRecover then sees as a change)
            recoveredManifestSize = f.size();
            LogReader reader = new LogReader(f, LogFormat.KIND_MANIFEST, number, true);
            byte[] rec;
            while ((rec = reader.readRecord()) != null) {
                VersionEdit e = VersionEdit.decode(rec, f.name(), reader.lastRecordOffset());
                if (e.comparator != null) {
                    if (!VersionEdit.COMPARATOR.equals(e.comparator)) {
                        throw new O3Exception("database in " + dir + " uses comparator " + e.comparator
                                + ", this build knows only " + VersionEdit.COMPARATOR);
                    }
                    sawComparator = true;
                }
                applyCounters(e);
                b.apply(e);
            }
        }
        if (!sawComparator) {
            throw new CorruptionException(manifestPath.toString(), 0,
                    "expected a snapshot edit naming the comparator, found none");
        }
        install(b.build());
        markFileNumberUsed(number);
        recoveredManifest = name;
        recoveredLogNumber = logNumber;
        return true;
    }

    /** The MANIFEST {@link #recover} read (as CURRENT named it), its size then, and the log number it ended on. */
    private String recoveredManifest;
    private long recoveredManifestSize;
    private long recoveredLogNumber;

    /**
     * For a reader that only looks ({@link #lookOnly}) beside a DB open read-write elsewhere, after it
     * listed and read the WALs {@link #recover} left to it: throws an {@link IOException} (the caller
     * starts over) if what it read may since have lost a WAL — CURRENT names another MANIFEST, or the
     * MANIFEST read has grown by records that raise the log number. A writer deletes a WAL only after
     * a synced MANIFEST record raising the log number past it, or after switching CURRENT: if neither
     * happened, every WAL at or above the log number recovered was still there when it was listed.
     * Records that leave the log number alone (new tables, file-number reservations) are no change.
     */
    public synchronized void checkUnchangedSinceRecover() throws IOException {
        if (recoveredManifest == null) {
            throw new IllegalStateException("nothing recovered");
        }
        Path currentFile = dir.resolve(FileNames.CURRENT);
        String name = fs.exists(currentFile) ? readCurrent(currentFile) : null;
        if (!recoveredManifest.equals(name)) {
            throw new IOException("CURRENT in " + dir + " switched from " + recoveredManifest + " to " + name
                    + " while the WALs were read (a writer there reopened or started a new MANIFEST)");
        }
        Path manifestPath = dir.resolve(recoveredManifest);
        long size = fs.size(manifestPath);
        if (size == recoveredManifestSize) {
            return;
        }
        long log = recoveredLogNumber;
        try (FileSystem.ReadableFile f = fs.newReadableFile(manifestPath)) {
            LogReader reader = new LogReader(f, LogFormat.KIND_MANIFEST, FileNames.manifestNumber(recoveredManifest),
                    true);
            byte[] rec;
            while ((rec = reader.readRecord()) != null) {
                VersionEdit e = VersionEdit.decode(rec, f.name(), reader.lastRecordOffset());
                if (e.logNumber != null) {
                    log = e.logNumber;
                }
            }
        }
        if (log != recoveredLogNumber) {
            throw new IOException("the log number in " + manifestPath + " rose from " + recoveredLogNumber + " to "
                    + log + " while the WALs were read (a writer there flushed and may have deleted a WAL)");
        }
    }

    private String readCurrent(Path currentFile) throws IOException {
        try (FileSystem.ReadableFile f = fs.newReadableFile(currentFile)) {
            long size = f.size();
            if (size == 0 || size > 256) {
                throw new CorruptionException(currentFile.toString(), 0,
                        "expected a MANIFEST name of 1..255 bytes, found a file of " + size + " bytes");
            }
            byte[] b = new byte[(int) size];
            f.readFully(0, b, 0, b.length);
            String s = new String(b, StandardCharsets.UTF_8);
            if (!s.endsWith("\n")) {
                throw new CorruptionException(currentFile.toString(), size - 1, "expected a trailing newline");
            }
            return s.substring(0, s.length() - 1);
        }
    }

    private void applyCounters(VersionEdit e) {
        if (e.logNumber != null) {
            logNumber = e.logNumber;
        }
        if (e.nextFileNumber != null) {
            markFileNumberUsed(e.nextFileNumber - 1);
        }
        if (e.lastSequence != null) {
            lastSequence = Math.max(lastSequence, e.lastSequence);
        }
        if (e.epoch != null) {
            epoch = e.epoch;
        }
        if (e.shardBoundaries != null) {
            shardBoundaries = e.shardBoundaries;
            watermarks.clear();
        }
        watermarks.putAll(e.rangeWatermarks);
        if (e.families) {
            families = true;
        }
        for (VersionEdit.Family f : e.addedFamilies) {
            familyRegistry.put(f.id(), f);
            nextFamilyId = Math.max(nextFamilyId, f.id() + 1);
        }
        for (int id : e.droppedFamilies) {
            familyRegistry.remove(id);
        }
        if (e.nextFamilyId != null) {
            nextFamilyId = Math.max(nextFamilyId, e.nextFamilyId);
        }
    }

    /**
     * Starts a fresh MANIFEST holding a snapshot of the current state merged with {@code edit}, and
     * points CURRENT at it. Used at every open.
     */
    public synchronized void writeNewManifest(VersionEdit edit) throws IOException {
        applyCounters(edit);
        Version next = new Builder(current).apply(edit).build();
        switchManifest(next);
        install(next);
    }

    /** Appends {@code edit} to the MANIFEST, syncs it, then installs the resulting version. */
    public synchronized Version logAndApply(VersionEdit edit) throws IOException {
        if (manifest == null) {
            throw new IllegalStateException("no MANIFEST open");
        }
        edit.nextFileNumber = nextFileNumber.get();
        if (manifestFailure != null) {
            throw new IOException("the MANIFEST cannot take more edits after an earlier failure: " + manifestFailure,
                    manifestFailure);
        }
        Version next = new Builder(current).apply(edit).build();
        byte[] rec = edit.encode();
        try {
            manifest.addRecord(rec, 0, rec.length);
            manifest.sync();
        } catch (IOException e) {
            manifestFailure = e; // the edit may or may not be durable: no further edits
            throw e;
        }
        durableNextFileNumber = Math.max(durableNextFileNumber, edit.nextFileNumber);
        applyCounters(edit);
        install(next);
        if (manifest.size() > MAX_MANIFEST_SIZE) {
            try {
                switchManifest(next);
            } catch (IOException e) {
                // the edit itself is durable and installed; only later edits are refused
                manifestFailure = e;
            }
        }
        return next;
    }

    private void switchManifest(Version v) throws IOException {
        long number = newFileNumber();
        Path path = dir.resolve(FileNames.manifest(number));
        VersionEdit snap = snapshot(v);
        byte[] rec = snap.encode();
        LogWriter w = new LogWriter(fs.newWritableFile(path), LogFormat.KIND_MANIFEST, number);
        boolean renamed = false;
        try {
            w.addRecord(rec, 0, rec.length);
            w.sync();
            fs.syncDirectory(dir);
            FileNames.writeCurrentTemp(fs, dir, number);
            dirLock.checkHeld(); // refused: CURRENT still names the old MANIFEST, the new one is deleted
            fs.rename(dir.resolve(FileNames.temp(number)), dir.resolve(FileNames.CURRENT));
            renamed = true;
            fs.syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            try {
                w.close();
                if (!renamed) {
                    fs.delete(path); // CURRENT still names the old MANIFEST
                }
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup); // the switch's own failure is what the caller must see
            }
            if (renamed) {
                manifest = w; // CURRENT may already name the new one: keep it, refuse further edits
                manifestNumber = number;
                manifestFailure = e instanceof IOException io ? io : new IOException(e);
            }
            throw e;
        }
        LogWriter old = manifest;
        long oldNumber = manifestNumber;
        manifest = w;
        manifestNumber = number;
        if (old != null) {
            // the switch is done and durable: failing to tidy the old MANIFEST is not a failed switch
            try {
                old.close();
                fs.delete(dir.resolve(FileNames.manifest(oldNumber)));
            } catch (IOException | RuntimeException e) {
                java.util.logging.Logger.getLogger("io.o3lsm").warning("cannot remove the old MANIFEST "
                        + FileNames.manifest(oldNumber) + " in " + dir + " (the next open deletes it): " + e);
            }
        }
    }

    /** A snapshot edit of the current state and that version, pinned (the caller unrefs it). */
    public record Pinned(VersionEdit edit, Version version) {
    }

    /** The current state as one snapshot edit, with its version pinned: what a catching-up backup gets. */
    public synchronized Pinned pinnedSnapshot() {
        Version v = current;
        v.ref();
        return new Pinned(snapshot(v), v);
    }

    private VersionEdit snapshot(Version v) {
        VersionEdit e = new VersionEdit();
        e.comparator = VersionEdit.COMPARATOR;
        e.logNumber = logNumber;
        e.nextFileNumber = nextFileNumber.get();
        e.lastSequence = lastSequence;
        e.epoch = epoch;
        e.shardBoundaries = shardBoundaries;
        e.rangeWatermarks.putAll(watermarks);
        if (families) {
            e.families = true;
            e.addedFamilies.addAll(familyRegistry.values());
            e.nextFamilyId = nextFamilyId;
        }
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            for (FileMetaData f : v.files(l)) {
                e.addFile(l, f);
            }
        }
        return e;
    }

    @Override
    public synchronized void close() throws IOException {
        if (manifest != null) {
            manifest.close();
            manifest = null;
        }
    }

    /** Applies edits to a base version. */
    static final class Builder {
        private final List<Map<Long, FileMetaData>> levels = new ArrayList<>();

        Builder(Version base) {
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                Map<Long, FileMetaData> m = new HashMap<>();
                for (FileMetaData f : base.files(l)) {
                    m.put(f.number, f);
                }
                levels.add(m);
            }
        }

        Builder apply(VersionEdit e) {
            for (long[] d : e.deletedFiles) {
                if (d[0] >= Version.NUM_LEVELS) {
                    throw new O3Exception("VersionEdit deletes a file at level " + d[0]);
                }
                levels.get((int) d[0]).remove(d[1]);
            }
            for (Map.Entry<Integer, FileMetaData> n : e.newFiles) {
                if (n.getKey() >= Version.NUM_LEVELS) {
                    throw new O3Exception("VersionEdit adds a file at level " + n.getKey());
                }
                levels.get(n.getKey()).put(n.getValue().number, n.getValue());
            }
            return this;
        }

        Version build() {
            List<List<FileMetaData>> out = new ArrayList<>();
            Set<Long> seen = new HashSet<>();
            for (Map<Long, FileMetaData> m : levels) {
                for (Long n : m.keySet()) {
                    if (!seen.add(n)) {
                        throw new O3Exception("file #" + n + " appears at two levels");
                    }
                }
                out.add(new ArrayList<>(m.values()));
            }
            return new Version(out);
        }
    }
}
