package io.o3lsm;

import java.nio.file.Path;
import java.util.List;

/**
 * Callbacks about a database's background life: flushes and compactions beginning and ending (with
 * their files and bytes), write stalls, the background error that stops writes, and in DM mode the
 * memory node being lost and its shards rebuilt. Register with {@link Options#addListener} or
 * {@link Options#listeners}; every method has a no-op default, so a listener overrides only what it
 * wants. Guide: {@code docs/operations/listeners.md}.
 *
 * <h2>Threading and guarantees</h2>
 * <ul>
 * <li>Each open DB with at least one listener has one daemon thread, {@code o3lsm-listener-1 <dir>},
 * that calls every listener, in registration order, for one event after another, in the order the
 * engine raised them. No method is ever called on a writer's, reader's, flush or compaction thread,
 * and none is called with an engine lock held: a listener may call the DB (read, write, property).</li>
 * <li>Events wait in a bounded queue ({@link Options#listenerQueueCapacity}, default 1024). When it is
 * full — a listener is slower than the engine — a new event is <b>dropped</b> and counted in the
 * ticker {@link DBStats#LISTENER_EVENTS_DROPPED}; the engine never waits for a listener. So a
 * listener may miss a begin or an end; match them by {@code jobId}, never assume pairs.</li>
 * <li>A listener that throws is logged (logger {@code io.o3lsm}, warning) and called again for the
 * next event; other listeners still get this one.</li>
 * <li>{@link DB#close} delivers the events queued before it (waiting up to 5 seconds for a slow
 * listener, then abandoning the rest and interrupting the thread), and the thread ends.</li>
 * <li>The info records are immutable snapshots; keep them as long as you like.</li>
 * </ul>
 */
public interface EventListener {
    /** A flush is about to run: its inputs are picked (outputs empty, {@code place} null, duration 0). */
    default void onFlushBegin(FlushJobInfo info) {
    }

    /** A flush ended: installed ({@code error} null) or failed/given up ({@code error} says why). */
    default void onFlushCompleted(FlushJobInfo info) {
    }

    /** A compaction is about to run (outputs empty, bytes 0, {@code place} null, duration 0). */
    default void onCompactionBegin(CompactionJobInfo info) {
    }

    /** A compaction ended: installed ({@code error} null) or not ({@code error} says why; its inputs stay live). */
    default void onCompactionCompleted(CompactionJobInfo info) {
    }

    /** Writes began to wait for {@code info.reason()} (duration 0). */
    default void onStallBegin(StallInfo info) {
    }

    /** Writes stopped waiting for {@code info.reason()}; {@code durationNanos} from its begin. */
    default void onStallEnd(StallInfo info) {
    }

    /** The first background failure: from now on the DB refuses writes until reopened. Called once per open. */
    default void onBackgroundError(BackgroundErrorInfo info) {
    }

    /** DM mode: the memory node was declared lost; its shards are being rebuilt from the WAL. */
    default void onMemoryNodeLost(MemoryNodeInfo info) {
    }

    /** DM mode: the shards lost with the node are rebuilt from the WAL (the DB serves them locally again). */
    default void onMemoryNodeRecovered(MemoryNodeInfo info) {
    }

    /** Where a job ran. */
    enum Place {
        /** In this process. */
        LOCAL,
        /** On a flush worker or a compactor (every part, for a compaction). */
        OFFLOADED,
        /** In this process, after an offload attempt failed or its result was refused. */
        FALLBACK
    }

    /** One SST file: its number (as in {@code o3.sstables} and the MANIFEST), level, size in bytes and path. */
    record TableFileInfo(long number, int level, long sizeBytes, Path path) {
    }

    /**
     * One flush of one shard range.
     *
     * @param jobId         unique per open DB, shared by this flush's begin and completed events (and
     *                      not with any compaction's)
     * @param range         the shard range flushed
     * @param inputShards   sealed memtable shards merged
     * @param inputEntries  entries in them; -1 when a shard was read back from the memory node
     * @param inputBytes    bytes of their arenas in use (arena capacity for a shard held only on the memory node)
     * @param outputs       the L0 files installed (empty at begin and on failure)
     * @param place         where it ran (null at begin, and when it failed before running)
     * @param worker        the flush worker's id when offloaded, else null
     * @param durationNanos from picking the inputs to installing (0 at begin)
     * @param error         why it failed or was given up (the shards stay in the WAL), or null
     */
    record FlushJobInfo(long jobId, int range, int inputShards, long inputEntries, long inputBytes,
            List<TableFileInfo> outputs, Place place, String worker, long durationNanos, Throwable error) {
        public FlushJobInfo {
            outputs = List.copyOf(outputs);
        }

        /** Sum of the outputs' sizes. */
        public long bytesWritten() {
            return outputs.stream().mapToLong(TableFileInfo::sizeBytes).sum();
        }

        public boolean succeeded() {
            return error == null;
        }
    }

    /** Why a compaction ran. */
    enum CompactionReason {
        /** L0 reached {@code level0CompactionTrigger}. */
        LEVEL0_FILES,
        /** A level exceeded its target size. */
        LEVEL_SIZE,
        /** {@link DB#compactRange}. */
        MANUAL
    }

    /**
     * One compaction (all its sub-compactions together).
     *
     * @param jobId        unique per open DB, shared by its begin and completed events
     * @param inputLevel   the level compacted
     * @param outputLevel  the level written
     * @param inputs       every input file, with its level (those of {@code inputLevel} and the overlapping
     *                     ones of {@code outputLevel})
     * @param outputs      the files installed (empty at begin, on failure; for a trivial move, the moved file)
     * @param bytesRead    input bytes read (0 at begin and for a trivial move)
     * @param bytesWritten output bytes written (0 at begin and for a trivial move)
     * @param reason       why it ran
     * @param trivialMove  the file was moved down a level without being rewritten
     * @param subcompactions parts it was split into (1: not split; 0 at begin)
     * @param place        where it ran (null at begin and on failure)
     * @param durationNanos from its start to its install (0 at begin)
     * @param error        why it was not installed (its inputs stay live), or null
     */
    record CompactionJobInfo(long jobId, int inputLevel, int outputLevel, List<TableFileInfo> inputs,
            List<TableFileInfo> outputs, long bytesRead, long bytesWritten, CompactionReason reason,
            boolean trivialMove, int subcompactions, Place place, long durationNanos, Throwable error) {
        public CompactionJobInfo {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
        }

        public boolean succeeded() {
            return error == null;
        }
    }

    /** What writes wait for. There is no stall on pending compaction bytes: the engine has no such trigger. */
    enum StallReason {
        /** The memtable budget is used up: writes wait for a flush to free memory. */
        MEMORY,
        /** L0 is at {@code level0SlowdownTrigger}: each write group is delayed 1 ms. */
        L0_SLOWDOWN,
        /** L0 is at {@code level0StopTrigger}: writes wait for compaction. */
        L0_STOP
    }

    /**
     * A stall condition beginning or ending.
     *
     * @param reason        what writes wait for
     * @param l0Depth       L0 depth when the event was raised
     * @param durationNanos at the end: since the begin (0 at begin)
     */
    record StallInfo(StallReason reason, int l0Depth, long durationNanos) {
    }

    /** What a background error came from. */
    enum ErrorSource {
        /** A flush (background or {@code DB.flush}). */
        FLUSH,
        /** A background compaction. */
        COMPACTION,
        /** {@code DB.compactRange}. */
        MANUAL_COMPACTION,
        /** A write group: the WAL append, or inserting into the memtable; {@code DB.flushWal}. */
        WRITE,
        /** Writing the MANIFEST for a column family change. */
        MANIFEST,
        /** DM mode: rebuilding shards lost with the memory node from the WAL. */
        MEMORY_NODE_REBUILD,
        /** Anything else. */
        OTHER
    }

    /** The first background failure of this open, and what raised it. */
    record BackgroundErrorInfo(Throwable error, ErrorSource source) {
    }

    /**
     * DM mode: the memory node's loss or the end of the rebuild it caused.
     *
     * @param address        the node's {@code host:port}
     * @param cause          the failure that made the engine declare it lost
     * @param shardsRebuilt  at recovery: shards rebuilt from the WAL and swapped into the read view (0 at loss)
     * @param durationNanos  at recovery: from the loss to the end of the rebuild (0 at loss)
     */
    record MemoryNodeInfo(String address, Throwable cause, int shardsRebuilt, long durationNanos) {
    }
}
