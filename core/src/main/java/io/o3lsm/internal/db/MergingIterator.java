package io.o3lsm.internal.db;

import io.o3lsm.internal.format.InternalIterator;
import io.o3lsm.internal.format.InternalKey;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * Forward merge of several {@link InternalIterator}s in internal-key order; on equal keys the child
 * listed first wins the tie (callers list newer sources first). A binary min-heap of children.
 * Backward iteration arrives with "Core engine II"; {@link #prev()} and {@link #seekToLast()} throw.
 * Not thread-safe.
 */
final class MergingIterator implements InternalIterator {
    private final InternalIterator[] children;
    private final int[] heap;
    private int size;

    MergingIterator(List<? extends InternalIterator> children) {
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
        rebuild();
    }

    @Override
    public void seek(byte[] target) {
        for (InternalIterator c : children) {
            c.seek(target);
        }
        rebuild();
    }

    @Override
    public void seekToLast() {
        throw new UnsupportedOperationException("backward merge not supported yet");
    }

    @Override
    public void prev() {
        throw new UnsupportedOperationException("backward merge not supported yet");
    }

    @Override
    public void next() {
        int top = heap[0];
        children[top].next();
        if (children[top].isValid()) {
            siftDown(0);
        } else {
            heap[0] = heap[--size];
            if (size > 0) {
                siftDown(0);
            }
        }
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

    private void rebuild() {
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

    private boolean less(int a, int b) {
        DirectBuffer ka = children[a].key();
        DirectBuffer kb = children[b].key();
        int c = InternalKey.compare(ka, 0, ka.capacity(), kb, 0, kb.capacity());
        return c < 0 || (c == 0 && a < b);
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int r = l + 1;
            int m = (r < size && less(heap[r], heap[l])) ? r : l;
            if (less(heap[m], heap[i])) {
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
