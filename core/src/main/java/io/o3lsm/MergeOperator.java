package io.o3lsm;

import java.util.List;

/**
 * Combines a key's value with operands written by {@link DB#merge}, in Java: read-modify-write
 * without a read on the write path. A merge writes only the operand; reads (get, multiGet,
 * iterators) and background jobs (flush, compaction) combine the operands with the value below them
 * when they meet them.
 *
 * <pre>{@code
 * Options o = Options.defaults().mergeOperator(MergeOperators.int64Add());
 * try (DB db = DB.open(dir, o)) {
 *     db.merge(key, MergeOperators.int64(5));
 *     db.merge(key, MergeOperators.int64(-2));
 *     long n = MergeOperators.int64(db.get(key));   // 3
 * }
 * }</pre>
 *
 * <p><b>Contract.</b> Both methods are pure functions of their arguments: called from any thread,
 * concurrently, any number of times for the same operands (a read and a compaction may both combine
 * them), and on other processes (an offloaded flush or compaction resolves the operator by
 * {@link #name()}, see below). They must not keep or modify the arrays they are given, and must
 * return a new array (or one of the arguments, unmodified). An exception thrown by either fails the
 * read or the job that called it with {@link O3Exception} naming the operator and the key, and
 * leaves the data unchanged: a read throws it to the caller, {@link DB#compactRange} too; a failed
 * background flush or compaction puts the DB in its error state (writes refused until it is
 * reopened; nothing acknowledged is lost), as any failed background job does.
 *
 * <p><b>Order.</b> {@code operands} are in the order they were written (oldest first). A full merge
 * sees every operand written since the value it combines them with ({@code existing}; null when the
 * key had no value or was deleted). A partial merge sees a run of consecutive operands with no value
 * among them and may combine them into one operand that has the same effect in any later full
 * merge; it returns null when it cannot, and the operands are kept as they are.
 *
 * <p><b>Name.</b> {@link #name()} identifies the operator in job requests sent to flush workers and
 * compactors, which find it among the built-ins ({@link MergeOperators#byName}) or through
 * {@link java.util.ServiceLoader} on their class path ({@code META-INF/services/io.o3lsm.MergeOperator},
 * a public no-argument constructor); a worker that lacks it fails the job with a message naming the
 * operator, and the owner runs the job itself. Keep the name stable: a DB opened later with a
 * different operator applies that one to the operands already stored.
 */
public interface MergeOperator {
    /**
     * A stable identifier: 1 to 200 characters, letters, digits and {@code . _ - : ,} only (a
     * parameter may follow a colon, as in {@code o3.stringappend:,}).
     */
    String name();

    /**
     * The value after applying {@code operands} (oldest first, at least one) to {@code existing}.
     *
     * @param key      the user key
     * @param existing the value below the operands, or null if there is none (absent or deleted)
     * @return the new value, not null, at most {@link DB#MAX_VALUE_SIZE} bytes
     */
    byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands);

    /**
     * One operand with the effect of {@code operands} (oldest first, at least two) applied in order,
     * or null when they cannot be combined without the value below them (the default).
     */
    default byte[] partialMerge(byte[] key, List<byte[]> operands) {
        return null;
    }
}
