package io.o3lsm.dm.client;

import io.o3lsm.dm.DmException;
import io.o3lsm.dm.DmTimeoutException;
import io.o3lsm.dm.DmUnavailableException;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.HandshakeMac;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Opcode;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.dm.transport.FrameReceiver;
import io.o3lsm.dm.transport.FrameSender;
import io.o3lsm.dm.transport.UcxNode;
import io.o3lsm.spi.MemoryNode;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * The reads a caller does on its own thread (delegated GETs and SCANs, one-sided reads): a second session with the memory node (same DB, same
 * epoch, its own HMAC handshake) on a UCX worker of its own, which the caller progresses itself
 * until its answer is there. No hand-off to the client's progress thread and back, no wake-up of
 * either: a delegated GET costs the node's answer and the transport, a one-sided read ({@link
 * MemoryNode.Client#read}) just the RMA get, with no node CPU over shared memory or RDMA.
 *
 * <p>One caller at a time (the worker is thread-safe, but one request is awaited at a time):
 * {@link #get} only tries the lock, and a caller that finds it taken goes the progress-thread way;
 * {@link #read} waits for it (a read is a few microseconds).
 *
 * <p>What it may read one-sided: only segments this client offloaded and has not freed ({@link
 * #located}, {@link #forget}), each only by the {@link MemoryNode.RemoteShard} object the offload
 * returned, only inside the shard's bytes and its slab, and only on the node instance that
 * allocated it. The node cannot check a one-sided read; these checks keep it inside the caller's own
 * immutable bytes, and the engine pins a shard's remote copy while it reads.
 *
 * <p>Failures are not reported as a lost node here: a transport failure makes {@link #get} return
 * null and {@link #read} false (the caller then asks the progress-thread way, whose failure handling
 * tells a lost node from a slow one), and the session is built again at a later use, after a backoff
 * (50 ms, doubling to 1 s) during which this way is skipped; its handshake has a short deadline. A GET the
 * node does not answer within the request timeout is a {@link DmTimeoutException}, as it would be on
 * the other way.
 */
final class CallerChannel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.o3lsm.dm.client");
    /** Spin this long on the worker before sleeping between polls (an answer usually comes within tens of µs). */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long SLEEP_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /** How long a one-sided read waits for the lock, and at most for its get, before it delegates instead. */
    private static final long LOCK_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_READ_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** A segment this client offloaded: the shard object the offload returned, and where its bytes are. */
    private record Location(MemoryNode.RemoteShard shard, long address, int slab, long nodeInstance) {
    }

    private final UcxNode node;
    private final MemoryNode.Config config;
    private final InetSocketAddress address;
    private final long timeoutNanos;
    /** A one-sided read's deadline: short, as a slow one holds up every caller's reads (it then delegates). */
    private final long readTimeoutNanos;
    private final ConcurrentHashMap<Long, Location> locations = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final SecureRandom random = new SecureRandom();
    /** The node instance the client's main session is connected to, or -1 while it is not. */
    private volatile long mainInstance = -1;
    /** The node instance the main session was last welcomed by (kept across drops); progress thread only. */
    private long lastInstance = -1;

    // under lock
    private final FrameSender sender = new FrameSender();
    private UcpWorker worker;
    private UcpEndpoint ep;
    private UcpRemoteKey[] keys = new UcpRemoteKey[0];
    private long[] slabBase = new long[0];
    private long[] slabLength = new long[0];
    /** The node instance this session authenticated with; -1 when there is none. */
    private long instance = -1;
    private boolean broken;
    private boolean closed;
    /** After a failed session, none is tried again before this (nanoTime), nor any request made this way. */
    private long retryAt;
    private long backoffNanos = MIN_BACKOFF_NANOS;
    /** Remote keys of endpoints whose close did not complete: an RMA get may still use them, so they are never destroyed. */
    private final List<UcpRemoteKey> leakedKeys = new ArrayList<>();
    private long nextRequestId = 1;
    // the answer awaited (set by the AM handler, on this thread, inside progress)
    private long awaited;
    private boolean answered;
    private int answerStatus;
    private byte[] answerBody;
    private boolean sendFailed;
    /** Landing buffer of RMA gets; a get that timed out may still write into it, so it is then replaced. */
    private ByteBuffer landing = ByteBuffer.allocateDirect(4096);
    /** Its address (position stays 0: only absolute accesses). */
    private long landingAddress = UcxUtils.getAddress(landing);
    /** Landing buffers of gets that timed out, kept reachable until {@link #release} closed the endpoint. */
    private final List<ByteBuffer> abandoned = new ArrayList<>();
    /** Outcome of the RMA get in flight: 0 pending, 1 done, 2 failed; set only by that get's own callback. */
    private int getOutcome;
    private String getProblem;
    /** Which get the outcome is for: a late completion of an abandoned get must not answer a later one. */
    private long getToken;
    private long gets;
    private long scans;
    private long reads;
    private long failures;

    CallerChannel(UcxNode node, MemoryNode.Config config, InetSocketAddress address, long timeoutNanos) {
        this.node = node;
        this.config = config;
        this.address = address;
        this.timeoutNanos = timeoutNanos;
        this.readTimeoutNanos = Math.min(timeoutNanos, MAX_READ_NANOS);
    }

    /** The main session was welcomed by node instance {@code nodeInstance} (progress thread). */
    void attach(long nodeInstance) {
        if (lastInstance != -1 && lastInstance != nodeInstance) {
            locations.clear(); // another node instance: none of the old segments exists there
        }
        lastInstance = nodeInstance;
        mainInstance = nodeInstance;
    }

    /** The main session dropped: nothing goes this way until it is welcomed again. */
    void detach() {
        mainInstance = -1;
    }

    /** An offload committed (progress thread): its shard may be read at {@code address} in {@code slab}. */
    void located(MemoryNode.RemoteShard shard, long address, int slab) {
        long m = mainInstance;
        if (m != -1) {
            locations.put(shard.segmentId(), new Location(shard, address, slab, m));
        }
    }

    /** The segment is being freed: no read of it from now on. */
    void forget(long segmentId) {
        locations.remove(segmentId);
    }

    /**
     * A delegated GET asked and answered on the caller's thread. Null if this way is busy (another
     * caller holds it) or unavailable (not connected, a transport failure): the caller then asks the
     * progress-thread way.
     *
     * @throws DmException the node's error answer, or {@link DmTimeoutException} if it did not answer in time
     */
    Messages.GetResult get(long[] segmentIds, byte[] userKey, long snapshotSequence) throws DmException {
        return ask(Opcode.GET, new Messages.Get(snapshotSequence, userKey, segmentIds)
                .encode(new BodyWriter(32 + userKey.length + 8 * segmentIds.length)),
                b -> Messages.GetResult.decode(b, 0, b.capacity()));
    }

    /** A MULTI_GET ({@code body} encoded, {@code asked} keys) on the caller's thread; null as for {@link #get}. */
    Messages.MultiGetResult multiGet(BodyWriter body, int asked) throws DmException {
        return ask(Opcode.MULTI_GET, body, b -> Messages.MultiGetResult.decode(b, 0, b.capacity(), asked));
    }

    /** A delegated SCAN ({@code body} encoded) on the caller's thread; null as for {@link #get}. */
    MemoryNode.ScanBatch scan(BodyWriter body) throws DmException {
        return ask(Opcode.SCAN, body, b -> Messages.ScanBatch.decodeRaw(b, 0, b.capacity()));
    }

    private interface Decoder<T> {
        T decode(DirectBuffer answer) throws MalformedMessageException;
    }

    /** One request on the caller's thread, its OK answer decoded; null if this way is busy or unavailable. */
    private <T> T ask(int opcode, BodyWriter body, Decoder<T> decoder) throws DmException {
        long m = mainInstance;
        if (m == -1 || !lock.tryLock()) {
            return null;
        }
        try {
            if (closed || !ready(m)) {
                return null;
            }
            if (opcode == Opcode.GET || opcode == Opcode.MULTI_GET) {
                gets++;
            } else {
                scans++;
            }
            DirectBuffer answer = request(opcode, body, true);
            if (answer == null) {
                return null;
            }
            try {
                return decoder.decode(answer);
            } catch (MalformedMessageException e) {
                throw new DmException(Status.BAD_REQUEST, "malformed " + Opcode.name(opcode) + " response: "
                        + e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    /** See {@link MemoryNode.Client#read}. */
    boolean read(MemoryNode.RemoteShard shard, int offset, int length, byte[] dst) {
        MemoryNode.checkRead(shard, offset, length, dst);
        Location loc = locations.get(shard.segmentId());
        long m = mainInstance;
        if (loc == null || loc.shard() != shard || m == -1 || loc.nodeInstance() != m) {
            return false;
        }
        if (length == 0) {
            return true;
        }
        try {
            // a read holds the lock for microseconds; one that waits longer than that delegates instead
            if (!lock.tryLock(LOCK_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            if (closed || !ready(m) || loc.slab() >= keys.length) {
                return false;
            }
            long from = loc.address() + offset;
            if (from < slabBase[loc.slab()] || from + length > slabBase[loc.slab()] + slabLength[loc.slab()]) {
                return false;
            }
            if (landing.capacity() < length) {
                newLanding(Integer.highestOneBit(length - 1) << 1);
            }
            reads++;
            landing.putLong(0, 0L); // stale bytes of an earlier read never decode as a node
            landing.putInt(8, 0);
            getOutcome = 0;
            long token = ++getToken;
            try {
                ep.getNonBlocking(from, keys[loc.slab()], landingAddress, length, new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        if (token == getToken) {
                            getOutcome = 1;
                        }
                    }

                    @Override
                    public void onError(int status, String msg) {
                        if (token == getToken) {
                            getOutcome = 2;
                            getProblem = "UCX status " + status + ": " + msg;
                        }
                    }
                });
                awaitProgress(() -> getOutcome != 0, System.nanoTime() + readTimeoutNanos);
            } catch (Exception e) { // UcxException, or progress()'s checked Exception
                abandoned.add(landing); // the get may still be in flight
                newLanding(landing.capacity());
                return failed("RMA get failed: " + e);
            }
            if (getOutcome == 0) {
                abandoned.add(landing); // the late get may still land in it: kept until the endpoint is closed
                newLanding(landing.capacity());
                return failed("RMA get of " + length + " bytes not completed within " + readTimeoutNanos / 1_000_000 + " ms");
            }
            if (getOutcome != 1 || broken) {
                return failed("RMA get failed (" + getProblem + ")");
            }
            landing.get(0, dst, 0, length);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Outcomes of the gets of one {@link #readMany}: 0 pending, 1 done, 2 failed, 3 not posted. */
    private int[] manyOutcome = new int[0];
    private int manyPending;

    /**
     * See {@link MemoryNode.Client#readMany}: every get posted at once into one landing buffer
     * (each at its own offset), then the worker progressed until all completed. A read this
     * session cannot serve (unknown segment, another node instance, outside the slab) is false and
     * not posted; if any posted get fails or times out, the session is marked broken as for
     * {@link #read}, and every read of the call is false (a landing buffer a late get may still
     * write into is not read).
     */
    boolean[] readMany(List<MemoryNode.RemoteShard> shards, int[] offsets, int[] lengths, byte[][] dsts) {
        int n = shards.size();
        boolean[] ok = new boolean[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            MemoryNode.checkRead(shards.get(i), offsets[i], lengths[i], dsts[i]);
            total += lengths[i];
        }
        long m = mainInstance;
        if (n == 0 || m == -1 || total > (64 << 20)) {
            return ok;
        }
        try {
            if (!lock.tryLock(LOCK_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                return ok;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ok;
        }
        try {
            if (closed || !ready(m)) {
                return ok;
            }
            if (landing.capacity() < total + 16) {
                newLanding(Integer.highestOneBit((int) total + 15) << 1);
            }
            if (manyOutcome.length < n) {
                manyOutcome = new int[Math.max(16, Integer.highestOneBit(n - 1) << 1)];
            }
            int[] outcome = manyOutcome;
            java.util.Arrays.fill(outcome, 0, n, 0);
            int[] at = new int[n];
            long token = ++getToken;
            manyPending = 0;
            int pos = 0;
            try {
                for (int i = 0; i < n; i++) {
                    MemoryNode.RemoteShard shard = shards.get(i);
                    Location loc = locations.get(shard.segmentId());
                    if (loc == null || loc.shard() != shard || loc.nodeInstance() != m || loc.slab() >= keys.length) {
                        outcome[i] = 3; // not this session's to read: not posted
                        continue;
                    }
                    long from = loc.address() + offsets[i];
                    int len = lengths[i];
                    if (from < slabBase[loc.slab()] || from + len > slabBase[loc.slab()] + slabLength[loc.slab()]) {
                        outcome[i] = 3;
                        continue;
                    }
                    if (len == 0) {
                        outcome[i] = 1;
                        continue;
                    }
                    at[i] = pos;
                    landing.putLong(pos, 0L); // stale bytes of an earlier read never decode as a node
                    pos += len;
                    reads++;
                    manyPending++;
                    final int idx = i;
                    ep.getNonBlocking(from, keys[loc.slab()], landingAddress + at[i], len, new UcxCallback() {
                        @Override
                        public void onSuccess(UcpRequest request) {
                            if (token == getToken) {
                                manyOutcome[idx] = 1;
                                manyPending--;
                            }
                        }

                        @Override
                        public void onError(int status, String msg) {
                            if (token == getToken) {
                                manyOutcome[idx] = 2;
                                manyPending--;
                                getProblem = "UCX status " + status + ": " + msg;
                            }
                        }
                    });
                }
                awaitProgress(() -> manyPending == 0, System.nanoTime() + readTimeoutNanos);
            } catch (Exception e) { // UcxException, or progress()'s checked Exception
                ++getToken; // late completions of this call change nothing
                abandoned.add(landing); // gets may still be in flight
                newLanding(landing.capacity());
                failed("RMA get failed: " + e);
                return new boolean[n];
            }
            if (manyPending != 0) {
                ++getToken;
                abandoned.add(landing); // late gets may still land in it: kept until the endpoint is closed
                newLanding(landing.capacity());
                failed(manyPending + " RMA gets not completed within " + readTimeoutNanos / 1_000_000 + " ms");
                return new boolean[n];
            }
            if (broken) {
                failed("RMA gets failed: the endpoint broke");
                return new boolean[n];
            }
            for (int i = 0; i < n; i++) {
                if (outcome[i] == 2) {
                    failed("RMA get failed (" + getProblem + ")");
                    return new boolean[n];
                }
            }
            for (int i = 0; i < n; i++) {
                if (outcome[i] == 1) {
                    landing.get(at[i], dsts[i], 0, lengths[i]);
                    ok[i] = true;
                }
            }
            return ok;
        } finally {
            lock.unlock();
        }
    }

    private void newLanding(int capacity) {
        landing = ByteBuffer.allocateDirect(capacity);
        landingAddress = UcxUtils.getAddress(landing);
    }

    private interface Done {
        boolean done();
    }

    /** Under the lock: progresses the worker until {@code done} or the deadline; spins first, then naps. */
    private void awaitProgress(Done done, long deadline) throws Exception {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        for (int i = 0; !done.done() && !broken; i++) {
            if (worker.progress() > 0) {
                continue;
            }
            if (Thread.currentThread().isInterrupted()) {
                return; // the caller sees the flag: no spinning on a thread that is told to stop
            }
            if ((i & 63) == 0) {
                long now = System.nanoTime();
                if (now - deadline > 0) {
                    return;
                }
                if (now - spinUntil > 0) {
                    LockSupport.parkNanos(SLEEP_NANOS);
                }
            }
        }
    }

    /**
     * Under the lock: sends one request and progresses until its answer. Returns the body of an OK
     * answer; null on a transport failure ({@code mayTimeOut} false: also when not answered in time).
     */
    private DirectBuffer request(int opcode, BodyWriter body, boolean mayTimeOut) throws DmException {
        return request(opcode, body, mayTimeOut, timeoutNanos);
    }

    private DirectBuffer request(int opcode, BodyWriter body, boolean mayTimeOut, long deadlineNanos)
            throws DmException {
        long id = nextRequestId++;
        awaited = id;
        answered = false;
        answerBody = null;
        sendFailed = false;
        try {
            sender.send(ep, MessageHeaderDescriptor.AM_REQUEST, opcode, 0, id, body.buffer(), 0, body.length(),
                    UcpConstants.UCP_AM_SEND_FLAG_REPLY, (status, err) -> {
                        if (status != 0) {
                            sendFailed = true;
                        }
                    });
            awaitProgress(() -> answered || sendFailed, System.nanoTime() + deadlineNanos);
        } catch (Exception e) {
            failed(Opcode.name(opcode) + " failed: " + e);
            return null;
        }
        if (!answered && Thread.currentThread().isInterrupted()) {
            failed(Opcode.name(opcode) + " interrupted");
            throw new DmUnavailableException(Opcode.name(opcode) + " interrupted");
        }
        if (!answered) {
            boolean timedOut = !sendFailed && !broken;
            failed(Opcode.name(opcode) + (timedOut ? " not answered in time" : " failed: the endpoint failed"));
            if (timedOut && mayTimeOut) {
                throw new DmTimeoutException(Opcode.name(opcode) + " to memory node " + config.address()
                        + " not answered within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) + " ms");
            }
            return null;
        }
        if (answerStatus != Status.OK) {
            throw DmException.forStatus(answerStatus, new String(answerBody, StandardCharsets.UTF_8));
        }
        return new UnsafeBuffer(answerBody);
    }

    /** Under the lock: a session authenticated with node instance {@code m}, made (again) if needed. */
    private boolean ready(long m) {
        if (ep != null && !broken && instance == m) {
            return true;
        }
        if (System.nanoTime() - retryAt < 0) {
            return false; // backing off after a failure: this way is skipped, the other is used
        }
        release();
        try {
            if (worker == null) {
                UcpWorker w = node.newWorker();
                try {
                    w.setAmRecvHandler(MessageHeaderDescriptor.AM_RESPONSE, new FrameReceiver(
                        new FrameReceiver.FrameHandler() {
                            @Override
                            public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId,
                                    DirectBuffer body, int length) {
                                answer(requestId, status, body, length);
                            }

                            @Override
                            public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status,
                                    String problem) {
                                byte[] b = problem.getBytes(StandardCharsets.UTF_8);
                                answer(requestId, status, new UnsafeBuffer(b), b.length);
                            }
                        }));
                } catch (RuntimeException e) {
                    w.close();
                    throw e;
                }
                worker = w;
            }
            broken = false;
            ep = worker.newEndpoint(new UcpEndpointParams().setSocketAddress(address).setPeerErrorHandlingMode()
                    .setName("o3-dm-caller-" + config.dbId()).setErrorHandler((e, status, msg) -> broken = true));
            byte[] clientNonce = new byte[Messages.NONCE_LENGTH];
            random.nextBytes(clientNonce);
            // a short deadline: a caller builds the session on its own thread, before its own request
            DirectBuffer b = request(Opcode.HELLO, new Messages.Hello(config.epoch(), config.dmBudget(), clientNonce,
                    config.dbId(), Messages.ROLE_DB).encode(new BodyWriter()), false, readTimeoutNanos);
            if (b == null) {
                return false;
            }
            Messages.Challenge c = Messages.Challenge.decode(b, 0, b.capacity());
            if (c.nodeInstance() != m) {
                failed("the node instance changed (main session: " + Long.toHexString(m) + ", this one: "
                        + Long.toHexString(c.nodeInstance()) + ")");
                return false;
            }
            byte[] mac = HandshakeMac.client(config.secret(), c.serverNonce(), clientNonce, config.epoch(),
                    config.dbId(), Messages.ROLE_DB);
            b = request(Opcode.AUTH, new Messages.Auth(mac).encode(new BodyWriter()), false, readTimeoutNanos);
            if (b == null) {
                return false;
            }
            Messages.Welcome w = Messages.Welcome.decode(b, 0, b.capacity());
            byte[] expected = HandshakeMac.node(config.secret(), clientNonce, c.serverNonce(), config.epoch(),
                    config.dbId(), Messages.ROLE_DB);
            if (!HandshakeMac.matches(expected, w.nodeMac())) {
                failed("the node failed to prove it knows the cluster secret");
                return false;
            }
            int n = w.slabs().size();
            keys = new UcpRemoteKey[n]; // release() closes those unpacked if a later one fails
            slabBase = new long[n];
            slabLength = new long[n];
            for (int i = 0; i < n; i++) {
                Messages.Slab s = w.slabs().get(i);
                ByteBuffer packed = ByteBuffer.allocateDirect(s.rkey().length);
                packed.put(s.rkey()).flip();
                keys[i] = ep.unpackRemoteKey(packed);
                slabBase[i] = s.address();
                slabLength[i] = s.length();
            }
            instance = m;
            backoffNanos = MIN_BACKOFF_NANOS;
            return true;
        } catch (UcxException | MalformedMessageException | DmException | IllegalStateException e) {
            failed("cannot open the caller session: " + e.getMessage());
            return false;
        } finally {
            if (instance != m) {
                release();
            }
        }
    }

    /** On this thread, inside progress: the answer to the request awaited (others are late answers: dropped). */
    private void answer(long requestId, int status, DirectBuffer body, int length) {
        if (requestId != awaited || answered) {
            return;
        }
        byte[] copy = new byte[length];
        body.getBytes(0, copy, 0, length);
        answerBody = copy;
        answerStatus = status;
        answered = true;
    }

    private boolean failed(String why) {
        broken = true;
        retryAt = System.nanoTime() + backoffNanos;
        backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        if (failures++ % 1000 == 0) {
            LOG.log(Level.DEBUG, "o3lsm-dm: caller session with " + config.address() + ": " + why + " (asked the"
                    + " progress-thread way instead; " + failures + " such so far)");
        }
        return false;
    }

    /**
     * Under the lock: closes the endpoint (an RMA get still outstanding completes, with an error,
     * before the close does), then destroys the remote keys.
     */
    private void release() {
        boolean closedCleanly = true;
        if (ep != null) {
            try {
                UcpRequest r = ep.closeNonBlockingForce();
                long deadline = System.nanoTime() + readTimeoutNanos;
                while (r != null && !r.isCompleted() && System.nanoTime() - deadline < 0) {
                    worker.progress();
                }
                closedCleanly = r == null || r.isCompleted();
            } catch (Exception e) {
                closedCleanly = false;
                LOG.log(Level.DEBUG, "o3lsm-dm: closing the caller session's endpoint: " + e);
            }
            ep = null;
        }
        if (closedCleanly) {
            abandoned.clear(); // every get on the endpoint has completed: nothing can land in them any more
        }
        for (UcpRemoteKey k : keys) {
            if (k != null && !closedCleanly) {
                leakedKeys.add(k); // a get may still use it: destroying it now is what UCX forbids
            } else if (k != null) {
                try {
                    k.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.DEBUG, "o3lsm-dm: releasing a remote key: " + e);
                }
            }
        }
        keys = new UcpRemoteKey[0];
        instance = -1;
    }

    /** Test hook: GETs, one-sided reads and SCANs this way so far. */
    long[] counts() {
        lock.lock();
        try {
            return new long[] {gets, reads, scans};
        } finally {
            lock.unlock();
        }
    }

    /** Before the client's UCX node closes (its context must outlive this worker). */
    @Override
    public void close() {
        lock.lock();
        try {
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
        } finally {
            lock.unlock();
        }
    }
}
