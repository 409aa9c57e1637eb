package io.o3lsm.internal.db;

import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperator;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A batch's writes ({@link BatchIndex}, the delta) merged over a DB iterator (the base), as one
 * {@link DBIterator}: a key the batch puts shows the batch's value, one it deletes is skipped, one it
 * merges into shows the operands combined with the base's value (or with the batch's own base).
 * Bounds {@code [lower, upper)} apply to both sides (the base normally has them already).
 *
 * <p>Positioning: in the forward direction both sides sit at their first key {@code >=} the current
 * key, backward at their last key {@code <=} it; a change of direction moves the side that is not
 * at the current key to the other side of it first. The delta is read through the index's
 * navigation methods at each move, so it reflects the batch as it is then. Owns the base: closing
 * this closes it. Not thread-safe.
 */
public final class BaseDeltaIterator implements DBIterator {
    private static final int NONE = 0;
    private static final int BASE = 1;
    private static final int DELTA = 2;
    private static final int BOTH = 3;

    private final DBIterator base;
    private final BatchIndex delta;
    private final MergeOperator op;
    private final byte[] lower;
    private final byte[] upper;

    private boolean forward = true;
    /** The delta's key (null: exhausted in the current direction). */
    private byte[] dKey;
    private int current = NONE;
    private byte[] key;
    private byte[] value;
    private boolean closed;

    /** {@code op} combines merge operands (null: none known, a merged key then throws when read). */
    public BaseDeltaIterator(DBIterator base, BatchIndex delta, MergeOperator op, byte[] lower, byte[] upper) {
        if (base == null) {
            throw new IllegalArgumentException("base iterator must not be null");
        }
        this.base = base;
        this.delta = delta;
        this.op = op;
        this.lower = lower == null ? null : lower.clone();
        this.upper = upper == null ? null : upper.clone();
    }

    private static int cmp(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    private boolean inBounds(byte[] k) {
        return (lower == null || cmp(k, lower) >= 0) && (upper == null || cmp(k, upper) < 0);
    }

    private byte[] baseKey() {
        if (!base.isValid()) {
            return null;
        }
        byte[] k = base.key();
        return inBounds(k) ? k : null;
    }

    private byte[] dBounded(byte[] k) {
        return k != null && inBounds(k) ? k : null;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
    }

    @Override
    public boolean isValid() {
        checkOpen();
        return current != NONE;
    }

    @Override
    public void seekToFirst() {
        checkOpen();
        forward = true;
        if (lower == null) {
            base.seekToFirst();
            dKey = dBounded(delta.firstKey());
        } else {
            base.seek(lower);
            dKey = dBounded(delta.ceilingKey(lower));
        }
        settle();
    }

    @Override
    public void seekToLast() {
        checkOpen();
        forward = false;
        if (upper == null) {
            base.seekToLast();
            dKey = dBounded(delta.lastKey());
        } else {
            base.seekForPrev(upper);
            if (base.isValid() && cmp(base.key(), upper) >= 0) {
                base.prev();
            }
            dKey = dBounded(delta.lowerKey(upper));
        }
        settle();
    }

    @Override
    public void seek(byte[] target) {
        checkOpen();
        if (target == null) {
            throw new IllegalArgumentException("seek target must not be null");
        }
        forward = true;
        byte[] t = lower != null && cmp(target, lower) < 0 ? lower : target;
        base.seek(t);
        dKey = dBounded(delta.ceilingKey(t));
        settle();
    }

    @Override
    public void seekForPrev(byte[] target) {
        checkOpen();
        if (target == null) {
            throw new IllegalArgumentException("seekForPrev target must not be null");
        }
        forward = false;
        if (upper != null && cmp(target, upper) >= 0) {
            seekToLast();
            return;
        }
        base.seekForPrev(target);
        dKey = dBounded(delta.floorKey(target));
        settle();
    }

    @Override
    public void next() {
        checkValid();
        if (!forward) {
            // the side not at the current key sits before it: bring it to the first key after it
            if (current == DELTA) {
                base.seek(key);
                if (base.isValid() && cmp(base.key(), key) == 0) {
                    base.next();
                }
            } else if (current == BASE) {
                dKey = dBounded(delta.higherKey(key));
            }
            forward = true;
        }
        advance();
        settle();
    }

    @Override
    public void prev() {
        checkValid();
        if (forward) {
            if (current == DELTA) {
                base.seekForPrev(key);
                if (base.isValid() && cmp(base.key(), key) == 0) {
                    base.prev();
                }
            } else if (current == BASE) {
                dKey = dBounded(delta.lowerKey(key));
            }
            forward = false;
        }
        advance();
        settle();
    }

    /** Moves the side(s) at the current key one step in the current direction. */
    private void advance() {
        if (current == BASE || current == BOTH) {
            if (forward) {
                base.next();
            } else {
                base.prev();
            }
        }
        if (current == DELTA || current == BOTH) {
            dKey = dBounded(forward ? delta.higherKey(dKey) : delta.lowerKey(dKey));
        }
    }

    /** Picks the nearer side in the current direction, skipping keys the batch deletes. */
    private void settle() {
        value = null;
        while (true) {
            byte[] bk = baseKey();
            if (bk == null && dKey == null) {
                current = NONE;
                key = null;
                return;
            }
            // c < 0: the base's key comes first in the current direction; a side at its end never does
            int c = bk == null ? 1 : dKey == null ? -1 : forward ? cmp(bk, dKey) : cmp(dKey, bk);
            if (c < 0) {
                current = BASE;
                key = bk;
                return;
            }
            current = c == 0 ? BOTH : DELTA;
            BatchIndex.Entry e = delta.get(dKey);
            if (e != null && !e.deletes()) {
                key = dKey;
                return;
            }
            advance(); // deleted by the batch (or removed from it since): skip on both sides
        }
    }

    private void checkValid() {
        checkOpen();
        if (current == NONE) {
            throw new IllegalStateException("iterator is not positioned at an entry");
        }
    }

    @Override
    public byte[] key() {
        checkValid();
        return key.clone();
    }

    @Override
    public byte[] value() {
        return currentValue().clone();
    }

    private byte[] currentValue() {
        checkValid();
        if (value == null) {
            if (current == BASE) {
                value = base.value();
            } else {
                BatchIndex.Entry e = delta.get(key);
                byte[] dbValue = e != null && !e.hasBase() && current == BOTH ? base.value() : null;
                value = e == null ? null : BatchIndex.resolve(op, key, e, dbValue);
                if (value == null) {
                    throw new IllegalStateException("the batch changed under the iterator (a save point was rolled "
                            + "back or the batch cleared): position it again");
                }
            }
        }
        return value;
    }

    @Override
    public ByteBuffer keyBuffer() {
        checkValid();
        return ByteBuffer.wrap(key).asReadOnlyBuffer();
    }

    @Override
    public ByteBuffer valueBuffer() {
        return ByteBuffer.wrap(currentValue()).asReadOnlyBuffer();
    }

    @Override
    public int key(ByteBuffer dst) {
        checkValid();
        dst.put(key, 0, Math.min(key.length, dst.remaining()));
        return key.length;
    }

    @Override
    public int value(ByteBuffer dst) {
        byte[] v = currentValue();
        dst.put(v, 0, Math.min(v.length, dst.remaining()));
        return v.length;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            base.close();
        }
    }
}
