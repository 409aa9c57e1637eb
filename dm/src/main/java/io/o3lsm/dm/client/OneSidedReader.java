package io.o3lsm.dm.client;

import io.o3lsm.dm.transport.UcxNode;
import io.o3lsm.spi.MemoryNode;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * One-sided reads of parts of offloaded shards ({@link MemoryNode.Client#read}), done on the
 * caller's own thread: a UCX worker of its own (not the client's progress thread, whose wake-ups
 * cost more than the read), connected to the node's worker by the address the node sent in its
 * welcome, with the slabs' remote keys unpacked on that endpoint. A caller posts the RMA get and
 * progresses this worker itself until the get completes; no thread hand-off, no message, and over
 * shared memory no CPU of the node. One caller at a time (this object's monitor): a UCX worker in
 * single-thread mode may be touched by one thread at a time.
 *
 * <p>What it may read: only segments this client offloaded and has not freed ({@link #located},
 * {@link #forget}), each only by the {@link MemoryNode.RemoteShard} object the offload returned, and
 * only inside the shard's bytes; a new node instance forgets every location. The node cannot check a
 * one-sided read, so these checks are what keeps a read inside the caller's own immutable bytes;
 * the engine pins a shard's remote copy while it reads, so a flush cannot free it under the read.
 *
 * <p>Failures are never reported as a lost node here: a read that fails or does not complete in
 * time returns false (the engine then asks by a delegated get, which tells a lost node from a slow
 * one), and the endpoint is rebuilt before the next read.
 */
final class OneSidedReader implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.o3lsm.dm.client");

    /** What the node said in its welcome: its worker's address and its slabs. Immutable. */
    record Target(long nodeInstance, byte[] workerAddress, long[] slabBase, long[] slabLength, List<byte[]> rkeys) {
    }

    /** A segment this client offloaded: the shard object the offload returned, and where its bytes are. */
    private record Location(MemoryNode.RemoteShard shard, long address, int slab, long nodeInstance) {
    }

    private final UcxNode node;
    private final String peer;
    private final long timeoutNanos;
    private final ConcurrentHashMap<Long, Location> locations = new ConcurrentHashMap<>();
    private volatile Target target;

    // under this object's monitor
    private UcpWorker worker;
    private UcpEndpoint ep;
    private UcpRemoteKey[] keys = new UcpRemoteKey[0];
    private Target connectedTo;
    private boolean broken;
    private boolean closed;
    /** Landing buffer of the gets: a get that timed out may still write into it, so it is then replaced. */
    private ByteBuffer landing = ByteBuffer.allocateDirect(4096);
    /** Its address (UcxUtils.getAddress adds the position, which stays 0: only absolute accesses here). */
    private long landingAddress = UcxUtils.getAddress(landing);
    /** Landing buffers of gets that timed out, kept reachable until {@link #release} has closed the endpoint. */
    private final List<ByteBuffer> abandoned = new java.util.ArrayList<>();
    private long reads;
    private long failures;
    /** Outcome of the get in flight, set by {@link #done} (on this thread, inside progress or the post). */
    private int outcome;
    private String outcomeMessage;
    private static final int PENDING = 0;
    private static final int OK = 1;
    private static final int FAILED = 2;
    private final UcxCallback done = new UcxCallback() {
        @Override
        public void onSuccess(UcpRequest request) {
            outcome = OK;
        }

        @Override
        public void onError(int status, String msg) {
            outcome = FAILED;
            outcomeMessage = "UCX status " + status + ": " + msg;
        }
    };

    OneSidedReader(UcxNode node, String peer, long timeoutNanos) {
        this.node = node;
        this.peer = peer;
        this.timeoutNanos = timeoutNanos;
    }

    /** The node welcomed this client (progress thread): reads go to this target from now on. */
    void attach(Target t) {
        Target old = target;
        if (old != null && old.nodeInstance() != t.nodeInstance()) {
            locations.clear(); // another node instance: none of the old segments exists there
        }
        target = t;
    }

    /** The connection dropped: no one-sided read until the next welcome. */
    void detach() {
        target = null;
    }

    /** An offload committed (progress thread): its shard may be read at {@code address} in {@code slab}. */
    void located(MemoryNode.RemoteShard shard, long address, int slab) {
        Target t = target;
        if (t != null) {
            locations.put(shard.segmentId(), new Location(shard, address, slab, t.nodeInstance()));
        }
    }

    /** The segment is being freed: no read of it from now on. */
    void forget(long segmentId) {
        locations.remove(segmentId);
    }

    /** See {@link MemoryNode.Client#read}. */
    boolean read(MemoryNode.RemoteShard shard, int offset, int length, byte[] dst) {
        if (offset < 0 || length < 0 || (long) offset + length > shard.length() || length > dst.length) {
            throw new IllegalArgumentException("read of [" + offset + ", " + ((long) offset + length)
                    + ") from a shard of " + shard.length() + " bytes into " + dst.length + " bytes");
        }
        Location loc = locations.get(shard.segmentId());
        Target t = target;
        if (loc == null || loc.shard() != shard || t == null || loc.nodeInstance() != t.nodeInstance()) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        synchronized (this) {
            if (closed || !ready(t) || loc.slab() >= keys.length) {
                return false;
            }
            long from = loc.address() + offset;
            if (from < t.slabBase()[loc.slab()] || from + length > t.slabBase()[loc.slab()] + t.slabLength()[loc.slab()]) {
                return false;
            }
            if (landing.capacity() < length) {
                newLanding(Integer.highestOneBit(length - 1) << 1);
            }
            reads++;
            landing.putLong(0, 0L); // stale bytes of an earlier read never decode as a node
            landing.putInt(8, 0);
            outcome = PENDING;
            try {
                ep.getNonBlocking(from, keys[loc.slab()], landingAddress, length, done);
                long deadline = System.nanoTime() + timeoutNanos;
                int spins = 0;
                while (outcome == PENDING) {
                    worker.progress();
                    if ((++spins & 255) == 0 && System.nanoTime() - deadline > 0) {
                        break;
                    }
                }
            } catch (Exception e) { // UcxException, or progress()'s checked Exception
                return failed("RMA get failed: " + e);
            }
            if (outcome == PENDING) {
                abandoned.add(landing); // the late get may still land in it: kept until the endpoint is closed
                newLanding(landing.capacity());
                return failed("RMA get of " + length + " bytes not completed within " + timeoutNanos / 1_000_000 + " ms");
            }
            if (outcome != OK || broken) {
                return failed("RMA get failed (" + outcomeMessage + ")");
            }
            landing.get(0, dst, 0, length); // absolute: the buffer's position never moves
            return true;
        }
    }

    private void newLanding(int capacity) {
        landing = ByteBuffer.allocateDirect(capacity);
        landingAddress = UcxUtils.getAddress(landing);
    }

    /** Under the monitor: the endpoint to {@code t}, made (again) if the target changed or it broke. */
    private boolean ready(Target t) {
        if (ep != null && connectedTo == t && !broken) {
            return true;
        }
        release();
        try {
            if (worker == null) {
                worker = node.newWorker();
            }
            ByteBuffer addr = ByteBuffer.allocateDirect(t.workerAddress().length);
            addr.put(t.workerAddress()).flip();
            ep = worker.newEndpoint(new UcpEndpointParams().setUcpAddress(addr).setPeerErrorHandlingMode()
                    .setName("o3-dm-read").setErrorHandler((e, status, msg) -> broken = true));
            keys = new UcpRemoteKey[t.rkeys().size()]; // release() closes those unpacked if a later one fails
            for (int i = 0; i < keys.length; i++) {
                byte[] packed = t.rkeys().get(i);
                ByteBuffer b = ByteBuffer.allocateDirect(packed.length);
                b.put(packed).flip();
                keys[i] = ep.unpackRemoteKey(b);
            }
            connectedTo = t;
            broken = false;
            return true;
        } catch (UcxException | IllegalStateException e) {
            failed("cannot connect for one-sided reads: " + e.getMessage());
            release();
            return false;
        }
    }

    private boolean failed(String why) {
        broken = true;
        if (failures++ % 1000 == 0) {
            LOG.log(Level.DEBUG, "o3lsm-dm: one-sided read from " + peer + ": " + why + " (the read is delegated; "
                    + failures + " such so far)");
        }
        return false;
    }

    /**
     * Under the monitor: closes the endpoint (a get still outstanding completes, with an error, before
     * the close does), then destroys the remote keys.
     */
    private void release() {
        if (ep != null) {
            try {
                UcpRequest r = ep.closeNonBlockingForce();
                long deadline = System.nanoTime() + 1_000_000_000L;
                while (r != null && !r.isCompleted() && System.nanoTime() - deadline < 0) {
                    worker.progress();
                }
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "o3lsm-dm: closing the one-sided read endpoint: " + e);
            }
            ep = null;
        }
        abandoned.clear();
        for (UcpRemoteKey k : keys) {
            if (k != null) {
                try {
                    k.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.DEBUG, "o3lsm-dm: releasing a remote key: " + e);
                }
            }
        }
        keys = new UcpRemoteKey[0];
        connectedTo = null;
    }

    synchronized long reads() {
        return reads;
    }

    /** Before the client's UCX node closes (its context must outlive this worker). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        release();
        if (worker != null) {
            worker.close();
            worker = null;
        }
        locations.clear();
    }
}
