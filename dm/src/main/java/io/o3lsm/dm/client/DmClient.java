package io.o3lsm.dm.client;

import io.o3lsm.dm.DmAuthException;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * {@link MemoryNode.Client} over UCX: one context, worker and progress thread ({@link UcxNode}) per
 * client, one endpoint to the memory node.
 *
 * <p><b>Threads.</b> Public methods may be called from any thread. They encode on the caller's
 * thread and hand the send to the progress thread; every piece of connection state (endpoint,
 * remote keys, pending requests, offload queue) is touched only there. Blocking calls wait on a
 * future; every request has a deadline ({@code requestTimeout}) enforced by a timer thread,
 * because UCX reports a dead peer but never a hung one.
 *
 * <p><b>Offload.</b> ALLOC → one RMA put of the shard's bytes straight from the caller's direct
 * buffer (no staging copy) → endpoint flush (remote completion) → COMMIT, which the node answers
 * after checking the CRC32C. At most {@code inflightLimit} offloads run at once; more wait in a
 * FIFO queue. A failed offload frees its segment, but never while its put may still land: a put
 * that outlived its deadline is fenced first (its own completion, then an endpoint flush, or the
 * endpoint's close), and the source buffer stays referenced until then.
 *
 * <p><b>RMA and memory.</b> No memory an outstanding RMA operation can reach is released: a
 * read-back's destination buffer stays referenced by the client until its RMA get completes or the
 * endpoint is closed (the caller may give up at the deadline and drop it), and a segment is freed
 * only once no put into it can land (see Offload). A dropped connection's endpoint is closed, and
 * its close completed (UCX has then completed every operation still outstanding on it, with an
 * error), before its remote keys are destroyed.
 *
 * <p><b>FREEs are never lost to a connection failure.</b> The node keeps a disconnected session's
 * segments (same DB id and epoch) until they are freed or the epoch is superseded, so a FREE asked
 * for while disconnected, or pending or unanswered (timed out) when the connection dropped, is owed
 * and sent after the reconnect. A segment id names one segment of one node instance (random high
 * bits), so a FREE resent to a restarted node is answered NO_SUCH_SEGMENT and frees nothing else.
 * An ALLOC answered after its deadline on a live connection has its segment freed; one whose
 * answer died with the connection stays charged to this DB until the epoch ends (see
 * {@code docs/format/dm-protocol.md}).
 *
 * <p><b>Slow versus lost.</b> A request past its deadline fails with {@link DmTimeoutException} and
 * leaves the connection up ({@link #isConnected()} stays true): the engine retries it and decides
 * itself when repeated failures mean a lost node. Only UCX's endpoint error handler (the peer
 * failed) disconnects.
 *
 * <p><b>Failure.</b> When UCX reports the endpoint failed (peer died: status -80 timeout, -25
 * reset, ...), every pending request and offload fails at once with
 * {@link DmUnavailableException}, {@link #isConnected()} turns false and a background loop
 * reconnects with backoff (50 ms doubling to 1 s) and repeats the handshake with the same DB id and
 * epoch. Segments on a restarted node are gone: old {@link MemoryNode.RemoteShard}s then fail
 * with {@link io.o3lsm.dm.DmAccessException}.
 */
public final class DmClient implements MemoryNode.Client {
    private static final System.Logger LOG = System.getLogger("io.o3lsm.dm.client");
    private static final ScheduledThreadPoolExecutor TIMER = timer();
    private static final long MIN_BACKOFF_MS = 50;
    private static final long MAX_BACKOFF_MS = 1000;
    /** At most this many timed-out ALLOCs and FREEs are remembered per connection ({@link #lateAnswers}). */
    static final int MAX_LATE_ANSWERS = 4096;
    /** {@link #lateAnswers} value of an ALLOC (a FREE's is its segment id, which is positive). */
    private static final long LATE_ALLOC = -1;
    /** How long close() waits for its endpoint's flush-close before giving up on its remote keys. */
    private static final long STOP_CLOSE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /**
     * How long a caller polls for an answer before parking: {@code o3lsm.dm.awaitSpinMicros},
     * default 0 (park at once; see {@code UcxNode.SPIN_NANOS} for why).
     */
    private static final long AWAIT_SPIN_NANOS = Long.getLong("o3lsm.dm.awaitSpinMicros", 0) * 1000;

    private final MemoryNode.Config config;
    /** {@link Messages#ROLE_DB}, or {@link Messages#ROLE_WORKER} for a flush worker's connection. */
    private final int role;
    private final InetSocketAddress address;
    private final long timeoutNanos;
    private final SecureRandom random = new SecureRandom();
    private final UcxNode node;
    /** Delegated gets and one-sided reads on the caller's thread, in a second session of its own. */
    private final CallerChannel channel;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile String lastFailure = "not connected yet";

    // ---- progress-thread state ----
    private final FrameSender sender = new FrameSender();
    private final Long2ObjectHashMap<Pending> pending = new Long2ObjectHashMap<>();
    private final ArrayDeque<OffloadJob> offloadQueue = new ArrayDeque<>();
    private final Set<OffloadJob> activeOffloads = new HashSet<>();
    /**
     * Failed offloads whose RMA put (or the endpoint flush after it) is still outstanding: each keeps
     * its source buffer reachable and its segment unfreed until that operation completes (then the
     * segment is freed) or the endpoint is closed (then UCX completes it with an error).
     */
    private final Set<OffloadJob> fencing = new HashSet<>();
    /**
     * Destination buffers of RMA gets not yet completed, kept reachable here (a timed-out read-back
     * may still write into its buffer; nothing else may reference it any more).
     */
    private final Long2ObjectHashMap<ByteBuffer> rmaTargets = new Long2ObjectHashMap<>();
    private long nextRmaId;
    /** Test hook ({@link #fenceState}): ALLOC answers that came after their deadline on their connection. */
    private long lateAllocAnswers;
    /** FREEs that could not be sent or were not answered when the connection dropped: sent after the reconnect. */
    private final List<OwedFree> owedFrees = new ArrayList<>();
    /**
     * Timed-out ALLOCs and FREEs of the current connection whose answer may still come, by request
     * id: a late ALLOC answer names a segment to free; a FREE unanswered when the connection drops is
     * owed. Bounded (the oldest entry goes); cleared when the connection drops, as its answers can
     * no longer arrive.
     */
    private final LinkedHashMap<Long, Long> lateAnswers = new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            if (size() <= MAX_LATE_ANSWERS) {
                return false;
            }
            if (forgottenLateAnswers++ % 1000 == 0) {
                LOG.log(Level.WARNING, "o3lsm-dm: more than " + MAX_LATE_ANSWERS + " requests to " + config.address()
                        + " timed out on this connection: a late ALLOC answer may go unfreed ("
                        + forgottenLateAnswers + " forgotten)");
            }
            return true;
        }
    };
    private long forgottenLateAnswers;
    /** Endpoints closing, whose remote keys are destroyed once the close completed. */
    private final List<Closing> closing = new ArrayList<>();
    private boolean closingPollScheduled;
    /** Test hook ({@link #holdRma}): RMA operations waiting to be posted. */
    private final List<Runnable> heldRma = new ArrayList<>();
    private volatile boolean holdRma;
    /** Deadline of an RMA put or get, from when it is posted: {@code requestTimeout}, or a test's ({@link #rmaTimeoutForTest}). */
    private volatile long rmaTimeoutNanos;
    /** Test hook ({@link #traceReleases}): what happened to dropped connections' endpoints and remote keys, in order. */
    private volatile List<String> releaseTrace;
    private UcpEndpoint ep;
    private UcpRemoteKey[] rkeys = new UcpRemoteKey[0];
    private long[] slabBase = new long[0];
    private long[] slabLength = new long[0];
    private long nextRequestId = 1;
    private int generation;
    /** Header version of requests sent now (progress thread); only {@link #rawRequest} changes it, for one send. */
    private int versionOverride = MessageHeaderDescriptor.PROTOCOL_VERSION;
    private long backoffMs = MIN_BACKOFF_MS;
    private boolean reconnectScheduled;
    private boolean everConnected;
    private CompletableFuture<Void> firstConnect;

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "o3-dm-timer");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** Response handler, run on the progress thread. */
    private interface ResponseHandler {
        void onResponse(DirectBuffer body, int length) throws MalformedMessageException, DmException;

        void onError(DmException e);
    }

    /** A FREE to send after the reconnect; {@code done} (may be null) completes with its answer. */
    private record OwedFree(long segmentId, CompletableFuture<Void> done) {
    }

    /** An endpoint whose close was requested, and the remote keys unpacked on it. */
    private record Closing(UcpRequest request, UcpRemoteKey[] keys) {
    }

    private static final class Pending {
        final int opcode;
        final ResponseHandler handler;
        ScheduledFuture<?> timeout;

        Pending(int opcode, ResponseHandler handler) {
            this.opcode = opcode;
            this.handler = handler;
        }
    }

    /**
     * Connects and authenticates; returns once the handshake succeeded.
     *
     * @throws DmAuthException        if the node refuses the secret (or fails to prove it knows it)
     * @throws DmUnavailableException if the node cannot be reached within the request timeout
     */
    public static DmClient connect(MemoryNode.Config config) throws DmException {
        return connect(config, Messages.ROLE_DB);
    }

    /**
     * Connects as a worker named {@code name} (no segments, no remote keys: it reads the inputs of
     * the jobs it holds with {@link #readJob}).
     */
    public static DmClient connectWorker(String address, byte[] secret, String name, java.time.Duration requestTimeout)
            throws DmException {
        return connect(new MemoryNode.Config(address, secret, name, 0, 0, 1, requestTimeout), Messages.ROLE_WORKER);
    }

    private static DmClient connect(MemoryNode.Config config, int role) throws DmException {
        DmClient c = new DmClient(config, role);
        try {
            c.awaitFirstConnect();
            return c;
        } catch (DmException e) {
            c.close();
            throw e;
        }
    }

    private DmClient(MemoryNode.Config config, int role) throws DmException {
        this.role = role;
        if (config.secret() == null || config.secret().length == 0) {
            throw new IllegalArgumentException("empty cluster secret");
        }
        if (config.inflightLimit() <= 0) {
            throw new IllegalArgumentException("inflightLimit must be > 0, found " + config.inflightLimit());
        }
        this.config = config;
        this.address = parseAddress(config.address());
        this.timeoutNanos = config.requestTimeout().toNanos();
        this.rmaTimeoutNanos = timeoutNanos;
        this.node = new UcxNode("dm-client-" + config.dbId(), n -> n.worker().setAmRecvHandler(
                MessageHeaderDescriptor.AM_RESPONSE, new FrameReceiver(new FrameReceiver.FrameHandler() {
                    @Override
                    public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body,
                            int length) {
                        onResponse(opcode, status, requestId, body, length);
                    }

                    @Override
                    public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status, String problem) {
                        Pending p = pending.remove(requestId);
                        if (p != null) {
                            complete(p, new DmException(status, "malformed response: " + problem));
                        }
                    }
                })));
        node.onStop(this::stopOnProgressThread);
        this.channel = new CallerChannel(node, config, address, timeoutNanos);
    }

    private static InetSocketAddress parseAddress(String hostPort) throws DmException {
        int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("memory node address must be host:port, found " + hostPort);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)),
                    Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (UnknownHostException e) {
            throw new DmUnavailableException("memory node host does not resolve: " + hostPort, e);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory node address must be host:port, found " + hostPort);
        }
    }

    private void awaitFirstConnect() throws DmException {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (!node.submit(() -> {
            firstConnect = f;
            startConnect();
        })) {
            throw new DmUnavailableException("client closed");
        }
        await(f, "connect to memory node " + config.address());
    }

    // ---- connection (progress thread) ---------------------------------------------------------

    private void startConnect() {
        if (closed) {
            return;
        }
        int gen = ++generation;
        try {
            ep = node.worker().newEndpoint(new UcpEndpointParams()
                    .setSocketAddress(address)
                    .setPeerErrorHandlingMode()
                    .setName("o3-dm-" + config.dbId())
                    .setErrorHandler((e, status, msg) -> onEndpointError(gen, status, msg)));
        } catch (UcxException e) {
            connectFailed(new DmUnavailableException("cannot create endpoint to " + config.address() + ": "
                    + e.getMessage()));
            return;
        }
        byte[] clientNonce = new byte[Messages.NONCE_LENGTH];
        random.nextBytes(clientNonce);
        BodyWriter hello = new Messages.Hello(config.epoch(), config.dmBudget(), clientNonce, config.dbId(), role)
                .encode(new BodyWriter());
        send(Opcode.HELLO, hello, new ResponseHandler() {
            @Override
            public void onResponse(DirectBuffer body, int length) throws MalformedMessageException {
                Messages.Challenge c = Messages.Challenge.decode(body, 0, length);
                byte[] mac = HandshakeMac.client(config.secret(), c.serverNonce(), clientNonce, config.epoch(),
                        config.dbId(), role);
                send(Opcode.AUTH, new Messages.Auth(mac).encode(new BodyWriter()), new ResponseHandler() {
                    @Override
                    public void onResponse(DirectBuffer body, int length) throws MalformedMessageException, DmException {
                        Messages.Welcome w = Messages.Welcome.decode(body, 0, length);
                        byte[] expected = HandshakeMac.node(config.secret(), clientNonce, c.serverNonce(),
                                config.epoch(), config.dbId(), role);
                        if (!HandshakeMac.matches(expected, w.nodeMac())) {
                            throw new DmAuthException(Status.AUTH_FAILED, "memory node " + config.address()
                                    + " failed to prove it knows the cluster secret");
                        }
                        welcome(gen, w, c.nodeInstance());
                    }

                    @Override
                    public void onError(DmException e) {
                        connectFailed(e);
                    }
                });
            }

            @Override
            public void onError(DmException e) {
                connectFailed(e);
            }
        });
    }

    private void welcome(int gen, Messages.Welcome w, long nodeInstance) throws DmException {
        if (gen != generation) {
            return;
        }
        int n = w.slabs().size();
        UcpRemoteKey[] keys = new UcpRemoteKey[n];
        long[] base = new long[n];
        long[] len = new long[n];
        for (int i = 0; i < n; i++) {
            Messages.Slab s = w.slabs().get(i);
            ByteBuffer packed = ByteBuffer.allocateDirect(s.rkey().length);
            packed.put(s.rkey()).flip();
            try {
                keys[i] = ep.unpackRemoteKey(packed);
            } catch (UcxException e) {
                for (int j = 0; j < i; j++) {
                    keys[j].close();
                }
                // not a transport failure (the endpoint is fine, no error handler will follow): a plain
                // DmException ends this attempt and schedules the retry
                throw new DmException(Status.UNAVAILABLE, "cannot unpack remote key of slab " + i + ": "
                        + e.getMessage());
            }
            base[i] = s.address();
            len[i] = s.length();
        }
        rkeys = keys;
        slabBase = base;
        slabLength = len;
        if (role == Messages.ROLE_DB) {
            channel.attach(nodeInstance);
        }
        backoffMs = MIN_BACKOFF_MS;
        boolean reconnect = everConnected;
        everConnected = true;
        connected = true;
        LOG.log(reconnect ? Level.WARNING : Level.INFO, "o3lsm-dm: " + (reconnect ? "reconnected" : "connected")
                + " to memory node " + config.address() + " as DB " + config.dbId() + " epoch " + config.epoch()
                + " (node instance " + Long.toHexString(nodeInstance) + ", capacity " + w.capacity() + ", budget "
                + w.budget() + ", holding " + w.used() + " bytes)");
        if (firstConnect != null) {
            firstConnect.complete(null);
            firstConnect = null;
        }
        if (!owedFrees.isEmpty()) {
            // segments left allocated when the connection dropped (a restarted node answers NO_SUCH_SEGMENT)
            List<OwedFree> owed = new ArrayList<>(owedFrees);
            owedFrees.clear();
            for (OwedFree o : owed) {
                sendFree(o.segmentId(), o.done());
            }
        }
        pumpOffloads();
    }

    /**
     * The handshake failed. Transport failures are left to the endpoint error handler (UCX reports
     * them there; tearing the endpoint down earlier trips UCX), everything else ends this attempt.
     */
    private void connectFailed(DmException e) {
        if (e instanceof DmUnavailableException && !(e instanceof DmTimeoutException)) {
            lastFailure = e.getMessage();
            return;
        }
        lastFailure = e.getMessage();
        dropConnection(e instanceof DmAuthException ? e : new DmUnavailableException(
                "memory node " + config.address() + " unavailable: " + e.getMessage(), e));
        if (firstConnect != null) {
            firstConnect.completeExceptionally(e);
            firstConnect = null;
        }
        if (e instanceof DmAuthException) {
            LOG.log(Level.ERROR, "o3lsm-dm: memory node " + config.address() + " refused DB " + config.dbId() + ": "
                    + e.getMessage() + "; not retrying");
            return;
        }
        scheduleReconnect();
    }

    private void onEndpointError(int gen, int status, String msg) {
        if (gen != generation || closed) {
            return;
        }
        String what = "memory node " + config.address() + " failed (UCX status " + status + ": " + msg + ")";
        lastFailure = what;
        if (connected) {
            LOG.log(Level.WARNING, "o3lsm-dm: " + what + "; failing pending requests, reconnecting in the background");
        }
        DmUnavailableException e = new DmUnavailableException(what);
        dropConnection(e);
        if (firstConnect != null) {
            firstConnect.completeExceptionally(e);
            firstConnect = null;
        }
        scheduleReconnect();
    }

    /**
     * Fails everything pending (FREEs among them are owed, see {@link #sendFree}), then releases the
     * endpoint and, once its close completed, the remote keys. The release is deferred to a command
     * of its own: closing an endpoint inside a UCX callback (or before UCX has reported its failure)
     * trips a UCX 1.13 assertion in the wire-up code.
     */
    private void dropConnection(DmException cause) {
        connected = false;
        channel.detach();
        generation++;
        List<Pending> all = new ArrayList<>(pending.values());
        pending.clear();
        // an ALLOC unanswered now may have allocated a segment whose id this client never learns
        int lostAllocs = 0;
        for (Pending p : all) {
            if (p.opcode == Opcode.ALLOC) {
                lostAllocs++;
            }
            complete(p, cause);
        }
        for (OffloadJob j : new ArrayList<>(activeOffloads)) {
            j.fail(cause);
        }
        while (!offloadQueue.isEmpty()) {
            offloadQueue.poll().fail(cause);
        }
        // answers to this connection's timed-out requests can no longer come
        for (long v : lateAnswers.values()) {
            if (v == LATE_ALLOC) {
                lostAllocs++;
            } else if (!closed) {
                owedFrees.add(new OwedFree(v, null)); // the node may not have seen it
            }
        }
        lateAnswers.clear();
        if (lostAllocs > 0 && !closed) {
            LOG.log(Level.WARNING, "o3lsm-dm: " + lostAllocs + " ALLOC(s) unanswered when the connection to "
                    + config.address() + " dropped: a segment the node allocated for one stays charged to DB "
                    + config.dbId() + " until its epoch ends (or the node restarts)");
        }
        UcpRemoteKey[] keys = rkeys;
        UcpEndpoint old = ep;
        rkeys = new UcpRemoteKey[0];
        slabBase = new long[0];
        slabLength = new long[0];
        ep = null;
        if (keys.length > 0 || old != null) {
            if (!node.submit(() -> release(keys, old, false))) {
                release(keys, old, false); // only when called from the stop hook, outside callbacks
            }
        }
    }

    /**
     * Progress thread, outside UCX callbacks: closes the endpoint, then, once the close completed,
     * destroys the remote keys. An RMA operation still outstanding on the endpoint (a fenced put, a
     * timed-out get) uses its slab's remote key until it completes; UCX completes it (with an error,
     * for a forced close) before the close request completes, so the keys go only then. A close that
     * is still running is polled ({@link #pollClosing}); at {@code stopping} (the client closes, the
     * worker goes next) it is waited for up to {@link #STOP_CLOSE_NANOS}, and keys whose endpoint did
     * not finish closing are left to the worker's release rather than destroyed under an operation.
     */
    private void release(UcpRemoteKey[] keys, UcpEndpoint old, boolean stopping) {
        if (old == null) {
            destroyKeys(keys);
            return;
        }
        UcpRequest r;
        try {
            r = stopping ? old.closeNonBlockingFlush() : old.closeNonBlockingForce();
            trace("endpoint close requested");
        } catch (RuntimeException e) {
            // the endpoint could not be closed, so operations on it may be outstanding: keep the keys
            LOG.log(Level.DEBUG, "o3lsm-dm: closing an endpoint failed: " + e);
            return;
        }
        closing.add(new Closing(r, keys));
        if (stopping) {
            long deadline = System.nanoTime() + STOP_CLOSE_NANOS;
            try {
                while (!closing.stream().allMatch(c -> c.request().isCompleted()) && System.nanoTime() < deadline) {
                    node.worker().progress();
                }
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "o3lsm-dm: progress while closing: " + e);
            }
        }
        pollClosing();
    }

    /** Progress thread: destroys the remote keys of endpoints whose close completed; polls again for the rest. */
    private void pollClosing() {
        for (Iterator<Closing> it = closing.iterator(); it.hasNext();) {
            Closing c = it.next();
            if (c.request().isCompleted()) {
                it.remove();
                trace("endpoint closed");
                destroyKeys(c.keys());
            }
        }
        if (!closing.isEmpty() && !closingPollScheduled && !closed) {
            closingPollScheduled = true;
            TIMER.schedule(() -> node.submit(() -> {
                closingPollScheduled = false;
                pollClosing();
            }), 10, TimeUnit.MILLISECONDS);
        }
    }

    private void destroyKeys(UcpRemoteKey[] keys) {
        for (UcpRemoteKey k : keys) {
            try {
                k.close();
            } catch (RuntimeException e) {
                // nothing to do
            }
        }
        if (keys.length > 0) {
            trace("remote keys destroyed");
        }
    }

    /** Background reconnects only after a first successful connect (a failed first connect is the caller's). */
    private void scheduleReconnect() {
        if (closed || reconnectScheduled || !everConnected) {
            return;
        }
        reconnectScheduled = true;
        long delay = backoffMs;
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        TIMER.schedule(() -> node.submit(() -> {
            reconnectScheduled = false;
            if (!connected && !closed) {
                startConnect();
            }
        }), delay, TimeUnit.MILLISECONDS);
    }

    // ---- requests (progress thread) --------------------------------------------------------------

    /** Sends a request; the handler runs on the progress thread (possibly inside this call). */
    /** Why a request cannot go out now: the client is closed, or not connected (with the last failure). */
    private DmUnavailableException unavailable() {
        return new DmUnavailableException(closed ? "client closed" : "not connected to memory node "
                + config.address() + ": " + lastFailure);
    }

    /** True if a location the node answered is {@code length} bytes inside one of its advertised slabs. */
    private boolean insideSlabs(Messages.SegmentLocation loc, int length) {
        int slab = loc.slab();
        return slab >= 0 && slab < rkeys.length && loc.length() == length && loc.address() >= slabBase[slab]
                && loc.address() + length <= slabBase[slab] + slabLength[slab];
    }

    private void send(int opcode, BodyWriter body, ResponseHandler handler) {
        send(opcode, body, handler, 0, timeoutNanos);
    }

    private void send(int opcode, BodyWriter body, ResponseHandler handler, long freeSegment) {
        send(opcode, body, handler, freeSegment, timeoutNanos);
    }

    /**
     * Sends a request. An ALLOC, or a FREE of {@code freeSegment}, that times out is remembered in
     * {@link #lateAnswers} while the connection lasts: its answer may still come.
     */
    private void send(int opcode, BodyWriter body, ResponseHandler handler, long freeSegment, long deadlineNanos) {
        if (ep == null) {
            handler.onError(unavailable());
            return;
        }
        long id = nextRequestId++;
        Pending p = new Pending(opcode, handler);
        pending.put(id, p);
        int gen = generation;
        p.timeout = TIMER.schedule(() -> node.submit(() -> {
            Pending q = pending.get(id);
            if (q == p) {
                pending.remove(id);
                if (opcode == Opcode.ALLOC) {
                    lateAnswers.put(id, LATE_ALLOC);
                } else if (opcode == Opcode.FREE && freeSegment > 0) {
                    lateAnswers.put(id, freeSegment);
                }
                complete(p, new DmTimeoutException(Opcode.name(opcode) + " to memory node " + config.address()
                        + " not answered within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) + " ms"));
            }
        }), deadlineNanos, TimeUnit.NANOSECONDS);
        try {
            sender.send(ep, MessageHeaderDescriptor.AM_REQUEST, versionOverride, opcode, 0, id, body.buffer(), 0,
                    body.length(),
                    UcpConstants.UCP_AM_SEND_FLAG_REPLY, (status, err) -> {
                        if (status != 0 && gen == generation) {
                            Pending q = pending.remove(id);
                            if (q != null) {
                                complete(q, new DmUnavailableException("sending " + Opcode.name(opcode) + " failed: "
                                        + err));
                            }
                        }
                    });
        } catch (UcxException e) {
            Pending q = pending.remove(id);
            if (q != null) {
                complete(q, new DmUnavailableException("sending " + Opcode.name(opcode) + " failed: " + e.getMessage()));
            }
        }
    }

    private void onResponse(int opcode, int status, long requestId, DirectBuffer body, int length) {
        Pending p = pending.remove(requestId);
        if (p == null) {
            Long late = lateAnswers.remove(requestId);
            if (late != null && late == LATE_ALLOC && opcode == Opcode.ALLOC) {
                lateAllocAnswers++;
                if (status == Status.OK) {
                    // the caller gave up at the deadline; the node allocated all the same
                    try {
                        long segment = Messages.SegmentLocation.decode(body, 0, length).segmentId();
                        LOG.log(Level.DEBUG, "o3lsm-dm: ALLOC answered after its deadline: freeing segment " + segment);
                        sendFree(segment, null);
                    } catch (MalformedMessageException e) {
                        LOG.log(Level.WARNING, "o3lsm-dm: malformed late ALLOC answer: " + e.getMessage());
                    }
                }
            }
            return; // timed out or failed already
        }
        if (p.timeout != null) {
            p.timeout.cancel(false);
        }
        if (status != Status.OK) {
            byte[] msg = new byte[length];
            body.getBytes(0, msg);
            p.handler.onError(DmException.forStatus(status, new String(msg, StandardCharsets.UTF_8)));
            return;
        }
        try {
            p.handler.onResponse(body, length);
        } catch (MalformedMessageException e) {
            p.handler.onError(new DmException(Status.BAD_REQUEST, "malformed " + Opcode.name(opcode) + " response: "
                    + e.getMessage()));
        } catch (DmException e) {
            p.handler.onError(e);
        } catch (RuntimeException e) {
            p.handler.onError(new DmException(Status.INTERNAL, Opcode.name(opcode) + " response handling failed: " + e, e));
        }
    }

    private static void complete(Pending p, DmException e) {
        if (p.timeout != null) {
            p.timeout.cancel(false);
        }
        p.handler.onError(e);
    }

    /** Any thread: submits a request whose decoded answer completes the returned future. */
    private <T> CompletableFuture<T> call(int opcode, BodyWriter body, Decoder<T> decoder) {
        return call(opcode, body, decoder, timeoutNanos);
    }

    private <T> CompletableFuture<T> call(int opcode, BodyWriter body, Decoder<T> decoder, long deadlineNanos) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new DmUnavailableException("client closed"));
            return f;
        }
        if (!connected) {
            f.completeExceptionally(unavailable());
            return f;
        }
        boolean queued = node.submit(() -> send(opcode, body, new ResponseHandler() {
            @Override
            public void onResponse(DirectBuffer b, int length) throws MalformedMessageException {
                f.complete(decoder.decode(b, length));
            }

            @Override
            public void onError(DmException e) {
                f.completeExceptionally(e);
            }
        }, 0, deadlineNanos));
        if (!queued) {
            f.completeExceptionally(new DmUnavailableException("client closed"));
        }
        return f;
    }

    private interface Decoder<T> {
        T decode(DirectBuffer body, int length) throws MalformedMessageException;
    }

    private <T> T await(CompletableFuture<T> f, String what) throws DmException {
        return await(f, what, timeoutNanos);
    }

    private <T> T await(CompletableFuture<T> f, String what, long deadlineNanos) throws DmException {
        // answers often come within tens of microseconds: poll briefly before parking the caller
        long spinUntil = System.nanoTime() + AWAIT_SPIN_NANOS;
        while (!f.isDone() && System.nanoTime() < spinUntil) {
            Thread.onSpinWait();
        }
        try {
            // The timer fails the future at the deadline; the extra second only guards against a lost timer.
            return f.get(deadlineNanos + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof DmException) {
                throw rethrow((DmException) c);
            }
            throw new DmException(Status.INTERNAL, what + " failed: " + c, c);
        } catch (TimeoutException e) {
            throw new DmTimeoutException(what + " not answered within " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos)
                    + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DmUnavailableException(what + " interrupted");
        }
    }

    /** The exception (made on the progress thread) with the waiting caller's stack trace. */
    private static DmException rethrow(DmException e) {
        e.fillInStackTrace();
        return e;
    }

    // ---- MemoryNode.Client ---------------------------------------------------------------------------

    @Override
    public CompletableFuture<MemoryNode.RemoteShard> offload(ByteBuffer shard, int length, int checksum, int shardId,
            long minSequence, long maxSequence) {
        CompletableFuture<MemoryNode.RemoteShard> f = new CompletableFuture<>();
        if (length <= 0 || length > shard.capacity()) {
            f.completeExceptionally(new IllegalArgumentException("length " + length + " outside the shard buffer of "
                    + shard.capacity() + " bytes"));
            return f;
        }
        if (closed || !connected) {
            f.completeExceptionally(unavailable());
            return f;
        }
        ByteBuffer src = shard;
        if (!shard.isDirect()) {
            src = ByteBuffer.allocateDirect(length);
            src.put(shard.duplicate().clear().limit(length)).clear();
        }
        OffloadJob job = new OffloadJob(src, length, checksum, shardId, minSequence, maxSequence, f);
        if (!node.submit(() -> {
            offloadQueue.add(job);
            pumpOffloads();
        })) {
            f.completeExceptionally(new DmUnavailableException("client closed"));
        }
        return f;
    }

    private void pumpOffloads() {
        while (connected && activeOffloads.size() < config.inflightLimit() && !offloadQueue.isEmpty()) {
            offloadQueue.poll().start();
        }
        if (!connected) {
            DmUnavailableException e = unavailable();
            while (!offloadQueue.isEmpty()) {
                offloadQueue.poll().fail(e);
            }
        }
    }

    /**
     * One shard's ALLOC → put → flush → COMMIT. Progress thread only.
     *
     * <p>A job that fails while its put or the flush after it is outstanding (its deadline passed,
     * the node refused, the client closes) completes its future at once, but waits in {@link
     * #fencing} until that operation completes: only then can no byte of the put land any more, and
     * only then is the segment freed (an extent the node may give to another DB next). Until then
     * the job keeps {@link #src} reachable. If the connection drops meanwhile, the endpoint's close
     * completes the operation with an error and the FREE is sent after the reconnect.
     */
    private final class OffloadJob {
        final ByteBuffer src;
        final int length;
        final int checksum;
        final int shardId;
        final long minSequence;
        final long maxSequence;
        final CompletableFuture<MemoryNode.RemoteShard> future;
        long segmentId = -1;
        Messages.SegmentLocation location;
        int gen;
        boolean done;
        /** The put or the flush after it is posted and its callback has not run. */
        boolean rmaOutstanding;
        ScheduledFuture<?> rmaTimeout;

        OffloadJob(ByteBuffer src, int length, int checksum, int shardId, long minSequence, long maxSequence,
                CompletableFuture<MemoryNode.RemoteShard> future) {
            this.src = src;
            this.length = length;
            this.checksum = checksum;
            this.shardId = shardId;
            this.minSequence = minSequence;
            this.maxSequence = maxSequence;
            this.future = future;
        }

        void start() {
            activeOffloads.add(this);
            gen = generation;
            send(Opcode.ALLOC, new Messages.Alloc(length).encode(new BodyWriter(8)), handler(this::allocated));
        }

        private ResponseHandler handler(Consumer<Messages.SegmentLocation> next) {
            return new ResponseHandler() {
                @Override
                public void onResponse(DirectBuffer body, int len) throws MalformedMessageException {
                    next.accept(Messages.SegmentLocation.decode(body, 0, len));
                }

                @Override
                public void onError(DmException e) {
                    fail(e);
                }
            };
        }

        private void allocated(Messages.SegmentLocation loc) {
            segmentId = loc.segmentId();
            location = loc;
            if (done) {
                sendFree(segmentId, null);
                return;
            }
            int slab = loc.slab();
            if (gen != generation || !insideSlabs(loc, length)) {
                fail(new DmException(Status.BAD_REQUEST, "ALLOC answered a location outside the node's slabs: " + loc));
                return;
            }
            rmaTimeout = TIMER.schedule(() -> node.submit(() -> fail(new DmTimeoutException("offload of shard "
                    + shardId + " (" + length + " bytes): RMA put not completed within "
                    + TimeUnit.NANOSECONDS.toMillis(rmaTimeoutNanos) + " ms"))), rmaTimeoutNanos, TimeUnit.NANOSECONDS);
            long local = UcxUtils.getAddress(src);
            UcpEndpoint target = ep;
            UcpRemoteKey rkey = rkeys[slab];
            rmaOutstanding = true;
            postRma(() -> {
                if (gen != generation) {
                    putCompleted(false); // the endpoint is gone: never posted
                    return;
                }
                try {
                    target.putNonBlocking(local, length, loc.address(), rkey, new UcxCallback() {
                        @Override
                        public void onSuccess(UcpRequest request) {
                            putCompleted(true);
                        }

                        @Override
                        public void onError(int status, String msg) {
                            putCompleted(false);
                            fail(new DmUnavailableException("RMA put of shard " + shardId + " failed (UCX status "
                                    + status + ": " + msg + ")"));
                        }
                    });
                } catch (UcxException e) {
                    putCompleted(false);
                    fail(new DmUnavailableException("RMA put of shard " + shardId + " failed: " + e.getMessage()));
                }
            });
        }

        /** The put's callback ran (locally complete, or failed): flush the endpoint so the bytes are in the node's memory. */
        private void putCompleted(boolean ok) {
            if (!ok || gen != generation) {
                rmaOutstanding = false;
                settleFence();
                return;
            }
            try {
                ep.flushNonBlocking(new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        rmaOutstanding = false;
                        if (done) {
                            settleFence();
                        } else {
                            flushed();
                        }
                    }

                    @Override
                    public void onError(int status, String msg) {
                        rmaOutstanding = false;
                        fail(new DmUnavailableException("flush after RMA put failed (UCX status " + status + ": " + msg
                                + ")"));
                        settleFence();
                    }
                });
            } catch (UcxException e) {
                rmaOutstanding = false;
                fail(new DmUnavailableException("flush after RMA put failed: " + e.getMessage()));
                settleFence();
            }
        }

        private void flushed() {
            if (done || gen != generation) {
                return;
            }
            if (rmaTimeout != null) {
                rmaTimeout.cancel(false);
            }
            send(Opcode.COMMIT, new Messages.Commit(segmentId, shardId, length, checksum, minSequence, maxSequence)
                    .encode(new BodyWriter(48)), new ResponseHandler() {
                        @Override
                        public void onResponse(DirectBuffer body, int len) {
                            succeed();
                        }

                        @Override
                        public void onError(DmException e) {
                            fail(e);
                        }
                    });
        }

        private void succeed() {
            if (done) {
                return;
            }
            done = true;
            activeOffloads.remove(this);
            MemoryNode.RemoteShard rs = new MemoryNode.RemoteShard(segmentId, shardId, length, checksum, minSequence,
                    maxSequence);
            channel.located(rs, location.address(), location.slab());
            future.complete(rs);
            pumpOffloads();
        }

        void fail(DmException e) {
            if (done) {
                return;
            }
            done = true;
            if (rmaTimeout != null) {
                rmaTimeout.cancel(false);
            }
            boolean wasActive = activeOffloads.remove(this);
            if (rmaOutstanding) {
                fencing.add(this); // the put may still land: free the segment once it cannot
            } else {
                releaseSegment();
            }
            future.completeExceptionally(e);
            if (wasActive) {
                pumpOffloads();
            }
        }

        /** A failed job's outstanding RMA operation completed: nothing of the put can land any more. */
        private void settleFence() {
            if (done && fencing.remove(this)) {
                releaseSegment();
            }
        }

        /** Frees the segment now, or after the reconnect if the connection is gone. */
        private void releaseSegment() {
            if (segmentId >= 0) {
                sendFree(segmentId, null);
            }
        }
    }

    /**
     * Progress thread: posts an RMA operation, or with the test hook {@link #holdRma} set, keeps it
     * until {@link #releaseHeldRma()} (it is outstanding meanwhile, as a slow one would be).
     */
    private void postRma(Runnable post) {
        if (holdRma) {
            heldRma.add(post);
        } else {
            post.run();
        }
    }

    /**
     * Test hook: while set, RMA puts and gets are held back instead of posted, so that their
     * deadlines pass while they are outstanding (a real memory node over shared memory completes
     * them too fast to time out). Not for production use.
     */
    void holdRma(boolean hold) {
        holdRma = hold;
    }

    /**
     * Test hook: the deadline of RMA puts and gets from now on (counted from when the operation is
     * handed to the progress thread), so that a test can let a held operation expire without giving
     * control requests a deadline a slow machine could miss. Not for production use.
     */
    void rmaTimeoutForTest(java.time.Duration timeout) {
        rmaTimeoutNanos = timeout.toNanos();
    }

    /**
     * Test hook: drops the connection as if UCX had reported the endpoint failed (pending requests
     * fail, {@link #isConnected()} turns false, the reconnect loop starts). Not for production use.
     */
    void disconnectForTest() {
        node.submit(() -> onEndpointError(generation, -25, "disconnected by a test"));
    }

    /** Test hook: starts recording endpoint closes and remote-key releases; returns the live record. */
    List<String> traceReleases() {
        List<String> t = java.util.Collections.synchronizedList(new ArrayList<>());
        releaseTrace = t;
        return t;
    }

    private void trace(String event) {
        List<String> t = releaseTrace;
        if (t != null) {
            t.add(event);
        }
    }

    /** Test hook: posts the held RMA operations (on the progress thread) and stops holding new ones. */
    void releaseHeldRma() {
        holdRma = false;
        node.submit(() -> {
            List<Runnable> held = new ArrayList<>(heldRma);
            heldRma.clear();
            for (Runnable r : held) {
                r.run();
            }
        });
    }

    /**
     * Test hook: writes {@code bytes} at {@code offset} into a committed segment of this DB by RMA
     * put, as a buggy or hostile peer could (remote keys cover whole slabs). Not for production use.
     */
    void overwriteForTest(MemoryNode.RemoteShard shard, int offset, byte[] bytes) throws DmException {
        ByteBuffer src = ByteBuffer.allocateDirect(bytes.length);
        src.put(bytes).flip();
        CompletableFuture<Void> f = new CompletableFuture<>();
        BodyWriter body = new Messages.SegmentRef(shard.segmentId()).encode(new BodyWriter(8));
        node.submit(() -> send(Opcode.READBACK, body, new ResponseHandler() {
            @Override
            public void onResponse(DirectBuffer b, int len) throws MalformedMessageException {
                Messages.SegmentLocation loc = Messages.SegmentLocation.decode(b, 0, len);
                ep.putNonBlocking(UcxUtils.getAddress(src), bytes.length, loc.address() + offset, rkeys[loc.slab()],
                        new UcxCallback() {
                            @Override
                            public void onSuccess(UcpRequest request) {
                                ep.flushNonBlocking(new UcxCallback() {
                                    @Override
                                    public void onSuccess(UcpRequest r) {
                                        java.lang.ref.Reference.reachabilityFence(src);
                                        f.complete(null);
                                    }
                                });
                            }
                        });
            }

            @Override
            public void onError(DmException e) {
                f.completeExceptionally(e);
            }
        }));
        await(f, "test overwrite");
    }

    /**
     * Test hook: {failed offloads waiting for their RMA op, read-back buffers still referenced for one,
     * FREEs owed until the reconnect, ALLOC answers that came after their deadline}.
     */
    CompletableFuture<int[]> fenceState() {
        CompletableFuture<int[]> f = new CompletableFuture<>();
        if (!node.submit(() -> f.complete(new int[] {fencing.size(), rmaTargets.size(), owedFrees.size(),
                (int) lateAllocAnswers}))) {
            f.completeExceptionally(new DmUnavailableException("client closed"));
        }
        return f;
    }

    /**
     * Progress thread: frees a segment, completing {@code done} (may be null) with the node's answer.
     * While disconnected, and when the connection fails before the answer, the FREE is owed
     * ({@link #owedFrees}) and sent after the reconnect (the node keeps a disconnected session's
     * segments; a restarted node answers NO_SUCH_SEGMENT). Only a closed client gives up on it.
     */
    private void sendFree(long segmentId, CompletableFuture<Void> done) {
        if (closed) {
            if (done != null) {
                done.completeExceptionally(new DmUnavailableException("client closed"));
            }
            return;
        }
        if (!connected || ep == null) {
            owedFrees.add(new OwedFree(segmentId, done));
            return;
        }
        send(Opcode.FREE, new Messages.SegmentRef(segmentId).encode(new BodyWriter(8)), new ResponseHandler() {
            @Override
            public void onResponse(DirectBuffer body, int length) {
                if (done != null) {
                    done.complete(null);
                }
            }

            @Override
            public void onError(DmException e) {
                if (e instanceof DmUnavailableException && !(e instanceof DmTimeoutException) && !closed) {
                    // the connection failed before the answer: the node may not have seen it
                    owedFrees.add(new OwedFree(segmentId, done));
                } else if (done != null) {
                    done.completeExceptionally(e); // a timeout is remembered in lateAnswers
                }
            }
        }, segmentId);
    }

    @Override
    public MemoryNode.GetResult get(List<MemoryNode.RemoteShard> candidates, byte[] userKey, long snapshotSequence)
            throws DmException {
        long[] ids = segmentIds(candidates);
        Messages.GetResult r = closed ? null : channel.get(ids, userKey, snapshotSequence);
        if (r == null) { // the caller's way is busy or unavailable: through the progress thread
            BodyWriter body = new Messages.Get(snapshotSequence, userKey, ids).encode(new BodyWriter(32 + userKey.length
                    + 8 * ids.length));
            r = await(call(Opcode.GET, body, (b, len) -> Messages.GetResult.decode(b, 0, len)), "GET");
        }
        return toResult(r);
    }

    private static MemoryNode.GetResult toResult(Messages.GetResult r) {
        return new MemoryNode.GetResult(r.state(), r.sequence(), r.value(), r.candidateIndex());
    }

    /** The segment ids of {@code shards}, in order. */
    private static long[] segmentIds(List<MemoryNode.RemoteShard> shards) {
        long[] ids = new long[shards.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = shards.get(i).segmentId();
        }
        return ids;
    }

    /**
     * MULTI_GET: keys in requests of at most {@link Messages#MAX_MULTI_GET_KEYS} keys, {@link
     * Messages#MAX_MULTI_GET_CANDIDATES} candidates and 1 MiB of body; a request answered in part
     * (the node caps an answer's size) is asked again for the rest.
     */
    @Override
    public List<MemoryNode.GetResult> multiGet(List<MemoryNode.KeyGet> keys, long snapshotSequence) throws DmException {
        List<MemoryNode.GetResult> out = new ArrayList<>(keys.size());
        List<Messages.KeyGet> part = new ArrayList<>();
        int from = 0;
        while (from < keys.size()) {
            part.clear();
            int candidates = 0;
            int bytes = 12;
            int to = from;
            while (to < keys.size() && part.size() < Messages.MAX_MULTI_GET_KEYS) {
                MemoryNode.KeyGet k = keys.get(to);
                int c = k.candidates().size();
                if (c > Messages.MAX_CANDIDATES) {
                    throw new IllegalArgumentException("a get names at most " + Messages.MAX_CANDIDATES
                            + " shards, not " + c + " (key " + to + ")");
                }
                int b = 8 + k.userKey().length + 8 * c;
                if (!part.isEmpty() && (candidates + c > Messages.MAX_MULTI_GET_CANDIDATES || bytes + b > (1 << 20))) {
                    break;
                }
                part.add(new Messages.KeyGet(k.userKey(), segmentIds(k.candidates())));
                candidates += c;
                bytes += b;
                to++;
            }
            BodyWriter body = new Messages.MultiGet(snapshotSequence, part).encode(new BodyWriter(bytes));
            int asked = part.size();
            Messages.MultiGetResult r = closed ? null : channel.multiGet(body, asked);
            if (r == null) {
                r = await(call(Opcode.MULTI_GET, body, (b, len) -> Messages.MultiGetResult.decode(b, 0, len, asked)),
                        "MULTI_GET");
            }
            for (int i = 0; i < r.results().size(); i++) {
                Messages.GetResult g = r.results().get(i);
                int c = part.get(i).segments().length;
                if (g.candidateIndex() < -1 || g.candidateIndex() >= c || (g.candidateIndex() == -1) != (g.state() == 0)) {
                    throw new DmException(Status.BAD_REQUEST, "malformed MULTI_GET response: key " + (from + i)
                            + " answered by candidate " + g.candidateIndex() + " of " + c + " in state " + g.state());
                }
                out.add(toResult(g));
            }
            from += r.results().size();
        }
        return out;
    }

    private static BodyWriter scanBody(List<MemoryNode.RemoteShard> shards, byte[] fromInternalKey, boolean reverse,
            boolean exclusive, int maxEntries, int maxBytes) {
        if (shards.isEmpty() || shards.size() > Messages.MAX_CANDIDATES) {
            throw new IllegalArgumentException("a scan names 1 to " + Messages.MAX_CANDIDATES + " shards, not "
                    + shards.size());
        }
        long[] ids = segmentIds(shards);
        int flags = (reverse ? Messages.SCAN_REVERSE : 0) | (exclusive ? Messages.SCAN_EXCLUSIVE : 0);
        return new Messages.Scan(flags, maxEntries, maxBytes, fromInternalKey, ids)
                .encode(new BodyWriter(32 + 8 * ids.length + (fromInternalKey == null ? 0 : fromInternalKey.length)));
    }

    /** A SCAN through the progress thread (the caller's own way is for requests it waits for). */
    @Override
    public CompletableFuture<MemoryNode.ScanBatch> scanAhead(List<MemoryNode.RemoteShard> shards, byte[] fromInternalKey,
            boolean reverse, boolean exclusive, int maxEntries, int maxBytes) {
        BodyWriter body = scanBody(shards, fromInternalKey, reverse, exclusive, maxEntries, maxBytes);
        return call(Opcode.SCAN, body, (b, len) -> Messages.ScanBatch.decodeRaw(b, 0, len));
    }

    @Override
    public MemoryNode.ScanBatch scan(List<MemoryNode.RemoteShard> shards, byte[] fromInternalKey, boolean reverse,
            boolean exclusive, int maxEntries, int maxBytes) throws DmException {
        BodyWriter body = scanBody(shards, fromInternalKey, reverse, exclusive, maxEntries, maxBytes);
        MemoryNode.ScanBatch batch = closed ? null : channel.scan(body);
        if (batch != null) {
            return batch;
        }
        return await(call(Opcode.SCAN, body, (b, len) -> Messages.ScanBatch.decodeRaw(b, 0, len)), "SCAN");
    }

    @Override
    public void readBack(MemoryNode.RemoteShard shard, ByteBuffer dst) throws DmException {
        if (dst.capacity() < shard.length()) {
            throw new IllegalArgumentException("destination of " + dst.capacity() + " bytes for a shard of "
                    + shard.length());
        }
        ByteBuffer target = dst.isDirect() ? dst : ByteBuffer.allocateDirect(shard.length());
        CompletableFuture<Void> f = new CompletableFuture<>();
        BodyWriter body = new Messages.SegmentRef(shard.segmentId()).encode(new BodyWriter(8));
        if (!connected || closed) {
            throw unavailable();
        }
        boolean queued = node.submit(() -> send(Opcode.READBACK, body, new ResponseHandler() {
            @Override
            public void onResponse(DirectBuffer b, int len) throws MalformedMessageException {
                Messages.SegmentLocation loc = Messages.SegmentLocation.decode(b, 0, len);
                int slab = loc.slab();
                if (!insideSlabs(loc, shard.length())) {
                    f.completeExceptionally(new DmException(Status.BAD_REQUEST, "READBACK answered a bad location " + loc));
                    return;
                }
                ScheduledFuture<?> t = TIMER.schedule(() -> f.completeExceptionally(new DmTimeoutException(
                        "RMA get of segment " + loc.segmentId() + " not completed in time")), rmaTimeoutNanos,
                        TimeUnit.NANOSECONDS);
                // the get may outlive its deadline: its buffer stays referenced here (and only here:
                // the operation itself knows just the address) until its callback runs
                long rmaId = nextRmaId++;
                rmaTargets.put(rmaId, target);
                postGet(rmaId, UcxUtils.getAddress(target), loc, rkeys[slab], f, t);
            }

            @Override
            public void onError(DmException e) {
                f.completeExceptionally(e);
            }
        }));
        if (!queued) {
            throw new DmUnavailableException("client closed");
        }
        await(f, "READBACK");
        if (target != dst) {
            dst.duplicate().clear().put(target.clear().limit(shard.length()));
        }
    }

    /**
     * One-sided read on the caller's thread ({@link CallerChannel}): false when it cannot be served
     * now, and the caller delegates.
     */
    @Override
    public boolean read(MemoryNode.RemoteShard shard, int offset, int length, byte[] dst) {
        return channel.read(shard, offset, length, dst); // false once closed or disconnected
    }

    @Override
    public boolean[] readMany(List<MemoryNode.RemoteShard> shards, int[] offsets, int[] lengths, byte[][] dsts) {
        return channel.readMany(shards, offsets, lengths, dsts);
    }

    /** Test hook: delegated GETs and one-sided reads done on the callers' threads so far. */
    long[] callerCounts() {
        return channel.counts();
    }

    /**
     * Progress thread: posts the RMA get of a read-back into the buffer registered as {@code rmaId}
     * in {@link #rmaTargets}. Only the address is captured here, so the map alone keeps the buffer
     * reachable; every outcome removes it.
     */
    private void postGet(long rmaId, long address, Messages.SegmentLocation loc, UcpRemoteKey rkey,
            CompletableFuture<Void> f, ScheduledFuture<?> t) {
        UcpEndpoint from = ep;
        int gen = generation;
        postRma(() -> {
            if (gen != generation) {
                rmaTargets.remove(rmaId); // the endpoint is gone: never posted
                f.completeExceptionally(unavailable());
                return;
            }
            try {
                from.getNonBlocking(loc.address(), rkey, address, loc.length(), new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        rmaTargets.remove(rmaId);
                        t.cancel(false);
                        f.complete(null);
                    }

                    @Override
                    public void onError(int status, String msg) {
                        rmaTargets.remove(rmaId);
                        t.cancel(false);
                        f.completeExceptionally(new DmUnavailableException("RMA get failed (UCX status " + status
                                + ": " + msg + ")"));
                    }
                });
            } catch (UcxException e) {
                rmaTargets.remove(rmaId);
                t.cancel(false);
                f.completeExceptionally(new DmUnavailableException("RMA get failed: " + e.getMessage()));
            }
        });
    }

    /**
     * Frees the segment and waits for the answer. While disconnected it throws
     * {@link DmUnavailableException} at once, but the FREE is kept and sent after the reconnect.
     */
    @Override
    public void free(MemoryNode.RemoteShard shard) throws DmException {
        boolean wasConnected = connected;
        CompletableFuture<Void> f = freeAsync(shard);
        if (!wasConnected && !closed) {
            throw new DmUnavailableException(unavailable().getMessage() + "; the FREE is sent after the reconnect");
        }
        await(f, "FREE");
    }

    /**
     * Frees the segment; the future completes with the node's answer. While disconnected, or if the
     * connection fails before the answer, the FREE is sent after the reconnect and the future
     * completes then (a restarted node answers NO_SUCH_SEGMENT); it fails at once only if the client
     * is closed, and with {@link DmTimeoutException} if the node does not answer within the request
     * timeout (the FREE is still sent again if the connection then drops unanswered).
     */
    @Override
    public CompletableFuture<Void> freeAsync(MemoryNode.RemoteShard shard) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        long segmentId = shard.segmentId();
        channel.forget(segmentId); // before the node may reuse the bytes
        if (closed || !node.submit(() -> sendFree(segmentId, f))) {
            f.completeExceptionally(new DmUnavailableException("client closed"));
        }
        return f;
    }

    // ---- jobs (protocol version 3; compaction jobs and worker kinds: 4) ------------------------------------------------------------------

    /**
     * Submits a job to the node's coordinator and waits until it ended: declined, or done by a
     * worker. The wait is bounded by the job's deadline plus two request timeouts (the coordinator
     * answers at the deadline itself).
     *
     * @throws DmException {@code JOB_FAILED} if the worker failed or was lost or the deadline passed;
     *                     {@link DmUnavailableException} if the node was lost (a zombie worker may
     *                     still write the attempt's outputs)
     */
    @Override
    public MemoryNode.JobOutcome submitJob(MemoryNode.JobSubmit job) throws DmException {
        long[] ids = segmentIds(job.inputs());
        int load = (int) Math.round(Math.max(0, Math.min(1, job.ownerLoad())) * 1000);
        long deadlineMs = Math.max(1, job.deadline().toMillis());
        BodyWriter body = new Messages.JobSubmit(job.kind(), job.jobId(), job.attempt(),
                job.always() ? Messages.JOB_ALWAYS : 0, load, job.pressureBytes(), deadlineMs, job.startLevel(),
                job.score(), ids, job.spec()).encode(new BodyWriter(64 + 8 * ids.length + job.spec().length));
        long wait = TimeUnit.MILLISECONDS.toNanos(deadlineMs) + 2 * timeoutNanos;
        Messages.JobOutcome o = await(call(Opcode.JOB_SUBMIT, body, (b, len) -> Messages.JobOutcome.decode(b, 0, len),
                wait), "JOB_SUBMIT of job " + job.jobId() + " attempt " + job.attempt(), wait);
        return new MemoryNode.JobOutcome(o.placed(), o.result(), o.worker(), o.message());
    }

    /** Ends a submitted job attempt (its JOB_SUBMIT then fails with JOB_FAILED). */
    @Override
    public void cancelJob(long jobId, int attempt) throws DmException {
        await(call(Opcode.JOB_CANCEL, new Messages.JobCancel(jobId, attempt).encode(new BodyWriter(16)),
                (b, len) -> null), "JOB_CANCEL");
    }

    /**
     * Worker: heartbeat and ask for jobs; the node holds the answer up to {@code poll.waitMs()} when
     * it has nothing to hand out.
     */
    public Messages.PollAnswer poll(Messages.WorkerPoll poll) throws DmException {
        long wait = TimeUnit.MILLISECONDS.toNanos(poll.waitMs()) + timeoutNanos;
        return await(call(Opcode.WORKER_POLL, poll.encode(new BodyWriter(32)),
                (b, len) -> Messages.PollAnswer.decode(b, 0, len), wait), "WORKER_POLL", wait);
    }

    /**
     * Worker: copies bytes {@code [offset, offset + length)} of input {@code index} of the job
     * {@code handle} into {@code dst} at its position (advanced). Asynchronous; several may be in flight.
     */
    public CompletableFuture<Void> readJob(long handle, int index, int offset, int length, ByteBuffer dst) {
        ByteBuffer target = dst.duplicate();
        dst.position(dst.position() + length);
        return call(Opcode.JOB_READ, new Messages.JobRead(handle, index, offset, length).encode(new BodyWriter(24)),
                (b, len) -> {
                    if (len != length) {
                        throw new MalformedMessageException("JOB_READ answered " + len + " bytes, asked for " + length);
                    }
                    b.getBytes(0, target, target.position(), length);
                    return null;
                });
    }

    /** Waits for a {@link #readJob}. */
    public void awaitRead(CompletableFuture<Void> f) throws DmException {
        await(f, "JOB_READ");
    }

    /** Worker: reports a job's result ({@code ok}) or failure. */
    public void jobDone(long handle, boolean ok, byte[] result) throws DmException {
        await(call(Opcode.JOB_DONE, new Messages.JobDone(handle, ok, result).encode(new BodyWriter(16 + result.length)),
                (b, len) -> null), "JOB_DONE");
    }

    /**
     * Sends {@code body} as a request with {@code opcode} and header version {@code version}, as is:
     * for tests that play a hostile or outdated peer. Completes with the answer's body (status 0) or
     * fails with the node's error.
     */
    public byte[] rawRequest(int version, int opcode, byte[] body) throws DmException {
        BodyWriter w = new BodyWriter(Math.max(16, body.length)).bytes(body);
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (closed || !connected) {
            throw unavailable();
        }
        node.submit(() -> {
            int saved = versionOverride;
            versionOverride = version;
            try {
                send(opcode, w, new ResponseHandler() {
                    @Override
                    public void onResponse(DirectBuffer b, int length) {
                        byte[] out = new byte[length];
                        b.getBytes(0, out);
                        f.complete(out);
                    }

                    @Override
                    public void onError(DmException e) {
                        f.completeExceptionally(e);
                    }
                });
            } finally {
                versionOverride = saved;
            }
        });
        return await(f, "raw " + Opcode.name(opcode));
    }

    /** The node's counters (capacity, used, segments per DB, requests, bytes in/out). */
    public Messages.Stats stats() throws DmException {
        return await(call(Opcode.STATS, new BodyWriter(0), (b, len) -> Messages.Stats.decode(b, 0, len)), "STATS");
    }

    @Override
    public boolean isConnected() {
        return connected;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        channel.close(); // its worker lives on the node's context
        node.close();
    }

    private void stopOnProgressThread() {
        closed = true;
        DmUnavailableException e = new DmUnavailableException("client closed");
        if (firstConnect != null) {
            firstConnect.completeExceptionally(e);
            firstConnect = null;
        }
        UcpRemoteKey[] keys = rkeys;
        UcpEndpoint old = ep;
        rkeys = new UcpRemoteKey[0];
        ep = null; // so dropConnection leaves them to the flush-close below
        dropConnection(e);
        for (OwedFree o : owedFrees) {
            if (o.done() != null) {
                o.done().completeExceptionally(e);
            }
        }
        owedFrees.clear();
        release(keys, old, true);
    }

    @Override
    public String toString() {
        return "DmClient[" + config.address() + ", db " + config.dbId() + ", epoch " + config.epoch()
                + (connected ? ", connected" : ", disconnected") + "]";
    }
}
