package io.o3lsm.bench;

/**
 * How the benchmark turns a key index {@code i ∈ [0, num)} into key bytes, without allocating.
 * Both formats preserve order (index order is key order), so {@code fillseq} writes ascending keys.
 *
 * <ul>
 *   <li>{@code decimal}: db_bench's keys, {@code i} as zero-padded decimal filling the key
 *   ({@code "%016d"} for 16 bytes). All such keys start with {@code "00"}, so o3's default memtable
 *   shards, which split the key space evenly on the first two bytes, would put every key in the
 *   first shard; o3's adaptive shard boundaries move the split to the keys written after about
 *   16K writes (the {@code o3.shards} line shows the per-shard counts).</li>
 *   <li>{@code binary} (default): {@code i * floor((2^64 - 1) / num)} as 8 big-endian bytes, then
 *   zero padding to the key size. The multiplication spreads the {@code num} keys evenly over the
 *   whole 64-bit space, so every shard gets its share, while keeping them in index order (a
 *   scrambled long would balance the shards too but turn {@code fillseq} into a random fill).</li>
 * </ul>
 *
 * <p>Indexes {@code >= num} (keys inserted after the initial fill, by YCSB D and E, or by a
 * {@code fillseq} run by duration) are new keys too: decimal just counts on; binary encodes
 * {@code index mod num} as above and {@code index / num} in bytes 8.. of the key, so each lands
 * just after an existing key, in the same memtable shard, never colliding with the fill's keys
 * (whose bytes 8.. are zero). That needs {@code keySize >= 9}.
 * Not thread-safe only in the sense that each thread passes its own output array.
 */
public final class KeyFormat {
    public enum Kind { DECIMAL, BINARY }

    private final Kind kind;
    private final int keySize;
    private final long num;
    private final long stride;
    /** Whether this is a {@link #counters} format: keys marked into a key space of their own. */
    private final boolean marked;

    public KeyFormat(Kind kind, int keySize, long num) {
        this(kind, keySize, num, false);
    }

    private KeyFormat(Kind kind, int keySize, long num, boolean marked) {
        if (num < 1) {
            throw new IllegalArgumentException("num must be at least 1, was " + num);
        }
        this.kind = kind;
        this.keySize = keySize;
        this.num = num;
        this.stride = Long.divideUnsigned(-1L, num);
        if (kind == Kind.BINARY && keySize < 8) {
            throw new IllegalArgumentException("--key-format binary needs --key-size >= 8, was " + keySize);
        }
        if (kind == Kind.DECIMAL && keySize < Long.toString(num - 1).length()) {
            throw new IllegalArgumentException("--key-size " + keySize + " cannot hold " + (num - 1) + " in decimal");
        }
        this.marked = marked;
        if (marked && kind == Kind.BINARY && keySize < 9) {
            throw new IllegalArgumentException("the merge benchmarks' keys with --key-format binary need --key-size >= 9 "
                    + "(byte 8 marks them), was " + keySize);
        }
        if (marked && kind == Kind.DECIMAL && keySize < Long.toString(num - 1).length() + 1) {
            throw new IllegalArgumentException("the merge benchmarks' keys with --key-format decimal need --key-size >= "
                    + (Long.toString(num - 1).length() + 1) + " ('m' and " + (num - 1) + "), was " + keySize);
        }
    }

    /**
     * The keys of the merge benchmarks' {@code count} counters: this kind and size, index order, in a
     * key space no other benchmark writes, so a fill before them leaves them absent (a counter merged
     * onto a 100-byte value would be garbage). Binary: the key of index {@code k} of {@code count},
     * spread over the 64-bit space as usual, with byte 8 set to 0xFF (fill keys have 0 there; an
     * inserted key holds {@code index / num} big-endian in bytes 8.., whose byte 8 reaches 0xFF only
     * after 2^56 x num inserts with 16-byte keys, 255 x num with 9-byte ones). Decimal: {@code 'm'}
     * followed by the zero-padded index (fill keys are all digits).
     *
     * @throws IllegalArgumentException if the key size leaves no room for the mark
     */
    public KeyFormat counters(long count) {
        return new KeyFormat(kind, keySize, count, true);
    }

    public int keySize() {
        return keySize;
    }

    /** Writes key {@code index} into {@code out[0, keySize)}. */
    public void encode(long index, byte[] out) {
        if (marked && (index < 0 || index >= num)) {
            throw new IllegalArgumentException("counter index " + index + " outside [0, " + num + ")");
        }
        if (kind == Kind.DECIMAL) {
            long v = index;
            for (int i = keySize - 1; i >= 0; i--) {
                out[i] = (byte) ('0' + (int) (v % 10));
                v /= 10;
            }
        } else {
            long base = index;
            long high = 0;
            if (index >= num) {
                base = index % num;
                high = index / num;
            }
            long v = base * stride;
            for (int i = 7; i >= 0; i--) {
                out[i] = (byte) v;
                v >>>= 8;
            }
            for (int i = 8; i < keySize; i++) {
                out[i] = 0;
            }
            if (high != 0) {
                int n = Math.min(8, keySize - 8);
                if (n <= 0 || (n < 8 && (high >>> (8 * n)) != 0)) {
                    throw new IllegalStateException("key index " + index + " beyond --num " + num
                            + " does not fit a binary key of " + keySize + " bytes");
                }
                for (int i = 8 + n - 1; i >= 8; i--) {
                    out[i] = (byte) high;
                    high >>>= 8;
                }
            }
        }
        if (marked) {
            if (kind == Kind.DECIMAL) {
                out[0] = 'm'; // the padding's leading zero: the index has fewer digits than the key
            } else {
                out[8] = (byte) 0xFF;
            }
        }
    }

    @Override
    public String toString() {
        if (marked) {
            return kind == Kind.DECIMAL
                    ? num + " counters, 'm' + zero-padded decimal index, " + keySize + " bytes"
                    : num + " counters, binary index * (2^64/" + num + ") with byte 8 = 0xFF, " + keySize + " bytes";
        }
        return kind == Kind.DECIMAL
                ? "decimal, zero-padded to " + keySize + " bytes (db_bench style)"
                : "binary, big-endian index * (2^64/" + num + ") padded to " + keySize + " bytes (spread over all shards)";
    }
}
