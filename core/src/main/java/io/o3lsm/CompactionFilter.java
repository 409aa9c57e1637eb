package io.o3lsm;

import java.util.Arrays;

/**
 * Decides, during compaction (and, with {@link Options#compactionFilterOnFlush}, during flush), what
 * becomes of a key's value: keep it, remove it, or change it. The engine's own use is TTL
 * ({@link Options#ttl}); applications use it to drop or rewrite data in the background, without a
 * read-modify-write on the write path.
 *
 * <pre>{@code
 * CompactionFilter dropTemp = new CompactionFilter() {
 *     public String name() { return "app.drop-temp"; }
 *     public Decision filter(Context ctx, byte[] key, byte[] value) {
 *         return startsWith(key, "tmp:") ? CompactionFilter.remove() : CompactionFilter.keep();
 *     }
 * };
 * DB db = DB.open(dir, Options.defaults().compactionFilter(dropTemp));
 * }</pre>
 *
 * <p><b>What it sees.</b> A job calls the filter for each user key whose newest entry is a value (a
 * put, or the value a full merge produced) newer than every live snapshot, so an entry a snapshot
 * can still read is never filtered; it is filtered by a later job, once the snapshot is closed.
 * Older versions of the key, deletions and merge operands that stay operands are not shown.
 * {@link #remove()} writes a deletion in the value's place (older versions of the key in lower
 * levels stay hidden; the deletion itself goes once it reaches the bottom level), {@link #change}
 * writes the new value in its place (same sequence number). Which keys a filter sees, and when,
 * depends on what compactions run: a filter expresses what may go, not a schedule. Reads never call
 * it, so a value the filter would remove stays readable until a job meets it.
 *
 * <p><b>Contract.</b> {@link #filter} is a pure function of its arguments: called from any thread,
 * concurrently, possibly more than once for the same entry (a failed or offloaded job is run again),
 * and on other processes. It must not keep or modify the arrays it is given. An exception it throws
 * fails the job with {@link O3Exception} naming the filter and the key; the job's outputs are
 * deleted, the inputs stay as they are, and the engine handles the failed job as any other (see
 * {@code docs/compaction-filters.md}).
 *
 * <p><b>Name.</b> As for {@link MergeOperator}: {@link #name()} travels with offloaded flush and
 * compaction jobs, and a flush worker or compactor finds the filter among the built-ins or through
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.o3lsm.CompactionFilter}, a public
 * no-argument constructor; see {@link CompactionFilters#byName}); a worker that lacks it fails the
 * job with a message naming the filter, and the owner runs the job itself.
 */
public interface CompactionFilter {
    /** A stable identifier: 1 to 200 characters, letters, digits and {@code . _ - : ,} only. */
    String name();

    /**
     * What becomes of {@code value}, the newest value of {@code key}.
     *
     * @param ctx   the job
     * @param key   the user key
     * @param value the value (with {@link Options#ttl}: without its write-time stamp)
     * @return {@link #keep()}, {@link #remove()} or {@link #change}; not null
     */
    Decision filter(Context ctx, byte[] key, byte[] value);

    /**
     * The job a filter runs in.
     *
     * @param outputLevel the level the job writes (0 for a flush)
     * @param bottommost  no older data for the job's keys lies below the output level (always false
     *                    for a flush)
     * @param flush       a flush (with {@link Options#compactionFilterOnFlush}), not a compaction
     * @param smallestKey the smallest user key the job may read, or null when unknown (a flush; an
     *                    unbounded side of a compaction)
     * @param largestKey  the largest user key the job may read (inclusive), or null when unknown
     * @param nowMillis   the owning DB's clock ({@link Options#clock}) when the job was created: a
     *                    remote worker decides as the owner would
     */
    record Context(int outputLevel, boolean bottommost, boolean flush, byte[] smallestKey, byte[] largestKey,
            long nowMillis) {
        @Override
        public String toString() {
            return "Context[outputLevel=" + outputLevel + ", bottommost=" + bottommost + ", flush=" + flush
                    + ", nowMillis=" + nowMillis + "]";
        }
    }

    /** Keep the value as it is. */
    static Decision keep() {
        return Decision.KEEP;
    }

    /** Remove the key: a deletion takes the value's place. */
    static Decision remove() {
        return Decision.REMOVE;
    }

    /**
     * Replace the value with {@code newValue} (not null, at most {@link DB#MAX_VALUE_SIZE} bytes;
     * the array is not copied and must not be modified afterwards).
     */
    static Decision change(byte[] newValue) {
        if (newValue == null) {
            throw new IllegalArgumentException("CompactionFilter.change: newValue must not be null");
        }
        return new Decision(Decision.Kind.CHANGE, newValue);
    }

    /** A filter's answer: {@link #keep()}, {@link #remove()} or {@link #change}. Immutable. */
    final class Decision {
        /** What the decision does. */
        public enum Kind { KEEP, REMOVE, CHANGE }

        static final Decision KEEP = new Decision(Kind.KEEP, null);
        static final Decision REMOVE = new Decision(Kind.REMOVE, null);

        private final Kind kind;
        private final byte[] newValue;

        private Decision(Kind kind, byte[] newValue) {
            this.kind = kind;
            this.newValue = newValue;
        }

        public Kind kind() {
            return kind;
        }

        /** The replacement of a {@link Kind#CHANGE}, else null. */
        public byte[] newValue() {
            return newValue;
        }

        @Override
        public String toString() {
            return kind == Kind.CHANGE ? "CHANGE(" + newValue.length + " bytes)" : kind.toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Decision d && d.kind == kind && Arrays.equals(d.newValue, newValue);
        }

        @Override
        public int hashCode() {
            return kind.hashCode() * 31 + Arrays.hashCode(newValue);
        }
    }
}
