package io.o3lsm.internal.db;

import io.o3lsm.internal.format.InternalIterator;
import io.o3lsm.internal.format.InternalKey;
import io.o3lsm.internal.format.RangeTombstone;
import io.o3lsm.internal.table.TableOptions;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;
import org.agrona.DirectBuffer;

/**
 * One flush: the sealed shards of one key range (possibly several generations) merged into L0 SSTs.
 * A pure function of its inputs plus the file numbers it is handed: shards in, files out; the caller
 * installs them with a VersionEdit. For each user key it keeps the newest entry of every snapshot
 * stripe (the newest entry, plus the newest one visible to each live snapshot). Tombstones and range
 * tombstones are kept: older versions may live in older SSTs. Outputs are cut by
 * {@link OutputBuilder}.
 */
final class FlushJob {
    private final OutputBuilder out;
    /** Set before the edit is handed to the MANIFEST: from then on a failure must not delete outputs. */
    volatile boolean installStarted;

    FlushJob(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones) {
        this.out = new OutputBuilder(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones);
    }

    /**
     * @param sources   iterators over the input shards, newest first
     * @param snapshots sequences that must stay readable (live snapshots and the published last
     *                  sequence), ascending
     */
    List<FileMetaData> run(List<InternalIterator> sources, long[] snapshots) throws IOException {
        try (MergingIterator it = new MergingIterator(sources)) {
            it.seekToFirst();
            byte[] prevUser = new byte[64];
            int prevUserLen = -1;
            int prevStripe = -1;
            while (it.isValid()) {
                DirectBuffer k = it.key();
                int klen = k.capacity();
                int ulen = klen - InternalKey.TRAILER_SIZE;
                long trailer = InternalKey.trailer(k, 0, klen);
                if (InternalKey.typeOf(trailer) == InternalKey.TYPE_RANGE_DELETION) {
                    it.next(); // range tombstones travel separately (MemShard keeps them)
                    continue;
                }
                int stripe = stripe(InternalKey.sequenceOf(trailer), snapshots);
                boolean sameUser = OutputBuilder.sameUserKey(k, ulen, prevUser, prevUserLen);
                if (sameUser && stripe == prevStripe) {
                    it.next(); // shadowed by a newer entry no reader can tell apart
                    continue;
                }
                if (!sameUser) {
                    if (prevUser.length < ulen) {
                        prevUser = new byte[Math.max(ulen, prevUser.length * 2)];
                    }
                    k.getBytes(0, prevUser, 0, ulen);
                    prevUserLen = ulen;
                    if (out.wantsCut()) {
                        out.cut(java.util.Arrays.copyOf(prevUser, ulen));
                    }
                }
                prevStripe = stripe;
                out.add(k, klen, it.value());
                it.next();
            }
        }
        return out.finish();
    }

    /** Index of the first snapshot ≥ seq (snapshots.length if none): entries in one stripe look alike. */
    static int stripe(long seq, long[] snapshots) {
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

    /** Deletes whatever this job wrote; used when it failed before install. */
    void abandon() {
        out.abandon();
    }
}
