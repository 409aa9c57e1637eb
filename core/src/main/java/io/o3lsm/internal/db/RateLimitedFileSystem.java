package io.o3lsm.internal.db;

import io.o3lsm.RateLimiter;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.FileSystemWrapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The file system a local flush or compaction job writes its tables through when
 * {@code Options.rateLimiter} is set: every {@link WritableFile#append} first asks the limiter for its
 * bytes (a flush's pass at once, a compaction's may sleep); everything else — reads included — goes
 * straight to the DB's file system. Only jobs are given it: the WAL and the MANIFEST never see it.
 * Thread-safe as the inner file system is; each file it returns is as thread-safe as the inner one's.
 */
final class RateLimitedFileSystem extends FileSystemWrapper {
    private final RateLimiter limiter;
    private final boolean flush;
    private final EngineStats stats;

    /** True once the DB closes: a waiting compaction write gives up (a compaction failing while closing is only logged). */
    private final java.util.function.BooleanSupplier closing;

    RateLimitedFileSystem(FileSystem inner, RateLimiter limiter, boolean flush, EngineStats stats,
            java.util.function.BooleanSupplier closing) {
        super(inner);
        this.closing = closing;
        this.limiter = limiter;
        this.flush = flush;
        this.stats = stats;
    }

    private WritableFile limited(WritableFile f) {
        return new WritableFileWrapper(f) {
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
                inner.append(src, off, len);
            }
        };
    }

    @Override
    protected WritableFile wrap(Path path, WritableFile file) {
        return limited(file);
    }
}
