package io.o3lsm.internal.db;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.version.FileMetaData;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * Concatenation of the disjoint, sorted files of one level (or a single file), opening each file's
 * iterator only when reached. Pins the current file's reader through the {@link TableCache}. Not
 * thread-safe.
 */
final class LevelIterator implements InternalIterator {
    private final TableCache cache;
    private final List<FileMetaData> files;
    private final boolean fillCache;
    private final boolean verify;
    private int index = -1;
    private TableCache.Handle handle;
    private InternalIterator current;

    LevelIterator(TableCache cache, List<FileMetaData> files, boolean fillCache, boolean verify) {
        this.cache = cache;
        this.files = files;
        this.fillCache = fillCache;
        this.verify = verify;
    }

    private void open(int i) {
        if (i == index && current != null) {
            return;
        }
        closeCurrent();
        index = i;
        if (i < 0 || i >= files.size()) {
            return;
        }
        handle = cache.acquire(files.get(i).number);
        current = handle.reader.iterator(fillCache, verify);
    }

    private void closeCurrent() {
        if (current != null) {
            current.close();
            current = null;
        }
        if (handle != null) {
            handle.release();
            handle = null;
        }
    }

    @Override
    public boolean isValid() {
        return current != null && current.isValid();
    }

    @Override
    public void seekToFirst() {
        open(0);
        if (current != null) {
            current.seekToFirst();
        }
        skipForward();
    }

    @Override
    public void seekToLast() {
        open(files.size() - 1);
        if (current != null) {
            current.seekToLast();
        }
        skipBackward();
    }

    @Override
    public void seek(byte[] target) {
        // first file whose largest key >= target
        int lo = 0;
        int hi = files.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (InternalKey.compare(files.get(mid).largest, target) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        open(lo);
        if (current != null) {
            current.seek(target);
        }
        skipForward();
    }

    @Override
    public void next() {
        current.next();
        skipForward();
    }

    @Override
    public void prev() {
        current.prev();
        skipBackward();
    }

    private void skipForward() {
        while (current != null && !current.isValid()) {
            if (index + 1 >= files.size()) {
                closeCurrent();
                index = files.size();
                return;
            }
            open(index + 1);
            current.seekToFirst();
        }
    }

    private void skipBackward() {
        while (current != null && !current.isValid()) {
            if (index - 1 < 0) {
                closeCurrent();
                index = -1;
                return;
            }
            open(index - 1);
            current.seekToLast();
        }
    }

    @Override
    public DirectBuffer key() {
        return current.key();
    }

    @Override
    public DirectBuffer value() {
        return current.value();
    }

    @Override
    public void close() {
        closeCurrent();
    }
}
