package io.o3lsm.dm.protocol;

import java.util.ArrayList;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * Bodies of the DM control messages: one record per message with its encoder ({@code encode}) and
 * bounds-checked decoder ({@code decode}). The grammar, field by field, is in
 * {@code docs/format/dm-protocol.md}; {@code MessagesTest} checks the worked example there against
 * these encoders. All integers little-endian.
 */
public final class Messages {
    public static final int NONCE_LENGTH = 32;
    public static final int MAC_LENGTH = 32;
    public static final int MAX_DB_ID_LENGTH = 255;
    public static final int MAX_KEY_LENGTH = 16 << 20;
    public static final int MAX_CANDIDATES = 4096;
    public static final int MAX_SLABS = 4096;
    public static final int MAX_RKEY_LENGTH = 64 << 10;

    private Messages() {
    }

    private static BodyReader reader(DirectBuffer b, int off, int len) {
        return new BodyReader(b, off, len);
    }

    // ---- HELLO -------------------------------------------------------------------------------

    /** {@link Hello#role}: a DB (compute node) holding segments. */
    public static final int ROLE_DB = 0;
    /** {@link Hello#role}: a worker executing jobs the coordinator hands out; it holds no segments. */
    public static final int ROLE_WORKER = 1;

    /**
     * Request: who is connecting, and a client nonce for the node's proof. A worker
     * ({@link #ROLE_WORKER}) sends epoch 0 and dm-budget 0 and its name as the db-id.
     */
    public record Hello(long epoch, long dmBudget, byte[] clientNonce, String dbId, int role) {
        public Hello(long epoch, long dmBudget, byte[] clientNonce, String dbId) {
            this(epoch, dmBudget, clientNonce, dbId, ROLE_DB);
        }

        public BodyWriter encode(BodyWriter w) {
            return w.i64(epoch).i64(dmBudget).bytes(clientNonce).string(dbId).i32(role);
        }

        public static Hello decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long epoch = r.i64("epoch");
            long budget = r.i64("dm-budget");
            byte[] nonce = r.bytes(NONCE_LENGTH, "client-nonce");
            String dbId = r.string("db-id");
            int role = r.i32("role");
            r.expectEnd("HELLO");
            if (dbId.isEmpty() || dbId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_DB_ID_LENGTH) {
                throw new MalformedMessageException("expected a db-id of 1.." + MAX_DB_ID_LENGTH + " bytes");
            }
            if (epoch < 0 || budget < 0) {
                throw new MalformedMessageException("expected epoch and dm-budget >= 0, found " + epoch + ", " + budget);
            }
            if (role != ROLE_DB && role != ROLE_WORKER) {
                throw new MalformedMessageException("expected role 0 (DB) or 1 (worker), found " + role);
            }
            return new Hello(epoch, budget, nonce, dbId, role);
        }
    }

    /** Response to HELLO: the challenge. */
    public record Challenge(byte[] serverNonce, long nodeInstance) {
        public BodyWriter encode(BodyWriter w) {
            return w.bytes(serverNonce).i64(nodeInstance);
        }

        public static Challenge decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            Challenge c = new Challenge(r.bytes(NONCE_LENGTH, "server-nonce"), r.i64("node-instance"));
            r.expectEnd("HELLO response");
            return c;
        }
    }

    // ---- AUTH --------------------------------------------------------------------------------

    /** Request: the client's answer to the challenge. */
    public record Auth(byte[] mac) {
        public BodyWriter encode(BodyWriter w) {
            return w.bytes(mac);
        }

        public static Auth decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            Auth a = new Auth(r.bytes(MAC_LENGTH, "client-mac"));
            r.expectEnd("AUTH");
            return a;
        }
    }

    /** One registered slab of the node's pool: where it is and its packed UCX remote key. */
    public record Slab(long address, long length, byte[] rkey) {
    }

    /** Response to AUTH: the node's proof, the grant, and the slabs' remote keys. */
    public record Welcome(byte[] nodeMac, long capacity, long budget, long used, List<Slab> slabs) {
        public BodyWriter encode(BodyWriter w) {
            w.bytes(nodeMac).i64(capacity).i64(budget).i64(used).i32(slabs.size());
            for (Slab s : slabs) {
                w.i64(s.address()).i64(s.length()).lengthPrefixed(s.rkey());
            }
            return w;
        }

        public static Welcome decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            byte[] mac = r.bytes(MAC_LENGTH, "node-mac");
            long capacity = r.i64("capacity");
            long budget = r.i64("budget");
            long used = r.i64("used");
            int n = r.i32("slab-count");
            if (n < 0 || n > MAX_SLABS) {
                throw new MalformedMessageException("expected slab-count in [0, " + MAX_SLABS + "], found " + n);
            }
            List<Slab> slabs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                slabs.add(new Slab(r.i64("slab address"), r.i64("slab length"), r.lengthPrefixed(MAX_RKEY_LENGTH, "rkey")));
            }
            r.expectEnd("AUTH response");
            return new Welcome(mac, capacity, budget, used, slabs);
        }
    }

    // ---- ALLOC -------------------------------------------------------------------------------

    public record Alloc(int length) {
        public BodyWriter encode(BodyWriter w) {
            return w.i32(length);
        }

        public static Alloc decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            Alloc a = new Alloc(r.i32("length"));
            r.expectEnd("ALLOC");
            if (a.length <= 0) {
                throw new MalformedMessageException("expected a length > 0, found " + a.length);
            }
            return a;
        }
    }

    /** Response to ALLOC and READBACK: where the segment's bytes are (RMA target / source). */
    public record SegmentLocation(long segmentId, long address, int slab, int length) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(segmentId).i64(address).i32(slab).i32(length);
        }

        public static SegmentLocation decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            SegmentLocation s = new SegmentLocation(r.i64("segment-id"), r.i64("address"), r.i32("slab"), r.i32("length"));
            r.expectEnd("segment location");
            return s;
        }
    }

    // ---- COMMIT ------------------------------------------------------------------------------

    public record Commit(long segmentId, int shardId, int length, int checksum, long minSequence, long maxSequence) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(segmentId).i32(shardId).i32(length).i32(checksum).i32(0).i64(minSequence).i64(maxSequence);
        }

        public static Commit decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long seg = r.i64("segment-id");
            int shardId = r.i32("shard-id");
            int length = r.i32("length");
            int checksum = r.i32("checksum");
            r.i32("reserved");
            Commit c = new Commit(seg, shardId, length, checksum, r.i64("min-sequence"), r.i64("max-sequence"));
            r.expectEnd("COMMIT");
            return c;
        }
    }

    // ---- GET ---------------------------------------------------------------------------------

    /** Request: one user key, a snapshot, and candidate segments newest first. */
    public record Get(long snapshotSequence, byte[] userKey, long[] segments) {
        public BodyWriter encode(BodyWriter w) {
            w.i64(snapshotSequence).i32(segments.length).lengthPrefixed(userKey);
            for (long s : segments) {
                w.i64(s);
            }
            return w;
        }

        public static Get decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long snap = r.i64("snapshot-sequence");
            int n = r.i32("candidate-count");
            if (n < 0 || n > MAX_CANDIDATES) {
                throw new MalformedMessageException("expected candidate-count in [0, " + MAX_CANDIDATES + "], found " + n);
            }
            byte[] key = r.lengthPrefixed(MAX_KEY_LENGTH, "user-key");
            long[] segs = new long[n];
            for (int i = 0; i < n; i++) {
                segs[i] = r.i64("segment-id");
            }
            r.expectEnd("GET");
            if (snap < 0) {
                throw new MalformedMessageException("expected snapshot-sequence >= 0, found " + snap);
            }
            return new Get(snap, key, segs);
        }
    }

    /**
     * Response to GET: state 0 not found, 1 found, 2 deleted, 3 merge operand (version 6; the value
     * is the operand); index of the answering candidate or -1.
     */
    public record GetResult(int state, int candidateIndex, long sequence, byte[] value) {
        public BodyWriter encode(BodyWriter w) {
            return w.i32(state).i32(candidateIndex).i64(sequence).lengthPrefixed(value == null ? new byte[0] : value);
        }

        public static GetResult decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int state = r.i32("state");
            int idx = r.i32("candidate-index");
            long seq = r.i64("sequence");
            byte[] value = r.lengthPrefixed(MessageHeaderDescriptor.MAX_BODY_LENGTH, "value");
            r.expectEnd("GET response");
            if (state < 0 || state > 3) {
                throw new MalformedMessageException("expected state 0 to 3, found " + state);
            }
            return new GetResult(state, idx, seq, state == 1 || state == 3 ? value : null);
        }
    }

    // ---- MULTI_GET (version 5) ---------------------------------------------------------------

    /** Keys one MULTI_GET may ask for. */
    public static final int MAX_MULTI_GET_KEYS = 1024;
    /** Candidates one MULTI_GET may name, over all its keys. */
    public static final int MAX_MULTI_GET_CANDIDATES = 65536;
    /** A node stops adding results to a MULTI_GET answer once its body holds at least this many bytes. */
    public static final int MULTI_GET_ANSWER_BYTES = 4 << 20;

    /** One key of a MULTI_GET: the user key and its candidate segments, newest first. */
    public record KeyGet(byte[] userKey, long[] segments) {
    }

    /** Request: several keys, each with its own candidates, read at one snapshot. */
    public record MultiGet(long snapshotSequence, List<KeyGet> keys) {
        public BodyWriter encode(BodyWriter w) {
            w.i64(snapshotSequence).i32(keys.size());
            for (KeyGet k : keys) {
                w.lengthPrefixed(k.userKey()).i32(k.segments().length);
                for (long s : k.segments()) {
                    w.i64(s);
                }
            }
            return w;
        }

        /** Bytes {@link #encode} writes for these keys. */
        public static int encodedLength(List<KeyGet> keys) {
            int n = 12;
            for (KeyGet k : keys) {
                n += 8 + k.userKey().length + 8 * k.segments().length;
            }
            return n;
        }

        public static MultiGet decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long snap = r.i64("snapshot-sequence");
            if (snap < 0) {
                throw new MalformedMessageException("expected snapshot-sequence >= 0, found " + snap);
            }
            int n = r.i32("key-count");
            if (n < 1 || n > MAX_MULTI_GET_KEYS) {
                throw new MalformedMessageException("expected key-count in [1, " + MAX_MULTI_GET_KEYS + "], found " + n);
            }
            List<KeyGet> keys = new ArrayList<>(n);
            int total = 0;
            for (int i = 0; i < n; i++) {
                byte[] key = r.lengthPrefixed(MAX_KEY_LENGTH, "user-key");
                int c = r.i32("candidate-count");
                if (c < 0 || c > MAX_CANDIDATES) {
                    throw new MalformedMessageException("expected candidate-count in [0, " + MAX_CANDIDATES + "], found "
                            + c + " (key " + i + ")");
                }
                total += c;
                if (total > MAX_MULTI_GET_CANDIDATES) {
                    throw new MalformedMessageException("expected at most " + MAX_MULTI_GET_CANDIDATES
                            + " candidates in all, found more at key " + i);
                }
                if (r.remaining() < 8L * c) { // no allocation a short body cannot back
                    throw new MalformedMessageException("expected " + 8L * c + " bytes of segment ids (key " + i
                            + "), found " + r.remaining());
                }
                long[] segs = new long[c];
                for (int j = 0; j < c; j++) {
                    segs[j] = r.i64("segment-id");
                }
                keys.add(new KeyGet(key, segs));
            }
            r.expectEnd("MULTI_GET");
            return new MultiGet(snap, keys);
        }
    }

    /**
     * Response to MULTI_GET: the results of the first {@code results.size()} keys, in request order
     * (at least one; fewer than asked when the answer grew past {@link #MULTI_GET_ANSWER_BYTES}).
     */
    public record MultiGetResult(List<GetResult> results) {
        public BodyWriter encode(BodyWriter w) {
            w.i32(results.size());
            for (GetResult g : results) {
                g.encode(w);
            }
            return w;
        }

        public static MultiGetResult decode(DirectBuffer b, int off, int len, int asked) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int n = r.i32("result-count");
            if (n < 1 || n > asked) {
                throw new MalformedMessageException("expected result-count in [1, " + asked + "], found " + n);
            }
            List<GetResult> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int state = r.i32("state");
                int idx = r.i32("candidate-index");
                long seq = r.i64("sequence");
                byte[] value = r.lengthPrefixed(MessageHeaderDescriptor.MAX_BODY_LENGTH, "value");
                if (state < 0 || state > 3) {
                    throw new MalformedMessageException("expected state 0 to 3, found " + state + " (result " + i + ")");
                }
                out.add(new GetResult(state, idx, seq, state == 1 || state == 3 ? value : null));
            }
            r.expectEnd("MULTI_GET response");
            return new MultiGetResult(out);
        }
    }

    // ---- SCAN --------------------------------------------------------------------------------

    /** SCAN flag: entries in descending internal-key order, from the last entry at or before from-key. */
    public static final int SCAN_REVERSE = 1;
    /** SCAN flag: leave out an entry whose internal key equals from-key (paging from the last key seen). */
    public static final int SCAN_EXCLUSIVE = 2;

    /**
     * Request: the merge of several segments (newest first), from an internal key (null: from the
     * first, or with {@link #SCAN_REVERSE} from the last), bounded.
     */
    public record Scan(int flags, int maxEntries, int maxBytes, byte[] fromInternalKey, long[] segments) {
        public boolean reverse() {
            return (flags & SCAN_REVERSE) != 0;
        }

        public boolean exclusive() {
            return (flags & SCAN_EXCLUSIVE) != 0;
        }

        public BodyWriter encode(BodyWriter w) {
            w.i32(flags).i32(maxEntries).i32(maxBytes).i32(segments.length);
            if (fromInternalKey == null) {
                w.i32(-1);
            } else {
                w.lengthPrefixed(fromInternalKey);
            }
            for (long s : segments) {
                w.i64(s);
            }
            return w;
        }

        public static Scan decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int flags = r.i32("flags");
            int maxEntries = r.i32("max-entries");
            int maxBytes = r.i32("max-bytes");
            int n = r.i32("segment-count");
            if (n < 1 || n > MAX_CANDIDATES) {
                throw new MalformedMessageException("expected segment-count in [1, " + MAX_CANDIDATES + "], found " + n);
            }
            int keyLen = r.i32("from-key length");
            byte[] from = null;
            if (keyLen != -1) {
                if (keyLen < 8 || keyLen > MAX_KEY_LENGTH) {
                    throw new MalformedMessageException("expected from-key length -1 or in [8, " + MAX_KEY_LENGTH
                            + "], found " + keyLen);
                }
                from = r.bytes(keyLen, "from-key");
            }
            long[] segs = new long[n];
            for (int i = 0; i < n; i++) {
                segs[i] = r.i64("segment-id");
            }
            r.expectEnd("SCAN");
            if ((flags & ~(SCAN_REVERSE | SCAN_EXCLUSIVE)) != 0) {
                throw new MalformedMessageException("expected flags within 0x3, found 0x" + Integer.toHexString(flags));
            }
            if (maxEntries <= 0 || maxBytes <= 0) {
                throw new MalformedMessageException("expected max-entries and max-bytes > 0, found " + maxEntries
                        + ", " + maxBytes);
            }
            return new Scan(flags, maxEntries, maxBytes, from, segs);
        }
    }

    /** One entry of a scan response. */
    public record Entry(byte[] internalKey, byte[] value) {
    }

    /** Response to SCAN: entries in internal-key order; {@code more} if the segment has entries after them. */
    public record ScanBatch(List<Entry> entries, boolean more) {
        public BodyWriter encode(BodyWriter w) {
            w.i32(entries.size()).i32(more ? 1 : 0);
            for (Entry e : entries) {
                w.lengthPrefixed(e.internalKey()).lengthPrefixed(e.value());
            }
            return w;
        }

        public static ScanBatch decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int n = r.i32("entry-count");
            int flags = r.i32("flags");
            if (n < 0 || n > len / 8) {
                throw new MalformedMessageException("expected entry-count in [0, " + len / 8 + "], found " + n);
            }
            List<Entry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                entries.add(new Entry(r.lengthPrefixed(MAX_KEY_LENGTH, "internal-key"),
                        r.lengthPrefixed(MessageHeaderDescriptor.MAX_BODY_LENGTH, "value")));
            }
            r.expectEnd("SCAN response");
            return new ScanBatch(entries, (flags & 1) != 0);
        }

        /**
         * Checks a SCAN response and returns its entries as one array in the wire's
         * {@code entry-count*entry} layout (no per-entry objects), with the count and flag.
         */
        public static io.o3lsm.spi.MemoryNode.ScanBatch decodeRaw(DirectBuffer b, int off, int len)
                throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int n = r.i32("entry-count");
            int flags = r.i32("flags");
            if (n < 0 || n > len / 8) {
                throw new MalformedMessageException("expected entry-count in [0, " + len / 8 + "], found " + n);
            }
            int start = off + 8;
            for (int i = 0; i < n; i++) {
                r.skipLengthPrefixed(MAX_KEY_LENGTH, "internal-key", 8);
                r.skipLengthPrefixed(MessageHeaderDescriptor.MAX_BODY_LENGTH, "value", 0);
            }
            r.expectEnd("SCAN response");
            byte[] entries = new byte[off + len - start];
            b.getBytes(start, entries);
            return new io.o3lsm.spi.MemoryNode.ScanBatch(entries, n, (flags & 1) != 0);
        }
    }

    // ---- READBACK / FREE / STATS ---------------------------------------------------------------

    /** Request body of READBACK and FREE: a segment id. */
    public record SegmentRef(long segmentId) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(segmentId);
        }

        public static SegmentRef decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            SegmentRef s = new SegmentRef(r.i64("segment-id"));
            r.expectEnd("segment reference");
            return s;
        }
    }

    /** Per-DB line of a STATS response. */
    public record DbStats(String dbId, long epoch, long used, int segments) {
    }

    /** Response to STATS. Counters are totals since the node started. */
    public record Stats(long capacity, long used, long segments, long requests, long bytesIn, long bytesOut,
            List<DbStats> dbs) {
        public BodyWriter encode(BodyWriter w) {
            w.i64(capacity).i64(used).i64(segments).i64(requests).i64(bytesIn).i64(bytesOut).i32(dbs.size());
            for (DbStats d : dbs) {
                w.string(d.dbId()).i64(d.epoch()).i64(d.used()).i32(d.segments());
            }
            return w;
        }

        public static Stats decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long capacity = r.i64("capacity");
            long used = r.i64("used");
            long segments = r.i64("segments");
            long requests = r.i64("requests");
            long in = r.i64("bytes-in");
            long out = r.i64("bytes-out");
            int n = r.i32("db-count");
            if (n < 0 || n > len) {
                throw new MalformedMessageException("expected db-count in [0, " + len + "], found " + n);
            }
            List<DbStats> dbs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                dbs.add(new DbStats(r.string("db-id"), r.i64("epoch"), r.i64("used"), r.i32("segments")));
            }
            r.expectEnd("STATS response");
            return new Stats(capacity, used, segments, requests, in, out, dbs);
        }
    }

    // ---- jobs (version 3; kinds and compaction jobs: version 4) ----------------------------------------------------------------------

    /** Most segments one job may name. */
    public static final int MAX_JOB_SEGMENTS = 4096;
    /** Largest job spec or job result (opaque to the coordinator). */
    public static final int MAX_JOB_SPEC = 16 << 20;
    /** Longest a worker may ask the node to hold a WORKER_POLL before answering it empty. */
    public static final int MAX_POLL_WAIT_MS = 10_000;
    /** Largest job deadline. */
    public static final long MAX_JOB_DEADLINE_MS = 24L * 3600 * 1000;
    /** {@link JobSubmit#flags} bit 0: place on any worker with a free slot, whatever the loads. */
    public static final int JOB_ALWAYS = 1;

    private static void checkLoad(int load, String what) throws MalformedMessageException {
        if (load < 0 || load > 1000) {
            throw new MalformedMessageException("expected " + what + " in [0, 1000] (per mille), found " + load);
        }
    }

    private static void checkDeadline(long ms) throws MalformedMessageException {
        if (ms <= 0 || ms > MAX_JOB_DEADLINE_MS) {
            throw new MalformedMessageException("expected deadline-ms in [1, " + MAX_JOB_DEADLINE_MS + "], found " + ms);
        }
    }

    /** {@link JobSubmit#kind}: a flush job (inputs: sealed shards in DM segments). */
    public static final int KIND_FLUSH = 1;
    /** {@link JobSubmit#kind}: a compaction job (inputs: SSTs on shared storage; no segments). */
    public static final int KIND_COMPACTION = 2;
    /** {@link WorkerPoll#kinds} bit of a job kind: {@code 1 << (kind - 1)}. */
    public static int kindBit(int kind) {
        return 1 << (kind - 1);
    }

    /** {@link WorkerPoll#kinds}: every kind this protocol version knows. */
    public static final int ALL_KINDS = kindBit(KIND_FLUSH) | kindBit(KIND_COMPACTION);
    /** Highest {@link JobSubmit#startLevel}. */
    public static final int MAX_START_LEVEL = 63;

    /**
     * JOB_SUBMIT request (owner to coordinator). {@code ownerLoad} per mille. A flush job
     * ({@link #KIND_FLUSH}) names 1..4096 segments and has start level 0 and score 0; a compaction
     * job ({@link #KIND_COMPACTION}) names none and carries the ordering keys of the compaction
     * queue: {@code startLevel} (lower first) and {@code score} (higher first).
     */
    public record JobSubmit(int kind, long jobId, int attempt, int flags, int ownerLoad, long pressure,
            long deadlineMs, int startLevel, double score, long[] segments, byte[] spec) {
        /** A flush job (start level 0, score 0). */
        public JobSubmit(int kind, long jobId, int attempt, int flags, int ownerLoad, long pressure, long deadlineMs,
                long[] segments, byte[] spec) {
            this(kind, jobId, attempt, flags, ownerLoad, pressure, deadlineMs, 0, 0.0, segments, spec);
        }

        public BodyWriter encode(BodyWriter w) {
            w.i32(kind).i64(jobId).i32(attempt).i32(flags).i32(ownerLoad).i64(pressure).i64(deadlineMs)
                    .i32(startLevel).i64(Double.doubleToRawLongBits(score)).i32(segments.length);
            for (long id : segments) {
                w.i64(id);
            }
            return w.lengthPrefixed(spec);
        }

        public static JobSubmit decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int kind = r.i32("kind");
            long jobId = r.i64("job-id");
            int attempt = r.i32("attempt");
            int flags = r.i32("flags");
            int load = r.i32("owner-load");
            long pressure = r.i64("pressure");
            long deadline = r.i64("deadline-ms");
            int startLevel = r.i32("start-level");
            double score = Double.longBitsToDouble(r.i64("score"));
            int n = r.i32("segment-count");
            if (n < 0 || n > MAX_JOB_SEGMENTS) {
                throw new MalformedMessageException("expected segment-count in [0, " + MAX_JOB_SEGMENTS + "], found " + n);
            }
            long[] ids = new long[n];
            for (int i = 0; i < n; i++) {
                ids[i] = r.i64("segment-id");
            }
            byte[] spec = r.lengthPrefixed(MAX_JOB_SPEC, "spec");
            r.expectEnd("JOB_SUBMIT");
            if (kind == KIND_FLUSH) {
                if (n < 1 || startLevel != 0 || score != 0.0) {
                    throw new MalformedMessageException("expected a flush job with 1.." + MAX_JOB_SEGMENTS
                            + " segments, start-level 0 and score 0, found " + n + ", " + startLevel + ", " + score);
                }
            } else if (kind == KIND_COMPACTION) {
                if (n != 0 || startLevel < 0 || startLevel > MAX_START_LEVEL || !Double.isFinite(score) || score < 0) {
                    throw new MalformedMessageException("expected a compaction job with no segments, start-level in [0, "
                            + MAX_START_LEVEL + "] and a finite score >= 0, found " + n + ", " + startLevel + ", "
                            + score);
                }
            } else {
                throw new MalformedMessageException("expected kind 1 (flush) or 2 (compaction), found " + kind);
            }
            if (attempt < 1 || (flags & ~JOB_ALWAYS) != 0 || pressure < 0) {
                throw new MalformedMessageException("expected attempt >= 1, flags within 0x1 and pressure >= 0, found "
                        + attempt + ", 0x" + Integer.toHexString(flags) + ", " + pressure);
            }
            checkLoad(load, "owner-load");
            checkDeadline(deadline);
            return new JobSubmit(kind, jobId, attempt, flags, load, pressure, deadline, startLevel, score, ids, spec);
        }
    }

    /** Response to JOB_SUBMIT: declined ({@code placed} false, {@code message} says why) or done by {@code worker}. */
    public record JobOutcome(boolean placed, String worker, String message, byte[] result) {
        public BodyWriter encode(BodyWriter w) {
            return w.i32(placed ? 1 : 0).string(worker).string(message).lengthPrefixed(result);
        }

        public static JobOutcome decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int placed = r.i32("placed");
            JobOutcome o = new JobOutcome(placed == 1, r.string("worker"), r.string("message"),
                    r.lengthPrefixed(MAX_JOB_SPEC, "result"));
            r.expectEnd("JOB_SUBMIT response");
            if (placed != 0 && placed != 1) {
                throw new MalformedMessageException("expected placed 0 or 1, found " + placed);
            }
            return o;
        }
    }

    /** JOB_CANCEL request (owner to coordinator): end this attempt, whatever its state. */
    public record JobCancel(long jobId, int attempt) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(jobId).i32(attempt);
        }

        public static JobCancel decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            JobCancel c = new JobCancel(r.i64("job-id"), r.i32("attempt"));
            r.expectEnd("JOB_CANCEL");
            return c;
        }
    }

    /**
     * WORKER_POLL request (worker to coordinator): the worker's heartbeat, and a request for jobs
     * the node may hold up to {@code waitMs} before answering with none. Loads per mille.
     * {@code kinds}: the job kinds it runs, one bit per kind ({@link #kindBit}); at least one.
     */
    public record WorkerPoll(int slots, int running, int load, long bytesWrittenPerSecond, int waitMs, int kinds) {
        /** A flush worker's poll. */
        public WorkerPoll(int slots, int running, int load, long bytesWrittenPerSecond, int waitMs) {
            this(slots, running, load, bytesWrittenPerSecond, waitMs, kindBit(KIND_FLUSH));
        }

        public boolean runs(int kind) {
            return kind >= 1 && kind <= 31 && (kinds & kindBit(kind)) != 0;
        }

        public BodyWriter encode(BodyWriter w) {
            return w.i32(slots).i32(running).i32(load).i64(bytesWrittenPerSecond).i32(waitMs).i32(kinds);
        }

        public static WorkerPoll decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            WorkerPoll p = new WorkerPoll(r.i32("slots"), r.i32("running"), r.i32("load"),
                    r.i64("bytes-written-per-second"), r.i32("wait-ms"), r.i32("kinds"));
            r.expectEnd("WORKER_POLL");
            if (p.slots < 0 || p.slots > 1024 || p.running < 0 || p.running > 1024 || p.bytesWrittenPerSecond < 0
                    || p.waitMs < 0 || p.waitMs > MAX_POLL_WAIT_MS) {
                throw new MalformedMessageException("expected slots and running in [0, 1024], bytes-written-per-second"
                        + " >= 0 and wait-ms in [0, " + MAX_POLL_WAIT_MS + "], found " + p);
            }
            if (p.kinds == 0 || (p.kinds & ~ALL_KINDS) != 0) {
                throw new MalformedMessageException("expected kinds a non-empty set of bits within 0x"
                        + Integer.toHexString(ALL_KINDS) + " (bit 0 flush, bit 1 compaction), found 0x"
                        + Integer.toHexString(p.kinds));
            }
            checkLoad(p.load, "load");
            return p;
        }
    }

    /** One input of an offered job (JOB_READ names it by its index in the offer). */
    public record JobSegment(long segmentId, int length, int checksum, int shardId, long minSequence,
            long maxSequence) {
    }

    /** Largest JOB_READ. */
    public static final int MAX_JOB_READ = 16 << 20;

    /** JOB_READ request (worker to coordinator): bytes {@code [offset, offset+length)} of input {@code segmentIndex}. */
    public record JobRead(long handle, int segmentIndex, int offset, int length) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(handle).i32(segmentIndex).i32(offset).i32(length);
        }

        public static JobRead decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            JobRead j = new JobRead(r.i64("handle"), r.i32("segment-index"), r.i32("offset"), r.i32("length"));
            r.expectEnd("JOB_READ");
            if (j.offset < 0 || j.length <= 0 || j.length > MAX_JOB_READ) {
                throw new MalformedMessageException("expected offset >= 0 and length in [1, " + MAX_JOB_READ
                        + "], found " + j.offset + ", " + j.length);
            }
            return j;
        }
    }

    /** One job offered to a worker. {@code handle} names it in JOB_DONE and in cancellations. */
    public record JobOffer(long handle, int kind, String dbId, long epoch, long jobId, int attempt, long deadlineMs,
            List<JobSegment> segments, byte[] spec) {
    }

    /** Response to WORKER_POLL: jobs offered to this worker, and handles of its jobs that were ended. */
    public record PollAnswer(List<JobOffer> offers, long[] cancelled) {
        public BodyWriter encode(BodyWriter w) {
            w.i32(offers.size());
            for (JobOffer o : offers) {
                w.i64(o.handle).i32(o.kind).string(o.dbId).i64(o.epoch).i64(o.jobId).i32(o.attempt).i64(o.deadlineMs)
                        .i32(o.segments.size());
                for (JobSegment s : o.segments) {
                    w.i64(s.segmentId).i32(s.length).i32(s.checksum).i32(s.shardId).i64(s.minSequence)
                            .i64(s.maxSequence);
                }
                w.lengthPrefixed(o.spec);
            }
            w.i32(cancelled.length);
            for (long h : cancelled) {
                w.i64(h);
            }
            return w;
        }

        public static PollAnswer decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            int n = r.i32("offer-count");
            if (n < 0 || n > 1024) {
                throw new MalformedMessageException("expected offer-count in [0, 1024], found " + n);
            }
            List<JobOffer> offers = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long handle = r.i64("handle");
                int kind = r.i32("kind");
                String dbId = r.string("db-id");
                long epoch = r.i64("epoch");
                long jobId = r.i64("job-id");
                int attempt = r.i32("attempt");
                long deadline = r.i64("deadline-ms");
                int m = r.i32("segment-count");
                if (kind == KIND_FLUSH ? m < 1 || m > MAX_JOB_SEGMENTS : kind == KIND_COMPACTION ? m != 0 : true) {
                    throw new MalformedMessageException("expected kind 1 (flush) with 1.." + MAX_JOB_SEGMENTS
                            + " segments or kind 2 (compaction) with none, found kind " + kind + " with " + m);
                }
                List<JobSegment> segs = new ArrayList<>(m);
                for (int j = 0; j < m; j++) {
                    JobSegment s = new JobSegment(r.i64("segment-id"), r.i32("length"), r.i32("checksum"),
                            r.i32("shard-id"), r.i64("min-sequence"), r.i64("max-sequence"));
                    if (s.length <= 0) {
                        throw new MalformedMessageException("expected a segment length > 0, found " + s.length);
                    }
                    segs.add(s);
                }
                byte[] spec = r.lengthPrefixed(MAX_JOB_SPEC, "spec");
                checkDeadline(deadline);
                offers.add(new JobOffer(handle, kind, dbId, epoch, jobId, attempt, deadline, segs, spec));
            }
            int c = r.i32("cancel-count");
            if (c < 0 || c > 1 << 16) {
                throw new MalformedMessageException("expected cancel-count in [0, 65536], found " + c);
            }
            long[] cancelled = new long[c];
            for (int i = 0; i < c; i++) {
                cancelled[i] = r.i64("handle");
            }
            r.expectEnd("WORKER_POLL response");
            return new PollAnswer(offers, cancelled);
        }
    }

    /** JOB_DONE request (worker to coordinator): the job's result, or ({@code ok} false) why it failed. */
    public record JobDone(long handle, boolean ok, byte[] result) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(handle).i32(ok ? 1 : 0).lengthPrefixed(result);
        }

        public static JobDone decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = reader(b, off, len);
            long handle = r.i64("handle");
            int ok = r.i32("ok");
            byte[] result = r.lengthPrefixed(MAX_JOB_SPEC, "result");
            r.expectEnd("JOB_DONE");
            if (ok != 0 && ok != 1) {
                throw new MalformedMessageException("expected ok 0 or 1, found " + ok);
            }
            return new JobDone(handle, ok == 1, result);
        }
    }
}
