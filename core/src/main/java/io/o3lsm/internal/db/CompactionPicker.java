package io.o3lsm.internal.db;

import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Leveled compaction policy, kept apart from execution (no I/O, no locks): scores each level, picks
 * the inputs of the most urgent compaction, and decides whether its output level is the bottom for
 * its key range. L0 scores by file count against the trigger, level n ≥ 1 by bytes against
 * {@code base × multiplier^(n-1)}. An L0 compaction takes every L0 file (they overlap and must move
 * down in sequence order) plus the overlapping L1 files; a level-n compaction takes the next file
 * after the level's compact pointer (round robin over the key space) plus the overlapping files below.
 * Files already being compacted are never picked twice. Thread-safe (stateless but for the pointers,
 * which the caller guards).
 */
final class CompactionPicker {
    private final int l0Trigger;
    private final long baseBytes;
    private final int multiplier;
    /** Per level: the largest user key compacted last (round robin). Guarded by the DB mutex. */
    private final byte[][] compactPointer = new byte[Version.NUM_LEVELS][];

    CompactionPicker(int l0Trigger, long baseBytes, int multiplier) {
        this.l0Trigger = l0Trigger;
        this.baseBytes = baseBytes;
        this.multiplier = multiplier;
    }

    long maxBytesForLevel(int level) {
        long b = baseBytes;
        for (int l = 1; l < level; l++) {
            b *= multiplier;
        }
        return b;
    }

    /**
     * Bytes compactions would rewrite to bring every level within its target (RocksDB's
     * {@code estimate-pending-compaction-bytes} rule): L0 with L1 once L0 reaches its trigger, then
     * each level's excess over its target times the fan-out to the next level, plus the excess itself.
     */
    long pendingBytes(Version v) {
        long estimate = 0;
        long toNext = 0;
        boolean l0Triggered = v.l0Depth() >= l0Trigger || v.levelBytes(0) >= baseBytes;
        if (l0Triggered) {
            estimate = v.levelBytes(0);
            toNext = estimate;
        }
        for (int level = 1; level < Version.NUM_LEVELS - 1; level++) {
            long size = v.levelBytes(level);
            if (level == 1 && l0Triggered) {
                estimate += size;
            }
            size += toNext;
            toNext = 0;
            long target = maxBytesForLevel(level);
            if (size > target) {
                toNext = size - target;
                long next = v.levelBytes(level + 1);
                if (next > 0) {
                    estimate += (long) (toNext * ((double) next / size + 1));
                }
            }
        }
        return estimate;
    }

    double score(Version v, int level) {
        if (level == 0) {
            return (double) v.l0Depth() / l0Trigger;
        }
        return (double) v.levelBytes(level) / maxBytesForLevel(level);
    }

    /** The most urgent compaction with score ≥ 1 whose files are all free, or null. */
    Compaction pick(Version v, Set<Long> busy) {
        double best = 1.0;
        Compaction chosen = null;
        for (int level = 0; level < Version.NUM_LEVELS - 1; level++) {
            double s = score(v, level);
            if (s >= best) {
                Compaction c = candidate(v, level, busy, s); // no side effects: keep the best one
                if (c != null) {
                    best = s;
                    chosen = c;
                }
            }
        }
        if (chosen != null && chosen.level > 0) {
            compactPointer[chosen.level] = chosen.largestUser;
        }
        return chosen;
    }

    private Compaction candidate(Version v, int level, Set<Long> busy, double score) {
        List<FileMetaData> inputs = new ArrayList<>();
        if (level == 0) {
            List<FileMetaData> l0 = v.files(0);
            for (FileMetaData f : l0) {
                if (busy.contains(f.number)) {
                    return null; // one L0 compaction at a time
                }
            }
            // the deepest stack of overlapping files, closed under overlap: every L0 file that shares
            // a key with the inputs moves down with them, so no older L0 entry is left above a newer one
            FileMetaData seed = null;
            int best = -1;
            for (FileMetaData f : l0) {
                int d = 0;
                for (FileMetaData g : l0) {
                    if (g.overlaps(f.smallestUserKey(), f.largestUserKey())) {
                        d++;
                    }
                }
                if (d > best) {
                    best = d;
                    seed = f;
                }
            }
            if (seed == null) {
                return null;
            }
            inputs.addAll(overlapClosure(l0, seed));
        } else {
            List<FileMetaData> files = v.files(level);
            byte[] ptr = compactPointer[level];
            FileMetaData chosen = null;
            for (int pass = 0; pass < 2 && chosen == null; pass++) {
                for (FileMetaData f : files) {
                    if (busy.contains(f.number)) {
                        continue;
                    }
                    if (pass == 0 && ptr != null && Bytes.compare(f.largestUserKey(), ptr) <= 0) {
                        continue;
                    }
                    chosen = f;
                    break;
                }
            }
            if (chosen == null) {
                return null;
            }
            inputs.add(chosen);
        }
        if (inputs.isEmpty()) {
            return null;
        }
        return build(v, level, inputs, busy, score);
    }

    /** {@code seed} plus every file of {@code files} connected to it through overlapping key ranges. */
    static List<FileMetaData> overlapClosure(List<FileMetaData> files, FileMetaData seed) {
        List<FileMetaData> out = new ArrayList<>();
        out.add(seed);
        byte[] lo = seed.smallestUserKey();
        byte[] hi = seed.largestUserKey();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (FileMetaData f : files) {
                if (!out.contains(f) && f.overlaps(lo, hi)) {
                    out.add(f);
                    if (Bytes.compare(f.smallestUserKey(), lo) < 0) {
                        lo = f.smallestUserKey();
                    }
                    if (Bytes.compare(f.largestUserKey(), hi) > 0) {
                        hi = f.largestUserKey();
                    }
                    grew = true;
                }
            }
        }
        return out;
    }

    /** A compaction of {@code inputs} at {@code level} with the overlapping files below; null if any is busy. */
    static Compaction build(Version v, int level, List<FileMetaData> inputs, Set<Long> busy, double score) {
        for (FileMetaData f : inputs) {
            if (busy.contains(f.number)) {
                return null;
            }
        }
        byte[] lo = null;
        byte[] hi = null;
        for (FileMetaData f : inputs) {
            byte[] s = f.smallestUserKey();
            byte[] l = f.largestUserKey();
            if (lo == null || Bytes.compare(s, lo) < 0) {
                lo = s;
            }
            if (hi == null || Bytes.compare(l, hi) > 0) {
                hi = l;
            }
        }
        List<FileMetaData> below = v.overlapping(level + 1, lo, hi);
        for (FileMetaData f : below) {
            if (busy.contains(f.number)) {
                return null;
            }
            if (Bytes.compare(f.smallestUserKey(), lo) < 0) {
                lo = f.smallestUserKey();
            }
            if (Bytes.compare(f.largestUserKey(), hi) > 0) {
                hi = f.largestUserKey();
            }
        }
        boolean bottommost = true;
        for (int l = level + 2; l < Version.NUM_LEVELS && bottommost; l++) {
            if (!v.overlapping(l, lo, hi).isEmpty()) {
                bottommost = false;
            }
        }
        return new Compaction(level, inputs, below, bottommost, lo, hi, score);
    }

    /** A manual compaction of the files of {@code level} overlapping {@code [from, to]}; null if none. */
    static Compaction manual(Version v, int level, byte[] from, byte[] to, Set<Long> busy) {
        List<FileMetaData> inputs = level == 0 ? new ArrayList<>(v.files(0)) : v.overlapping(level, from, to);
        if (inputs.isEmpty()) {
            return null;
        }
        return build(v, level, inputs, busy, 0);
    }
}
