package io.o3lsm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference a {@link ModelTest} run checks the engine against: a {@link TreeMap} of byte-string
 * keys in unsigned bytewise order, with the same put / delete / deleteRange semantics as {@link DB},
 * plus the positioning rules of a bounded {@link DBIterator} (seek, seekForPrev, next, prev within
 * {@code [lowerBound, upperBound)}). Keys and values are copied on the way in. Not thread-safe.
 */
final class ModelState {
    private final TreeMap<byte[], byte[]> map;
    /** Each key's write time (Options.ttl runs; 0 otherwise). */
    private final TreeMap<byte[], Long> times;

    ModelState() {
        map = new TreeMap<>(Arrays::compareUnsigned);
        times = new TreeMap<>(Arrays::compareUnsigned);
    }

    private ModelState(TreeMap<byte[], byte[]> map, TreeMap<byte[], Long> times) {
        this.map = map;
        this.times = times;
    }

    /** An independent copy (keys and values are never mutated, so they are shared). */
    ModelState copy() {
        return new ModelState(new TreeMap<>(map), new TreeMap<>(times));
    }

    void put(byte[] key, byte[] value) {
        put(key, value, 0);
    }

    /** A put at write time {@code writeMillis} (what {@link #expire} compares). */
    void put(byte[] key, byte[] value, long writeMillis) {
        byte[] k = key.clone();
        map.put(k, value.clone());
        times.put(k, writeMillis);
    }

    /**
     * Removes every value expired at {@code nowMillis} under {@code ttlMillis}, as a DB with
     * {@link Options#ttl} hides it: written at w, expired once {@code now - w > ttl}. The clock of a
     * run only moves forward, so an expired value never comes back: removing it is exact.
     * Returns how many were removed.
     */
    int expire(long nowMillis, long ttlMillis) {
        int n = 0;
        for (var it = times.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (nowMillis - e.getValue() > ttlMillis) {
                map.remove(e.getKey());
                it.remove();
                n++;
            }
        }
        return n;
    }

    void delete(byte[] key) {
        map.remove(key);
        times.remove(key);
    }

    /** Removes {@code [from, to)}; nothing when {@code from >= to}, as {@link DB#deleteRange}. */
    void deleteRange(byte[] from, byte[] to) {
        if (compare(from, to) >= 0) {
            return;
        }
        map.subMap(from, true, to, false).clear();
        times.subMap(from, true, to, false).clear();
    }

    byte[] get(byte[] key) {
        return map.get(key);
    }

    int size() {
        return map.size();
    }

    /** Number of keys in {@code [from, to)}. */
    int countInRange(byte[] from, byte[] to) {
        if (compare(from, to) >= 0) {
            return 0;
        }
        return map.subMap(from, true, to, false).size();
    }

    /** Every entry within the bounds (null = unbounded), in key order. */
    List<Map.Entry<byte[], byte[]>> entries(byte[] lower, byte[] upper) {
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        for (byte[] k = first(lower, upper); k != null; k = next(k, upper)) {
            out.add(Map.entry(k, map.get(k)));
        }
        return out;
    }

    /** First key {@code >= target} within the bounds, or null: where {@link DBIterator#seek} lands. */
    byte[] seek(byte[] target, byte[] lower, byte[] upper) {
        byte[] t = lower != null && compare(target, lower) < 0 ? lower : target;
        return inUpper(map.ceilingKey(t), upper);
    }

    /** Last key {@code <= target} within the bounds, or null: where {@link DBIterator#seekForPrev} lands. */
    byte[] seekForPrev(byte[] target, byte[] lower, byte[] upper) {
        byte[] k = upper != null && compare(target, upper) >= 0 ? map.lowerKey(upper) : map.floorKey(target);
        return inLower(k, lower);
    }

    byte[] first(byte[] lower, byte[] upper) {
        return inUpper(lower == null ? (map.isEmpty() ? null : map.firstKey()) : map.ceilingKey(lower), upper);
    }

    byte[] last(byte[] lower, byte[] upper) {
        return inLower(upper == null ? (map.isEmpty() ? null : map.lastKey()) : map.lowerKey(upper), lower);
    }

    /** The key after {@code current} (which is within the bounds), or null. */
    byte[] next(byte[] current, byte[] upper) {
        return inUpper(map.higherKey(current), upper);
    }

    /** The key before {@code current} (which is within the bounds), or null. */
    byte[] prev(byte[] current, byte[] lower) {
        return inLower(map.lowerKey(current), lower);
    }

    /** A key present in the model, chosen by {@code pick} in [0, size), or null when empty. O(n). */
    byte[] keyAt(int pick) {
        int i = 0;
        for (byte[] k : map.keySet()) {
            if (i++ == pick) {
                return k;
            }
        }
        return null;
    }

    private static byte[] inUpper(byte[] k, byte[] upper) {
        return k != null && (upper == null || compare(k, upper) < 0) ? k : null;
    }

    private static byte[] inLower(byte[] k, byte[] lower) {
        return k != null && (lower == null || compare(k, lower) >= 0) ? k : null;
    }

    static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }
}
