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
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * The backup's end of replication over UCX ({@code docs/format/replication-protocol.md}).
 *
 * <p><b>Threads.</b> The progress thread ({@link UcxNode}, "o3-repl-backup-NAME-progress") owns the
 * endpoint and queues every message it receives (a copy) for the apply thread
 * ("o3-repl-backup-NAME-apply"), which does everything else: connecting (again after a loss, with
 * backoff 50 ms doubling to 1 s, until {@link #close}), the handshake, every {@link Replication.Target}
 * call in the order the primary sent them, polling the log ring, reporting consumption and sending
 * heartbeats. Target methods never run on the progress thread; they may block.
 *
 * <p><b>Polling.</b> When nothing is waiting the apply thread spins briefly, then parks for growing
 * intervals up to 1 ms (messages unpark it at once; ring frames, written by RMA, are found at the
 * next poll), so an idle backup costs little CPU.
 *
 * <p><b>Records.</b> {@link Replication.Target#applyLog} gets, for ring records, a byte array this
 * class reuses for the next record (copy what must outlive the call); for catch-up records, the
 * message body they arrived in (not reused, but shared by the batch's records).
 *
 * <p><b>Files</b> are received by a {@link TableReceiver}.
 */
public final class ReplicationBackup implements Replication.Backup {
    private static final System.Logger LOG = ReplicationPrimary.LOG;
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long RETRY_LOG_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int SPINS = 200;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final Replication.BackupConfig config;
    private final Replication.Target target;
    private final InetSocketAddress primaryAddress;
    private final long timeoutNanos;
    private final int heartbeatMillis;
    private final UcxNode node;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentLinkedQueue<Inbound> inbox = new ConcurrentLinkedQueue<>();
    private final Thread applier;
    private volatile boolean closed;
    private volatile boolean live;
    private volatile String lastFailure = "not connected yet";
    /** This side just refused the primary (apply thread): the endpoint closes a little later. */
    private boolean refusing;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** The current connection went live (apply thread). */
    private boolean wentLive;

    // registered memory (set in init)
    private UcpMemory ringMemory;
    private UcpMemory landingMemory;
    private byte[] ringRkey;
    private byte[] landingRkey;
    private final int bufferSize;

    // progress thread
    private final FrameSender sender = new FrameSender();
    /** Endpoint closes not known to be complete: the worker may be released only after them (UCX asserts otherwise). */
    private final List<UcpRequest> closing = new ArrayList<>();
    private UcpEndpoint ep;
    private volatile int generation;
    private volatile String lost;
    private volatile long lastHeardNanos;

    // apply thread
    private UnsafeBuffer ring;
    private RingReader reader;
    private TableReceiver tables;

    /** One message from the primary, copied off the progress thread. */
    private record Inbound(int generation, int opcode, int status, long requestId, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** The primary refused or failed the handshake in a way worth saying once, not at every retry. */
    private static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    ReplicationBackup(Replication.BackupConfig config, Replication.Target target) throws IOException {
        if (config.secret() == null || config.secret().length == 0) {
            throw new IllegalArgumentException("replication: empty cluster secret");
        }
        if (config.name() == null || config.name().isEmpty() || config.name().length() > 255) {
            throw new IllegalArgumentException("replication: a backup name of 1..255 characters is needed, found "
                    + config.name());
        }
        if (config.logBuffer() < ReplProtocol.MIN_LOG_BUFFER || config.logBuffer() > (1L << 30)) {
            throw new IllegalArgumentException("replication: logBuffer must be in [" + ReplProtocol.MIN_LOG_BUFFER
                    + ", 1 GiB], found " + config.logBuffer());
        }
        if (config.timeout() == null || config.timeout().isNegative() || config.timeout().isZero()) {
            throw new IllegalArgumentException("replication: timeout must be > 0, found " + config.timeout());
        }
        this.config = config;
        this.target = target;
        this.primaryAddress = ReplicationPrimary.parse(config.primary());
        this.timeoutNanos = config.timeout().toNanos();
        this.heartbeatMillis = (int) Math.max(1, Math.min(config.timeout().toMillis() / 4, 3_600_000));
        this.bufferSize = (int) (config.logBuffer() & -RingFrameDescriptor.ALIGNMENT);
        this.node = new UcxNode("o3-repl-backup-" + config.name(), n -> {
            n.worker().setAmRecvHandler(ReplProtocol.AM_TO_BACKUP, new FrameReceiver(new FrameReceiver.FrameHandler() {
                @Override
                public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body,
                        int length) {
                    byte[] copy = new byte[length];
                    body.getBytes(0, copy);
                    received(new Inbound(generation, opcode, status, requestId, copy));
                }

                @Override
                public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status, String problem) {
                    received(new Inbound(generation, ReplProtocol.ERROR, status, requestId,
                            ("malformed message from the primary: " + problem).getBytes(StandardCharsets.UTF_8)));
                }
            }, ReplProtocol.VERSION));
            ringMemory = n.allocateMemory(bufferSize);
            landingMemory = n.allocateMemory(ReplProtocol.LANDING_BYTES);
            ringRkey = packed(ringMemory);
            landingRkey = packed(landingMemory);
            n.onStop(this::stopOnProgressThread);
        });
        this.applier = new Thread(this::run, "o3-repl-backup-" + config.name() + "-apply");
        applier.setDaemon(true);
        applier.start();
    }

    private static byte[] packed(UcpMemory m) {
        ByteBuffer k = m.getRemoteKeyBuffer();
        byte[] b = new byte[k.remaining()];
        k.duplicate().get(b);
        return b;
    }

    private void received(Inbound m) {
        lastHeardNanos = System.nanoTime();
        inbox.add(m);
        LockSupport.unpark(applier);
    }

    @Override
    public boolean live() {
        return live;
    }

    /** Test hook: a view of the log buffer's memory. */
    UnsafeBuffer ringForTest() {
        return new UnsafeBuffer(ringMemory.getAddress(), bufferSize);
    }

    /** Why the last connection attempt or connection ended (for logs and tests). */
    public String lastFailure() {
        return lastFailure;
    }

    // ---- the apply thread ---------------------------------------------------------------------------

    private void run() {
        ring = new UnsafeBuffer(ringMemory.getAddress(), bufferSize);
        reader = new RingReader(ring, UcxUtils.getByteBufferView(ringMemory.getAddress(), bufferSize), target);
        tables = new TableReceiver(target, config.name(), new UnsafeBuffer(landingMemory.getAddress(),
                ReplProtocol.LANDING_BYTES), UcxUtils.getByteBufferView(landingMemory.getAddress(), ReplProtocol.LANDING_BYTES));
        long backoff = MIN_BACKOFF_NANOS;
        String logged = null;
        long loggedAt = 0;
        int quiet = 0;
        while (!closed) {
            wentLive = false;
            try {
                session();
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() != null ? e.getMessage() : e.toString();
                lastFailure = why;
                // a lost connection is logged at once; while retrying, a new reason at most every 30 s
                long now = System.nanoTime();
                if (!closed && !why.equals(logged) && (logged == null || now - loggedAt > RETRY_LOG_NANOS)) {
                    LOG.log(e instanceof RefusedException ? Level.ERROR : Level.WARNING, "o3lsm-repl: backup "
                            + config.name() + ": " + why + "; retrying"
                            + (quiet > 0 ? " (" + quiet + " failed attempts not logged since the last line)" : ""));
                    logged = why;
                    loggedAt = now;
                    quiet = 0;
                } else {
                    quiet++;
                }
            } finally {
                live = false;
                tables.abandon();
                if (refusing) {
                    // let the primary read why before it sees the endpoint go (a forced close may overtake it)
                    LockSupport.parkNanos(LINGER_NANOS);
                    refusing = false;
                }
                disconnect();
            }
            if (wentLive) {
                backoff = MIN_BACKOFF_NANOS;
                logged = null;
                quiet = 0;
            }
            long until = System.nanoTime() + backoff;
            while (!closed && System.nanoTime() - until < 0) {
                LockSupport.parkNanos(until - System.nanoTime());
            }
            backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
        }
    }

    /** One connection, from connect to its loss (always ends by an exception saying why). */
    private void session() throws IOException {
        inbox.clear();
        int gen = connect();
        byte[] nonce = new byte[ReplProtocol.NONCE_LENGTH];
        random.nextBytes(nonce);
        send(gen, ReplProtocol.HELLO, ReplProtocol.OK, 1, new ReplMessages.Hello(nonce, config.name()).encode(new BodyWriter()));
        long deadline = System.nanoTime() + timeoutNanos;
        ReplMessages.Challenge c = decode(await(gen, ReplProtocol.CHALLENGE, deadline),
                (b, l) -> ReplMessages.Challenge.decode(b, 0, l));
        send(gen, ReplProtocol.AUTH, ReplProtocol.OK, 2, new ReplMessages.Mac(HandshakeMac.replicationBackup(
                config.secret(), c.primaryNonce(), nonce, c.epoch(), c.dbId())).encode(new BodyWriter(40)));
        ReplMessages.Mac w = decode(await(gen, ReplProtocol.WELCOME, deadline),
                (b, l) -> ReplMessages.Mac.decode(b, 0, l, "WELCOME"));
        byte[] expected = HandshakeMac.replicationPrimary(config.secret(), nonce, c.primaryNonce(), c.epoch(), c.dbId());
        if (!HandshakeMac.matches(expected, w.mac())) {
            sendText(gen, ReplProtocol.ERROR, ReplProtocol.AUTH_FAILED, "the primary's proof did not verify");
            refusing = true;
            throw new RefusedException("primary " + config.primary() + " failed to prove it knows the cluster secret"
                    + " (the secrets differ)");
        }
        if (!target.acceptPrimary(c.dbId(), c.epoch())) {
            String why = "backup " + config.name() + " has followed a newer epoch than " + c.epoch() + " of DB " + c.dbId();
            sendText(gen, ReplProtocol.ATTACH, ReplProtocol.FENCED, why);
            refusing = true;
            throw new RefusedException("refused primary " + config.primary() + " (DB " + c.dbId() + " epoch "
                    + c.epoch() + "): fenced, " + why);
        }
        Replication.Holdings holdings = target.holdings();
        ring.setMemory(0, bufferSize, (byte) 0); // no frame of an earlier connection can be taken for a new one
        send(gen, ReplProtocol.ATTACH, ReplProtocol.OK, 3, new ReplMessages.Attach(heartbeatMillis, holdings,
                ringMemory.getAddress(), bufferSize, ringRkey, landingMemory.getAddress(), ReplProtocol.LANDING_BYTES,
                landingRkey).encode(new BodyWriter(256 + 16 * holdings.files().size())));
        ReplMessages.Attached a = decode(await(gen, ReplProtocol.ATTACHED, deadline),
                (b, l) -> ReplMessages.Attached.decode(b, 0, l));
        if (a.ringSize() < ReplProtocol.MIN_LOG_BUFFER || a.ringSize() > bufferSize || (a.ringSize() & 7) != 0) {
            throw new IOException("primary " + config.primary() + " announced a log ring of " + a.ringSize()
                    + " bytes; this backup's buffer holds " + bufferSize);
        }
        LOG.log(Level.INFO, "o3lsm-repl: backup " + config.name() + " attached to primary " + config.primary()
                + " (DB " + c.dbId() + " epoch " + c.epoch() + "); catching up");
        follow(gen, (int) a.ringSize(), a.instance());
    }

    private interface Decoder<T> {
        T decode(DirectBuffer b, int len) throws MalformedMessageException;
    }

    private <T> T decode(Inbound m, Decoder<T> d) throws IOException {
        try {
            return d.decode(new UnsafeBuffer(m.body()), m.body().length);
        } catch (MalformedMessageException e) {
            throw new IOException("malformed " + ReplProtocol.opcodeName(m.opcode()) + " from primary " + config.primary()
                    + ": " + e.getMessage());
        }
    }

    /** The next message of this connection, which must be {@code opcode} (heartbeats skipped). */
    private Inbound await(int gen, int opcode, long deadline) throws IOException {
        int idle = 0;
        while (true) {
            Inbound m = inbox.poll();
            if (m != null) {
                if (m.generation() != gen || m.opcode() == ReplProtocol.HEARTBEAT) {
                    continue;
                }
                if (m.opcode() == ReplProtocol.ERROR) {
                    throw new RefusedException("primary " + config.primary() + " refused: "
                            + ReplProtocol.statusName(m.status()) + ": " + m.text());
                }
                if (m.opcode() != opcode) {
                    throw new IOException("expected " + ReplProtocol.opcodeName(opcode) + " from primary "
                            + config.primary() + ", found " + ReplProtocol.opcodeName(m.opcode()));
                }
                return m;
            }
            checkConnection(gen);
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("primary " + config.primary() + " did not send "
                        + ReplProtocol.opcodeName(opcode) + " within " + config.timeout().toMillis() + " ms");
            }
            idle = idle(idle);
        }
    }

    private void checkConnection(int gen) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        String l = lost;
        if (l != null || generation != gen) {
            throw new IOException(l != null ? l : "connection replaced");
        }
    }

    private int idle(int count) {
        if (count < SPINS) {
            Thread.onSpinWait();
        } else {
            LockSupport.parkNanos(Math.min(MAX_PARK_NANOS, 1000L << Math.min(10, (count - SPINS) / 16)));
        }
        return count + 1;
    }

    /** Follows the primary until the connection is lost; Target calls in the order the primary sent them. */
    private void follow(int gen, int ringSize, int instance) throws IOException {
        long[] at = {-1};
        try {
            followRing(gen, ringSize, instance, at);
        } catch (IOException | RuntimeException ex) {
            drain(at[0], ringSize, instance);
            throw ex;
        }
    }

    /**
     * The connection ends (the primary dropped this backup, went silent, or failed): every whole frame
     * already in the ring is applied first. The primary may have counted them acknowledged (their
     * puts completed), and the next connection clears the ring.
     */
    private void drain(long pos, int ringSize, int instance) {
        if (pos < 0) {
            return;
        }
        try {
            int n = 0;
            while (true) {
                long next = reader.poll(pos, ringSize, instance);
                if (next == pos) {
                    break;
                }
                pos = next;
                n++;
            }
            target.logIdle();
            if (n > 0) {
                LOG.log(Level.INFO, "o3lsm-repl: backup " + config.name() + " applied " + n + " frame(s) left in its "
                        + "ring as the connection ended");
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "o3lsm-repl: backup " + config.name() + ": applying the frames left in its ring "
                    + "failed: " + e);
        }
    }

    private void followRing(int gen, int ringSize, int instance, long[] at) throws IOException {
        long pos = -1; // the next ring position to read; -1 until GO_LIVE
        long reported = -1;
        long lastReport = System.nanoTime();
        long heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(heartbeatMillis);
        long badSince = 0;
        boolean applied = false;
        int idle = 0;
        lastHeardNanos = System.nanoTime();
        while (true) {
            boolean work = false;
            Inbound m = inbox.poll();
            if (m != null) {
                if (m.generation() == gen) {
                    if (m.opcode() == ReplProtocol.GO_LIVE) {
                        pos = goLive(gen, m, ringSize);
                        at[0] = pos;
                        wentLive = true;
                    } else {
                        handle(gen, m);
                    }
                    applied = true;
                }
                work = true;
            } else if (pos >= 0) {
                long next = reader.poll(pos, ringSize, instance);
                if (next != pos) {
                    pos = next;
                    at[0] = pos;
                    work = true;
                    applied = true;
                    badSince = 0;
                } else if (reader.badFrame()) {
                    long now = System.nanoTime();
                    if (badSince == 0) {
                        badSince = now;
                    } else if (now - badSince > timeoutNanos) {
                        throw new IOException("the ring frame at position " + pos + " failed its CRC32C for "
                                + config.timeout().toMillis() + " ms");
                    }
                }
            }
            long now = System.nanoTime();
            if (pos >= 0 && pos != reported && (pos - reported >= ringSize / 4 || !work)) {
                sendConsumed(gen, pos);
                reported = pos;
                lastReport = now;
            } else if (now - lastReport >= heartbeatNanos) {
                sendConsumed(gen, Math.max(pos, 0));
                lastReport = now;
            }
            if (work) {
                idle = 0;
                continue;
            }
            if (applied) {
                applied = false;
                target.logIdle();
            }
            checkConnection(gen);
            if (now - lastHeardNanos > timeoutNanos) {
                throw new IOException("primary " + config.primary() + " silent for " + config.timeout().toMillis()
                        + " ms: presumed lost");
            }
            idle = idle(idle);
        }
    }

    private long goLive(int gen, Inbound m, int ringSize) throws IOException {
        ReplMessages.GoLive g = decode(m, (b, l) -> ReplMessages.GoLive.decode(b, 0, l));
        target.caughtUp(g.lastSequence());
        live = true;
        wentLive = true;
        lastFailure = "live";
        LOG.log(Level.INFO, "o3lsm-repl: backup " + config.name() + " is live (caught up to sequence "
                + g.lastSequence() + ")");
        ack(gen, m, ReplProtocol.OK, null);
        return g.startPosition();
    }

    /** One message other than GO_LIVE; a failing Target call is acknowledged with its error and ends the connection. */
    private void handle(int gen, Inbound m) throws IOException {
        UnsafeBuffer body = new UnsafeBuffer(m.body());
        int len = m.body().length;
        try {
            switch (m.opcode()) {
                case ReplProtocol.HEARTBEAT:
                    return;
                case ReplProtocol.ERROR:
                    throw new IOException("primary " + config.primary() + " ended the connection: "
                            + ReplProtocol.statusName(m.status()) + ": " + m.text());
                case ReplProtocol.FILE_CHUNK:
                    TableReceiver.Refusal r = tables.chunk(ReplMessages.FileChunk.decode(body, 0, len,
                            ReplProtocol.LANDING_BYTES));
                    ack(gen, m, r == null ? ReplProtocol.OK : r.status(), r == null ? null : r.message());
                    return;
                case ReplProtocol.SNAPSHOT: {
                    ReplMessages.Snapshot s = ReplMessages.Snapshot.decode(body, 0, len);
                    target.applySnapshot(s.edit(), s.keptSequence());
                    ack(gen, m, ReplProtocol.OK, null);
                    return;
                }
                case ReplProtocol.LOG_BATCH: {
                    int n = ReplMessages.checkLogBatch(body, 0, len);
                    int at = 4;
                    for (int i = 0; i < n; i++) {
                        long wal = body.getLong(at, LE);
                        int rl = body.getInt(at + 8, LE);
                        target.applyLog(wal, m.body(), at + 12, rl);
                        at += 12 + rl;
                    }
                    ack(gen, m, ReplProtocol.OK, null);
                    return;
                }
                case ReplProtocol.EDIT:
                    target.applyEdit(ReplMessages.decodeEdit(body, 0, len));
                    ack(gen, m, ReplProtocol.OK, null);
                    return;
                default:
                    throw new MalformedMessageException("unknown opcode " + m.opcode());
            }
        } catch (MalformedMessageException e) {
            ack(gen, m, ReplProtocol.BAD_REQUEST, e.getMessage());
            throw new IOException("malformed " + ReplProtocol.opcodeName(m.opcode()) + " from primary "
                    + config.primary() + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (m.opcode() != ReplProtocol.ERROR) {
                ack(gen, m, ReplProtocol.INTERNAL, String.valueOf(e.getMessage()));
            }
            if (e instanceof RuntimeException) {
                // a bug in the Target (or here): its stack is worth more than the message
                LOG.log(Level.ERROR, "o3lsm-repl: backup " + config.name() + ": " + ReplProtocol.opcodeName(m.opcode())
                        + " failed", e);
                throw new IOException(ReplProtocol.opcodeName(m.opcode()) + " failed on backup " + config.name() + ": "
                        + e, e);
            }
            throw (IOException) e;
        }
    }

    // ---- sending (through the progress thread) --------------------------------------------------------

    private void ack(int gen, Inbound m, int status, String error) {
        if (status == ReplProtocol.OK) {
            send(gen, ReplProtocol.ACK, status, m.requestId(), new BodyWriter(0));
        } else {
            sendText(gen, ReplProtocol.ACK, status, error, m.requestId());
        }
    }

    private void sendConsumed(int gen, long pos) {
        send(gen, ReplProtocol.CONSUMED, ReplProtocol.OK, 0, new BodyWriter(8).i64(pos));
    }

    private void sendText(int gen, int opcode, int status, String text) {
        sendText(gen, opcode, status, text, 0);
    }

    private void sendText(int gen, int opcode, int status, String text, long requestId) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        send(gen, opcode, status, requestId, new BodyWriter(b.length).bytes(b));
    }

    private void send(int gen, int opcode, int status, long requestId, BodyWriter body) {
        node.submit(() -> {
            if (gen != generation || ep == null) {
                return;
            }
            try {
                sender.send(ep, ReplProtocol.AM_TO_PRIMARY, ReplProtocol.VERSION, opcode, status, requestId,
                        body.buffer(), 0, body.length(), UcpConstants.UCP_AM_SEND_FLAG_REPLY, null);
            } catch (UcxException e) {
                lost = "sending " + ReplProtocol.opcodeName(opcode) + " failed: " + e.getMessage();
            }
        });
    }

    /** Creates the endpoint (a new connection generation); returns the generation. */
    private int connect() throws IOException {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        if (!node.submit(() -> {
            int gen = generation + 1;
            lost = null;
            try {
                ep = node.worker().newEndpoint(new UcpEndpointParams().setSocketAddress(primaryAddress)
                        .setPeerErrorHandlingMode().setName("o3-repl-" + config.name())
                        .setErrorHandler((e, status, msg) -> {
                            if (gen == generation) {
                                lost = "connection to primary " + config.primary() + " failed (UCX status " + status
                                        + ": " + msg + ")";
                                LockSupport.unpark(applier);
                            }
                        }));
                generation = gen;
                f.complete(gen);
            } catch (UcxException e) {
                generation = gen;
                f.completeExceptionally(new IOException("cannot connect to primary " + config.primary() + ": "
                        + e.getMessage()));
            }
        })) {
            throw new IOException("closed");
        }
        try {
            return f.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (IOException) e.getCause();
        } catch (java.util.concurrent.TimeoutException | InterruptedException e) {
            throw new IOException("connecting to primary " + config.primary() + " did not finish");
        }
    }

    /** Ends the current connection (telling the primary when closing). */
    private void disconnect() {
        boolean polite = closed;
        node.submit(() -> {
            UcpEndpoint old = ep;
            ep = null;
            generation++;
            if (old == null) {
                return;
            }
            if (polite) {
                try {
                    byte[] b = ("backup " + config.name() + " closing").getBytes(StandardCharsets.UTF_8);
                    sender.send(old, ReplProtocol.AM_TO_PRIMARY, ReplProtocol.VERSION, ReplProtocol.ERROR,
                            ReplProtocol.CLOSING, 0, new UnsafeBuffer(b), 0, b.length, UcpConstants.UCP_AM_SEND_FLAG_REPLY,
                            null);
                    closing.add(old.closeNonBlockingFlush());
                    return;
                } catch (UcxException e) {
                    // fall through to a forced close
                }
            }
            try {
                closing.add(old.closeNonBlockingForce());
            } catch (UcxException e) {
                // already failed
            }
            closing.removeIf(UcpRequest::isCompleted);
        });
    }

    private void stopOnProgressThread() {
        UcpEndpoint old = ep;
        ep = null;
        generation++;
        if (old != null) {
            try {
                closing.add(old.closeNonBlockingForce());
            } catch (UcxException e) {
                // already failed
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        try {
            while (!closing.stream().allMatch(UcpRequest::isCompleted) && System.nanoTime() - deadline < 0) {
                node.worker().progress();
            }
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "o3lsm-repl: progress while closing: " + e);
        }
        closing.clear();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(applier);
        try {
            applier.join(TimeUnit.SECONDS.toMillis(5));
            if (applier.isAlive()) {
                applier.interrupt(); // a Target call blocked in I/O may give up
                applier.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (applier.isAlive()) {
            // releasing the log buffer under a thread that may still read it could crash the JVM: leak instead
            LOG.log(Level.ERROR, "o3lsm-repl: backup " + config.name() + ": the apply thread is still in a Target"
                    + " call 10 s after close; its UCX resources are left to the process's exit");
            return;
        }
        node.close();
    }
}
