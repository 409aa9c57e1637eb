package io.o3lsm.bench.jmh;

import io.o3lsm.internal.format.InternalIterator;
import io.o3lsm.internal.format.InternalKey;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * The binary-heap merge that {@code io.o3lsm.internal.db.MergingIterator} used before its tournament
 * tree, kept unchanged only so that {@link MergeBench} can compare the two in one run; nothing else
 * uses it. A min-heap of child indexes going forward, a max-heap going backward; equal keys: the
 * child listed first wins. Not thread-safe.
 */
final class HeapMergingIterator implements InternalIterator {
    private final InternalIterator[] children;
    private final int[] heap;
    private int size;
    private boolean forward = true;

    HeapMergingIterator(List<? extends InternalIterator> children) {
        this.children = children.toArray(new InternalIterator[0]);
        this.heap = new int[this.children.length];
    }

    @Override
    public boolean isValid() {
        return size > 0;
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
            // every child but the current one is positioned before key(): move them to after it
            byte[] k = currentKeyCopy();
            int cur = heap[0];
            for (int i = 0; i < children.length; i++) {
                if (i == cur) {
                    continue;
                }
                InternalIterator c = children[i];
                c.seek(k);
                if (c.isValid() && compareTo(c, k) == 0) {
                    c.next();
                }
            }
            children[cur].next();
            rebuild(true);
            return;
        }
        int top = heap[0];
        children[top].next();
        fixTop(top);
    }

    @Override
    public void prev() {
        if (forward) {
            byte[] k = currentKeyCopy();
            int cur = heap[0];
            for (int i = 0; i < children.length; i++) {
                if (i == cur) {
                    continue;
                }
                InternalIterator c = children[i];
                c.seek(k);
                if (c.isValid()) {
                    c.prev(); // first entry < k
                } else {
                    c.seekToLast();
                }
            }
            children[cur].prev();
            rebuild(false);
            return;
        }
        int top = heap[0];
        children[top].prev();
        fixTop(top);
    }

    @Override
    public DirectBuffer key() {
        return children[heap[0]].key();
    }

    @Override
    public DirectBuffer value() {
        return children[heap[0]].value();
    }

    @Override
    public void close() {
        for (InternalIterator c : children) {
            c.close();
        }
    }

    private void fixTop(int top) {
        if (children[top].isValid()) {
            siftDown(0);
        } else {
            heap[0] = heap[--size];
            if (size > 0) {
                siftDown(0);
            }
        }
    }

    private byte[] currentKeyCopy() {
        DirectBuffer k = key();
        byte[] copy = new byte[k.capacity()];
        k.getBytes(0, copy);
        return copy;
    }

    private static int compareTo(InternalIterator c, byte[] k) {
        DirectBuffer ck = c.key();
        return InternalKey.compare(ck, 0, ck.capacity(), k, 0, k.length);
    }

    private void rebuild(boolean fwd) {
        forward = fwd;
        size = 0;
        for (int i = 0; i < children.length; i++) {
            if (children[i].isValid()) {
                heap[size++] = i;
            }
        }
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(i);
        }
    }

    /** True if child a should come out of the heap before child b in the current direction. */
    private boolean before(int a, int b) {
        DirectBuffer ka = children[a].key();
        DirectBuffer kb = children[b].key();
        int c = InternalKey.compare(ka, 0, ka.capacity(), kb, 0, kb.capacity());
        if (!forward) {
            c = -c;
        }
        return c < 0 || (c == 0 && a < b);
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int r = l + 1;
            int m = (r < size && before(heap[r], heap[l])) ? r : l;
            if (before(heap[m], heap[i])) {
                int t = heap[m];
                heap[m] = heap[i];
                heap[i] = t;
                i = m;
            } else {
                return;
            }
        }
    }
}
