package io.o3lsm.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The disaggregated-memory layer as the engine sees it: sealed memtable shards shipped to a memory
 * node, searched there by the node's CPU (delegated reads), read back for flush, and freed. The dm
 * module implements it over UCX; the engine finds it with {@link java.util.ServiceLoader} through
 * {@link Provider} when {@code Options.memoryNode(...)} is set.
 *
 * <p>DM is soft state: the engine never acknowledges a write on the strength of a memory node (the
 * WAL holds everything not yet in an installed SST), so every failure here is recoverable by falling
 * back to local memtables.
 */
public final class MemoryNode {
    private MemoryNode() {
    }

    /** Creates clients; registered in {@code META-INF/services/io.o3lsm.spi.MemoryNode$Provider}. */
    public interface Provider {
        /** Connects (handshake with the cluster secret) on behalf of one DB and epoch. */
        Client connect(Config config) throws IOException;
    }

    /**
     * Where the memory node is and what this DB may use there.
     *
     * @param address        {@code host:port} of the memory node
     * @param secret         cluster secret for the HMAC handshake
     * @param dbId           stable identity of the database (its segments are tagged with it)
     * @param epoch          the DB's current open epoch; segments of older epochs are freed by the node
     * @param dmBudget       bytes of DM this DB may hold
     * @param inflightLimit  offloads in flight at once
     * @param requestTimeout a request not answered within this fails (a hung node is never reported
     *                       by the transport itself)
     */
    public record Config(String address, byte[] secret, String dbId, long epoch, long dmBudget, int inflightLimit,
            Duration requestTimeout) {
    }

    /** A shard that lives on the memory node. Immutable; identity is (segment, epoch). */
    public record RemoteShard(long segmentId, int shardId, int length, int checksum, long minSequence,
            long maxSequence) {
    }

    /**
     * Answer of a delegated get: {@code state} 0 not found, 1 found ({@code value} set), 2 deleted;
     * {@code shardIndex} is the index (in the request's list) of the shard that answered, or -1.
     */
    public record GetResult(int state, long sequence, byte[] value, int shardIndex) {
    }

    /** One key of a {@link Client#multiGet}: its user key and candidate shards, newest first. */
    public record KeyGet(List<RemoteShard> candidates, byte[] userKey) {
    }

    /**
     * One batch of a delegated scan: {@code count} entries packed in {@code entries} in the scan's
     * order, each {@code key-length:int32} (little-endian), the internal key (user key + 8-byte
     * trailer), {@code value-length:int32}, the value; {@code more} if the shards hold entries beyond
     * the batch in that direction. The layout is the SCAN response body of the DM protocol.
     */
    public record ScanBatch(byte[] entries, int count, boolean more) {
    }

    /**
     * A job handed to the memory node's coordinator, which places it on a worker (or declines).
     * The coordinator reads only what it needs to place the job and to scope the worker's access
     * to DM; {@code spec} is the job itself, opaque to it (the flush module encodes flush jobs, the
     * compaction module compaction jobs).
     *
     * @param kind          {@link #JOB_KIND_FLUSH} or {@link #JOB_KIND_COMPACTION}
     * @param jobId         unique per DB open
     * @param attempt       1, 2, ... per submission of the same work
     * @param inputs        the segments the worker may read, and only while it holds the job; empty for a
     *                      compaction (its inputs are SSTs on shared storage)
     * @param spec          the job, encoded by the executor that submits it
     * @param always        place it on any worker with a free slot, whatever the loads (flush only)
     * @param ownerLoad     the owner's load (0 idle, 1 every core it may use busy): a worker must be less loaded
     *                      (flush only)
     * @param pressureBytes queued flush jobs with more pressure are served first
     * @param deadline      how long the job may take from its submission (queue included); the submit fails after it
     * @param startLevel    compaction: the level it starts from; queued compactions of lower levels go first
     * @param score         compaction: the picker's score; among equal start levels higher goes first
     */
    public record JobSubmit(int kind, long jobId, int attempt, List<RemoteShard> inputs, byte[] spec, boolean always,
            double ownerLoad, long pressureBytes, Duration deadline, int startLevel, double score) {
        /** A flush job (start level 0, score 0). */
        public JobSubmit(int kind, long jobId, int attempt, List<RemoteShard> inputs, byte[] spec, boolean always,
                double ownerLoad, long pressureBytes, Duration deadline) {
            this(kind, jobId, attempt, inputs, spec, always, ownerLoad, pressureBytes, deadline, 0, 0.0);
        }

        /** A compaction job: no segments, placed by the compaction queue's order (start level, score). */
        public static JobSubmit compaction(long jobId, int attempt, byte[] spec, Duration deadline, int startLevel,
                double score) {
            return new JobSubmit(JOB_KIND_COMPACTION, jobId, attempt, List.of(), spec, false, 0, 0, deadline,
                    startLevel, score);
        }
    }

    /** A flush job: sealed shards in DM in, L0 tables out. */
    public static final int JOB_KIND_FLUSH = 1;
    /** A compaction job: tables on shared storage in, tables out; run by compactors. */
    public static final int JOB_KIND_COMPACTION = 2;

    /**
     * How a submitted job ended: {@code placed} false if no worker took it (then {@code message}
     * says why and {@code result} is empty), true if a worker ran it ({@code result} is the
     * worker's report, opaque to the coordinator; {@code worker} names it).
     */
    public record JobOutcome(boolean placed, byte[] result, String worker, String message) {
    }

    /**
     * The argument checks of {@link Client#read}, for implementations.
     *
     * @throws IllegalArgumentException if {@code [offset, offset + length)} is outside the shard or {@code dst}
     */
    public static void checkRead(RemoteShard shard, int offset, int length, byte[] dst) {
        if (offset < 0 || length < 0 || (long) offset + length > shard.length() || length > dst.length) {
            throw new IllegalArgumentException("read of [" + offset + ", " + ((long) offset + length)
                    + ") from a shard of " + shard.length() + " bytes into " + dst.length + " bytes");
        }
    }

    /** A connection to one memory node for one DB. Thread-safe. */
    public interface Client extends AutoCloseable {
        /**
         * Ships bytes {@code [0, length)} of a sealed shard (from {@code shard}'s position 0; not
         * modified) and commits them; completes when the node has verified the checksum (CRC32C of
         * those bytes) and can serve reads from it. Fails if DM for this DB is full or the node is
         * unreachable.
         */
        CompletableFuture<RemoteShard> offload(ByteBuffer shard, int length, int checksum, int shardId,
                long minSequence, long maxSequence);

        /**
         * Delegated point lookup: the newest entry of {@code userKey} with sequence ≤
         * {@code snapshotSequence} in {@code candidates} (newest shard first), searched by the node.
         */
        GetResult get(List<RemoteShard> candidates, byte[] userKey, long snapshotSequence) throws IOException;

        /**
         * Delegated point lookups of several keys at one snapshot: for each key, what {@link #get}
         * would answer, in order. The default asks one {@link #get} per key; a memory node that can
         * asks for them together.
         */
        default List<GetResult> multiGet(List<KeyGet> keys, long snapshotSequence) throws IOException {
            List<GetResult> out = new java.util.ArrayList<>(keys.size());
            for (KeyGet k : keys) {
                out.add(get(k.candidates(), k.userKey(), snapshotSequence));
            }
            return out;
        }

        /**
         * Delegated scan of the merge of {@code shards} (newest first; a key present in several comes
         * once per shard, as internal keys never repeat). Forward: entries with internal key ≥
         * {@code fromInternalKey} (all if null) ascending. Reverse: entries ≤ it (all if null)
         * descending. {@code exclusive} leaves out an entry equal to {@code fromInternalKey}. At most
         * {@code maxEntries} entries and about {@code maxBytes}; at least one if any remain.
         */
        ScanBatch scan(List<RemoteShard> shards, byte[] fromInternalKey, boolean reverse, boolean exclusive,
                int maxEntries, int maxBytes) throws IOException;

        /**
         * {@link #scan} asked without waiting: the answer completes the future (exceptionally if the
         * scan failed or timed out). Null when this client cannot (the default): the caller then asks
         * by {@link #scan} when it needs the batch.
         */
        default CompletableFuture<ScanBatch> scanAhead(List<RemoteShard> shards, byte[] fromInternalKey,
                boolean reverse, boolean exclusive, int maxEntries, int maxBytes) {
            return null;
        }

        /**
         * One-sided read of bytes {@code [offset, offset + length)} of a shard into {@code dst[0,
         * length)}: one RMA get, answered without the node's CPU. Returns false, with {@code dst}
         * unspecified, when one-sided reads cannot be served now (not supported, not connected, the
         * shard unknown to this connection, the read failed or timed out): the caller then asks by a
         * delegated get, which tells a lost node from a slow one. The default returns false.
         *
         * @throws IllegalArgumentException if the range is outside the shard or {@code dst}
         */
        default boolean read(RemoteShard shard, int offset, int length, byte[] dst) throws IOException {
            checkRead(shard, offset, length, dst);
            return false;
        }

        /**
         * Several one-sided reads posted together and awaited together: read {@code i} is {@link
         * #read}{@code (shards.get(i), offsets[i], lengths[i], dsts[i])}; {@code ok[i]} says whether it
         * was served. The default reads one at a time.
         *
         * @throws IllegalArgumentException if a range is outside its shard or destination
         */
        default boolean[] readMany(List<RemoteShard> shards, int[] offsets, int[] lengths, byte[][] dsts)
                throws IOException {
            boolean[] ok = new boolean[shards.size()];
            for (int i = 0; i < ok.length; i++) {
                ok[i] = read(shards.get(i), offsets[i], lengths[i], dsts[i]);
            }
            return ok;
        }

        /** Copies the shard's bytes back (RMA get) into {@code dst} from its position 0. */
        void readBack(RemoteShard shard, ByteBuffer dst) throws IOException;

        /** Releases the shard's segment on the node. */
        void free(RemoteShard shard) throws IOException;

        /**
         * Releases the shard's segment without waiting for the answer (the engine frees segments in
         * bulk when it gives up on a node that is still there, and must not wait a request timeout
         * per segment). The default calls {@link #free} on the caller's thread.
         */
        default CompletableFuture<Void> freeAsync(RemoteShard shard) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            try {
                free(shard);
                f.complete(null);
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
            return f;
        }

        /**
         * Submits a job to the coordinator and waits until it ended (declined, or done by a worker).
         * Fails with an {@link IOException} if the worker failed, the deadline passed, or the node
         * was lost; the attempt's outputs may then still be written by a zombie.
         */
        default JobOutcome submitJob(JobSubmit job) throws IOException {
            throw new UnsupportedOperationException("this memory-node client does not run jobs");
        }

        /**
         * Ends a job attempt submitted with {@link #submitJob} (its submit then fails); a job that
         * already ended is ignored. The default does nothing.
         */
        default void cancelJob(long jobId, int attempt) throws IOException {
        }

        /**
         * False once the transport reported that the node failed (UCX's endpoint error handler), until
         * a reconnect succeeds. A request that merely timed out leaves this true: the engine tells a
         * slow request from a lost node by it (see {@code docs/design/dm-mode.md}).
         */
        boolean isConnected();

        @Override
        void close();
    }
}
