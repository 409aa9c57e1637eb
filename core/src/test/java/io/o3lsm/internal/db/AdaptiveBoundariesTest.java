package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.Options;
import io.o3lsm.internal.util.Bytes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sample and the rule that moves shard boundaries (AdaptiveBoundaries), without a DB. */
class AdaptiveBoundariesTest {
    private static final ShardRanges DEFAULT4 = new ShardRanges(Options.defaults().shardCount(4).shardBoundaries());

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static AdaptiveBoundaries sampled(java.util.function.IntFunction<byte[]> key, int n) {
        AdaptiveBoundaries a = new AdaptiveBoundaries();
        for (int i = 0; i < n; i++) {
            byte[] k = key.apply(i);
            a.offer(k, 0, k.length);
        }
        return a;
    }

    private static int[] histogram(ShardRanges layout, java.util.function.IntFunction<byte[]> key, int n) {
        int[] h = new int[layout.count()];
        for (int i = 0; i < n; i++) {
            h[layout.rangeOf(key.apply(i))]++;
        }
        return h;
    }

    @Test
    void decimalKeysGetBoundariesThatSpreadThemOverEveryShard() {
        Random rnd = new Random(1);
        java.util.function.IntFunction<byte[]> key = i -> b(String.format("%016d", (long) rnd.nextInt(1_000_000)));
        // the default split puts every decimal key into range 0
        int[] before = histogram(DEFAULT4, key, 10_000);
        assertEquals(10_000, before[0], java.util.Arrays.toString(before));
        AdaptiveBoundaries a = sampled(key, AdaptiveBoundaries.SAMPLE_SIZE * AdaptiveBoundaries.SAMPLE_EVERY);
        List<byte[]> bs = a.propose(DEFAULT4);
        assertNotNull(bs);
        assertEquals(3, bs.size());
        int[] after = histogram(new ShardRanges(bs), key, 40_000);
        for (int c : after) {
            assertTrue(c > 40_000 / 4 * 0.8 && c < 40_000 / 4 * 1.2, java.util.Arrays.toString(after));
        }
        for (byte[] x : bs) {
            assertTrue(x.length <= 16, "a boundary is at most as long as a key: " + Bytes.printable(x));
        }
    }

    @Test
    void uniformBinaryKeysKeepTheDefaultSplit() {
        Random rnd = new Random(2);
        AdaptiveBoundaries a = sampled(i -> {
            byte[] k = new byte[16];
            rnd.nextBytes(k);
            return k;
        }, AdaptiveBoundaries.SAMPLE_SIZE * AdaptiveBoundaries.SAMPLE_EVERY);
        assertNull(a.propose(DEFAULT4));
    }

    @Test
    void noProposalBeforeTheSampleIsFull() {
        AdaptiveBoundaries a = sampled(i -> b(String.format("%016d", i)),
                AdaptiveBoundaries.SAMPLE_SIZE * AdaptiveBoundaries.SAMPLE_EVERY - 1);
        assertEquals(AdaptiveBoundaries.SAMPLE_SIZE - 1, a.sampled());
        assertNull(a.propose(DEFAULT4));
        a.offer(b("0000000000000001"), 0, 16);
        assertNotNull(a.propose(DEFAULT4));
        a.reset();
        assertEquals(0, a.sampled());
        assertNull(a.propose(DEFAULT4));
    }

    @Test
    void skewedKeysWithAHotKeyGetCutsAroundIt() {
        // half the writes go to one key: it gets a range of its own, the rest share the others
        Random rnd = new Random(3);
        java.util.function.IntFunction<byte[]> key = i -> rnd.nextBoolean() ? b("user:000500")
                : b(String.format("user:%06d", rnd.nextInt(1000)));
        AdaptiveBoundaries a = sampled(key, AdaptiveBoundaries.SAMPLE_SIZE * AdaptiveBoundaries.SAMPLE_EVERY);
        List<byte[]> bs = a.propose(DEFAULT4);
        assertNotNull(bs);
        ShardRanges l = new ShardRanges(bs);
        int[] h = histogram(l, key, 20_000);
        int used = 0;
        for (int c : h) {
            used += c > 0 ? 1 : 0;
        }
        assertEquals(4, used, java.util.Arrays.toString(h));
    }

    @Test
    void tooFewDistinctKeysKeepTheBoundaries() {
        Random rnd = new Random(4);
        AdaptiveBoundaries a = sampled(i -> b("k" + rnd.nextInt(3)),
                AdaptiveBoundaries.SAMPLE_SIZE * AdaptiveBoundaries.SAMPLE_EVERY);
        assertNull(a.propose(DEFAULT4), "three distinct keys cannot make four ranges");
        assertNull(AdaptiveBoundaries.quantiles(new byte[][] {b("a"), b("a"), b("a")}, 2));
    }

    @Test
    void quantileCutsAscendAndNeverSplitEqualKeys() {
        byte[][] sorted = {b("a"), b("b"), b("b"), b("b"), b("b"), b("c"), b("d"), b("e")};
        List<byte[]> q = AdaptiveBoundaries.quantiles(sorted, 4);
        assertNotNull(q);
        for (int i = 1; i < q.size(); i++) {
            assertTrue(Bytes.compare(q.get(i - 1), q.get(i)) < 0);
        }
        ShardRanges l = new ShardRanges(q);
        int rb = l.rangeOf(b("b"));
        for (byte[] k : sorted) {
            if (Bytes.compare(k, b("b")) == 0) {
                assertEquals(rb, l.rangeOf(k));
            }
        }
    }

    @Test
    void separatorIsTheShortestPrefixAboveTheLowerKey() {
        assertArrayEquals(b("b"), AdaptiveBoundaries.separator(b("abc"), b("bcd")));
        assertArrayEquals(b("abd"), AdaptiveBoundaries.separator(b("abc"), b("abde")));
        assertArrayEquals(b("abc"), AdaptiveBoundaries.separator(b("ab"), b("abc")));
        assertArrayEquals(b("0000000000001235"),
                AdaptiveBoundaries.separator(b("0000000000001234"), b("0000000000001235")));
    }

    @Test
    void layoutsRefuseBoundariesThatDoNotAscend() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new ShardRanges(List.of(b("b"), b("a"))));
        assertTrue(ex.getMessage().contains("ascend"), ex.getMessage());
    }
}
