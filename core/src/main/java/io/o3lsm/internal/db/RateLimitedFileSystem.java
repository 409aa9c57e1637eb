package io.o3lsm.internal.db;

import io.o3lsm.RateLimiter;
import io.o3lsm.spi.FileSystem;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The file system a local flush or compaction job writes its tables through when
 * {@code Options.rateLimiter} is set: every {@link WritableFile#append} first asks the limiter for its
 * bytes (a flush's pass at once, a compaction's may sleep); everything else — reads included — goes
 * straight to the DB's file system. Only jobs are given it: the WAL and the MANIFEST never see it.
 * Thread-safe as the inner file system is; each file it returns is as thread-safe as the inner one's.
 */
final class RateLimitedFileSystem implements FileSystem {
    private final FileSystem inner;
    private final RateLimiter limiter;
    private final boolean flush;
    private final EngineStats stats;

    /** True once the DB closes: a waiting compaction write gives up (a compaction failing while closing is only logged). */
    private final java.util.function.BooleanSupplier closing;

    RateLimitedFileSystem(FileSystem inner, RateLimiter limiter, boolean flush, EngineStats stats,
            java.util.function.BooleanSupplier closing) {
        this.closing = closing;
        this.inner = inner;
        this.limiter = limiter;
        this.flush = flush;
        this.stats = stats;
    }

    private WritableFile limited(WritableFile f) {
        return new WritableFile() {
            @Override
            public void append(byte[] src, int off, int len) throws IOException {
                long slept = limiter.request(len, flush, closing);
                if (Thread.currentThread().isInterrupted()) {
                    throw new java.io.InterruptedIOException("interrupted waiting for the rate limiter");
                }
                if (!flush && closing.getAsBoolean()) {
                    throw new IOException("the DB is closing: the compaction's write stops waiting for the rate limiter");
                }
                if (slept > 0) {
                    stats.rateLimitThrottledBytes.add(len);
                    stats.rateLimitWaitNanos.add(slept);
                }
                f.append(src, off, len);
            }

            @Override
            public void flush() throws IOException {
                f.flush();
            }

            @Override
            public void sync() throws IOException {
                f.sync();
            }

            @Override
            public long size() {
                return f.size();
            }

            @Override
            public void close() throws IOException {
                f.close();
            }
        };
    }

    @Override
    public WritableFile newWritableFile(Path path) throws IOException {
        return limited(inner.newWritableFile(path));
    }

    @Override
    public WritableFile newWritableFileExclusive(Path path) throws IOException {
        return limited(inner.newWritableFileExclusive(path));
    }

    @Override
    public URI uri(Path path) {
        return inner.uri(path);
    }

    @Override
    public boolean isLocal() {
        return inner.isLocal();
    }

    @Override
    public void recoverLease(Path path) throws IOException {
        inner.recoverLease(path);
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
}
