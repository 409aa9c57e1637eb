package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * DM mode, node loss: when the memory node cannot serve an offloaded shard, shards that still have
 * their local arena forget the remote copy, and shards that exist only on the node are rebuilt from
 * the WAL (which holds every entry not yet in an installed SST) and swapped into the read view.
 *
 * <p>Locks: {@link #rebuildLock} serializes rebuilds (taken before {@code Engine.mutex}, never
 * inside it); the WAL is read holding the rebuild lock only.
 */
final class DmRecovery {
    private final Engine e;
    private final ReentrantLock rebuildLock = new ReentrantLock();

    DmRecovery(Engine e) {
        this.e = e;
    }

    /**
     * The memory node could not serve an offloaded shard: rebuilds every remote-only shard from the
     * WAL. Writes that skipped the WAL ({@code disableWal}) and lived only in such shards are lost,
     * as on a crash. Serialized; callers retry their read afterwards. Mutex not held.
     */
    void lost(Throwable cause) {
        if (Thread.currentThread().isInterrupted()) {
            // the caller was interrupted while waiting for the node: that says nothing about the node,
            // and the WAL replay below would fail on an interrupted thread (ClosedByInterruptException)
            throw new O3Exception("interrupted while waiting for the memory node (the DB is unaffected): " + cause,
                    cause);
        }
        DmLink link = e.dm.link();
        if (link != null) {
            link.lost(cause);
        }
        rebuildLock.lock();
        try {
            List<MemShard> lost = new ArrayList<>();
            e.mutex.lock();
            try {
                for (MemShard[] list : e.sv.sealed) {
                    for (MemShard m : list) {
                        if (!m.isLocal()) {
                            lost.add(m);
                        } else if (m.remote != null) {
                            releaseRemote(link, m); // the local copy stays authoritative
                        }
                    }
                }
            } finally {
                e.mutex.unlock();
            }
            for (MemShard m : lost) {
                MemShard fresh = rebuildFromWal(m);
                e.mutex.lock();
                try {
                    SuperVersion cur = e.sv;
                    MemShard[] list = cur.sealed[m.range];
                    int at = -1;
                    for (int i = 0; i < list.length; i++) {
                        if (list[i] == m) {
                            at = i;
                        }
                    }
                    if (at < 0) {
                        continue; // flushed meanwhile
                    }
                    MemShard[][] sealed = cur.sealed.clone();
                    MemShard[] copy = list.clone();
                    copy[at] = fresh;
                    sealed[m.range] = copy;
                    e.installSv(new SuperVersion(cur.active, sealed, cur.version));
                    e.memtables.addRebuilt(fresh.capacity);
                    m.rebuilt = fresh.reader; // for scans that were reading m on the node
                    m.replacement = fresh; // for a flush that read m back before the node went away
                    e.stats.rebuilt.increment();
                    releaseRemote(link, m);
                    e.bgChanged.signalAll();
                } finally {
                    e.mutex.unlock();
                }
            }
        } catch (IOException ex) {
            e.setBackgroundError(new O3Exception("rebuilding offloaded shards of " + e.dir + " from the WAL failed: "
                    + ex, ex));
            throw new O3Exception("memory node lost and the WAL could not be replayed: " + ex, ex);
        } finally {
            rebuildLock.unlock();
        }
    }

    /** Forgets a shard's copy on a lost node and its share of the DM account (no request is sent). */
    private static void releaseRemote(DmLink link, MemShard m) {
        MemoryNode.RemoteShard rs = m.remote;
        m.remote = null;
        if (rs != null && link != null) {
            link.addUsed(-rs.length());
        }
    }

    /** Rebuilds one offloaded shard from the WAL files at and after its first log. */
    private MemShard rebuildFromWal(MemShard m) throws IOException {
        List<Long> logs;
        e.mutex.lock();
        try {
            logs = e.wals.live();
        } finally {
            e.mutex.unlock();
        }
        // node heights are random, so the same entries may need a little more room than the original
        int cap = (int) Math.min(Options.MAX_SHARD_ARENA_SIZE, m.capacity + m.capacity / 4L + 4096);
        MemShard fresh = new MemShard(MemtableShard.allocate(m.range, cap), m.range);
        fresh.firstLog = m.firstLog;
        ShardRanges ranges = e.ranges;
        for (long n : logs) {
            if ((m.firstLog >= 0 && n < m.firstLog) || !e.fs.exists(e.dir.resolve(FileNames.log(n)))) {
                continue;
            }
            Recovery.forEachWalOp(e.fs, e.dir, n, true, (s, c) -> {
                if (s < m.minSequence || s > m.maxSequence) {
                    return;
                }
                if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                    for (ShardRanges.Piece piece : ranges.split(c.key(), c.value())) {
                        if (piece.range() == m.range) {
                            addOrFail(fresh, s, c.type, piece.start(), 0, piece.start().length, piece.end(), 0,
                                    piece.end().length);
                        }
                    }
                } else if (ranges.rangeOf(c.rep, c.keyOff, c.keyLen) == m.range) {
                    addOrFail(fresh, s, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff, c.valueLen);
                }
            });
        }
        List<RangeTombstone> tombs = new ArrayList<>();
        m.collectTombstones(tombs);
        for (RangeTombstone t : tombs) {
            fresh.addTombstone(t);
        }
        fresh.seal(true);
        return fresh;
    }

    private static void addOrFail(MemShard into, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff,
            int vlen) throws IOException {
        if (!into.shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
            throw new IOException("rebuilt shard overflows its arena of " + into.capacity + " bytes");
        }
    }
}
