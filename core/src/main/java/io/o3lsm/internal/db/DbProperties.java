package io.o3lsm.internal.db;

import io.o3lsm.DBStats;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.internal.version.Version;

/**
 * {@code DB.property} and {@code DB.stats}: the level shape from the current version, the counters
 * ({@link EngineStats}) and the memory account. Reads the version without a lock; takes the mutex
 * for the memtable view and the memory account.
 */
final class DbProperties {
    private final Engine e;

    DbProperties(Engine e) {
        this.e = e;
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
        if (name.startsWith("o3.num-files-at-level")) {
            try {
                int level = Integer.parseInt(name.substring("o3.num-files-at-level".length()));
                return level >= 0 && level < Version.NUM_LEVELS ? Integer.toString(v.numFiles(level)) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        if (name.equals("o3.replica.appliedSequence")) {
            return e.replica ? Long.toString(e.lastSequence) : null;
        }
        if (name.equals("o3.replica")) {
            return e.replicaApplier == null ? null : e.replicaApplier.describe() + " tableBytesReceived="
                    + e.stats.replicaTableBytes.sum() + " logBytesApplied=" + e.stats.replicaLogBytes.sum()
                    + " flushes=" + e.stats.flushes.sum() + " compactions=" + e.stats.compactions.sum();
        }
        if (name.equals("o3.replication")) {
            ReplicationSource r = e.replication;
            if (r == null) {
                return null;
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
        return null;
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
                e.stats.compactionsFallback.sum(), e.stats.compactionResultsRefused.sum());
    }
}
