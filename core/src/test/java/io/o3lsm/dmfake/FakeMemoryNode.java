package io.o3lsm.dmfake;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalIterators;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * An in-process stand-in for a memory node, for unit tests of the engine's DM logic only (the dm
 * module's integration tests use a real memory-node process over UCX). Keeps shipped bytes in heap
 * arrays and answers with core's own ShardReader. {@link #kill()} makes every call fail and
 * {@link #revive()} brings it back empty, like a restarted node.
 */
public final class FakeMemoryNode implements MemoryNode.Provider {
    public static final ConcurrentHashMap<Long, byte[]> SEGMENTS = new ConcurrentHashMap<>();
    public static final AtomicLong GETS = new AtomicLong();
    /** multiGet calls (each answered as one get per key, which also count in {@link #GETS}). */
    public static final AtomicLong MULTI_GETS = new AtomicLong();
    public static final AtomicLong OFFLOADS = new AtomicLong();
    public static final AtomicLong SCANS = new AtomicLong();
    /** One-sided reads served. */
    public static final AtomicLong READS = new AtomicLong();
    /**
     * One-sided reads of a segment already freed: on a real node those bytes may belong to another
     * segment by then, so the engine must never do one (it pins the remote copy while it reads).
     */
    public static final AtomicLong READS_OF_FREED = new AtomicLong();
    /** While positive, each one-sided read fails once (counting down); the node stays up. */
    public static final AtomicLong FAIL_READS = new AtomicLong();
    private static final java.util.Set<Long> FREED = ConcurrentHashMap.newKeySet();
    /** While positive, each scan fails once (counting down), as a timed-out request would; the node stays up. */
    public static final AtomicLong FAIL_SCANS = new AtomicLong();
    /** Scans asked ahead ({@code scanAhead}); each also counts in {@link #SCANS}. */
    public static final AtomicLong SCANS_AHEAD = new AtomicLong();
    /** While positive, each scan asked ahead fails once (counting down); plain scans are not affected. */
    public static final AtomicLong FAIL_SCANS_AHEAD = new AtomicLong();
    /** While positive, each delegated get fails once (counting down), as a timed-out request would; the node stays up. */
    public static final AtomicLong FAIL_GETS = new AtomicLong();
    /** Names of the threads that called offload (the engine's own offload thread). */
    public static final java.util.Set<String> OFFLOAD_THREADS = ConcurrentHashMap.newKeySet();
    /** Runs at the start of each read-back (tests block a flush there); null for none. */
    public static volatile java.util.function.Consumer<MemoryNode.RemoteShard> onReadBack;
    /**
     * While non-null, an offload asked for completes only after this future does (never, if it never
     * does): tests hold offloads in flight. Null for none.
     */
    public static volatile CompletableFuture<Void> holdOffloads;
    /** Runs at the start of each delegated get (tests hold a reader there); null for none. */
    public static volatile Runnable onGet;
    /** Added to every one-sided read (tests make that path slower than delegation); 0 for none. */
    public static volatile long READ_DELAY_NANOS;
    private static final AtomicLong IDS = new AtomicLong();
    private static volatile boolean dead;

    public static void kill() {
        dead = true;
        SEGMENTS.clear();
    }

    public static void revive() {
        dead = false;
    }

    /**
     * The DM-mode options the engine's DM tests share: 4 shard ranges of 64 KiB arenas, room for 6
     * of them locally (so sealed shards soon live only on this node), 256 MiB of DM, a 64 MiB write
     * buffer (no flush gets in the way), read-aware flushing off; {@code readCacheBytes} for the
     * entry-location cache (0: every remote get is delegated). Writes the secret file into {@code dir}.
     */
    public static io.o3lsm.Options options(java.nio.file.Path dir, long readCacheBytes) throws IOException {
        java.nio.file.Path secret = dir.resolve("secret");
        java.nio.file.Files.write(secret, "s3cret".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return io.o3lsm.Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(64 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(6 * (64 << 10)).dmBudget(256L << 20)
                .dmReadCacheBytes(readCacheBytes).dmReadFlushTrigger(0);
    }

    /**
     * Opens a DB in DM mode and waits until it attached to this fake node. The DB attaches in the
     * background; writes before that fill local memory, and a DB that is not attached flushes when
     * local memory runs short — a test that needs shards on the node must not race the attach.
     */
    public static io.o3lsm.DB openAttached(java.nio.file.Path dir, io.o3lsm.Options options) throws InterruptedException {
        io.o3lsm.DB db = io.o3lsm.DB.open(dir, options);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!db.property("o3.dm").contains("attached=true")) {
            if (System.nanoTime() > deadline) {
                String state = db.property("o3.dm");
                db.close();
                throw new AssertionError("not attached to the fake memory node within 10 s: " + state);
            }
            Thread.sleep(1);
        }
        return db;
    }

    public static void reset() {
        dead = false;
        SEGMENTS.clear();
        GETS.set(0);
        MULTI_GETS.set(0);
        OFFLOADS.set(0);
        SCANS.set(0);
        READS.set(0);
        READS_OF_FREED.set(0);
        FAIL_READS.set(0);
        FREED.clear();
        FAIL_SCANS.set(0);
        SCANS_AHEAD.set(0);
        FAIL_SCANS_AHEAD.set(0);
        FAIL_GETS.set(0);
        OFFLOAD_THREADS.clear();
        onReadBack = null;
        holdOffloads = null;
        onGet = null;
        READ_DELAY_NANOS = 0;
    }

    @Override
    public MemoryNode.Client connect(MemoryNode.Config config) throws IOException {
        if (dead) {
            throw new IOException("fake memory node is down");
        }
        return new Client();
    }

    private static final class Client implements MemoryNode.Client {
        private void check() throws IOException {
            if (dead) {
                throw new IOException("fake memory node is down");
            }
        }

        @Override
        public CompletableFuture<MemoryNode.RemoteShard> offload(ByteBuffer shard, int length, int checksum,
                int shardId, long minSequence, long maxSequence) {
            OFFLOAD_THREADS.add(Thread.currentThread().getName());
            java.util.function.Supplier<MemoryNode.RemoteShard> ship = () -> {
                if (dead) {
                    throw new IllegalStateException("fake memory node is down");
                }
                byte[] copy = new byte[length];
                shard.duplicate().get(copy, 0, length);
                CRC32C c = new CRC32C();
                c.update(copy, 0, length);
                new ShardReader(new UnsafeBuffer(copy), "fake").verify();
                long id = IDS.incrementAndGet();
                SEGMENTS.put(id, copy);
                OFFLOADS.incrementAndGet();
                return new MemoryNode.RemoteShard(id, shardId, length, checksum, minSequence, maxSequence);
            };
            CompletableFuture<Void> hold = holdOffloads;
            return hold == null ? CompletableFuture.supplyAsync(ship) : hold.thenApplyAsync(v -> ship.get());
        }

        private byte[] segment(MemoryNode.RemoteShard rs) throws IOException {
            check();
            byte[] b = SEGMENTS.get(rs.segmentId());
            if (b == null) {
                throw new IOException("unknown segment " + rs.segmentId());
            }
            return b;
        }

        @Override
        public List<MemoryNode.GetResult> multiGet(List<MemoryNode.KeyGet> keys, long seq) throws IOException {
            MULTI_GETS.incrementAndGet();
            return MemoryNode.Client.super.multiGet(keys, seq);
        }

        @Override
        public MemoryNode.GetResult get(List<MemoryNode.RemoteShard> candidates, byte[] userKey, long seq)
                throws IOException {
            GETS.incrementAndGet();
            Runnable hook = onGet;
            if (hook != null) {
                hook.run();
            }
            if (FAIL_GETS.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
                throw new IOException("fake memory node: get timed out (injected)");
            }
            for (int i = 0; i < candidates.size(); i++) {
                Lookup out = new Lookup();
                if (new ShardReader(new UnsafeBuffer(segment(candidates.get(i))), "fake").get(userKey, seq, out)) {
                    return new MemoryNode.GetResult(out.state, out.sequence, out.value, i);
                }
            }
            return new MemoryNode.GetResult(0, 0, null, -1);
        }

        @Override
        public java.util.concurrent.CompletableFuture<MemoryNode.ScanBatch> scanAhead(List<MemoryNode.RemoteShard> shards,
                byte[] from, boolean reverse, boolean exclusive, int maxEntries, int maxBytes) {
            SCANS_AHEAD.incrementAndGet();
            boolean fail = FAIL_SCANS_AHEAD.getAndUpdate(x -> Math.max(0, x - 1)) > 0;
            // answered on another thread, as a real node's answer arrives on the client's progress thread
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                if (fail) {
                    throw new java.util.concurrent.CompletionException(
                            new IOException("fake memory node: scan ahead failed (injected)"));
                }
                try {
                    return scan(shards, from, reverse, exclusive, maxEntries, maxBytes);
                } catch (IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
        }

        @Override
        public MemoryNode.ScanBatch scan(List<MemoryNode.RemoteShard> shards, byte[] from, boolean reverse,
                boolean exclusive, int maxEntries, int maxBytes) throws IOException {
            SCANS.incrementAndGet();
            if (FAIL_SCANS.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
                throw new IOException("fake memory node: scan timed out (injected)");
            }
            List<InternalIterator> its = new ArrayList<>();
            for (MemoryNode.RemoteShard rs : shards) {
                its.add(new ShardReader(new UnsafeBuffer(segment(rs)), "fake").iterator());
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            int n = 0;
            int bytes = 0;
            try (InternalIterator it = new MergingIterator(its)) {
                InternalIterators.position(it, reverse, from, exclusive);
                while (it.isValid() && n < maxEntries && (n == 0 || bytes < maxBytes)) {
                    DirectBuffer k = it.key();
                    DirectBuffer v = it.value();
                    byte[] kb = new byte[k.capacity()];
                    byte[] vb = new byte[v.capacity()];
                    k.getBytes(0, kb);
                    v.getBytes(0, vb);
                    out.writeBytes(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(kb.length).array());
                    out.writeBytes(kb);
                    out.writeBytes(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(vb.length).array());
                    out.writeBytes(vb);
                    bytes += kb.length + vb.length + 8;
                    n++;
                    if (reverse) {
                        it.prev();
                    } else {
                        it.next();
                    }
                }
                return new MemoryNode.ScanBatch(out.toByteArray(), n, it.isValid());
            }
        }

        @Override
        public void readBack(MemoryNode.RemoteShard shard, ByteBuffer dst) throws IOException {
            java.util.function.Consumer<MemoryNode.RemoteShard> hook = onReadBack;
            if (hook != null) {
                hook.accept(shard);
            }
            byte[] b = segment(shard);
            ByteBuffer d = dst.duplicate();
            d.clear();
            d.put(b, 0, shard.length());
        }

        @Override
        public boolean read(MemoryNode.RemoteShard shard, int offset, int length, byte[] dst) throws IOException {
            MemoryNode.checkRead(shard, offset, length, dst);
            long delay = READ_DELAY_NANOS;
            if (delay > 0) {
                long until = System.nanoTime() + delay;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
            if (dead || FAIL_READS.getAndUpdate(x -> Math.max(0, x - 1)) > 0) {
                return false;
            }
            if (FREED.contains(shard.segmentId())) {
                READS_OF_FREED.incrementAndGet();
            }
            byte[] b = SEGMENTS.get(shard.segmentId());
            if (b == null) {
                return false;
            }
            READS.incrementAndGet();
            System.arraycopy(b, offset, dst, 0, length);
            if (FREED.contains(shard.segmentId())) {
                READS_OF_FREED.incrementAndGet(); // freed during the copy: on a real node the bytes may be another's
            }
            return true;
        }

        @Override
        public void free(MemoryNode.RemoteShard shard) throws IOException {
            check();
            FREED.add(shard.segmentId());
            SEGMENTS.remove(shard.segmentId());
        }

        @Override
        public boolean isConnected() {
            return !dead;
        }

        @Override
        public void close() {
        }
    }
}
