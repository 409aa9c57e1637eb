package io.o3lsm.dm.replication;

import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.format.Crc32c;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * One backup connection as the primary holds it, and its session thread ("o3-repl-primary-NAME"):
 * the engine's catch-up ({@link Replication.Source#catchUp} with this as the {@link Replication.Link}),
 * then the edits {@link ReplicationPrimary#shipEdit} queued for it, in order.
 *
 * <p>Handshake fields are the progress thread's; ring fields ({@link #sent}, {@link #consumed},
 * {@link #acked}) are written by the progress thread (and by {@link LogRing#goLive} under
 * the live lock) and read by writers. Every message the session thread sends that the backup
 * acknowledges (FILE_CHUNK, SNAPSHOT, LOG_BATCH, EDIT) waits for its ACK, at most
 * {@link #ACK_WAIT_NANOS} (a LOG_BATCH: the ack timeout, as the engine may send it holding its WAL
 * append lock, and a slow backup must not stop the primary for longer); once the session failed
 * ({@link #fail}) every wait fails at once.
 */
final class PrimarySession implements Replication.Link {
    static final int NEW = 0;
    static final int CHALLENGED = 1;
    static final int AUTHENTICATED = 2;
    static final int REFUSED = 3;
    static final int ATTACHED = 4;
    /** How long the session thread waits for one acknowledgement (a file chunk written, an edit applied). */
    static final long ACK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Attempts at shipping one file whose chunks arrive corrupt before the backup is dropped. */
    static final int FILE_ATTEMPTS = 3;

    final ReplicationPrimary primary;
    final long id;
    final UcpEndpoint ep;
    final String peer;
    final long createdNanos = System.nanoTime();

    // progress thread
    int state = NEW;
    String name;
    byte[] backupNonce;
    byte[] primaryNonce;
    /** Set on the progress thread when the session was ended; read elsewhere only to skip redundant drops. */
    volatile boolean ended;
    /** {@link ReplicationPrimary#drop} ran (once). */
    final java.util.concurrent.atomic.AtomicBoolean dropped = new java.util.concurrent.atomic.AtomicBoolean();
    boolean endpointClosed;
    long lastSentNanos = System.nanoTime();
    volatile long lastHeardNanos = System.nanoTime();

    // set once at attach (before the session thread starts)
    private ReplMessages.Attach attach;
    private UcpRemoteKey logKey;
    private UcpRemoteKey landingKey;
    private UcpMemory staging;
    long heartbeatNanos = Long.MAX_VALUE;
    private Thread thread;

    // the ring
    volatile long sent;
    volatile long consumed;
    volatile long acked;
    /** Progress thread: the last ticket a flush was issued for (LogRing flushes only when a writer waits). */
    long flushedTicket;
    volatile boolean live;
    long startPosition;
    final AtomicLong bytesSent = new AtomicLong();

    private volatile String failure;
    private final ConcurrentHashMap<Long, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest = new AtomicLong(1);
    private final LinkedBlockingQueue<EditItem> edits = new LinkedBlockingQueue<>();
    private boolean editsClosed; // under this

    // session thread only
    private BodyWriter batch = new BodyWriter(1024);
    private int batchCount;
    private byte[] chunk;

    /** An edit queued for several sessions; {@code release} runs once each is done with it. */
    static final class EditItem {
        final byte[] edit;
        final List<Replication.FileRef> files;
        final Runnable release;
        final AtomicInteger holders = new AtomicInteger(1); // the shipper's guard

        EditItem(byte[] edit, List<Replication.FileRef> files, Runnable release) {
            this.edit = edit;
            this.files = files;
            this.release = release;
        }

        void done() {
            if (holders.decrementAndGet() == 0 && release != null) {
                try {
                    release.run();
                } catch (RuntimeException e) {
                    ReplicationPrimary.LOG.log(Level.ERROR, "o3lsm-repl: an edit's release failed", e);
                }
            }
        }
    }

    PrimarySession(ReplicationPrimary primary, long id, UcpEndpoint ep, String peer) {
        this.primary = primary;
        this.id = id;
        this.ep = ep;
        this.peer = peer;
    }

    String who() {
        return "backup " + (name == null ? "?" : name) + " (session " + id + ", " + peer + ")";
    }

    /** Progress thread, at ATTACH. */
    void attached(ReplMessages.Attach a, UcpRemoteKey logKey, UcpRemoteKey landingKey, UcpMemory staging) {
        this.attach = a;
        this.logKey = logKey;
        this.landingKey = landingKey;
        this.staging = staging;
        this.heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(a.heartbeatMillis());
        this.state = ATTACHED;
    }

    long logAddress() {
        return attach.logAddress();
    }

    UcpRemoteKey logKey() {
        return logKey;
    }

    /** Progress thread: the remote keys, for destruction once the endpoint closed. */
    UcpRemoteKey[] takeKeys() {
        List<UcpRemoteKey> keys = new ArrayList<>(2);
        if (logKey != null) {
            keys.add(logKey);
        }
        if (landingKey != null) {
            keys.add(landingKey);
        }
        return keys.toArray(new UcpRemoteKey[0]);
    }

    String failure() {
        return failure;
    }

    /** Any thread: the session is over; waits fail with {@code reason}. Idempotent (the first reason stays). */
    void fail(String reason) {
        synchronized (this) {
            if (failure == null) {
                failure = reason;
            }
        }
        live = false;
        IOException e = new IOException("backup " + name + ": " + failure);
        for (Long id : new ArrayList<>(pending.keySet())) {
            CompletableFuture<String> f = pending.remove(id);
            if (f != null) {
                f.completeExceptionally(e);
            }
        }
    }

    /** Progress thread: the backup acknowledged request {@code requestId}. */
    void onAck(long requestId, int status, String error) {
        CompletableFuture<String> f = pending.remove(requestId);
        if (f == null) {
            return; // late, or never asked: harmless
        }
        f.complete(status == ReplProtocol.OK ? null : ReplProtocol.statusName(status) + ": " + error);
    }

    /** Queues an edit for this backup; false if the session is over. */
    boolean offerEdit(EditItem item) {
        synchronized (this) {
            if (editsClosed || failure != null) {
                return false;
            }
            item.holders.incrementAndGet();
            edits.add(item);
            return true;
        }
    }

    void start() {
        thread = new Thread(this::run, "o3-repl-primary-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Whether the session thread has ended. */
    boolean finished() {
        Thread t = thread;
        return t != null && !t.isAlive();
    }

    void join(long millis) {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- the session thread -----------------------------------------------------------------------

    private void run() {
        try {
            primary.source.catchUp(this);
            if (!live) {
                throw new IOException(failure != null ? failure : "the catch-up ended without goLive");
            }
            while (failure == null && !primary.isClosed()) {
                EditItem item = edits.poll(50, TimeUnit.MILLISECONDS);
                if (item != null) {
                    try {
                        shipEdit(item);
                    } finally {
                        item.done();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (failure == null && !primary.isClosed()) {
                primary.drop(this, "shipping failed: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            if (!primary.isClosed()) {
                primary.drop(this, failure != null ? failure : "its session ended"); // no-op if it is over already
            }
            List<EditItem> left = new ArrayList<>();
            synchronized (this) {
                editsClosed = true;
                edits.drainTo(left);
            }
            for (EditItem item : left) {
                item.done();
            }
            primary.returnStaging(staging);
        }
    }

    private void shipEdit(EditItem item) throws IOException {
        for (Replication.FileRef f : item.files) {
            sendFile(f);
        }
        call(ReplProtocol.EDIT, new BodyWriter(item.edit.length + 8).lengthPrefixed(item.edit), "EDIT");
    }

    /** Sends a message and waits for its ACK; throws if the backup answered an error or the session failed. */
    private void call(int opcode, BodyWriter body, String what) throws IOException {
        call(opcode, body, what, ACK_WAIT_NANOS);
    }

    private void call(int opcode, BodyWriter body, String what, long waitNanos) throws IOException {
        String error = await(post(opcode, body), what, waitNanos);
        if (error != null) {
            throw new IOException("backup " + name + " refused " + what + ": " + error);
        }
    }

    /** Sends a message the backup acknowledges; the future completes with the ACK (null: OK, else the error). */
    private CompletableFuture<String> post(int opcode, BodyWriter body) throws IOException {
        check();
        long requestId = nextRequest.getAndIncrement();
        CompletableFuture<String> f = new CompletableFuture<>();
        pending.put(requestId, f);
        if (failure != null) {
            pending.remove(requestId);
            check();
        }
        if (!primary.node.submit(() -> primary.send(this, opcode, ReplProtocol.OK, requestId, body, (st, err) -> {
            if (st != 0) {
                fail(ReplProtocol.opcodeName(opcode) + " not sent: " + err);
            }
        }))) {
            fail("primary closed");
        }
        return f;
    }

    private String await(CompletableFuture<String> f, String what) throws IOException {
        return await(f, what, ACK_WAIT_NANOS);
    }

    private String await(CompletableFuture<String> f, String what, long waitNanos) throws IOException {
        try {
            return f.get(waitNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            pending.values().remove(f);
            throw new IOException("backup " + name + " did not acknowledge " + what + " within "
                    + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("backup " + name + ": interrupted waiting for " + what);
        }
    }

    private void check() throws IOException {
        String f = failure;
        if (f != null) {
            throw new IOException("backup " + name + ": " + f);
        }
        if (primary.isClosed()) {
            throw new IOException("backup " + name + ": primary closed");
        }
    }

    // ---- Link ------------------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public Replication.Holdings holdings() {
        return attach.holdings();
    }

    @Override
    public void sendFile(Replication.FileRef file) throws IOException {
        flushBatch();
        String why = null;
        for (int attempt = 1; attempt <= FILE_ATTEMPTS; attempt++) {
            why = sendFileOnce(file);
            if (why == null) {
                return;
            }
            ReplicationPrimary.LOG.log(Level.WARNING, "o3lsm-repl: backup " + name + " refused table " + file.number()
                    + " (attempt " + attempt + " of " + FILE_ATTEMPTS + "): " + why);
        }
        throw new IOException("backup " + name + " refused table " + file.number() + " " + FILE_ATTEMPTS + " times: "
                + why);
    }

    /** The SST file name of table {@code number} (core's naming: six digits at least, {@code .sst}). */
    static String tableName(long number) {
        return String.format("%06d.sst", number);
    }

    /** One attempt: null when the backup verified every chunk, else the backup's complaint (a CRC mismatch). */
    private String sendFileOnce(Replication.FileRef file) throws IOException {
        Path path = primary.config.dir().resolve(tableName(file.number()));
        FileSystem fs = primary.config.fs();
        int chunkSize = Math.min(attach.landingLength(), (int) staging.getLength());
        if (chunk == null || chunk.length < chunkSize) {
            chunk = new byte[chunkSize];
        }
        UnsafeBuffer stage = new UnsafeBuffer(staging.getAddress(), chunkSize);
        try (FileSystem.ReadableFile in = fs.newReadableFile(path)) {
            long size = file.size();
            long off = 0;
            do {
                int n = (int) Math.min(chunkSize, size - off);
                in.readFully(off, chunk, 0, n);
                int crc = Crc32c.value(chunk, 0, n);
                stage.putBytes(0, chunk, 0, n);
                ReplicationPrimary.ChunkHook hook = primary.chunkHookForTest;
                if (hook != null) {
                    hook.onChunk(file.number(), off, stage, n);
                }
                if (n > 0) {
                    putChunk(n);
                }
                CompletableFuture<String> acked = post(ReplProtocol.FILE_CHUNK, new ReplMessages.FileChunk(file.number(),
                        size, off, n, crc).encode(new BodyWriter(40)));
                String error = await(acked, "chunk at " + off + " of table " + file.number());
                if (error != null) {
                    if (error.startsWith(ReplProtocol.statusName(ReplProtocol.CORRUPT))) {
                        return error;
                    }
                    throw new IOException("backup " + name + " refused table " + file.number() + ": " + error);
                }
                bytesSent.addAndGet(n);
                off += n;
            } while (off < size);
        }
        return null;
    }

    /** Puts the first {@code n} staging bytes into the backup's landing buffer and waits for remote completion. */
    private void putChunk(int n) throws IOException {
        check();
        CompletableFuture<String> done = new CompletableFuture<>();
        if (!primary.node.submit(() -> {
            if (endpointClosed) {
                done.complete("endpoint closed");
                return;
            }
            try {
                ep.putNonBlocking(staging.getAddress(), n, attach.landingAddress(), landingKey,
                        ReplicationPrimary.NO_CALLBACK);
                ep.flushNonBlocking(new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        done.complete(null);
                    }

                    @Override
                    public void onError(int status, String msg) {
                        done.complete("RMA put failed (UCX status " + status + ": " + msg + ")");
                    }
                });
            } catch (UcxException e) {
                done.complete("RMA put failed: " + e.getMessage());
            }
        })) {
            throw new IOException("backup " + name + ": primary closed");
        }
        String error;
        try {
            error = done.get(ACK_WAIT_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            error = "RMA put not completed within " + TimeUnit.NANOSECONDS.toSeconds(ACK_WAIT_NANOS) + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("backup " + name + ": interrupted");
        }
        if (error != null) {
            fail(error);
            throw new IOException("backup " + name + ": " + error);
        }
    }

    @Override
    public void sendSnapshot(byte[] edit, long keptSequence) throws IOException {
        flushBatch();
        call(ReplProtocol.SNAPSHOT, new ReplMessages.Snapshot(keptSequence, edit).encode(new BodyWriter(edit.length + 16)),
                "SNAPSHOT");
    }

    @Override
    public void sendLog(long walNumber, byte[] record, int length) throws IOException {
        if (length < 12 || length > ReplProtocol.MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("a log record holds 12.." + ReplProtocol.MAX_RECORD_BYTES
                    + " bytes (sequence, count, operations), found " + length);
        }
        if (batchCount > 0 && batch.length() + 12 + length > ReplProtocol.LOG_BATCH_BYTES) {
            flushBatch();
        }
        if (batchCount == 0) {
            batch.i32(0); // count, patched
        }
        batch.i64(walNumber).i32(length).bytes(record, 0, length);
        batchCount++;
    }

    private void flushBatch() throws IOException {
        if (batchCount == 0) {
            return;
        }
        batch.patchI32(0, batchCount);
        BodyWriter body = batch;
        batch = new BodyWriter(Math.min(ReplProtocol.LOG_BATCH_BYTES, body.length()) + 64);
        batchCount = 0;
        call(ReplProtocol.LOG_BATCH, body, "LOG_BATCH", primary.ackTimeoutNanos);
    }

    @Override
    public void goLive(long lastSequence) throws IOException {
        flushBatch();
        check();
        primary.log.goLive(this);
        CompletableFuture<String> acked = post(ReplProtocol.GO_LIVE, new ReplMessages.GoLive(startPosition, lastSequence)
                .encode(new BodyWriter(16)));
        pending.values().remove(acked); // not awaited: the caller holds the WAL lock; a failure ends the session anyway
    }
}
