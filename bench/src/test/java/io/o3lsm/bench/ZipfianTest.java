package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The YCSB request distributions have the skew YCSB's do. Seeded: deterministic. */
class ZipfianTest {
    private static final int DRAWS = 200_000;

    @Test
    void shouldDrawRankZeroWithProbabilityOneOverZeta() {
        int n = 1000;
        Zipfian z = new Zipfian(n, new SplittableRandom(42));
        long[] count = new long[n];
        for (int i = 0; i < DRAWS; i++) {
            long k = z.next();
            assertTrue(k >= 0 && k < n, "in range: " + k);
            count[(int) k]++;
        }
        double zeta = Zipfian.zeta(0, n, 0.99, 0);
        double expected0 = DRAWS / zeta;                 // ~13% of the draws
        assertEquals(expected0, count[0], expected0 * 0.05, "rank 0");
        double expected1 = DRAWS / zeta / Math.pow(2, 0.99);
        assertEquals(expected1, count[1], expected1 * 0.08, "rank 1");
        // the head of the distribution: ranks < 100 get zeta(100)/zeta(1000) of the draws (~69%)
        long head = Arrays.stream(count, 0, 100).sum();
        double expectedHead = DRAWS * Zipfian.zeta(0, 100, 0.99, 0) / zeta;
        assertEquals(expectedHead, head, expectedHead * 0.03, "ranks below 100");
        assertTrue(count[0] > count[10] && count[10] > count[500], "decreasing popularity");
    }

    @Test
    void shouldExtendTheItemCountIncrementally() {
        // the same zeta sum either way: the same random stream gives the same draws
        Zipfian a = new Zipfian(500, new SplittableRandom(7));
        Zipfian b = new Zipfian(1000, new SplittableRandom(7));
        for (int i = 0; i < 1000; i++) {
            assertEquals(b.next(), a.next(1000));
        }
    }

    @Test
    void shouldScatterTheHotKeysOfScrambledZipfian() {
        int n = 10_000;
        Zipfian.Scrambled z = new Zipfian.Scrambled(n, new SplittableRandom(3));
        long[] count = new long[n];
        for (int i = 0; i < DRAWS; i++) {
            long k = z.next();
            assertTrue(k >= 0 && k < n, "in range: " + k);
            count[(int) k]++;
        }
        long[] sorted = count.clone();
        Arrays.sort(sorted);
        long top10 = 0;
        for (int i = 0; i < 10; i++) {
            top10 += sorted[n - 1 - i];
        }
        // zipfian(0.99) over 10^10 items (zeta = 26.47) hashed onto 10^4 keys: the hottest key takes
        // 1/26.47 = 3.8% of the draws and the 10 hottest about zeta(10)/26.47 = 11%; uniform would
        // give them 0.01% and 0.1%
        assertEquals(DRAWS / Zipfian.Scrambled.ZETAN, sorted[n - 1], DRAWS / Zipfian.Scrambled.ZETAN * 0.1, "hottest key");
        assertTrue(top10 > DRAWS * 0.09, "skewed: top 10 keys got " + top10 + " of " + DRAWS);
        // and the hottest keys are not clustered at the start of the key space
        int hottest = 0;
        for (int i = 1; i < n; i++) {
            if (count[i] > count[hottest]) {
                hottest = i;
            }
        }
        assertTrue(hottest != 0, "scrambled, hottest key " + hottest);
        long touched = Arrays.stream(count).filter(c -> c > 0).count();
        assertTrue(touched > n / 2, "the tail is still drawn: " + touched + " distinct keys");
    }

    @Test
    void shouldFavourTheLatestInsertWithSkewedLatest() {
        long last = 99_999;
        Zipfian.Latest z = new Zipfian.Latest(last, new SplittableRandom(5));
        long atLast = 0;
        long within100 = 0;
        for (int i = 0; i < DRAWS; i++) {
            long k = z.next(last);
            assertTrue(k >= 0 && k <= last, "in range: " + k);
            if (k == last) {
                atLast++;
            }
            if (last - k < 100) {
                within100++;
            }
        }
        double zeta = Zipfian.zeta(0, last + 1, 0.99, 0);
        assertEquals(DRAWS / zeta, atLast, DRAWS / zeta * 0.05, "the latest record is the most popular");
        assertTrue(within100 > DRAWS * 0.4, "the newest 0.1% of records get " + within100 + " of " + DRAWS);
        // a new insert moves the hot spot
        long after = 0;
        for (int i = 0; i < 10_000; i++) {
            if (z.next(last + 1000) > last) {
                after++;
            }
        }
        assertTrue(after > 5_000, "most draws land on the 1000 newer records: " + after);
    }

    @Test
    void shouldHashLikeYcsb() {
        // FNV-1a 64 of the 8 little-endian bytes of 0: fixed by the algorithm
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < 8; i++) {
            h *= 1099511628211L;
        }
        assertEquals(Math.abs(h), Zipfian.fnvHash64(0));
        assertTrue(Zipfian.fnvHash64(1) != Zipfian.fnvHash64(2));
    }
}
