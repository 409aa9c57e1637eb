package io.o3lsm;

import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.FileSystemWrapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The tests' {@link FileSystemWrapper} (the local file system unless given another) <b>without hard
 * links</b>: {@link #link} is refused, so a checkpoint or backup through it copies its tables — tests
 * that want copies rely on that. Tests that inject faults, take crash snapshots or capture the lock
 * override {@link #wrap} (and whatever else they need).
 */
public class ForwardingFileSystem extends FileSystemWrapper {
    public ForwardingFileSystem() {
        this(LocalFileSystem.INSTANCE);
    }

    public ForwardingFileSystem(FileSystem inner) {
        super(inner);
    }

    @Override
    public void link(Path from, Path to) throws IOException {
        throw new UnsupportedOperationException("the tests' ForwardingFileSystem has no hard links");
    }

    /** A writable file forwarding to another; override the calls to intercept. */
    public static class ForwardingWritableFile extends FileSystemWrapper.WritableFileWrapper {
        public ForwardingWritableFile(WritableFile inner) {
            super(inner);
        }
    }
}
