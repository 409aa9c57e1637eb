package io.o3lsm.bench.crash;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a recovered key-value state is one the history allows. Pure logic, no I/O, no
 * DB: the parent of the crash test feeds it the base state, the child's {@link CrashHistory} and
 * what it read back.
 *
 * <h2>The rules</h2>
 * Let batches {@code 1..n} be the intents in write order and a <em>cut</em> {@code c ∈ [0, n]} the
 * state after applying the base and then batches {@code 1..c} in full. A range delete
 * {@code [from, to)} counts as a delete (at its version) of every key of the key space whose
 * encoding lies in {@code [from, to)} in unsigned bytewise order ({@link KeyOrder}); so a key a
 * covering, acknowledged range delete should have removed is "lost" when still present, and a batch
 * whose range delete was applied apart from its other ops shows up as holes.
 * <ul>
 *   <li><b>holes</b>: the recovered state must equal the state at one cut. For every key the set of
 *   cuts its recovered value is consistent with is computed (a union of intervals: a key absent at
 *   the start and deleted later is consistent with both stretches); the cut accepted by the most
 *   keys is chosen, the largest on ties, and every key that does not accept it is a hole. A batch
 *   applied in part (torn), a value that only existed inside a batch, and an applied write whose
 *   predecessor is missing all show up here.</li>
 *   <li><b>lost</b>: a key whose value is older than its last acknowledged write (or present though
 *   that write was a delete), that is, every cut the key accepts lies before the last acknowledged
 *   batch touching it; also a value older than the base (a resurrected write). This holds with and
 *   without {@code sync}: a process kill does not lose what the OS already has, so an engine that
 *   acknowledges after handing the WAL record to the OS loses nothing to SIGKILL. Batches intended
 *   but not acknowledged may or may not be applied.</li>
 *   <li><b>corrupt</b>: a value that fails its checks ({@link CrashCodec}), a read that threw
 *   {@code CorruptionException} (both reported as {@link #CORRUPT} by the caller), or a well-formed
 *   value with a version this cycle never wrote to that key.</li>
 * </ul>
 *
 * <h2>Merges</h2>
 * With merges a key's value is a <em>fold</em>: the put its operands apply to (or none, when the key
 * was absent or deleted before them) followed by the operands, oldest first, each naming its merge
 * ({@link CrashCodec#decode}). The caller passes the put's version as the key's observed state and
 * the operands' versions beside it; the key's state for the rules above is the version of the
 * <em>last</em> write the value reflects: its last operand, else its put. A merge is then one more
 * write with a version, and the rules keep their meaning: the state must sit at the cut, at or after
 * the key's last acknowledged write (else <b>lost</b>: an acknowledged operand missing at the end is
 * a lost write, as a missing put is). In addition the whole value must be exactly the fold of the
 * key's writes up to that last one (back to its latest put or delete, or to the base), else the key
 * is a <b>hole</b>: an operand missing in the middle, applied twice, out of order or on the wrong put
 * is a write present without its predecessor, as a torn batch is. An operand (or put) naming a
 * version this cycle never wrote to the key, or a write of another kind (a merge's version as the
 * put, a put's or delete's version as an operand), is <b>corrupt</b>, as is a token that fails its
 * checks, which the caller reports as {@link #CORRUPT}. A base with operands is a fold from earlier
 * cycles: the recovered value of a key must carry them unchanged below this cycle's operands.
 *
 * <h2>Column families</h2>
 * With {@code --families} the key space is one per family: family {@code f}'s key {@code k} is entry
 * {@code f * K + k} of the state arrays ({@code K} keys per family), and a history op writes to the
 * entry of its family ({@link CrashHistory#opFamily}); a range delete covers the keys of its own
 * family only. The rules above then apply to every family's keys, and the cut is <em>one</em> for all
 * of them: a batch spans families in one {@code DB.write}, so its effects must be in every family or
 * in none. A batch applied in some families only leaves the keys it wrote in the others on a different
 * cut, which the rules count as <b>holes</b>; the report says so ("torn across families") when every
 * key of a family agrees on another cut than the one chosen. Since every version is unique across
 * families, a value found in a family that its version was never written to is <b>corrupt</b>
 * ("a version no write of this cycle stored under it"), or, from an earlier cycle, not the base.
 * Lost, holes and corrupt are totals over all families; {@link Report#lostIn} and its siblings split
 * them by family.
 *
 * <p>Thread-safe (stateless).
 */
final class CrashVerifier {
    /** State of an absent key (never written, or last op a delete). */
    static final long ABSENT = -1;
    /** Base state of a key whose content is not known (it was corrupt when last read). */
    static final long UNKNOWN = -2;
    /** Observed state of a key whose read failed or whose value did not decode. */
    static final long CORRUPT = -3;

    private static final int MAX_PROBLEMS = 20;

    private CrashVerifier() {
    }

    /** The verdict on one recovered state. */
    static final class Report {
        /** Batches of the history applied at the chosen cut (0 = none). */
        int cut;
        /** Id of the last batch applied at the cut, or -1 when none. */
        long cutBatchId = -1;
        int intended;
        int acked;
        /** 1-based index of the last acknowledged batch, 0 when none. */
        int lastAcked;
        long lost;
        long holes;
        long corrupt;
        /** Human-readable details, at most {@value #MAX_PROBLEMS} plus a count of the rest. */
        final List<String> problems = new ArrayList<>();
        int problemsOmitted;
        /** The recovered state to use as the next cycle's base (corrupt keys become UNKNOWN). */
        long[] newBase;
        /** The merge operands on top of {@link #newBase} (per key null when none). */
        long[][] newBaseMerges;
        /**
         * Per family, the lost, holes and corrupt keys it holds (their sums are {@link #lost},
         * {@link #holes} and {@link #corrupt}, but for the one "lost" of a state cut before the last
         * acknowledged batch that no key shows, which belongs to no family).
         */
        long[] lostIn;
        long[] holesIn;
        long[] corruptIn;
        /** Families all of whose keys agree on a cut other than the chosen one: a batch torn across families. */
        int familiesOffCut;

        boolean ok() {
            return lost == 0 && holes == 0 && corrupt == 0;
        }

        void problem(String s) {
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(s);
            } else {
                problemsOmitted++;
            }
        }

        /** A problem that sums up others (one per family at most): listed before them, never left out. */
        void summaryProblem(String s) {
            problems.add(leadingSummaries++, s);
        }

        private int leadingSummaries;
    }

    /** The key space: families of {@code perFamily} keys each, and how to name a key in reports. */
    private static final class Space {
        final int families;
        final int perFamily;
        final String[] names;

        Space(String[] names, int keys) {
            this.names = names;
            this.families = names == null ? 1 : names.length;
            if (families < 1 || keys % families != 0) {
                throw new IllegalArgumentException(keys + " keys do not split into " + families + " families");
            }
            this.perFamily = keys / families;
        }

        int family(int index) {
            return index / perFamily;
        }

        /** "key 12", or with families "key 12 of family cf2". */
        String key(int index) {
            return names == null ? "key " + index : "key " + index % perFamily + " of family " + names[index / perFamily];
        }
    }

    /**
     * @param base              state before the history: per key a version, {@link #ABSENT} or {@link #UNKNOWN}
     * @param cycleFirstVersion every version in {@code history} is at least this; every base version below it
     * @param history           the intents and acks of this cycle
     * @param observed          recovered state: per key a version, {@link #ABSENT} or {@link #CORRUPT}
     */
    static Report verify(long[] base, long cycleFirstVersion, CrashHistory history, long[] observed) {
        return verify(base, null, cycleFirstVersion, history, observed, null);
    }

    /**
     * With merges: {@code base[k]} and {@code observed[k]} are the version of the put at the start of
     * the key's value ({@link #ABSENT} when it starts with an operand or the key is absent), and
     * {@code baseMerges[k]} and {@code observedMerges[k]} the versions of the operands that follow it,
     * oldest first; see the class comment.
     *
     * @param baseMerges     per key null or the base's operands; null when no key has any
     * @param observedMerges per key null or the recovered value's operands; null when no key has any
     */
    static Report verify(long[] base, long[][] baseMerges, long cycleFirstVersion, CrashHistory history,
            long[] observed, long[][] observedMerges) {
        return verify(null, base, baseMerges, cycleFirstVersion, history, observed, observedMerges);
    }

    /**
     * With column families: {@code families[f]} names family {@code f} (the history's family
     * numbers), and every state array holds {@code families.length} runs of {@code K} keys, family
     * {@code f}'s key {@code k} at {@code f * K + k}; see the class comment. {@code families} null: one
     * family, unnamed in reports (the history must name no other).
     */
    static Report verify(String[] families, long[] base, long[][] baseMerges, long cycleFirstVersion,
            CrashHistory history, long[] observed, long[][] observedMerges) {
        int keys = base.length;
        if (observed.length != keys) {
            throw new IllegalArgumentException("base has " + keys + " keys, observed " + observed.length);
        }
        Space sp = new Space(families, keys);
        if (history.maxFamily() >= sp.families) {
            throw new IllegalArgumentException("the history writes to family " + history.maxFamily() + " of "
                    + sp.families);
        }
        int perFamily = sp.perFamily;
        // the state of a key: the version of the last write its value reflects
        long[] baseState = new long[keys];
        long[] obsState = new long[keys];
        for (int k = 0; k < keys; k++) {
            long[] bm = merges(baseMerges, k);
            long[] om = merges(observedMerges, k);
            if (bm.length > 0 && base[k] == UNKNOWN) {
                throw new IllegalArgumentException("key " + k + ": an unknown base has no operands");
            }
            if (om.length > 0 && observed[k] == CORRUPT) {
                throw new IllegalArgumentException("key " + k + ": a corrupt observation has no operands");
            }
            baseState[k] = bm.length > 0 ? bm[bm.length - 1] : base[k];
            obsState[k] = om.length > 0 ? om[om.length - 1] : observed[k];
        }
        int n = history.batchCount();
        Report r = new Report();
        r.lostIn = new long[sp.families];
        r.holesIn = new long[sp.families];
        r.corruptIn = new long[sp.families];
        r.intended = n;
        r.acked = history.ackedCount();
        for (int b = 0; b < n; b++) {
            if (history.acked(b)) {
                r.lastAcked = b + 1;
            }
        }
        if (history.strayAcks() > 0) {
            r.problem("history has " + history.strayAcks() + " acks of batches never intended (harness bug)");
        }

        // ops of each key, in write order (CSR layout); a range delete is an op of every key it covers
        KeyOrder order = history.rangeOpCount() > 0 ? new KeyOrder(perFamily) : null;
        int[] keyStart = new int[keys + 1];
        long expanded = 0;
        for (int op = 0; op < history.opCount(); op++) {
            int familyBase = history.opFamily(op) * perFamily;
            if (history.opRange(op)) {
                int lo = order.lowerBound(history.opFrom(op));
                int hi = Math.max(lo, order.lowerBound(history.opTo(op)));
                for (int i = lo; i < hi; i++) {
                    keyStart[familyBase + order.sorted[i] + 1]++;
                }
                expanded += hi - lo;
                continue;
            }
            int k = history.opKey(op);
            if (k < 0 || k >= perFamily) {
                throw new IllegalArgumentException("op " + op + " touches key " + k + " outside [0, " + perFamily + ")");
            }
            keyStart[familyBase + k + 1]++;
            expanded++;
        }
        if (expanded > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("history too large: " + expanded + " key operations");
        }
        for (int k = 0; k < keys; k++) {
            keyStart[k + 1] += keyStart[k];
        }
        int[] keyOps = new int[(int) expanded];
        int[] fill = keyStart.clone();
        for (int op = 0; op < history.opCount(); op++) {
            int familyBase = history.opFamily(op) * perFamily;
            if (history.opRange(op)) {
                int lo = order.lowerBound(history.opFrom(op));
                int hi = Math.max(lo, order.lowerBound(history.opTo(op)));
                for (int i = lo; i < hi; i++) {
                    keyOps[fill[familyBase + order.sorted[i]]++] = op;
                }
            } else {
                keyOps[fill[familyBase + history.opKey(op)]++] = op;
            }
        }

        int[] diff = new int[n + 2];
        // the same per family, to tell a batch torn across families from other holes
        int[][] familyDiff = sp.families > 1 ? new int[sp.families][n + 2] : null;
        long[] familyChecked = new long[sp.families];
        int[] segStart = new int[64];
        long[] segState = new long[64];
        int[] matchLo = new int[64];
        int[] matchHi = new int[64];
        boolean[] inCut = new boolean[keys];
        List<Integer> holeKeys = new ArrayList<>();
        long checked = 0;

        for (int k = 0; k < keys; k++) {
            long obs = obsState[k];
            int fam = sp.family(k);
            if (obs == CORRUPT) {
                r.corrupt++;
                r.corruptIn[fam]++;
                continue; // the caller reported the details
            }
            int from = keyStart[k];
            int to = keyStart[k + 1];

            // segments: cut ranges [segStart[s], segStart[s+1]-1] over which the key's state is segState[s]
            int segs = 0;
            segStart[0] = 0;
            segState[0] = baseState[k];
            segs = 1;
            for (int i = from; i < to; i++) {
                int op = keyOps[i];
                boolean lastInBatch = i + 1 == to || history.opBatch(keyOps[i + 1]) != history.opBatch(op);
                if (lastInBatch) {
                    if (segs == segStart.length) {
                        segStart = java.util.Arrays.copyOf(segStart, segs * 2);
                        segState = java.util.Arrays.copyOf(segState, segs * 2);
                        matchLo = java.util.Arrays.copyOf(matchLo, segs * 2);
                        matchHi = java.util.Arrays.copyOf(matchHi, segs * 2);
                    }
                    segStart[segs] = history.opBatch(op) + 1;
                    segState[segs] = history.opDelete(op) ? ABSENT : history.opVersion(op);
                    segs++;
                }
            }

            // which segments the observation matches
            String why = null;
            boolean stale = false;
            boolean anyMatch = false;
            int maxFeasible = -1;
            long[] om = merges(observedMerges, k);
            String wrongWrite = checkWrites(history, keyOps, from, to, cycleFirstVersion, observed[k], om);
            if (wrongWrite != null) {
                r.corrupt++;
                r.corruptIn[fam]++;
                r.problem("corrupt: " + sp.key(k) + " holds " + wrongWrite + "; "
                        + describeKey(history, keyOps, from, to, baseState[k], obs));
                inCut[k] = true; // not a hole; already counted
                continue;
            }
            if (obs != ABSENT && obs >= cycleFirstVersion) {
                int op = findOp(history, keyOps, from, to, obs);
                why = "an intermediate value of batch " + history.batchId(history.opBatch(op))
                        + " (overwritten later in the same batch)";
            }
            int matches = 0;
            for (int s = 0; s < segs; s++) {
                boolean match;
                long st = segState[s];
                if (s == 0 && st == UNKNOWN) {
                    match = obs == ABSENT || obs < cycleFirstVersion;
                } else {
                    match = st == obs;
                }
                if (!match) {
                    continue;
                }
                int lo = segStart[s];
                int hi = s + 1 < segs ? segStart[s + 1] - 1 : n;
                if (lo > hi) {
                    continue; // superseded within the cut granularity (cannot happen: one segment per batch)
                }
                anyMatch = true;
                matchLo[matches] = lo;
                matchHi[matches++] = hi;
                maxFeasible = Math.max(maxFeasible, hi);
            }
            if (!anyMatch && obs != ABSENT && obs < cycleFirstVersion) {
                stale = true;
            }
            if (stale) {
                r.lost++;
                r.lostIn[fam]++;
                r.problem("lost: " + sp.key(k) + " holds " + (om.length > 0 ? fold(observed[k], om) + ", whose last write is "
                        + state(obs) : "version " + obs) + " from an earlier cycle, but the verified base was "
                        + fold(base[k], merges(baseMerges, k)) + "; "
                        + describeKey(history, keyOps, from, to, baseState[k], obs));
                inCut[k] = true; // counted as lost, not as a hole
                continue;
            }
            if (!anyMatch) {
                r.holes++;
                r.holesIn[fam]++;
                r.problem("hole: " + sp.key(k) + " holds " + (om.length > 0 ? fold(observed[k], om) + ", whose last write "
                        + state(obs) + " is " : state(obs) + ", ")
                        + (why != null ? why : "which matches no batch boundary") + "; "
                        + describeKey(history, keyOps, from, to, baseState[k], obs));
                inCut[k] = true; // already counted as a hole
                continue;
            }
            if (om.length > 0) {
                // the whole value must be the fold of the writes up to its last one
                long[][] expected = expectedFold(history, keyOps, from, to, base[k], merges(baseMerges, k), obs,
                        cycleFirstVersion);
                if (!foldMatches(expected, observed[k], om, cycleFirstVersion)) {
                    r.holes++;
                    r.holesIn[fam]++;
                    r.problem("hole: " + sp.key(k) + " holds " + fold(observed[k], om) + ", but the key's writes up to "
                            + state(obs) + " fold to " + fold(expected[0][0], expected[1])
                            + " (an operand missing, repeated, out of order or on the wrong value); "
                            + describeKey(history, keyOps, from, to, baseState[k], obs));
                    inCut[k] = true;
                    continue;
                }
            }
            for (int m = 0; m < matches; m++) {
                diff[matchLo[m]]++;
                diff[matchHi[m] + 1]--;
                if (familyDiff != null) {
                    familyDiff[fam][matchLo[m]]++;
                    familyDiff[fam][matchHi[m] + 1]--;
                }
            }
            checked++;
            familyChecked[fam]++;
            int lastAckedBatch = 0; // 1-based batch index of the last acked write to k
            for (int i = to - 1; i >= from; i--) {
                int b = history.opBatch(keyOps[i]);
                if (history.acked(b)) {
                    lastAckedBatch = b + 1;
                    break;
                }
            }
            if (maxFeasible < lastAckedBatch) {
                r.lost++;
                r.lostIn[fam]++;
                r.problem("lost: " + sp.key(k) + " holds " + (om.length > 0 ? fold(observed[k], om) : state(obs))
                        + ", older than its last acknowledged write (batch " + history.batchId(lastAckedBatch - 1) + "); "
                        + describeKey(history, keyOps, from, to, baseState[k], obs));
            }
        }

        // the cut most keys agree with (largest on ties)
        int best = 0;
        long bestCount = -1;
        long run = 0;
        for (int c = 0; c <= n; c++) {
            run += diff[c];
            if (run >= bestCount) {
                bestCount = run;
                best = c;
            }
        }
        r.cut = best;
        r.cutBatchId = best == 0 ? -1 : history.batchId(best - 1);
        long disagreeing = checked - Math.max(0, bestCount);
        if (disagreeing > 0) {
            r.holes += disagreeing;
            if (familyDiff != null) {
                tornAcrossFamilies(r, sp, history, familyDiff, familyChecked, best);
            } else {
                r.holesIn[0] += disagreeing;
            }
            // name the keys that disagree with the chosen cut
            for (int k = 0; k < keys && holeKeys.size() < MAX_PROBLEMS; k++) {
                if (inCut[k] || obsState[k] == CORRUPT) {
                    continue;
                }
                if (!stateAtCut(history, keyOps, keyStart[k], keyStart[k + 1], baseState[k], best, obsState[k],
                        cycleFirstVersion)) {
                    holeKeys.add(k);
                    r.problem("hole: " + sp.key(k) + " holds " + state(obsState[k]) + " but the state after batch "
                            + (best == 0 ? "(none)" : String.valueOf(history.batchId(best - 1))) + " has "
                            + state(expectedAtCut(history, keyOps, keyStart[k], keyStart[k + 1], baseState[k], best)) + "; "
                            + describeKey(history, keyOps, keyStart[k], keyStart[k + 1], baseState[k], obsState[k]));
                }
            }
        }
        if (best < r.lastAcked && r.lost == 0) {
            r.lost = 1;
            r.problem("lost: the recovered state matches the cut after batch " + r.cutBatchId
                    + ", before the last acknowledged batch " + history.batchId(r.lastAcked - 1));
        }

        r.newBase = new long[keys];
        r.newBaseMerges = new long[keys][];
        for (int k = 0; k < keys; k++) {
            r.newBase[k] = observed[k] == CORRUPT ? UNKNOWN : observed[k];
            long[] om = merges(observedMerges, k);
            r.newBaseMerges[k] = om.length == 0 ? null : om.clone();
        }
        return r;
    }

    /**
     * Splits the holes of keys that disagree with the chosen cut {@code best} by family, and for each
     * family all of whose checked keys agree on another cut reports the batches between the two as
     * applied in some families only.
     */
    private static void tornAcrossFamilies(Report r, Space sp, CrashHistory history, int[][] familyDiff,
            long[] familyChecked, int best) {
        int n = history.batchCount();
        for (int f = 0; f < sp.families; f++) {
            long run = 0;
            long atBest = 0;
            int whole = -1; // the cut nearest to best that every checked key of f agrees with
            for (int c = 0; c <= n; c++) {
                run += familyDiff[f][c];
                if (c == best) {
                    atBest = run;
                }
                if (run == familyChecked[f] && (whole < 0 || Math.abs(c - best) < Math.abs(whole - best))) {
                    whole = c;
                }
            }
            long off = familyChecked[f] - atBest;
            r.holesIn[f] += off;
            if (off == 0 || whole < 0 || familyChecked[f] == 0) {
                continue;
            }
            r.familiesOffCut++;
            int lo = Math.min(whole, best);
            int hi = Math.max(whole, best);
            StringBuilder torn = new StringBuilder();
            int shown = 0;
            for (int b = lo; b < hi; b++) {
                if (shown++ == 6) {
                    torn.append(", …");
                    break;
                }
                torn.append(shown > 1 ? ", " : "").append(history.batchId(b)).append(history.acked(b) ? " (acked" : " (unacked")
                        .append(history.spansFamilies(b) ? ", spans families)" : ")");
            }
            r.summaryProblem("torn across families: every key of family " + sp.names[f] + " agrees with the cut after batch "
                    + (whole == 0 ? "(none)" : String.valueOf(history.batchId(whole - 1))) + ", but the state as a "
                    + "whole is at the cut after batch " + (best == 0 ? "(none)" : String.valueOf(history.batchId(best - 1)))
                    + ": batch(es) " + torn + " " + (whole > best ? "applied in " : "missing from ") + sp.names[f]
                    + " but not " + (whole > best ? "in" : "from") + " the other families (" + off + " of its keys "
                    + "disagree)");
        }
    }

    private static final long[] NONE = new long[0];

    private static long[] merges(long[][] perKey, int k) {
        return perKey == null || perKey[k] == null ? NONE : perKey[k];
    }

    /**
     * Null when every version of this cycle in the value is a write of its kind to this key (the put a
     * put, each operand a merge), else what is wrong.
     */
    private static String checkWrites(CrashHistory h, int[] keyOps, int from, int to, long cycleFirstVersion, long put,
            long[] merges) {
        if (put != ABSENT && put >= cycleFirstVersion) {
            int op = findOp(h, keyOps, from, to, put);
            if (op < 0) {
                return "version " + put + ", which no write of this cycle stored under it";
            }
            if (h.opDelete(op)) {
                return "version " + put + ", which was a delete";
            }
            if (h.opMerge(op)) {
                return "version " + put + " as the value its operands apply to, but that write was a merge";
            }
        }
        for (int i = 0; i < merges.length; i++) {
            long m = merges[i];
            if (m < cycleFirstVersion) {
                continue;
            }
            int op = findOp(h, keyOps, from, to, m);
            if (op < 0) {
                return "the merge operand of version " + m + " (operand #" + (i + 1) + " of " + fold(put, merges)
                        + "), which no merge of this cycle wrote to it";
            }
            if (!h.opMerge(op)) {
                return "the merge operand of version " + m + " (operand #" + (i + 1) + " of " + fold(put, merges)
                        + "), but that write was a " + (h.opDelete(op) ? "delete" : "put");
            }
        }
        return null;
    }

    /**
     * The fold of the key's writes up to the merge of version {@code last} (of this cycle or, when
     * older, the base's last operand): {put, operands}. {@code put} is {@link #UNKNOWN} when the walk
     * reached an unknown base; the operands are then only this cycle's.
     */
    private static long[][] expectedFold(CrashHistory h, int[] keyOps, int from, int to, long base, long[] baseMerges,
            long last, long cycleFirstVersion) {
        int i = from - 1;
        if (last >= cycleFirstVersion) {
            int lo = from;
            int hi = to - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long v = h.opVersion(keyOps[mid]);
                if (v < last) {
                    lo = mid + 1;
                } else if (v > last) {
                    hi = mid - 1;
                } else {
                    i = mid;
                    break;
                }
            }
        }
        int count = 0;
        long put = base;
        boolean reachedBase = true;
        int j = i;
        for (; j >= from; j--) {
            int op = keyOps[j];
            if (!h.opMerge(op)) {
                put = h.opDelete(op) ? ABSENT : h.opVersion(op);
                reachedBase = false;
                break;
            }
            count++;
        }
        int below = reachedBase && base != UNKNOWN ? baseMerges.length : 0;
        long[] ops = new long[below + count];
        System.arraycopy(baseMerges, 0, ops, 0, below);
        for (int x = 0; x < count; x++) {
            ops[below + x] = h.opVersion(keyOps[j + 1 + x]);
        }
        return new long[][] {{put}, ops};
    }

    /** Whether the value {put, merges} is the fold {@link #expectedFold} computed. */
    private static boolean foldMatches(long[][] expected, long put, long[] merges, long cycleFirstVersion) {
        long ePut = expected[0][0];
        long[] eOps = expected[1];
        if (ePut != UNKNOWN) {
            return put == ePut && java.util.Arrays.equals(merges, eOps);
        }
        // an unknown base: anything from earlier cycles, then exactly this cycle's operands
        int below = merges.length - eOps.length;
        if (below < 0 || !java.util.Arrays.equals(merges, below, merges.length, eOps, 0, eOps.length)) {
            return false;
        }
        if (put != ABSENT && put >= cycleFirstVersion) {
            return false;
        }
        for (int x = 0; x < below; x++) {
            if (merges[x] >= cycleFirstVersion) {
                return false;
            }
        }
        return true;
    }

    /** A value for problem reports: "put v12 + merges [v13, v20]", "merges [v13] on nothing", "v12", "absent". */
    static String fold(long put, long[] merges) {
        if (merges == null || merges.length == 0) {
            return state(put);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(put == ABSENT ? "" : (put == UNKNOWN ? "unknown" : "put " + state(put)) + " + ").append("merges [");
        int shown = Math.min(merges.length, 12);
        for (int i = merges.length - shown; i < merges.length; i++) {
            if (i == merges.length - shown && i > 0) {
                sb.append("… ").append(i).append(" earlier, ");
            } else if (i > merges.length - shown) {
                sb.append(", ");
            }
            sb.append('v').append(merges[i]);
        }
        sb.append(']');
        if (put == ABSENT) {
            sb.append(" on nothing");
        }
        return sb.toString();
    }

    /** The keys {@code 0..n-1} of the key space sorted by their encoding ({@link CrashCodec#key}). */
    static final class KeyOrder {
        /** Key indexes in unsigned bytewise order of their encodings. */
        final int[] sorted;
        private final byte[][] encoded;

        KeyOrder(int n) {
            Integer[] idx = new Integer[n];
            byte[][] enc = new byte[n][];
            for (int k = 0; k < n; k++) {
                idx[k] = k;
                enc[k] = CrashCodec.key(k);
            }
            java.util.Arrays.sort(idx, (a, b) -> java.util.Arrays.compareUnsigned(enc[a], enc[b]));
            sorted = new int[n];
            encoded = new byte[n][];
            for (int i = 0; i < n; i++) {
                sorted[i] = idx[i];
                encoded[i] = enc[idx[i]];
            }
        }

        /** Position in {@link #sorted} of the first key whose encoding is {@code >= bound}. */
        int lowerBound(byte[] bound) {
            int lo = 0;
            int hi = encoded.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (java.util.Arrays.compareUnsigned(encoded[mid], bound) < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        /** The encoding of the key at {@code position}. */
        byte[] encodedAt(int position) {
            return encoded[position];
        }
    }

    private static int findOp(CrashHistory h, int[] keyOps, int from, int to, long version) {
        int lo = from;
        int hi = to - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long v = h.opVersion(keyOps[mid]);
            if (v < version) {
                lo = mid + 1;
            } else if (v > version) {
                hi = mid - 1;
            } else {
                return keyOps[mid];
            }
        }
        return -1;
    }

    /** The key's state after batches 1..cut. */
    private static long expectedAtCut(CrashHistory h, int[] keyOps, int from, int to, long base, int cut) {
        long st = base;
        for (int i = from; i < to; i++) {
            int op = keyOps[i];
            if (h.opBatch(op) + 1 > cut) {
                break;
            }
            st = h.opDelete(op) ? ABSENT : h.opVersion(op);
        }
        return st;
    }

    private static boolean stateAtCut(CrashHistory h, int[] keyOps, int from, int to, long base, int cut, long obs,
            long cycleFirstVersion) {
        long st = expectedAtCut(h, keyOps, from, to, base, cut);
        if (st == UNKNOWN) {
            return obs == ABSENT || obs < cycleFirstVersion;
        }
        return st == obs;
    }

    static String state(long s) {
        if (s == ABSENT) {
            return "absent";
        }
        if (s == UNKNOWN) {
            return "unknown";
        }
        if (s == CORRUPT) {
            return "corrupt";
        }
        return "v" + s;
    }

    /** The key's base and its last few writes of this cycle, for problem reports. */
    private static String describeKey(CrashHistory h, int[] keyOps, int from, int to, long base, long obs) {
        StringBuilder sb = new StringBuilder();
        sb.append("base ").append(state(base)).append(", writes [");
        int shown = 0;
        int start = Math.max(from, to - 6);
        if (start > from) {
            sb.append("… ").append(start - from).append(" earlier, ");
        }
        for (int i = start; i < to; i++) {
            int op = keyOps[i];
            int b = h.opBatch(op);
            if (shown++ > 0) {
                sb.append(", ");
            }
            sb.append("batch ").append(h.batchId(b)).append(" (#").append(b + 1).append(h.acked(b) ? " acked" : " unacked")
                    .append(") ").append(h.opRange(op) ? "range del [" + CrashCodec.hex(h.opFrom(op)) + ", "
                            + CrashCodec.hex(h.opTo(op)) + ") v" : h.opDelete(op) ? "del v" : h.opMerge(op) ? "merge v" : "put v")
                    .append(h.opVersion(op));
            if (h.opVersion(op) == obs) {
                sb.append("*");
            }
        }
        return sb.append("] of ").append(h.batchCount()).append(" batches").toString();
    }
}
