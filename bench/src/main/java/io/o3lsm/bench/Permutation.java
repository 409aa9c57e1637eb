package io.o3lsm.bench;

/**
 * A seeded pseudo-random permutation of {@code [0, n)} computed per element, so a random fill can
 * write every key exactly once without a table of {@code n} entries. A bijection on
 * {@code [0, 2^b)} ({@code 2^b >= n}: multiply by an odd constant, add, xor-shift, three rounds)
 * is applied repeatedly until the result falls below {@code n} (cycle walking), which restricts
 * it to a bijection on {@code [0, n)}; on average fewer than two rounds of walking. Immutable,
 * thread-safe.
 */
public final class Permutation {
    private final long n;
    private final long mask;
    private final int shift;
    private final long[] mul = new long[3];
    private final long[] add = new long[3];

    public Permutation(long n, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, was " + n);
        }
        this.n = n;
        int bits = Math.max(1, 64 - Long.numberOfLeadingZeros(n - 1));
        this.mask = bits == 64 ? -1L : (1L << bits) - 1;
        this.shift = Math.max(1, (bits + 1) / 2);
        long s = seed;
        for (int r = 0; r < 3; r++) {
            s = mix(s + 0x9E3779B97F4A7C15L);
            mul[r] = s | 1;
            s = mix(s + 0x9E3779B97F4A7C15L);
            add[r] = s;
        }
    }

    /** The element at position {@code i} of the permutation, {@code 0 <= i < n}. */
    public long at(long i) {
        long x = i;
        do {
            for (int r = 0; r < 3; r++) {
                x = (x * mul[r] + add[r]) & mask;
                x ^= x >>> shift;
            }
        } while (x >= n);
        return x;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
