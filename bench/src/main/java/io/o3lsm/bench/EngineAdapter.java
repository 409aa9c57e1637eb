package io.o3lsm.bench;

import java.nio.file.Path;

/**
 * One storage engine as the benchmark runner sees it: open a directory, put, get, delete, iterate,
 * close. Each engine compared by {@link Bench} is one small implementation registered in
 * {@link Bench#ENGINES}: {@link O3Adapter}, {@link RocksDbAdapter}, {@link LevelDbAdapter}.
 *
 * <p>Implementations are thread-safe once {@link #open} returned: {@code put}, {@code get},
 * {@code delete} and {@link #newCursor()} are called from every benchmark thread at once (a
 * {@link Cursor} itself is used by one thread). They should allocate as little as the engine's API
 * allows so the runner measures the engine, not the adapter.
 *
 * <p>An engine that lacks a feature throws {@link UnsupportedOperationException}; the runner then
 * reports the benchmark that needed it as "n/a" instead of failing the run.
 */
public interface EngineAdapter extends AutoCloseable {
    /**
     * How the runner wants the engine driven; every engine maps these onto its own options and says
     * in {@link #describe()} what it did with each (including what it could not match).
     *
     * @param sync              fsync the WAL on every write
     * @param disableWal        skip the WAL
     * @param threads           benchmark threads that will call the engine
     * @param writeBufferSize   memtable bytes before a flush (o3: Options.writeBufferSize)
     * @param bloomBitsPerKey   bloom filter bits per key, 0 = none
     * @param blockCacheSize    block cache bytes, 0 = none
     * @param compression       "none", "lz4" or "snappy"
     * @param mode              run mode ({@link Modes}); engines other than o3 run only "local"
     * @param localBudget       local memory budget for the write buffer in bytes (mode-specific)
     * @param dmBudget          disaggregated-memory budget in bytes (dm mode only; 0 = none)
     * @param memoryNode        dm mode: {@code host:port} of the memory node (null otherwise)
     * @param secretFile        dm mode: the cluster secret file (null otherwise)
     */
    record Settings(boolean sync, boolean disableWal, int threads, long writeBufferSize, int bloomBitsPerKey,
            long blockCacheSize, String compression, String mode, long localBudget, long dmBudget, String memoryNode,
            Path secretFile) {

        public Settings(boolean sync, boolean disableWal, int threads, long writeBufferSize, int bloomBitsPerKey,
                long blockCacheSize, String compression, String mode, long localBudget, long dmBudget) {
            this(sync, disableWal, threads, writeBufferSize, bloomBitsPerKey, blockCacheSize, compression, mode,
                    localBudget, dmBudget, null, null);
        }

        /** These settings in local mode (for engines that have no dm mode): same local budget, no memory node. */
        public Settings local() {
            return new Settings(sync, disableWal, threads, writeBufferSize, bloomBitsPerKey, blockCacheSize, compression,
                    "local", localBudget, 0);
        }

        /** These settings attached to a memory node. */
        public Settings withMemoryNode(String address, Path secret) {
            return new Settings(sync, disableWal, threads, writeBufferSize, bloomBitsPerKey, blockCacheSize, compression,
                    mode, localBudget, dmBudget, address, secret);
        }

        /** The defaults of {@code bin/o3 bench} (db_bench-like, equivalent across engines). */
        public static Settings defaults() {
            return new Settings(false, false, 1, 64L << 20, 10, 64L << 20, "none", "local", 64L << 20, 0);
        }

        public Settings(boolean sync, boolean disableWal, int threads) {
            this(sync, disableWal, threads, 64L << 20, 10, 64L << 20, "none", "local", 64L << 20, 0);
        }
    }

    /** An engine's cumulative I/O counters, as far as it exposes them. */
    record IoCounters(long walBytes, long flushBytes, long compactionBytes) {
        public long total() {
            return walBytes + flushBytes + compactionBytes;
        }
    }

    /**
     * A forward cursor over the engine's keys. Used by one thread; closed by it. Positioned on an
     * entry only while {@link #isValid()}.
     */
    interface Cursor extends AutoCloseable {
        void seekToFirst();

        /** Positions at the first key {@code >= target}. */
        void seek(byte[] target);

        boolean isValid();

        void next();

        /** Copies at most {@code out.length} key bytes into {@code out}; returns the full key length. */
        int key(byte[] out);

        /** Copies at most {@code out.length} value bytes into {@code out}; returns the full value length. */
        int value(byte[] out);

        @Override
        void close();
    }

    /** Short name used on the command line ({@code --engine}). */
    String name();

    /** Opens (creating if needed) the database in {@code dir}. Called once, before anything else. */
    void open(Path dir, Settings settings);

    /** The engine's effective configuration, one line, printed in the header. Valid after {@link #open}. */
    String describe();

    /** Stores {@code value} under {@code key}; the caller reuses both arrays after the call returns. */
    void put(byte[] key, byte[] value);

    /**
     * Looks {@code key} up, copying at most {@code valueOut.length} bytes of the value into
     * {@code valueOut}. Returns the full value length, or -1 when absent.
     */
    int get(byte[] key, byte[] valueOut);

    /** The values of {@code keys} (null where absent), in order, read together as the engine allows. */
    default java.util.List<byte[]> multiGet(java.util.List<byte[]> keys) {
        throw new UnsupportedOperationException("multiGet");
    }

    /**
     * Makes {@link #open} set the engine up with a counter merge operator: values and operands are
     * 8-byte little-endian 64-bit integers and a merge adds the operand (o3:
     * {@code MergeOperators.int64Add()}; RocksDB: its built-in C++ {@code uint64add}). The runner
     * calls it before {@link #open} only when a merge benchmark is to run, so other runs open the
     * engine exactly as before. Throws {@link UnsupportedOperationException} when the engine has no
     * merge (LevelDB); the merge benchmarks are then reported "n/a".
     */
    default void useCounterMerge() {
        throw new UnsupportedOperationException(name() + " has no merge operator");
    }

    /**
     * Merges {@code operand} (8 bytes, little-endian) into the counter of {@code key} with the operator
     * {@link #useCounterMerge} set up; the caller reuses both arrays after the call returns.
     */
    default void merge(byte[] key, byte[] operand) {
        throw new UnsupportedOperationException(name() + " has no merge operator");
    }

    /**
     * What the engine's counters say about merges since the previous call (operands a get combined,
     * memtable entries, files per level: what a read of a counter has to go through), one line, or
     * null; printed after each merge benchmark.
     */
    default String mergeState() {
        return null;
    }

    /** Deletes {@code key}; the caller reuses the array after the call returns. */
    default void delete(byte[] key) {
        throw new UnsupportedOperationException(name() + ": delete");
    }

    /** A new cursor over the current state. */
    default Cursor newCursor() {
        throw new UnsupportedOperationException(name() + ": iterators");
    }

    /**
     * Bytes the engine has written to disk so far (WAL, flushes, compactions), or null when the
     * engine does not count them. May throw {@link UnsupportedOperationException}.
     */
    default IoCounters ioCounters() {
        return null;
    }

    /**
     * Microseconds writers have spent stalled by the engine's own back-pressure since open (o3: the
     * L0 slowdown/stop waits and waits for memtable memory; RocksDB: its {@code STALL_MICROS}
     * ticker), or -1 when the engine does not count them.
     */
    default long stallMicros() {
        return -1;
    }

    /**
     * A one-line state the runner prints after each benchmark in modes other than local (o3 in dm
     * mode: its {@code o3.dm} property), or null.
     */
    default String modeState() {
        return null;
    }

    /** The memtable shards' use (o3: its {@code o3.shards} property: layout, per-range inserts, boundaries), or null. */
    default String shardState() {
        return null;
    }

    /**
     * A cheap counter of gets the engine answered remotely (o3 in dm mode: delegated gets), read
     * around each get of a single-threaded readrandom to split its latencies; null when none.
     */
    default java.util.function.LongSupplier remoteGetCounter() {
        return null;
    }

    /**
     * A cheap counter of gets the engine answered by a one-sided read of a cached entry location (o3
     * in dm mode), read like {@link #remoteGetCounter}; null when none.
     */
    default java.util.function.LongSupplier cachedGetCounter() {
        return null;
    }

    /** Releases everything; waits for background work the engine insists on finishing. */
    @Override
    void close();
}
