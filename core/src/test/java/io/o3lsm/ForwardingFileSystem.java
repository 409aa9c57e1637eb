package io.o3lsm;

import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A file system (the local one unless given another) with a hook on every file opened for writing:
 * tests that inject faults, take crash snapshots or capture the lock override {@link #wrap} (and
 * whatever else they need) instead of forwarding every method themselves.
 */
public class ForwardingFileSystem implements FileSystem {
    protected final FileSystem inner;

    public ForwardingFileSystem() {
        this(LocalFileSystem.INSTANCE);
    }

    public ForwardingFileSystem(FileSystem inner) {
        this.inner = inner;
    }

    /** Called for every file opened for writing; returns what the engine gets. Identity by default. */
    protected WritableFile wrap(Path path, WritableFile file) throws IOException {
        return file;
    }

    @Override
    public boolean isLocal() {
        return inner.isLocal();
    }

    @Override
    public java.net.URI uri(Path path) {
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
    public static class ForwardingWritableFile implements WritableFile {
        protected final WritableFile inner;

        public ForwardingWritableFile(WritableFile inner) {
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
