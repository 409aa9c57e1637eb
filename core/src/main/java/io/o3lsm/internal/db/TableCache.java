package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.internal.table.TableReader;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open {@link TableReader}s by file number, opened on first use. Thread-safe. In "Core engine I"
 * no live file is ever deleted while the DB is open, so readers stay open until {@link #close()};
 * a bounded cache with eviction and reference counts comes with compaction.
 */
final class TableCache implements AutoCloseable {
    private final FileSystem fs;
    private final Path dir;
    private final ConcurrentHashMap<Long, TableReader> readers = new ConcurrentHashMap<>();

    TableCache(FileSystem fs, Path dir) {
        this.fs = fs;
        this.dir = dir;
    }

    TableReader get(FileMetaData f) {
        TableReader r = readers.get(f.number);
        if (r != null) {
            return r;
        }
        return readers.computeIfAbsent(f.number, n -> {
            Path p = dir.resolve(FileNames.table(n));
            FileSystem.ReadableFile file = null;
            try {
                file = fs.newReadableFile(p);
                return TableReader.open(file, p.toString(), n);
            } catch (IOException e) {
                closeQuietly(file);
                throw new O3Exception("cannot open table " + p + ": " + e, e);
            } catch (RuntimeException e) {
                closeQuietly(file);
                throw e;
            }
        });
    }

    void evict(long number) {
        TableReader r = readers.remove(number);
        if (r != null) {
            closeQuietly(r);
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
        for (Long n : readers.keySet()) {
            evict(n);
        }
    }
}
