package io.o3lsm;

import java.nio.ByteBuffer;

/**
 * An ordered cursor over a {@link DB}'s keys as of one sequence number (the read options' snapshot,
 * or the latest state when the iterator was created). Never shows deleted or overwritten data, and
 * stays within the read options' bounds. Not thread-safe; close it to release the files and memory
 * it pins. Using it after close, or calling {@link #key()}/{@link #value()}/{@link #next()}/
 * {@link #prev()} while not {@link #isValid()}, throws {@link IllegalStateException}.
 *
 * <p>Zero-copy access: {@link #keyBuffer()} and {@link #valueBuffer()} return read-only views that
 * stay valid until the iterator moves; {@link #key(ByteBuffer)} and {@link #value(ByteBuffer)} copy
 * into a caller's buffer. {@link #key()} and {@link #value()} return fresh arrays.
 */
public interface DBIterator extends AutoCloseable {
    boolean isValid();

    void seekToFirst();

    void seekToLast();

    /** Positions at the first key {@code >= target}. */
    void seek(byte[] target);

    /** Positions at the last key {@code <= target}. */
    void seekForPrev(byte[] target);

    void next();

    void prev();

    byte[] key();

    byte[] value();

    /** Read-only view of the current key; valid until the iterator moves. */
    ByteBuffer keyBuffer();

    /**
     * Read-only view of the current value: its remaining bytes (the position may be above 0, as the
     * view can be a window on a cached block). Valid until the iterator moves.
     */
    ByteBuffer valueBuffer();

    /**
     * Copies the current key into {@code dst} from its position (at most {@code dst.remaining()}
     * bytes, advancing the position) and returns the key's full length.
     */
    int key(ByteBuffer dst);

    /** As {@link #key(ByteBuffer)}, for the value. */
    int value(ByteBuffer dst);

    @Override
    void close();
}
