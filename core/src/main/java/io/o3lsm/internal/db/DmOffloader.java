package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

    DmOffloader(Engine e) {
        this.e = e;
    }

    /** Open: attaches to the memory node. */
    void attach(DmLink l) {
        this.link = l;
    }

    /** The attachment, or null in embedded mode. Any thread. */
    DmLink link() {
        return link;
    }

    /** REQUIRES: mutex held. Ships sealed, local, not yet offloaded shards (oldest first) within the limits. */
    void offloadSealed() {
        DmLink l = link;
        if (l == null || !l.connected() || e.closing || e.bgError != null) {
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
                // the CRC32C of the shard (about 1 MiB) is computed off the writer's path and the mutex
                CompletableFuture.supplyAsync(rd::checksum)
                        .thenCompose(crc -> c.offload(view, used, crc, m.range, m.minSequence, m.maxSequence))
                        // completions arrive on the transport's progress thread: hand them off
                        .whenCompleteAsync((rs, err) -> offloaded(m, used, rs, err));
            }
        }
    }

    /** Completion of one offload (any thread, mutex not held). */
    private void offloaded(MemShard m, int used, MemoryNode.RemoteShard rs, Throwable err) {
        DmLink l = link;
        boolean freeIt = false;
        if (err == null && rs != null) {
            m.buildBloom(); // before the local copy may be dropped; not on the writer's path
        }
        e.mutex.lock();
        try {
            m.offloading = false;
            if (err != null || rs == null) {
                if (l != null) {
                    l.addUsed(-used);
                    l.lost(err == null ? new IOException("offload returned nothing") : err);
                }
                return;
            }
            if (e.memtables.stillSealed(Collections.singleton(m)) && !e.closing) {
                m.remote = rs;
                e.stats.offloads.increment();
                e.stats.offloadBytes.add(used);
            } else {
                freeIt = true; // flushed (or closing) meanwhile
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
        ByteBuffer buf = ByteBuffer.allocateDirect(rs.length());
        SuperVersion before = e.sv;
        try {
            l.client().readBack(rs, buf);
        } catch (IOException | RuntimeException ex) {
            boolean stale = !e.memtables.stillSealedNow(s) || e.sv != before;
            throw new DmLostException("reading shard " + rs.segmentId() + " back failed: " + ex, stale);
        }
        int crc = Crc32c.value(buf.duplicate().clear().limit(rs.length()));
        if (crc != rs.checksum()) {
            // the node's copy is damaged or is not this shard: the WAL still has it
            throw new DmLostException("shard " + rs.segmentId() + " read back from the memory node has CRC32C 0x"
                    + Integer.toHexString(crc) + ", offloaded with 0x" + Integer.toHexString(rs.checksum()));
        }
        return new ShardReader(new UnsafeBuffer(buf, 0, rs.length()), "DM segment " + rs.segmentId()).iterator();
    }

    /**
     * The offloaded shards of an iterator's view (pinned, grouped by range in ascending order): per
     * range one child whose shards the memory node merges and scans, concatenated across ranges so
     * a seek involves one range's shards only.
     */
    InternalIterator offloadedShardsIterator(List<MemShard> offloaded, List<MemoryNode.RemoteShard> pinned) {
        RemoteScanIterator.ClientSource source = () -> {
            DmLink l = link;
            if (l == null) {
                throw new DmLostException("not attached to a memory node");
            }
            e.stats.delegatedScans.increment();
            return l.client();
        };
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
        return new RangeConcatIterator(perRange, rangeIds.stream().mapToInt(Integer::intValue).toArray(), e.ranges);
    }

    /** Frees a flushed shard's segment on the node (null: nothing to free). Any thread. */
    void freeRemote(MemoryNode.RemoteShard rs) {
        DmLink l = link;
        if (rs != null && l != null) {
            l.free(rs);
        }
    }

    /**
     * A delegated scan failed: the node is treated as lost (as a failed delegated get is), the
     * offloaded shards are rebuilt from the WAL, and the scan continues over the rebuilt copies.
     */
    private InternalIterator rebuiltScan(List<MemShard> shards, Throwable cause) {
        List<InternalIterator> its = new ArrayList<>(shards.size());
        for (MemShard m : shards) {
            ShardReader rd = m.rebuilt;
            if (rd == null && !m.isRetired()) {
                e.dmRecovery.lost(cause);
                rd = m.rebuilt;
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

    /** Close, after the background pools stopped. */
    void close() {
        DmLink l = link;
        if (l != null) {
            l.close();
        }
    }
}
