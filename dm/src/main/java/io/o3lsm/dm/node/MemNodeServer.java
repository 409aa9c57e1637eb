package io.o3lsm.dm.node;

import io.o3lsm.CorruptionException;
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
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalIterators;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.memtable.ShardReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpListener;
import org.openucx.jucx.ucp.UcpListenerParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * The memory node: a UCX listener, a pool of UCX-allocated slabs registered once, and the request
 * handlers of the DM protocol ({@code docs/format/dm-protocol.md}).
 *
 * <p><b>Threads.</b> The progress thread ({@link UcxNode}) accepts connections, runs the handshake
 * and the cheap requests (ALLOC, FREE, READBACK, STATS) and owns sessions and accounts. COMMIT
 * (CRC32C over the segment), GET and SCAN (searching shard bytes in place with core's
 * {@link ShardReader}) run on {@code threads} worker threads, or inline when {@code threads} is 0;
 * their answers go back through the progress thread.
 *
 * <p><b>Isolation.</b> Nothing but HELLO and AUTH is served before the HMAC handshake; the slabs'
 * remote keys are sent only in the AUTH answer. Every request names segments by id and the node
 * checks owner (DB id), epoch, state and bounds; remote keys cover whole slabs and UCX does not
 * bounds-check RMA on them, so authenticated peers are trusted not to write outside their segments.
 *
 * <p><b>Integrity.</b> The node verifies each segment's CRC32C at COMMIT, before serving it. After
 * COMMIT it re-verifies committed segments in the background ({@code scrubRate} bytes per second,
 * thread "memnode-scrub"), not on every GET or SCAN: a delegated get touches a few cache lines of a
 * segment, and a CRC over the whole segment per request (~100 µs per MiB) would multiply its cost.
 * A segment that fails the re-check is refused with CORRUPT from then on (GET, SCAN, READBACK). The
 * client checks the CRC32C of every read-back itself (end to end, before a flush uses the bytes).
 */
public final class MemNodeServer implements AutoCloseable {
    /** Settings; validated by {@link io.o3lsm.dm.MemNode}. */
    public record Config(InetSocketAddress listen, long capacity, byte[] secret, int threads, long slabSize,
            Duration statsInterval, long scrubRate) {
        /** Default {@code scrubRate}: bytes of committed segments re-verified per second. */
        public static final long DEFAULT_SCRUB_RATE = 64L << 20;

        public Config(InetSocketAddress listen, long capacity, byte[] secret, int threads, long slabSize,
                Duration statsInterval) {
            this(listen, capacity, secret, threads, slabSize, statsInterval, DEFAULT_SCRUB_RATE);
        }
    }

    /** The scrubber wakes this often and verifies up to {@code scrubRate / SCRUB_TICKS_PER_SECOND} bytes. */
    private static final int SCRUB_TICKS_PER_SECOND = 10;

    private static final int MAX_SCAN_BYTES = 16 << 20;
    /** GETs naming at most this many segments are answered on the progress thread itself. */
    private static final int INLINE_GET_CANDIDATES = 16;
    /** MULTI_GETs of at most this many body bytes are answered on the progress thread itself. */
    private static final int INLINE_MULTI_GET_BYTES = 1024;
    private static final int MAX_SCAN_ENTRIES = 1 << 20;

    private final Config config;
    private final NodeLog log;
    private final SecureRandom random = new SecureRandom();
    private final long instanceId = random.nextLong();
    private final ConcurrentHashMap<Long, Segment> segments = new ConcurrentHashMap<>();
    private final ExecutorService workers;
    private final ScheduledExecutorService statsTimer;
    /** Re-verifies committed segments' CRC32C in the background ("memnode-scrub"); null when off. */
    private final ScheduledExecutorService scrubber;
    /** Scrubber thread only: where the round-robin pass over the segments stands. */
    private java.util.Iterator<Segment> scrubCursor;
    /** Test hook: runs at the start of every scrubber tick (e.g. to throw). */
    volatile Runnable scrubProbeForTest;
    private final AtomicLong damaged = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private final UcxNode node;
    /** The job control plane (progress thread only); created in init. */
    private Coordinator coordinator;

    // ---- progress-thread state ----
    private final Map<UcpEndpoint, Session> sessions = new HashMap<>();
    private final Map<String, DbAccount> dbs = new HashMap<>();
    private final FrameSender sender = new FrameSender();
    private final List<UcpMemory> slabs = new ArrayList<>();
    private SegmentAllocator allocator;
    private List<Messages.Slab> slabInfo;
    private UcpListener listener;
    /**
     * Segment ids start at a random point per node instance (high 31 bits random, low 32 counting), so
     * a handle from before a restart names no segment of the new instance (NO_SUCH_SEGMENT) instead of
     * silently naming another shard: the DB reconnects with the same DB id and epoch.
     */
    private long nextSegmentId = (random.nextLong() & 0x7fff_ffff_0000_0000L) | 1L;
    private long nextSessionId = 1;
    private long lastRequests;
    private long lastIn;
    private long lastOut;
    private long lastStatsNanos = System.nanoTime();

    /** Starts listening; throws if the port is taken or UCX fails. */
    public MemNodeServer(Config config, NodeLog log) {
        this.config = config;
        this.log = log;
        this.workers = config.threads() > 0 ? Executors.newFixedThreadPool(config.threads(), r -> {
            Thread t = new Thread(r, "memnode-worker");
            t.setDaemon(true);
            return t;
        }) : null;
        this.node = new UcxNode("memnode", this::init);
        this.statsTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "memnode-stats");
            t.setDaemon(true);
            return t;
        });
        long every = config.statsInterval().toMillis();
        if (every > 0) {
            statsTimer.scheduleAtFixedRate(() -> node.submit(this::logStats), every, every, TimeUnit.MILLISECONDS);
        }
        statsTimer.scheduleAtFixedRate(() -> node.submit(this::coordinatorTick), 100, 100, TimeUnit.MILLISECONDS);
        if (config.scrubRate() > 0) {
            scrubber = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "memnode-scrub");
                t.setDaemon(true);
                return t;
            });
            long tick = 1000 / SCRUB_TICKS_PER_SECOND;
            scrubber.scheduleWithFixedDelay(this::scrub, tick, tick, TimeUnit.MILLISECONDS);
        } else {
            scrubber = null;
        }
    }

    /**
     * One scrubber tick: re-verifies the CRC32C of committed segments, round robin, until about
     * {@code scrubRate / SCRUB_TICKS_PER_SECOND} bytes were read. A segment that no longer matches
     * the checksum its COMMIT verified is marked damaged: GET, SCAN and READBACK refuse it with
     * CORRUPT, and the DB rebuilds what it held from its WAL. Never throws, not even an Error (a
     * scheduled task that throws is cancelled without a word): the failure is logged and the next
     * tick runs as usual.
     */
    private void scrub() {
        try {
            Runnable probe = scrubProbeForTest;
            if (probe != null) {
                probe.run();
            }
            long budget = Math.max(1, config.scrubRate() / SCRUB_TICKS_PER_SECOND);
            long done = 0;
            int visited = 0;
            int total = segments.size();
            while (done < budget && visited <= total) {
                if (scrubCursor == null || !scrubCursor.hasNext()) {
                    scrubCursor = segments.values().iterator();
                    if (!scrubCursor.hasNext()) {
                        return;
                    }
                }
                Segment seg = scrubCursor.next();
                visited++;
                if (seg.state.get() != Segment.COMMITTED || seg.damage != null || !seg.retain()) {
                    continue;
                }
                try {
                    if (seg.state.get() != Segment.COMMITTED) {
                        continue;
                    }
                    int found = crc32c(seg.view());
                    done += seg.length;
                    if (found != seg.checksum) {
                        seg.damage = "segment " + seg.id + " of DB " + seg.owner.dbId + " failed its CRC32C re-check"
                                + " after COMMIT: expected 0x" + Integer.toHexString(seg.checksum) + ", found 0x"
                                + Integer.toHexString(found) + " (something wrote into it after it was committed)";
                        damaged.incrementAndGet();
                        log.warn(seg.damage + "; reads from it are refused with CORRUPT");
                    }
                } finally {
                    seg.release();
                }
            }
        } catch (Throwable t) {
            // anything escaping would cancel the schedule for good, silently: log it and keep scrubbing
            try {
                log.error("scrubber tick failed (the scrubber goes on): " + t);
            } catch (Throwable ignored) {
                // even logging failed (out of memory): the next tick tries again
            }
        }
    }

    private void init(UcxNode n) {
        long remaining = config.capacity();
        List<Long> lengths = new ArrayList<>();
        slabInfo = new ArrayList<>();
        long t0 = System.nanoTime();
        while (remaining > 0) {
            long len = Math.min(remaining, config.slabSize());
            UcpMemory m = n.allocateMemory(len);
            slabs.add(m);
            lengths.add(len);
            java.nio.ByteBuffer rkey = m.getRemoteKeyBuffer();
            byte[] packed = new byte[rkey.remaining()];
            rkey.duplicate().get(packed);
            slabInfo.add(new Messages.Slab(m.getAddress(), len, packed));
            remaining -= len;
        }
        allocator = new SegmentAllocator(lengths.stream().mapToLong(Long::longValue).toArray());
        coordinator = new Coordinator(this::reply, this::replyBytes, this::committed, log, random.nextLong() & Long.MAX_VALUE);
        log.info(String.format("pool: %d bytes in %d UCX-allocated slab(s) of <= %d bytes, registered in %.1f ms",
                config.capacity(), slabs.size(), config.slabSize(), (System.nanoTime() - t0) / 1e6));
        n.worker().setAmRecvHandler(MessageHeaderDescriptor.AM_REQUEST, new FrameReceiver(new FrameReceiver.FrameHandler() {
            @Override
            public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body, int length) {
                onRequest(replyEp, opcode, requestId, body, length);
            }

            @Override
            public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status, String problem) {
                log.warn("malformed request: " + problem);
                if (replyEp != null) {
                    Session s = sessions.get(replyEp);
                    reply(s != null ? s : new Session(0, replyEp, "?"), opcode, requestId, status, null, problem);
                }
            }
        }));
        listener = n.worker().newListener(new UcpListenerParams()
                .setSockAddr(config.listen())
                .setConnectionHandler(request -> {
                    String peer = String.valueOf(request.getClientAddress());
                    Session[] self = new Session[1];
                    UcpEndpoint ep = n.worker().newEndpoint(new UcpEndpointParams()
                            .setConnectionRequest(request)
                            .setPeerErrorHandlingMode()
                            .setErrorHandler((e, st, msg) -> onPeerError(self[0], st, msg)));
                    self[0] = new Session(nextSessionId++, ep, peer);
                    sessions.put(ep, self[0]);
                    log.info("connection from " + peer + " (session " + self[0].id + ")");
                }));
        n.onStop(this::stopOnProgressThread);
    }

    // ---- dispatch (progress thread) -----------------------------------------------------------

    private void onRequest(UcpEndpoint replyEp, int opcode, long requestId, DirectBuffer body, int length) {
        requests.incrementAndGet();
        bytesIn.addAndGet(MessageHeaderDescriptor.LENGTH + length);
        if (replyEp == null) {
            log.warn("request " + Opcode.name(opcode) + " without a reply endpoint: dropped");
            return;
        }
        Session s = sessions.get(replyEp);
        if (s == null) {
            s = new Session(0, replyEp, "unknown peer");
            reply(s, opcode, requestId, Status.NOT_AUTHENTICATED, null, "unknown connection");
            return;
        }
        try {
            switch (opcode) {
                case Opcode.HELLO:
                    reply(s, opcode, requestId, Status.OK, hello(s, body, length), null);
                    return;
                case Opcode.AUTH:
                    reply(s, opcode, requestId, Status.OK, auth(s, body, length), null);
                    return;
                default:
                    break;
            }
            if (s.state != 2) {
                throw new Refusal(Status.NOT_AUTHENTICATED, "request " + Opcode.name(opcode)
                        + " before the handshake completed");
            }
            if (s.isWorker()) {
                switch (opcode) {
                    case Opcode.WORKER_POLL:
                        coordinator.poll(s, requestId, Messages.WorkerPoll.decode(body, 0, length));
                        return;
                    case Opcode.JOB_READ:
                        coordinator.read(s, requestId, Messages.JobRead.decode(body, 0, length));
                        return;
                    case Opcode.JOB_DONE:
                        coordinator.done(s, requestId, Messages.JobDone.decode(body, 0, length));
                        return;
                    case Opcode.STATS:
                        reply(s, opcode, requestId, Status.OK, stats().encode(new BodyWriter()), null);
                        return;
                    default:
                        throw new Refusal(Status.ACCESS_DENIED, "a worker may not send " + Opcode.name(opcode));
                }
            }
            if (s.epoch != s.account.epoch) {
                throw new Refusal(Status.STALE_EPOCH, "epoch " + s.epoch + " of DB " + s.account.dbId
                        + " was superseded by epoch " + s.account.epoch + "; its segments were freed");
            }
            switch (opcode) {
                case Opcode.ALLOC:
                    reply(s, opcode, requestId, Status.OK, alloc(s, Messages.Alloc.decode(body, 0, length)), null);
                    return;
                case Opcode.FREE:
                    reply(s, opcode, requestId, Status.OK, free(s, Messages.SegmentRef.decode(body, 0, length)), null);
                    return;
                case Opcode.READBACK:
                    reply(s, opcode, requestId, Status.OK, readback(s, Messages.SegmentRef.decode(body, 0, length)), null);
                    return;
                case Opcode.STATS:
                    reply(s, opcode, requestId, Status.OK, stats().encode(new BodyWriter()), null);
                    return;
                case Opcode.JOB_SUBMIT:
                    coordinator.submit(s, requestId, Messages.JobSubmit.decode(body, 0, length));
                    return;
                case Opcode.JOB_CANCEL:
                    coordinator.cancel(s, requestId, Messages.JobCancel.decode(body, 0, length));
                    return;
                case Opcode.WORKER_POLL:
                case Opcode.JOB_READ:
                case Opcode.JOB_DONE:
                    throw new Refusal(Status.ACCESS_DENIED, "only a worker may send " + Opcode.name(opcode));
                case Opcode.GET:
                case Opcode.MULTI_GET:
                    // a few in-place skiplist searches: cheaper than two thread hand-offs
                    boolean inline = opcode == Opcode.GET
                            ? length >= 12 && body.getInt(8, java.nio.ByteOrder.LITTLE_ENDIAN) <= INLINE_GET_CANDIDATES
                            : length <= INLINE_MULTI_GET_BYTES;
                    if (inline) {
                        Reply r = work(s, opcode, body, length);
                        reply(s, opcode, requestId, r.status, r.body, r.error);
                        return;
                    }
                    offWorker(s, opcode, requestId, body, length);
                    return;
                case Opcode.COMMIT:
                case Opcode.SCAN:
                    offWorker(s, opcode, requestId, body, length);
                    return;
                default:
                    throw new Refusal(Status.BAD_REQUEST, "unknown opcode " + opcode);
            }
        } catch (Refusal r) {
            reply(s, opcode, requestId, r.status, null, r.getMessage());
        } catch (MalformedMessageException e) {
            reply(s, opcode, requestId, Status.BAD_REQUEST, null, Opcode.name(opcode) + ": " + e.getMessage());
        } catch (RuntimeException e) {
            log.error(s.who() + " " + Opcode.name(opcode) + " failed: " + e);
            reply(s, opcode, requestId, Status.INTERNAL, null, e.toString());
        }
    }

    /** COMMIT, GET and SCAN: on a worker thread (the body is copied first), answered via the progress thread. */
    private void offWorker(Session s, int opcode, long requestId, DirectBuffer body, int length) {
        if (workers == null) {
            Reply r = work(s, opcode, body, length);
            reply(s, opcode, requestId, r.status, r.body, r.error);
            return;
        }
        byte[] copy = new byte[length];
        body.getBytes(0, copy);
        workers.execute(() -> {
            Reply r = work(s, opcode, new UnsafeBuffer(copy), length);
            node.submit(() -> reply(s, opcode, requestId, r.status, r.body, r.error));
        });
    }

    private record Reply(int status, BodyWriter body, String error) {
    }

    /** Any thread: touches only segments (concurrent map) and immutable session fields read at dispatch. */
    private Reply work(Session s, int opcode, DirectBuffer body, int length) {
        try {
            switch (opcode) {
                case Opcode.COMMIT:
                    return new Reply(Status.OK, commit(s, Messages.Commit.decode(body, 0, length)), null);
                case Opcode.GET:
                    return new Reply(Status.OK, get(s, Messages.Get.decode(body, 0, length)), null);
                case Opcode.MULTI_GET:
                    return new Reply(Status.OK, multiGet(s, Messages.MultiGet.decode(body, 0, length)), null);
                default:
                    return new Reply(Status.OK, scan(s, Messages.Scan.decode(body, 0, length)), null);
            }
        } catch (Refusal r) {
            return new Reply(r.status, null, r.getMessage());
        } catch (MalformedMessageException e) {
            return new Reply(Status.BAD_REQUEST, null, Opcode.name(opcode) + ": " + e.getMessage());
        } catch (CorruptionException e) {
            log.warn(s.who() + " " + Opcode.name(opcode) + ": " + e.getMessage());
            return new Reply(Status.CORRUPT, null, e.getMessage());
        } catch (RuntimeException e) {
            log.error(s.who() + " " + Opcode.name(opcode) + " failed: " + e);
            return new Reply(Status.INTERNAL, null, e.toString());
        }
    }

    private void reply(Session s, int opcode, long requestId, int status, BodyWriter body, String error) {
        if (s.closed) {
            return;
        }
        DirectBuffer buf;
        int len;
        if (status == Status.OK) {
            buf = body.buffer();
            len = body.length();
        } else {
            byte[] msg = (error == null ? Status.name(status) : error).getBytes(StandardCharsets.UTF_8);
            buf = new UnsafeBuffer(msg);
            len = msg.length;
        }
        try {
            sender.send(s.ep, MessageHeaderDescriptor.AM_RESPONSE, opcode, status, requestId, buf, 0, len, 0, null);
            bytesOut.addAndGet(MessageHeaderDescriptor.LENGTH + len);
        } catch (UcxException e) {
            log.warn(s.who() + ": reply to " + Opcode.name(opcode) + " not sent: " + e.getMessage());
        }
    }

    /** Sends {@code length} bytes of {@code seg} from {@code offset} as the answer, straight from its memory; releases {@code seg}. */
    private void replyBytes(Session s, int opcode, long requestId, Segment seg, int offset, int length) {
        if (s.closed) {
            seg.release();
            return;
        }
        // released exactly once, whether UCX reports the outcome by callback, by exception, or both
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                seg.release();
            }
        };
        try {
            sender.sendFrom(s.ep, MessageHeaderDescriptor.AM_RESPONSE, opcode, Status.OK, requestId,
                    seg.address + offset, length, 0, (st, err) -> release.run());
            bytesOut.addAndGet(MessageHeaderDescriptor.LENGTH + length);
        } catch (UcxException e) {
            release.run();
            log.warn(s.who() + ": reply to " + Opcode.name(opcode) + " not sent: " + e.getMessage());
        }
    }

    private void coordinatorTick() {
        try {
            coordinator.tick();
        } catch (RuntimeException e) {
            log.error("coordinator tick failed (the next one runs): " + e);
        }
    }

    // ---- handshake ------------------------------------------------------------------------------

    private BodyWriter hello(Session s, DirectBuffer body, int length) throws Refusal, MalformedMessageException {
        if (s.state != 0) {
            throw new Refusal(Status.BAD_STATE, "HELLO twice on one connection");
        }
        s.hello = Messages.Hello.decode(body, 0, length);
        s.serverNonce = new byte[Messages.NONCE_LENGTH];
        random.nextBytes(s.serverNonce);
        s.state = 1;
        return new Messages.Challenge(s.serverNonce, instanceId).encode(new BodyWriter());
    }

    private BodyWriter auth(Session s, DirectBuffer body, int length) throws Refusal, MalformedMessageException {
        if (s.state != 1) {
            throw new Refusal(s.state == 3 ? Status.AUTH_FAILED : Status.BAD_STATE,
                    s.state == 3 ? "authentication already failed on this connection" : "AUTH without HELLO");
        }
        Messages.Auth a = Messages.Auth.decode(body, 0, length);
        Messages.Hello h = s.hello;
        byte[] expected = HandshakeMac.client(config.secret(), s.serverNonce, h.clientNonce(), h.epoch(), h.dbId(),
                h.role());
        if (!HandshakeMac.matches(expected, a.mac())) {
            s.state = 3;
            log.warn(s.who() + ": authentication failed (HMAC mismatch: the client uses a different cluster secret)");
            throw new Refusal(Status.AUTH_FAILED, "memory node refused the handshake: HMAC mismatch, the client's"
                    + " cluster secret differs from the node's --secret-file");
        }
        if (h.role() == Messages.ROLE_WORKER) {
            // a worker holds no segments and gets no slab keys: it reads its jobs' inputs through JOB_READ
            s.state = 2;
            log.info(s.who() + ": authenticated as a worker");
            byte[] nodeMac = HandshakeMac.node(config.secret(), h.clientNonce(), s.serverNonce, h.epoch(), h.dbId(),
                    h.role());
            return new Messages.Welcome(nodeMac, config.capacity(), 0, 0, List.of()).encode(new BodyWriter(128));
        }
        DbAccount acc = dbs.computeIfAbsent(h.dbId(), DbAccount::new);
        if (h.epoch() < acc.epoch) {
            s.state = 3;
            throw new Refusal(Status.STALE_EPOCH, "DB " + h.dbId() + " epoch " + h.epoch()
                    + " is older than its epoch " + acc.epoch + " already connected");
        }
        if (h.epoch() > acc.epoch) {
            coordinator.epochSuperseded(acc, h.epoch());
            if (acc.epoch >= 0) {
                long bytes = acc.used.get();
                int n = freeAll(acc);
                log.info("DB " + h.dbId() + " epoch " + acc.epoch + " superseded by epoch " + h.epoch() + ": freed "
                        + n + " segment(s), " + bytes + " bytes");
            }
            acc.epoch = h.epoch();
        }
        acc.budget = h.dmBudget() > 0 ? Math.min(h.dmBudget(), config.capacity()) : config.capacity();
        s.account = acc;
        s.epoch = h.epoch();
        s.state = 2;
        log.info(s.who() + ": authenticated; budget " + acc.budget + " bytes, holds " + acc.used.get() + " bytes in "
                + acc.segments.size() + " segment(s)");
        byte[] nodeMac = HandshakeMac.node(config.secret(), h.clientNonce(), s.serverNonce, h.epoch(), h.dbId(),
                h.role());
        return new Messages.Welcome(nodeMac, config.capacity(), acc.budget, acc.used.get(), slabInfo)
                .encode(new BodyWriter(256 + 256 * slabInfo.size()));
    }

    // ---- segments (progress thread) -------------------------------------------------------------

    private BodyWriter alloc(Session s, Messages.Alloc a) throws Refusal {
        DbAccount acc = s.account;
        long reserve = SegmentAllocator.align(a.length());
        if (reserve > allocator.largestSlab()) {
            throw new Refusal(Status.FULL, "segment of " + a.length() + " bytes exceeds the node's slab size "
                    + allocator.largestSlab());
        }
        SegmentAllocator.Extent x = allocator.allocate(a.length());
        if (x == null) {
            throw new Refusal(Status.FULL, "memory node pool full: " + allocator.used() + " of " + config.capacity()
                    + " bytes in use, no free range of " + reserve + " bytes");
        }
        if (acc.used.get() + x.length() > acc.budget) {
            allocator.free(x);
            throw new Refusal(Status.FULL, "DB " + acc.dbId + " DM budget exhausted: holds " + acc.used.get()
                    + " of " + acc.budget + " bytes, asked for " + a.length());
        }
        long address = slabs.get(x.slab()).getAddress() + x.offset();
        Segment seg = new Segment(nextSegmentId++, acc, s.epoch, x, address, a.length(), allocator);
        segments.put(seg.id, seg);
        acc.segments.put(seg.id, seg);
        acc.used.addAndGet(x.length());
        return new Messages.SegmentLocation(seg.id, address, x.slab(), a.length()).encode(new BodyWriter(32));
    }

    private BodyWriter free(Session s, Messages.SegmentRef r) throws Refusal {
        Segment seg = owned(s, r.segmentId());
        release(seg);
        return new BodyWriter(8).i64(seg.extent.length());
    }

    private void release(Segment seg) {
        if (seg.free()) {
            segments.remove(seg.id);
            seg.owner.segments.remove(seg.id);
            seg.owner.used.addAndGet(-seg.extent.length());
        }
    }

    private int freeAll(DbAccount acc) {
        List<Segment> all = new ArrayList<>(acc.segments.values());
        for (Segment seg : all) {
            release(seg);
        }
        return all.size();
    }

    private BodyWriter readback(Session s, Messages.SegmentRef r) throws Refusal {
        Segment seg = committed(s, r.segmentId());
        bytesOut.addAndGet(seg.length);
        return new Messages.SegmentLocation(seg.id, seg.address, seg.extent.slab(), seg.length).encode(new BodyWriter(32));
    }

    /** The caller's segment, or a refusal naming why not. Any thread. */
    private Segment owned(Session s, long id) throws Refusal {
        Segment seg = segments.get(id);
        if (seg == null || seg.state.get() == Segment.FREED) {
            throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + id
                    + " does not exist (freed, superseded by a newer epoch, or the node restarted)");
        }
        if (seg.owner != s.account) {
            log.warn(s.who() + " addressed segment " + id + " of DB " + seg.owner.dbId + ": refused");
            throw new Refusal(Status.ACCESS_DENIED, "segment " + id + " belongs to another DB");
        }
        if (seg.epoch != s.epoch) {
            throw new Refusal(Status.STALE_EPOCH, "segment " + id + " belongs to epoch " + seg.epoch);
        }
        return seg;
    }

    // ---- commit, get, scan (worker threads) -----------------------------------------------------

    private BodyWriter commit(Session s, Messages.Commit c) throws Refusal {
        Segment seg = owned(s, c.segmentId());
        if (c.length() != seg.length) {
            throw new Refusal(Status.BAD_REQUEST, "COMMIT length " + c.length() + " differs from segment " + seg.id
                    + " length " + seg.length);
        }
        if (!seg.state.compareAndSet(Segment.ALLOCATED, Segment.COMMITTING)) {
            throw new Refusal(Status.BAD_STATE, "segment " + seg.id + " is already committed or freed");
        }
        if (!seg.retain()) {
            throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + seg.id + " was freed");
        }
        try {
            UnsafeBuffer view = seg.view();
            int found = crc32c(view);
            if (found != c.checksum()) {
                seg.state.compareAndSet(Segment.COMMITTING, Segment.ALLOCATED);
                throw new Refusal(Status.CORRUPT, "segment " + seg.id + ": CRC32C of " + seg.length
                        + " bytes expected 0x" + Integer.toHexString(c.checksum()) + ", found 0x" + Integer.toHexString(found));
            }
            ShardReader reader;
            try {
                reader = new ShardReader(view, "dm-segment-" + seg.id);
            } catch (CorruptionException e) {
                seg.state.compareAndSet(Segment.COMMITTING, Segment.ALLOCATED);
                throw new Refusal(Status.CORRUPT, e.getMessage());
            }
            if (!reader.isSealed() || reader.usedBytes() != seg.length || reader.shardId() != c.shardId()
                    || reader.minSequence() != c.minSequence() || reader.maxSequence() != c.maxSequence()) {
                seg.state.compareAndSet(Segment.COMMITTING, Segment.ALLOCATED);
                throw new Refusal(Status.CORRUPT, "segment " + seg.id + ": expected a sealed shard " + c.shardId()
                        + " of " + seg.length + " bytes, sequences [" + c.minSequence() + ", " + c.maxSequence()
                        + "], found sealed=" + reader.isSealed() + " shard " + reader.shardId() + " of "
                        + reader.usedBytes() + " bytes, sequences [" + reader.minSequence() + ", "
                        + reader.maxSequence() + "]");
            }
            seg.reader = reader;
            seg.checksum = found;
            seg.state.compareAndSet(Segment.COMMITTING, Segment.COMMITTED);
            bytesIn.addAndGet(seg.length);
            return new BodyWriter(8).i64(reader.entryCount());
        } finally {
            seg.release();
        }
    }

    private static int crc32c(UnsafeBuffer view) {
        return Crc32c.value(org.openucx.jucx.UcxUtils.getByteBufferView(view.addressOffset(), view.capacity()));
    }

    /** The caller's committed, undamaged segment, or a refusal naming why not. Any thread. */
    private Segment committed(Session s, long id) throws Refusal {
        Segment seg = owned(s, id);
        if (seg.state.get() != Segment.COMMITTED) {
            throw new Refusal(Status.BAD_STATE, "segment " + id + " is not committed");
        }
        String damage = seg.damage;
        if (damage != null) {
            throw new Refusal(Status.CORRUPT, damage);
        }
        return seg;
    }

    private BodyWriter get(Session s, Messages.Get g) throws Refusal {
        Lookup lookup = new Lookup();
        int i = search(s, g.segments(), g.userKey(), g.snapshotSequence(), lookup);
        return result(i, lookup).encode(new BodyWriter(32 + (lookup.value == null ? 0 : lookup.value.length)));
    }

    /**
     * MULTI_GET: each key searched as a GET; the answer holds the results of the first keys, in
     * order, until it passes {@link Messages#MULTI_GET_ANSWER_BYTES} (the client asks again for the
     * rest). A key whose candidates are refused fails the whole request, as for GET.
     */
    private BodyWriter multiGet(Session s, Messages.MultiGet q) throws Refusal {
        Lookup lookup = new Lookup();
        BodyWriter w = new BodyWriter(64 * q.keys().size());
        w.i32(0);
        int n = 0;
        for (Messages.KeyGet k : q.keys()) {
            int i = search(s, k.segments(), k.userKey(), q.snapshotSequence(), lookup);
            result(i, lookup).encode(w);
            n++;
            if (w.length() >= Messages.MULTI_GET_ANSWER_BYTES) {
                break;
            }
        }
        return w.patchI32(0, n);
    }

    private static Messages.GetResult result(int candidate, Lookup lookup) {
        return candidate < 0 ? new Messages.GetResult(0, -1, 0, null)
                : new Messages.GetResult(lookup.state, candidate, lookup.sequence, lookup.value);
    }

    /**
     * The index of the first candidate holding an entry of {@code key} at or below {@code snapshot}
     * ({@code lookup} set), or -1.
     */
    private int search(Session s, long[] candidates, byte[] key, long snapshot, Lookup lookup) throws Refusal {
        for (int i = 0; i < candidates.length; i++) {
            Segment seg = committed(s, candidates[i]);
            if (!seg.retain()) {
                throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + seg.id + " was freed");
            }
            try {
                if (seg.reader.get(key, snapshot, lookup.reset())) {
                    return i;
                }
            } finally {
                seg.release();
            }
        }
        lookup.reset();
        return -1;
    }

    private BodyWriter scan(Session s, Messages.Scan q) throws Refusal {
        int maxEntries = Math.min(q.maxEntries(), MAX_SCAN_ENTRIES);
        int maxBytes = Math.min(q.maxBytes(), MAX_SCAN_BYTES);
        long[] ids = q.segments();
        List<Segment> held = new ArrayList<>(ids.length);
        try {
            List<InternalIterator> its = new ArrayList<>(ids.length);
            for (long id : ids) {
                Segment seg = committed(s, id);
                if (!seg.retain()) {
                    throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + seg.id + " was freed");
                }
                held.add(seg);
                its.add(seg.reader.iterator());
            }
            InternalIterator it = its.size() == 1 ? its.get(0) : new MergingIterator(its);
            InternalIterators.position(it, q.reverse(), q.fromInternalKey(), q.exclusive());
            BodyWriter w = new BodyWriter(Math.min(maxBytes, 64 << 10) + 64);
            w.i32(0).i32(0); // count and flags, patched below
            int n = 0;
            int bytes = 0;
            while (it.isValid() && n < maxEntries && (n == 0 || bytes < maxBytes)) {
                DirectBuffer k = it.key();
                DirectBuffer v = it.value();
                w.i32(k.capacity()).bytes(k, 0, k.capacity()).i32(v.capacity()).bytes(v, 0, v.capacity());
                bytes += k.capacity() + v.capacity() + 8;
                n++;
                if (q.reverse()) {
                    it.prev();
                } else {
                    it.next();
                }
            }
            w.patchI32(0, n).patchI32(4, it.isValid() ? 1 : 0);
            return w;
        } finally {
            for (Segment seg : held) {
                seg.release();
            }
        }
    }

    // ---- stats ------------------------------------------------------------------------------------

    private Messages.Stats stats() {
        List<Messages.DbStats> list = new ArrayList<>();
        for (DbAccount a : dbs.values()) {
            list.add(new Messages.DbStats(a.dbId, a.epoch, a.used.get(), a.segments.size()));
        }
        return new Messages.Stats(config.capacity(), allocator.used(), segments.size(), requests.get(), bytesIn.get(),
                bytesOut.get(), list);
    }

    private int quietTicks;

    /** Logs when anything happened since the last line, and at least every tenth interval. */
    private void logStats() {
        Messages.Stats st = stats();
        if (st.requests() == lastRequests && ++quietTicks < 10) {
            return;
        }
        quietTicks = 0;
        long now = System.nanoTime();
        double secs = Math.max(1e-9, (now - lastStatsNanos) / 1e9);
        StringBuilder sb = new StringBuilder();
        for (Messages.DbStats d : st.dbs()) {
            sb.append(' ').append(d.dbId()).append("(epoch ").append(d.epoch()).append("): ").append(d.used())
                    .append(" B/").append(d.segments()).append(" seg");
        }
        log.info(String.format("stats: capacity %d, used %d (%.1f%%), segments %d, sessions %d, %.0f req/s, in %.1f MB/s,"
                        + " out %.1f MB/s;%s", st.capacity(), st.used(), 100.0 * st.used() / st.capacity(),
                st.segments(), sessions.size(), (st.requests() - lastRequests) / secs,
                (st.bytesIn() - lastIn) / secs / 1e6, (st.bytesOut() - lastOut) / secs / 1e6,
                sb.length() == 0 ? " no DBs" : sb.toString()));
        if (coordinator.workerCount() > 0 || coordinator.submitted > 0) {
            log.info(String.format("jobs: %d worker(s), %d job(s) held; since start %d submitted, %d placed, %d declined,"
                    + " %d done, %d failed", coordinator.workerCount(), coordinator.jobCount(), coordinator.submitted,
                    coordinator.placed, coordinator.declined, coordinator.completed, coordinator.failed));
        }
        lastRequests = st.requests();
        lastIn = st.bytesIn();
        lastOut = st.bytesOut();
        lastStatsNanos = now;
    }

    // ---- failure and shutdown ---------------------------------------------------------------------

    private void onPeerError(Session s, int status, String message) {
        if (s == null || s.closed) {
            return;
        }
        s.closed = true;
        sessions.remove(s.ep);
        coordinator.sessionClosed(s);
        log.info(s.who() + " disconnected (UCX status " + status + ": " + message + "); its segments stay until"
                + " freed or superseded by a newer epoch");
        node.submit(() -> { // not inside the UCX callback
            try {
                s.ep.closeNonBlockingForce();
            } catch (UcxException e) {
                // already gone
            }
        });
    }

    private void stopOnProgressThread() {
        if (coordinator != null) {
            coordinator.stop();
        }
        List<UcpRequest> closing = new ArrayList<>();
        for (Session s : sessions.values()) {
            s.closed = true;
            try {
                closing.add(s.ep.closeNonBlockingFlush());
            } catch (UcxException e) {
                // already failed
            }
        }
        long deadline = System.nanoTime() + 1_000_000_000L;
        try {
            while (System.nanoTime() < deadline && !closing.stream().allMatch(UcpRequest::isCompleted)) {
                node.worker().progress();
            }
        } catch (Exception e) {
            log.warn("closing endpoints: " + e);
        }
        sessions.clear();
        if (listener != null) {
            listener.close();
        }
    }

    /** Closes endpoints, the listener, the worker, the pool and the context, in that order. */
    @Override
    public void close() {
        statsTimer.shutdownNow();
        if (scrubber != null) {
            scrubber.shutdownNow();
            try {
                scrubber.awaitTermination(2, TimeUnit.SECONDS); // it reads pool memory: done before the pool goes
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (workers != null) {
            workers.shutdown();
            try {
                workers.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        node.close();
    }
}
