package io.o3lsm.internal.db;

import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.version.FileMetaData;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Splits a compaction into sub-compactions: pure policy, no I/O, no locks (like
 * {@link CompactionPicker}). Design: {@code docs/design/compaction-offload.md}, section
 * "Sub-compactions".
 *
 * <p>The rule: a compaction is split into {@code min(maxSubcompactions, inputBytes / targetFileSize)}
 * parts (fewer if its files offer fewer boundaries). Candidate boundaries are the smallest and
 * largest user keys of its input files (both levels), above the compaction's smallest key. Each
 * file's bytes are spread evenly over the candidate intervals it spans, and the cuts are placed
 * where the running total first reaches {@code k/parts} of all input bytes. A cut {@code b} ends one
 * part before {@code b} and starts the next at {@code b}: parts are {@code [cut(i-1), cut(i))}, the
 * first unbounded below and the last unbounded above, so together they cover the compaction exactly.
 *
 * <p>Correctness does not depend on where the cuts fall — {@link io.o3lsm.job.CompactionJob} confines
 * every part to its bounds, clipping range tombstones there — only the balance does. No file is
 * read to find finer boundaries (index blocks): an L0→L1 compaction of few large files therefore
 * splits into at most about twice as many parts as it has files.
 */
final class SubcompactionPlanner {
    private SubcompactionPlanner() {
    }

    /** One sub-compaction: the user keys {@code [lower, upper)} (null = unbounded) and the input files overlapping them. */
    record Part(int index, byte[] lower, byte[] upper, List<FileMetaData> inputs, List<FileMetaData> overlapping) {
        long inputBytes() {
            long s = 0;
            for (FileMetaData f : inputs) {
                s += f.size;
            }
            for (FileMetaData f : overlapping) {
                s += f.size;
            }
            return s;
        }
    }

    /** The cut keys (ascending, distinct, above the compaction's smallest key); empty = do not split. */
    static List<byte[]> cuts(Compaction c, int maxSubcompactions, long targetFileSize) {
        long total = c.inputBytes();
        long parts = Math.min(maxSubcompactions, total / Math.max(1, targetFileSize));
        if (parts <= 1) {
            return List.of();
        }
        TreeSet<byte[]> cand = new TreeSet<>(Bytes::compare);
        for (FileMetaData f : c.all()) {
            cand.add(f.smallestUserKey());
            cand.add(f.largestUserKey());
        }
        cand.removeIf(k -> Bytes.compare(k, c.smallestUser) <= 0);
        if (cand.isEmpty()) {
            return List.of();
        }
        // points[j] starts interval j; the last interval runs to the compaction's largest key
        List<byte[]> points = new ArrayList<>();
        points.add(c.smallestUser);
        points.addAll(cand);
        double[] weight = new double[points.size()];
        for (FileMetaData f : c.all()) {
            int first = -1;
            int last = -1;
            for (int j = 0; j < points.size(); j++) {
                byte[] lo = points.get(j);
                byte[] hi = j + 1 < points.size() ? points.get(j + 1) : null;
                boolean overlaps = (hi == null || Bytes.compare(f.smallestUserKey(), hi) < 0)
                        && Bytes.compare(f.largestUserKey(), lo) >= 0;
                if (overlaps) {
                    if (first < 0) {
                        first = j;
                    }
                    last = j;
                }
            }
            if (first < 0) {
                continue; // cannot happen: every file lies inside the compaction's keys
            }
            double share = (double) f.size / (last - first + 1);
            for (int j = first; j <= last; j++) {
                weight[j] += share;
            }
        }
        List<byte[]> cuts = new ArrayList<>();
        double sum = 0;
        int k = 1;
        for (int j = 0; j + 1 < points.size() && k < parts; j++) {
            sum += weight[j];
            if (sum >= (double) total * k / parts) {
                cuts.add(points.get(j + 1));
                k++;
                while (k < parts && sum >= (double) total * k / parts) {
                    k++; // one heavy interval: never two cuts at the same key
                }
            }
        }
        return cuts;
    }

    /** The parts the cuts define, each with the input files (of either level) that overlap it. */
    static List<Part> plan(Compaction c, List<byte[]> cuts) {
        List<Part> parts = new ArrayList<>();
        for (int i = 0; i <= cuts.size(); i++) {
            byte[] lower = i == 0 ? null : cuts.get(i - 1);
            byte[] upper = i == cuts.size() ? null : cuts.get(i);
            parts.add(new Part(i, lower, upper, overlapping(c.inputs, lower, upper),
                    overlapping(c.overlapping, lower, upper)));
        }
        return parts;
    }

    /** The files with a user key in {@code [lower, upper)} (null = unbounded). */
    static List<FileMetaData> overlapping(List<FileMetaData> files, byte[] lower, byte[] upper) {
        List<FileMetaData> out = new ArrayList<>();
        for (FileMetaData f : files) {
            if ((upper == null || Bytes.compare(f.smallestUserKey(), upper) < 0)
                    && (lower == null || Bytes.compare(f.largestUserKey(), lower) >= 0)) {
                out.add(f);
            }
        }
        return out;
    }
}
