package io.o3lsm.dm.replication;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * The primary's log ring: the registered staging ring, the live backups, publishing, the puts into
 * the backups' log buffers and the acknowledgements ({@code docs/format/replication-protocol.md},
 * "The log ring").
 *
 * <p>{@link #publish} runs on the write leader only; {@link #pump} on the progress thread;
 * {@link #awaitAcks} on any thread. A backup becomes live in {@link #goLive}, called while the
 * engine holds its WAL append lock (no publish runs), and leaves in {@link #removeLive}. Tickets
 * count write groups; {@link #publishedTicket} is written after the ring's published position, and
 * the pump reads it before the position, so a ticket it acknowledges is always below what it put.
 */
final class LogRing {
    /** The staging ring: registered memory, same size and offsets as every backup's log buffer. */
    static final class Ring {
        final int size;
        final int instance;
        final UcpMemory memory;
        final UnsafeBuffer buffer;
        final ByteBuffer crcView;
        final CRC32C crc = new CRC32C();
        long writePos; // write leader only
        volatile long publishedPos;

        Ring(UcpMemory memory, int size, int instance) {
            this.memory = memory;
            this.size = size;
            this.instance = instance;
            this.buffer = new UnsafeBuffer(memory.getAddress(), size);
            this.crcView = UcxUtils.getByteBufferView(memory.getAddress(), size);
        }
    }

    private final ReplicationPrimary primary;
    private final Object liveLock = new Object();
    private final Object ackMonitor = new Object();
    private final AtomicInteger ackWaiters = new AtomicInteger();
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    /**
     * A waiter wants the puts so far flushed (remote completion). Without one, the pump only puts:
     * async writes need no acknowledgement, and a flush per group costs the progress thread (on the
     * writer's core) as much as the put.
     */
    private final AtomicBoolean flushWanted = new AtomicBoolean();
    private final Runnable pump = this::pump;
    /** Live backups (publish's targets); replaced under {@link #liveLock}. */
    private volatile PrimarySession[] live = new PrimarySession[0];
    private volatile Ring ring;
    // write leader only
    private long tickets;
    /** Tickets published so far; written after the ring's published position. */
    private volatile long publishedTicket;

    LogRing(ReplicationPrimary primary) {
        this.primary = primary;
    }

    Ring ring() {
        return ring;
    }

    /** Progress thread, at the first ATTACH. */
    Ring createRing(UcpMemory memory, int size, int instance) {
        Ring r = new Ring(memory, size, instance);
        ring = r;
        return r;
    }

    /** Closing: no backup is live any more; waiters wake. */
    void clear() {
        synchronized (liveLock) {
            live = new PrimarySession[0];
        }
        signalAcks();
    }

    void removeLive(PrimarySession s) {
        synchronized (liveLock) {
            PrimarySession[] cur = live;
            int n = 0;
            PrimarySession[] next = new PrimarySession[cur.length];
            for (PrimarySession x : cur) {
                if (x != s) {
                    next[n++] = x;
                }
            }
            if (n != cur.length) {
                live = java.util.Arrays.copyOf(next, n);
            }
        }
        s.live = false;
        signalAcks();
    }

    /** The session's catch-up is done (caller holds the engine's WAL append lock): it gets every group from now on. */
    void goLive(PrimarySession s) throws IOException {
        Ring r = ring;
        synchronized (liveLock) {
            if (s.failure() != null) {
                throw new IOException("backup " + s.name + " cannot go live: " + s.failure());
            }
            long p = r.publishedPos;
            s.sent = p;
            s.consumed = p;
            s.acked = publishedTicket;
            s.flushedTicket = publishedTicket;
            s.startPosition = p;
            s.live = true;
            PrimarySession[] cur = live;
            PrimarySession[] next = java.util.Arrays.copyOf(cur, cur.length + 1);
            next[cur.length] = s;
            live = next;
        }
        ReplicationPrimary.LOG.log(Level.INFO, "o3lsm-repl: backup " + s.name + " is live at ring position " + s.startPosition);
    }

    long publish(long walNumber, List<byte[]> records, int[] lengths) throws IOException {
        long ticket = ++tickets;
        PrimarySession[] targets = live;
        Ring r = ring;
        if (targets.length == 0 || r == null || primary.isClosed()) {
            publishedTicket = ticket;
            return ticket;
        }
        long payload = RingFrameDescriptor.payloadLength(records, lengths);
        long frame = RingFrameDescriptor.frameLength(payload);
        if (frame > r.size / 2) {
            for (PrimarySession s : targets) {
                primary.drop(s, "a write group of " + payload + " bytes does not fit the log ring (" + r.size
                        + " bytes; a frame may take at most half): raise the backups' logBuffer");
            }
            publishedTicket = ticket;
            return ticket;
        }
        long pos = r.writePos;
        int off = (int) (pos % r.size);
        int tail = r.size - off;
        long skip = tail < frame ? tail : 0;
        long end = pos + skip + frame;
        awaitSpace(targets, r, end);
        if (skip >= RingFrameDescriptor.HEADER_LENGTH) {
            RingFrameDescriptor.writePad(r.buffer, r.crcView, r.crc, off, pos, r.instance, r.size);
        }
        long at = pos + skip;
        RingFrameDescriptor.writeLog(r.buffer, r.crcView, r.crc, (int) (at % r.size), at, walNumber, r.instance,
                records, lengths, (int) payload);
        r.writePos = end;
        r.publishedPos = end;
        publishedTicket = ticket;
        // async groups are put in batches: waking the progress thread (on the writer's core) for every
        // group costs more than the put; a waiter (awaitAcks), a full batch or the timer pumps at once
        if (end - pumpedPos >= PUMP_BATCH_BYTES || ackWaiters.get() > 0) {
            schedulePump();
        }
        return ticket;
    }

    /** Bytes published before the writer wakes the progress thread itself (the timer pumps the rest). */
    static final long PUMP_BATCH_BYTES = 64 << 10;
    /** The ring position the last pump started from (progress thread writes, others read). */
    private volatile long pumpedPos;

    private void schedulePump() {
        if (pumpScheduled.compareAndSet(false, true)) {
            primary.node.submit(pump);
        }
    }

    /** The primary's timer (every {@link ReplicationPrimary#PUMP_MILLIS} ms): pumps what is published and not yet put. */
    void pumpIfBehind() {
        Ring r = ring;
        if (r != null && r.publishedPos > pumpedPos) {
            schedulePump();
        }
    }

    /** Waits until every target has room for the ring up to {@code end}; drops those that stay full for ackTimeout. */
    private void awaitSpace(PrimarySession[] targets, Ring r, long end) {
        long deadline = 0;
        for (PrimarySession s : targets) {
            int spins = 0;
            while (s.live && end - s.consumed > r.size) {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + primary.ackTimeoutNanos;
                } else if (now - deadline > 0) {
                    primary.drop(s, "its log buffer stayed full for " + TimeUnit.NANOSECONDS.toMillis(primary.ackTimeoutNanos)
                            + " ms (consumed " + s.consumed + ", needed " + (end - r.size) + ")");
                    break;
                }
                if (spins == 0) {
                    schedulePump(); // the backup frees space only once it has what is published
                }
                if (++spins < 100) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(50_000);
                }
            }
        }
    }

    /** Progress thread: puts what was published since the last pump into every live backup's buffer, then flushes. */
    private void pump() {
        pumpScheduled.set(false);
        boolean flush = flushWanted.getAndSet(false) || ackWaiters.get() > 0;
        Ring r = ring;
        if (r == null) {
            return;
        }
        long ticket = publishedTicket; // before the position: the ticket's frames are below it
        long p = r.publishedPos;
        pumpedPos = p;
        for (PrimarySession s : live) {
            if (!s.live || s.endpointClosed || (s.sent >= p && (!flush || s.flushedTicket >= ticket))) {
                continue;
            }
            long from = s.sent;
            try {
                while (from < p) {
                    int off = (int) (from % r.size);
                    int n = (int) Math.min(p - from, r.size - off);
                    s.ep.putNonBlocking(r.memory.getAddress() + off, n, s.logAddress() + off, s.logKey(), ReplicationPrimary.NO_CALLBACK);
                    from += n;
                }
                s.bytesSent.addAndGet(p - s.sent);
                s.sent = p;
                if (!flush) {
                    continue;
                }
                s.flushedTicket = ticket;
                s.ep.flushNonBlocking(new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        if (ticket > s.acked) {
                            s.acked = ticket;
                        }
                        signalAcks();
                    }

                    @Override
                    public void onError(int status, String msg) {
                        primary.node.submit(() -> primary.endSession(s, "flush failed (UCX status " + status + ": " + msg + ")", 0, null));
                    }
                });
            } catch (UcxException e) {
                primary.endSession(s, "RMA put failed: " + e.getMessage(), 0, null);
            }
        }
    }

    void signalAcks() {
        if (ackWaiters.get() > 0) {
            synchronized (ackMonitor) {
                ackMonitor.notifyAll();
            }
        }
    }

    void awaitAcks(long ticket, int acks) throws IOException {
        if (acks <= 0) {
            return;
        }
        long deadline = System.nanoTime() + primary.ackTimeoutNanos;
        ackWaiters.incrementAndGet();
        // the pump after this flushes what earlier pumps only put
        flushWanted.set(true);
        schedulePump();
        try {
            synchronized (ackMonitor) { // acks are signalled under the monitor: none is missed between count and wait
                while (true) {
                    if (primary.isClosed()) {
                        throw new IOException("replication: the primary is closed");
                    }
                    String f = primary.fencedReason();
                    if (f != null) {
                        throw new IOException("replication: " + f + "; this primary cannot be acknowledged");
                    }
                    int n = 0;
                    for (PrimarySession s : live) {
                        if (s.acked >= ticket) {
                            n++;
                        }
                    }
                    if (n >= acks) {
                        return;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IOException(ackFailure(ticket, acks, n));
                    }
                    TimeUnit.NANOSECONDS.timedWait(ackMonitor, left);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("replication: interrupted waiting for " + acks + " backup acknowledgement(s)", e);
        } finally {
            ackWaiters.decrementAndGet();
        }
    }

    private String ackFailure(long ticket, int acks, int got) {
        int liveCount = live.length;
        int catching = primary.attached.size() - liveCount;
        StringBuilder sb = new StringBuilder("replication: ").append(got).append(" of ").append(acks)
                .append(" required backup(s) acknowledged write group ").append(ticket).append(" within ")
                .append(TimeUnit.NANOSECONDS.toMillis(primary.ackTimeoutNanos)).append(" ms: ");
        if (liveCount < acks) {
            sb.append("not enough backups connected (").append(liveCount).append(" live, ").append(Math.max(0, catching))
                    .append(" catching up)");
        } else {
            sb.append("timed out (").append(liveCount).append(" live)");
        }
        if (!primary.lastDrop.isEmpty()) {
            sb.append("; last drops: ").append(primary.lastDrop);
        }
        return sb.toString();
    }
}
