package io.o3lsm.format;

import org.agrona.DirectBuffer;

/** Positioning rules shared by delegated scans on the memory node and their local fallbacks. */
public final class InternalIterators {
    private InternalIterators() {
    }

    /**
     * Positions {@code it} where a scan starts. Forward: at the first entry {@code >= from} (the
     * first entry if {@code from} is null). Reverse: at the last entry {@code <= from} (the last entry
     * if null). {@code exclusive} also steps over an entry equal to {@code from}.
     */
    public static void position(InternalIterator it, boolean reverse, byte[] from, boolean exclusive) {
        if (from == null) {
            if (reverse) {
                it.seekToLast();
            } else {
                it.seekToFirst();
            }
            return;
        }
        it.seek(from);
        if (!reverse) {
            if (exclusive && it.isValid() && equalsKey(it.key(), from)) {
                it.next();
            }
            return;
        }
        if (!it.isValid()) {
            it.seekToLast(); // every entry is < from
        } else if (exclusive || !equalsKey(it.key(), from)) {
            it.prev(); // at the first entry >= from: the one before it is the last < from
        }
    }

    private static boolean equalsKey(DirectBuffer k, byte[] key) {
        return InternalKey.compare(k, 0, k.capacity(), key, 0, key.length) == 0;
    }
}
