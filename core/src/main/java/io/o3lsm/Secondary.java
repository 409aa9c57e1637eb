package io.o3lsm;

/**
 * A read-only instance that follows a live primary on the same (or shared) storage
 * ({@link DB#openSecondary}): it reads the primary's files and writes none, and moves forward only
 * when asked, by {@link #tryCatchUp()} (RocksDB's {@code OpenAsSecondary} and
 * {@code TryCatchUpWithPrimary}). Between catch-ups its reads serve the last view it installed: a
 * consistent prefix of the primary's writes, up to {@link #sequence()}. Writes, {@code flush},
 * {@code compactRange}, transactions, family changes and {@code checkpoint} throw
 * {@link ReadOnlyException}. Thread-safe: reads run concurrently with a catch-up and see the view
 * before it or the one after it, never a mix; catch-ups are serialized. See
 * {@code docs/operations/secondary.md}.
 */
public interface Secondary extends DB {
    /**
     * Reads the primary's current state — {@code CURRENT}, the MANIFEST it names, the WALs that
     * MANIFEST does not cover — and installs it as the new read view, atomically. The view holds every
     * write the primary acknowledged before this call started (that reached its WAL: writes a
     * {@code manualWalFlush} primary still buffers do not), in sequence order without gaps. Returns at
     * once with the same sequence when none of those files changed since the last catch-up.
     * Iterators and snapshots taken before keep reading the view they started on.
     *
     * <p>Costs a full read of the primary's unflushed WALs and an open of every table of its version
     * (the block cache is kept): see the page for the numbers that matter.
     *
     * @return the primary's last sequence the new view holds ({@link #sequence()})
     * @throws O3Exception the primary's files changed under each of 5 attempts, or cannot be read; the
     *                     view installed before stays in place and later catch-ups may succeed
     * @throws CorruptionException the MANIFEST or a WAL is damaged (a torn WAL tail is not: it is a
     *                             write in progress, left for the next catch-up)
     */
    long tryCatchUp();

    /** The primary's last sequence the installed view holds: reads see its writes up to here. */
    long sequence();
}
