package io.o3lsm;

import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * A {@link FileSystem} over the local one that fails on demand: appends or creations of files whose
 * name matches a predicate throw {@link IOException} ("No space left on device") once armed.
 */
public final class FaultInjectingFileSystem implements FileSystem {
    private final FileSystem inner = LocalFileSystem.INSTANCE;
    private volatile Predicate<String> failAppends = n -> false;
    private volatile Predicate<String> failCreates = n -> false;

    public void failAppendsTo(Predicate<String> names) {
        this.failAppends = names;
    }

    public void failCreationOf(Predicate<String> names) {
        this.failCreates = names;
    }

    public void heal() {
        failAppends = n -> false;
        failCreates = n -> false;
    }

    @Override
    public WritableFile newWritableFile(Path path) throws IOException {
        String name = path.getFileName().toString();
        if (failCreates.test(name)) {
            throw new IOException("No space left on device (injected) creating " + name);
        }
        WritableFile w = inner.newWritableFile(path);
        return new WritableFile() {
            @Override
            public void append(byte[] src, int off, int len) throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) appending to " + name);
                }
                w.append(src, off, len);
            }

            @Override
            public void flush() throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) flushing " + name);
                }
                w.flush();
            }

            @Override
            public void sync() throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) syncing " + name);
                }
                w.sync();
            }

            @Override
            public long size() {
                return w.size();
            }

            @Override
            public void close() throws IOException {
                w.close();
            }
        };
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
}
