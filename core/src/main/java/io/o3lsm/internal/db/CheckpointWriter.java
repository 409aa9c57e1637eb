package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
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
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code DB.checkpoint(target)}: writes an openable copy of the live DB into a new directory, cut at
 * one sequence number, while writes continue (docs/operations/checkpoints.md).
 *
 * <p>The cut: with WAL deletion held ({@link WalSet#holdDeletion}), the caller heads the writer queue
 * alone ({@link WriteQueue#enterAlone}) just long enough to sync the current WAL and read its length
 * ({@link WalSet#syncedCut}), {@code Engine.lastSequence}, and a MANIFEST snapshot with its version
 * pinned ({@link VersionSet#pinnedSnapshot}). No group is appended meanwhile, so the WAL ends at the
 * record of that sequence, and no table of the pinned version holds a later write. A DB with a
 * background error is refused there: a failed group may be in its WAL past {@code lastSequence}.
 *
 * <p>The copy: with no lock held, everything is written into a staging directory beside the target
 * ({@code <target>.o3ckpt-<random>}, same parent): the pinned version's tables hard-linked
 * ({@link FileSystem#link}) or copied, the WALs from the snapshot's log number up to the cut's (the
 * last one to the cut's length), the TTL marker if the DB has one, a new IDENTITY, a MANIFEST written
 * from the snapshot, and CURRENT (every file synced, the directory synced before and after CURRENT's
 * rename). The last step renames the staging directory to the target, which fails if the target
 * exists ({@link FileSystem#rename} of a directory), and syncs the parent: the target name holds a
 * complete checkpoint or nothing. A crash leaves at most a staging directory; a failure (a concurrent
 * checkpoint to the same target winning the rename, {@code close}, an I/O error) removes it. The
 * pinned version keeps its tables from deletion, the hold keeps the WALs.
 *
 * <p>{@link #writeWithoutTables} (the backup engine's) writes everything but the tables and hands the
 * pinned version's table list back in a {@link PinnedCheckpoint}: the version stays pinned and the call
 * stays counted in {@code Engine.checkpoints} until that is closed, so the caller reads the tables from
 * the DB's directory meanwhile.
 *
 * <p>One call per checkpoint, on the caller's thread; mutex not held on entry. The call counts in
 * {@code Engine.checkpoints} from its start to its end: {@code close} waits for it, and it gives up
 * with {@link DBClosedException} at its next file once {@code closing} is set.
 */
final class CheckpointWriter {
    private static final int COPY_BUFFER = 1 << 20;
    /** Between the target's name and the random suffix of its staging directory. */
    static final String STAGING_INFIX = ".o3ckpt-";

    private final Engine e;
    private final Path target;
    /** Where the copy is built, renamed to {@link #target} last. */
    private final Path staging;
    private boolean linksUnsupported;
    /** {@link #writeWithoutTables}: no table written, the version left pinned for the caller. */
    private boolean withoutTables;
    private PinnedCheckpoint kept;
    int linked;
    int copied;

    CheckpointWriter(Engine e, Path target) {
        this.e = e;
        this.target = target.toAbsolutePath().normalize();
        if (this.target.getParent() == null || this.target.getFileName() == null) {
            throw new IllegalArgumentException("checkpoint target " + target + " has no parent directory");
        }
        this.staging = this.target.resolveSibling(this.target.getFileName() + STAGING_INFIX
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
    }

    /** Writes the checkpoint; returns the sequence it is cut at. */
    long write() {
        return writeCounting();
    }

    /**
     * For the backup engine: writes the checkpoint without its tables (WALs, TTL marker, IDENTITY,
     * MANIFEST, CURRENT; renamed to the target as {@link #write} does) and returns them with the version
     * left pinned and the call still counted in {@code Engine.checkpoints} until the result is closed.
     */
    PinnedCheckpoint writeWithoutTables() {
        withoutTables = true;
        writeCounting();
        return kept;
    }

    private long writeCounting() {
        FileSystem fs = e.fs;
        e.mutex.lock();
        try {
            e.checkOpen();
            e.checkpoints++; // close() waits for this call to end
        } finally {
            e.mutex.unlock();
        }
        try {
            return writeCounted(fs);
        } finally {
            if (kept == null) { // else its close() ends the count
                release();
            }
        }
    }

    private void release() {
        e.mutex.lock();
        try {
            e.checkpoints--;
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }

    private long writeCounted(FileSystem fs) {
        try {
            if (fs.exists(target)) {
                throw targetExists();
            }
        } catch (IOException ex) {
            throw new O3Exception("checkpoint of " + e.dir + " to " + target + " failed: " + ex, ex);
        }
        e.wals.holdDeletion();
        VersionSet.Pinned pinned = null;
        boolean stagingCreated = false;
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
                Throwable failed = e.bgError; // set before a failed group left the queue
                if (failed != null) {
                    throw new O3Exception("checkpoint of " + e.dir + " refused: the DB refuses writes after an "
                            + "earlier failure (a failed write may be in its WAL past the last sequence; reopen "
                            + "the DB, then checkpoint): " + failed.getMessage(), failed);
                }
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
            fs.createDirectories(target.getParent());
            if (fs.exists(target)) { // created meanwhile
                throw targetExists();
            }
            stagingCreated = true; // from here on, a failure removes whatever is under it
            fs.createDirectories(staging);
            List<PinnedCheckpoint.Table> tables = new ArrayList<>();
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                for (FileMetaData f : pinned.version().files(level)) {
                    tables.add(new PinnedCheckpoint.Table(FileNames.table(f.number), f.size));
                }
            }
            if (!withoutTables) {
                copyTables(pinned.version());
            }
            copyWals(pinned.edit().logNumber, cut);
            Path ttl = e.dir.resolve(TtlMarker.NAME);
            if (fs.exists(ttl)) {
                checkNotClosing();
                copy(ttl, staging.resolve(TtlMarker.NAME), fs.size(ttl));
            }
            Recovery.identity(fs, staging); // a new one: a checkpoint is a DB of its own from its first write
            long manifest = writeManifest(pinned.edit());
            FileNames.writeCurrentTemp(fs, staging, manifest);
            fs.syncDirectory(staging); // every name in place before CURRENT makes it a DB
            fs.rename(staging.resolve(FileNames.temp(manifest)), staging.resolve(FileNames.CURRENT));
            fs.syncDirectory(staging);
            checkNotClosing();
            if (fs.exists(target)) { // another checkpoint to the same target won
                throw targetExists();
            }
            try {
                fs.rename(staging, target); // refuses an existing target: a complete copy or none
            } catch (IOException ex) {
                if (fs.exists(target) && fs.exists(staging)) { // another checkpoint's: left alone
                    throw targetExists();
                }
                throw ex;
            }
            stagingCreated = false;
            try {
                fs.syncDirectory(target.getParent());
            } catch (IOException ex) {
                throw new O3Exception("checkpoint of " + e.dir + " written to " + target + ", but syncing "
                        + target.getParent() + " failed: the copy is complete, its name may not survive a machine "
                        + "crash: " + ex, ex);
            }
            Engine.LOG.info("checkpoint of " + e.dir + " written to " + target + " at sequence " + sequence + ": "
                    + (withoutTables ? tables.size() + " tables left in place (pinned)" : linked + " tables linked")
                    + ", " + copied + " files copied");
            if (withoutTables) {
                kept = new PinnedCheckpoint(e, sequence, tables, pinned.version());
                pinned = null; // unpinned by kept.close()
            }
            return sequence;
        } catch (IOException ex) {
            removeStaging(stagingCreated, ex);
            throw new O3Exception("checkpoint of " + e.dir + " to " + target + " failed (nothing of it is left "
                    + "there): " + ex, ex);
        } catch (RuntimeException | Error ex) {
            removeStaging(stagingCreated, ex);
            throw ex;
        } finally {
            if (pinned != null) {
                pinned.version().unref();
            }
            e.wals.releaseDeletion();
        }
    }

    private IllegalArgumentException targetExists() {
        return new IllegalArgumentException("checkpoint target " + target + " exists: a checkpoint is written "
                + "into a new directory (remove it, or name another)");
    }

    /** A checkpoint gives up, between files, once the DB is closing (close waits for it). */
    private void checkNotClosing() {
        if (e.closing) {
            throw new DBClosedException("checkpoint of " + e.dir + " to " + target + " given up: the DB is closing "
                    + "(nothing of it is left there)");
        }
    }

    private void copyTables(Version v) throws IOException {
        for (int level = 0; level < Version.NUM_LEVELS; level++) {
            for (FileMetaData f : v.files(level)) {
                String name = FileNames.table(f.number);
                Path from = e.dir.resolve(name);
                Path to = staging.resolve(name);
                checkNotClosing();
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
            Path to = staging.resolve(FileNames.log(n));
            checkNotClosing();
            // WALs are copied, never linked: the current one grows past the cut (and a link would share it)
            copy(from, to, n == cut.walNumber() ? cut.length() : e.fs.size(from));
        }
    }

    /** The target's MANIFEST: the snapshot edit, numbered past every file it names. Returns its number. */
    private long writeManifest(VersionEdit snapshot) throws IOException {
        long number = snapshot.nextFileNumber;
        snapshot.nextFileNumber = number + 1;
        Path p = staging.resolve(FileNames.manifest(number));
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
                checkNotClosing();
                int n = (int) Math.min(buf.length, length - pos);
                in.readFully(pos, buf, 0, n);
                out.append(buf, 0, n);
                pos += n;
            }
            out.sync();
        }
        copied++;
    }

    /**
     * A failed checkpoint leaves nothing behind (best effort): everything under the staging directory
     * (listed, not only what this call remembers writing: IDENTITY's temp file, CURRENT's), then it.
     */
    private void removeStaging(boolean stagingCreated, Throwable failure) {
        if (!stagingCreated) {
            return;
        }
        try {
            if (e.fs.exists(staging)) {
                for (String name : e.fs.list(staging)) {
                    e.fs.delete(staging.resolve(name));
                }
                e.fs.delete(staging);
            }
        } catch (IOException | RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }
}
