package io.o3lsm.bench;

import java.util.SplittableRandom;

/**
 * YCSB's request distributions, ported from its {@code site.ycsb.generator} package so that
 * {@code ycsba..ycsbf} pick keys exactly as YCSB's CoreWorkload does:
 *
 * <ul>
 *   <li>{@link Zipfian}: item {@code i} of {@code [0, n)} drawn with probability proportional to
 *   {@code 1 / (i+1)^theta} (Gray et al., "Quickly Generating Billion-Record Synthetic Databases",
 *   SIGMOD 1994), item 0 the most popular. The item count may grow (the zeta sum is extended
 *   incrementally), as YCSB's does for the "latest" distribution.</li>
 *   <li>{@link Scrambled}: YCSB's {@code ScrambledZipfianGenerator}, the "zipfian" request
 *   distribution of workloads A, B, C, E, F: a zipfian draw over a fixed space of 10^10 items,
 *   FNV-hashed and taken modulo the record count, so the popular keys are spread over the key
 *   space instead of clustered at its start.</li>
 *   <li>{@link Latest}: YCSB's {@code SkewedLatestGenerator}, workload D's "latest": the most
 *   recently inserted record is the most popular, {@code last - zipfian(last)}.</li>
 * </ul>
 *
 * Each generator is used by one thread (its own {@link SplittableRandom}).
 */
public final class Zipfian {
    /** YCSB's zipfian constant. */
    public static final double ZIPFIAN_CONSTANT = 0.99;

    private final double theta;
    private final double alpha;
    private final double zeta2theta;
    private final SplittableRandom random;
    private long countForZeta;
    private double zetan;
    private double eta;

    /** A zipfian over {@code [0, items)} with YCSB's constant 0.99. */
    public Zipfian(long items, SplittableRandom random) {
        this(items, ZIPFIAN_CONSTANT, -1, random);
    }

    /**
     * @param zetan the precomputed zeta sum for {@code items}, or a negative number to compute it
     *              (one {@code Math.pow} per item)
     */
    public Zipfian(long items, double theta, double zetan, SplittableRandom random) {
        if (items < 1) {
            throw new IllegalArgumentException("items must be at least 1, was " + items);
        }
        this.theta = theta;
        this.alpha = 1.0 / (1.0 - theta);
        this.zeta2theta = zeta(0, 2, theta, 0);
        this.random = random;
        this.countForZeta = items;
        this.zetan = zetan >= 0 ? zetan : zeta(0, items, theta, 0);
        this.eta = eta(items);
    }

    private double eta(long items) {
        return (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2theta / zetan);
    }

    /** Sum over {@code i} in {@code (st, n]} of {@code 1 / i^theta}, plus {@code initialSum}. */
    static double zeta(long st, long n, double theta, double initialSum) {
        double sum = initialSum;
        for (long i = st; i < n; i++) {
            sum += 1 / Math.pow(i + 1, theta);
        }
        return sum;
    }

    /** The next item of {@code [0, items)}; {@code items} may grow between calls (never shrink). */
    public long next(long items) {
        if (items != countForZeta) {
            if (items > countForZeta) {
                zetan = zeta(countForZeta, items, theta, zetan);
                eta = eta(items);
            } else {
                zetan = zeta(0, items, theta, 0);
                eta = eta(items);
            }
            countForZeta = items;
        }
        double u = random.nextDouble();
        double uz = u * zetan;
        if (uz < 1.0) {
            return 0;
        }
        if (uz < 1.0 + Math.pow(0.5, theta)) {
            return 1;
        }
        long ret = (long) (items * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(ret, items - 1);
    }

    /** The next item of the current item count. */
    public long next() {
        return next(countForZeta);
    }

    /** YCSB's ScrambledZipfianGenerator over {@code [0, items)}. */
    public static final class Scrambled {
        /** YCSB's precomputed zeta(10^10, 0.99). */
        static final double ZETAN = 26.46902820178302;
        static final long ITEM_COUNT = 10_000_000_000L;

        private final Zipfian zipfian;
        private final long items;

        public Scrambled(long items, SplittableRandom random) {
            if (items < 1) {
                throw new IllegalArgumentException("items must be at least 1, was " + items);
            }
            this.items = items;
            this.zipfian = new Zipfian(ITEM_COUNT, ZIPFIAN_CONSTANT, ZETAN, random);
        }

        public long next() {
            return Long.remainderUnsigned(fnvHash64(zipfian.next()), items);
        }
    }

    /** YCSB's SkewedLatestGenerator: {@code last - zipfian(last + 1)}, favouring the latest insert. */
    public static final class Latest {
        private final Zipfian zipfian;

        /** @param last the index of the latest record at the start (records are {@code [0, last]}) */
        public Latest(long last, SplittableRandom random) {
            this.zipfian = new Zipfian(last + 1, random);
        }

        /** A record of {@code [0, last]}, {@code last} itself the most likely. */
        public long next(long last) {
            return last - zipfian.next(last + 1);
        }
    }

    /** YCSB's {@code Utils.fnvhash64}: FNV-1a over the 8 bytes of {@code val}, low byte first. */
    static long fnvHash64(long val) {
        long hash = 0xCBF29CE484222325L;
        for (int i = 0; i < 8; i++) {
            long octet = val & 0xFF;
            val >>= 8;
            hash ^= octet;
            hash *= 1099511628211L;
        }
        return Math.abs(hash);
    }
}
