package io.o3lsm;

import java.util.Arrays;

/**
 * Per-read options. Immutable: each setter returns a new object. {@link #defaults()}: latest state,
 * fill the block cache, verify block checksums, no bounds.
 */
public final class ReadOptions {
    private static final ReadOptions DEFAULTS = new ReadOptions(null, true, true, null, null);

    private final Snapshot snapshot;
    private final boolean fillCache;
    private final boolean verifyChecksums;
    private final byte[] lowerBound;
    private final byte[] upperBound;

    private ReadOptions(Snapshot snapshot, boolean fillCache, boolean verifyChecksums, byte[] lowerBound,
            byte[] upperBound) {
        this.snapshot = snapshot;
        this.fillCache = fillCache;
        this.verifyChecksums = verifyChecksums;
        this.lowerBound = lowerBound;
        this.upperBound = upperBound;
    }

    public static ReadOptions defaults() {
        return DEFAULTS;
    }

    /** Read as of this snapshot (null: the latest state when the read or iterator starts). */
    public ReadOptions snapshot(Snapshot s) {
        return new ReadOptions(s, fillCache, verifyChecksums, lowerBound, upperBound);
    }

    /** Whether blocks read for this operation are added to the block cache. Default true. */
    public ReadOptions fillCache(boolean v) {
        return new ReadOptions(snapshot, v, verifyChecksums, lowerBound, upperBound);
    }

    /**
     * Whether block checksums are verified on read. Default true. Blocks already in the block cache
     * were verified when read from disk.
     */
    public ReadOptions verifyChecksums(boolean v) {
        return new ReadOptions(snapshot, fillCache, v, lowerBound, upperBound);
    }

    /** Iterators never go below this key (inclusive). Null: unbounded. */
    public ReadOptions lowerBound(byte[] key) {
        return new ReadOptions(snapshot, fillCache, verifyChecksums, key == null ? null : key.clone(), upperBound);
    }

    /** Iterators stop before this key (exclusive). Null: unbounded. */
    public ReadOptions upperBound(byte[] key) {
        return new ReadOptions(snapshot, fillCache, verifyChecksums, lowerBound, key == null ? null : key.clone());
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public boolean fillCache() {
        return fillCache;
    }

    public boolean verifyChecksums() {
        return verifyChecksums;
    }

    /** A copy of the lower bound, or null. */
    public byte[] lowerBound() {
        return lowerBound == null ? null : lowerBound.clone();
    }

    /** A copy of the upper bound, or null. */
    public byte[] upperBound() {
        return upperBound == null ? null : upperBound.clone();
    }

    @Override
    public String toString() {
        return "ReadOptions{snapshot=" + (snapshot == null ? "latest" : snapshot.sequence()) + ", fillCache="
                + fillCache + ", verifyChecksums=" + verifyChecksums + ", lowerBound="
                + Arrays.toString(lowerBound) + ", upperBound=" + Arrays.toString(upperBound) + '}';
    }
}
