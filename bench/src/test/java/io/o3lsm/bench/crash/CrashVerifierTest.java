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
}
