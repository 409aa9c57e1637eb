package io.o3lsm;

import io.o3lsm.internal.util.Limits;
import java.util.Arrays;

/**
 * Per-read options. Like {@link Options} and {@link WriteOptions}, a mutable builder: each setter
 * changes this object and returns it, so a setter whose result is ignored still takes effect.
 * {@link #defaults()} returns a new object on every call (latest state, fill the block cache,
 * verify block checksums, no bounds).
 *
 * <p>A read takes what it needs from this object when it starts (an iterator, when it is created),
 * so changing the object afterwards affects only later reads. Not thread-safe while being changed:
 * share an object between threads only once it is no longer changed.
 */
public final class ReadOptions {
    private Snapshot snapshot;
    private boolean fillCache = true;
    private boolean verifyChecksums = true;
    private byte[] lowerBound;
    private byte[] upperBound;

    private ReadOptions() {
    }

    /** A new object with every setting at its default. */
    public static ReadOptions defaults() {
        return new ReadOptions();
    }

    /** A new object with the same settings as this one. */
    public ReadOptions copy() {
        ReadOptions c = new ReadOptions();
        c.snapshot = snapshot;
        c.fillCache = fillCache;
        c.verifyChecksums = verifyChecksums;
        c.lowerBound = lowerBound;
        c.upperBound = upperBound;
        return c;
    }

    /** Read as of this snapshot (null: the latest state when the read or iterator starts). */
    public ReadOptions snapshot(Snapshot s) {
        this.snapshot = s;
        return this;
    }

    /** Whether blocks read for this operation are added to the block cache. Default true. */
    public ReadOptions fillCache(boolean v) {
        this.fillCache = v;
        return this;
    }

    /**
     * Whether block checksums are verified on read. Default true. Blocks already in the block cache
     * were verified when read from disk.
     */
    public ReadOptions verifyChecksums(boolean v) {
        this.verifyChecksums = v;
        return this;
    }

    /**
     * Iterators never go below this key (inclusive); the key is copied. Null: unbounded.
     *
     * @throws IllegalArgumentException if the key is longer than {@link DB#MAX_KEY_SIZE}
     */
    public ReadOptions lowerBound(byte[] key) {
        this.lowerBound = bound(key, "lowerBound");
        return this;
    }

    /**
     * Iterators stop before this key (exclusive); the key is copied. Null: unbounded.
     *
     * @throws IllegalArgumentException if the key is longer than {@link DB#MAX_KEY_SIZE}
     */
    public ReadOptions upperBound(byte[] key) {
        this.upperBound = bound(key, "upperBound");
        return this;
    }

    private static byte[] bound(byte[] key, String what) {
        if (key == null) {
            return null;
        }
        Limits.checkKeyLength(key.length, what);
        return key.clone();
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
