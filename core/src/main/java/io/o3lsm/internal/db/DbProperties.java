package io.o3lsm.internal.db;

import io.o3lsm.DBStats;
import io.o3lsm.HistogramSnapshot;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code DB.property} and {@code DB.stats}: the level shape from the current version, the counters
 * ({@link EngineStats}) and the memory account. Reads the version without a lock; takes the mutex
 * for the memtable view and the memory account. Properties that need table properties
 * ({@code o3.estimate-num-keys}, {@code o3.aggregated-table-properties},
 * {@code o3.compression-ratio-at-level<N>}) open the live tables through the table cache.
 *
 * <p>Names are RocksDB's with the {@code o3.} prefix where RocksDB has one (docs/operations/metrics.md
 * lists every name). An unknown name is a caller mistake: {@link IllegalArgumentException} naming it
 * and listing the known ones; a {@code rocksdb.} name is told its {@code o3.} spelling.
 */
final class DbProperties {
    /** Level-parameterized names: the name, then a level number 0..{@code Version.NUM_LEVELS - 1}. */
    static final String NUM_FILES_AT_LEVEL = "o3.num-files-at-level";
    static final String COMPRESSION_RATIO_AT_LEVEL = "o3.compression-ratio-at-level";

    /** Every property name (the level-parameterized ones with {@code <N>}) and what it answers. */
    static final Map<String, String> KNOWN;

    static {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("o3.stats", "human-readable statistics: levels, bytes, flushes, compactions, stalls, cache, tickers, histograms");
        k.put("o3.levelstats", "files and MB per level, as a table");
        k.put("o3.sstables", "every live SST per level: number, bytes, sequence range");
        k.put(NUM_FILES_AT_LEVEL + "<N>", "live SST files at level N");
        k.put(COMPRESSION_RATIO_AT_LEVEL + "<N>", "raw key+value bytes / file bytes of level N's SSTs; -1.0 when the level is empty");
        k.put("o3.estimate-num-keys", "estimated keys: memtable entries plus SST entries, minus twice the deletions");
        k.put("o3.total-sst-files-size", "bytes of every SST some live version (or reader) still uses, and those awaiting deletion");
        k.put("o3.live-sst-files-size", "bytes of the SSTs of the current version");
        k.put("o3.estimate-live-data-size", "bytes of SSTs counted from the bottom level up, skipping files whose keys a deeper counted file covers");
        k.put("o3.cur-size-active-mem-table", "bytes used in the active memtable shards");
        k.put("o3.cur-size-all-mem-tables", "bytes of memtable arenas in this process's account (active and sealed, unflushed)");
        k.put("o3.size-all-mem-tables", "as cur-size-all-mem-tables, plus released arenas old readers still pin (awaiting GC)");
        k.put("o3.num-immutable-mem-table", "sealed memtable shards not yet flushed (local or on the memory node)");
        k.put("o3.num-entries-active-mem-table", "entries in the active memtable shards");
        k.put("o3.num-entries-imm-mem-tables", "entries in sealed shards held locally");
        k.put("o3.estimate-pending-compaction-bytes", "bytes compactions would rewrite to bring every level within its target");
        k.put("o3.num-running-compactions", "compactions running now (background, and compactRange calls in progress)");
        k.put("o3.num-running-flushes", "flushes running now");
        k.put("o3.compaction-pending", "1 if some level is over its compaction trigger or target, else 0");
        k.put("o3.is-write-stopped", "1 if L0 is at its stop trigger (writes wait for compaction), else 0");
        k.put("o3.background-errors", "1 once a background failure has stopped writes (until reopened), else 0");
        k.put("o3.background-error", "the background failure's message, or none");
        k.put("o3.block-cache-usage", "bytes charged to the block cache");
        k.put("o3.block-cache-capacity", "the block cache's capacity in bytes (0: no cache)");
        k.put("o3.block-cache-entries", "blocks in the block cache");
        k.put("o3.num-snapshots", "snapshots open (DB.snapshot, transactions' own)");
        k.put("o3.oldest-snapshot-time", "creation time of the oldest open snapshot, Unix seconds; 0 when none");
        k.put("o3.oldest-snapshot-sequence", "sequence of the oldest open snapshot; 0 when none");
        k.put("o3.base-level", "the level L0 compacts into (always 1: levels are not dynamic)");
        k.put("o3.num-live-versions", "0: versions are not exposed (placeholder for RocksDB's name)");
        k.put("o3.aggregated-table-properties", "sums over live SSTs: data blocks, entries, deletions, range deletions, raw key/value bytes, data/index/filter bytes");
        k.put("o3.last-sequence", "the last sequence number visible to readers");
        k.put("o3.statistics-enabled", "true unless opened with Options.statistics(false)");
        k.put("o3.merges", "the merge operator's name, gets that combined operands, how many needed an iterator");
        k.put("o3.dm", "DM mode state and counters (mode=embedded without a memory node)");
        k.put("o3.shards", "the memtable shard layout: generation, boundaries, inserts per range");
        k.put("o3.replication", "a replication primary's backups (listen=none when not a primary)");
        k.put("o3.replica", "a replica's applier state (role=primary, or role=read-only, on a DB that is not a replica)");
        k.put("o3.replica.appliedSequence", "a replica's applied sequence (a primary: its last sequence)");
        KNOWN = Collections.unmodifiableMap(k);
    }

    private final Engine e;

    DbProperties(Engine e) {
        this.e = e;
    }

    /** The error for a name not in {@link #KNOWN} (or a level out of range). */
    private static IllegalArgumentException unknown(String name, String why) {
        String hint = "";
        if (name.startsWith("rocksdb.")) {
            String o3 = "o3." + name.substring("rocksdb.".length());
            hint = "; o3lsm spells RocksDB's properties with the o3. prefix: try " + o3;
        }
        return new IllegalArgumentException("unknown property " + name + (why == null ? "" : " (" + why + ")") + hint
                + "; known: " + KNOWN.keySet());
    }

    /** The level of a level-parameterized {@code name} (after {@code prefix}), checked. */
    private static int level(String name, String prefix) {
        String n = name.substring(prefix.length());
        try {
            int level = Integer.parseInt(n);
            if (level >= 0 && level < Version.NUM_LEVELS) {
                return level;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw unknown(name, "the level must be 0.." + (Version.NUM_LEVELS - 1));
    }

    String property(String name) {
        if (name == null) {
            throw new IllegalArgumentException("property name must not be null");
        }
        e.checkOpen();
        Version v = e.versions.current();
        if (name.equals("o3.stats")) {
            return formatStats(stats());
        }
        if (name.startsWith(NUM_FILES_AT_LEVEL)) {
            return Integer.toString(v.numFiles(level(name, NUM_FILES_AT_LEVEL)));
        }
        if (name.startsWith(COMPRESSION_RATIO_AT_LEVEL)) {
            return compressionRatio(v, level(name, COMPRESSION_RATIO_AT_LEVEL));
        }
        String answer = engineProperty(name, v);
        if (answer != null) {
            return answer;
        }
        if (name.equals("o3.replica.appliedSequence")) {
            return Long.toString(e.lastSequence);
        }
        if (name.equals("o3.replica")) {
            return e.replicaApplier == null ? (e.readOnly ? "role=read-only" : "role=primary")
                    : e.replicaApplier.describe() + " tableBytesReceived="
                    + e.stats.replicaTableBytes.sum() + " logBytesApplied=" + e.stats.replicaLogBytes.sum()
                    + " flushes=" + e.stats.flushes.sum() + " compactions=" + e.stats.compactions.sum();
        }
        if (name.equals("o3.replication")) {
            ReplicationSource r = e.replication;
            if (r == null) {
                return "listen=none";
            }
            StringBuilder sb = new StringBuilder("listen=").append(r.address()).append(" epoch=")
                    .append(e.versions.epoch()).append(" backups=[");
            String sep = "";
            for (io.o3lsm.spi.Replication.BackupStatus b : r.backups()) {
                sb.append(sep).append(b.name()).append(b.live() ? " live" : " catching-up").append(" acked=")
                        .append(b.ackedTicket()).append(" bytesSent=").append(b.bytesSent())
                        .append(b.fenced() ? " FENCED" : "");
                sep = ", ";
            }
            return sb.append(']').toString();
        }
        if (name.equals("o3.merges")) {
            io.o3lsm.MergeOperator op = e.options.mergeOperator();
            return "operator=" + (op == null ? "none" : e.mergeOperatorName()) + " mergeGets=" + e.stats.mergeGets.sum()
                    + " iteratorGets=" + e.stats.mergeIteratorGets.sum();
        }
        if (name.equals("o3.dm")) {
            DmLink link = e.dm.link();
            if (link == null) {
                return "mode=embedded";
            }
            int remoteOnly = 0;
            int offloaded = 0;
            int sealed = 0;
            e.mutex.lock();
            try {
                for (MemShard[] list : e.sv.sealed) {
                    for (MemShard m : list) {
                        sealed++;
                        if (m.remote != null) {
                            offloaded++;
                        }
                        if (!m.isLocal()) {
                            remoteOnly++;
                        }
                    }
                }
            } finally {
                e.mutex.unlock();
            }
            return "mode=dm attached=" + link.connected() + " dmBytes=" + link.used() + " sealedShards=" + sealed
                    + " offloadedShards=" + offloaded
                    + " remoteOnlyShards=" + remoteOnly + " offloads=" + e.stats.offloads.sum() + " offloadBytes="
                    + e.stats.offloadBytes.sum() + " delegatedGets=" + e.stats.delegatedGets.sum() + " delegatedScans=" + e.stats.delegatedScans.sum()
                    + " scanBatchesAhead=" + e.stats.scanBatchesAhead.sum()
                    + " multiGets=" + e.stats.multiGets.sum() + " batchedGets=" + e.stats.batchedGets.sum()
                    + " batchedReads=" + e.stats.batchedReads.sum()
                    + " cachedGets=" + e.stats.cachedGets.sum() + " cachedReads=" + e.stats.cachedReads.sum()
                    + " cachedFallbacks=" + e.stats.cachedFallbacks.sum()
                    + " cachedDelegated=" + e.stats.cachedDelegated.sum() + " oneSidedMicros="
                    + e.readChoice.oneSidedNanos() / 1000 + " delegatedMicros=" + e.readChoice.delegatedNanos() / 1000 + " readCacheTables=" + e.readCache.tables()
                    + " readCacheBytes=" + e.readCache.usedBytes() + " readCacheEvicted=" + e.readCache.evicted()
                    + " droppedLocal="
                    + e.stats.droppedLocal.sum() + " rebuiltFromWal=" + e.stats.rebuilt.sum() + " orphanOutputsDeleted=" + e.stats.orphanOutputsDeleted.sum();
        }
        if (name.equals("o3.shards")) {
            // the current layout: generation, boundaries, and per range the point entries inserted under it
            ShardRanges l = e.ranges;
            StringBuilder sb = new StringBuilder("layout=").append(l.generation).append(" layoutChanges=")
                    .append(e.stats.layoutChanges.sum()).append(" adaptive=").append(e.memtables.adaptive != null)
                    .append(" inserts=[");
            for (int r = 0; r < l.count(); r++) {
                sb.append(r == 0 ? "" : ",").append(l.inserts(r));
            }
            sb.append("] boundaries=[");
            java.util.List<byte[]> bs = l.boundaries();
            for (int i = 0; i < bs.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(io.o3lsm.internal.util.Bytes.printable(bs.get(i)));
            }
            return sb.append(']').toString();
        }
        if (name.equals("o3.sstables")) {
            StringBuilder sb = new StringBuilder();
            for (int l = 0; l < Version.NUM_LEVELS; l++) {
                sb.append("--- level ").append(l).append(" ---\n");
                for (FileMetaData f : v.files(l)) {
                    sb.append(' ').append(f.number).append(": ").append(f.size).append(" bytes, seq ")
                            .append(f.smallestSeq).append("..").append(f.largestSeq).append('\n');
                }
            }
            return sb.toString();
        }
        throw unknown(name, null);
    }

    /** The properties answered from engine state; null for a name that is not one of them. */
    private String engineProperty(String name, Version v) {
        switch (name) {
            case "o3.levelstats": {
                StringBuilder sb = new StringBuilder("Level Files Size(MB)\n--------------------\n");
                for (int l = 0; l < Version.NUM_LEVELS; l++) {
                    sb.append(String.format("%3d %8d %8.0f%n", l, v.numFiles(l), v.levelBytes(l) / 1048576.0));
                }
                return sb.toString();
            }
            case "o3.estimate-num-keys": {
                long keys = memtableEntries(true) + memtableEntries(false);
                long deletions = 0;
                for (TableProperties p : tableProperties(v, -1)) {
                    keys += p.numEntries();
                    deletions += p.numDeletions();
                }
                return Long.toString(Math.max(0, keys - 2 * deletions));
            }
            case "o3.live-sst-files-size": {
                long sum = 0;
                for (int l = 0; l < Version.NUM_LEVELS; l++) {
                    sum += v.levelBytes(l);
                }
                return Long.toString(sum);
            }
            case "o3.total-sst-files-size":
                return Long.toString(totalSstBytes());
            case "o3.estimate-live-data-size":
                return Long.toString(liveDataSize(v));
            case "o3.cur-size-active-mem-table": {
                long used = 0;
                SuperVersion sv = e.acquireSv();
                try {
                    for (MemShard m : sv.active) {
                        if (m != null && m.shard != null) {
                            used += m.shard.usedBytes();
                        }
                    }
                } finally {
                    sv.unref();
                }
                return Long.toString(used);
            }
            case "o3.cur-size-all-mem-tables":
            case "o3.size-all-mem-tables": {
                e.mutex.lock();
                try {
                    long used = e.memtables.used();
                    return Long.toString(name.equals("o3.size-all-mem-tables") ? used + e.memtables.bytesAwaitingGc()
                            : used);
                } finally {
                    e.mutex.unlock();
                }
            }
            case "o3.num-immutable-mem-table": {
                SuperVersion sv = e.acquireSv();
                try {
                    int n = 0;
                    for (MemShard[] list : sv.sealed) {
                        n += list.length;
                    }
                    return Integer.toString(n);
                } finally {
                    sv.unref();
                }
            }
            case "o3.num-entries-active-mem-table":
                return Long.toString(memtableEntries(true));
            case "o3.num-entries-imm-mem-tables":
                return Long.toString(memtableEntries(false));
            case "o3.estimate-pending-compaction-bytes":
                return Long.toString(e.compactions.pendingBytes());
            case "o3.num-running-compactions":
            case "o3.num-running-flushes": {
                e.mutex.lock();
                try {
                    return Integer.toString(name.equals("o3.num-running-flushes") ? e.flushes.running()
                            : e.compactions.running());
                } finally {
                    e.mutex.unlock();
                }
            }
            case "o3.compaction-pending": {
                boolean pending = v.l0Depth() >= e.options.level0CompactionTrigger()
                        || e.compactions.pendingBytes() > 0;
                return pending ? "1" : "0";
            }
            case "o3.is-write-stopped":
                return v.l0Depth() >= e.options.level0StopTrigger() ? "1" : "0";
            case "o3.background-errors":
                return e.bgError == null ? "0" : "1";
            case "o3.background-error": {
                Throwable t = e.bgError;
                return t == null ? "none" : String.valueOf(t.getMessage());
            }
            case "o3.block-cache-usage":
                return Long.toString(e.blockCache == null ? 0 : e.blockCache.usage());
            case "o3.block-cache-capacity":
                return Long.toString(e.blockCache == null ? 0 : e.blockCache.capacity());
            case "o3.block-cache-entries":
                return Long.toString(e.blockCache == null ? 0 : e.blockCache.entries());
            case "o3.num-snapshots":
            case "o3.oldest-snapshot-time":
            case "o3.oldest-snapshot-sequence": {
                e.mutex.lock();
                try {
                    return switch (name) {
                        case "o3.num-snapshots" -> Integer.toString(e.snapshots.count());
                        case "o3.oldest-snapshot-time" -> Long.toString(e.snapshots.oldestCreatedMillis() / 1000);
                        default -> Long.toString(e.snapshots.oldestSequence());
                    };
                } finally {
                    e.mutex.unlock();
                }
            }
            case "o3.base-level":
                return "1";
            case "o3.num-live-versions":
                return "0";
            case "o3.aggregated-table-properties":
                return aggregated(tableProperties(v, -1));
            case "o3.last-sequence":
                return Long.toString(e.lastSequence);
            case "o3.statistics-enabled":
                return Boolean.toString(e.stats.enabled);
            default:
                return null;
        }
    }

    /** Entries in the active shards ({@code active}) or in the sealed shards held locally. */
    private long memtableEntries(boolean active) {
        long n = 0;
        SuperVersion sv = e.acquireSv();
        try {
            if (active) {
                for (MemShard m : sv.active) {
                    if (m != null && m.shard != null) {
                        n += m.shard.entryCount();
                    }
                }
            } else {
                for (MemShard[] list : sv.sealed) {
                    for (MemShard m : list) {
                        io.o3lsm.format.memtable.MemtableShard s = m.shard;
                        if (m.isLocal() && s != null) {
                            n += s.entryCount();
                        }
                    }
                }
            }
        } finally {
            sv.unref();
        }
        return n;
    }

    /** The properties of the live tables at {@code level} (-1: every level), opened through the table cache. */
    private List<TableProperties> tableProperties(Version v, int level) {
        List<TableProperties> out = new ArrayList<>();
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            if (level >= 0 && l != level) {
                continue;
            }
            for (FileMetaData f : v.files(l)) {
                TableCache.Handle h = e.tableCache.acquire(f.number);
                try {
                    out.add(h.reader.properties());
                } finally {
                    h.release();
                }
            }
        }
        return out;
    }

    private String compressionRatio(Version v, int level) {
        long raw = 0;
        long file = 0;
        for (TableProperties p : tableProperties(v, level)) {
            raw += p.rawKeyBytes() + p.rawValueBytes();
            file += p.fileSize();
        }
        return file == 0 ? "-1.0" : Double.toString((double) raw / file);
    }

    private static String aggregated(List<TableProperties> ps) {
        long blocks = 0, entries = 0, deletions = 0, rangeDeletions = 0, rawKey = 0, rawValue = 0, data = 0, index = 0,
                filter = 0;
        for (TableProperties p : ps) {
            blocks += p.numDataBlocks();
            entries += p.numEntries();
            deletions += p.numDeletions();
            rangeDeletions += p.numRangeDeletions();
            rawKey += p.rawKeyBytes();
            rawValue += p.rawValueBytes();
            data += p.dataBytes();
            index += p.indexBytes();
            filter += p.filterBytes();
        }
        return "# tables=" + ps.size() + "; # data blocks=" + blocks + "; # entries=" + entries + "; # deletions="
                + deletions + "; # range deletions=" + rangeDeletions + "; raw key size=" + rawKey
                + "; raw value size=" + rawValue + "; data block size=" + data + "; index block size=" + index
                + "; filter block size=" + filter;
    }

    /** Bytes of every table a live version uses, or waiting for deletion (sizes from the file system). */
    private long totalSstBytes() {
        Set<Long> numbers;
        e.mutex.lock();
        try {
            numbers = e.versions.liveFiles();
            numbers.addAll(e.obsolete.pendingDeletion());
        } finally {
            e.mutex.unlock();
        }
        long sum = 0;
        for (long n : numbers) {
            try {
                sum += e.fs.size(e.dir.resolve(FileNames.table(n)));
            } catch (IOException ex) {
                // deleted meanwhile: no longer counts
            }
        }
        return sum;
    }

    /**
     * RocksDB's estimate of the live data: from the bottom level up, a file counts unless a file
     * already counted (deeper: newer data was compacted there) covers its whole key range.
     */
    private static long liveDataSize(Version v) {
        List<FileMetaData> counted = new ArrayList<>();
        long size = 0;
        for (int l = Version.NUM_LEVELS - 1; l >= 0; l--) {
            for (FileMetaData f : v.files(l)) {
                boolean covered = false;
                for (FileMetaData c : counted) {
                    if (java.util.Arrays.compareUnsigned(c.smallestUserKey(), f.smallestUserKey()) <= 0
                            && java.util.Arrays.compareUnsigned(c.largestUserKey(), f.largestUserKey()) >= 0) {
                        covered = true;
                        break;
                    }
                }
                if (!covered) {
                    size += f.size;
                    counted.add(f);
                }
            }
        }
        return size;
    }

    private String formatStats(DBStats st) {
        StringBuilder sb = new StringBuilder();
        sb.append("Level  Files  Size(MB)\n");
        for (int l = 0; l < st.levels(); l++) {
            sb.append(String.format("  L%d  %5d  %9.2f%n", l, st.filesAtLevel(l), st.bytesAtLevel(l) / 1048576.0));
        }
        sb.append(String.format("user bytes written: %d, WAL: %d, flush: %d, compaction read/written: %d/%d%n",
                st.userBytesWritten(), st.walBytesWritten(), st.flushBytesWritten(), st.compactionBytesRead(),
                st.compactionBytesWritten()));
        sb.append(String.format("write amplification: %.2f%n", st.writeAmplification()));
        sb.append(String.format("flushes: %d, compactions: %d, stall: %.3f s%n", st.flushes(), st.compactions(),
                st.stallMicros() / 1e6));
        sb.append(String.format("flushes by place: local %d, offloaded %d, fallback %d, refused results %d%n",
                st.flushesLocal(), st.flushesOffloaded(), st.flushesFallback(), st.offloadResultsRefused()));
        sb.append(String.format("compactions by place: local %d, offloaded %d, fallback %d, refused results %d%n",
                st.compactionsLocal(), st.compactionsOffloaded(), st.compactionsFallback(),
                st.compactionResultsRefused()));
        sb.append(String.format("sub-compactions: %d compactions split into %d parts%n",
                e.stats.splitCompactions.sum(), e.stats.subcompactions.sum()));
        sb.append(String.format("block cache: %d hits, %d misses, hit ratio %.3f%n", st.blockCacheHits(),
                st.blockCacheMisses(), st.blockCacheHitRatio()));
        sb.append(String.format("memtable: %d bytes (released, awaiting GC: %d bytes)%n", st.memtableBytes(),
                e.memtables.bytesAwaitingGc()));
        sb.append(String.format("counters since open at %s; statistics %s%n",
                java.time.Instant.ofEpochMilli(st.openedAtMillis()), st.statisticsEnabled() ? "enabled"
                        : "disabled (Options.statistics(false)): per-operation tickers and histograms are not kept"));
        sb.append("tickers:\n");
        for (Map.Entry<String, Long> t : st.tickers().entrySet()) {
            sb.append("  ").append(t.getKey()).append(" COUNT : ").append(t.getValue()).append('\n');
        }
        sb.append("histograms (microseconds):\n");
        for (HistogramSnapshot h : st.histograms().values()) {
            sb.append(String.format("  %s P50 : %.2f P95 : %.2f P99 : %.2f MAX : %.2f COUNT : %d SUM : %.0f%n", h.name(),
                    h.p50(), h.p95(), h.p99(), h.max(), h.count(), h.sum()));
        }
        return sb.toString();
    }

    DBStats stats() {
        e.checkOpen();
        Version v = e.versions.current();
        int[] files = new int[Version.NUM_LEVELS];
        long[] bytes = new long[Version.NUM_LEVELS];
        for (int l = 0; l < Version.NUM_LEVELS; l++) {
            files[l] = v.numFiles(l);
            bytes[l] = v.levelBytes(l);
        }
        long mem;
        e.mutex.lock();
        try {
            mem = e.memtables.used();
        } finally {
            e.mutex.unlock();
        }
        return new DBStats(files, bytes, e.stats.userBytes.sum(), e.stats.walBytes.sum(),
                e.stats.flushBytes.sum(), e.stats.compactionBytesRead.sum(), e.stats.compactionBytesWritten.sum(),
                e.stats.flushes.sum(), e.stats.compactions.sum(), e.stats.stallNanos.sum() / 1000,
                e.blockCache == null ? 0 : e.blockCache.hits(), e.blockCache == null ? 0 : e.blockCache.misses(), mem,
                e.stats.flushesLocal.sum(), e.stats.flushesOffloaded.sum(), e.stats.flushesFallback.sum(),
                e.stats.offloadResultsRefused.sum(), e.stats.compactionsLocal.sum(), e.stats.compactionsOffloaded.sum(),
                e.stats.compactionsFallback.sum(), e.stats.compactionResultsRefused.sum(), e.stats.tickers(e),
                e.stats.histograms(), e.stats.enabled, e.stats.openedAtMillis);
    }
}
