package io.o3lsm.internal.db;

import io.o3lsm.internal.version.FileMetaData;
import java.util.ArrayList;
import java.util.List;

/** A picked compaction: input files at {@code level} and {@code level + 1}. Immutable. */
final class Compaction {
    final int level;
    final int outputLevel;
    final List<FileMetaData> inputs;      // at level
    final List<FileMetaData> overlapping; // at outputLevel
    final boolean bottommost;
    final byte[] smallestUser;
    final byte[] largestUser;
    final double score;

    Compaction(int level, List<FileMetaData> inputs, List<FileMetaData> overlapping, boolean bottommost,
            byte[] smallestUser, byte[] largestUser, double score) {
        this.level = level;
        this.outputLevel = level + 1;
        this.inputs = List.copyOf(inputs);
        this.overlapping = List.copyOf(overlapping);
        this.bottommost = bottommost;
        this.smallestUser = smallestUser;
        this.largestUser = largestUser;
        this.score = score;
    }

    List<FileMetaData> all() {
        List<FileMetaData> out = new ArrayList<>(inputs);
        out.addAll(overlapping);
        return out;
    }

    long inputBytes() {
        long s = 0;
        for (FileMetaData f : all()) {
            s += f.size;
        }
        return s;
    }

    /** A single file moving down without overlap: only the MANIFEST changes. */
    boolean isTrivialMove() {
        return level > 0 && inputs.size() == 1 && overlapping.isEmpty();
    }

    @Override
    public String toString() {
        return "Compaction{L" + level + "->L" + outputLevel + " inputs=" + inputs + " overlapping=" + overlapping
                + (bottommost ? " bottommost" : "") + String.format(" score=%.2f", score) + "}";
    }
}
