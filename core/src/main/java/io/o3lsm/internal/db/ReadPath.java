package io.o3lsm.internal.db;

import io.o3lsm.DBIterator;
import io.o3lsm.ReadOptions;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.MergingIterator;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.memtable.FetchedNode;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.util.Limits;
import io.o3lsm.internal.util.Merges;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import io.o3lsm.spi.MemoryNode;
import io.o3lsm.internal.util.TtlStamp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The read path: point gets and multiGet (active shard → sealed shards → offloaded shards by one
 * delegated get per run → L0 newest first → one file per deeper level, range tombstones applied on
 * the way), and iterators merging all of those under one sequence. Reads take no lock: they pin a
 * read view ({@link #pin}) and read at a sequence chosen after pinning. A read that finds the
 * memory node gone asks {@link DmRecovery} to rebuild and reads again.
 */
final class ReadPath {
    /**
     * Per-thread scratch of {@link #get}: the sequence out-parameter and the lookup result, so that
     * a get allocates only the value it returns. (Per-operation garbage sets the young collections'
     * pace; each one also pauses the readers.)
     */
    private static final class GetScratch {
        final long[] seqOut = new long[1];
        final Lookup lookup = new Lookup();
        /** Where one-sided reads of cached entries land, and a view over it. */
        byte[] fetch = new byte[256];
        final UnsafeBuffer fetchView = new UnsafeBuffer(fetch);

        byte[] fetchBuffer(int len) {
            if (fetch.length < len) {
                fetch = new byte[Integer.highestOneBit(len - 1) << 1];
                fetchView.wrap(fetch);
            }
            return fetch;
        }
    }

    private static final ThreadLocal<GetScratch> GET_SCRATCH = ThreadLocal.withInitial(GetScratch::new);

    private final Engine e;

    ReadPath(Engine e) {
        this.e = e;
    }

    /**
     * Pins a read view and picks the read's sequence ({@code seqOut[0]}). Without a snapshot the
     * sequence is read after pinning, and the pin is retried if the view changed meanwhile: the
     * leader swaps the view before publishing a sequence, so a view still current after the read
     * holds everything up to it; and every flush or compaction in it chose what to keep at a
     * sequence no higher than the one read.
     */
    SuperVersion pin(ReadOptions ro, long[] seqOut) {
        if (e.replica && ro.snapshot() != null) {
            // a replica's snapshot reads the view it pinned: its primary compacted without knowing of it
            seqOut[0] = e.snapshots.readSequence(ro);
            return e.snapshots.pinnedView(ro);
        }
        while (true) {
            SuperVersion cur = e.acquireSv();
            try {
                seqOut[0] = e.snapshots.readSequence(ro);
            } catch (RuntimeException ex) {
                cur.unref();
                throw ex;
            }
            if (ro.snapshot() != null || e.sv == cur) {
                if (ro.snapshot() == null && seqOut[0] < cur.floor) {
                    seqOut[0] = cur.floor; // a replica's view taking tables before its sequence is published
                }
                return cur;
            }
            cur.unref();
        }
    }

    /**
     * {@code DB.get}: the value of {@code key}, or null. With {@code Options.statistics} on, timed into
     * the get histogram and counted (keys read and found, value bytes); nothing allocated for that.
     */
    byte[] get(ReadOptions ro, byte[] key) {
        EngineStats s = e.stats;
        if (!s.enabled) {
            return getUntimed(ro, key);
        }
        long t0 = System.nanoTime();
        byte[] v = getUntimed(ro, key);
        s.getNanos.record(System.nanoTime() - t0);
        s.keysRead.increment();
        if (v != null) {
            s.keysFound.increment();
            s.bytesRead.add(v.length);
        }
        return v;
    }

    private byte[] getUntimed(ReadOptions ro, byte[] key) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        Limits.checkKey(key, "key");
        e.checkOpen();
        GetScratch scratch = GET_SCRATCH.get();
        for (int attempt = 1;; ) {
            long[] seqOut = scratch.seqOut;
            SuperVersion cur = pin(ro, seqOut);
            Lookup l = scratch.lookup.reset();
            l.collect = e.options.mergeOperator() != null; // operands are combined as the search meets them
            try {
                long seq = seqOut[0];
                lookup(cur, key, seq, ro.fillCache(), ro.verifyChecksums(), l);
                if (l.unresolved || (l.state == Lookup.MERGE && l.operandCount == 0)) {
                    return mergeGet(cur, key, seq, ro); // an operand the search cannot go past (the memory node's)
                }
                if (l.operandCount > 0) {
                    e.stats.mergeGets.increment();
                    return Merges.full(e.options.mergeOperator(), key, l.state == Lookup.FOUND ? l.value : null,
                            l.operandsOldestFirst());
                }
                if (l.state != Lookup.FOUND) {
                    return null;
                }
                long ttl = e.ttlFor(key);
                return ttl > 0 ? unstamp(l.value, ttl, e.options.clock().getAsLong()) : l.value;
            } catch (DmLostException ex) {
                // a slow request is retried; a lost node's shards are rebuilt from the WAL first
                attempt = retryAfter(ex, attempt);
            } finally {
                l.reset(); // the caller owns the value now; the scratch must not keep it or the operands alive
                cur.unref();
            }
        }
    }

    /**
     * A transaction's conflict check: for each key, the sequence of its newest entry at {@code seq}
     * (a put, merge or delete, or a range tombstone covering it), 0 when it has none. Pins the current
     * view (the caller, the write leader, has made sure it holds everything up to {@code seq}); a
     * read that fails on the memory node is retried as {@link #get}'s is.
     */
    long[] newestSequences(List<byte[]> keys, long seq) {
        for (int attempt = 1;; ) {
            SuperVersion cur = e.acquireSv();
            try {
                long[] out = new long[keys.size()];
                Lookup l = new Lookup();
                for (int i = 0; i < out.length; i++) {
                    lookup(cur, keys.get(i), seq, true, true, l.reset());
                    out[i] = l.state == Lookup.NOT_FOUND ? 0 : l.sequence;
                }
                return out;
            } catch (DmLostException ex) {
                attempt = retryAfter(ex, attempt);
            } finally {
                cur.unref();
            }
        }
    }

    /**
     * Every key at one sequence. Keys whose search reaches the memory node share one MULTI_GET: a
     * first pass looks each key up and stops a key where its search would first delegate; the
     * node is then asked, in one request, for every such key over all its remote-only candidates;
     * a second pass searches those keys again, its delegated gets answered from that answer
     * ({@link Batched#answer}). One deferred key just delegates as {@link #get} does.
     */
    List<byte[]> multiGet(ReadOptions ro, List<byte[]> keys) {
        EngineStats s = e.stats;
        if (!s.enabled) {
            return multiGetUntimed(ro, keys);
        }
        long t0 = System.nanoTime();
        List<byte[]> out = multiGetUntimed(ro, keys);
        s.multiGetNanos.record(System.nanoTime() - t0);
        s.keysRead.add(out.size());
        for (int i = 0, n = out.size(); i < n; i++) {
            byte[] v = out.get(i);
            if (v != null) {
                s.keysFound.increment();
                s.bytesRead.add(v.length);
            }
        }
        return out;
    }

    private List<byte[]> multiGetUntimed(ReadOptions ro, List<byte[]> keys) {
        if (ro == null || keys == null) {
            throw new IllegalArgumentException((ro == null ? "read options" : "keys") + " must not be null");
        }
        for (int i = 0; i < keys.size(); i++) {
            Limits.checkKey(keys.get(i), "keys[" + i + "]");
        }
        e.checkOpen();
        for (int attempt = 1;; ) {
            long[] seqOut = new long[1];
            SuperVersion cur = pin(ro, seqOut);
            try {
                long seq = seqOut[0];
                int n = keys.size();
                byte[][] out = new byte[n][];
                Lookup l = new Lookup();
                // batching only pays where a key can reach the memory node: a shard only the node holds
                Batched mg = n > 1 && e.dm.link() != null && hasRemote(cur) ? new Batched(n, e.readChoice.oneSided())
                        : null;
                int deferred = 0;
                for (int i = 0; i < n; i++) {
                    if (mg != null) {
                        mg.key = i;
                    }
                    lookup(cur, keys.get(i), seq, ro.fillCache(), ro.verifyChecksums(), l.reset(), mg);
                    if (l.state == DEFERRED) {
                        deferred++;
                    } else if (l.state == Lookup.MERGE) {
                        out[i] = mergeGet(cur, keys.get(i), seq, ro);
                    } else {
                        out[i] = l.state == Lookup.FOUND ? l.value : null;
                    }
                }
                if (deferred > 0) {
                    Batched answered = null; // one key: the plain delegated get
                    if (deferred > 1) {
                        mg.ask(cur, keys, seq, deferred);
                        answered = mg;
                    }
                    for (int i = 0; i < n; i++) {
                        if (mg.deferred[i]) {
                            mg.key = i;
                            lookup(cur, keys.get(i), seq, ro.fillCache(), ro.verifyChecksums(), l.reset(), answered);
                            out[i] = l.state == Lookup.MERGE ? mergeGet(cur, keys.get(i), seq, ro)
                                    : l.state == Lookup.FOUND ? l.value : null;
                        }
                    }
                }
                long now = Long.MIN_VALUE;
                for (int i = 0; i < n; i++) {
                    long ttl = out[i] == null ? 0 : e.ttlFor(keys.get(i));
                    if (ttl > 0) {
                        now = now == Long.MIN_VALUE ? e.options.clock().getAsLong() : now;
                        out[i] = unstamp(out[i], ttl, now);
                    }
                }
                return new ArrayList<>(java.util.Arrays.asList(out));
            } catch (DmLostException ex) {
                attempt = retryAfter(ex, attempt);
            } finally {
                cur.unref();
            }
        }
    }

    /**
     * The value of {@code key} at {@code seq} when its newest visible entry is a merge operand: an
     * iterator over the whole pinned view (every source, range tombstones included) collects the
     * key's operands down to a value, a deletion or the end, and the merge operator combines them
     * ({@link DBIter}). The point lookup cannot: a key's operands may span sources.
     */
    private byte[] mergeGet(SuperVersion cur, byte[] key, long seq, ReadOptions ro) {
        e.stats.mergeGets.increment();
        e.stats.mergeIteratorGets.increment();
        List<RangeTombstone> tombs = new ArrayList<>();
        InternalIterator merged = buildForKey(cur, key, ro, tombs);
        RangeTombstoneSet set;
        try {
            set = RangeTombstoneSet.build(tombs, seq);
        } catch (RuntimeException | Error ex) {
            merged.close();
            throw ex;
        }
        byte[] upper = java.util.Arrays.copyOf(key, key.length + 1); // the first key after key
        try (DBIter it = new DBIter(null, merged, seq, set, key, upper, () -> e.closed || e.closing,
                e.options.mergeOperator())) {
            it.seek(key);
            return it.isValid() ? it.value() : null;
        }
    }

    /**
     * Adds sealed shard {@code s} (of range {@code r}) to an iterator's sources: its local copy's
     * iterator, or, held only by the memory node, the shard and its pin to {@code offloaded} and
     * {@code pinned} (read by one delegated-scan child built from those lists).
     */
    private void addSealed(SuperVersion cur, int r, MemShard s, List<InternalIterator> children, List<MemShard> offloaded,
            List<MemoryNode.RemoteShard> pinned) {
        ShardReader rd = s.reader;
        if (rd != null) {
            children.add(rd.iterator());
            return;
        }
        MemoryNode.RemoteShard rs = s.pinRemote();
        if (rs == null) {
            throw new DmLostException("shard of range " + r + " is neither local nor remote", e.sv != cur);
        }
        offloaded.add(s);
        pinned.add(rs);
    }

    /**
     * An iterator over the sources of the view that may hold {@code key} — the shards of its range in
     * each layout, the level-0 files whose range holds it, one file per deeper level — and their
     * range tombstones into {@code tombs} (those covering the key can only be there: tombstones are
     * split along shard ranges, and a file's range covers its own). Closes what it opened if it throws.
     */
    private InternalIterator buildForKey(SuperVersion cur, byte[] key, ReadOptions ro, List<RangeTombstone> tombs) {
        List<InternalIterator> children = new ArrayList<>();
        List<MemShard> offloaded = new ArrayList<>();
        List<MemoryNode.RemoteShard> pinned = new ArrayList<>();
        try {
            int r0 = cur.layout.rangeOf(key);
            ShardReader ard = cur.active[r0].reader;
            if (ard == null) {
                throw new DmLostException("the view's active shard of range " + r0 + " is no longer local", true);
            }
            cur.active[r0].collectTombstones(tombs);
            children.add(ard.iterator());
            for (ShardRanges layout : cur.layouts) {
                int r = layout.rangeOf(key);
                for (MemShard s : cur.sealed[r]) {
                    if (s.layout != layout) {
                        continue;
                    }
                    s.collectTombstones(tombs);
                    addSealed(cur, r, s, children, offloaded, pinned);
                }
            }
            if (!offloaded.isEmpty()) {
                List<MemShard> shards = new ArrayList<>(offloaded);
                List<MemoryNode.RemoteShard> pins = new ArrayList<>(pinned);
                offloaded.clear(); // from here the iterator owns the pins (unpinned when it closes), as in build
                pinned.clear();
                children.add(e.dm.offloadedShardsIterator(shards, pins));
            }
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                List<FileMetaData> files;
                if (level == 0) {
                    files = new ArrayList<>();
                    for (FileMetaData f : cur.version.files(0)) {
                        if (f.mayContainUserKey(key)) {
                            files.add(f);
                        }
                    }
                } else {
                    FileMetaData f = cur.version.findFile(level, key);
                    files = f == null ? List.of() : List.of(f);
                }
                for (FileMetaData f : files) {
                    TableCache.Handle h = e.tableCache.acquire(f.number);
                    try {
                        tombs.addAll(h.reader.rangeTombstones());
                    } finally {
                        h.release();
                    }
                    children.add(new LevelIterator(e.tableCache, List.of(f), ro.fillCache(), ro.verifyChecksums()));
                }
            }
            return new MergingIterator(children);
        } catch (RuntimeException | Error ex) {
            for (int i = 0; i < pinned.size(); i++) {
                e.dm.freeRemote(offloaded.get(i).unpinRemote(pinned.get(i)));
            }
            for (InternalIterator c : children) {
                c.close();
            }
            throw ex;
        }
    }

    /** {@link Lookup#state} of a multiGet first-pass search that stopped where it would delegate. */
    private static final int DEFERRED = -1;

    private static final MemoryNode.GetResult NOT_IN_BATCH = new MemoryNode.GetResult(0, 0, null, -1);

    /** One multiGet call's batched delegated gets. */
    private final class Batched {
        /** The key being searched. */
        int key;
        /**
         * The read choice of the whole call ({@link RemoteReadChoice}), made once: both passes must
         * choose alike for a key, or the second would not use what the first asked for.
         */
        final boolean oneSided;
        /** True while collecting (first pass): a delegated get defers the key; false: answer from {@link #answers}. */
        boolean collecting = true;
        final boolean[] deferred;
        /** The key's first-pass search stopped at a delegated get (else at a one-sided read). */
        final boolean[] delegates;
        final List<List<MemoryNode.RemoteShard>> candidates;
        List<MemoryNode.GetResult> answers;
        /** Index into {@link #answers} per key; -1 if the key was not asked for. */
        final int[] slot;
        /** Per key, where its second pass starts: layout index, sealed index (-1: from the start), bound. */
        final int[] resumeLayout;
        final int[] resumeIndex;
        final long[] resumeTomb;
        /** Per key, the one-sided read done ahead (shard, offset, bytes; null bytes if none or not served). */
        final MemoryNode.RemoteShard[] readShard;
        final int[] readOffset;
        final byte[][] readBytes;

        Batched(int n, boolean oneSided) {
            this.oneSided = oneSided;
            deferred = new boolean[n];
            delegates = new boolean[n];
            candidates = new ArrayList<>();
            slot = new int[n];
            readShard = new MemoryNode.RemoteShard[n];
            readOffset = new int[n];
            readBytes = new byte[n][];
            resumeLayout = new int[n];
            resumeIndex = new int[n];
            resumeTomb = new long[n];
            java.util.Arrays.fill(resumeIndex, -1);
        }

        void resumeAt(int layoutIndex, int sealedIndex, long tomb) {
            resumeLayout[key] = layoutIndex;
            resumeIndex[key] = sealedIndex;
            resumeTomb[key] = tomb;
        }

        /** First pass: the current key's search reached the node (a delegated get if {@code delegate}). */
        void defer(boolean delegate, Lookup out) {
            deferred[key] = true;
            delegates[key] |= delegate;
            out.state = DEFERRED;
            out.value = null;
        }

        /** The bytes read ahead at {@code offset} of {@code rs} for the current key, or null. */
        byte[] readAhead(MemoryNode.RemoteShard rs, int offset) {
            return collecting || readBytes[key] == null || readOffset[key] != offset || !rs.equals(readShard[key])
                    ? null : readBytes[key];
        }

        /**
         * Asks the node, in one MULTI_GET, for every deferred key over all of its remote-only
         * shards (those its bloom or entry table does not rule out), in the order {@link #lookup}
         * visits them.
         */
        void ask(SuperVersion cur, List<byte[]> keys, long seq, int count) {
            List<MemoryNode.KeyGet> asks = new ArrayList<>(count);
            List<MemShard> readFrom = new ArrayList<>();
            List<MemoryNode.RemoteShard> readPins = new ArrayList<>();
            List<Integer> readKeys = new ArrayList<>();
            List<Integer> readLens = new ArrayList<>();
            for (int i = 0; i < deferred.length; i++) {
                slot[i] = -1;
                if (!deferred[i]) {
                    continue;
                }
                byte[] key = keys.get(i);
                List<MemoryNode.RemoteShard> c = new ArrayList<>();
                boolean read = false;
                long hash = EntryLocations.hash(key);
                // from where the key's first pass stopped, in the order its second pass searches
                int li0 = Math.max(0, resumeLayout[i]);
                walk:
                for (int li = li0; li < cur.layouts.length; li++) {
                    ShardRanges layout = cur.layouts[li];
                    MemShard[] sealed = cur.sealed[layout.rangeOf(key)];
                    for (int si = li == li0 ? Math.max(0, resumeIndex[i]) : 0; si < sealed.length; si++) {
                        MemShard s = sealed[si];
                        MemoryNode.RemoteShard rs = s.remote;
                        if (s.layout != layout || s.reader != null || rs == null) {
                            continue;
                        }
                        EntryLocations locs = s.locations;
                        if (locs == null) {
                            if (s.bloom == null || s.bloom.mayContain(key)) {
                                c.add(rs);
                            }
                            continue;
                        }
                        if (read && !delegates[i]) {
                            break walk; // the read ahead is all this key's second pass needs first
                        }
                        long at = locs.find(hash, 0);
                        if (at == 0) {
                            continue;
                        }
                        c.add(rs);
                        int len = EntryLocations.length(at);
                        if (!read && len > 0 && !delegates[i]) {
                            // the newest cached shard naming the key most likely holds it: read it ahead
                            read = true;
                            MemoryNode.RemoteShard pinned = s.pinRemote();
                            if (pinned != null) {
                                readFrom.add(s);
                                readPins.add(pinned);
                                readKeys.add(i);
                                readLens.add(len);
                                readShard[i] = pinned;
                                readOffset[i] = EntryLocations.offset(at);
                            }
                        }
                    }
                }
                // a key that stopped at a one-sided read is answered by its read ahead (its uncached
                // shards are older); if that misses, the second pass asks by a plain delegated get
                if (delegates[i] && c.size() <= RemoteScanIterator.MAX_SHARDS_PER_SCAN) {
                    slot[i] = asks.size();
                    candidates.add(c);
                    asks.add(new MemoryNode.KeyGet(c, key));
                }
            }
            DmLink link = e.dm.link();
            try {
                if (!readPins.isEmpty()) {
                    postReads(link, readFrom, readPins, readKeys, readLens);
                }
                if (asks.isEmpty()) {
                    collecting = false;
                    return;
                }
                e.stats.multiGets.increment();
                if (link == null) {
                    throw new DmLostException("detached from the memory node", e.sv != cur);
                }
                answers = link.client().multiGet(asks, seq);
                link.succeeded();
            } catch (IOException | RuntimeException ex) {
                if (ex instanceof DmLostException d) {
                    throw d;
                }
                throw new DmLostException("delegated multiGet failed: " + ex, e.sv != cur);
            }
            if (answers.size() != asks.size()) {
                throw new IllegalStateException("memory node answered " + answers.size() + " of " + asks.size() + " keys");
            }
            collecting = false;
        }

        /** The one-sided reads ahead, posted together; the pins are released whatever happens. */
        private void postReads(DmLink link, List<MemShard> from, List<MemoryNode.RemoteShard> pins, List<Integer> keyOf,
                List<Integer> lens) {
            int n = pins.size();
            try {
                if (link == null) {
                    return;
                }
                int[] offsets = new int[n];
                int[] lengths = new int[n];
                byte[][] dsts = new byte[n][];
                for (int j = 0; j < n; j++) {
                    offsets[j] = readOffset[keyOf.get(j)];
                    lengths[j] = lens.get(j);
                    dsts[j] = new byte[lengths[j]];
                }
                boolean[] ok;
                try {
                    ok = link.client().readMany(pins, offsets, lengths, dsts);
                } catch (IOException | RuntimeException ex) {
                    return; // the second pass reads (or delegates) one by one
                }
                for (int j = 0; j < n; j++) {
                    if (ok[j]) {
                        readBytes[keyOf.get(j)] = dsts[j];
                        e.stats.cachedReads.increment();
                        e.stats.batchedReads.increment();
                    }
                }
            } finally {
                for (int j = 0; j < n; j++) {
                    e.dm.freeRemote(from.get(j).unpinRemote(pins.get(j)));
                }
            }
        }

        /**
         * What a delegated get over {@code batch} would answer for the current key, from the
         * MULTI_GET's answer over all its candidates, or null (then ask the node). The answer names
         * the first candidate holding the key; the search reaches a batch only past every candidate
         * before it, so: inside the batch, that is the batch's answer; after the batch's last shard
         * (or none), the batch holds nothing. A batch with a shard that was not a candidate (it was
         * local at the first pass), or an answer that lies before the batch or between its shards,
         * is asked for after all.
         */
        MemoryNode.GetResult answer(List<MemoryNode.RemoteShard> batch) {
            if (collecting || !deferred[key] || slot[key] < 0) {
                return null;
            }
            return answerFor(candidates.get(slot[key]), answers.get(slot[key]), batch);
        }
    }

    /**
     * {@link Batched#answer}: what a delegated get over {@code batch} answers, given {@code a}, the
     * node's answer over {@code candidates} (the batch's shards must appear among them in the same
     * order); null if that cannot be told from {@code a}.
     */
    static MemoryNode.GetResult answerFor(List<MemoryNode.RemoteShard> candidates, MemoryNode.GetResult a,
            List<MemoryNode.RemoteShard> batch) {
        int at = -1;
        boolean answerInBatch = false;
        for (MemoryNode.RemoteShard rs : batch) {
            int idx = -1;
            for (int k = at + 1; k < candidates.size(); k++) {
                if (candidates.get(k).equals(rs)) {
                    idx = k;
                    break;
                }
            }
            if (idx < 0) {
                return null; // not a candidate, or out of order
            }
            answerInBatch |= idx == a.shardIndex();
            at = idx;
        }
        if (answerInBatch) {
            return a;
        }
        // past the batch's last shard (or nowhere): the batch holds nothing; before or between its shards: ask
        return a.shardIndex() < 0 || a.shardIndex() > at ? NOT_IN_BATCH : null;
    }

    /**
     * Newest entry of {@code key} at {@code seq}: sources from newest to oldest (active shard, sealed
     * shards, L0 newest first, then one file per deeper level). A range tombstone newer than the entry
     * found, in the same or a newer source, deletes it; since newer data never sits below older data
     * for one key, the search stops at the first source holding the key or a covering tombstone.
     */
    Lookup lookup(SuperVersion cur, byte[] key, long seq, boolean fillCache, boolean verify, Lookup out) {
        return lookup(cur, key, seq, fillCache, verify, out, null);
    }

    /** {@link #lookup}; {@code mg} non-null inside multiGet (its delegated gets are batched). */
    private Lookup lookup(SuperVersion cur, byte[] key, long seq, boolean fillCache, boolean verify, Lookup out,
            Batched mg) {
        ShardRanges[] layouts = cur.layouts;
        int r = cur.layout.rangeOf(key);
        long tomb = 0;
        int li0 = 0;
        int i0 = 0;
        if (mg != null && !mg.collecting && mg.resumeIndex[mg.key] >= 0) {
            // a multiGet's second pass: from the stretch of remote-only shards where the first stopped
            // (everything newer was searched there, and found nothing), with the bound it had there
            li0 = mg.resumeLayout[mg.key];
            i0 = mg.resumeIndex[mg.key];
            tomb = mg.resumeTomb[mg.key];
            r = layouts[li0].rangeOf(key);
        } else {
            MemShard a = cur.active[r];
            if (a.hasTombstones()) {
                tomb = Math.max(tomb, a.maxCoveringTombstone(key, seq));
            }
            ShardReader ard = a.reader;
            if (ard == null) {
                // this view's active shard has since been sealed, offloaded and dropped locally (the view is
                // old: the writes went on): read again over the current view
                throw new DmLostException("the view's active shard of range " + r + " is no longer local", true);
            }
            if (resolve(ard.get(key, seq, out), tomb, out)) {
                return out;
            }
        }
        // the sealed shards of the key's range in each layout the view has, newest layout first (all
        // of a newer layout's entries are newer than an older layout's)
        for (int li = li0; li < layouts.length; li++) {
            ShardRanges layout = layouts[li];
            if (li > li0) {
                r = layout.rangeOf(key);
            }
            MemShard[] sealed = cur.sealed[r];
            for (int i = li == li0 ? i0 : 0; i < sealed.length; i++) {
                MemShard s = sealed[i];
                if (s.layout != layout) {
                    continue;
                }
                if (s.hasTombstones()) {
                    tomb = Math.max(tomb, s.maxCoveringTombstone(key, seq));
                }
                ShardReader rd = s.reader;
                if (rd != null) {
                    if (resolve(rd.get(key, seq, out), tomb, out)) {
                        return out;
                    }
                    continue;
                }
                // offloaded: the run of consecutive remote-only shards, newest first. A shard whose entry
                // locations are cached answers by a one-sided read of the entry (or, when the key is not
                // in it, with no read at all); the others, filtered by their local blooms, are searched
                // by the memory node in one delegated get per stretch between cached answers
                if (mg != null && mg.collecting) {
                    mg.resumeAt(li, i, tomb); // where a second pass starts if this stretch defers the key
                }
                List<MemoryNode.RemoteShard> batch = new ArrayList<>();
                long hash = 0;
                int j = i;
                for (; j < sealed.length && sealed[j].reader == null && sealed[j].layout == layout; j++) {
                    MemShard m = sealed[j];
                    // m's own covering tombstone joins the bound only once every newer shard has answered:
                    // a put in m newer than that tombstone must still be found in m
                    long mTomb = j > i && m.hasTombstones() ? m.maxCoveringTombstone(key, seq) : 0;
                    MemoryNode.RemoteShard rs = m.remote;
                    if (rs == null) {
                        throw new DmLostException("shard of range " + r + " is neither local nor remote", e.sv != cur);
                    }
                    EntryLocations locs = m.locations;
                    if (locs != null) {
                        if (hash == 0) {
                            hash = EntryLocations.hash(key);
                        }
                        if (locs.find(hash, 0) == 0) {
                            tomb = Math.max(tomb, mTomb);
                            continue; // not in this shard
                        }
                        if (!(mg != null ? mg.oneSided : e.readChoice.oneSided())) {
                            // delegation measures faster: the node searches this shard with the others
                            e.stats.cachedDelegated.increment();
                            tomb = Math.max(tomb, mTomb);
                            batch.add(rs);
                            continue;
                        }
                        // the newer shards of the stretch answer first
                        if (!batch.isEmpty() && delegate(cur, r, batch, key, seq, tomb, out, mg)) {
                            return out;
                        }
                        if (mg != null && mg.collecting) {
                            mg.defer(false, out); // read ahead with the other keys' reads
                            return out;
                        }
                        batch.clear();
                        tomb = Math.max(tomb, mTomb);
                        int c = readCached(m, locs, hash, key, seq, out, mg);
                        if (c == CACHED_ANSWER) {
                            e.stats.cachedGets.increment();
                            if (out.collect && out.state == Lookup.MERGE) {
                                out.unresolved = true; // the shard's older entries are on the node
                                return out;
                            }
                            if (resolve(true, tomb, out)) {
                                return out;
                            }
                        } else if (c == CACHED_DELEGATE) {
                            e.stats.cachedFallbacks.increment();
                            batch.add(rs);
                        }
                        continue;
                    }
                    tomb = Math.max(tomb, mTomb); // the batch is asked as one: newest entry across it, then the bound
                    if (m.bloom == null || m.bloom.mayContain(key)) {
                        batch.add(rs);
                    }
                }
                i = j - 1;
                if (!batch.isEmpty()) {
                    if (delegate(cur, r, batch, key, seq, tomb, out, mg)) {
                        return out;
                    }
                } else if (tomb > 0 && resolve(false, tomb, out)) {
                    return out;
                }
            }
        }
        List<FileMetaData> l0 = cur.version.files(0);
        for (int i = 0, n = l0.size(); i < n; i++) { // indexed: no iterator per get
            FileMetaData f = l0.get(i);
            if (f.mayContainUserKey(key)) {
                tomb = Math.max(tomb, searchTable(f, key, seq, fillCache, verify, out));
                if (resolve(out.state != Lookup.NOT_FOUND, tomb, out)) {
                    return out;
                }
            }
        }
        for (int level = 1; level < Version.NUM_LEVELS; level++) {
            FileMetaData f = cur.version.findFile(level, key);
            if (f != null) {
                tomb = Math.max(tomb, searchTable(f, key, seq, fillCache, verify, out));
                if (resolve(out.state != Lookup.NOT_FOUND, tomb, out)) {
                    return out;
                }
            }
        }
        out.state = Lookup.NOT_FOUND;
        out.value = null;
        return out;
    }

    /** {@link #readCached}: the entry was read ({@code out} is set). */
    private static final int CACHED_ANSWER = 0;
    /** {@link #readCached}: the shard must be asked by a delegated get. */
    private static final int CACHED_DELEGATE = 1;
    /** {@link #readCached}: the key has no point entry in the shard (every fingerprint match was another key). */
    private static final int CACHED_ABSENT = 2;

    /**
     * Reads {@code key}'s entry from an offloaded shard at the location its table holds, by one
     * one-sided read per fingerprint match (pinning the remote copy meanwhile, so a flush cannot free
     * the segment under the read).
     */
    private int readCached(MemShard m, EntryLocations locs, long hash, byte[] key, long seq, Lookup out, Batched mg) {
        DmLink link = e.dm.link();
        if (link == null) {
            return CACHED_DELEGATE;
        }
        GetScratch sc = GET_SCRATCH.get();
        for (int k = 0;; k++) {
            if (k == 0 && mg != null) {
                MemoryNode.RemoteShard rs = m.remote;
                long first = locs.find(hash, 0);
                byte[] ahead = rs == null || first == 0 ? null : mg.readAhead(rs, EntryLocations.offset(first));
                if (ahead != null) { // read with the other keys' reads
                    System.arraycopy(ahead, 0, sc.fetchBuffer(ahead.length), 0, ahead.length);
                    int d = FetchedNode.decode(sc.fetchView, ahead.length, key, seq, out);
                    if (d == FetchedNode.MATCH) {
                        return CACHED_ANSWER;
                    }
                    if (d == FetchedNode.OTHER_KEY) {
                        continue;
                    }
                    return CACHED_DELEGATE;
                }
            }
            long slot = locs.find(hash, k);
            if (slot == 0) {
                // every match held another key (fingerprint collisions): the table holds every key of
                // the shard that has a point entry, so this one has none there
                return CACHED_ABSENT;
            }
            int len = EntryLocations.length(slot);
            if (len == 0) {
                return CACHED_DELEGATE; // a node too long for the table's slot
            }
            MemoryNode.RemoteShard rs = m.pinRemote();
            if (rs == null) {
                return CACHED_DELEGATE; // flushed or forgotten meanwhile: the delegated path sorts it out
            }
            boolean read;
            byte[] buf = sc.fetchBuffer(len);
            try {
                e.stats.cachedReads.increment();
                long t0 = System.nanoTime();
                read = link.client().read(rs, EntryLocations.offset(slot), len, buf);
                if (read) {
                    e.readChoice.oneSidedTook(System.nanoTime() - t0);
                }
            } catch (IOException | RuntimeException ex) {
                read = false; // the delegated get tells a lost node from a slow read
            } finally {
                e.dm.freeRemote(m.unpinRemote(rs));
            }
            if (!read) {
                return CACHED_DELEGATE;
            }
            switch (FetchedNode.decode(sc.fetchView, len, key, seq, out)) {
                case FetchedNode.MATCH:
                    return CACHED_ANSWER;
                case FetchedNode.OTHER_KEY:
                    continue;
                default:
                    return CACHED_DELEGATE; // newer than the snapshot (an older entry may follow), or damaged
            }
        }
    }

    /** One delegated get over {@code batch} (newest first); true if the search can stop ({@code out} set). */
    private boolean delegate(SuperVersion cur, int range, List<MemoryNode.RemoteShard> batch, byte[] key, long seq,
            long tomb, Lookup out, Batched mg) {
        if (mg != null && mg.collecting) {
            mg.defer(true, out); // asked with the other keys; searched again once answered
            return true;
        }
        MemoryNode.GetResult g = mg == null ? null : mg.answer(batch);
        e.flushes.remoteRead(range, 1);
        if (g != null) {
            e.stats.batchedGets.increment();
        } else {
            try {
                e.stats.delegatedGets.increment();
                DmLink link = e.dm.link();
                long t0 = System.nanoTime();
                g = link.client().get(batch, key, seq);
                e.readChoice.delegatedTook(System.nanoTime() - t0);
                link.succeeded();
            } catch (IOException | RuntimeException ex) {
                // a flush may have freed the segment after this view was pinned: then just retry
                throw new DmLostException("delegated get failed: " + ex, e.sv != cur);
            }
        }
        if (out.collect && g.state() == Lookup.MERGE) {
            out.unresolved = true; // the node answers only the newest operand
            return true;
        }
        if (out.operandCount > 0 && g.state() == Lookup.NOT_FOUND) {
            return resolve(false, tomb, out); // the operands collected stay
        }
        out.state = g.state();
        out.sequence = g.sequence();
        out.value = g.value();
        return resolve(g.state() != Lookup.NOT_FOUND, tomb, out);
    }

    /** Looks {@code key} up in one table; returns its covering tombstone sequence (0 if none). */
    private long searchTable(FileMetaData f, byte[] key, long seq, boolean fillCache, boolean verify, Lookup out) {
        TableCache.Handle h = e.tableCache.acquire(f.number);
        try {
            long tomb = 0;
            for (RangeTombstone t : h.reader.rangeTombstones()) {
                if (t.sequence <= seq && t.sequence > tomb && t.covers(key)) {
                    tomb = t.sequence;
                }
            }
            if (out.operandCount == 0) {
                out.state = Lookup.NOT_FOUND; // collecting, the state is the operands' (MERGE) unless a base is found
            }
            TableReader r = h.reader;
            if (e.stats.enabled && r.hasFilter()) { // the bloom check counted here, then not repeated
                e.stats.bloomChecked.increment();
                if (!r.mayContain(key)) {
                    e.stats.bloomUseful.increment();
                    return tomb;
                }
                r.getAfterFilter(key, seq, out, fillCache, verify);
            } else {
                r.get(key, seq, out, fillCache, verify);
            }
            return tomb;
        } finally {
            h.release();
        }
    }

    /**
     * Applies the tombstone bound to a source's answer; true if the search can stop. A key deleted by
     * a range tombstone reports the tombstone's sequence: the newest entry deciding its state (what a
     * transaction's conflict check compares).
     */
    private static boolean resolve(boolean found, long tomb, Lookup out) {
        if (out.operandCount > 0) { // collecting a merge's operands, newest first
            if (tomb > 0) {
                if (out.cutOperandsBelow(tomb) || out.state == Lookup.MERGE
                        || (out.state == Lookup.FOUND && out.sequence < tomb)) {
                    out.state = Lookup.DELETED; // the bound ends the operands: they sit on nothing
                    out.value = null;
                }
                return true;
            }
            return out.state != Lookup.MERGE; // a base ends the search; operands alone go on to older sources
        }
        if (found && out.state != Lookup.NOT_FOUND) {
            if (out.sequence < tomb) {
                out.state = Lookup.DELETED;
                out.value = null;
                out.sequence = tomb;
            }
            return true;
        }
        if (tomb > 0) {
            out.state = Lookup.DELETED; // everything older is covered
            out.value = null;
            out.sequence = tomb;
            return true;
        }
        return false;
    }

    /**
     * A stored value as a read returns it: with a time to live, null if expired at
     * {@code nowMillis}, else without its stamp; as it is otherwise. Snapshot reads too decide expiry
     * by the current clock (as RocksDB's DBWithTTL).
     */
    private static byte[] unstamp(byte[] stored, long ttlMillis, long nowMillis) {
        if (stored == null || ttlMillis <= 0) {
            return stored;
        }
        return TtlStamp.expired(TtlStamp.writeTime(stored), ttlMillis, nowMillis) ? null : TtlStamp.strip(stored);
    }

    DBIterator iterator(ReadOptions ro) {
        if (e.ttlMillis > 0) {
            long now = e.options.clock().getAsLong();
            return new TtlIterator(untimedIterator(ro), e.ttlMillis, now);
        }
        return untimedIterator(ro);
    }

    private DBIterator untimedIterator(ReadOptions ro) {
        for (int attempt = 1;; ) {
            try {
                return iteratorOnce(ro);
            } catch (DmLostException ex) {
                attempt = retryAfter(ex, attempt);
            }
        }
    }

    /**
     * A read failed on the memory node: a stale view is just read again; otherwise {@link
     * DmRecovery#failed} decides (slow request: read again; lost node: rebuild, then read again).
     * Returns the attempt number for the next failure.
     */
    private int retryAfter(DmLostException ex, int attempt) {
        if (e.closing || e.closed) {
            // close forgets the node's copies of unflushed shards (DmOffloader.freeHeld) and detaches: a
            // read retried now finds its shards neither local nor remote, and would retry forever
            throw new io.o3lsm.DBClosedException("DB " + e.dir + " closed while a read was waiting for the memory node");
        }
        if (ex.stale) {
            return attempt;
        }
        return e.dmRecovery.failed(ex, attempt) ? 1 : attempt + 1;
    }

    private DBIterator iteratorOnce(ReadOptions ro) {
        if (ro == null) {
            throw new IllegalArgumentException("read options must not be null");
        }
        e.checkOpen();
        long[] seqOut = new long[1];
        SuperVersion cur = pin(ro, seqOut);
        if (hasRemote(cur)) {
            cur.unref();
            return refreshingIterator(ro);
        }
        long seq = seqOut[0];
        List<RangeTombstone> tombs = new ArrayList<>();
        InternalIterator merged;
        try {
            merged = build(cur, seq, ro, tombs).iterator();
        } catch (RuntimeException | Error ex) {
            cur.unref();
            throw ex;
        }
        RangeTombstoneSet set = RangeTombstoneSet.build(tombs, seq);
        return new DBIter(cur, merged, seq, set, ro.lowerBound(), ro.upperBound(), () -> e.closed || e.closing,
                e.options.mergeOperator());
    }

    /** True if some sealed shard of the view is held only by the memory node. */
    private static boolean hasRemote(SuperVersion sv) {
        for (MemShard[] range : sv.sealed) {
            for (MemShard s : range) {
                if (s.reader == null) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * An iterator over a view with shards only the memory node holds: it holds its sequence as a
     * snapshot (pinned and read under the mutex, together) and moves to a newer view at a seek once
     * a flush has installed ({@link RefreshingIterator}), so flushed shards stop costing the node.
     */
    private DBIterator refreshingIterator(ReadOptions ro) {
        SuperVersion cur;
        long seq;
        long flushes;
        e.mutex.lock();
        try {
            // the mutex keeps flushes from swapping the view meanwhile; the leader swaps it before it
            // publishes a sequence, so the view holds everything up to the sequence read after it
            e.snapshots.awaitFilteredInstall(); // its held sequence is a snapshot's (VersionInstaller)
            cur = e.acquireSv();
            try {
                seq = e.snapshots.readSequence(ro);
            } catch (RuntimeException ex) {
                cur.unref();
                throw ex;
            }
            e.snapshots.hold(seq);
            flushes = e.flushInstalls;
        } finally {
            e.mutex.unlock();
        }
        long held = seq;
        List<RangeTombstone> tombs = new ArrayList<>();
        RefreshingIterator.Built first;
        try {
            first = build(cur, seq, ro, tombs);
        } catch (RuntimeException | Error ex) {
            cur.unref();
            e.snapshots.unhold(held);
            throw ex;
        }
        RangeTombstoneSet set;
        try {
            set = RangeTombstoneSet.build(tombs, seq);
        } catch (RuntimeException | Error ex) {
            first.iterator().close();
            cur.unref();
            e.snapshots.unhold(held);
            throw ex;
        }
        // rebuilds collect no tombstones: those of the first view stay true at the sequence
        RefreshingIterator inner = new RefreshingIterator(e, cur, first, flushes, sv -> build(sv, seq, ro, null),
                () -> e.snapshots.unhold(held));
        return new DBIter(null, inner, seq, set, ro.lowerBound(), ro.upperBound(), () -> e.closed || e.closing,
                e.options.mergeOperator());
    }

    /**
     * The merged children of an iterator over {@code cur} at {@code seq} (the view stays pinned by the
     * caller); adds every range tombstone of the view to {@code tombs} (null: collects none). Closes
     * what it opened if it throws.
     */
    private RefreshingIterator.Built build(SuperVersion cur, long seq, ReadOptions ro, List<RangeTombstone> tombs) {
        List<InternalIterator> children = new ArrayList<>();
        try {
            if (tombs != null) {
                cur.collectMemTombstones(tombs);
            }
            List<MemShard> offloaded = new ArrayList<>();
            List<MemoryNode.RemoteShard> pinned = new ArrayList<>();
            try {
                for (int r = 0; r < cur.active.length; r++) {
                    ShardReader ard = cur.active[r].reader;
                    if (ard == null) { // sealed, offloaded and dropped since the view was pinned: build again
                        throw new DmLostException("the view's active shard of range " + r + " is no longer local", true);
                    }
                    children.add(ard.iterator());
                    for (MemShard s : cur.sealed[r]) {
                        addSealed(cur, r, s, children, offloaded, pinned);
                    }
                }
            } catch (RuntimeException ex) {
                for (int i = 0; i < pinned.size(); i++) {
                    e.dm.freeRemote(offloaded.get(i).unpinRemote(pinned.get(i)));
                }
                throw ex;
            }
            if (!offloaded.isEmpty()) {
                children.add(e.dm.offloadedShardsIterator(offloaded, pinned));
            }
            for (int level = 0; level < Version.NUM_LEVELS; level++) {
                List<FileMetaData> files = cur.version.files(level);
                for (int i = 0; tombs != null && i < files.size(); i++) {
                    TableCache.Handle h = e.tableCache.acquire(files.get(i).number);
                    try {
                        tombs.addAll(h.reader.rangeTombstones());
                    } finally {
                        h.release();
                    }
                }
                if (files.isEmpty()) {
                    continue;
                }
                if (level == 0) {
                    for (FileMetaData f : files) {
                        children.add(new LevelIterator(e.tableCache, List.of(f), ro.fillCache(), ro.verifyChecksums()));
                    }
                } else {
                    children.add(new LevelIterator(e.tableCache, files, ro.fillCache(), ro.verifyChecksums()));
                }
            }
            return new RefreshingIterator.Built(new MergingIterator(children), !offloaded.isEmpty());
        } catch (RuntimeException | Error ex) {
            for (InternalIterator c : children) {
                c.close();
            }
            throw ex;
        }
    }
}
