package io.o3lsm.spi;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where o3lsm keeps its files (SSTs, WAL, MANIFEST, CURRENT, LOCK). The default is the local file
 * system ({@link #local()}); a distributed file system or a fault-injecting wrapper for tests plugs
 * in through {@link io.o3lsm.Options#fileSystem}.
 *
 * <p>Implementations are thread-safe. Every method reports failures as {@link IOException}; the
 * engine turns them into {@link io.o3lsm.O3Exception}s and stops accepting writes if durability is
 * at stake.
 */
public interface FileSystem {
    /** The local file system through {@code java.nio} (positional reads, fsync, directory sync); the default. */
    static FileSystem local() {
        return io.o3lsm.internal.fs.LocalFileSystem.INSTANCE;
    }

    /** Creates (or truncates) a file for appending. */
    WritableFile newWritableFile(Path path) throws IOException;

    /**
     * Creates a new file for appending, failing with {@link java.nio.file.FileAlreadyExistsException}
     * if it exists (never truncates). Flush workers create their outputs this way, so an attempt that
     * outlived its job (a zombie) can never overwrite a file another attempt wrote.
     */
    WritableFile newWritableFileExclusive(Path path) throws IOException;

    /** Opens an existing file for positional reads. */
    ReadableFile newReadableFile(Path path) throws IOException;

    /** Atomically renames {@code source} to {@code target}, replacing it if present. */
    void rename(Path source, Path target) throws IOException;

    /** Deletes a file; no error if it does not exist. */
    void delete(Path path) throws IOException;

    boolean exists(Path path) throws IOException;

    long size(Path path) throws IOException;

    /** Names (not paths) of the entries of a directory. */
    List<String> list(Path dir) throws IOException;

    void createDirectories(Path dir) throws IOException;

    /** Makes creations, renames and deletions in {@code dir} durable. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Takes an exclusive lock on {@code path} (created if missing) for this process. Fails with
     * {@link IOException} if another process or another open DB in this process holds it.
     */
    Closeable lock(Path path) throws IOException;

    /** A file being written sequentially. Not thread-safe: one writer at a time. */
    interface WritableFile extends Closeable {
        void append(byte[] src, int off, int len) throws IOException;

        /** Hands appended bytes to the operating system (survives a process crash). */
        void flush() throws IOException;

        /** Makes appended bytes durable (survives a machine crash). */
        void sync() throws IOException;

        /** Bytes appended so far. */
        long size();
    }

    /** A file read with positional reads. Thread-safe. */
    interface ReadableFile extends Closeable {
        /**
         * Reads exactly {@code len} bytes at {@code position}; throws {@link java.io.EOFException}
         * if the file ends first.
         */
        void readFully(long position, byte[] dst, int off, int len) throws IOException;

        long size() throws IOException;

        /** The file's name for error messages. */
        String name();
    }
}
