package io.o3lsm.bench.crash;

import static io.o3lsm.bench.crash.CrashVerifier.ABSENT;
import static io.o3lsm.bench.crash.CrashVerifier.CORRUPT;
import static io.o3lsm.bench.crash.CrashVerifier.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The crash-test checker on synthetic histories: each kind of failure must be detected, a valid cut accepted. */
class CrashVerifierTest {
    private static final int KEYS = 4;
    private static final long FIRST = 100; // first version of the cycle

    /**
     * Base: key0 = v10, key1 = v11, key2 absent, key3 absent.
     * b1 (acked):   put k0 v100, put k2 v101
     * b2 (acked):   del k1 v102, put k3 v103
     * b3 (unacked): put k0 v104, put k1 v105, put k0 v106   (k0 twice: v104 is an intermediate value)
     */
    private static long[] base() {
        return new long[] {10, 11, ABSENT, ABSENT};
    }

    private static CrashHistory history() {
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(0, 100);
        h.put(2, 101);
        h.ack(1);
        h.beginBatch(2);
        h.delete(1, 102);
        h.put(3, 103);
        h.ack(2);
        h.beginBatch(3);
        h.put(0, 104);
        h.put(1, 105);
        h.put(0, 106);
        return h;
    }

    private static CrashVerifier.Report verify(long... observed) {
        return CrashVerifier.verify(base(), FIRST, history(), observed);
    }

    @Test
    void shouldAcceptCutAtLastAck() {
        CrashVerifier.Report r = verify(100, ABSENT, 101, 103);
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(2, r.cut);
        assertEquals(2, r.cutBatchId);
        assertEquals(2, r.acked);
        assertEquals(3, r.intended);
        assertArrayEquals(new long[] {100, ABSENT, 101, 103}, r.newBase);
    }

    @Test
    void shouldAcceptUnackedBatchAppliedWhole() {
        CrashVerifier.Report r = verify(106, 105, 101, 103);
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(3, r.cut);
    }

    @Test
    void shouldDetectTornBatch() {
        // b3 half applied: k1 got v105 but k0 still has b1's v100
        CrashVerifier.Report r = verify(100, 105, 101, 103);
        assertEquals(1, r.holes, r.problems::toString);
        assertEquals(0, r.lost, r.problems::toString);
        assertEquals(0, r.corrupt);
        assertTrue(r.problems.get(0).contains("hole"), r.problems::toString);
    }

    @Test
    void shouldDetectIntermediateValueOfBatch() {
        // v104 was overwritten by v106 in the same batch: no batch boundary shows it
        CrashVerifier.Report r = verify(104, 105, 101, 103);
        assertEquals(1, r.holes, r.problems::toString);
        assertTrue(r.problems.get(0).contains("intermediate"), r.problems::toString);
    }

    @Test
    void shouldDetectLostAckedWrite() {
        // b2 (acknowledged) missing entirely: a consistent cut, but before the last ack
        CrashVerifier.Report r = verify(100, 11, 101, ABSENT);
        assertEquals(0, r.holes, r.problems::toString);
        assertEquals(2, r.lost, r.problems::toString); // k1's delete and k3's put
        assertEquals(1, r.cut);
    }

    @Test
    void shouldDetectLostDelete() {
        // k1 still holds its base value though b2 (acked) deleted it; everything else at cut 2
        CrashVerifier.Report r = verify(100, 11, 101, 103);
        assertEquals(1, r.lost, r.problems::toString);
        assertEquals(1, r.holes, r.problems::toString); // and the state is no single cut
    }

    @Test
    void shouldDetectHole() {
        // b2 applied, b1 (earlier) not: k0 keeps the base, k2 absent, though b2's effects are there
        CrashVerifier.Report r = verify(10, ABSENT, ABSENT, 103);
        assertTrue(r.holes >= 1, r.problems::toString);
        assertTrue(r.lost >= 1, r.problems::toString);
    }

    @Test
    void shouldDetectCorruption() {
        CrashVerifier.Report r = verify(CORRUPT, ABSENT, 101, 103);
        assertEquals(1, r.corrupt);
        assertEquals(0, r.holes);
        assertArrayEquals(new long[] {UNKNOWN, ABSENT, 101, 103}, r.newBase);
        // a version this cycle never wrote under key 2 (103 belongs to key 3)
        CrashVerifier.Report r2 = verify(100, ABSENT, 103, 103);
        assertEquals(1, r2.corrupt, r2.problems::toString);
        // a version that was a delete
        CrashVerifier.Report r3 = verify(100, 102, 101, 103);
        assertEquals(1, r3.corrupt, r3.problems::toString);
    }

    @Test
    void shouldDetectResurrectedOldValue() {
        // k0 holds v5, older than its verified base v10
        CrashVerifier.Report r = verify(5, ABSENT, 101, 103);
        assertEquals(1, r.lost, r.problems::toString);
        assertEquals(0, r.holes);
    }

    @Test
    void shouldAcceptAbsenceConsistentWithEitherEnd() {
        // k2: absent at base, put in b1, deleted in b3: absent fits cuts 0 and 3..
        long[] base = {ABSENT, ABSENT};
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(1, 100);
        h.ack(1);
        h.beginBatch(2);
        h.put(0, 101);
        h.ack(2);
        h.beginBatch(3);
        h.delete(0, 102);
        h.ack(3);
        CrashVerifier.Report r = CrashVerifier.verify(base, FIRST, h, new long[] {ABSENT, 100});
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(3, r.cut);
        // but k1 missing as well means the cut is 0: all three acked batches lost
        CrashVerifier.Report r2 = CrashVerifier.verify(base, FIRST, h, new long[] {ABSENT, ABSENT});
        assertEquals(0, r2.holes, r2.problems::toString);
        assertEquals(1, r2.lost, r2.problems::toString);
    }

    @Test
    void shouldTreatUnknownBaseAsAnyOldState() {
        long[] base = {UNKNOWN};
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(0, 100);
        CrashVerifier.Report r = CrashVerifier.verify(base, FIRST, h, new long[] {7});
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(0, r.cut);
    }

    @Test
    void shouldAcceptEmptyHistory() {
        CrashVerifier.Report r = CrashVerifier.verify(base(), FIRST, new CrashHistory(), base());
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(0, r.cut);
        // an old version where the base says absent: resurrected
        CrashVerifier.Report r2 = CrashVerifier.verify(base(), FIRST, new CrashHistory(), new long[] {10, 11, ABSENT, 12});
        assertEquals(1, r2.lost, r2.problems::toString);
        // a version from this cycle though this cycle wrote nothing
        CrashVerifier.Report r3 = CrashVerifier.verify(base(), FIRST, new CrashHistory(), new long[] {10, 11, ABSENT, 120});
        assertEquals(1, r3.corrupt, r3.problems::toString);
    }

    @Test
    void shouldRoundTripHistoryFileAndIgnoreTornLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("history");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            CrashHistory.Writer w = new CrashHistory.Writer(ch);
            w.intent(1, 100, 2, new int[] {0, 2}, new boolean[] {false, false});
            w.ack(1);
            w.intent(2, 102, 2, new int[] {1, 3}, new boolean[] {true, false});
            w.ack(2);
            w.intent(3, 104, 3, new int[] {0, 1, 0}, new boolean[] {false, false, false});
        }
        byte[] bytes = Files.readAllBytes(f);
        assertEquals("I 1 100 P0 P2\nA 1\nI 2 102 D1 P3\nA 2\nI 3 104 P0 P1 P0\n", new String(bytes));
        CrashHistory parsed = CrashHistory.parse(bytes);
        CrashHistory built = history();
        assertEquals(built.batchCount(), parsed.batchCount());
        assertEquals(built.opCount(), parsed.opCount());
        for (int op = 0; op < built.opCount(); op++) {
            assertEquals(built.opKey(op), parsed.opKey(op));
            assertEquals(built.opVersion(op), parsed.opVersion(op));
            assertEquals(built.opDelete(op), parsed.opDelete(op));
            assertEquals(built.opBatch(op), parsed.opBatch(op));
        }
        assertEquals(2, parsed.ackedCount());
        assertEquals(106, parsed.maxVersion());

        // a line cut short by the kill is not part of the history
        byte[] torn = Arrays.copyOf(bytes, bytes.length + 8);
        System.arraycopy("A 3\nI 4 ".getBytes(), 0, torn, bytes.length, 8);
        CrashHistory t = CrashHistory.parse(torn);
        assertEquals(3, t.batchCount());
        assertEquals(3, t.ackedCount());
        CrashHistory t2 = CrashHistory.parse(Arrays.copyOf(bytes, bytes.length - 1));
        assertEquals(2, t2.batchCount());
    }

    @Test
    void shouldDetectBadValues() {
        byte[] v = CrashCodec.value(42, 123456);
        assertNull(CrashCodec.check(42, v));
        assertEquals(123456, CrashCodec.version(v));
        assertNotNull(CrashCodec.check(43, v), "value of another key");
        for (int i = 0; i < v.length; i++) {
            byte[] flipped = v.clone();
            flipped[i] ^= 0x10;
            assertNotNull(CrashCodec.check(42, flipped), "bit flip at " + i);
        }
        assertNotNull(CrashCodec.check(42, Arrays.copyOf(v, v.length - 1)));
        assertNotNull(CrashCodec.check(42, new byte[0]));
        assertEquals(42, CrashCodec.keyIndex(CrashCodec.key(42)));
        // padding varies with the version
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (long ver = 0; ver < 1000; ver++) {
            min = Math.min(min, CrashCodec.padLength(ver));
            max = Math.max(max, CrashCodec.padLength(ver));
        }
        assertTrue(min < 20 && max > 280, min + ".." + max);
    }

    // ------------------------------------------------------------------ range deletes

    private static final int RKEYS = 8;
    /** Key indexes in key byte order: range deletes cover runs of this array, not of indexes. */
    private static final int[] BY_BYTES = new CrashVerifier.KeyOrder(RKEYS).sorted;

    private static byte[] enc(int position) {
        return CrashCodec.key(BY_BYTES[position]);
    }

    /** Every key present at version 10 + index. */
    private static long[] fullBase() {
        long[] b = new long[RKEYS];
        for (int k = 0; k < RKEYS; k++) {
            b[k] = 10 + k;
        }
        return b;
    }

    /**
     * b1 (acked):   deleteRange [enc(2), enc(5)) = keys at byte positions 2, 3, 4; then put position 3 (v101)
     * b2 (unacked): put position 2 (v102)
     */
    private static CrashHistory rangeHistory() {
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.deleteRange(enc(2), enc(5), 100);
        h.put(BY_BYTES[3], 101);
        h.ack(1);
        h.beginBatch(2);
        h.put(BY_BYTES[2], 102);
        return h;
    }

    /** The base with the keys at byte positions {@code positions} set to {@code state} (pairs). */
    private static long[] with(long[] base, long... positionAndState) {
        long[] o = base.clone();
        for (int i = 0; i < positionAndState.length; i += 2) {
            o[BY_BYTES[(int) positionAndState[i]]] = positionAndState[i + 1];
        }
        return o;
    }

    @Test
    void shouldOrderKeysByTheirBytesNotTheirIndexes() {
        assertTrue(!Arrays.equals(BY_BYTES, new int[] {0, 1, 2, 3, 4, 5, 6, 7}), "the codec is meant to scramble");
        for (int i = 1; i < RKEYS; i++) {
            assertTrue(Arrays.compareUnsigned(enc(i - 1), enc(i)) < 0);
        }
    }

    @Test
    void shouldAcceptCutWithRangeDelete() {
        // cut 1: positions 2 and 4 deleted by the range, 3 deleted then put again in the same batch
        CrashVerifier.Report r = CrashVerifier.verify(fullBase(), FIRST, rangeHistory(),
                with(fullBase(), 2, ABSENT, 3, 101, 4, ABSENT));
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(1, r.cut);
        // cut 2: the unacked put after it applied too
        CrashVerifier.Report r2 = CrashVerifier.verify(fullBase(), FIRST, rangeHistory(),
                with(fullBase(), 2, 102, 3, 101, 4, ABSENT));
        assertTrue(r2.ok(), r2.problems::toString);
        assertEquals(2, r2.cut);
    }

    @Test
    void shouldDetectLostRangeDelete() {
        // position 4 survived the acknowledged range delete
        CrashVerifier.Report r = CrashVerifier.verify(fullBase(), FIRST, rangeHistory(),
                with(fullBase(), 2, ABSENT, 3, 101));
        assertEquals(1, r.lost, r.problems::toString);
        assertEquals(1, r.holes, r.problems::toString); // and the state is no single cut
        assertTrue(r.problems.toString().contains("range del"), r.problems::toString);
        // the whole range delete lost, the put after it kept: both covered keys lost
        CrashVerifier.Report r2 = CrashVerifier.verify(fullBase(), FIRST, rangeHistory(), with(fullBase(), 3, 101));
        assertEquals(2, r2.lost, r2.problems::toString);
        // the whole acknowledged batch lost: a consistent cut, but before the last ack
        CrashVerifier.Report r3 = CrashVerifier.verify(fullBase(), FIRST, rangeHistory(), fullBase());
        assertEquals(0, r3.holes, r3.problems::toString);
        assertEquals(3, r3.lost, r3.problems::toString);
        assertEquals(0, r3.cut);
    }

    @Test
    void shouldDetectTornBatchWithRangeDelete() {
        // b2 (unacked): put position 0 and deleteRange [enc(5), enc(7)) = positions 5, 6
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(BY_BYTES[1], 100);
        h.ack(1);
        h.beginBatch(2);
        h.put(BY_BYTES[0], 101);
        h.deleteRange(enc(5), enc(7), 102);
        long[] atCut1 = with(fullBase(), 1, 100);
        assertTrue(CrashVerifier.verify(fullBase(), FIRST, h, atCut1).ok());
        CrashVerifier.Report whole = CrashVerifier.verify(fullBase(), FIRST, h, with(atCut1, 0, 101, 5, ABSENT, 6, ABSENT));
        assertTrue(whole.ok(), whole.problems::toString);
        assertEquals(2, whole.cut);
        // the put applied without the range delete
        CrashVerifier.Report r = CrashVerifier.verify(fullBase(), FIRST, h, with(atCut1, 0, 101));
        assertEquals(1, r.holes, r.problems::toString);
        assertEquals(0, r.lost, r.problems::toString);
        // the range delete applied without the put
        CrashVerifier.Report r2 = CrashVerifier.verify(fullBase(), FIRST, h, with(atCut1, 5, ABSENT, 6, ABSENT));
        assertEquals(1, r2.holes, r2.problems::toString);
        assertEquals(0, r2.lost, r2.problems::toString);
        // half the range delete applied
        CrashVerifier.Report r3 = CrashVerifier.verify(fullBase(), FIRST, h, with(atCut1, 0, 101, 5, ABSENT));
        assertEquals(1, r3.holes, r3.problems::toString);
    }

    @Test
    void shouldCoverExactlyTheKeysWhoseBytesLieInTheRange() {
        // bounds taken from two keys by index: which keys lie between them is a matter of bytes
        int keys = 64;
        long[] base = new long[keys];
        for (int k = 0; k < keys; k++) {
            base[k] = 10 + k;
        }
        int from = -1;
        int to = -1;
        for (int i = 0; i < keys && from < 0; i++) {
            for (int j = i + 2; j < keys; j++) {
                if (Arrays.compareUnsigned(CrashCodec.key(i), CrashCodec.key(j)) < 0 && coveredByBytes(keys, i, j) >= 3
                        && coveredByBytes(keys, i, j) != j - i) {
                    from = i;
                    to = j;
                    break;
                }
            }
        }
        assertTrue(from >= 0, "no suitable pair of keys");
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.deleteRange(CrashCodec.key(from), CrashCodec.key(to), 100);
        h.ack(1);
        long[] byBytes = base.clone();
        long[] byIndexes = base.clone();
        for (int k = 0; k < keys; k++) {
            if (Arrays.compareUnsigned(CrashCodec.key(from), CrashCodec.key(k)) <= 0
                    && Arrays.compareUnsigned(CrashCodec.key(k), CrashCodec.key(to)) < 0) {
                byBytes[k] = ABSENT;
            }
            if (k >= from && k < to) {
                byIndexes[k] = ABSENT;
            }
        }
        CrashVerifier.Report r = CrashVerifier.verify(base, FIRST, h, byBytes);
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(1, r.cut);
        CrashVerifier.Report wrong = CrashVerifier.verify(base, FIRST, h, byIndexes);
        assertTrue(!wrong.ok(), "deleting by index order must not pass");

        // a bound between keys (a prefix of a key's bytes), and an empty range (from >= to)
        CrashHistory h2 = new CrashHistory();
        h2.beginBatch(1);
        byte[] prefix = Arrays.copyOf(enc(3), 3);
        h2.deleteRange(prefix, enc(5), 100);
        h2.deleteRange(enc(6), enc(6), 101);
        h2.deleteRange(enc(7), enc(0), 102);
        h2.ack(1);
        long[] expected = fullBase();
        for (int pos = 0; pos < RKEYS; pos++) {
            if (Arrays.compareUnsigned(prefix, enc(pos)) <= 0 && Arrays.compareUnsigned(enc(pos), enc(5)) < 0) {
                expected[BY_BYTES[pos]] = ABSENT;
            }
        }
        CrashVerifier.Report r2 = CrashVerifier.verify(fullBase(), FIRST, h2, expected);
        assertTrue(r2.ok(), r2.problems::toString);
        CrashVerifier.Report r3 = CrashVerifier.verify(fullBase(), FIRST, h2, with(expected, 6, ABSENT));
        assertEquals(1, r3.lost + r3.holes, "an empty range deletes nothing: " + r3.problems);
    }

    private static int coveredByBytes(int keys, int from, int to) {
        int n = 0;
        for (int k = 0; k < keys; k++) {
            if (Arrays.compareUnsigned(CrashCodec.key(from), CrashCodec.key(k)) <= 0
                    && Arrays.compareUnsigned(CrashCodec.key(k), CrashCodec.key(to)) < 0) {
                n++;
            }
        }
        return n;
    }

    @Test
    void shouldRoundTripRangeDeletesInHistoryFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("history");
        byte[] a = {0x5a, 0x3c, 0, 0, 0, 0, 0, 0x0a};
        byte[] b = {(byte) 0xff, 0x01};
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            CrashHistory.Writer w = new CrashHistory.Writer(ch);
            w.intent(7, 50, 4, new int[] {3, -1, 9, -1}, new byte[] {'P', 'R', 'D', 'R'},
                    new byte[][] {null, a, null, new byte[0]}, new byte[][] {null, b, null, a});
            w.ack(7);
        }
        byte[] bytes = Files.readAllBytes(f);
        assertEquals("I 7 50 P3 R5a3c00000000000a-ff01 D9 R-5a3c00000000000a\nA 7\n", new String(bytes));
        CrashHistory h = CrashHistory.parse(bytes);
        assertEquals(4, h.opCount());
        assertEquals(2, h.rangeOpCount());
        assertTrue(h.opRange(1) && h.opDelete(1) && h.opKey(1) == -1);
        assertArrayEquals(a, h.opFrom(1));
        assertArrayEquals(b, h.opTo(1));
        assertEquals(51, h.opVersion(1));
        assertEquals(9, h.opKey(2));
        assertEquals(52, h.opVersion(2));
        assertArrayEquals(new byte[0], h.opFrom(3));
        assertEquals(53, h.maxVersion());
        assertEquals(1, h.ackedCount());
        for (String bad : new String[] {"I 1 1 R0a0b\n", "I 1 1 R0a-0\n", "I 1 1 R0g-00\n", "I 1 1 R0a 0b\n"}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> CrashHistory.parse(bad.getBytes()), bad);
        }
    }

    // ------------------------------------------------------------------ merges

    /**
     * Base: key0 = put v10 + merges [v20], key1 absent, key2 = put v12.
     * b1 (acked):   merge k0 v100, merge k1 v101, put k2 v102
     * b2 (acked):   merge k0 v103, merge k1 v104
     * b3 (unacked): merge k0 v105, merge k2 v106, merge k0 v107   (k0 twice: v105 is intermediate)
     */
    private static CrashHistory mergeHistory() {
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.merge(0, 100);
        h.merge(1, 101);
        h.put(2, 102);
        h.ack(1);
        h.beginBatch(2);
        h.merge(0, 103);
        h.merge(1, 104);
        h.ack(2);
        h.beginBatch(3);
        h.merge(0, 105);
        h.merge(2, 106);
        h.merge(0, 107);
        return h;
    }

    private static final long[] MERGE_BASE = {10, ABSENT, 12};
    private static final long[][] MERGE_BASE_OPS = {{20}, null, null};

    /** Verifies against {@link #mergeHistory}: puts[k] is key k's put (or ABSENT), ops[k] its operands (or null). */
    private static CrashVerifier.Report verifyMerges(long[] puts, long[]... ops) {
        return CrashVerifier.verify(MERGE_BASE, MERGE_BASE_OPS, FIRST, mergeHistory(), puts, ops);
    }

    private static long[] ops(long... versions) {
        return versions;
    }

    @Test
    void shouldAcceptFoldsAtACut() {
        // cut 2: every acknowledged operand, in order, on the right put
        CrashVerifier.Report r = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103), ops(101, 104), null);
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(2, r.cut);
        assertArrayEquals(new long[] {10, ABSENT, 102}, r.newBase);
        assertArrayEquals(new long[] {20, 100, 103}, r.newBaseMerges[0]);
        assertArrayEquals(new long[] {101, 104}, r.newBaseMerges[1]);
        assertNull(r.newBaseMerges[2]);
        // cut 3: the unacknowledged batch applied whole
        CrashVerifier.Report r3 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103, 105, 107), ops(101, 104),
                ops(106));
        assertTrue(r3.ok(), r3.problems::toString);
        assertEquals(3, r3.cut);
    }

    @Test
    void shouldCallAMissingMiddleOperandAHole() {
        // k0 lacks v100 (batch 1) but holds v103 (batch 2): a write present whose predecessor is absent
        CrashVerifier.Report r = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 103), ops(101, 104), null);
        assertEquals(1, r.holes, r.problems::toString);
        assertEquals(0, r.lost, r.problems::toString);
        assertEquals(0, r.corrupt, r.problems::toString);
        assertTrue(r.problems.get(0).startsWith("hole: key 0") && r.problems.get(0).contains("fold to put v10 + merges "
                + "[v20, v100, v103]"), r.problems::toString);
        // the base's operand missing below this cycle's: a hole too
        CrashVerifier.Report r2 = verifyMerges(new long[] {10, ABSENT, 102}, ops(100, 103), ops(101, 104), null);
        assertEquals(1, r2.holes, r2.problems::toString);
        assertEquals(0, r2.lost, r2.problems::toString);
        // the put below the operands missing (operands on nothing)
        CrashVerifier.Report r3 = verifyMerges(new long[] {ABSENT, ABSENT, 102}, ops(20, 100, 103), ops(101, 104), null);
        assertEquals(1, r3.holes, r3.problems::toString);
        // an operand applied twice, and two swapped
        CrashVerifier.Report r4 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 100, 103), ops(101, 104), null);
        assertEquals(1, r4.holes, r4.problems::toString);
        CrashVerifier.Report r5 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103), ops(104, 101), null);
        assertEquals(1, r5.holes, r5.problems::toString);
    }

    @Test
    void shouldCallAnOperandWithoutItsUnacknowledgedPredecessorAHole() {
        // v107 present though v105 (same unacknowledged batch, earlier) is not
        CrashVerifier.Report r = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103, 107), ops(101, 104), ops(106));
        assertEquals(1, r.holes, r.problems::toString);
        assertEquals(0, r.lost, r.problems::toString);
        // the intermediate state after v105 alone: no batch boundary shows it
        CrashVerifier.Report r2 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103, 105), ops(101, 104), ops(106));
        assertEquals(1, r2.holes, r2.problems::toString);
        assertTrue(r2.problems.get(0).contains("intermediate"), r2.problems::toString);
        // batch 3 torn: k2's operand applied, k0's not
        CrashVerifier.Report r3 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103), ops(101, 104), ops(106));
        assertEquals(1, r3.holes, r3.problems::toString);
        assertEquals(0, r3.lost, r3.problems::toString);
    }

    @Test
    void shouldCallAMissingAcknowledgedOperandLost() {
        // k0 lacks v103, the last operand of acknowledged batch 2
        CrashVerifier.Report r = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100), ops(101, 104), null);
        assertEquals(1, r.lost, r.problems::toString);
        assertEquals(1, r.holes, r.problems::toString); // and the state is no single cut, as with a lost put
        assertTrue(r.problems.toString().contains("lost: key 0"), r.problems::toString);
        // every operand of batch 2 missing: a consistent cut, but before the last ack
        CrashVerifier.Report r2 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100), ops(101), null);
        assertEquals(0, r2.holes, r2.problems::toString);
        assertEquals(2, r2.lost, r2.problems::toString);
        assertEquals(1, r2.cut);
        // an operand of the base (an earlier cycle) missing at the end: a resurrected older value
        CrashVerifier.Report r3 = CrashVerifier.verify(MERGE_BASE, MERGE_BASE_OPS, FIRST, new CrashHistory(),
                new long[] {10, ABSENT, 12}, new long[3][]);
        assertEquals(1, r3.lost, r3.problems::toString);
        assertEquals(0, r3.holes, r3.problems::toString);
    }

    @Test
    void shouldCallOperandsOfOtherWritesCorrupt() {
        // v104 is key 1's merge
        CrashVerifier.Report r = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 104), ops(101, 104), null);
        assertEquals(1, r.corrupt, r.problems::toString);
        assertEquals(0, r.holes + r.lost, r.problems::toString);
        // v102 was a put, not a merge
        CrashVerifier.Report r2 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103), ops(101, 104), ops(102));
        assertEquals(1, r2.corrupt, r2.problems::toString);
        // v101 was a merge, not a put
        CrashVerifier.Report r3 = verifyMerges(new long[] {10, 101, 102}, ops(20, 100, 103), ops(104), null);
        assertEquals(1, r3.corrupt, r3.problems::toString);
        // a version this cycle never wrote
        CrashVerifier.Report r4 = verifyMerges(new long[] {10, ABSENT, 102}, ops(20, 100, 103), ops(101, 104), ops(199));
        assertEquals(1, r4.corrupt, r4.problems::toString);
    }

    @Test
    void shouldCallAGarbledOperandCorrupt() {
        byte[] value = foldValue(0, 10, 20, 100, 103);
        CrashCodec.Decoded good = CrashCodec.decode(0, value);
        assertNull(good.error());
        assertEquals(10, good.put());
        assertArrayEquals(new long[] {20, 100, 103}, good.merges());
        // every byte of the operands flipped in turn: the value no longer decodes
        int putLength = CrashCodec.value(0, 10).length;
        for (int i = putLength; i < value.length; i++) {
            byte[] garbled = value.clone();
            garbled[i] ^= 0x01;
            assertNotNull(CrashCodec.decode(0, garbled).error(), "flip at " + i + ": " + new String(garbled,
                    java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        // which the reader reports as a corrupt observation, counted by the verifier
        CrashVerifier.Report r = verifyMerges(new long[] {CORRUPT, ABSENT, 102}, null, ops(101, 104), null);
        assertEquals(1, r.corrupt, r.problems::toString);
        assertEquals(0, r.holes + r.lost, r.problems::toString);
        assertEquals(UNKNOWN, r.newBase[0]);
        assertNull(r.newBaseMerges[0]);
    }

    @Test
    void shouldAcceptOldOperandsOnAnUnknownBase() {
        long[] base = {UNKNOWN};
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.merge(0, 100);
        h.ack(1);
        CrashVerifier.Report r = CrashVerifier.verify(base, null, FIRST, h, new long[] {7}, new long[][] {{8, 9, 100}});
        assertTrue(r.ok(), r.problems::toString);
        CrashVerifier.Report r2 = CrashVerifier.verify(base, null, FIRST, h, new long[] {ABSENT}, new long[][] {{100}});
        assertTrue(r2.ok(), r2.problems::toString);
        // the acknowledged operand missing
        CrashVerifier.Report r3 = CrashVerifier.verify(base, null, FIRST, h, new long[] {7}, new long[][] {{8, 9}});
        assertEquals(1, r3.lost, r3.problems::toString);
    }

    /** The value a key holds after its put of {@code put} (or none, ABSENT) and merges {@code merges}. */
    private static byte[] foldValue(int key, long put, long... merges) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        if (put != ABSENT) {
            out.writeBytes(CrashCodec.value(key, put));
        }
        for (long m : merges) {
            if (out.size() > 0) {
                out.write(',');
            }
            out.writeBytes(CrashCodec.mergeToken(key, m));
        }
        return out.toByteArray();
    }

    @Test
    void shouldDecodeFolds() {
        // the engine's own operator builds the same bytes
        io.o3lsm.MergeOperator op = io.o3lsm.MergeOperators.stringAppend(",");
        byte[] viaOperator = op.fullMerge(CrashCodec.key(3), CrashCodec.value(3, 40),
                java.util.List.of(CrashCodec.mergeToken(3, 41), CrashCodec.mergeToken(3, 45)));
        assertArrayEquals(foldValue(3, 40, 41, 45), viaOperator);
        CrashCodec.Decoded d = CrashCodec.decode(3, viaOperator);
        assertNull(d.error());
        assertEquals(40, d.put());
        assertArrayEquals(new long[] {41, 45}, d.merges());
        CrashCodec.Decoded onNothing = CrashCodec.decode(3, op.fullMerge(CrashCodec.key(3), null,
                java.util.List.of(CrashCodec.mergeToken(3, 41))));
        assertNull(onNothing.error());
        assertEquals(CrashCodec.NO_PUT, onNothing.put());
        assertArrayEquals(new long[] {41}, onNothing.merges());
        CrashCodec.Decoded plain = CrashCodec.decode(3, CrashCodec.value(3, 40));
        assertNull(plain.error());
        assertEquals(0, plain.merges().length);
        // a put value with ',' bytes inside still splits right (its length is in its header)
        for (long v = 1; v < 2000; v++) {
            byte[] pv = CrashCodec.value(5, v);
            boolean comma = false;
            for (byte b : pv) {
                comma |= b == ',';
            }
            if (comma) {
                CrashCodec.Decoded c = CrashCodec.decode(5, foldValue(5, v, v + 1));
                assertNull(c.error());
                assertEquals(v, c.put());
                assertArrayEquals(new long[] {v + 1}, c.merges());
                break;
            }
        }
        // wrong: another key's token, a trailing delimiter, garbage after the put, an empty value
        assertNotNull(CrashCodec.decode(3, foldValue(4, 40, 41)).error());
        byte[] trailing = Arrays.copyOf(foldValue(3, 40, 41), foldValue(3, 40, 41).length + 1);
        trailing[trailing.length - 1] = ',';
        assertNotNull(CrashCodec.decode(3, trailing).error());
        byte[] junk = Arrays.copyOf(CrashCodec.value(3, 40), CrashCodec.value(3, 40).length + 1);
        assertNotNull(CrashCodec.decode(3, junk).error());
        assertNotNull(CrashCodec.decode(3, new byte[0]).error());
        assertNotNull(CrashCodec.decode(3, "m41k3x00000000".getBytes()).error());
    }

    @Test
    void shouldRoundTripMergesInHistoryFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("history");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            CrashHistory.Writer w = new CrashHistory.Writer(ch);
            w.intent(1, 100, 3, new int[] {0, 1, 2}, new byte[] {'M', 'M', 'P'}, null, null);
            w.ack(1);
            w.intent(2, 103, 1, new int[] {0}, new byte[] {'M'}, null, null);
        }
        byte[] bytes = Files.readAllBytes(f);
        assertEquals("I 1 100 M0 M1 P2\nA 1\nI 2 103 M0\n", new String(bytes));
        CrashHistory h = CrashHistory.parse(bytes);
        assertEquals(4, h.opCount());
        assertEquals(3, h.mergeOpCount());
        assertEquals(2, h.ackedMergeCount());
        assertTrue(h.opMerge(0) && !h.opDelete(0) && h.opKey(0) == 0 && h.opVersion(0) == 100);
        assertTrue(!h.opMerge(2) && h.opVersion(2) == 102);
        assertTrue(h.opMerge(3) && h.opVersion(3) == 103);
    }

    // ------------------------------------------------------------------ column families

    /** Two families of two keys each: default's key k is entry k, cf1's key k is entry 2 + k. */
    private static final String[] FAMILIES = {"default", "cf1"};

    /**
     * Base: every key absent.
     * b1 (acked):   put default/k0 v100, put cf1/k0 v101                     (spans families)
     * b2 (unacked): put default/k1 v102, put cf1/k1 v103, put cf1/k0 v104   (spans families)
     */
    private static CrashHistory familyHistory() {
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(0, 0, 100);
        h.put(1, 0, 101);
        h.ack(1);
        h.beginBatch(2);
        h.put(0, 1, 102);
        h.put(1, 1, 103);
        h.put(1, 0, 104);
        return h;
    }

    private static CrashVerifier.Report verifyFamilies(CrashHistory h, long... observed) {
        long[] base = {ABSENT, ABSENT, ABSENT, ABSENT};
        return CrashVerifier.verify(FAMILIES, base, null, FIRST, h, observed, null);
    }

    @Test
    void shouldAcceptFamiliesAtOneCut() {
        CrashVerifier.Report r = verifyFamilies(familyHistory(), 100, ABSENT, 101, ABSENT);
        assertTrue(r.ok(), r.problems::toString);
        assertEquals(1, r.cut);
        CrashVerifier.Report r2 = verifyFamilies(familyHistory(), 100, 102, 104, 103);
        assertTrue(r2.ok(), r2.problems::toString);
        assertEquals(2, r2.cut);
        assertEquals(2, familyHistory().crossFamilyBatchCount());
        assertEquals(1, familyHistory().ackedCrossFamilyBatchCount());
    }

    @Test
    void shouldDetectBatchTornAcrossFamilies() {
        // b2 applied in the default family only: each family alone is at a batch boundary (default at 2,
        // cf1 at 1), nothing acknowledged is missing, but no one cut explains both
        CrashVerifier.Report r = verifyFamilies(familyHistory(), 100, 102, 101, ABSENT);
        assertEquals(1, r.holes, r.problems::toString);
        assertEquals(0, r.lost, r.problems::toString);
        assertEquals(0, r.corrupt, r.problems::toString);
        assertEquals(1, r.cut);
        assertEquals(1, r.familiesOffCut, r.problems::toString);
        assertArrayEquals(new long[] {1, 0}, r.holesIn);
        assertTrue(r.problems.stream().anyMatch(p -> p.startsWith("torn across families: every key of family default "
                + "agrees with the cut after batch 2, but the state as a whole is at the cut after batch 1: batch(es) 2 "
                + "(unacked, spans families) applied in default")), r.problems::toString);
        assertTrue(r.problems.stream().anyMatch(p -> p.startsWith("hole: key 1 of family default holds v102")),
                r.problems::toString);
        // the same per family alone passes: what catches it is the one cut
        CrashHistory d = new CrashHistory();
        d.beginBatch(1);
        d.put(0, 100);
        d.ack(1);
        d.beginBatch(2);
        d.put(1, 102);
        assertTrue(CrashVerifier.verify(new long[] {ABSENT, ABSENT}, FIRST, d, new long[] {100, 102}).ok());
    }

    @Test
    void shouldNameTheFamilyOfALostWrite() {
        // cf1/k0 lacks v101 of acknowledged batch 1; the default family is intact
        CrashVerifier.Report r = verifyFamilies(familyHistory(), 100, ABSENT, ABSENT, ABSENT);
        assertEquals(1, r.lost, r.problems::toString);
        assertArrayEquals(new long[] {0, 1}, r.lostIn);
        assertTrue(r.problems.stream().anyMatch(p -> p.startsWith("lost: key 0 of family cf1 holds absent")),
                r.problems::toString);
        // summed up first: cf1 as a whole is at the cut before the acknowledged batch that wrote to it
        assertTrue(r.problems.get(0).startsWith("torn across families: every key of family cf1 agrees with the cut "
                + "after batch (none)"), r.problems::toString);
    }

    @Test
    void shouldCallAValueOfAnotherFamilyCorrupt() {
        // cf1/k0 holds v100, which was written to the default family's k0
        CrashVerifier.Report r = verifyFamilies(familyHistory(), 100, ABSENT, 100, ABSENT);
        assertEquals(1, r.corrupt, r.problems::toString);
        assertArrayEquals(new long[] {0, 1}, r.corruptIn);
        assertTrue(r.problems.stream().anyMatch(p -> p.startsWith("corrupt: key 0 of family cf1 holds version 100, "
                + "which no write")), r.problems::toString);
    }

    @Test
    void shouldKeepARangeDeleteInItsFamily() {
        // b1: put default/k0 v100, put cf1/k0 v101; b2 (acked): delete every key of cf1
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(0, 0, 100);
        h.put(1, 0, 101);
        h.ack(1);
        h.beginBatch(2);
        h.deleteRange(1, new byte[0], new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xff, 0}, 102);
        h.ack(2);
        assertTrue(verifyFamilies(h, 100, ABSENT, ABSENT, ABSENT).ok());
        CrashVerifier.Report wrongFamily = verifyFamilies(h, ABSENT, ABSENT, ABSENT, ABSENT);
        assertEquals(1, wrongFamily.lost, wrongFamily.problems::toString);
        assertTrue(wrongFamily.problems.stream().anyMatch(p -> p.startsWith("lost: key 0 of family default")),
                wrongFamily.problems::toString);
        CrashVerifier.Report notApplied = verifyFamilies(h, 100, ABSENT, 101, ABSENT);
        assertEquals(1, notApplied.lost, notApplied.problems::toString);
        assertTrue(notApplied.problems.stream().anyMatch(p -> p.startsWith("lost: key 0 of family cf1")),
                notApplied.problems::toString);
    }

    @Test
    void shouldRefuseAHistoryOfMoreFamiliesThanTheKeySpace() {
        CrashHistory h = new CrashHistory();
        h.beginBatch(1);
        h.put(2, 0, 100);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> verifyFamilies(h, ABSENT, ABSENT, ABSENT, ABSENT));
    }

    @Test
    void shouldRoundTripFamiliesInHistoryFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("history");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            CrashHistory.Writer w = new CrashHistory.Writer(ch);
            w.intent(1, 100, 4, new int[] {3, 0, -1, 7}, new byte[] {'P', 'M', 'R', 'D'},
                    new byte[][] {null, null, {0x5a, 0x3c}, null}, new byte[][] {null, null, {0x5a, (byte) 0x9e}, null},
                    new int[] {0, 1, 2, 12});
            w.ack(1);
            w.intent(2, 104, 2, new int[] {5, -1}, new byte[] {'P', 'R'}, new byte[][] {null, {0x12}},
                    new byte[][] {null, {0x34}}, new int[] {3, 0});
        }
        byte[] bytes = Files.readAllBytes(f);
        assertEquals("I 1 100 P3 M1:0 R2:5a3c-5a9e D12:7\nA 1\nI 2 104 P3:5 R12-34\n", new String(bytes));
        CrashHistory h = CrashHistory.parse(bytes);
        assertEquals(6, h.opCount());
        int[] families = {0, 1, 2, 12, 3, 0};
        int[] keys = {3, 0, -1, 7, 5, -1};
        for (int op = 0; op < 6; op++) {
            assertEquals(families[op], h.opFamily(op), "op " + op);
            assertEquals(keys[op], h.opKey(op), "op " + op);
            assertEquals(100 + op, h.opVersion(op), "op " + op);
        }
        assertTrue(h.opMerge(1) && h.opDelete(3) && !h.opRange(3));
        assertArrayEquals(new byte[] {0x5a, 0x3c}, h.opFrom(2));
        assertArrayEquals(new byte[] {0x12}, h.opFrom(5)); // a hex bound of digits only: no family prefix
        assertArrayEquals(new byte[] {0x34}, h.opTo(5));
        assertEquals(12, h.maxFamily());
        assertEquals(2, h.crossFamilyBatchCount());
        assertEquals(1, h.ackedCrossFamilyBatchCount());
        // a line without family prefixes (written before families) is all in the default family
        CrashHistory old = CrashHistory.parse("I 1 100 P0 D1 R5a-5b\nA 1\n".getBytes());
        assertEquals(0, old.maxFamily());
        assertEquals(0, old.crossFamilyBatchCount());
    }
}
