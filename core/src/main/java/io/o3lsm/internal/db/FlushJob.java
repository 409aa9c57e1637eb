package io.o3lsm.internal.db;

import io.o3lsm.internal.format.InternalIterator;
import io.o3lsm.internal.format.InternalKey;
import io.o3lsm.internal.table.TableBuilder;
import io.o3lsm.internal.table.TableOptions;
import io.o3lsm.internal.table.TableProperties;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.agrona.DirectBuffer;

/**
 * One flush: the sealed shards of one key range (possibly several generations) merged into L0 SSTs.
 * A pure function of its inputs plus the file numbers it is handed: shards in, files out; the caller
 * installs them with a VersionEdit. For each user key it keeps the newest entry, plus the newest entry
 * visible to each live snapshot (none exist in "Core engine I": pass an empty array). Tombstones are
 * kept: older versions may live in older SSTs. Outputs are cut near the target size at user-key
 * boundaries, so the files of one flush never overlap. Outputs are synced before being returned.
 */
final class FlushJob {
    private final FileSystem fs;
    private final Path dir;
    private final TableOptions tableOptions;
    private final long targetFileSize;
    private final LongSupplier fileNumbers;
    /** Set before the edit is handed to the MANIFEST: from then on a failure must not delete outputs. */
    volatile boolean installStarted;
    /** Numbers of files this job created (for cleanup if it fails). */
    final List<Long> created = new ArrayList<>();

    FlushJob(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers) {
        this.fs = fs;
        this.dir = dir;
        this.tableOptions = tableOptions;
        this.targetFileSize = targetFileSize;
        this.fileNumbers = fileNumbers;
    }

    /**
     * @param sources   iterators over the input shards, newest first
     * @param snapshots live snapshot sequences, ascending
     */
    List<FileMetaData> run(List<InternalIterator> sources, long[] snapshots) throws IOException {
        List<FileMetaData> out = new ArrayList<>();
        try (MergingIterator it = new MergingIterator(sources)) {
            it.seekToFirst();
            byte[] prevUser = new byte[64];
            int prevUserLen = -1;
            int prevStripe = -1;
            Output cur = null;
            while (it.isValid()) {
                DirectBuffer k = it.key();
                int klen = k.capacity();
                int ulen = klen - InternalKey.TRAILER_SIZE;
                long seq = InternalKey.sequenceOf(InternalKey.trailer(k, 0, klen));
                int stripe = stripe(seq, snapshots);
                boolean sameUser = prevUserLen == ulen && Bytes.compare(k, 0, ulen, prevUser, 0, prevUserLen) == 0;
                if (sameUser && stripe == prevStripe) {
                    it.next(); // shadowed by a newer entry no snapshot can tell apart
                    continue;
                }
                if (!sameUser) {
                    if (cur != null && cur.builder.estimatedFileSize() >= targetFileSize) {
                        out.add(cur.finish());
                        cur = null;
                    }
                    if (prevUser.length < ulen) {
                        prevUser = new byte[Math.max(ulen, prevUser.length * 2)];
                    }
                    k.getBytes(0, prevUser, 0, ulen);
                    prevUserLen = ulen;
                }
                prevStripe = stripe;
                if (cur == null) {
                    cur = new Output(fileNumbers.getAsLong());
                }
                DirectBuffer v = it.value();
                cur.builder.add(k, 0, klen, v, 0, v.capacity());
                it.next();
            }
            if (cur != null) {
                out.add(cur.finish());
            }
        }
        if (!out.isEmpty()) {
            fs.syncDirectory(dir);
        }
        return out;
    }

    /** Index of the first snapshot ≥ seq (snapshots.length if none): entries in one stripe look alike. */
    private static int stripe(long seq, long[] snapshots) {
        int lo = 0;
        int hi = snapshots.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (snapshots[mid] < seq) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Deletes whatever this job wrote; used when it failed. */
    void abandon() {
        for (long n : created) {
            try {
                fs.delete(dir.resolve(FileNames.table(n)));
            } catch (IOException ignored) {
                // orphans are also collected at the next open
            }
        }
    }

    private final class Output {
        final long number;
        final FileSystem.WritableFile file;
        final TableBuilder builder;

        Output(long number) throws IOException {
            this.number = number;
            created.add(number);
            Path p = dir.resolve(FileNames.table(number));
            this.file = fs.newWritableFile(p);
            this.builder = new TableBuilder(file, p.toString(), tableOptions);
        }

        FileMetaData finish() throws IOException {
            TableProperties props = builder.finish();
            file.sync();
            file.close();
            return new FileMetaData(number, props.fileSize(), props.smallestKey(), props.largestKey(),
                    props.smallestSequence(), props.largestSequence());
        }
    }
}
