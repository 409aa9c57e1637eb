package io.o3lsm.internal.fs;

import io.o3lsm.internal.util.Uninterruptible;
import io.o3lsm.spi.FileSystem;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * {@link FileSystem} over {@code java.nio} on a local directory. Its channels ignore thread
 * interrupts ({@link Uninterruptible}). Writes go straight to the
 * {@link FileChannel} through a small user-space buffer that {@link WritableFile#flush()} drains,
 * so that a flushed write survives a process kill; {@link WritableFile#sync()} is {@code force}.
 */
public final class LocalFileSystem implements FileSystem {
    public static final LocalFileSystem INSTANCE = new LocalFileSystem();

    /** Locks held by this JVM: {@link FileLock} alone does not exclude a second open in-process. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private LocalFileSystem() {
    }

    @Override
    public boolean isLocal() {
        return true;
    }

    @Override
    public WritableFile newWritableFile(Path path) throws IOException {
        FileChannel ch = Uninterruptible.apply(FileChannel.open(path, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
        return new LocalWritableFile(ch);
    }

    @Override
    public WritableFile newWritableFileExclusive(Path path) throws IOException {
        // CREATE_NEW: the existence check and the creation are one atomic step (O_CREAT | O_EXCL)
        FileChannel ch = Uninterruptible.apply(FileChannel.open(path, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE));
        return new LocalWritableFile(ch);
    }

    @Override
    public ReadableFile newReadableFile(Path path) throws IOException {
        return new LocalReadableFile(Uninterruptible.apply(FileChannel.open(path, StandardOpenOption.READ)),
                path.toString());
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            // never replaces: refused here if the target exists, and by rename(2) itself (ENOTEMPTY) if a
            // non-empty one appears between this check and the move
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(source.toString(), target.toString(),
                        "a directory is renamed only to a name that does not exist");
            }
            try {
                Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileSystemException ex) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
                    FileAlreadyExistsException exists = new FileAlreadyExistsException(source.toString(),
                            target.toString(), "a directory is renamed only to a name that does not exist");
                    exists.initCause(ex);
                    throw exists;
                }
                throw ex;
            }
            return;
        }
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void link(Path from, Path to) throws IOException {
        Files.createLink(to, from);
    }

    @Override
    public void delete(Path path) throws IOException {
        Files.deleteIfExists(path);
    }

    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public long size(Path path) throws IOException {
        return Files.size(path);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        FileChannel ch;
        try {
            ch = Uninterruptible.apply(FileChannel.open(dir, StandardOpenOption.READ));
        } catch (IOException e) {
            // Some file systems refuse to open directories; nothing more we can do there.
            if (Files.isDirectory(dir)) {
                return;
            }
            throw e;
        }
        try (ch) {
            ch.force(true); // a failure here is real: an entry this sync was to make durable may be lost
        }
    }

    @Override
    public FileSystem.Lock lock(Path path) throws IOException {
        Path key = path.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            throw new IOException("lock " + path + " is already held by this process");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                throw new IOException("lock " + path + " is held by another process");
            }
            FileChannel channel = ch;
            return () -> { // an OS lock on a local disk cannot be taken away: checkHeld has nothing to check
                try {
                    lock.release();
                    channel.close();
                } finally {
                    HELD.remove(key);
                }
            };
        } catch (IOException | OverlappingFileLockException e) {
            HELD.remove(key);
            if (ch != null) {
                ch.close();
            }
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("lock " + path + " is already held by this process", e);
        }
    }

    private static final class LocalWritableFile implements WritableFile {
        private static final int BUFFER = 64 * 1024;
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
        private long size;
        /** After a failed write the buffer's state is unknown: never write it again. */
        private IOException failed;

        LocalWritableFile(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public void append(byte[] src, int off, int len) throws IOException {
            size += len;
            while (len > 0) {
                if (!buf.hasRemaining()) {
                    drain();
                }
                int n = Math.min(len, buf.remaining());
                if (n == BUFFER && buf.position() == 0) {
                    // large write: bypass the buffer
                    n = len;
                    if (failed != null) {
                        throw new IOException("an earlier write to this file failed: " + failed, failed);
                    }
                    ByteBuffer w = ByteBuffer.wrap(src, off, n);
                    try {
                        while (w.hasRemaining()) {
                            ch.write(w);
                        }
                    } catch (IOException e) {
                        failed = e;
                        throw e;
                    }
                } else {
                    buf.put(src, off, n);
                }
                off += n;
                len -= n;
            }
        }

        private void drain() throws IOException {
            if (failed != null) {
                throw new IOException("an earlier write to this file failed: " + failed, failed);
            }
            buf.flip();
            try {
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            } catch (IOException e) {
                failed = e;
                throw e;
            }
            buf.clear();
        }

        @Override
        public void flush() throws IOException {
            drain();
        }

        @Override
        public void sync() throws IOException {
            drain();
            if (failed != null) {
                throw new IOException("an earlier write or sync of this file failed: " + failed, failed);
            }
            try {
                ch.force(false);
            } catch (IOException e) {
                failed = e; // the kernel may have dropped the dirty pages: a later sync must not succeed
                throw e;
            }
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() throws IOException {
            try {
                if (failed == null) {
                    drain();
                }
            } finally {
                ch.close();
            }
        }
    }

    private static final class LocalReadableFile implements ReadableFile {
        private final FileChannel ch;
        private final String name;

        LocalReadableFile(FileChannel ch, String name) {
            this.ch = ch;
            this.name = name;
        }

        @Override
        public void readFully(long position, byte[] dst, int off, int len) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(dst, off, len);
            long p = position;
            while (b.hasRemaining()) {
                int n = ch.read(b, p);
                if (n < 0) {
                    throw new EOFException(name + ": wanted " + len + " bytes at " + position
                            + ", file has " + ch.size());
                }
                p += n;
            }
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
