package io.o3lsm.format;

import org.agrona.DirectBuffer;

/**
 * An ordered cursor over internal keys (see {@link InternalKey}) and their values: what memtable
 * shards, SST blocks, SST files and merges of them expose.
 *
 * <p>{@link #key()} and {@link #value()} return views that are valid only until the next
 * positioning call; they span the whole view (index 0 to {@code capacity()}). Callers that keep
 * bytes copy them. Not thread-safe. Positioning may throw {@link io.o3lsm.CorruptionException}.
 */
public interface InternalIterator extends AutoCloseable {
    boolean isValid();

    void seekToFirst();

    void seekToLast();

    /** Positions at the first entry whose internal key is {@code >= target}. */
    void seek(byte[] targetInternalKey);

    void next();

    void prev();

    /** The current internal key (user key + 8-byte trailer). Requires {@link #isValid()}. */
    DirectBuffer key();

    /** The current value. Requires {@link #isValid()}. */
    DirectBuffer value();

    @Override
    default void close() {
    }
}
