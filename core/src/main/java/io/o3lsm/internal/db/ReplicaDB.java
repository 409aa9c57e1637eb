package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.Replica;
import io.o3lsm.internal.version.VersionEdit;
import java.io.IOException;
import java.util.List;

/**
 * The {@link Replica} a {@code DB.openReplica} returns: reads go to the engine, which a
 * {@link ReplicaApplier} feeds from the primary; writes, flushes and compactions are refused.
 */
final class ReplicaDB extends ReadOnlyFacade implements Replica {
    /**
     * What promotion adds to the epoch: a former primary adds 1 per open, so it stays below the
     * promoted one for any realistic number of reopenings (docs/design/replication.md, "Fencing").
     */
    static final long PROMOTION_EPOCH_STEP = 1L << 32;
    /**
     * File numbers a promoted replica skips: its former primary may have created (and shipped to other
     * backups) tables with numbers beyond the last edit this one took; the new primary's never meet
     * them, so a backup can keep trusting a table it holds by number and size.
     */
    static final long PROMOTION_FILE_NUMBER_GAP = 1L << 20;

    /** The edit a promotion writes before the directory is opened as a primary. */
    static VersionEdit promotionEdit(io.o3lsm.internal.version.VersionSet versions) {
        VersionEdit bump = new VersionEdit();
        bump.epoch = versions.epoch() + PROMOTION_EPOCH_STEP;
        bump.nextFileNumber = versions.newFileNumber() + PROMOTION_FILE_NUMBER_GAP;
        return bump;
    }

    ReplicaDB(DBImpl db) {
        super(db);
    }

    @Override
    String why() {
        return "is a replica of " + e.options.replicaOf() + " (read-only; promote it to write)";
    }

    @Override
    public long appliedSequence() {
        e.checkOpen();
        return e.lastSequence;
    }

    @Override
    public boolean live() {
        return e.replicaApplier.live();
    }

    @Override
    public DB promote(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        if (options.replicaOf() != null) {
            throw new IllegalArgumentException("promote: the options name a primary to follow (replicaOf); a promoted "
                    + "replica is a primary (leave replicaOf unset, set replicationListen for its own backups)");
        }
        options.copy().validate(); // bad options fail here, before anything changes
        e.checkOpen();
        if (e.options.replicaRebuildsTables()) {
            throw new O3Exception("replica " + e.dir + " rebuilds its own tables (the comparison baseline): it is an "
                    + "ordinary DB of its own; close it and open its directory with DB.open instead of promoting it");
        }
        // its families, with the options it read them with; checked before anything changes
        List<io.o3lsm.ColumnFamilyDescriptor> descriptors = e.families == null ? null
                : e.families.descriptorsForPromotion(options);
        if (descriptors != null) {
            Families.checkOpenable(e.dir.toString(), e.versions, descriptors, options);
        }
        try {
            e.replicaApplier.checkPromotable();
            e.replicaApplier.stopFollowing();
            e.versions.writeNewManifest(promotionEdit(e.versions));
        } catch (IOException ex) {
            closeQuietly();
            throw new O3Exception("cannot promote the replica " + e.dir + ": raising its epoch failed: " + ex, ex);
        } catch (RuntimeException | Error ex) {
            closeQuietly();
            throw ex;
        }
        db.close();
        Engine.LOG.info("replica " + e.dir + " promoted: epoch " + e.versions.epoch() + ", opening it as a primary");
        if (descriptors != null) {
            return DB.open(e.dir, options, descriptors);
        }
        return DB.open(e.dir, options);
    }

    private void closeQuietly() {
        try {
            db.close();
        } catch (RuntimeException ignored) {
            // the promotion's own failure is what the caller sees
        }
    }

    @Override
    public String toString() {
        return "Replica(" + e.dir + " of " + e.options.replicaOf() + ")";
    }
}
