package io.o3lsm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@link MergingIterator} against a sorted model: random children (up to ~150, some empty, some real
 * memtable shards), random seeks, next/prev and direction switches, keys chosen to stress the cached
 * 8-byte prefix (short user keys, shared prefixes, 0x00 and 0xFF bytes, one user key at several
 * sequences in different children). Seeded: prints {@code -Dtests.seed=S} and accepts it back.
 */
class MergingIteratorTest {
    private static final long SEED = Long.getLong("tests.seed", System.nanoTime());

    static {
        System.out.println("MergingIteratorTest seed " + SEED + " (-Dtests.seed=" + SEED + ")");
    }

    /** One entry of the model: internal key, value, and the child that holds it. */
    private record Entry(byte[] key, byte[] value, int child) {
    }

    private static final Comparator<Entry> ORDER = (a, b) -> {
        int c = InternalKey.compare(a.key, b.key);
        return c != 0 ? c : Integer.compare(a.child, b.child);
    };

    @Test
    void shouldMatchSortedModelUnderRandomOperations() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int round = 0; round < 60; round++) {
            int children = round < 5 ? round : 1 + rnd.nextInt(round % 4 == 0 ? 150 : 20);
            runRound(new SplittableRandom(rnd.nextLong()), children, "round " + round);
        }
    }

    @Test
    void shouldMergeManyShardsLikeAFlush() {
        // the flush's shape: many sealed shards of one key range, real shard iterators, forward only
        SplittableRandom rnd = new SplittableRandom(SEED ^ 0x5DEECE66DL);
        List<Entry> all = new ArrayList<>();
        List<InternalIterator> its = new ArrayList<>();
        long seq = 1;
        for (int c = 0; c < 130; c++) {
            MemtableShard shard = MemtableShard.allocate(c, 1 << 16);
            for (int i = 0; i < 200; i++) {
                // few distinct keys: many overwrites across shards, and prefixes that often tie
                byte[] user = new byte[16];
                long hi = rnd.nextInt(50);
                long lo = rnd.nextInt(100);
                for (int b = 0; b < 8; b++) {
                    user[b] = (byte) (hi >>> (56 - 8 * b));
                    user[8 + b] = (byte) (lo >>> (56 - 8 * b));
                }
                byte[] value = ("v" + seq).getBytes(StandardCharsets.UTF_8);
                if (!shard.add(seq, InternalKey.TYPE_VALUE, user, 0, user.length, value, 0, value.length)) {
                    break;
                }
                all.add(new Entry(InternalKey.encode(user, seq, InternalKey.TYPE_VALUE), value, c));
                seq++;
            }
            its.add(shard.reader().iterator());
        }
        all.sort(ORDER);
        try (MergingIterator it = new MergingIterator(its)) {
            it.seekToFirst();
            for (Entry e : all) {
                assertTrue(it.isValid());
                assertArrayEquals(e.key, bytes(it.key()));
                assertArrayEquals(e.value, bytes(it.value()));
                it.next();
            }
            assertFalse(it.isValid());
        }
    }

    @Test
    void shouldLetTheLowerChildWinOnEqualKeysInBothDirections() {
        byte[] a = InternalKey.encode(bytes("a"), 5, InternalKey.TYPE_VALUE);
        byte[] b = InternalKey.encode(bytes("b"), 5, InternalKey.TYPE_VALUE);
        List<ListIterator> kids = List.of(
                new ListIterator(List.of(new Entry(b, bytes("b0"), 0))),
                new ListIterator(List.of(new Entry(a, bytes("a1"), 1), new Entry(b, bytes("b1"), 1))),
                new ListIterator(List.of()),
                new ListIterator(List.of(new Entry(a, bytes("a3"), 3), new Entry(b, bytes("b3"), 3))));
        MergingIterator it = new MergingIterator(kids);
        it.seekToFirst();
        List<String> seen = new ArrayList<>();
        for (; it.isValid(); it.next()) {
            seen.add(new String(bytes(it.value()), StandardCharsets.UTF_8));
        }
        assertEquals(List.of("a1", "a3", "b0", "b1", "b3"), seen);
        seen.clear();
        it.seekToLast();
        for (; it.isValid(); it.prev()) {
            seen.add(new String(bytes(it.value()), StandardCharsets.UTF_8));
        }
        assertEquals(List.of("b0", "b1", "b3", "a1", "a3"), seen);
        it.close();
        for (ListIterator k : kids) {
            assertEquals(1, k.closed);
        }
    }

    @Test
    void shouldBeInvalidWithNoChildren() {
        MergingIterator it = new MergingIterator(List.of());
        it.seekToFirst();
        assertFalse(it.isValid());
        it.seekToLast();
        assertFalse(it.isValid());
        it.seek(InternalKey.seekKey(bytes("x"), 9));
        assertFalse(it.isValid());
        it.close();
    }

    private static void runRound(SplittableRandom rnd, int childCount, String what) {
        String ctx = what + " (-Dtests.seed=" + SEED + ")";
        List<byte[]> users = userKeys(rnd, 1 + rnd.nextInt(300));
        Set<String> used = new HashSet<>();
        List<Entry> all = new ArrayList<>();
        List<InternalIterator> its = new ArrayList<>();
        List<ListIterator> lists = new ArrayList<>();
        long seq = 1;
        for (int c = 0; c < childCount; c++) {
            int kind = rnd.nextInt(10);
            int count = kind == 0 ? 0 : rnd.nextInt(kind < 3 ? 3 : 60);
            List<Entry> mine = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] user = users.get(rnd.nextInt(users.size()));
                long s = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(50) : seq++; // old sequences too
                int type = rnd.nextInt(5) == 0 ? InternalKey.TYPE_DELETION : InternalKey.TYPE_VALUE;
                byte[] ik = InternalKey.encode(user, s, type);
                if (!used.add(Arrays.toString(user) + "@" + s)) {
                    continue; // internal keys stay disjoint across children (user key + sequence)
                }
                byte[] value = ("c" + c + "/" + i).getBytes(StandardCharsets.UTF_8);
                mine.add(new Entry(ik, value, c));
            }
            mine.sort(ORDER);
            all.addAll(mine);
            if (rnd.nextBoolean() && !mine.isEmpty()) {
                MemtableShard shard = MemtableShard.allocate(c, 1 << 14);
                for (Entry e : mine) {
                    long t = InternalKey.trailer(e.key);
                    int ulen = e.key.length - InternalKey.TRAILER_SIZE;
                    assertTrue(shard.add(InternalKey.sequenceOf(t), InternalKey.typeOf(t), e.key, 0, ulen,
                            e.value, 0, e.value.length));
                }
                its.add(shard.reader().iterator());
            } else {
                ListIterator l = new ListIterator(mine);
                lists.add(l);
                its.add(l);
            }
        }
        all.sort(ORDER);

        MergingIterator it = new MergingIterator(its);
        int pos = -1; // model position; -1 or all.size() = invalid
        for (int op = 0; op < 400; op++) {
            int r = rnd.nextInt(100);
            String desc;
            boolean valid = pos >= 0 && pos < all.size();
            if (r < 5) {
                it.seekToFirst();
                pos = all.isEmpty() ? -1 : 0;
                desc = "seekToFirst";
            } else if (r < 10) {
                it.seekToLast();
                pos = all.size() - 1;
                desc = "seekToLast";
            } else if (r < 25) {
                byte[] target = seekTarget(rnd, users, all);
                it.seek(target);
                pos = lowerBound(all, target);
                desc = "seek " + Arrays.toString(target);
            } else if (!valid) {
                it.seekToFirst();
                pos = all.isEmpty() ? -1 : 0;
                desc = "seekToFirst";
            } else if (r < 65) {
                it.next();
                pos++;
                desc = "next";
            } else {
                it.prev();
                pos--;
                desc = "prev";
            }
            String at = ctx + ", op " + op + " " + desc;
            if (pos < 0 || pos >= all.size()) {
                assertFalse(it.isValid(), at);
                pos = -1;
            } else {
                assertTrue(it.isValid(), at);
                Entry e = all.get(pos);
                assertArrayEquals(e.key, bytes(it.key()), at);
                assertArrayEquals(e.value, bytes(it.value()), at);
            }
        }
        it.close();
        for (ListIterator l : lists) {
            assertEquals(1, l.closed, ctx);
        }
    }

    /** User keys that make the 8-byte prefix tie often and sort differently as signed bytes. */
    private static List<byte[]> userKeys(SplittableRandom rnd, int n) {
        byte[][] stems = new byte[4][];
        for (int s = 0; s < stems.length; s++) {
            stems[s] = new byte[rnd.nextInt(12)];
            rnd.nextBytes(stems[s]);
        }
        Set<String> seen = new HashSet<>();
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] k;
            int how = rnd.nextInt(4);
            if (how == 0) {
                k = new byte[rnd.nextInt(20)];
                rnd.nextBytes(k);
            } else {
                byte[] stem = stems[rnd.nextInt(stems.length)];
                int len = Math.max(0, stem.length - rnd.nextInt(3)) + rnd.nextInt(6);
                k = Arrays.copyOf(stem, len);
                for (int b = Math.min(stem.length, len); b < len; b++) {
                    int pick = rnd.nextInt(4);
                    k[b] = (byte) (pick == 0 ? 0 : pick == 1 ? 0xFF : pick == 2 ? 0x80 : rnd.nextInt(256));
                }
            }
            if (seen.add(Arrays.toString(k))) {
                out.add(k);
            }
        }
        return out;
    }

    private static byte[] seekTarget(SplittableRandom rnd, List<byte[]> users, List<Entry> all) {
        int how = rnd.nextInt(3);
        if (how == 0 && !all.isEmpty()) {
            return all.get(rnd.nextInt(all.size())).key.clone();
        }
        byte[] user = how == 1 ? users.get(rnd.nextInt(users.size())) : randomUser(rnd);
        return InternalKey.seekKey(user, rnd.nextInt(3) == 0 ? InternalKey.MAX_SEQUENCE : rnd.nextInt(400));
    }

    private static byte[] randomUser(SplittableRandom rnd) {
        byte[] k = new byte[rnd.nextInt(14)];
        rnd.nextBytes(k);
        return k;
    }

    private static int lowerBound(List<Entry> all, byte[] target) {
        int lo = 0;
        int hi = all.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (InternalKey.compare(all.get(mid).key, target) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == all.size() ? -1 : lo;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(DirectBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.getBytes(0, out);
        return out;
    }

    /** A child whose close() throws does not keep the others open; the first failure is rethrown. */
    @Test
    void closeClosesEveryChildEvenIfOneThrows() {
        ListIterator a = new ListIterator(List.of());
        ListIterator c = new ListIterator(List.of());
        InternalIterator failing = new ListIterator(List.of()) {
            @Override
            public void close() {
                throw new IllegalStateException("close failed (injected)");
            }
        };
        MergingIterator m = new MergingIterator(List.of(a, failing, c));
        IllegalStateException x = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, m::close);
        assertEquals("close failed (injected)", x.getMessage());
        assertEquals(1, a.closed);
        assertEquals(1, c.closed, "the child after the failing one is closed too");
    }

    /**
     * A child over a sorted list. Its key and value views are single objects re-wrapped at every
     * positioning call, as real children's are: a merge that kept a stale view would see it change.
     */
    private static class ListIterator implements InternalIterator {
        private final List<Entry> entries;
        private final UnsafeBuffer keyView = new UnsafeBuffer(new byte[0]);
        private final UnsafeBuffer valueView = new UnsafeBuffer(new byte[0]);
        private int pos = -1;
        int closed;

        ListIterator(List<Entry> entries) {
            this.entries = entries;
        }

        private void moved(int p) {
            pos = p >= 0 && p < entries.size() ? p : -1;
            if (pos >= 0) {
                keyView.wrap(entries.get(pos).key);
                valueView.wrap(entries.get(pos).value);
            } else {
                keyView.wrap(new byte[InternalKey.TRAILER_SIZE]); // garbage if anyone still reads it
            }
        }

        @Override
        public boolean isValid() {
            return pos >= 0;
        }

        @Override
        public void seekToFirst() {
            moved(0);
        }

        @Override
        public void seekToLast() {
            moved(entries.size() - 1);
        }

        @Override
        public void seek(byte[] target) {
            int p = 0;
            while (p < entries.size() && InternalKey.compare(entries.get(p).key, target) < 0) {
                p++;
            }
            moved(p);
        }

        @Override
        public void next() {
            assertTrue(isValid());
            moved(pos + 1);
        }

        @Override
        public void prev() {
            assertTrue(isValid());
            moved(pos - 1);
        }

        @Override
        public DirectBuffer key() {
            assertTrue(isValid());
            return keyView;
        }

        @Override
        public DirectBuffer value() {
            assertTrue(isValid());
            return valueView;
        }

        @Override
        public void close() {
            closed++;
        }
    }
}
