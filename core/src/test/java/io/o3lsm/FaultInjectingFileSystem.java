package io.o3lsm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * A {@link FileSystem} over the local one that fails on demand: appends or creations of files whose
 * name matches a predicate throw {@link IOException} ("No space left on device") once armed.
 */
public final class FaultInjectingFileSystem extends ForwardingFileSystem {
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
        return super.newWritableFile(path);
    }

    @Override
    protected WritableFile wrap(Path path, WritableFile w) {
        String name = path.getFileName().toString();
        return new ForwardingWritableFile(w) {
            @Override
            public void append(byte[] src, int off, int len) throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) appending to " + name);
                }
                super.append(src, off, len);
            }

            @Override
            public void flush() throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) flushing " + name);
                }
                super.flush();
            }

            @Override
            public void sync() throws IOException {
                if (failAppends.test(name)) {
                    throw new IOException("No space left on device (injected) syncing " + name);
                }
                super.sync();
            }
        };
    }
}
