package io.o3lsm.bench;

import java.nio.file.Path;

/**
 * One storage engine as the benchmark runner sees it: open a directory, put, get, close. Each
 * engine compared by {@link Bench} (o3 now; rocksdb and leveldb later) is one small implementation,
 * registered in {@link Bench#ENGINES}.
 *
 * <p>Implementations are thread-safe once {@link #open} returned: {@code put} and {@code get} are
 * called from every benchmark thread at once. They should allocate as little as the engine's API
 * allows so the runner measures the engine, not the adapter.
 */
public interface EngineAdapter extends AutoCloseable {
    /** How the runner wants the engine driven; every engine maps these onto its own options. */
    record Settings(boolean sync, boolean disableWal, int threads) {
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

    /** Releases everything; waits for background work the engine insists on finishing. */
    @Override
    void close();
}
