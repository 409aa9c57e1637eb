package io.o3lsm.internal.db;

import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.internal.util.TtlStamp;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * The group-commit write path. Writers queue up; the head is the leader. The leader alone appends
 * to the WAL ({@link WalSet}) and inserts into the active shards, for itself and the followers it
 * groups, with the mutex released; then it publishes {@code Engine.lastSequence} and wakes the group.
 * A caller that must exclude every writer (flush, close) queues a placeholder and waits until it
 * heads the queue ({@link #enterAlone}).
 *
 * <p>A write may carry a {@link Precondition} (a transaction's conflict check). Such a writer is
 * never grouped as a follower: it waits until it heads the queue, when every earlier write is
 * inserted and its sequence published, and runs the check as leader, with the mutex released,
 * before any sequence is assigned to it. No other write can land between the check and its own
 * insertion. If the check throws, the writer completes with that exception and writes nothing (the
 * DB is not affected); writers queued behind it are led by the next head as usual.
 *
 * <p>Locks: {@link #writers} is guarded by {@code Engine.mutex}; each {@link Writer}'s fields are
 * written by its own thread before it queues and by the leader (mutex held) when it completes it.
 */
final class WriteQueue {
    private static final int MAX_GROUP_BYTES = 1 << 20;

    private final Engine e;
    private final ArrayDeque<Writer> writers = new ArrayDeque<>();
    private final ThreadLocal<Writer> threadWriter;
    private final ThreadLocal<WriteBatch> threadBatch = ThreadLocal.withInitial(WriteBatch::new);
    /** Made in advance: what writers get when even building the real failure failed (heap exhausted). */
    private final O3Exception writeFailed;
    /** Adaptive boundaries' key sample (null when off); the leader offers it every point key. */
    private final AdaptiveBoundaries sample;
    /** Leader-owned: the batches of the group being published to backups. */
    private final List<WriteBatch> published = new ArrayList<>();

    /**
     * A check a write must pass immediately before it is written, atomically with respect to every
     * other write (see the class comment). Runs on the writing thread, mutex not held; throws to
     * refuse the write.
     */
    @FunctionalInterface
    interface Precondition {
        void check();
    }

    /** A thread waiting to be written, or the leader writing a group. */
    private static final class Writer {
        final Condition cond;
        WriteBatch batch;
        Precondition precondition;
        boolean sync;
        boolean disableWal;
        int acks;
        boolean done;
        RuntimeException error;

        Writer(Condition cond) {
            this.cond = cond;
        }
    }

    WriteQueue(Engine e) {
        this.e = e;
        this.sample = e.memtables.adaptive;
        this.threadWriter = ThreadLocal.withInitial(() -> new Writer(e.mutex.newCondition()));
        this.writeFailed = new O3Exception("a write to " + e.dir + " failed and the failure could not be reported "
                + "(memory exhausted?); the DB refuses further writes until reopened");
    }

    /** A cleared batch of the calling thread, for single-operation writes (put, delete, deleteRange). */
    WriteBatch threadBatch() {
        WriteBatch b = threadBatch.get();
        b.clear();
        return b;
    }

    /** Any thread, mutex not held. Returns once the batch is in the memtable (and WAL unless disabled). */
    void write(WriteBatch batch, WriteOptions wo) {
        write(batch, wo, null);
    }

    /**
     * As {@link #write(WriteBatch, WriteOptions)}, with {@code precondition} (null: none) run as
     * leader just before the batch is written; an empty batch with a precondition is only checked.
     */
    /**
     * Refuses write options this DB cannot honour (also checked when a transaction begins, so that
     * its work is not lost at commit): sync with the WAL off, acknowledgements without the WAL or on
     * a DB that is not a replication primary; and writes to a replica or a closed DB.
     */
    void checkOptions(boolean sync, boolean disableWal, int acks) {
        if (sync && disableWal) {
            throw new IllegalArgumentException("WriteOptions: sync(true) cannot be combined with disableWal(true)");
        }
        if (acks > 0 && disableWal) {
            // a backup catching up takes the log from the WAL: a write outside it could be counted delivered
            throw new IllegalArgumentException("WriteOptions: replicationAcks(" + acks + ") cannot be combined with "
                    + "disableWal(true)");
        }
        e.checkOpen();
        if (e.replica) {
            throw new io.o3lsm.ReadOnlyException("DB " + e.dir + " is a replica: it takes writes only from its primary "
                    + "(promote it to write)");
        }
        if (e.readOnly) { // a safety net: the read-only façade refuses every write before it gets here
            throw new io.o3lsm.ReadOnlyException("write refused: DB " + e.dir + " is open read-only");
        }
        if (acks > 0 && e.replication == null) {
            throw new io.o3lsm.ReplicationException("WriteOptions.replicationAcks(" + acks + "): DB " + e.dir
                    + " is not a replication primary (Options.replicationListen is not set); nothing was written");
        }
    }

    void write(WriteBatch batch, WriteOptions wo, Precondition precondition) {
        write(batch, wo, precondition, false);
    }

    /** Writes a batch whose keys are already as the engine stores them (a family drop's range deletion). */
    void writeStored(WriteBatch batch, WriteOptions wo) {
        write(batch, wo, null, true);
    }

    /**
     * {@code stored}: the batch's keys are as the engine stores them; otherwise a family-aware DB
     * translates it first ({@link Families#translate}).
     */
    private void write(WriteBatch batch, WriteOptions wo, Precondition precondition, boolean stored) {
        if (e.families == null || stored) {
            writeOnce(batch, wo, precondition, stored);
            return;
        }
        boolean ok = false;
        try {
            writeOnce(batch, wo, precondition, false);
            ok = true;
        } finally {
            if (ok) {
                e.families.afterWrite(); // a family over its own write buffer: its shards sealed
            } else {
                e.families.writeFailed();
            }
        }
    }

    private void writeOnce(WriteBatch batch, WriteOptions wo, Precondition precondition, boolean stored) {
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        if (wo == null) {
            throw new IllegalArgumentException("write options must not be null");
        }
        boolean sync = wo.sync(); // read once: the caller may change a mutable WriteOptions meanwhile
        boolean disableWal = wo.disableWal();
        int acks = wo.replicationAcks();
        checkOptions(sync, disableWal, acks);
        if (batch.count() == 0 && precondition == null) {
            return;
        }
        WriteBatch given = batch;
        int drops = 0;
        if (e.families != null) {
            if (!stored) {
                drops = e.families.drops();
                batch = e.families.translate(batch, e.options.clock());
            }
        } else {
            if (batch.hasFamilyOps()) {
                throw new IllegalArgumentException("the write batch names a column family other than the default one, "
                        + "and DB " + e.dir + " was created without column families; nothing was written");
            }
            for (io.o3lsm.ColumnFamilyHandle h : batch.familyHandles()) {
                if (h != e.plainDefault) { // another DB's default family
                    throw new IllegalArgumentException("the write batch names " + h + ", which is not a column family "
                            + "of DB " + e.dir + "; nothing was written");
                }
            }
            if (batch.hasMerge() && e.options.mergeOperator() == null) {
                throw new IllegalStateException("DB " + e.dir + " has no merge operator (Options.mergeOperator): "
                        + "merge is refused; nothing was written");
            }
            if (e.ttlMillis > 0) {
                batch = stamped(batch, e.options.clock().getAsLong());
            }
        }
        Writer w = threadWriter.get();
        w.batch = batch;
        w.precondition = precondition;
        w.sync = sync;
        w.disableWal = disableWal;
        w.acks = acks;
        w.done = false;
        w.error = null;
        e.mutex.lock();
        try {
            while (e.families != null && !stored && e.families.drops() != drops) {
                // a family was dropped since the batch was translated: translated again (refused if it
                // names that family), so that no write to it is queued behind the drop's range deletion
                drops = e.families.drops();
                w.batch = e.families.translate(given, e.options.clock());
            }
            writers.addLast(w);
            while (!w.done && writers.peekFirst() != w) {
                w.cond.awaitUninterruptibly();
            }
            if (w.done) {
                if (w.error != null) {
                    throw w.error;
                }
                return;
            }
            leadGroup(w);
            if (w.error != null) {
                throw w.error;
            }
        } finally {
            w.batch = null;
            w.precondition = null;
            e.mutex.unlock();
        }
    }

    /**
     * A copy of {@code batch} whose put values carry the write-time stamp {@code now} (Options.ttl,
     * docs/format/ttl.md); deletions and range deletions are copied as they are. The caller's batch
     * is not changed: a batch is a plain format, stamped only when a DB with TTL writes it.
     */
    static WriteBatch stamped(WriteBatch batch, long now) {
        WriteBatch out = new WriteBatch();
        BatchCursor c = new BatchCursor(batch.rep(), batch.size(), "write batch", 0);
        while (c.next()) {
            switch (c.type) {
                case InternalKey.TYPE_VALUE -> {
                    if (c.valueLen > io.o3lsm.DB.MAX_VALUE_SIZE - TtlStamp.SIZE) {
                        throw new IllegalArgumentException("with Options.ttl a value may have at most "
                                + (io.o3lsm.DB.MAX_VALUE_SIZE - TtlStamp.SIZE) + " bytes (the stamp takes "
                                + TtlStamp.SIZE + "), found " + c.valueLen + "; nothing was written");
                    }
                    out.put(c.key(), TtlStamp.stamp(c.rep, c.valueOff, c.valueLen, now));
                }
                case InternalKey.TYPE_DELETION -> out.delete(c.key());
                case InternalKey.TYPE_RANGE_DELETION -> out.deleteRange(c.key(), c.value());
                default -> throw new IllegalStateException("ttl cannot be combined with merge operands (type "
                        + c.type + "); nothing was written");
            }
        }
        return out;
    }

    /** REQUIRES: mutex held, {@code leader} heads the queue. Returns with the mutex held. */
    private void leadGroup(Writer leader) {
        List<Writer> group = new ArrayList<>();
        RuntimeException failure = null;
        RuntimeException replicationFailure = null;
        boolean walTouched = false;
        boolean ok = false;
        try {
            if (e.closing) {
                throw new DBClosedException("DB " + e.dir + " is closed");
            }
            e.checkBackgroundError();
            waitForL0();
            // every earlier group is inserted: the boundaries may move here, between two sequences
            e.memtables.maybeRelayout();
            if (leader.precondition != null) {
                // every earlier write is inserted and published, and no later one can start: check now
                e.mutex.unlock();
                try {
                    leader.precondition.check();
                } finally {
                    e.mutex.lock();
                }
                if (e.closing) {
                    throw new DBClosedException("DB " + e.dir + " is closed");
                }
                e.checkBackgroundError();
                if (leader.batch.count() == 0) {
                    ok = true; // checked, nothing to write
                    return;
                }
            }
            // group followers
            int bytes = 0;
            int limit = leader.batch.size() <= (128 << 10) ? leader.batch.size() + (128 << 10) : MAX_GROUP_BYTES;
            for (Writer x : writers) {
                if (x != leader) {
                    if (x.batch == null) {
                        break; // flush() or close() holding a place in the queue
                    }
                    if (x.precondition != null) {
                        break; // checks run only as leader, after every earlier write is published
                    }
                    if (x.sync && !leader.sync) {
                        break;
                    }
                    if (x.disableWal != leader.disableWal) {
                        break;
                    }
                    if (x.acks != leader.acks) {
                        break; // a group waits for its writers' acknowledgements: one count per group
                    }
                    if (bytes + x.batch.size() > limit) {
                        break;
                    }
                }
                group.add(x);
                bytes += x.batch.size();
            }
            boolean sync = leader.sync;
            boolean useWal = !leader.disableWal;
            long first = e.lastSequence + 1;
            long count = 0;
            int acks = 0;
            for (Writer x : group) {
                count += x.batch.count();
                acks = Math.max(acks, x.acks);
            }
            if (first + count - 1 > InternalKey.MAX_SEQUENCE) {
                throw new O3Exception("sequence numbers exhausted");
            }
            e.mutex.unlock();
            walTouched = true;
            try {
                long seq = first;
                ReplicationSource replication = e.replication;
                long ticket = -1;
                if (useWal || replication != null) {
                    try {
                        if (useWal) {
                            e.wals.beginGroup();
                        } else {
                            e.wals.lockAppend(); // a catch-up going live sees this group published or not at all
                        }
                        for (Writer x : group) {
                            x.batch.setHeader(seq);
                            if (useWal) {
                                e.wals.add(x.batch);
                            }
                            seq += x.batch.count();
                        }
                        if (useWal) {
                            e.wals.endGroup(sync);
                        }
                        if (replication != null) {
                            for (Writer x : group) {
                                published.add(x.batch);
                            }
                            try {
                                ticket = replication.publish(e.wals.number(), published);
                            } finally {
                                published.clear();
                            }
                        }
                    } finally {
                        e.wals.endAppend();
                    }
                }
                e.stats.walBytes.add(useWal ? bytes : 0);
                e.stats.userBytes.add(bytes);
                e.stats.keysWritten.add(count);
                seq = first;
                for (Writer x : group) {
                    insertBatch(x.batch, seq);
                    seq += x.batch.count();
                }
                if (acks > 0) {
                    replicationFailure = replication.awaitAcks(ticket, acks);
                }
            } catch (IOException ex) {
                O3Exception err = new O3Exception("write to the WAL of " + e.dir + " failed; the DB refuses further "
                        + "writes until reopened (" + e.acknowledgedWritesNote() + "): " + ex, ex);
                e.setBackgroundError(err, io.o3lsm.EventListener.ErrorSource.WRITE);
                throw err;
            } finally {
                e.mutex.lock();
            }
            e.lastSequence = first + count - 1;
            ok = true;
        } catch (Throwable ex) {
            // Any Throwable ends the group, an Error too (a direct-memory OutOfMemoryError while
            // allocating an arena): left unhandled it would keep this writer at the head of the queue
            // and hang every writer and close(). Writers get an O3Exception; the Error is its cause.
            try {
                failure = ex instanceof RuntimeException re ? re
                        : new O3Exception("write to " + e.dir + " failed; the DB refuses further writes until "
                                + "reopened (" + e.acknowledgedWritesNote() + "): " + ex, ex);
                if (walTouched && !e.closing) {
                    // sequence numbers of this group may be in the WAL or memtable: no write may reuse
                    // them (the shared path also wakes whoever waits on background state, e.g. flush())
                    e.setBackgroundError(failure, io.o3lsm.EventListener.ErrorSource.WRITE);
                }
            } catch (Throwable reporting) { // e.g. the heap is exhausted too: report what we can
                if (failure == null) {
                    failure = writeFailed;
                }
                if (walTouched && !e.closing && e.bgError == null) {
                    e.bgError = failure;
                    e.bgChanged.signalAll();
                }
            }
        } finally {
            // runs whatever happened above: the group leaves the queue and the next writer is woken
            if (!ok && failure == null) {
                failure = writeFailed;
            }
            if (group.isEmpty()) {
                group.add(leader);
            }
            for (Writer x : group) {
                Writer head = writers.pollFirst();
                assert head == x;
                x.error = failure != null ? failure : x.acks > 0 ? replicationFailure : null;
                x.done = true;
                if (x != leader) {
                    x.cond.signal();
                }
            }
            Writer next = writers.peekFirst();
            if (next != null) {
                next.cond.signal();
            }
        }
    }

    /**
     * REQUIRES: mutex held, caller is the leader. L0 back-pressure: at the slowdown trigger each
     * write group waits 1 ms (so compaction gets CPU); at the stop trigger writes wait until
     * compaction brings L0 below it.
     */
    private void waitForL0() {
        int l0 = e.versions.current().l0Depth();
        if (l0 < e.options.level0SlowdownTrigger()) {
            e.slowdownMaybeOver();
            return;
        }
        long start = System.nanoTime();
        if (l0 < e.options.level0StopTrigger()) {
            e.slowdownDelayed();
            try {
                e.bgChanged.await(1, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        } else {
            e.stallBegin(io.o3lsm.EventListener.StallReason.L0_STOP);
            try {
                while (e.versions.current().l0Depth() >= e.options.level0StopTrigger() && !e.closing
                        && e.bgError == null) {
                    e.compactions.maybeSchedule();
                    e.bgChanged.awaitUninterruptibly();
                }
            } finally {
                e.stallEnd(io.o3lsm.EventListener.StallReason.L0_STOP);
            }
        }
        e.stats.stallNanos.add(System.nanoTime() - start);
        e.stats.stalls.increment();
        if (e.closing) {
            throw new DBClosedException("DB " + e.dir + " closed while a write waited for compaction");
        }
        e.checkBackgroundError();
    }

    /** Leader only, mutex not held: inserts every operation of {@code batch} starting at {@code seq}. */
    private void insertBatch(WriteBatch batch, long seq) {
        BatchCursor c = new BatchCursor(batch.rep(), batch.size(), "write batch", 0);
        while (c.next()) {
            if (c.type == InternalKey.TYPE_RANGE_DELETION) {
                for (ShardRanges.Piece p : e.ranges.split(c.key(), c.value())) {
                    insertOne(p.range(), seq, c.type, p.start(), 0, p.start().length, p.end(), 0, p.end().length);
                }
            } else {
                ShardRanges layout = e.ranges;
                int r = layout.rangeOf(c.rep, c.keyOff, c.keyLen);
                layout.counted(r);
                if (sample != null) {
                    sample.offer(c.rep, c.keyOff, c.keyLen);
                }
                insertOne(r, seq, c.type, c.rep, c.keyOff, c.keyLen, c.rep, c.valueOff, c.valueLen);
            }
            seq++;
        }
    }

    void insertOne(int r, long seq, int type, byte[] k, int koff, int klen, byte[] v, int voff, int vlen) {
        while (true) {
            MemShard s = e.sv.active[r];
            if (s.firstLog < 0) {
                s.firstLog = e.wals.number();
            }
            if (s.shard.add(seq, type, k, koff, klen, v, voff, vlen)) {
                if (type == InternalKey.TYPE_RANGE_DELETION) {
                    s.addTombstone(new RangeTombstone(Arrays.copyOfRange(k, koff, koff + klen),
                            Arrays.copyOfRange(v, voff, voff + vlen), seq));
                } else if (type == InternalKey.TYPE_MERGE) {
                    s.addedMerge(seq);
                }
                return;
            }
            e.memtables.sealAndReplace(r, s, klen, vlen);
        }
    }

    /** REQUIRES: mutex held. Queues a placeholder writer and waits until it heads the queue: no leader runs then. */
    void enterAlone() {
        Writer me = new Writer(e.mutex.newCondition());
        writers.addLast(me);
        while (writers.peekFirst() != me) {
            me.cond.awaitUninterruptibly();
        }
    }

    /** REQUIRES: mutex held, the caller heads the queue. Leaves it and wakes whoever is next. */
    void leave() {
        writers.pollFirst();
        Writer next = writers.peekFirst();
        if (next != null) {
            next.cond.signal();
        }
    }
}
