package io.o3lsm.internal.db;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalIterators;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The offloaded shards of a read view as one child of an iterator's merge: the memory node merges
 * them and answers delegated scans in batches; this cursor walks each batch in place (no per-entry
 * objects) and asks for the next one from the last key it returned. A seek starts with a small
 * batch (a seek followed by a few nexts is the common case); batches double while the caller keeps
 * going in one direction, up to {@link #MAX_ENTRIES} / {@link #MAX_BYTES}. Going backwards is a
 * reverse scan on the node.
 *
 * <p>Prefetch: once the caller has gone past its first batch in one direction (it is scanning, not
 * just seeking), reaching the middle of a batch that is not the last sends the request for the next
 * one ({@link MemoryNode.Client#scanAhead}), so the node works while the caller consumes the rest.
 * A seek or a turn drops a request sent ahead (its answer is ignored); a request ahead that failed
 * is asked again the usual way.
 *
 * <p>The shards' segments are pinned for the cursor's life ({@link MemShard#pinRemote()}), so a
 * flush cannot free them under it; {@link #close()} releases them. If a scan request fails, the
 * cursor reports it ({@link Recovery}): a slow request is asked again; if the node is lost, the DB
 * rebuilds the shards from the WAL and the cursor continues, at the same position, over the rebuilt
 * copies. Not thread-safe.
 */
final class RemoteScanIterator implements InternalIterator {
    static final int FIRST_ENTRIES = 32;
    static final int FIRST_BYTES = 16 << 10;
    static final int MAX_ENTRIES = 8192;
    static final int MAX_BYTES = 1 << 20;
    /** Segments one SCAN may name (the protocol's limit). */
    static final int MAX_SHARDS_PER_SCAN = 4096;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * A scan request failed ({@code attempt} times in a row): null if it was a slow request (the
     * cursor asks again), else local iterators over the shards' rebuilt copies (the node was lost).
     */
    interface Recovery {
        InternalIterator rebuilt(List<MemShard> shards, Throwable cause, int attempt);
    }

    /** Gives the client (throws {@link DmLostException} while detached). */
    interface ClientSource {
        /** The client for one scan request over shards of {@code range}. */
        MemoryNode.Client client(int range);

        /** A scan request was answered (resets the count of consecutive failures). */
        default void succeeded() {
        }

        /** A batch asked for ahead was used. */
        default void usedAhead() {
        }
    }

    /** Frees a pinned segment of a flushed shard once the last scan of it is done. */
    interface Freer {
        void free(MemoryNode.RemoteShard rs);
    }

    private final List<MemShard> shards;
    private final List<MemoryNode.RemoteShard> remotes;
    private final ClientSource source;
    private final Recovery recovery;
    private final Freer freer;
    private InternalIterator fallback;
    private boolean closed;

    private final UnsafeBuffer batch = new UnsafeBuffer(new byte[0]);
    private final UnsafeBuffer keyView = new UnsafeBuffer(new byte[0]);
    private final UnsafeBuffer valueView = new UnsafeBuffer(new byte[0]);
    private int count;
    private boolean more;
    private boolean reverse;
    private int index;
    private int next; // offset of the entry after the current one
    private int keyOff;
    private int keyLen;
    private int entries = FIRST_ENTRIES;
    private int bytes = FIRST_BYTES;
    /** Batches fetched since the last seek or turn (1 = only the seek's). */
    private int batches;
    /** The next batch, asked for ahead; null if none. It continues from the current batch's last entry. */
    private CompletableFuture<MemoryNode.ScanBatch> ahead;

    /**
     * @param shards  offloaded shards (their remotes already pinned, in the same order as
     *                {@code remotes}), newest first
     */
    RemoteScanIterator(List<MemShard> shards, List<MemoryNode.RemoteShard> remotes, ClientSource source,
            Recovery recovery, Freer freer) {
        if (shards.isEmpty() || shards.size() != remotes.size()) {
            throw new IllegalArgumentException("expected one pinned remote per shard, found " + shards.size() + " shards, "
                    + remotes.size() + " remotes");
        }
        this.shards = shards;
        this.remotes = remotes;
        this.source = source;
        this.recovery = recovery;
        this.freer = freer;
    }

    @Override
    public boolean isValid() {
        return fallback != null ? fallback.isValid() : index < count;
    }

    @Override
    public void seekToFirst() {
        start(false, null, false);
    }

    @Override
    public void seekToLast() {
        start(true, null, false);
    }

    @Override
    public void seek(byte[] target) {
        start(false, target, false);
    }

    @Override
    public void next() {
        if (fallback != null) {
            fallback.next();
        } else if (reverse) {
            start(false, currentKey(), true); // turn around just after the current key
        } else {
            step();
        }
    }

    @Override
    public void prev() {
        if (fallback != null) {
            fallback.prev();
        } else if (!reverse) {
            start(true, currentKey(), true);
        } else {
            step();
        }
    }

    @Override
    public DirectBuffer key() {
        return fallback != null ? fallback.key() : keyView;
    }

    @Override
    public DirectBuffer value() {
        return fallback != null ? fallback.value() : valueView;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ahead = null; // its answer, if it comes, is dropped
        RuntimeException failure = null;
        try {
            if (fallback != null) {
                fallback.close();
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        for (int i = 0; i < shards.size(); i++) { // every pin is released, whatever fails
            try {
                MemoryNode.RemoteShard rs = shards.get(i).unpinRemote(remotes.get(i));
                if (rs != null) {
                    freer.free(rs);
                }
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A new scan in one direction: small first batch. After a failure, only the rebuilt copies are read. */
    private void start(boolean rev, byte[] from, boolean exclusive) {
        if (fallback != null) {
            InternalIterators.position(fallback, rev, from, exclusive);
            return;
        }
        entries = FIRST_ENTRIES;
        bytes = FIRST_BYTES;
        ahead = null; // a request sent ahead continues the old position: its answer is dropped
        batches = 0;
        fetch(rev, from, exclusive);
    }

    /** Moves on within the batch, or fetches the next batch after the current key. */
    private void step() {
        if (index + 1 < count) {
            index++;
            parse(next);
            if (index == count / 2 && more && batches > 1 && ahead == null) {
                askAhead();
            }
            return;
        }
        if (!more) {
            index = count; // exhausted
            return;
        }
        entries = Math.min(MAX_ENTRIES, entries * 2);
        bytes = Math.min(MAX_BYTES, bytes * 2);
        if (ahead != null) {
            CompletableFuture<MemoryNode.ScanBatch> f = ahead;
            ahead = null;
            MemoryNode.ScanBatch b = null;
            try {
                b = f.get(2, TimeUnit.MINUTES); // the client's own deadline ends it well before
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            } catch (Exception ex) {
                // failed or timed out: asked again below, where failures are handled
            }
            if (b != null) {
                source.succeeded();
                source.usedAhead();
                take(b, reverse);
                return;
            }
        }
        fetch(reverse, currentKey(), true); // from the current batch's last entry
    }

    /** Sends the request for the batch after the current one (from its last entry, exclusive). */
    private void askAhead() {
        int lastOff = -1;
        for (int off = next, i = index + 1; i < count; i++) { // walk to the batch's last entry
            lastOff = off;
            int kl = batch.getInt(off, LE);
            off += 4 + kl;
            off += 4 + batch.getInt(off, LE);
        }
        byte[] last = lastOff < 0 ? currentKey()
                : Arrays.copyOfRange(batch.byteArray(), lastOff + 4, lastOff + 4 + batch.getInt(lastOff, LE));
        try {
            ahead = source.client(shards.get(0).range).scanAhead(remotes, last, reverse, true,
                    Math.min(MAX_ENTRIES, entries * 2), Math.min(MAX_BYTES, bytes * 2));
        } catch (RuntimeException ex) {
            ahead = null; // detached or refused: the batch is asked for when it is needed
        }
    }

    private byte[] currentKey() {
        if (index >= count) {
            throw new IllegalStateException("iterator is not positioned");
        }
        return Arrays.copyOfRange(batch.byteArray(), keyOff, keyOff + keyLen);
    }

    private void fetch(boolean rev, byte[] from, boolean exclusive) {
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
        MemoryNode.ScanBatch b;
        for (int attempt = 1;; attempt++) {
            try {
                b = source.client(shards.get(0).range).scan(remotes, from, rev, exclusive, entries, bytes);
                source.succeeded();
                break;
            } catch (IOException | DmLostException e) {
                // a slow request is asked again; if the node is lost (or cannot serve these segments
                // again and again), continue over copies rebuilt from the WAL (an interrupted caller
                // gets an exception instead; see DmRecovery.failed)
                InternalIterator rebuilt = recovery.rebuilt(shards, e, attempt);
                if (rebuilt == null) {
                    continue;
                }
                fallback = rebuilt;
                InternalIterators.position(fallback, rev, from, exclusive);
                count = 0;
                index = 0;
                return;
            }
        }
        take(b, rev);
    }

    private void take(MemoryNode.ScanBatch b, boolean rev) {
        batch.wrap(b.entries());
        count = b.count();
        more = b.more();
        reverse = rev;
        index = 0;
        batches++;
        if (count > 0) {
            parse(0);
        }
    }

    /** Points the key and value views at the entry at {@code off} (lengths were checked on receipt). */
    private void parse(int off) {
        keyLen = batch.getInt(off, LE);
        keyOff = off + 4;
        int valueLen = batch.getInt(keyOff + keyLen, LE);
        int valueOff = keyOff + keyLen + 4;
        keyView.wrap(batch, keyOff, keyLen);
        valueView.wrap(batch, valueOff, valueLen);
        next = valueOff + valueLen;
    }
}
