package io.o3lsm.internal.version;

import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Bytes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An immutable set of live SSTs per level. L0 files may overlap and are kept newest first (by
 * largest sequence); files of L1 and deeper are disjoint and sorted by smallest key.
 */
public final class Version {
    public static final int NUM_LEVELS = 7;

    private final List<List<FileMetaData>> levels;
    /** References: one from the VersionSet while current, one per read view (SuperVersion) using it. */
    private final java.util.concurrent.atomic.AtomicInteger refs = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Runnable onRelease;

    Version(List<List<FileMetaData>> levels) {
        List<List<FileMetaData>> copy = new ArrayList<>(NUM_LEVELS);
        for (int l = 0; l < NUM_LEVELS; l++) {
            List<FileMetaData> files = new ArrayList<>(levels.get(l));
            if (l == 0) {
                files.sort((a, b) -> {
                    int c = Long.compare(b.largestSeq, a.largestSeq);
                    return c != 0 ? c : Long.compare(b.number, a.number);
                });
            } else {
                files.sort((a, b) -> InternalKey.compare(a.smallest, b.smallest));
            }
            copy.add(Collections.unmodifiableList(files));
        }
        this.levels = Collections.unmodifiableList(copy);
    }

    /** Takes a reference. */
    public void ref() {
        refs.incrementAndGet();
    }

    /** Drops a reference; the last one tells the VersionSet that this version's files may go. */
    public void unref() {
        int n = refs.decrementAndGet();
        if (n == 0) {
            Runnable r = onRelease;
            if (r != null) {
                r.run();
            }
        } else if (n < 0) {
            throw new IllegalStateException("Version released more often than referenced");
        }
    }


    void onRelease(Runnable r) {
        this.onRelease = r;
    }

    static Version empty() {
        List<List<FileMetaData>> l = new ArrayList<>();
        for (int i = 0; i < NUM_LEVELS; i++) {
            l.add(List.of());
        }
        return new Version(l);
    }

    public List<FileMetaData> files(int level) {
        return levels.get(level);
    }

    public int numFiles(int level) {
        return levels.get(level).size();
    }

    public long levelBytes(int level) {
        long s = 0;
        for (FileMetaData f : levels.get(level)) {
            s += f.size;
        }
        return s;
    }

    /** For a level ≥ 1: the one file whose range may hold {@code userKey}, or null. */
    public FileMetaData findFile(int level, byte[] userKey) {
        List<FileMetaData> files = levels.get(level);
        int lo = 0;
        int hi = files.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            FileMetaData f = files.get(mid);
            int c = Bytes.compare(f.largest, 0, f.largest.length - InternalKey.TRAILER_SIZE, userKey, 0, userKey.length);
            if (c < 0 || (c == 0 && f.largestIsExclusive())) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < files.size() && files.get(lo).mayContainUserKey(userKey)) {
            return files.get(lo);
        }
        return null;
    }

    /** Files of {@code level} whose user-key range intersects {@code [from, to]} (null = unbounded). */
    public List<FileMetaData> overlapping(int level, byte[] from, byte[] to) {
        List<FileMetaData> out = new ArrayList<>();
        for (FileMetaData f : levels.get(level)) {
            if (f.overlaps(from, to)) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * L0 depth: the largest number of L0 files that overlap one another at some key. L0 files of
     * different memtable shard ranges are disjoint, so this (not the file count) is what a point
     * read pays and what triggers L0 compaction.
     */
    public int l0Depth() {
        int d = l0Depth;
        if (d < 0) {
            d = computeL0Depth();
            l0Depth = d;
        }
        return d;
    }

    private volatile int l0Depth = -1;

    private int computeL0Depth() {
        List<FileMetaData> l0 = levels.get(0);
        int max = 0;
        for (FileMetaData f : l0) {
            int d = 0;
            for (FileMetaData g : l0) {
                if (g.overlaps(f.smallestUserKey(), f.largestUserKey())) {
                    d++;
                }
            }
            max = Math.max(max, d);
        }
        return max;
    }

    /** Every live file number. */
    public List<Long> liveFiles() {
        List<Long> out = new ArrayList<>();
        for (List<FileMetaData> l : levels) {
            for (FileMetaData f : l) {
                out.add(f.number);
            }
        }
        return out;
    }

    List<List<FileMetaData>> levels() {
        return levels;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Version{");
        for (int l = 0; l < NUM_LEVELS; l++) {
            if (!levels.get(l).isEmpty()) {
                sb.append("L").append(l).append('=').append(levels.get(l)).append(' ');
            }
        }
        return sb.append('}').toString();
    }
}
