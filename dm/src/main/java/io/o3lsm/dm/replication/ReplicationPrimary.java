package io.o3lsm.dm.replication;

import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.HandshakeMac;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.dm.transport.FrameReceiver;
import io.o3lsm.dm.transport.FrameSender;
import io.o3lsm.dm.transport.UcxNode;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpListener;
import org.openucx.jucx.ucp.UcpListenerParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * The primary's end of replication over UCX ({@code docs/format/replication-protocol.md}).
 *
 * <p><b>Threads.</b> The progress thread ({@link UcxNode}, "o3-repl-primary-progress") accepts
 * backups, runs the handshake, posts every RMA put and sends every message. Each attached backup has
 * a session thread ({@link PrimarySession}, "o3-repl-primary-NAME") that runs the engine's catch-up
 * and then ships edits. {@link #publish} runs on the write leader; {@link #awaitAcks} on any writer;
 * a timer ("o3-repl-primary-timer") sends heartbeats and ends stuck handshakes.
 *
 * <p><b>The log.</b> One registered staging ring, the size of the first backup's log buffer (a backup
 * with a smaller buffer is refused; a larger one uses only that much). {@link #publish} encodes a
 * group once into it at its absolute position and the progress thread puts the new bytes into every
 * live backup's buffer at the same offsets, then flushes the endpoint: the flush's completion is the
 * acknowledgement ({@link Replication.BackupStatus#ackedTicket}). Tickets count groups (1, 2, ...).
 * A group whose frame exceeds half the ring cannot be put: every live backup is dropped (it catches
 * up, and the catch-up carries records of any size by message), with a warning naming the size.
 */
public final class ReplicationPrimary implements Replication.Primary {
    static final System.Logger LOG = System.getLogger("io.o3lsm.dm.replication");
    /** A handshake not finished within this is ended (the connection is closed). */
    private static final long HANDSHAKE_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long TICK_MILLIS = 20;
    /** The largest message body a peer that has not proved the secret may send (HELLO, AUTH). */
    static final int PRE_AUTH_MAX_BODY = 1024;
    /** How often the timer puts async groups the writers published but did not pump themselves. */
    static final long PUMP_MILLIS = 1;
    /** How long an endpoint stays open after the ERROR that ends its session. */
    private static final long LINGER_MILLIS = 100;
    /** For RMA puts whose outcome the flush after them reports. */
    static final UcxCallback NO_CALLBACK = new UcxCallback();

    final Replication.PrimaryConfig config;
    final Replication.Source source;
    final long ackTimeoutNanos;
    final UcxNode node;
    private final ScheduledExecutorService timer;
    private final SecureRandom random = new SecureRandom();
    private final FrameSender sender = new FrameSender(); // progress thread only
    private final Map<UcpEndpoint, PrimarySession> sessions = new HashMap<>(); // progress thread only
    /** Sessions that attached and have not ended: shipEdit's targets and backups(). */
    final CopyOnWriteArrayList<PrimarySession> attached = new CopyOnWriteArrayList<>();
    /** Every session whose thread was started (joined at close). */
    private final CopyOnWriteArrayList<PrimarySession> started = new CopyOnWriteArrayList<>();
    /** Backups that refused this primary, by name. */
    private final ConcurrentHashMap<String, Replication.BackupStatus> fencedBy = new ConcurrentHashMap<>();
    /** Why each backup was last dropped, by name (for awaitAcks' error). */
    final ConcurrentHashMap<String, String> lastDrop = new ConcurrentHashMap<>();
    private final List<Closing> closing = new ArrayList<>(); // progress thread only
    /** Sessions ended with an ERROR whose endpoint closes {@link #LINGER_MILLIS} later (progress thread only). */
    private final List<PrimarySession> lingering = new ArrayList<>();
    /** File staging buffers, reused across sessions. */
    private final List<UcpMemory> stagingPool = new ArrayList<>();
    private final String address;
    private UcpListener listener;
    private long nextSessionId = 1;

    private volatile String fenced;
    /** The log ring and the live backups. */
    final LogRing log = new LogRing(this);
    private volatile boolean closed;

    private record Closing(UcpRequest request, UcpRemoteKey[] keys) {
    }

    ReplicationPrimary(Replication.PrimaryConfig config, Replication.Source source) throws IOException {
        if (config.secret() == null || config.secret().length == 0) {
            throw new IllegalArgumentException("replication: empty cluster secret");
        }
        if (config.dbId() == null || config.dbId().isEmpty()) {
            throw new IllegalArgumentException("replication: empty DB id");
        }
        if (config.ackTimeout() == null || config.ackTimeout().isNegative() || config.ackTimeout().isZero()) {
            throw new IllegalArgumentException("replication: ackTimeout must be > 0, found " + config.ackTimeout());
        }
        this.config = config;
        this.source = source;
        this.ackTimeoutNanos = config.ackTimeout().toNanos();
        InetSocketAddress listen = parse(config.listen());
        String[] bound = new String[1];
        UcxNode started;
        try {
            started = new UcxNode("o3-repl-primary", n -> {
                n.worker().setAmRecvHandler(ReplProtocol.AM_TO_PRIMARY, new FrameReceiver(new FrameReceiver.FrameHandler() {
                    @Override
                    public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body,
                            int length) {
                        onMessage(replyEp, opcode, status, requestId, body, length);
                    }

                    @Override
                    public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status, String problem) {
                        PrimarySession s = replyEp == null ? null : sessions.get(replyEp);
                        LOG.log(Level.WARNING, "o3lsm-repl: malformed message from " + (s == null ? "unknown peer" : s.who())
                                + ": " + problem);
                        if (s != null) {
                            sendError(s, requestId, status, problem);
                        }
                    }
                }, ReplProtocol.VERSION, (ep, opcode, length) -> {
                    // before a peer has proved the secret, only the handshake's few hundred bytes
                    PrimarySession s = ep == null ? null : sessions.get(ep);
                    return length <= PRE_AUTH_MAX_BODY || (s != null && s.state >= PrimarySession.AUTHENTICATED
                            && s.state != PrimarySession.REFUSED);
                }));
                listener = n.worker().newListener(new UcpListenerParams().setSockAddr(listen)
                        .setConnectionHandler(request -> accept(n, request)));
                InetSocketAddress a = listener.getAddress();
                bound[0] = listen.getAddress().getHostAddress() + ":" + a.getPort();
                n.onStop(this::stopOnProgressThread);
            });
        } catch (RuntimeException e) {
            throw new IOException("replication: cannot listen for backups at " + config.listen() + ": " + e, e);
        }
        this.node = started;
        this.address = bound[0];
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "o3-repl-primary-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> node.submit(this::tick), TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(log::pumpIfBehind, PUMP_MILLIS, PUMP_MILLIS, TimeUnit.MILLISECONDS);
        LOG.log(Level.INFO, "o3lsm-repl: primary of DB " + config.dbId() + " epoch " + config.epoch()
                + " listening for backups at " + address);
    }

    static InetSocketAddress parse(String hostPort) throws IOException {
        int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("replication address must be host:port, found " + hostPort);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)),
                    Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("replication address must be host:port, found " + hostPort);
        }
    }

    @Override
    public String address() {
        return address;
    }

    // ---- connections and handshake (progress thread) -------------------------------------------

    private void accept(UcxNode n, org.openucx.jucx.ucp.UcpConnectionRequest request) {
        String peer = String.valueOf(request.getClientAddress());
        PrimarySession[] self = new PrimarySession[1];
        UcpEndpoint ep = n.worker().newEndpoint(new UcpEndpointParams().setConnectionRequest(request)
                .setPeerErrorHandlingMode()
                .setErrorHandler((e, st, msg) -> {
                    if (self[0] != null) {
                        onPeerError(self[0], st, msg);
                    }
                }));
        self[0] = new PrimarySession(this, nextSessionId++, ep, peer);
        sessions.put(ep, self[0]);
    }

    private void onMessage(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body, int length) {
        PrimarySession s = replyEp == null ? null : sessions.get(replyEp);
        if (s == null) {
            LOG.log(Level.WARNING, "o3lsm-repl: " + ReplProtocol.opcodeName(opcode) + " from an unknown connection: dropped");
            return;
        }
        s.lastHeardNanos = System.nanoTime();
        try {
            switch (opcode) {
                case ReplProtocol.HELLO:
                    hello(s, requestId, body, length);
                    return;
                case ReplProtocol.AUTH:
                    auth(s, requestId, body, length);
                    return;
                default:
                    break;
            }
            if (s.state < PrimarySession.AUTHENTICATED) {
                sendError(s, requestId, s.state == PrimarySession.REFUSED ? ReplProtocol.AUTH_FAILED
                        : ReplProtocol.NOT_AUTHENTICATED, ReplProtocol.opcodeName(opcode)
                        + " before the handshake completed");
                return;
            }
            switch (opcode) {
                case ReplProtocol.ATTACH:
                    attach(s, status, requestId, body, length);
                    return;
                case ReplProtocol.ACK:
                    s.onAck(requestId, status, status == ReplProtocol.OK ? null : text(body, length));
                    return;
                case ReplProtocol.CONSUMED:
                    consumed(s, requestId, ReplMessages.decodeConsumed(body, 0, length));
                    return;
                case ReplProtocol.ERROR:
                    LOG.log(Level.WARNING, "o3lsm-repl: " + s.who() + " leaves: " + ReplProtocol.statusName(status) + ": "
                            + text(body, length));
                    endSession(s, "the backup left: " + text(body, length), 0, null);
                    return;
                default:
                    sendError(s, requestId, ReplProtocol.BAD_REQUEST, "unknown opcode " + opcode);
            }
        } catch (MalformedMessageException e) {
            LOG.log(Level.WARNING, "o3lsm-repl: " + s.who() + ": malformed " + ReplProtocol.opcodeName(opcode) + ": "
                    + e.getMessage());
            sendError(s, requestId, ReplProtocol.BAD_REQUEST, ReplProtocol.opcodeName(opcode) + ": " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "o3lsm-repl: " + s.who() + " " + ReplProtocol.opcodeName(opcode) + " failed", e);
            sendError(s, requestId, ReplProtocol.INTERNAL, e.toString());
        }
    }

    private static String text(DirectBuffer body, int length) {
        byte[] b = new byte[length];
        body.getBytes(0, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private void hello(PrimarySession s, long requestId, DirectBuffer body, int length) throws MalformedMessageException {
        if (s.state != PrimarySession.NEW) {
            sendError(s, requestId, ReplProtocol.BAD_REQUEST, "HELLO twice on one connection");
            return;
        }
        ReplMessages.Hello h = ReplMessages.Hello.decode(body, 0, length);
        s.name = h.name();
        s.backupNonce = h.backupNonce();
        s.primaryNonce = new byte[ReplProtocol.NONCE_LENGTH];
        random.nextBytes(s.primaryNonce);
        s.state = PrimarySession.CHALLENGED;
        send(s, ReplProtocol.CHALLENGE, ReplProtocol.OK, requestId,
                new ReplMessages.Challenge(s.primaryNonce, config.epoch(), config.dbId()).encode(new BodyWriter(96)));
    }

    private void auth(PrimarySession s, long requestId, DirectBuffer body, int length) throws MalformedMessageException {
        if (s.state != PrimarySession.CHALLENGED) {
            sendError(s, requestId, s.state == PrimarySession.REFUSED ? ReplProtocol.AUTH_FAILED : ReplProtocol.BAD_REQUEST,
                    s.state == PrimarySession.REFUSED ? "authentication already failed on this connection"
                            : "AUTH without HELLO, or twice");
            return;
        }
        ReplMessages.Mac a = ReplMessages.Mac.decode(body, 0, length, "AUTH");
        byte[] expected = HandshakeMac.replicationBackup(config.secret(), s.primaryNonce, s.backupNonce, config.epoch(),
                config.dbId());
        if (!HandshakeMac.matches(expected, a.mac())) {
            s.state = PrimarySession.REFUSED;
            LOG.log(Level.WARNING, "o3lsm-repl: " + s.who() + ": authentication failed (HMAC mismatch: the backup uses a"
                    + " different cluster secret); refused");
            endSession(s, "authentication failed", ReplProtocol.AUTH_FAILED, "primary of DB " + config.dbId()
                    + " refused the backup: HMAC mismatch, the backup's cluster secret differs from the primary's");
            return;
        }
        s.state = PrimarySession.AUTHENTICATED;
        send(s, ReplProtocol.WELCOME, ReplProtocol.OK, requestId, new ReplMessages.Mac(HandshakeMac.replicationPrimary(
                config.secret(), s.backupNonce, s.primaryNonce, config.epoch(), config.dbId())).encode(new BodyWriter(40)));
    }

    private void attach(PrimarySession s, int status, long requestId, DirectBuffer body, int length)
            throws MalformedMessageException {
        if (s.state != PrimarySession.AUTHENTICATED) {
            sendError(s, requestId, ReplProtocol.BAD_REQUEST, "ATTACH twice on one connection");
            return;
        }
        if (status == ReplProtocol.FENCED) {
            String why = text(body, length);
            fenced = "backup " + s.name + " refused this primary (DB " + config.dbId() + " epoch " + config.epoch()
                    + "): fenced by a newer epoch (" + why + ")";
            fencedBy.put(s.name, new Replication.BackupStatus(s.name, false, 0, 0, true));
            LOG.log(Level.ERROR, "o3lsm-repl: " + fenced);
            log.signalAcks();
            endSession(s, "fenced", 0, null);
            return;
        }
        if (status != ReplProtocol.OK) {
            endSession(s, "ATTACH with status " + ReplProtocol.statusName(status), ReplProtocol.BAD_REQUEST,
                    "ATTACH with status " + status);
            return;
        }
        ReplMessages.Attach a = ReplMessages.Attach.decode(body, 0, length);
        LogRing.Ring r = log.ring();
        if (r == null) {
            int size = (int) (a.logLength() & -RingFrameDescriptor.ALIGNMENT);
            r = log.createRing(node.allocateMemory(size), size, random.nextInt());
            LOG.log(Level.INFO, "o3lsm-repl: log ring of " + size + " bytes (set by backup " + s.name + "'s log buffer)");
        } else if (a.logLength() < r.size) {
            endSession(s, "log buffer too small", ReplProtocol.BAD_REQUEST, "log buffer of " + a.logLength()
                    + " bytes is smaller than this primary's log ring of " + r.size
                    + " bytes (set by the first backup): give every backup the same logBuffer");
            return;
        }
        UcpRemoteKey logKey;
        UcpRemoteKey landingKey;
        try {
            logKey = s.ep.unpackRemoteKey(direct(a.logRkey()));
        } catch (UcxException e) {
            endSession(s, "bad remote key", ReplProtocol.BAD_REQUEST, "cannot unpack the log buffer's remote key: "
                    + e.getMessage());
            return;
        }
        try {
            landingKey = s.ep.unpackRemoteKey(direct(a.landingRkey()));
        } catch (UcxException e) {
            logKey.close();
            endSession(s, "bad remote key", ReplProtocol.BAD_REQUEST, "cannot unpack the landing buffer's remote key: "
                    + e.getMessage());
            return;
        }
        s.attached(a, logKey, landingKey, takeStaging());
        send(s, ReplProtocol.ATTACHED, ReplProtocol.OK, requestId, new ReplMessages.Attached(r.size, r.instance)
                .encode(new BodyWriter(16)));
        attached.add(s);
        fencedBy.remove(s.name);
        LOG.log(Level.INFO, "o3lsm-repl: " + s.who() + " attached (holds DB " + a.holdings().dbId() + " epoch "
                + a.holdings().epoch() + ", " + a.holdings().files().size() + " tables, applied sequence "
                + a.holdings().appliedSequence() + "); catching up");
        started.removeIf(PrimarySession::finished);
        started.add(s);
        s.start();
    }

    private static ByteBuffer direct(byte[] b) {
        ByteBuffer bb = ByteBuffer.allocateDirect(b.length);
        bb.put(b).flip();
        return bb;
    }

    private void consumed(PrimarySession s, long requestId, long position) {
        if (s.state != PrimarySession.ATTACHED) {
            sendError(s, requestId, ReplProtocol.BAD_REQUEST, "CONSUMED before ATTACH");
            return;
        }
        if (position > s.sent || position < 0 || (position & 7) != 0) {
            if (s.live) {
                LOG.log(Level.WARNING, "o3lsm-repl: " + s.who() + " reported consumed position " + position
                        + ", but only " + s.sent + " was put: dropped");
                endSession(s, "bad consumed position " + position, ReplProtocol.BAD_REQUEST, "consumed position "
                        + position + " beyond the " + s.sent + " bytes put");
            }
            return; // not live: a heartbeat
        }
        if (position > s.consumed) {
            s.consumed = position;
        }
    }

    private UcpMemory takeStaging() {
        synchronized (stagingPool) {
            if (!stagingPool.isEmpty()) {
                return stagingPool.remove(stagingPool.size() - 1);
            }
        }
        return node.allocateMemory(ReplProtocol.LANDING_BYTES);
    }

    /** A session's file staging buffer goes back (a put from it to a dropped backup may still read it: harmless). */
    void returnStaging(UcpMemory m) {
        if (m != null) {
            synchronized (stagingPool) {
                stagingPool.add(m);
            }
        }
    }

    // ---- sending (progress thread) ----------------------------------------------------------------

    void send(PrimarySession s, int opcode, int status, long requestId, BodyWriter body) {
        send(s, opcode, status, requestId, body, null);
    }

    /** Sends {@code body} and calls {@code done} (may be null) with the UCX status (0: sent). Progress thread. */
    void send(PrimarySession s, int opcode, int status, long requestId, BodyWriter body, FrameSender.Completion done) {
        if (s.endpointClosed) {
            if (done != null) {
                done.onDone(-1, "endpoint closed");
            }
            return;
        }
        try {
            sender.send(s.ep, ReplProtocol.AM_TO_BACKUP, ReplProtocol.VERSION, opcode, status, requestId,
                    body.buffer(), 0, body.length(), 0, done);
            s.lastSentNanos = System.nanoTime();
        } catch (UcxException e) {
            if (done != null) {
                done.onDone(-1, e.getMessage());
            }
        }
    }

    private void sendError(PrimarySession s, long requestId, int status, String message) {
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        send(s, ReplProtocol.ERROR, status, requestId, new BodyWriter(b.length).bytes(b));
    }

    // ---- ending sessions ---------------------------------------------------------------------------

    private void onPeerError(PrimarySession s, int status, String message) {
        if (s.endpointClosed) {
            return;
        }
        LOG.log(s.state == PrimarySession.ATTACHED ? Level.WARNING : Level.INFO, "o3lsm-repl: " + s.who()
                + " disconnected (UCX status " + status + ": " + message + ")");
        node.submit(() -> endSession(s, "connection failed (UCX status " + status + ": " + message + ")", 0, null));
    }

    /**
     * Progress thread: ends a session: fails its waits, tells the backup why (when {@code status} is
     * not 0), closes its endpoint, then its remote keys once the close completed.
     */
    void endSession(PrimarySession s, String reason, int status, String message) {
        if (s.ended) {
            return;
        }
        s.ended = true;
        s.fail(reason);
        log.removeLive(s);
        attached.remove(s);
        sessions.remove(s.ep);
        if (s.name != null && s.state == PrimarySession.ATTACHED) {
            lastDrop.put(s.name, reason);
        }
        if (status != 0) {
            byte[] b = message.getBytes(StandardCharsets.UTF_8);
            // closed a little after the ERROR went out, so that the peer reads it before it sees the endpoint go
            // (a forced close right away may overtake it); never inside the UCX callback
            lingering.add(s);
            send(s, ReplProtocol.ERROR, status, 0, new BodyWriter(b.length).bytes(b), (st, err) -> {
                try {
                    timer.schedule(() -> node.submit(() -> closeEndpoint(s)), LINGER_MILLIS, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    node.submit(() -> closeEndpoint(s)); // closing: the stop hook closes it anyway
                }
            });
        } else {
            closeEndpoint(s);
        }
    }

    private void closeEndpoint(PrimarySession s) {
        lingering.remove(s);
        if (s.endpointClosed) {
            return;
        }
        s.endpointClosed = true;
        UcpRemoteKey[] keys = s.takeKeys();
        try {
            closing.add(new Closing(s.ep.closeNonBlockingForce(), keys));
        } catch (RuntimeException e) {
            // the endpoint failed already: operations on it are over
            destroy(keys);
        }
    }

    private static void destroy(UcpRemoteKey[] keys) {
        for (UcpRemoteKey k : keys) {
            try {
                k.close();
            } catch (RuntimeException e) {
                // nothing to do
            }
        }
    }

    /** Any thread: the backup is dropped (publish's space wait, a failed session thread); it is told why. */
    void drop(PrimarySession s, String reason) {
        if (s.ended || !s.dropped.compareAndSet(false, true)) {
            return;
        }
        if (s.name != null) {
            lastDrop.put(s.name, reason);
        }
        log.removeLive(s);
        s.fail(reason);
        LOG.log(Level.WARNING, "o3lsm-repl: backup " + s.name + " dropped: " + reason + " (it reconnects and catches up)");
        node.submit(() -> endSession(s, reason, ReplProtocol.DROPPED, "dropped by the primary: " + reason));
    }

    private void tick() {
        long now = System.nanoTime();
        for (PrimarySession s : new ArrayList<>(sessions.values())) {
            if (s.state == PrimarySession.ATTACHED) {
                if (now - s.lastSentNanos >= s.heartbeatNanos) {
                    send(s, ReplProtocol.HEARTBEAT, ReplProtocol.OK, 0, new BodyWriter(0));
                }
            } else if (now - s.createdNanos > HANDSHAKE_NANOS) {
                LOG.log(Level.WARNING, "o3lsm-repl: " + s.who() + ": handshake not finished within 10 s; closed");
                endSession(s, "handshake timeout", ReplProtocol.NOT_AUTHENTICATED, "handshake not finished within 10 s");
            }
        }
        for (Iterator<Closing> it = closing.iterator(); it.hasNext();) {
            Closing c = it.next();
            if (c.request().isCompleted()) {
                it.remove();
                destroy(c.keys());
            }
        }
    }

    @Override
    public long publish(long walNumber, List<byte[]> records, int[] lengths) throws IOException {
        return log.publish(walNumber, records, lengths);
    }

    @Override
    public void awaitAcks(long ticket, int acks) throws IOException {
        log.awaitAcks(ticket, acks);
    }

    String fencedReason() {
        return fenced;
    }

    // ---- edits -------------------------------------------------------------------------------------

    @Override
    public void shipEdit(byte[] edit, List<Replication.FileRef> newFiles, Runnable release) {
        PrimarySession.EditItem item = new PrimarySession.EditItem(edit, List.copyOf(newFiles), release);
        for (PrimarySession s : attached) {
            s.offerEdit(item);
        }
        item.done(); // the guard: release runs once every session that queued it is done with it
    }

    @Override
    public List<Replication.BackupStatus> backups() {
        List<Replication.BackupStatus> out = new ArrayList<>();
        for (PrimarySession s : attached) {
            out.add(new Replication.BackupStatus(s.name, s.live, s.acked, s.bytesSent.get(), false));
        }
        out.addAll(fencedBy.values());
        return out;
    }

    /** Test hook: called with each file chunk in the staging buffer after its CRC was taken (may change its bytes). */
    volatile ChunkHook chunkHookForTest;

    interface ChunkHook {
        void onChunk(long fileNumber, long offset, UnsafeBuffer staging, int length);
    }

    boolean isClosed() {
        return closed;
    }

    // ---- close ------------------------------------------------------------------------------------

    private void stopOnProgressThread() {
        for (PrimarySession s : new ArrayList<>(lingering)) {
            closeEndpoint(s);
        }
        for (PrimarySession s : new ArrayList<>(sessions.values())) {
            s.fail("primary closed");
            s.endpointClosed = true;
            try {
                closing.add(new Closing(s.ep.closeNonBlockingFlush(), s.takeKeys()));
            } catch (RuntimeException e) {
                // already failed
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            while (System.nanoTime() < deadline && !closing.stream().allMatch(c -> c.request().isCompleted())) {
                node.worker().progress();
            }
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "o3lsm-repl: closing endpoints: " + e);
        }
        for (Closing c : closing) {
            if (c.request().isCompleted()) {
                destroy(c.keys());
            }
        }
        closing.clear();
        sessions.clear();
        if (listener != null) {
            listener.close();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        List<PrimarySession> all = new ArrayList<>(attached);
        for (PrimarySession s : all) {
            s.fail("primary closed");
        }
        log.clear();
        // the session threads write into the staging buffers: they end before the node unmaps them
        boolean alive = false;
        for (PrimarySession s : started) {
            s.fail("primary closed");
            s.join(TimeUnit.SECONDS.toMillis(5));
            alive |= !s.finished();
        }
        if (alive) {
            // unmapping memory a thread may still copy into would crash the process: leave it to the exit
            LOG.log(Level.ERROR, "o3lsm-repl: primary of DB " + config.dbId() + ": a backup's session thread is "
                    + "still running 5 s after close; its UCX resources are left to the process's exit");
        } else {
            node.close();
        }
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.log(Level.INFO, "o3lsm-repl: primary of DB " + config.dbId() + " closed");
    }
}
