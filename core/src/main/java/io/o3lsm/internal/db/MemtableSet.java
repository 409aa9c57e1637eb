package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.memtable.ShardDescriptor;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memtable shards and their memory: per range one active shard and the sealed shards waiting
 * for their flush (both live in the read view, {@code Engine.sv}); sealing a full shard and putting
 * a fresh arena in its place; the account of arena bytes held in this process against the local
 * budget, and dropping local copies of shards that are safely offloaded when that budget needs room.
 *
 * <p>Locks: {@link #memoryUsed} is guarded by {@code Engine.mutex}. Each method states whether it
 * requires the mutex or takes it itself ({@link #sealAndReplace}); {@link #installInitialView} runs
 * in recovery, before the DB is visible to any other thread.
 */
final class MemtableSet {
    private final Engine e;
    /**
     * Bytes of arenas held in this process: active shards, sealed local copies, rebuilt shards, and
     * the read-back copies of offloaded shards that running flushes hold.
     */
    private long memoryUsed;

    /** Adaptive boundaries: the key sample (null when off). Write leader only. */
    final AdaptiveBoundaries adaptive;
    /** A shard was sealed since the last {@link #maybeRelayout}. Write leader only. */
    private boolean layoutCheckDue;

    MemtableSet(Engine e) {
        this.e = e;
        this.adaptive = e.options.adaptiveShardBoundaries() && !e.passive ? new AdaptiveBoundaries() : null;
    }

    static MemShard newShard(ShardRanges layout, int range, int capacity) {
        return new MemShard(MemtableShard.allocate(layout.shardId(range), capacity), layout, range);
    }

    /** Arena bytes an entry of these lengths needs in a shard of its own. */
    static int jumboSize(int keyLen, int valueLen) {
        return ShardDescriptor.capacityFor(keyLen, valueLen);
    }

    /** Recovery (single-threaded): an empty active shard per range, nothing sealed, the current version. */
    void installInitialView() {
        MemShard[] active = new MemShard[e.ranges.count()];
        MemShard[][] sealed = new MemShard[e.ranges.count()][];
        for (int r = 0; r < active.length; r++) {
            active[r] = newShard(e.ranges, r, e.arenaSize);
            sealed[r] = new MemShard[0];
        }
        memoryUsed = (long) active.length * e.arenaSize;
        e.installSv(new SuperVersion(e.ranges, active, sealed, e.versions.current()));
    }

    /** REQUIRES: mutex held. */
    long used() {
        return memoryUsed;
    }

    /** REQUIRES: mutex held. Accounts arena bytes that are no longer held (a flush dropped them). */
    void release(long bytes) {
        memoryUsed -= bytes;
    }

    /**
     * Any thread. {@code bytes} of direct memory held by {@code memory} (an arena or a read-back
     * buffer) left the account above but stay allocated until the garbage collector finds
     * {@code memory} unreachable (readers on an old view may still use it). Counted, without a
     * thread of our own, through a phantom reference polled by {@link #bytesAwaitingGc}. The
     * JVM's direct-memory limit ({@code -XX:MaxDirectMemorySize}, by default the heap's maximum)
     * bounds them: an allocation that would exceed it first runs a GC.
     */
    void awaitGc(Object memory, long bytes) {
        awaiting.add(new AwaitingGc(memory, collected, bytes));
        bytesAwaitingGc.addAndGet(bytes);
    }

    /** Any thread. Bytes released from the account whose memory the GC has not freed yet. */
    long bytesAwaitingGc() {
        Reference<?> r;
        while ((r = collected.poll()) != null) {
            if (awaiting.remove(r)) {
                bytesAwaitingGc.addAndGet(-((AwaitingGc) r).bytes);
            }
        }
        return bytesAwaitingGc.get();
    }

    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    /** Keeps the references themselves reachable until they are enqueued. */
    private final Set<AwaitingGc> awaiting = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesAwaitingGc = new AtomicLong();

    private static final class AwaitingGc extends PhantomReference<Object> {
        final long bytes;

        AwaitingGc(Object referent, ReferenceQueue<Object> q, long bytes) {
            super(referent, q);
            this.bytes = bytes;
        }
    }

    /**
     * REQUIRES: mutex held. Accounts arena bytes a rebuild allocates outside {@link #reserve} (it must
     * not wait: the flushes that would make room may be waiting for it). Writers then stall in
     * {@link #reserve} and flushes are forced until the account is back under the budget.
     */
    void addRebuilt(long bytes) {
        memoryUsed += bytes;
    }

    /**
     * REQUIRES: mutex held. Accounts a direct buffer a flush reads an offloaded shard back into,
     * held until the flush ends ({@link #release} then). Like {@link #addRebuilt}, it does not wait.
     */
    void addReadBack(long bytes) {
        memoryUsed += bytes;
    }

    /**
     * Write leader only, mutex not held: seals the full active shard of {@code range}, waits for
     * memory, puts a fresh arena in its place, and lets the offloader and the flush scheduler act.
     */
    void sealAndReplace(int range, MemShard full, int keyLen, int valueLen) {
        // a standard arena, or a bigger one when the entry that did not fit would not fit that either
        int need = Math.max(e.arenaSize, jumboSize(keyLen, valueLen));
        e.mutex.lock();
        try {
            reserve(need);
            MemShard fresh;
            try {
                fresh = allocate(range, need);
            } catch (Throwable t) { // a direct-memory OutOfMemoryError: the reservation is not used
                memoryUsed -= need;
                throw t;
            }
            if (full.isEmpty()) {
                // an empty arena too small for a jumbo entry: replace it without sealing anything
                memoryUsed -= full.shard.capacity();
                awaitGc(full.shard.buffer().byteBuffer(), full.shard.capacity());
                e.installSv(e.sv.replaceActive(range, fresh, e.sv.version));
                return;
            }
            sealActive(range, full, fresh);
            layoutCheckDue = true;
            e.dm.offloadSealed();
            e.flushes.maybeScheduleAll();
        } finally {
            e.mutex.unlock();
        }
    }

    /**
     * A writer's wait for offloads in flight ({@link #reserve}) passed a whole request timeout with
     * none arriving: writers short of memory force the flush at once until an offload arrives
     * ({@link #offloadArrived}). Guarded by the mutex.
     */
    private boolean offloadsOverdue;

    /** Waits for offloads that ran out with offloads still in flight (tests read it). Guarded by the mutex. */
    long offloadWaitTimeouts;

    /** REQUIRES: mutex held. An offload completed: writers short of memory may wait for offloads again. */
    void offloadArrived() {
        offloadsOverdue = false;
    }

    /**
     * REQUIRES: mutex held. Waits until {@code need} more bytes of arenas fit in the local budget,
     * and accounts them. Room is made, in this order: by dropping local copies of offloaded shards;
     * in DM mode, by waiting for offloads already in flight to arrive (their local copies are then
     * dropped) — for at most {@code Options.dmRequestTimeout} per call, and only while the memory
     * node is attached and its requests are not failing, and not after such a wait timed out with none
     * arriving until one does ({@link #offloadsOverdue}); then by forcing a flush of every sealed
     * shard and waiting for it. The whole wait counts as one memory stall; it ends with an exception
     * if the DB closes or a background error is set. An interrupt ends the wait for offloads early
     * (the flush is forced; the thread's interrupt status is kept), not the wait for the flush.
     */
    void reserve(long need) {
        long start = 0;
        long offloadDeadline = 0;
        boolean interrupted = false;
        boolean forced = false;
        try {
            // a replica never flushes: its shards go when the primary's edits cover them (ReplicaApplier);
            // a read-only DB never flushes either: its memtables hold what its WALs held past the tables
            while (!e.passive && memoryUsed + need > e.localBudget && !dropOffloadedLocals(need) && hasSealed() && !e.closing
                    && e.bgError == null) {
                if (start == 0) {
                    start = System.nanoTime();
                    e.stallBegin(io.o3lsm.EventListener.StallReason.MEMORY);
                    offloadDeadline = start + e.dm.offloadWaitNanos();
                }
                if (!forced) {
                    long left = offloadDeadline - System.nanoTime();
                    boolean inFlight = e.dm.offloadInFlight();
                    if (left > 0 && inFlight && !offloadsOverdue) {
                        // a shard on its way to the memory node frees its local copy when it arrives
                        // (DmOffloader signals bgChanged); flushing it now would write a table the
                        // node was about to make unnecessary
                        try {
                            e.bgChanged.awaitNanos(left);
                        } catch (InterruptedException ex) {
                            Thread.currentThread().interrupt();
                            offloadDeadline = System.nanoTime(); // wait no more for offloads
                            interrupted = true;
                        }
                        continue;
                    }
                    if (inFlight && left <= 0 && !interrupted) {
                        // a full request timeout passed and none arrived: later writers short of memory do
                        // not wait for offloads again until one arrives (each would pay the timeout)
                        offloadsOverdue = true;
                        offloadWaitTimeouts++;
                    }
                    // nothing in flight, the node is gone or failing, or it took too long: whatever is
                    // sealed must flush now, even if the usual accumulation threshold is not reached
                    // (an oversized entry needs more room than that threshold frees)
                    forced = true;
                    e.flushes.beginRequest();
                    e.flushes.maybeScheduleAll();
                }
                e.bgChanged.awaitUninterruptibly();
            }
        } finally {
            if (forced) {
                e.flushes.endRequest();
            }
            if (start != 0) {
                e.stallEnd(io.o3lsm.EventListener.StallReason.MEMORY);
                e.stats.stallNanos.add(System.nanoTime() - start);
                e.stats.stalls.increment();
            }
        }
        if (e.closing) {
            throw new DBClosedException("DB " + e.dir + " closed while waiting for memtable memory");
        }
        e.checkBackgroundError();
        memoryUsed += need;
    }

    /**
     * REQUIRES: mutex held, memory reserved, and the caller is the write leader or holds the writer
     * queue alone. Seals {@code full} and puts a fresh arena of {@code need} bytes in its place.
     */
    void sealActive(int range, MemShard full, int need) {
        MemShard fresh;
        try {
            fresh = allocate(range, need);
        } catch (Throwable t) {
            memoryUsed -= need;
            throw t;
        }
        sealActive(range, full, fresh);
    }

    private void sealActive(int range, MemShard full, MemShard fresh) {
        full.seal(false); // the DM bloom filter is built later, off the write path
        e.installSv(e.sv.seal(range, fresh, e.sv.version));
        e.wals.requestRoll();
    }

    /**
     * A replica's applier, mutex not held (under its own lock: the only thread that changes a
     * replica's view): an arena for a copy of one of its shards ({@code ReplicaApplier}). Accounted
     * by {@link #replaced} when the copy takes its place in the view.
     */
    MemShard allocateCopy(ShardRanges layout, int range, int capacity) {
        return allocate(layout, range, capacity);
    }

    /**
     * REQUIRES: mutex held. A replica's install put copies of {@code added} bytes into the view and
     * took arenas of {@code released} bytes out of it (each handed to {@link #awaitGc}: it goes when no
     * reader uses it). Like {@link #addRebuilt}, it does not wait (a replica's account never does).
     */
    void replaced(long added, long released) {
        memoryUsed += added - released;
    }

    /** Test hook: runs before every arena allocated after open (it may throw, as an allocation can). */
    volatile Runnable beforeAllocate;

    private MemShard allocate(int range, int capacity) {
        return allocate(e.ranges, range, capacity);
    }

    private MemShard allocate(ShardRanges layout, int range, int capacity) {
        Runnable hook = beforeAllocate;
        if (hook != null) {
            hook.run();
        }
        return newShard(layout, range, capacity);
    }

    /**
     * REQUIRES: mutex held, the caller is the write leader (every earlier write group is fully
     * inserted). After a shard was sealed, asks {@link AdaptiveBoundaries#propose} whether the
     * boundaries should move, and moves them ({@link #switchLayout}) if so — unless shards of an
     * earlier move are still waiting for their flush (one move drains before the next).
     */
    void maybeRelayout() {
        if (!layoutCheckDue) {
            return;
        }
        layoutCheckDue = false;
        SuperVersion cur = e.sv;
        if (adaptive == null || cur.layouts.length > 1) {
            return;
        }
        List<byte[]> b = adaptive.propose(cur.layout);
        if (b != null) {
            switchLayout(new ShardRanges(b, cur.layout.generation + 1, e.lastSequence));
        }
    }

    /**
     * REQUIRES: mutex held, the caller is the write leader or holds the writer queue alone, and
     * {@code next} starts at the last sequence written. Seals every non-empty active shard and puts
     * fresh arenas of {@code next}'s ranges in their place (empty active shards are dropped);
     * sealed shards keep their layout. Flushes then drain the older layout first
     * ({@link FlushScheduler}): a flush of the new layout waits until no older shard is left.
     *
     * <p>A move does not wait for memory (a flush it would wait for may be slow — a hung worker): it
     * needs an arena per non-empty active shard, as sealing them would, and accounts them at once,
     * like {@link #addRebuilt}; if the account is then over the budget, the next writer that needs an
     * arena waits in {@link #reserve} (dropping local copies of offloaded shards, forcing flushes).
     */
    void switchLayout(ShardRanges next) {
        SuperVersion cur = e.sv;
        int n = cur.active.length;
        if (next.count() != n) {
            throw new IllegalArgumentException("a new layout must keep the " + n + " ranges, has " + next.count());
        }
        long freedEmpty = 0;
        for (MemShard a : cur.active) {
            if (a.isEmpty()) {
                freedEmpty += a.capacity;
            }
        }
        long need = Math.max(0, (long) n * e.arenaSize - freedEmpty);
        if (memoryUsed + need > e.localBudget) {
            dropOffloadedLocals(need);
        }
        memoryUsed += need;
        MemShard[] active = new MemShard[n];
        try {
            for (int r = 0; r < n; r++) {
                active[r] = allocate(next, r, e.arenaSize);
            }
        } catch (Throwable t) { // a direct-memory OutOfMemoryError: the reservation is not used
            memoryUsed -= need;
            throw t;
        }
        memoryUsed += (long) n * e.arenaSize - freedEmpty - need; // when need was clamped at 0: the rest freed
        MemShard[][] sealed = new MemShard[n][];
        for (int r = 0; r < n; r++) {
            MemShard old = cur.active[r];
            if (old.isEmpty()) {
                awaitGc(old.shard.buffer().byteBuffer(), old.capacity);
                sealed[r] = cur.sealed[r];
                continue;
            }
            old.seal(false);
            MemShard[] list = new MemShard[cur.sealed[r].length + 1];
            list[0] = old;
            System.arraycopy(cur.sealed[r], 0, list, 1, cur.sealed[r].length);
            sealed[r] = list;
        }
        e.ranges = next;
        e.installSv(new SuperVersion(next, active, sealed, cur.version));
        if (adaptive != null) {
            adaptive.reset();
        }
        e.stats.layoutChanges.increment();
        Engine.LOG.fine(() -> "shard boundaries of " + e.dir + " moved (layout " + next.generation + ", after sequence "
                + next.startSeq + ")");
        e.wals.requestRoll();
        e.dm.offloadSealed();
        e.flushes.maybeScheduleAll();
    }

    /**
     * REQUIRES: mutex held. Makes room in the local budget by dropping local copies of offloaded
     * shards, oldest first. True if {@code need} bytes fit afterwards.
     */
    private boolean dropOffloadedLocals(long need) {
        if (e.dm.link() == null) {
            return false;
        }
        SuperVersion cur = e.sv;
        for (int r = 0; r < cur.sealed.length && memoryUsed + need > e.localBudget; r++) {
            MemShard[] list = cur.sealed[r];
            for (int i = list.length - 1; i >= 0 && memoryUsed + need > e.localBudget; i--) {
                MemShard m = list[i];
                MemtableShard arena = m.shard;
                if (m.isLocal() && m.remote != null && arena != null) {
                    m.dropLocal(); // readers holding the old reader finish on it; GC frees the arena
                    awaitGc(arena.buffer().byteBuffer(), m.capacity);
                    memoryUsed -= m.capacity;
                    e.stats.droppedLocal.increment();
                }
            }
        }
        return memoryUsed + need <= e.localBudget;
    }

    /** REQUIRES: mutex held. True while any of {@code shards} is still waiting in the read view for its flush. */
    boolean stillSealed(Set<MemShard> shards) {
        for (MemShard[] list : e.sv.sealed) {
            for (MemShard m : list) {
                if (shards.contains(m)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * REQUIRES: mutex held. As {@link #stillSealed}, for a caller waiting until the entries of
     * {@code shards} are in tables: a shard a memory-node rebuild swapped out of the view
     * ({@code DmRecovery.swapIn}) lives on as its {@link MemShard#replacement}, which holds the same
     * entries until a flush installs them, so it counts as still sealed.
     */
    boolean stillSealedOrReplaced(Set<MemShard> shards) {
        Set<MemShard> all = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (MemShard s : shards) {
            for (MemShard m = s; m != null && all.add(m); m = m.replacement) {
                // s and the shards that replaced it
            }
        }
        return stillSealed(all);
    }

    /** Mutex not held: {@link #stillSealed} for one shard. */
    boolean stillSealedNow(MemShard s) {
        e.mutex.lock();
        try {
            return stillSealed(Collections.singleton(s));
        } finally {
            e.mutex.unlock();
        }
    }

    /** REQUIRES: mutex held. */
    boolean hasSealed() {
        for (MemShard[] s : e.sv.sealed) {
            if (s.length > 0) {
                return true;
            }
        }
        return false;
    }
}
