package io.o3lsm.internal.db;

import io.o3lsm.format.memtable.ShardReader;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;

/**
 * Where each user key's newest point entry lives inside one offloaded shard: an open-addressing
 * table (linear probing, load at most 3/4, so about 10.7 bytes per key) of 8-byte slots, built from the local arena before it is
 * dropped. A get probes it locally and fetches the entry with one one-sided read of exactly its node
 * ({@link io.o3lsm.format.memtable.FetchedNode}); a key whose probe finds no slot with its
 * fingerprint is not in the shard (the table holds every key of the shard, so absence is exact).
 * Immutable after {@link #build}; any thread.
 *
 * <p>Slot: {@code fingerprint:16 | nodeLength:16 | nodeOffset:32}, 0 = empty (a node offset is at
 * least 124, so no entry is 0). A node longer than 65535 bytes is stored with length 0: found, but
 * fetched by delegation. The fingerprint is the hash's top 16 bits, the home slot its low 32 bits scaled to the capacity.
 *
 * <p>Stale locations are impossible by construction: a shard's bytes never change once sealed, and
 * the table is dropped with the shard's remote copy ({@link MemShard#retireRemote}, {@link
 * MemShard#forgetRemote}); a read pins the remote copy while it fetches.
 */
final class EntryLocations {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final long K1 = 0x9E3779B97F4A7C15L;
    private static final long K2 = 0xC2B2AE3D27D4EB4FL;
    /** Array header and the object itself, counted in {@link #bytes}. */
    private static final int OVERHEAD = 64;

    private final long[] slots;
    private final int keys;

    private EntryLocations(long[] slots, int keys) {
        this.slots = slots;
        this.keys = keys;
    }

    /** Indexes every user key of a sealed shard ({@link ShardReader#visitPointEntries}). */
    static EntryLocations build(ShardReader rd) {
        int[] count = new int[1];
        rd.visitPointEntries((buf, keyOff, keyLen, node, nodeLength) -> count[0]++);
        long n = count[0];
        long[] slots = new long[(int) Math.max(16, Math.min(1 << 30, n + n / 3 + 1))]; // load <= 3/4
        int cap = slots.length;
        rd.visitPointEntries((buf, keyOff, keyLen, node, nodeLength) -> {
            long h = hash(buf, keyOff, keyLen);
            long slot = (h & 0xFFFF_0000_0000_0000L) | ((long) (nodeLength <= 0xFFFF ? nodeLength : 0) << 32)
                    | (node & 0xFFFF_FFFFL);
            int i = home(h, cap);
            while (slots[i] != 0) {
                i = i + 1 == cap ? 0 : i + 1;
            }
            slots[i] = slot;
        });
        return new EntryLocations(slots, count[0]);
    }

    /** The home slot: the hash's low 32 bits scaled to the capacity (no power-of-two rounding). */
    private static int home(long hash, int cap) {
        return (int) (((hash & 0xFFFF_FFFFL) * cap) >>> 32);
    }

    /** Heap bytes this table takes. */
    long bytes() {
        return OVERHEAD + 8L * slots.length;
    }

    int keys() {
        return keys;
    }

    /**
     * The {@code skip}-th slot (from 0) on {@code hash}'s probe path whose fingerprint matches, or 0
     * when there are no more: then the key is not in the shard.
     */
    long find(long hash, int skip) {
        long fp = hash & 0xFFFF_0000_0000_0000L;
        int cap = slots.length;
        for (int i = home(hash, cap);; i = i + 1 == cap ? 0 : i + 1) {
            long s = slots[i];
            if (s == 0) {
                return 0;
            }
            if ((s & 0xFFFF_0000_0000_0000L) == fp && skip-- == 0) {
                return s;
            }
        }
    }

    /** The node's offset in the shard. */
    static int offset(long slot) {
        return (int) slot;
    }

    /** The node's length, 0 if it is longer than a slot records. */
    static int length(long slot) {
        return (int) (slot >>> 32) & 0xFFFF;
    }

    static long hash(byte[] k) {
        int len = k.length;
        long h = K1 ^ (len * K2);
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            h = mix(h, (long) LONGS.get(k, i));
        }
        long t = 0;
        for (int s = 0; i < len; i++, s += 8) {
            t |= (k[i] & 0xFFL) << s;
        }
        return fmix(mix(h, t));
    }

    static long hash(DirectBuffer b, int off, int len) {
        long h = K1 ^ (len * K2);
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            h = mix(h, b.getLong(off + i, LE));
        }
        long t = 0;
        for (int s = 0; i < len; i++, s += 8) {
            t |= (b.getByte(off + i) & 0xFFL) << s;
        }
        return fmix(mix(h, t));
    }

    private static long mix(long h, long k) {
        k *= K2;
        k = Long.rotateLeft(k, 31);
        k *= K1;
        h ^= k;
        return Long.rotateLeft(h, 27) * 5 + 0x52DCE729L;
    }

    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }
}
