package io.o3lsm;

import java.util.Arrays;

/**
 * A point-in-time copy of a DB's counters ({@link DB#stats()}); {@link DB#property} with
 * {@code "o3.stats"} renders the same numbers as text. Immutable.
 *
 * <p>Flushes by where they ran ({@code docs/design/flush-offload.md}): every installed flush is
 * exactly one of {@link #flushesLocal()} (ran in this process without an offload attempt failing —
 * in embedded mode, every flush), {@link #flushesOffloaded()} (a flush worker's result, validated
 * and installed) and {@link #flushesFallback()} (ran here after an offload failed or its result was
 * refused), so the three add up to {@link #flushes()}. {@link #offloadResultsRefused()} counts
 * worker results that failed the owner's checks (each is also a fallback). In {@code o3.stats}:
 * the line {@code flushes by place: local L, offloaded O, fallback F, refused results R}.
 *
 * <p>Compactions by where they ran ({@code docs/design/compaction-offload.md}), counted per
 * installed compaction (trivial moves included, as local): {@link #compactionsOffloaded()} when every
 * sub-compaction's result came from a compactor, {@link #compactionsFallback()} when at least one
 * ran here after its offload failed, was refused, or came back empty (an empty result is re-run
 * here, not trusted), {@link #compactionsLocal()} otherwise; the three add up to
 * {@link #compactions()}. {@link #compactionResultsRefused()} counts compactor results that failed
 * the owner's checks (not empty ones). In {@code o3.stats}: the line
 * {@code compactions by place: local L, offloaded O, fallback F, refused results R}.
 */
public final class DBStats {
    private final int[] filesPerLevel;
    private final long[] bytesPerLevel;
    private final long userBytesWritten;
    private final long walBytesWritten;
    private final long flushBytesWritten;
    private final long compactionBytesRead;
    private final long compactionBytesWritten;
    private final long flushes;
    private final long compactions;
    private final long stallMicros;
    private final long blockCacheHits;
    private final long blockCacheMisses;
    private final long memtableBytes;
    private final long flushesLocal;
    private final long flushesOffloaded;
    private final long flushesFallback;
    private final long offloadResultsRefused;
    private final long compactionsLocal;
    private final long compactionsOffloaded;
    private final long compactionsFallback;
    private final long compactionResultsRefused;

    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes) {
        this(filesPerLevel, bytesPerLevel, userBytesWritten, walBytesWritten, flushBytesWritten, compactionBytesRead,
                compactionBytesWritten, flushes, compactions, stallMicros, blockCacheHits, blockCacheMisses,
                memtableBytes, flushes, 0, 0, 0);
    }

    /** As above, with the flushes by place (see the class comment). */
    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes,
            long flushesLocal, long flushesOffloaded, long flushesFallback, long offloadResultsRefused) {
        this(filesPerLevel, bytesPerLevel, userBytesWritten, walBytesWritten, flushBytesWritten, compactionBytesRead,
                compactionBytesWritten, flushes, compactions, stallMicros, blockCacheHits, blockCacheMisses,
                memtableBytes, flushesLocal, flushesOffloaded, flushesFallback, offloadResultsRefused, compactions, 0, 0,
                0);
    }

    /** As above, with the compactions by place (see the class comment). */
    public DBStats(int[] filesPerLevel, long[] bytesPerLevel, long userBytesWritten, long walBytesWritten,
            long flushBytesWritten, long compactionBytesRead, long compactionBytesWritten, long flushes,
            long compactions, long stallMicros, long blockCacheHits, long blockCacheMisses, long memtableBytes,
            long flushesLocal, long flushesOffloaded, long flushesFallback, long offloadResultsRefused,
            long compactionsLocal, long compactionsOffloaded, long compactionsFallback, long compactionResultsRefused) {
        this.compactionsLocal = compactionsLocal;
        this.compactionsOffloaded = compactionsOffloaded;
        this.compactionsFallback = compactionsFallback;
        this.compactionResultsRefused = compactionResultsRefused;
        this.flushesLocal = flushesLocal;
        this.flushesOffloaded = flushesOffloaded;
        this.flushesFallback = flushesFallback;
        this.offloadResultsRefused = offloadResultsRefused;
        this.filesPerLevel = filesPerLevel.clone();
        this.bytesPerLevel = bytesPerLevel.clone();
        this.userBytesWritten = userBytesWritten;
        this.walBytesWritten = walBytesWritten;
        this.flushBytesWritten = flushBytesWritten;
        this.compactionBytesRead = compactionBytesRead;
        this.compactionBytesWritten = compactionBytesWritten;
        this.flushes = flushes;
        this.compactions = compactions;
        this.stallMicros = stallMicros;
        this.blockCacheHits = blockCacheHits;
        this.blockCacheMisses = blockCacheMisses;
        this.memtableBytes = memtableBytes;
    }

    public int levels() {
        return filesPerLevel.length;
    }

    public int filesAtLevel(int level) {
        return filesPerLevel[level];
    }

    public long bytesAtLevel(int level) {
        return bytesPerLevel[level];
    }

    /** Key and value bytes accepted by put/delete/write (with WAL or not). */
    public long userBytesWritten() {
        return userBytesWritten;
    }

    public long walBytesWritten() {
        return walBytesWritten;
    }

    public long flushBytesWritten() {
        return flushBytesWritten;
    }

    public long compactionBytesRead() {
        return compactionBytesRead;
    }

    public long compactionBytesWritten() {
        return compactionBytesWritten;
    }

    public long flushes() {
        return flushes;
    }

    /** Flushes that ran in this process without an offload attempt failing (embedded mode: every flush). */
    public long flushesLocal() {
        return flushesLocal;
    }

    /** Flushes a flush worker ran whose result was validated and installed. */
    public long flushesOffloaded() {
        return flushesOffloaded;
    }

    /** Flushes that ran in this process after an offload attempt failed or its result was refused. */
    public long flushesFallback() {
        return flushesFallback;
    }

    /** Flush-worker results refused by the owner's checks (size, CRC32C, numbers, keys, ...); each led to a fallback. */
    public long offloadResultsRefused() {
        return offloadResultsRefused;
    }

    public long compactions() {
        return compactions;
    }

    /** Compactions that ran in this process without an offload attempt failing (trivial moves included). */
    public long compactionsLocal() {
        return compactionsLocal;
    }

    /** Compactions whose every part a compactor ran, validated and installed. */
    public long compactionsOffloaded() {
        return compactionsOffloaded;
    }

    /** Compactions of which some part ran in this process after its offload failed or its result was refused. */
    public long compactionsFallback() {
        return compactionsFallback;
    }

    /** Compactor results refused by the owner's checks; each part refused ran here instead. */
    public long compactionResultsRefused() {
        return compactionResultsRefused;
    }

    /** Time writers spent waiting for memory or for L0 to drain, in microseconds. */
    public long stallMicros() {
        return stallMicros;
    }

    public long blockCacheHits() {
        return blockCacheHits;
    }

    public long blockCacheMisses() {
        return blockCacheMisses;
    }

    /** Hits / (hits + misses), or 0 before any lookup. */
    public double blockCacheHitRatio() {
        long total = blockCacheHits + blockCacheMisses;
        return total == 0 ? 0 : (double) blockCacheHits / total;
    }

    /** Bytes of memtable arenas in use. */
    public long memtableBytes() {
        return memtableBytes;
    }

    /**
     * (WAL + flush + compaction bytes written) / user bytes written; 0 before any write. The usual
     * LSM measure: how many bytes reach the disk per byte the application wrote.
     */
    public double writeAmplification() {
        if (userBytesWritten == 0) {
            return 0;
        }
        return (double) (walBytesWritten + flushBytesWritten + compactionBytesWritten) / userBytesWritten;
    }

    @Override
    public String toString() {
        return "DBStats{files=" + Arrays.toString(filesPerLevel) + ", bytes=" + Arrays.toString(bytesPerLevel)
                + ", writeAmp=" + String.format("%.2f", writeAmplification()) + ", stallMicros=" + stallMicros
                + ", cacheHitRatio=" + String.format("%.3f", blockCacheHitRatio()) + '}';
    }
}
