package io.o3lsm.spi;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link FileSystem} forwarding every call to another, for wrappers that change a few calls (rate
 * limiting, fault injection, counting): extend it and override what you change; {@link #wrap} sees
 * every file opened for writing. {@link #close()} does not close the wrapped file system (its owner
 * does). Thread-safe as the wrapped file system is.
 */
public class FileSystemWrapper implements FileSystem {
    /** The file system forwarded to. */
    protected final FileSystem inner;

    public FileSystemWrapper(FileSystem inner) {
        if (inner == null) {
            throw new IllegalArgumentException("the wrapped file system must not be null");
        }
        this.inner = inner;
    }

    /** Called for every file opened for writing; returns what the caller gets. Identity by default. */
    protected WritableFile wrap(Path path, WritableFile file) throws IOException {
        return file;
    }

    @Override
    public boolean isLocal() {
        return inner.isLocal();
    }

    @Override
    public URI uri(Path path) {
        return inner.uri(path);
    }

    @Override
    public void recoverLease(Path path) throws IOException {
        inner.recoverLease(path);
    }

    @Override
    public WritableFile newWritableFile(Path path) throws IOException {
        return wrap(path, inner.newWritableFile(path));
    }

    @Override
    public WritableFile newWritableFileExclusive(Path path) throws IOException {
        return wrap(path, inner.newWritableFileExclusive(path));
    }

    @Override
    public ReadableFile newReadableFile(Path path) throws IOException {
        return inner.newReadableFile(path);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        inner.rename(source, target);
    }

    @Override
    public void link(Path from, Path to) throws IOException {
        inner.link(from, to);
    }

    @Override
    public void delete(Path path) throws IOException {
        inner.delete(path);
    }

    @Override
    public boolean exists(Path path) throws IOException {
        return inner.exists(path);
    }

    @Override
    public long size(Path path) throws IOException {
        return inner.size(path);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        return inner.list(dir);
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        inner.createDirectories(dir);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        inner.syncDirectory(dir);
    }

    @Override
    public Closeable lock(Path path) throws IOException {
        return inner.lock(path);
    }

    /** A writable file forwarding to another; override the calls to intercept. */
    public static class WritableFileWrapper implements WritableFile {
        /** The file forwarded to. */
        protected final WritableFile inner;

        public WritableFileWrapper(WritableFile inner) {
            this.inner = inner;
        }

        @Override
        public void append(byte[] src, int off, int len) throws IOException {
            inner.append(src, off, len);
        }

        @Override
        public void flush() throws IOException {
            inner.flush();
        }

        @Override
        public void sync() throws IOException {
            inner.sync();
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
