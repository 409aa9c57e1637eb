package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogWriter;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.internal.version.VersionEdit;
import io.o3lsm.internal.version.VersionSet;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code DB.checkpoint(target)}: writes an openable copy of the live DB into a new directory, cut at
 * one sequence number, while writes continue (docs/operations/checkpoints.md).
 *
 * <p>The cut: with WAL deletion held ({@link WalSet#holdDeletion}), the caller heads the writer queue
 * alone ({@link WriteQueue#enterAlone}) just long enough to sync the current WAL and read its length
 * ({@link WalSet#syncedCut}), {@code Engine.lastSequence}, and a MANIFEST snapshot with its version
 * pinned ({@link VersionSet#pinnedSnapshot}). No group is appended meanwhile, so the WAL ends at the
 * record of that sequence, and no table of the pinned version holds a later write. Then, with no lock
 * held: the pinned version's tables are hard-linked ({@link FileSystem#link}) or copied, the WALs from
 * the snapshot's log number up to the cut's are copied (the last one to the cut's length), and the
 * target gets a MANIFEST written from the snapshot, a new IDENTITY, the TTL marker if the DB has one,
 * and CURRENT last. The pinned version keeps its tables from deletion, the hold keeps the WALs.
 *
 * <p>Stateless; one call per checkpoint, on the caller's thread. Mutex not held on entry.
 */
final class CheckpointWriter {
    private static final int COPY_BUFFER = 1 << 20;

    private final Engine e;
    private final Path target;
    /** Files created in the target so far (removed if the checkpoint fails). */
    private final List<Path> created = new ArrayList<>();
    private boolean linksUnsupported;
    int linked;
    int copied;

    CheckpointWriter(Engine e, Path target) {
        this.e = e;
        this.target = target;
    }

    /** Writes the checkpoint; returns the sequence it is cut at. */
    long write() {
        FileSystem fs = e.fs;
        e.checkOpen();
        try {
            if (fs.exists(target)) {
                throw new IllegalArgumentException("checkpoint target " + target + " exists: a checkpoint is written "
                        + "into a new directory (remove it, or name another)");
            }
        } catch (IOException ex) {
            throw new O3Exception("checkpoint of " + e.dir + " to " + target + " failed: " + ex, ex);
        }
        e.wals.holdDeletion();
        VersionSet.Pinned pinned = null;
        boolean dirCreated = false;
        try {
            WalSet.Cut cut;
            long sequence;
            e.mutex.lock();
            try {
                e.checkOpen();
                e.writes.enterAlone();
            } finally {
                e.mutex.unlock();
            }
            try {
                e.checkOpen();
                cut = e.wals.syncedCut();
                sequence = e.lastSequence;
                pinned = e.versions.pinnedSnapshot();
            } finally {
                e.mutex.lock();
                try {
                    e.writes.leave();
                } finally {
                    e.mutex.unlock();
                }
            }
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
                fs.createDirectories(parent);
            }
            if (fs.exists(target)) { // created meanwhile
                throw new IllegalArgumentException("checkpoint target " + target + " exists: a checkpoint is written "
                        + "into a new directory (remove it, or name another)");
            }
            fs.createDirectories(target);
            dirCreated = true;
            copyTables(pinned.version());
            copyWals(pinned.edit().logNumber, cut);
            Path ttl = e.dir.resolve(TtlMarker.NAME);
            if (fs.exists(ttl)) {
                copy(ttl, target.resolve(TtlMarker.NAME), fs.size(ttl));
            }
            created.add(target.resolve("IDENTITY"));
            Recovery.identity(fs, target); // a new one: a checkpoint is a DB of its own from its first write
            long manifest = writeManifest(pinned.edit());
            FileNames.writeCurrentTemp(fs, target, manifest);
            created.add(target.resolve(FileNames.temp(manifest)));
            created.add(target.resolve(FileNames.CURRENT));
            fs.rename(target.resolve(FileNames.temp(manifest)), target.resolve(FileNames.CURRENT));
            fs.syncDirectory(target);
            if (parent != null) {
                fs.syncDirectory(parent);
            }
            Engine.LOG.info("checkpoint of " + e.dir + " written to " + target + " at sequence " + sequence + ": "
                    + linked + " tables linked, " + copied + " files copied");
            return sequence;
        } catch (IOException ex) {
            removePartial(dirCreated, ex);
            throw new O3Exception("checkpoint of " + e.dir + " to " + target + " failed (nothing of it is left "
                    + "there): " + ex, ex);
        } catch (RuntimeException | Error ex) {
            removePartial(dirCreated, ex);
            throw ex;
        } finally {
            if (pinned != null) {
                pinned.version().unref();
            }
            e.wals.releaseDeletion();
        }
    }

    private void copyTables(Version v) throws IOException {
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : v.files(level)) {
                String name = FileNames.table(f.number);
                Path from = e.dir.resolve(name);
                Path to = target.resolve(name);
                created.add(to);
                if (!linksUnsupported) {
                    try {
                        e.fs.link(from, to);
                        linked++;
                        continue;
                    } catch (UnsupportedOperationException ex) {
                        linksUnsupported = true; // copy this one and the rest
                    } catch (IOException ex) {
                        // another device, a file system that refuses links here: copy this one
                        Engine.LOG.fine("checkpoint: cannot link " + from + " (" + ex + "); copying it");
                        e.fs.delete(to);
                    }
                }
                copy(from, to, f.size);
            }
        }
    }

    /** The WALs from {@code logNumber} up to the cut's (the last one to the cut's length). */
    private void copyWals(long logNumber, WalSet.Cut cut) throws IOException {
        List<Long> logs = new ArrayList<>();
        for (String name : e.fs.list(e.dir)) {
            FileNames.Parsed p = FileNames.parse(name);
            if (p != null && p.type() == FileNames.Type.LOG && p.number() >= logNumber && p.number() <= cut.walNumber()) {
                logs.add(p.number());
            }
        }
        logs.sort(null);
        if (logs.isEmpty() || logs.get(logs.size() - 1) != cut.walNumber()) {
            throw new IOException("the WAL " + FileNames.log(cut.walNumber()) + " of the cut is not in " + e.dir);
        }
        for (long n : logs) {
            Path from = e.dir.resolve(FileNames.log(n));
            Path to = target.resolve(FileNames.log(n));
            created.add(to);
            // WALs are copied, never linked: the current one grows past the cut (and a link would share it)
            copy(from, to, n == cut.walNumber() ? cut.length() : e.fs.size(from));
        }
    }

    /** The target's MANIFEST: the snapshot edit, numbered past every file it names. Returns its number. */
    private long writeManifest(VersionEdit snapshot) throws IOException {
        long number = snapshot.nextFileNumber;
        snapshot.nextFileNumber = number + 1;
        Path p = target.resolve(FileNames.manifest(number));
        created.add(p);
        byte[] rec = snapshot.encode();
        try (LogWriter w = new LogWriter(e.fs.newWritableFile(p), LogFormat.KIND_MANIFEST, number)) {
            w.addRecord(rec, 0, rec.length);
            w.sync();
        }
        return number;
    }

    /** Copies the first {@code length} bytes of {@code from} through the file system, synced. */
    private void copy(Path from, Path to, long length) throws IOException {
        byte[] buf = new byte[(int) Math.min(COPY_BUFFER, Math.max(length, 1))];
        try (FileSystem.ReadableFile in = e.fs.newReadableFile(from);
                FileSystem.WritableFile out = e.fs.newWritableFile(to)) {
            long pos = 0;
            while (pos < length) {
                int n = (int) Math.min(buf.length, length - pos);
                in.readFully(pos, buf, 0, n);
                out.append(buf, 0, n);
                pos += n;
            }
            out.sync();
        }
        copied++;
    }

    /** A failed checkpoint leaves nothing behind (best effort). */
    private void removePartial(boolean dirCreated, Throwable failure) {
        if (!dirCreated) {
            return;
        }
        try {
            for (Path p : created) {
                e.fs.delete(p);
            }
            e.fs.delete(target);
        } catch (IOException | RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }
}
