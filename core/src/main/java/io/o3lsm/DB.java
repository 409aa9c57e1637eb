package io.o3lsm;

import io.o3lsm.internal.db.DBImpl;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * An open o3lsm database: a sorted map from byte-string keys to byte-string values, ordered by
 * unsigned bytewise comparison, persisted in one directory.
 *
 * <pre>{@code
 * try (DB db = DB.open(dir, Options.defaults())) {
 *     db.put(key, value);
 *     byte[] v = db.get(key);   // null when absent
 *     db.delete(key);
 * }
 * }</pre>
 *
 * <p>Thread-safe: any number of threads may read and write concurrently; concurrent writes are
 * group-committed. Keys are at most {@link #MAX_KEY_SIZE} bytes and values at most
 * {@link #MAX_VALUE_SIZE}; {@code null} keys or values, or larger ones, are rejected with
 * {@link IllegalArgumentException}. Every method throws {@link DBClosedException} after
 * {@link #close()}, and {@link O3Exception} when the engine has stopped accepting writes after an
 * I/O error (reopen to recover).
 */
public interface DB extends AutoCloseable {
    /** Largest key accepted, in bytes (64 KiB). */
    int MAX_KEY_SIZE = 64 * 1024;
    /** Largest value accepted, in bytes (32 MiB). */
    int MAX_VALUE_SIZE = 32 * 1024 * 1024;

    /**
     * Opens (or, with {@link Options#createIfMissing(boolean)}, creates) the database in {@code dir},
     * recovering whatever the last process wrote: MANIFEST, then WAL replay. Only one open
     * {@code DB} may use a directory at a time; a second open fails with {@link O3Exception}.
     *
     * @throws IllegalArgumentException if the options are inconsistent
     * @throws CorruptionException      if the MANIFEST or a WAL is damaged
     */
    static DB open(Path dir, Options options) {
        return DBImpl.open(dir, options);
    }

    void put(byte[] key, byte[] value);

    void put(byte[] key, byte[] value, WriteOptions options);

    /** Puts the remaining bytes of {@code key} and {@code value}; their positions are not moved. */
    void put(ByteBuffer key, ByteBuffer value);

    void put(ByteBuffer key, ByteBuffer value, WriteOptions options);

    /** The value stored for {@code key}, or {@code null} when absent. */
    byte[] get(byte[] key);

    /**
     * Looks up the remaining bytes of {@code key} and copies the value into {@code value} from its
     * position, copying at most {@code value.remaining()} bytes and advancing its position by the
     * amount copied. Returns the full length of the stored value (which may exceed what was copied),
     * or -1 when absent.
     */
    int get(ByteBuffer key, ByteBuffer value);

    void delete(byte[] key);

    void delete(byte[] key, WriteOptions options);

    /** Applies every operation of {@code batch} atomically: all or none are visible and recovered. */
    void write(WriteBatch batch, WriteOptions options);

    default void write(WriteBatch batch) {
        write(batch, WriteOptions.defaults());
    }

    /**
     * Waits for background work in progress, flushes nothing extra, and releases every resource
     * (files, off-heap memory, threads, the directory lock). Idempotent.
     */
    @Override
    void close();
}
