package io.o3lsm.internal.db;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * Children over disjoint key ranges, in range order, as one iterator: a seek touches only the
 * child of the target's range (and the next ones if that is exhausted), as LevelIterator does for
 * the files of a level. Used for the offloaded shards of an iterator's view, one delegated-scan
 * child per shard range, so a seek makes the memory node merge one range's shards, not all of
 * them. Not thread-safe.
 */
final class RangeConcatIterator implements InternalIterator {
    private final InternalIterator[] children;
    private final int[] ranges;
    private final ShardRanges shardRanges;
    private int cur;

    /**
     * @param children one per range, in ascending range order
     * @param ranges   the range of each child, ascending
     */
    RangeConcatIterator(List<? extends InternalIterator> children, int[] ranges, ShardRanges shardRanges) {
        if (children.size() != ranges.length) {
            throw new IllegalArgumentException("one range per child expected");
        }
        for (int i = 1; i < ranges.length; i++) {
            if (ranges[i] <= ranges[i - 1]) {
                throw new IllegalArgumentException("ranges must ascend: " + java.util.Arrays.toString(ranges));
            }
        }
        this.children = children.toArray(new InternalIterator[0]);
        this.ranges = ranges.clone();
        this.shardRanges = shardRanges;
        this.cur = this.children.length;
    }

    @Override
    public boolean isValid() {
        return cur >= 0 && cur < children.length && children[cur].isValid();
    }

    @Override
    public void seekToFirst() {
        forwardFrom(0, null);
    }

    @Override
    public void seekToLast() {
        backwardFrom(children.length - 1);
    }

    @Override
    public void seek(byte[] target) {
        int r = shardRanges.rangeOf(target, 0, target.length - InternalKey.TRAILER_SIZE);
        int i = 0;
        while (i < ranges.length && ranges[i] < r) {
            i++;
        }
        forwardFrom(i, target);
    }

    @Override
    public void next() {
        children[cur].next();
        if (!children[cur].isValid()) {
            forwardFrom(cur + 1, null);
        }
    }

    @Override
    public void prev() {
        children[cur].prev();
        if (!children[cur].isValid()) {
            backwardFrom(cur - 1);
        }
    }

    @Override
    public DirectBuffer key() {
        return children[cur].key();
    }

    @Override
    public DirectBuffer value() {
        return children[cur].value();
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (InternalIterator c : children) {
            try {
                c.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Positions at child {@code i} (seeking {@code target}, or its first entry) or the first later non-empty one. */
    private void forwardFrom(int i, byte[] target) {
        for (; i < children.length; i++) {
            if (target != null) {
                children[i].seek(target); // later ranges hold only keys after target: their first entry
                target = null;
            } else {
                children[i].seekToFirst();
            }
            if (children[i].isValid()) {
                cur = i;
                return;
            }
        }
        cur = children.length;
    }

    private void backwardFrom(int i) {
        for (; i >= 0; i--) {
            children[i].seekToLast();
            if (children[i].isValid()) {
                cur = i;
                return;
            }
        }
        cur = -1;
    }
}
