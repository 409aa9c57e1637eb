package io.o3lsm.bench;

import io.o3lsm.Compression;
import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The embedded o3lsm engine ({@code DB.open} on a local directory). With the runner's settings it
 * sets {@code writeBufferSize} (the local budget), {@code bloomBitsPerKey}, {@code blockCacheSize}
 * and {@code compression}; everything else keeps o3's defaults, which mirror RocksDB's (64 MiB
 * SSTs, L0 triggers 4/20/36, 256 MiB L1, 4 KiB blocks). Constructed with explicit {@link Options},
 * it uses them unchanged.
 *
 * <p>In dm mode ({@code Settings.mode() == "dm"}) it also sets {@code memoryNode(address, secret)},
 * {@code localMemoryBudget(local)} and {@code dmBudget(dm)} (the write buffer size stays the local
 * budget), and {@link #open} returns only once the DB reports {@code attached=true} in its
 * {@code o3.dm} property, so no benchmark clock starts before the memory node is in use.
 */
public final class O3Adapter implements EngineAdapter {
    private final Options fixedOptions;
    private Options options;
    private DB db;
    private WriteOptions writeOptions;
    private String note = "";
    private boolean dmMode;
    private Tuning tuning = Tuning.NONE;
    /** Whether {@link #open} sets {@code MergeOperators.int64Add()} ({@link #useCounterMerge}). */
    private boolean counterMerge;

    /**
     * o3-only settings of the runner: {@code shardArenaSize} (0 = o3's default), and in dm-flush mode
     * the flush-offload placement ("load" or "always") and {@code flushOffloadMinBytes} (-1 = o3's default),
     * {@code manualWalFlush}, and in dm modes {@code dmReadCacheBytes} and {@code dmReadFlushTrigger}
     * (-1 = o3's default), {@code adaptiveShardBoundaries}, and {@code statistics} (Options.statistics).
     */
    public record Tuning(long shardArenaSize, String flushPlacement, long flushMinBytes, boolean manualWalFlush,
            long dmReadCacheBytes, int dmReadFlushTrigger, boolean adaptiveShardBoundaries, boolean statistics) {
        public static final Tuning NONE = new Tuning(0, "load", -1, false, -1, -1, true, true);

        /** The settings before {@code statistics} existed: statistics on (o3's default). */
        public Tuning(long shardArenaSize, String flushPlacement, long flushMinBytes, boolean manualWalFlush,
                long dmReadCacheBytes, int dmReadFlushTrigger, boolean adaptiveShardBoundaries) {
            this(shardArenaSize, flushPlacement, flushMinBytes, manualWalFlush, dmReadCacheBytes, dmReadFlushTrigger,
                    adaptiveShardBoundaries, true);
        }
    }

    private java.net.URI storage;

    /**
     * The shared file system {@link #open}'s directory is on ({@code hdfs://nn:port/…}; its path is
     * ignored), or null for the local one; call before {@link #open}.
     */
    public O3Adapter storage(java.net.URI storage) {
        this.storage = storage;
        return this;
    }

    /** Replication: the primary's listen address and secret, whether tables ship, and acknowledgements per write. */
    public record Replicating(String listen, Path secretFile, boolean shipTables, int acks) {
    }

    private Replicating replicating;

    /** Makes the DB a replication primary (null: none); call before {@link #open}. */
    public O3Adapter replicating(Replicating r) {
        this.replicating = r;
        return this;
    }

    /** The {@code o3.replication} property (null without replication). */
    public String replicationState() {
        return db != null && replicating != null ? db.property("o3.replication") : null;
    }

    /** Bytes the primary has sent to its backups so far (the transport's count), 0 without replication. */
    public long replicationBytesSent() {
        String s = replicationState();
        long sum = 0;
        if (s != null) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytesSent=(\\d+)").matcher(s);
            while (m.find()) {
                sum += Long.parseLong(m.group(1));
            }
        }
        return sum;
    }

    /** Waits until {@code n} backups are live (caught up), or fails after {@code millis}. */
    public void awaitBackups(int n, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            String s = replicationState();
            int live = 0;
            for (int i = s == null ? -1 : s.indexOf(" live"); i >= 0; i = s.indexOf(" live", i + 1)) {
                live++;
            }
            if (live >= n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(live + " of " + n + " backups live after " + millis + " ms: " + s);
            }
            Thread.sleep(20);
        }
    }

    /** Sets the o3-only settings; call before {@link #open}. */
    public O3Adapter tuning(Tuning t) {
        this.tuning = t;
        return this;
    }
    /** How long {@link #open} waits for the DB to attach to the memory node in dm mode. */
    static long attachTimeoutMillis = 30_000;

    public O3Adapter() {
        this(null);
    }

    public O3Adapter(Options options) {
        this.fixedOptions = options;
    }

    @Override
    public String name() {
        return "o3";
    }

    @Override
    public void open(Path dir, Settings settings) {
        writeOptions = WriteOptions.defaults().sync(settings.sync()).disableWal(settings.disableWal());
        if (fixedOptions != null) {
            options = fixedOptions;
        } else {
            options = Options.defaults()
                    .writeBufferSize(settings.localBudget())
                    .bloomBitsPerKey(settings.bloomBitsPerKey())
                    .blockCacheSize(settings.blockCacheSize());
            switch (settings.compression().toLowerCase(Locale.ROOT)) {
                case "none" -> options.compression(Compression.NONE);
                case "lz4" -> options.compression(Compression.LZ4);
                default -> {
                    options.compression(Compression.NONE);
                    note = " (o3 has no " + settings.compression() + " compression: using none)";
                }
            }
            if (tuning.manualWalFlush()) {
                options.manualWalFlush(true);
            }
            if (tuning.shardArenaSize() > 0) {
                options.shardArenaSize((int) tuning.shardArenaSize());
            }
            options.adaptiveShardBoundaries(tuning.adaptiveShardBoundaries());
            options.statistics(tuning.statistics());
            if (Modes.offloadsCompactions(settings.mode())) {
                if (settings.memoryNode() == null || settings.secretFile() == null) {
                    throw new IllegalArgumentException(settings.mode()
                            + " mode needs a memory node (the coordinator) address and secret file");
                }
                // two compactions at once, each split in up to two parts: the compactors' slots get used
                // (one compaction at a time would leave all but one slot idle)
                options.memoryNode(settings.memoryNode(), settings.secretFile()).compactionOffload(true)
                        .maxBackgroundCompactions(2).maxSubcompactions(2);
                if ("caas".equals(settings.mode())) {
                    options.memtableOffload(false); // the memory node is only the coordinator
                }
            }
            if (Modes.isDm(settings.mode())) {
                if (settings.memoryNode() == null || settings.secretFile() == null) {
                    throw new IllegalArgumentException("dm mode needs a memory node address and secret file");
                }
                options.memoryNode(settings.memoryNode(), settings.secretFile())
                        .localMemoryBudget(settings.localBudget())
                        .dmBudget(settings.dmBudget());
                if (tuning.dmReadCacheBytes() >= 0) {
                    options.dmReadCacheBytes(tuning.dmReadCacheBytes());
                }
                if (tuning.dmReadFlushTrigger() >= 0) {
                    options.dmReadFlushTrigger(tuning.dmReadFlushTrigger());
                }
                if (Modes.offloadsFlushes(settings.mode())) {
                    options.flushOffload(true).flushOffloadPlacement("always".equals(tuning.flushPlacement())
                            ? io.o3lsm.spi.FlushExecutor.Placement.ALWAYS : io.o3lsm.spi.FlushExecutor.Placement.LOAD);
                    if (tuning.flushMinBytes() >= 0) {
                        options.flushOffloadMinBytes(tuning.flushMinBytes());
                    }
                }
            }
        }
        if (counterMerge) {
            io.o3lsm.MergeOperator op = options.mergeOperator();
            if (op == null) {
                options = (fixedOptions != null ? options.copy() : options).mergeOperator(io.o3lsm.MergeOperators.int64Add());
            } else if (!op.name().equals(io.o3lsm.MergeOperators.INT64_ADD)) {
                throw new IllegalArgumentException("the merge benchmarks need the " + io.o3lsm.MergeOperators.INT64_ADD
                        + " merge operator; these options have " + op.name());
            }
        }
        dmMode = options.memoryNodeAddress() != null;
        if (replicating != null) {
            options.replicationListen(replicating.listen(), replicating.secretFile())
                    .replicationShipTables(replicating.shipTables());
            writeOptions.replicationAcks(replicating.acks());
        }
        if (storage != null) {
            try {
                // the query as written (its escapes kept): the URI constructor would re-encode a decoded one
                String q = storage.getRawQuery();
                db = DB.open(java.net.URI.create(new java.net.URI(storage.getScheme(), storage.getAuthority(),
                        dir.toString(), null, null) + (q == null ? "" : "?" + q)), options);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("cannot name " + dir + " under " + storage + ": " + e.getMessage(), e);
            }
        } else {
            db = DB.open(dir, options);
        }
        if (dmMode) {
            awaitAttached();
        }
    }

    private void awaitAttached() {
        long deadline = System.nanoTime() + attachTimeoutMillis * 1_000_000L;
        String state = db.property("o3.dm");
        while (state == null || !state.contains("attached=true")) {
            if (System.nanoTime() > deadline) {
                DB d = db;
                db = null;
                d.close();
                throw new IllegalStateException("not attached to the memory node " + options.memoryNodeAddress()
                        + " within " + attachTimeoutMillis / 1000 + " s (is it running, with the same secret?): " + state);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the memory node", e);
            }
            state = db.property("o3.dm");
        }
    }

    @Override
    public String shardState() {
        return db != null ? db.property("o3.shards") : null;
    }

    @Override
    public String modeState() {
        return dmMode && db != null ? db.property("o3.dm") : null;
    }

    /**
     * The engine's own delegated-get counter (the LongAdder {@code EngineStats.delegatedGets} that the
     * {@code o3.dm} property prints, reached as {@code DBImpl.e.stats}), read by reflection: the property
     * itself builds a string under the DB mutex, too slow to read around every get. Null when not in
     * dm mode or not found.
     */
    @Override
    public java.util.function.LongSupplier remoteGetCounter() {
        return engineCounter("delegatedGets");
    }

    /** As {@link #remoteGetCounter}, for gets answered by a one-sided read of a cached location ({@code cachedGets}). */
    @Override
    public java.util.function.LongSupplier cachedGetCounter() {
        return engineCounter("cachedGets");
    }

    private java.util.function.LongSupplier engineCounter(String name) {
        if (!dmMode || db == null) {
            return null;
        }
        try {
            java.lang.reflect.Field ef = db.getClass().getDeclaredField("e");
            ef.setAccessible(true);
            Object engine = ef.get(db);
            java.lang.reflect.Field f = engine.getClass().getDeclaredField("stats");
            f.setAccessible(true);
            Object stats = f.get(engine);
            java.lang.reflect.Field g = stats.getClass().getDeclaredField(name);
            g.setAccessible(true);
            java.util.concurrent.atomic.LongAdder adder = (java.util.concurrent.atomic.LongAdder) g.get(stats);
            return adder::sum;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public String describe() {
        return options + " " + writeOptions + note
                + (counterMerge ? " mergeOperator=" + options.mergeOperator().name() + " (Java)" : "");
    }

    @Override
    public void put(byte[] key, byte[] value) {
        db.put(key, value, writeOptions);
    }

    @Override
    public int get(byte[] key, byte[] valueOut) {
        // the wrappers do not escape; C2 normally scalar-replaces them
        return db.get(ByteBuffer.wrap(key), ByteBuffer.wrap(valueOut));
    }

    /** The options of every multiGet (never changed: one instance, not one per call in the timed loop). */
    private static final io.o3lsm.ReadOptions MULTI_GET_OPTIONS = io.o3lsm.ReadOptions.defaults();

    @Override
    public java.util.List<byte[]> multiGet(java.util.List<byte[]> keys) {
        return db.multiGet(MULTI_GET_OPTIONS, keys);
    }

    @Override
    public void delete(byte[] key) {
        db.delete(key, writeOptions);
    }

    /** {@code mergeGets} and {@code iteratorGets} of the {@code o3.merges} property at the previous {@link #mergeState}. */
    private final long[] mergesBefore = new long[2];
    private static final java.util.regex.Pattern MERGES = java.util.regex.Pattern.compile(
            "mergeGets=(\\d+) iteratorGets=(\\d+)");

    /**
     * From the {@code o3.merges} property, the gets since the previous call that combined operands and
     * how many of them needed an iterator over the key's sources; then the memtable size, files per
     * level, flushes and compactions.
     */
    @Override
    public String mergeState() {
        if (db == null || !counterMerge) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        String merges = db.property("o3.merges");
        java.util.regex.Matcher m = merges == null ? null : MERGES.matcher(merges);
        if (m != null && m.find()) {
            long gets = Long.parseLong(m.group(1));
            long iter = Long.parseLong(m.group(2));
            sb.append(gets - mergesBefore[0]).append(" gets combined operands, ").append(iter - mergesBefore[1])
                    .append(" of them over an iterator (o3.merges); ");
            mergesBefore[0] = gets;
            mergesBefore[1] = iter;
        } else {
            sb.append("o3.merges: ").append(merges).append("; ");
        }
        DBStats st = db.stats();
        sb.append("memtable ").append(st.memtableBytes() >> 10).append(" KiB; SST files per level ");
        for (int level = 0; level < st.levels(); level++) {
            sb.append(level == 0 ? "" : "/").append(st.filesAtLevel(level));
        }
        return sb.append("; flushes ").append(st.flushes()).append(", compactions ").append(st.compactions())
                .append(" since open").toString();
    }

    @Override
    public void useCounterMerge() {
        counterMerge = true;
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        db.merge(key, operand, writeOptions);
    }

    @Override
    public Cursor newCursor() {
        DBIterator it = db.iterator();
        return new Cursor() {
            @Override
            public void seekToFirst() {
                it.seekToFirst();
            }

            @Override
            public void seek(byte[] target) {
                it.seek(target);
            }

            @Override
            public boolean isValid() {
                return it.isValid();
            }

            @Override
            public void next() {
                it.next();
            }

            @Override
            public int key(byte[] out) {
                return copy(it.keyBuffer(), out); // the iterator's reused view: no allocation per call
            }

            @Override
            public int value(byte[] out) {
                return copy(it.valueBuffer(), out);
            }

            @Override
            public void close() {
                it.close();
            }
        };
    }

    /** Copies what fits of {@code view} into {@code out}; returns the full length. */
    private static int copy(ByteBuffer view, byte[] out) {
        int len = view.remaining();
        view.get(out, 0, Math.min(len, out.length));
        return len;
    }

    /**
     * {@code {local, offloaded, fallback, refused}} flushes, then {@code {local, offloaded, fallback}}
     * compactions so far, or null when closed.
     */
    public long[] flushesByPlace() {
        if (db == null) {
            return null;
        }
        DBStats s = db.stats();
        return new long[] {s.flushesLocal(), s.flushesOffloaded(), s.flushesFallback(), s.offloadResultsRefused(),
            s.compactionsLocal(), s.compactionsOffloaded(), s.compactionsFallback()};
    }

    @Override
    public IoCounters ioCounters() {
        DBStats s = db.stats();
        return new IoCounters(s.walBytesWritten(), s.flushBytesWritten(), s.compactionBytesWritten());
    }

    @Override
    public long stallMicros() {
        return db.stats().stallMicros();
    }

    /** The open DB, for callers that need more than the adapter offers. */
    public DB db() {
        return db;
    }

    @Override
    public void close() {
        if (db != null) {
            db.close();
            db = null;
        }
    }
}
