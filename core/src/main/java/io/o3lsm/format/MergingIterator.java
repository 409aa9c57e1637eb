package io.o3lsm.format;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalIterators;
import io.o3lsm.format.InternalKey;
import java.nio.ByteOrder;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * Merge of several {@link InternalIterator}s in internal-key order, both directions. Children hold
 * disjoint internal keys (a user key and sequence appear in one source only); on equal keys the child
 * listed first wins, in both directions. Switching direction repositions every other child around the
 * current key, as LevelDB's merging iterator does.
 *
 * <p><b>How.</b> A tournament tree of losers over the children (Knuth's replacement selection): each
 * internal node holds the child that lost the match there, the overall winner is the current entry.
 * Advancing the winner replays only its path to the root: one comparison per level, {@code ceil(log2 n)}
 * for {@code n} children, against about twice that for a binary heap's sift-down. For each child the
 * merge caches its key view (valid until that child's next positioning call, which only this class
 * makes) and the first 8 bytes of its user key as an unsigned big-endian long; most comparisons are
 * decided by the two longs and never touch the key bytes. An exhausted child is cached with a null key
 * and loses to every valid child. Since a comparison is a strict total order on (exhausted, key in the
 * current direction, child index), the winner is exactly the child a heap would pick.
 *
 * <p>Flushes merge many sealed shards at once (over a hundred in DM mode), which is what this is
 * built for; {@code MergingIteratorTest} checks it against a sorted model.
 *
 * <p>Not thread-safe. {@link #close()} closes every child.
 */
public final class MergingIterator implements InternalIterator {
    private final InternalIterator[] children;
    /** Number of children; the leaves are virtual nodes {@code n .. 2n-1}, child {@code i} at {@code n + i}. */
    private final int n;
    /**
     * {@code tree[0]}: the winner (current child); {@code tree[1 .. n-1]}: the loser of the match at
     * that internal node. Node {@code j}'s parent is {@code j >>> 1}.
     */
    private final int[] tree;
    /** Cached {@code children[i].key()}, or null when child {@code i} is not valid. */
    private final DirectBuffer[] keys;
    /**
     * First 8 bytes of child {@code i}'s user key (zero-padded), big-endian, flipped by
     * {@link Long#MIN_VALUE} so that signed comparison gives unsigned byte order; complemented when
     * iterating backward so that "smaller" always means "comes out first".
     */
    private final long[] prefixes;
    /** Scratch for {@link #rebuild}: the winner of the match at each node. */
    private final int[] winners;
    private boolean forward = true;

    public MergingIterator(List<? extends InternalIterator> children) {
        this.children = children.toArray(new InternalIterator[0]);
        this.n = this.children.length;
        this.tree = new int[Math.max(n, 1)];
        this.keys = new DirectBuffer[n];
        this.prefixes = new long[n];
        this.winners = new int[2 * n];
    }

    @Override
    public boolean isValid() {
        return n > 0 && keys[tree[0]] != null;
    }

    @Override
    public void seekToFirst() {
        for (InternalIterator c : children) {
            c.seekToFirst();
        }
        rebuild(true);
    }

    @Override
    public void seekToLast() {
        for (InternalIterator c : children) {
            c.seekToLast();
        }
        rebuild(false);
    }

    @Override
    public void seek(byte[] target) {
        for (InternalIterator c : children) {
            c.seek(target);
        }
        rebuild(true);
    }

    @Override
    public void next() {
        if (!forward) {
            turn(true);
            return;
        }
        int cur = tree[0];
        InternalIterator c = children[cur];
        c.next();
        load(cur, c);
        replay(cur);
    }

    @Override
    public void prev() {
        if (forward) {
            turn(false);
            return;
        }
        int cur = tree[0];
        InternalIterator c = children[cur];
        c.prev();
        load(cur, c);
        replay(cur);
    }

    /**
     * Direction switch: every child but the current one is on the wrong side of key(); each moves
     * to the first entry strictly beyond it in the new direction, then the current child steps.
     */
    private void turn(boolean toForward) {
        int cur = tree[0];
        byte[] k = currentKeyCopy();
        for (int i = 0; i < n; i++) {
            if (i != cur) {
                InternalIterators.position(children[i], !toForward, k, true);
            }
        }
        if (toForward) {
            children[cur].next();
        } else {
            children[cur].prev();
        }
        rebuild(toForward);
    }

    @Override
    public DirectBuffer key() {
        return keys[tree[0]];
    }

    @Override
    public DirectBuffer value() {
        return children[tree[0]].value();
    }

    @Override
    public void close() {
        RuntimeException first = null; // every child is closed even if one fails (they hold memory and pins)
        for (InternalIterator c : children) {
            try {
                c.close();
            } catch (RuntimeException ex) {
                if (first == null) {
                    first = ex;
                } else {
                    first.addSuppressed(ex);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private byte[] currentKeyCopy() {
        DirectBuffer k = key();
        byte[] copy = new byte[k.capacity()];
        k.getBytes(0, copy);
        return copy;
    }

    /** Refreshes the cached key and prefix of child {@code i} after it moved. */
    private void load(int i, InternalIterator c) {
        if (!c.isValid()) {
            keys[i] = null;
            return;
        }
        DirectBuffer k = c.key();
        keys[i] = k;
        long p = prefix(k) ^ Long.MIN_VALUE;
        prefixes[i] = forward ? p : ~p;
    }

    /** The first 8 bytes of the user key, big-endian, zero-padded when shorter. */
    static long prefix(DirectBuffer k) {
        int ulen = k.capacity() - InternalKey.TRAILER_SIZE;
        if (ulen >= 8) {
            return k.getLong(0, ByteOrder.BIG_ENDIAN);
        }
        long p = 0;
        for (int i = 0; i < 8; i++) {
            p = (p << 8) | (i < ulen ? k.getByte(i) & 0xFF : 0);
        }
        return p;
    }

    /** Child {@code w}'s key changed: replays its matches from its leaf up to the root. */
    private void replay(int w) {
        for (int node = (w + n) >>> 1; node > 0; node >>>= 1) {
            int other = tree[node];
            if (before(other, w)) {
                tree[node] = w;
                w = other;
            }
        }
        tree[0] = w;
    }

    private void rebuild(boolean fwd) {
        forward = fwd;
        for (int i = 0; i < n; i++) {
            load(i, children[i]);
        }
        if (n <= 1) {
            tree[0] = 0;
            return;
        }
        // winners[j] for every node j (leaves n .. 2n-1 hold their child); losers stay in tree[j]
        for (int i = 0; i < n; i++) {
            winners[n + i] = i;
        }
        for (int j = n - 1; j >= 1; j--) {
            int a = winners[2 * j];
            int b = winners[2 * j + 1];
            if (before(a, b)) {
                winners[j] = a;
                tree[j] = b;
            } else {
                winners[j] = b;
                tree[j] = a;
            }
        }
        tree[0] = winners[1];
    }

    /**
     * True if child {@code a} comes out before child {@code b} in the current direction: valid before
     * exhausted, then by key, then the lower index.
     */
    private boolean before(int a, int b) {
        DirectBuffer ka = keys[a];
        DirectBuffer kb = keys[b];
        if (ka == null || kb == null) {
            return kb == null && (ka != null || a < b);
        }
        long pa = prefixes[a];
        long pb = prefixes[b];
        if (pa != pb) {
            return pa < pb;
        }
        int c = InternalKey.compare(ka, 0, ka.capacity(), kb, 0, kb.capacity());
        if (c == 0) {
            return a < b;
        }
        return (c < 0) == forward;
    }
}
