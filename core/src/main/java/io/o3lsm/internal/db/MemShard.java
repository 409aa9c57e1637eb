package io.o3lsm.internal.db;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.format.table.BloomFilter;
import io.o3lsm.spi.MemoryNode;
import java.util.Arrays;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * A memtable shard as the DB tracks it: the arena, a reader over it, the key range it serves, the
 * WAL file that holds its oldest entry, and the range tombstones it holds (also stored in the arena
 * as entries; kept here too so reads need not scan the skiplist for them).
 *
 * <p>In DM mode a sealed shard may also live on a memory node ({@link #remote}); once it does, its
 * local arena may be dropped ({@link #dropLocal()}) and reads go through a local bloom filter and a
 * delegated get. Active shards are always local.
 */
final class MemShard {
    private static final RangeTombstone[] NONE = new RangeTombstone[0];

    /** The local arena; null once dropped after offload. */
    volatile MemtableShard shard;
    /** Reader over the local arena; null once dropped. */
    volatile ShardReader reader;
    final int range;
    /** The layout whose range {@link #range} this shard holds. */
    final ShardRanges layout;
    final int capacity;
    /** Number of the WAL holding this shard's first entry; -1 while empty. Written by the write leader. */
    volatile long firstLog = -1;
    /** Appended by the write leader (copy on write); readers filter by sequence. */
    private volatile RangeTombstone[] tombstones = NONE;
    /**
     * The smallest sequence of a merge operand added ({@code Long.MAX_VALUE}: none). Written by the
     * writer after the entry is in the arena; a replica's applier reads it to find the shards whose
     * operands its tables may hold too, combined (ReplicaApplier#installCovering).
     */
    volatile long minMergeSequence = Long.MAX_VALUE;

    // DM mode, set once sealed
    volatile long minSequence;
    volatile long maxSequence;
    volatile BloomFilter bloom;
    /** Where each key's entry lives in the remote copy ({@link ReadCache}); null if not cached. */
    volatile EntryLocations locations;
    volatile MemoryNode.RemoteShard remote;
    /** An offload is in flight. Guarded by the DB mutex. */
    boolean offloading;
    /**
     * Set when the memory node was lost and this shard was rebuilt from the WAL: a reader over the
     * rebuilt copy, for delegated scans that were reading {@link #remote} when the node went away.
     */
    volatile ShardReader rebuilt;
    /** The shard that took this one's place in the read view when it was rebuilt (a flush may have read this one). */
    volatile MemShard replacement;

    /**
     * Read-backs of this shard that failed with the node still attached; a flush that keeps failing
     * to read it back declares the node lost ({@link DmRecovery#LOST_AFTER_FAILURES}).
     */
    volatile int readBackFailures;

    // delegated scans pin the remote copy; a flushed shard's segment is freed after the last one (guarded by this)
    private int remoteScans;
    private boolean remoteRetired;
    /** A remote copy forgotten (node lost, shard rebuilt) while scans pinned it: the last scan frees it. */
    private MemoryNode.RemoteShard forgotten;

    MemShard(MemtableShard shard, ShardRanges layout, int range) {
        this.shard = shard;
        this.layout = layout;
        this.range = range;
        this.capacity = shard.capacity();
        this.reader = shard.reader();
    }

    boolean isEmpty() {
        MemtableShard s = shard;
        return s != null && s.entryCount() == 0;
    }

    boolean isLocal() {
        return reader != null;
    }

    /** Seals the arena and records what reads need once the arena may be gone. */
    void seal(boolean buildBloom) {
        MemtableShard s = shard;
        s.seal();
        minSequence = s.minSequence();
        maxSequence = s.maxSequence();
        if (buildBloom) {
            buildBloom();
        }
    }

    /**
     * Builds the local bloom filter over the user keys (10 bits per key) that reads consult before a
     * delegated get. Needs the local arena; done off the write path (when an offload completes,
     * before the local copy may be dropped).
     */
    void buildBloom() {
        ShardReader rd = reader;
        if (bloom != null || rd == null) {
            return;
        }
        BloomFilter.Builder b = new BloomFilter.Builder(10);
        try (InternalIterator it = rd.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                DirectBuffer k = it.key();
                b.addKey(k, 0, k.capacity() - 8);
            }
        }
        byte[] f = b.finish();
        bloom = BloomFilter.decode(f, 0, f.length, "memtable shard", 0);
    }

    long maxSeq() {
        MemtableShard s = shard;
        return s != null ? s.maxSequence() : maxSequence;
    }

    /** Drops the local arena (the shard must be on the memory node). */
    void dropLocal() {
        reader = null;
        shard = null;
    }

    /**
     * Pins the remote copy for a delegated scan or a one-sided read, so a flush does not free its
     * segment meanwhile.
     * Null if there is none or the shard was already flushed (the caller's view is stale).
     */
    synchronized MemoryNode.RemoteShard pinRemote() {
        MemoryNode.RemoteShard rs = remote;
        if (rs == null || remoteRetired) {
            return null;
        }
        remoteScans++;
        return rs;
    }

    /** Ends a scan's pin; returns the segment to free if the shard was flushed and this was the last scan. */
    synchronized MemoryNode.RemoteShard unpinRemote(MemoryNode.RemoteShard pinned) {
        if (--remoteScans < 0) {
            throw new IllegalStateException("remote copy of a shard of range " + range + " unpinned too often");
        }
        if (remoteScans != 0) {
            return null;
        }
        if (remoteRetired && remote == pinned) {
            return pinned;
        }
        if (forgotten == pinned) {
            forgotten = null;
            return pinned;
        }
        return null;
    }

    /**
     * REQUIRES: DB mutex held. The DB stops using the remote copy (the node was declared lost, or
     * the copy is damaged): returns the segment to free on the node now, or null if there is none or
     * a scan still reads it (the last scan frees it).
     */
    synchronized MemoryNode.RemoteShard forgetRemote() {
        MemoryNode.RemoteShard rs = remote;
        remote = null;
        locations = null;
        if (rs == null || remoteScans == 0) {
            return rs;
        }
        forgotten = rs;
        return null;
    }

    /**
     * The shard was flushed: returns the segment to free now, or null if there is none or a scan
     * still reads it (the last scan frees it).
     */
    synchronized MemoryNode.RemoteShard retireRemote() {
        remoteRetired = true;
        locations = null;
        return remoteScans == 0 ? remote : null;
    }

    /** True once a flush installed this shard's contents (its remote copy is retired). */
    synchronized boolean isRetired() {
        return remoteRetired;
    }

    /** The writer only, after a merge operand at {@code seq} is in the arena. */
    void addedMerge(long seq) {
        if (seq < minMergeSequence) {
            minMergeSequence = seq;
        }
    }

    /** Write leader only, after the entry is in the arena. */
    void addTombstone(RangeTombstone t) {
        RangeTombstone[] cur = tombstones;
        RangeTombstone[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = t;
        tombstones = next;
    }

    boolean hasTombstones() {
        return tombstones.length > 0;
    }

    /** Highest sequence ≤ {@code snapshot} of a tombstone here covering {@code userKey}; 0 if none. */
    long maxCoveringTombstone(byte[] userKey, long snapshot) {
        long max = 0;
        for (RangeTombstone t : tombstones) {
            if (t.sequence <= snapshot && t.sequence > max && t.covers(userKey)) {
                max = t.sequence;
            }
        }
        return max;
    }

    void collectTombstones(List<RangeTombstone> out) {
        out.addAll(Arrays.asList(tombstones));
    }
}
