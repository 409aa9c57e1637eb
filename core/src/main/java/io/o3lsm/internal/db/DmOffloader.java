package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.internal.util.OwnedThreads;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * DM mode, the normal path: ships sealed shards to the memory node (asynchronously, a bounded
 * number in flight, within the DM budget), records the completions, reads offloaded shards back for
 * a flush, builds the delegated-scan children of iterators, and frees segments a flush retired.
 * Node loss is {@link DmRecovery}'s.
 *
 * <p>Locks: {@link #link} is set once at open (volatile, null in embedded mode). The shard fields it
 * changes ({@code offloading}, {@code remote}) are guarded by {@code Engine.mutex}; methods say
 * whether they require it.
 */
final class DmOffloader {
    private final Engine e;
    /** The memory-node attachment; null in embedded mode. */
    private volatile DmLink link;
    /**
     * The DB's own thread for offload work ({@code "o3lsm-dm-offload-<n> <db directory>"}): the
     * CRC32C of each shard before it ships, and each completion (bloom filter, installing the remote
     * copy). Started by {@link #attach}, stopped and joined by {@link #close}. Nothing runs on the
     * common pool.
     */
    private volatile ExecutorService exec;
    private volatile OwnedThreads threads;

    DmOffloader(Engine e) {
        this.e = e;
    }

    /** Open: starts the offload thread and attaches to the memory node. */
    void attach(DmLink l) {
        OwnedThreads t = new OwnedThreads("o3lsm-dm-offload", e.dir.toString());
        this.threads = t;
        this.exec = Executors.newSingleThreadExecutor(t);
        this.link = l;
    }

    /** The attachment, or null in embedded mode. Any thread. */
    DmLink link() {
        return link;
    }

    /**
     * REQUIRES: mutex held. Ships sealed, local, not yet offloaded shards (oldest first) within the
     * limits. Ships nothing with {@code Options.memtableOffload(false)}: the link then serves the
     * coordinator only, no shard gets a remote copy, so no read is delegated and every flush reads
     * local shards.
     */
    void offloadSealed() {
        DmLink l = link;
        if (l == null || !e.options.memtableOffload() || !l.connected() || e.closing || e.bgError != null) {
            return;
        }
        int inflight = 0;
        SuperVersion cur = e.sv;
        for (MemShard[] list : cur.sealed) {
            for (MemShard m : list) {
                if (m.offloading) {
                    inflight++;
                }
            }
        }
        for (MemShard[] list : cur.sealed) {
            for (int i = list.length - 1; i >= 0; i--) {
                MemShard m = list[i];
                if (inflight >= e.options.offloadInflightLimit()) {
                    return;
                }
                MemtableShard local = m.shard;
                if (m.offloading || m.remote != null || local == null || !local.isSealed()) {
                    continue;
                }
                int used = local.usedBytes();
                if (l.used() + used > e.options.dmBudget()) {
                    return;
                }
                m.offloading = true;
                inflight++;
                l.addUsed(used);
                AtomicBuffer ab = local.buffer();
                ByteBuffer bb = ab.byteBuffer().duplicate();
                bb.clear();
                bb.position(ab.wrapAdjustment());
                bb.limit(ab.wrapAdjustment() + used);
                ByteBuffer view = bb.slice();
                MemoryNode.Client c;
                try {
                    c = l.client();
                } catch (DmLostException ex) {
                    m.offloading = false;
                    l.addUsed(-used);
                    return;
                }
                ShardReader rd = m.reader;
                ExecutorService x = exec;
                try {
                    // the CRC32C of the shard (about 1 MiB) is computed off the writer's path and the mutex
                    CompletableFuture.supplyAsync(rd::checksum, x)
                            .thenComposeAsync(crc -> c.offload(view, used, crc, m.layout.shardId(m.range), m.minSequence,
                                    m.maxSequence), x)
                            // (async: never on the writer's thread, which holds the mutex here)
                            // completions arrive on the transport's progress thread: hand them off
                            .whenCompleteAsync((rs, err) -> offloaded(m, used, rs, err), x);
                } catch (RejectedExecutionException ex) {
                    m.offloading = false; // closing
                    l.addUsed(-used);
                    return;
                }
            }
        }
    }

    /**
     * REQUIRES: mutex held. True while a sealed shard of the view is being shipped to a memory node
     * that is attached and whose requests are not failing: its completion, within one request
     * timeout, lets a writer short of memory drop the local copy ({@code MemtableSet.reserve}).
     */
    boolean offloadInFlight() {
        DmLink l = link;
        if (l == null || !e.options.memtableOffload() || !l.connected() || l.failing()) {
            return false;
        }
        for (MemShard[] list : e.sv.sealed) {
            for (MemShard m : list) {
                if (m.offloading) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * How long a writer short of memory waits for offloads in flight before it forces a flush: one
     * request timeout ({@code Options.dmRequestTimeout}), within which an offload completes or fails.
     */
    long offloadWaitNanos() {
        return e.options.dmRequestTimeout().toNanos();
    }

    /** Completion of one offload (any thread, mutex not held). */
    private void offloaded(MemShard m, int used, MemoryNode.RemoteShard rs, Throwable err) {
        DmLink l = link;
        boolean freeIt = false;
        if (err == null && rs != null) {
            try {
                m.buildBloom(); // before the local copy may be dropped; not on the writer's path
                e.readCache.admit(m);
            } catch (RuntimeException | OutOfMemoryError ex) {
                // reads of this shard then go without a table (or a bloom filter): still right, slower
                Engine.LOG.warning("indexing an offloaded shard of range " + m.range + " failed: " + ex);
            }
        }
        e.mutex.lock();
        try {
            m.offloading = false;
            if (err != null || rs == null) {
                if (l != null) {
                    // the local copy stays; the client has fenced any RMA before it frees the segment
                    l.addUsed(-used);
                    Engine.LOG.fine("offload of a shard of range " + m.range + " failed: " + err);
                }
                e.bgChanged.signalAll(); // a writer waiting for this offload forces a flush now
                return;
            }
            e.memtables.offloadArrived(); // the node completes offloads again
            if (e.memtables.stillSealed(Collections.singleton(m)) && !e.closing) {
                m.remote = rs;
                e.stats.offloads.increment();
                e.stats.offloadBytes.add(used);
            } else {
                freeIt = true; // flushed (or closing) meanwhile
                e.readCache.release(m); // and its table with it
            }
            e.bgChanged.signalAll(); // a writer waiting for memory may drop the local copy now
            offloadSealed();
        } finally {
            e.mutex.unlock();
        }
        if (freeIt && l != null) {
            l.free(rs);
        }
    }

    /**
     * For flush, mutex not held: an iterator over a shard's local arena, or (offloaded) over a copy
     * read back from the node and checked against the shard's CRC32C. A failed or damaged read-back
     * is a {@link DmLostException} (stale if the shard was flushed meanwhile).
     */
    InternalIterator shardIterator(MemShard s) {
        ShardReader rd = s.reader;
        if (rd != null) {
            return rd.iterator();
        }
        MemoryNode.RemoteShard rs = s.remote;
        DmLink l = link;
        if (rs == null || l == null) {
            throw new DmLostException("shard of range " + s.range + " is neither local nor remote");
        }
        // the copy counts in the memory budget until the flush closes its iterator
        long len = rs.length();
        e.mutex.lock();
        try {
            e.memtables.addReadBack(len);
        } finally {
            e.mutex.unlock();
        }
        boolean handedOut = false;
        ByteBuffer buf = null;
        try {
            buf = ByteBuffer.allocateDirect(rs.length());
            SuperVersion before = e.sv;
            try {
                // a timed-out read-back may still write into buf: the client keeps it reachable until
                // the RMA operation completes or its endpoint is closed
                l.client().readBack(rs, buf);
            } catch (IOException | RuntimeException ex) {
                boolean stale = !e.memtables.stillSealedNow(s) || e.sv != before;
                DmLostException lost = new DmLostException("reading shard " + rs.segmentId() + " back failed: " + ex,
                        stale);
                if (!stale) {
                    lost.attempt = ++s.readBackFailures;
                }
                throw lost;
            }
            int crc = Crc32c.value(buf.duplicate().clear().limit(rs.length()));
            if (crc != rs.checksum()) {
                // the node's copy is damaged or is not this shard: the WAL still has it (this shard only)
                throw new DmLostException("shard " + rs.segmentId() + " read back from the memory node has CRC32C 0x"
                        + Integer.toHexString(crc) + ", offloaded with 0x" + Integer.toHexString(rs.checksum()), false,
                        s);
            }
            s.readBackFailures = 0;
            l.succeeded();
            InternalIterator it = new ShardReader(new UnsafeBuffer(buf, 0, rs.length()), "DM segment "
                    + rs.segmentId()).iterator();
            handedOut = true;
            ByteBuffer held = buf;
            return new ReleasingIterator(it, () -> releaseReadBack(held, len));
        } finally {
            if (!handedOut) {
                releaseReadBack(buf, len);
            }
        }
    }

    private void releaseReadBack(ByteBuffer buf, long len) {
        if (buf != null) {
            e.memtables.awaitGc(buf, len);
        }
        e.mutex.lock();
        try {
            e.memtables.release(len);
            e.bgChanged.signalAll();
        } finally {
            e.mutex.unlock();
        }
    }

    /** An iterator that runs {@code onClose} once when closed (releases a read-back copy from the account). */
    private static final class ReleasingIterator implements InternalIterator {
        private final InternalIterator in;
        private Runnable onClose;

        ReleasingIterator(InternalIterator in, Runnable onClose) {
            this.in = in;
            this.onClose = onClose;
        }

        @Override
        public boolean isValid() {
            return in.isValid();
        }

        @Override
        public void seekToFirst() {
            in.seekToFirst();
        }

        @Override
        public void seekToLast() {
            in.seekToLast();
        }

        @Override
        public void seek(byte[] target) {
            in.seek(target);
        }

        @Override
        public void next() {
            in.next();
        }

        @Override
        public void prev() {
            in.prev();
        }

        @Override
        public org.agrona.DirectBuffer key() {
            return in.key();
        }

        @Override
        public org.agrona.DirectBuffer value() {
            return in.value();
        }

        @Override
        public void close() {
            try {
                in.close();
            } finally {
                Runnable r = onClose;
                onClose = null;
                if (r != null) {
                    r.run();
                }
            }
        }
    }

    /**
     * The offloaded shards of an iterator's view (pinned, grouped by range in ascending order): per
     * range one child whose shards the memory node merges and scans, concatenated across ranges so
     * a seek involves one range's shards only.
     */
    InternalIterator offloadedShardsIterator(List<MemShard> offloaded, List<MemoryNode.RemoteShard> pinned) {
        RemoteScanIterator.ClientSource source = new RemoteScanIterator.ClientSource() {
            @Override
            public MemoryNode.Client client(int range) {
                DmLink l = link;
                if (l == null) {
                    throw new DmLostException("not attached to a memory node");
                }
                e.stats.delegatedScans.increment();
                e.flushes.remoteRead(range, FlushScheduler.SCAN_WEIGHT);
                return l.client();
            }

            @Override
            public void succeeded() {
                DmLink l = link;
                if (l != null) {
                    l.succeeded();
                }
            }

            @Override
            public void usedAhead() {
                e.stats.scanBatchesAhead.increment();
            }
        };
        // per layout (after the boundaries moved, older shards keep theirs), merged
        List<ShardRanges> layouts = new ArrayList<>();
        for (MemShard m : offloaded) {
            if (!layouts.contains(m.layout)) {
                layouts.add(m.layout);
            }
        }
        if (layouts.size() == 1) {
            return layoutIterator(offloaded, pinned, layouts.get(0), source);
        }
        List<InternalIterator> perLayout = new ArrayList<>();
        try {
            for (ShardRanges layout : layouts) {
                List<MemShard> shards = new ArrayList<>();
                List<MemoryNode.RemoteShard> pins = new ArrayList<>();
                for (int i = 0; i < offloaded.size(); i++) {
                    if (offloaded.get(i).layout == layout) {
                        shards.add(offloaded.get(i));
                        pins.add(pinned.get(i));
                    }
                }
                perLayout.add(layoutIterator(shards, pins, layout, source));
            }
        } catch (RuntimeException | Error ex) {
            for (InternalIterator it : perLayout) {
                it.close();
            }
            throw ex;
        }
        return new MergingIterator(perLayout);
    }

    /** {@link #offloadedShardsIterator} for the shards of one layout, in ascending range order. */
    private InternalIterator layoutIterator(List<MemShard> offloaded, List<MemoryNode.RemoteShard> pinned,
            ShardRanges layout, RemoteScanIterator.ClientSource source) {
        List<InternalIterator> perRange = new ArrayList<>();
        List<Integer> rangeIds = new ArrayList<>();
        for (int from = 0; from < offloaded.size();) {
            int r = offloaded.get(from).range;
            int to = from;
            while (to < offloaded.size() && offloaded.get(to).range == r) {
                to++;
            }
            // one SCAN names at most MAX_SHARDS_PER_SCAN segments: a longer run is merged here
            List<InternalIterator> groups = new ArrayList<>();
            for (int g = from; g < to; g += RemoteScanIterator.MAX_SHARDS_PER_SCAN) {
                int ge = Math.min(to, g + RemoteScanIterator.MAX_SHARDS_PER_SCAN);
                groups.add(new RemoteScanIterator(new ArrayList<>(offloaded.subList(g, ge)),
                        new ArrayList<>(pinned.subList(g, ge)), source, this::rebuiltScan, this::freeRemote));
            }
            perRange.add(groups.size() == 1 ? groups.get(0) : new MergingIterator(groups));
            rangeIds.add(r);
            from = to;
        }
        if (perRange.size() == 1) {
            return perRange.get(0);
        }
        return new RangeConcatIterator(perRange, rangeIds.stream().mapToInt(Integer::intValue).toArray(), layout);
    }

    /** Frees a flushed shard's segment on the node (null: nothing to free). Any thread. */
    void freeRemote(MemoryNode.RemoteShard rs) {
        DmLink l = link;
        if (rs != null && l != null) {
            l.free(rs);
        }
    }

    /**
     * A delegated scan failed ({@code attempt}: how many times in a row this scan's request failed):
     * {@link DmRecovery#failed} decides. Null for a slow request (the scan retries it); otherwise
     * iterators over the shards' rebuilt copies (or their local arenas, for shards that kept theirs),
     * on which the scan continues.
     */
    private InternalIterator rebuiltScan(List<MemShard> shards, Throwable cause, int attempt) {
        if (!usableLocally(shards) && !e.dmRecovery.failed(cause, attempt)) {
            return null;
        }
        List<InternalIterator> its = new ArrayList<>(shards.size());
        for (MemShard m : shards) {
            ShardReader rd = m.rebuilt != null ? m.rebuilt : m.reader;
            if (rd == null && !m.isRetired()) {
                e.dmRecovery.lost(cause);
                rd = m.rebuilt != null ? m.rebuilt : m.reader;
            }
            if (rd == null) {
                for (InternalIterator it : its) {
                    it.close();
                }
                throw new O3Exception("memory node lost while an iterator was reading a shard of range " + m.range
                        + " of " + e.dir + " that has been flushed since (its entries are safe in an SST, but not in"
                        + " this iterator's view): open a new iterator. Cause: " + cause, cause);
            }
            its.add(rd.iterator());
        }
        return its.size() == 1 ? its.get(0) : new MergingIterator(its);
    }

    /**
     * Close: FREEs on the node the remote copies of the shards still sealed (not flushed), waiting up
     * to {@link #FREE_AT_CLOSE_MILLIS} for the answers. Their writes are in the WAL, which the next
     * open replays, so nothing needs the copies; without this a DB closed for good would hold node
     * memory until the node restarts (a reopen, with its new epoch, would reclaim it). A copy a scan
     * still pins is left to that scan; an offload still in flight, or a node that does not answer in
     * time, leaves its segments until the DB reopens or the node restarts. Flushes stopped; mutex not held.
     */
    private void freeHeld(DmLink l) {
        List<MemoryNode.RemoteShard> held = new ArrayList<>();
        e.mutex.lock();
        try {
            for (MemShard[] list : e.sv.sealed) {
                for (MemShard m : list) {
                    MemoryNode.RemoteShard rs = m.forgetRemote();
                    if (rs != null) {
                        held.add(rs);
                    }
                }
            }
        } finally {
            e.mutex.unlock();
        }
        l.freeAndWait(held, FREE_AT_CLOSE_MILLIS);
    }

    /** True if every shard has a rebuilt copy or a local arena (another reader's failure rebuilt them). */
    private static boolean usableLocally(List<MemShard> shards) {
        for (MemShard m : shards) {
            if (m.rebuilt == null && m.reader == null) {
                return false;
            }
        }
        return true;
    }

    /** How long close waits for the node to answer the FREEs of the segments this DB still holds. */
    static final long FREE_AT_CLOSE_MILLIS = 2_000;

    /**
     * Close, after the background pools stopped: frees the segments of the shards still sealed here
     * ({@link #freeHeld}), detaches (which fails offloads still in flight), then stops the offload
     * thread and waits for it (their completions run on it first).
     */
    void close() {
        DmLink l = link;
        if (l != null) {
            freeHeld(l);
            l.close();
        }
        ExecutorService x = exec;
        if (x != null) {
            x.shutdown(); // completions already queued still run; they find the DB closing
            threads.join(30);
        }
    }
}
