package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * DM mode, failures: decides whether a failed request means the memory node is lost, and if so
 * rebuilds the shards that exist only there from the WAL and swaps them into the read view.
 *
 * <p><b>The rule</b> ({@link #failed}). A request that failed with the view unchanged is a <em>slow
 * request</em> and the caller retries it, unless the node is <em>lost</em>:
 * <ul>
 *   <li>the transport reported the peer failed (UCX's endpoint error handler; the client is then
 *       detached, {@link DmLink#connected()} false), or</li>
 *   <li>{@link #LOST_AFTER_FAILURES} failures were counted with none succeeding in between (a hung
 *       node; failures within one request timeout of the last counted one are one stall and count
 *       once, {@link DmLink#failedRequest}), or one caller's own request failed that many times in a
 *       row (a request that fails every time cannot loop forever while others succeed).</li>
 * </ul>
 * A read-back whose bytes fail the shard's CRC32C loses that one shard only ({@link
 * DmLostException#damaged}).
 *
 * <p><b>The rebuild.</b> Every affected shard that still has its local arena forgets its remote
 * copy; the others are rebuilt together in one pass over the live WALs (each WAL is read once, each
 * entry goes to the shard whose range and sequence span hold it). Shards a flush installed meanwhile
 * are skipped, and a WAL such a flush deleted is not an error. The rebuilt arenas are accounted in
 * the memory budget ({@link MemtableSet#addRebuilt}) before they are allocated, so writers stall
 * and flushes are forced until they are flushed; the peak is the budget plus the bytes that were
 * only on the node (at most the DM budget): stalling the rebuild itself instead could deadlock with
 * the flushes that wait for it. Forgotten segments are freed on the node when it is still attached
 * (a scan that pins one frees it when it ends).
 *
 * <p>Locks: {@link #rebuildLock} serializes rebuilds (taken before {@code Engine.mutex}, never
 * inside it); the WAL is read holding the rebuild lock only.
 */
final class DmRecovery {
    /** Consecutive failed requests after which the node is treated as lost. */
    static final int LOST_AFTER_FAILURES = 3;

    private final Engine e;
    private final ReentrantLock rebuildLock = new ReentrantLock();
    /** Test hook: runs in a rebuild after a WAL was found to exist, before it is opened. */
    volatile Runnable beforeOpen;

    DmRecovery(Engine e) {
        this.e = e;
    }

    /**
     * A DM request failed ({@code attempt}: how many times in a row this caller's request failed,
     * from 1). Returns false for a slow request (the caller retries it) and true once the node was
     * treated as lost and the affected shards rebuilt (the caller reads again). Writes that skipped
     * the WAL ({@code disableWal}) and lived only in lost shards are lost, as on a crash. Mutex not
     * held.
     *
     * @throws O3Exception if the caller was interrupted, or the WAL could not be replayed (then the
     *                     background error is set)
     */
    boolean failed(Throwable cause, int attempt) {
        if (Thread.currentThread().isInterrupted()) {
            // the caller was interrupted while waiting for the node: that says nothing about the node,
            // and the WAL replay below would fail on an interrupted thread (ClosedByInterruptException)
            throw new O3Exception("interrupted while waiting for the memory node (the DB is unaffected): " + cause,
                    cause);
        }
        DmLink link = e.dm.link();
        MemShard damaged = cause instanceof DmLostException ? ((DmLostException) cause).damaged : null;
        if (damaged != null) {
            rebuild(List.of(damaged), link, cause);
            return true;
        }
        boolean lost = link == null || link.failedRequest(LOST_AFTER_FAILURES) || attempt >= LOST_AFTER_FAILURES;
        if (!lost) {
            Engine.LOG.fine("slow memory-node request (attempt " + attempt + "), retrying: " + cause);
            return false;
        }
        boolean news = link != null && link.lost(cause);
        long since = System.nanoTime();
        if (news) {
            io.o3lsm.EventListener.MemoryNodeInfo info = new io.o3lsm.EventListener.MemoryNodeInfo(link.address(),
                    cause, 0, 0);
            e.listeners.post(l -> l.onMemoryNodeLost(info));
        }
        int rebuilt = rebuild(null, link, cause);
        if (news) {
            io.o3lsm.EventListener.MemoryNodeInfo info = new io.o3lsm.EventListener.MemoryNodeInfo(link.address(),
                    cause, rebuilt, System.nanoTime() - since);
            e.listeners.post(l -> l.onMemoryNodeRecovered(info));
        }
        return true;
    }

    /** The node is lost: {@link #failed} with no retry left. Mutex not held. */
    void lost(Throwable cause) {
        failed(cause, LOST_AFTER_FAILURES);
    }

    /** Rebuilds {@code only} (null: every shard with a remote copy). */
    /** Returns how many rebuilt shards were swapped into the read view. */
    private int rebuild(List<MemShard> only, DmLink link, Throwable cause) {
        rebuildLock.lock();
        try {
            List<MemShard> lost = new ArrayList<>();
            List<MemoryNode.RemoteShard> toFree = new ArrayList<>();
            long reserved = 0;
            e.mutex.lock();
            try {
                for (MemShard[] list : e.sv.sealed) {
                    for (MemShard m : list) {
                        if (only != null && !only.contains(m)) {
                            continue;
                        }
                        if (!m.isLocal()) {
                            if (m.remote != null && !m.isRetired()) {
                                lost.add(m);
                                reserved += rebuiltCapacity(m);
                            }
                        } else if (m.remote != null) {
                            addIfNotNull(toFree, m.forgetRemote()); // the local copy stays authoritative
                            e.readCache.release(m);
                        }
                    }
                }
                // accounted before allocating: writers stall, flushes are forced until these are flushed
                e.memtables.addRebuilt(reserved);
            } finally {
                e.mutex.unlock();
            }
            freeAll(link, toFree);
            Map<MemShard, MemShard> fresh;
            try {
                fresh = rebuildFromWal(lost);
            } catch (IOException | RuntimeException ex) {
                e.mutex.lock();
                try {
                    e.memtables.release(reserved);
                } finally {
                    e.mutex.unlock();
                }
                throw ex;
            }
            toFree.clear();
            int swapped = 0;
            e.mutex.lock();
            try {
                long unused = 0;
                for (MemShard m : lost) {
                    MemShard f = fresh.get(m);
                    if (f == null || !swapIn(m, f)) {
                        unused += rebuiltCapacity(m); // flushed meanwhile: its rebuilt copy is dropped
                        continue;
                    }
                    addIfNotNull(toFree, m.forgetRemote());
                    e.readCache.release(m);
                    swapped++;
                }
                e.memtables.release(unused);
                e.bgChanged.signalAll();
            } finally {
                e.mutex.unlock();
            }
            freeAll(link, toFree);
            return swapped;
        } catch (IOException ex) {
            e.setBackgroundError(new O3Exception("rebuilding offloaded shards of " + e.dir + " from the WAL failed: "
                    + ex, ex), io.o3lsm.EventListener.ErrorSource.MEMORY_NODE_REBUILD);
            throw new O3Exception("memory node lost and the WAL could not be replayed: " + ex, ex);
        } finally {
            rebuildLock.unlock();
        }
    }

    private static void addIfNotNull(List<MemoryNode.RemoteShard> list, MemoryNode.RemoteShard rs) {
        if (rs != null) {
            list.add(rs);
        }
    }

    /** Frees forgotten segments on the node if it is still attached; settles the DM account either way. */
    private static void freeAll(DmLink link, List<MemoryNode.RemoteShard> segments) {
        if (link == null) {
            return;
        }
        for (MemoryNode.RemoteShard rs : segments) {
            link.free(rs);
        }
    }

    /**
     * REQUIRES: mutex held. Puts {@code fresh} in {@code m}'s place in the read view; false if
     * {@code m} is no longer there (a flush installed it meanwhile).
     */
    private boolean swapIn(MemShard m, MemShard fresh) {
        SuperVersion cur = e.sv;
        MemShard[] list = cur.sealed[m.range];
        int at = -1;
        for (int i = 0; i < list.length; i++) {
            if (list[i] == m) {
                at = i;
            }
        }
        if (at < 0 || m.isRetired()) {
            return false;
        }
        MemShard[][] sealed = cur.sealed.clone();
        MemShard[] copy = list.clone();
        copy[at] = fresh;
        sealed[m.range] = copy;
        e.installSv(new SuperVersion(cur.layout, cur.active, sealed, cur.version));
        m.rebuilt = fresh.reader; // for scans that were reading m on the node
        m.replacement = fresh; // for a flush that read m back before the node went away
        e.stats.rebuilt.increment();
        return true;
    }

    /** Node heights are random, so the same entries may need a little more room than the original. */
    private static int rebuiltCapacity(MemShard m) {
        return (int) Math.min(Options.MAX_SHARD_ARENA_SIZE, m.capacity + m.capacity / 4L + 4096);
    }

    /**
     * Rebuilds {@code shards} in one pass over the live WALs (from the oldest first log among them):
     * each entry goes to the shard of its range whose sequence span holds it. A WAL that is gone was
     * deleted by a flush that installed every shard needing it: those shards are skipped (not
     * rebuilt); it is an error only if a shard still in the view needs it.
     */
    private Map<MemShard, MemShard> rebuildFromWal(List<MemShard> shards) throws IOException {
        Map<MemShard, MemShard> fresh = new IdentityHashMap<>();
        if (shards.isEmpty()) {
            return fresh;
        }
        List<Long> logs;
        e.mutex.lock();
        try {
            logs = e.wals.live();
        } finally {
            e.mutex.unlock();
        }
        // per layout and range, the shards to rebuild (sequence spans of one range's shards are
        // disjoint; after the boundaries moved, shards of an older layout are routed by its boundaries)
        Map<ShardRanges, List<MemShard>[]> byLayout = new IdentityHashMap<>();
        long firstLog = Long.MAX_VALUE;
        for (MemShard m : shards) {
            @SuppressWarnings("unchecked")
            List<MemShard>[] byRange = byLayout.computeIfAbsent(m.layout, l -> new List[l.count()]);
            MemShard f = new MemShard(MemtableShard.allocate(m.layout.shardId(m.range), rebuiltCapacity(m)), m.layout,
                    m.range);
            f.firstLog = m.firstLog;
            fresh.put(m, f);
            if (byRange[m.range] == null) {
                byRange[m.range] = new ArrayList<>();
            }
            byRange[m.range].add(m);
            firstLog = Math.min(firstLog, m.firstLog < 0 ? 0 : m.firstLog);
        }
        for (long n : logs) {
            if (n < firstLog) {
                continue;
            }
            try {
                if (!e.fs.exists(e.dir.resolve(FileNames.log(n)))) {
                    throw new NoSuchFileException(e.dir.resolve(FileNames.log(n)).toString());
                }
                Runnable hook = beforeOpen;
                if (hook != null) {
                    hook.run(); // tests: a flush may install these shards and delete this WAL here
                }
                Recovery.forEachWalOp(e.fs, e.dir, n, true, (s, c) -> {
                    for (Map.Entry<ShardRanges, List<MemShard>[]> l : byLayout.entrySet()) {
                        ShardRanges ranges = l.getKey();
                        List<MemShard>[] byRange = l.getValue();
                        if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                            for (ShardRanges.Piece piece : ranges.split(c.key(), c.value())) {
                                MemShard m = holder(byRange[piece.range()], s);
                                if (m != null) {
                                    addOrFail(fresh.get(m), s, c.type, piece.start(), 0, piece.start().length,
                                            piece.end(), 0, piece.end().length);
                                }
                            }
                            continue;
                        }
                        MemShard m = holder(byRange[ranges.rangeOf(c.rep, c.keyOff, c.keyLen)], s);
                        if (m != null) {
                            addOrFail(fresh.get(m), s, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff,
                                    c.valueLen);
                        }
                    }
                });
            } catch (NoSuchFileException gone) {
                // deleted after we listed it: only a flush that installed every shard needing it does that
                for (MemShard m : shards) {
                    if (!m.isRetired() && (m.firstLog < 0 || m.firstLog <= n)) {
                        throw gone;
                    }
                }
            }
        }
        for (MemShard m : shards) {
            MemShard f = fresh.get(m);
            List<RangeTombstone> tombs = new ArrayList<>();
            m.collectTombstones(tombs);
            for (RangeTombstone t : tombs) {
                f.addTombstone(t);
            }
            f.seal(true);
        }
        return fresh;
    }

    /** The shard among {@code candidates} whose sequence span holds {@code seq}; null if none. */
    private static MemShard holder(List<MemShard> candidates, long seq) {
        if (candidates == null) {
            return null;
        }
        for (MemShard m : candidates) {
            if (seq >= m.minSequence && seq <= m.maxSequence) {
                return m;
            }
        }
        return null;
    }

    private static void addOrFail(MemShard into, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff,
            int vlen) throws IOException {
        if (!into.shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
            throw new IOException("rebuilt shard overflows its arena of " + into.capacity + " bytes");
        }
    }
}
