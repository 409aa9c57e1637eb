package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.format.table.BlockCache;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open {@link TableReader}s by file number, at most about {@code capacity} of them. Readers are
 * reference counted: {@link #acquire} pins one until {@link Handle#release()}, so eviction (for
 * capacity, or because the file was deleted) closes a reader only after its last user is done.
 * Thread-safe and lock-free on the hit path.
 */
final class TableCache implements AutoCloseable {
    private final FileSystem fs;
    private final Path dir;
    private final int capacity;
    private final BlockCache blockCache;
    private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
    private final AtomicLong clock = new AtomicLong();
    private volatile boolean closed;

    /** A pinned reader. */
    final class Handle {
        final TableReader reader;
        final long number;
        /** One reference for the cache while mapped, one per user. */
        private final AtomicInteger refs = new AtomicInteger(1);
        volatile long lastUsed;

        Handle(TableReader reader, long number) {
            this.reader = reader;
            this.number = number;
        }

        boolean tryRef() {
            while (true) {
                int n = refs.get();
                if (n == 0) {
                    return false;
                }
                if (refs.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        void release() {
            if (refs.decrementAndGet() == 0) {
                try {
                    reader.close();
                } catch (IOException ignored) {
                    // a read-only file; nothing to lose
                }
            }
        }
    }

    TableCache(FileSystem fs, Path dir, int capacity, BlockCache blockCache) {
        this.fs = fs;
        this.dir = dir;
        this.capacity = capacity;
        this.blockCache = blockCache;
    }

    /** Pins the reader of table {@code number}, opening it if needed. Release the handle after use. */
    Handle acquire(long number) {
        while (true) {
            if (closed) {
                throw new io.o3lsm.DBClosedException("the DB is closed (table cache shut down)");
            }
            Handle h = handles.get(number);
            if (h == null) {
                Handle opened = open(number);
                Handle raced = handles.putIfAbsent(number, opened);
                if (raced != null) {
                    opened.release(); // someone else opened it first
                    continue;
                }
                h = opened;
                if (closed && handles.remove(number, h)) {
                    h.release(); // raced with close(): do not leave an open reader behind
                    continue;
                }
                if (handles.size() > capacity) {
                    shrink();
                }
            }
            if (h.tryRef()) {
                h.lastUsed = clock.incrementAndGet();
                return h;
            }
            handles.remove(number, h); // released concurrently; drop and retry
        }
    }

    private Handle open(long n) {
        Path p = dir.resolve(FileNames.table(n));
        FileSystem.ReadableFile file = null;
        try {
            file = fs.newReadableFile(p);
            return new Handle(TableReader.open(file, p.toString(), n, blockCache), n);
        } catch (IOException e) {
            closeQuietly(file);
            throw new O3Exception("cannot open table " + p + ": " + e, e);
        }
    }

    /** Evicts the least recently used quarter of unpinned-or-not readers beyond capacity. */
    private synchronized void shrink() {
        int excess = handles.size() - capacity;
        if (excess <= 0) {
            return;
        }
        List<Handle> all = new ArrayList<>(handles.values());
        all.sort((a, b) -> Long.compare(a.lastUsed, b.lastUsed));
        int n = Math.max(excess, capacity / 4);
        for (int i = 0; i < n && i < all.size(); i++) {
            Handle h = all.get(i);
            if (handles.remove(h.number, h)) {
                h.release();
            }
        }
    }

    /** The file is gone (or going): forget its reader and its cached blocks. */
    void evict(long number) {
        Handle h = handles.remove(number);
        if (h != null) {
            h.release();
        }
        if (blockCache != null) {
            blockCache.eraseFile(number);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a reader we are discarding
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Long n : new ArrayList<>(handles.keySet())) {
            Handle h = handles.remove(n);
            if (h != null) {
                h.release();
            }
        }
    }
}
