package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBStats;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.HistogramSnapshot;
import io.o3lsm.Options;
import io.o3lsm.Snapshot;
import io.o3lsm.WriteBatch;
import io.o3lsm.internal.version.Version;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics add up: tickers against what the engine observably did (files created, block reads,
 * flushes, operations), histograms against calls, properties against names, the MBean against the
 * platform MBean server (docs/operations/metrics.md).
 */
class MetricsTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String k(int i) {
        return String.format("key%08d", i);
    }

    /** Options with automatic compaction out of the way: L0 grows one file per flushed range. */
    private static Options noAutoCompaction() {
        return Options.defaults().level0CompactionTrigger(1000).level0SlowdownTrigger(2000).level0StopTrigger(3000)
                .jmx(false);
    }

    /** Records the final size of every SST written, and counts reads of SSTs. */
    private static final class TableTracker extends ForwardingFileSystem {
        final Map<Path, Long> created = new ConcurrentHashMap<>();
        final AtomicLong tableReads = new AtomicLong();

        @Override
        protected WritableFile wrap(Path path, WritableFile file) {
            if (!path.getFileName().toString().endsWith(".sst")) {
                return file;
            }
            return new ForwardingWritableFile(file) {
                @Override
                public void close() throws IOException {
                    created.put(path, inner.size());
                    super.close();
                }
            };
        }

        @Override
        public ReadableFile newReadableFile(Path path) throws IOException {
            ReadableFile f = inner.newReadableFile(path);
            if (!path.getFileName().toString().endsWith(".sst")) {
                return f;
            }
            return new ReadableFile() {
                @Override
                public void readFully(long position, byte[] dst, int off, int len) throws IOException {
                    tableReads.incrementAndGet();
                    f.readFully(position, dst, off, len);
                }

                @Override
                public long size() throws IOException {
                    return f.size();
                }

                @Override
                public String name() {
                    return f.name();
                }

                @Override
                public void close() throws IOException {
                    f.close();
                }
            };
        }

        long createdBytes() {
            return created.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Test
    void shouldCountFlushAndCompactionBytesAsTheSizesOfTheTablesCreated() {
        TableTracker fs = new TableTracker();
        try (DB db = DB.open(dir, Options.defaults().fileSystem(fs).writeBufferSize(1 << 20).jmx(false))) {
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 5000; i++) {
                    db.put(b(k((i * 7 + round) % 20000)), b("value-" + round + "-" + i));
                }
                db.flush();
            }
            db.compactRange(null, null);
            ((DBImpl) db).waitForCompactions();
            DBStats st = db.stats();
            long flushed = st.ticker(DBStats.FLUSH_BYTES);
            long compacted = st.ticker(DBStats.COMPACTION_WRITE_BYTES);
            assertTrue(flushed > 0 && compacted > 0, st.tickers().toString());
            assertEquals(fs.createdBytes(), flushed + compacted,
                    "every SST created is a flush's or a compaction's output: " + fs.created);
            assertEquals(st.flushBytesWritten(), flushed);
            assertEquals(st.compactionBytesWritten(), compacted);
            assertEquals(st.ticker(DBStats.COMPACTION_COUNT), st.histogram(DBStats.COMPACTION_MICROS).count());
        }
    }

    @Test
    void shouldCountKeysWrittenAsTheOperationsApplied() {
        try (DB db = DB.open(dir, noAutoCompaction())) {
            for (int i = 0; i < 300; i++) {
                db.put(b(k(i)), b("v"));
            }
            for (int i = 0; i < 40; i++) {
                db.delete(b(k(i)));
            }
            WriteBatch batch = new WriteBatch();
            for (int i = 0; i < 25; i++) {
                batch.put(b(k(1000 + i)), b("w"));
            }
            db.write(batch, io.o3lsm.WriteOptions.defaults());
            DBStats st = db.stats();
            assertEquals(300 + 40 + 25, st.ticker(DBStats.KEYS_WRITTEN));
            assertEquals(300, st.histogram(DBStats.PUT_MICROS).count());
            assertEquals(300 + 40 + 1, st.histogram(DBStats.WRITE_MICROS).count(), "one value per write call");
            assertEquals(st.userBytesWritten(), st.ticker(DBStats.BYTES_WRITTEN));
            assertEquals(st.ticker(DBStats.BYTES_WRITTEN), st.ticker(DBStats.WAL_BYTES), "every write went to the WAL");
        }
    }

    @Test
    void shouldRecordOneLatencyPerGetAndCountKeysAndBytesRead() {
        try (DB db = DB.open(dir, noAutoCompaction())) {
            for (int i = 0; i < 200; i++) {
                db.put(b(k(i)), b("value" + i));
            }
            db.flush();
            long bytes = 0;
            for (int i = 0; i < 300; i++) { // 100 absent
                byte[] v = db.get(b(k(i)));
                bytes += v == null ? 0 : v.length;
            }
            List<byte[]> keys = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                keys.add(b(k(i)));
            }
            db.multiGet(io.o3lsm.ReadOptions.defaults(), keys);
            DBStats st = db.stats();
            HistogramSnapshot get = st.histogram(DBStats.GET_MICROS);
            assertEquals(300, get.count());
            assertEquals(1, st.histogram(DBStats.MULTIGET_MICROS).count());
            assertEquals(310, st.ticker(DBStats.KEYS_READ));
            assertEquals(210, st.ticker(DBStats.KEYS_FOUND));
            assertEquals(bytes + 10 * "valueN".length(), st.ticker(DBStats.BYTES_READ));
            assertTrue(get.min() <= get.p50() && get.p50() <= get.p95() && get.p95() <= get.p99()
                    && get.p99() <= get.max() && get.max() > 0, get.toString());
            assertTrue(get.sum() >= get.max() && get.mean() > 0, get.toString());
        }
    }

    @Test
    void shouldCountEveryDataBlockLookupAsOneHitOrOneMissAndEveryMissAsOneRead() {
        TableTracker fs = new TableTracker();
        // a cache far smaller than the data: lookups both hit and miss
        Options o = noAutoCompaction().fileSystem(fs).blockCacheSize(64 << 10).bloomBitsPerKey(10);
        int n = 20000;
        try (DB db = DB.open(dir, o)) {
            for (int i = 0; i < n; i++) {
                db.put(b(k(i)), b("value-of-some-length-" + i));
            }
            db.flush(); // one flush: every key is in exactly one table
            for (int i = 0; i < n; i += 997) {
                db.get(b(k(i))); // every table opened (its own reads are not block lookups)
            }
            DBStats before = db.stats();
            long readsBefore = fs.tableReads.get();
            java.util.Random rnd = new java.util.Random(42);
            int gets = 5000;
            for (int i = 0; i < gets; i++) {
                assertNotNull(db.get(b(k(rnd.nextInt(n)))));
            }
            DBStats after = db.stats();
            long hits = after.ticker(DBStats.BLOCK_CACHE_HIT) - before.ticker(DBStats.BLOCK_CACHE_HIT);
            long misses = after.ticker(DBStats.BLOCK_CACHE_MISS) - before.ticker(DBStats.BLOCK_CACHE_MISS);
            assertTrue(hits > 0 && misses > 0, "hits " + hits + ", misses " + misses);
            assertEquals(gets, hits + misses, "one data block per get of a present key");
            assertEquals(fs.tableReads.get() - readsBefore, misses, "every miss read its block, nothing else was read");
            assertEquals(after.blockCacheHits(), after.ticker(DBStats.BLOCK_CACHE_HIT));
        }
    }

    @Test
    void shouldCountBloomChecksAndTheNegativesThatSavedARead() {
        try (DB db = DB.open(dir, noAutoCompaction())) {
            for (int i = 0; i < 5000; i++) {
                db.put(b(k(2 * i)), b("v"));
            }
            db.flush();
            DBStats before = db.stats();
            for (int i = 0; i < 5000; i++) {
                db.get(b(k(2 * i + 1))); // absent, inside the tables' key ranges
            }
            DBStats after = db.stats();
            long checked = after.ticker(DBStats.BLOOM_CHECKED) - before.ticker(DBStats.BLOOM_CHECKED);
            long useful = after.ticker(DBStats.BLOOM_USEFUL) - before.ticker(DBStats.BLOOM_USEFUL);
            assertTrue(checked >= 4990 && checked <= 5000, "absent keys between the tables' ranges skip the check: "
                    + checked);
            assertTrue(useful <= checked && useful >= checked * 0.95, "10 bits per key: ~1% false positives: " + useful
                    + " of " + checked);
        }
    }

    @Test
    void shouldCountOneFlushPerLevel0FileWithCompactionHeldOff() {
        try (DB db = DB.open(dir, noAutoCompaction())) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 1000; i++) {
                    db.put(b(k(i)), b("r" + round));
                }
                db.flush();
            }
            DBStats st = db.stats();
            long files = Long.parseLong(db.property("o3.num-files-at-level0"));
            assertTrue(files >= 3, "at least one file per flush: " + files);
            assertEquals(files, st.ticker(DBStats.FLUSH_COUNT));
            assertEquals(files, st.histogram(DBStats.FLUSH_MICROS).count());
            assertEquals(0, st.ticker(DBStats.COMPACTION_COUNT));
            ((DBImpl) db).waitForRunningFlushes(); // the by-place counters follow the install
            assertEquals(files, db.stats().ticker(DBStats.FLUSH_LOCAL));
        }
    }

    @Test
    void shouldThrowNamingAnUnknownPropertyAndListTheKnownOnes() {
        try (DB db = DB.open(dir, Options.defaults().jmx(false))) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> db.property("o3.no-such"));
            assertTrue(ex.getMessage().contains("o3.no-such") && ex.getMessage().contains("o3.estimate-num-keys"),
                    ex.getMessage());
            IllegalArgumentException rocks = assertThrows(IllegalArgumentException.class,
                    () -> db.property("rocksdb.estimate-num-keys"));
            assertTrue(rocks.getMessage().contains("try o3.estimate-num-keys"), rocks.getMessage());
            assertThrows(IllegalArgumentException.class, () -> db.property("o3.num-files-at-level" + Version.NUM_LEVELS));
            assertThrows(IllegalArgumentException.class, () -> db.property("o3.num-files-at-levelx"));
            assertThrows(IllegalArgumentException.class, () -> db.stats().ticker("o3.no.such.ticker"));
            assertThrows(IllegalArgumentException.class, () -> db.stats().histogram("o3.no.such.micros"));
        }
    }

    /** Every known name, the level-parameterized ones at every level. */
    private static List<String> everyPropertyName() {
        List<String> names = new ArrayList<>();
        for (String n : DbProperties.KNOWN.keySet()) {
            if (n.endsWith("<N>")) {
                for (int l = 0; l < Version.NUM_LEVELS; l++) {
                    names.add(n.replace("<N>", Integer.toString(l)));
                }
            } else {
                names.add(n);
            }
        }
        return names;
    }

    @Test
    void shouldAnswerEveryDocumentedPropertyOnAFreshDbAndAfterWrites() throws IOException {
        try (DB db = DB.open(dir, Options.defaults().jmx(false))) {
            for (String n : everyPropertyName()) {
                assertNotNull(db.property(n), n);
            }
            for (int i = 0; i < 3000; i++) {
                db.put(b(k(i)), b("value" + i));
            }
            db.flush();
            for (int i = 0; i < 100; i++) {
                db.put(b(k(i)), b("again"));
            }
            try (Snapshot s = db.snapshot()) {
                for (String n : everyPropertyName()) {
                    assertNotNull(db.property(n), n);
                }
                assertEquals("1", db.property("o3.num-snapshots"));
                assertTrue(Long.parseLong(db.property("o3.oldest-snapshot-time")) > 0);
            }
            assertEquals("0", db.property("o3.num-snapshots"));
            long keys = Long.parseLong(db.property("o3.estimate-num-keys"));
            assertEquals(3100, keys, "3000 in tables + 100 in the memtable (an estimate: overwrites count twice)");
            assertEquals("100", db.property("o3.num-entries-active-mem-table"));
            long live = Long.parseLong(db.property("o3.live-sst-files-size"));
            assertTrue(live > 0 && live <= Long.parseLong(db.property("o3.total-sst-files-size")));
            assertTrue(Double.parseDouble(db.property("o3.compression-ratio-at-level0")) > 0);
            assertEquals("-1.0", db.property("o3.compression-ratio-at-level6"));
            assertTrue(db.property("o3.aggregated-table-properties").contains("# entries=3000"),
                    db.property("o3.aggregated-table-properties"));
            assertEquals(Long.toString(64L << 20), db.property("o3.block-cache-capacity"));
        }
        // the operations page documents every property, ticker and histogram by name
        Path doc = Path.of("..", "docs", "operations", "metrics.md");
        String text = Files.readString(doc);
        for (String n : DbProperties.KNOWN.keySet()) {
            assertTrue(text.contains("`" + n + "`"), "docs/operations/metrics.md lacks property " + n);
        }
        try (DB db = DB.open(dir, Options.defaults().jmx(false))) {
            for (String n : db.stats().tickers().keySet()) {
                assertTrue(text.contains("`" + n + "`"), "docs/operations/metrics.md lacks ticker " + n);
            }
            for (String n : db.stats().histograms().keySet()) {
                assertTrue(text.contains("`" + n + "`"), "docs/operations/metrics.md lacks histogram " + n);
            }
        }
    }

    @Test
    void shouldKeepNoPerOperationCountersWhenStatisticsAreOff() {
        try (DB db = DB.open(dir, noAutoCompaction().statistics(false))) {
            for (int i = 0; i < 500; i++) {
                db.put(b(k(i)), b("v"));
            }
            db.flush();
            for (int i = 0; i < 600; i++) {
                db.get(b(k(i)));
            }
            DBStats st = db.stats();
            assertFalse(st.statisticsEnabled());
            for (String t : List.of(DBStats.KEYS_READ, DBStats.KEYS_FOUND, DBStats.BYTES_READ, DBStats.BLOOM_CHECKED,
                    DBStats.BLOOM_USEFUL)) {
                assertEquals(0, st.ticker(t), t);
            }
            for (String h : List.of(DBStats.GET_MICROS, DBStats.MULTIGET_MICROS, DBStats.PUT_MICROS,
                    DBStats.WRITE_MICROS)) {
                assertEquals(0, st.histogram(h).count(), h);
            }
            assertEquals(500, st.ticker(DBStats.KEYS_WRITTEN), "per write group: kept either way");
            assertTrue(db.property("o3.stats").contains("statistics disabled"), db.property("o3.stats"));
            assertEquals("false", db.property("o3.statistics-enabled"));
        }
    }

    @Test
    void shouldStartCountersFromZeroAtEachOpenAndNeverResetThemOnRead() {
        long opened;
        try (DB db = DB.open(dir, noAutoCompaction())) {
            for (int i = 0; i < 100; i++) {
                db.put(b(k(i)), b("v"));
            }
            assertEquals(100, db.stats().ticker(DBStats.KEYS_WRITTEN));
            assertEquals(100, db.stats().ticker(DBStats.KEYS_WRITTEN), "reading does not reset");
            opened = db.stats().openedAtMillis();
            assertTrue(db.property("o3.stats").contains("counters since open at"));
        }
        try (DB db = DB.open(dir, noAutoCompaction())) {
            DBStats st = db.stats();
            assertEquals(0, st.ticker(DBStats.KEYS_WRITTEN), "per-open, as RocksDB's Statistics");
            assertEquals(0, st.histogram(DBStats.PUT_MICROS).count());
            assertTrue(st.openedAtMillis() >= opened);
            assertEquals(100, Long.parseLong(db.property("o3.estimate-num-keys")), "the data is there");
        }
    }

    private static Set<ObjectName> beansOf(MBeanServer server, Path dir) throws Exception {
        return server.queryNames(new ObjectName("io.o3lsm:type=DB,name="
                + ObjectName.quote(dir.toAbsolutePath().toString()) + ",*"), null);
    }

    @Test
    void shouldRegisterTheMBeanAtOpenWithReadableAttributesAndUnregisterItAtClose() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("io.o3lsm:type=DB,name=" + ObjectName.quote(dir.toAbsolutePath().toString()));
        try (DB db = DB.open(dir, Options.defaults().jmx(true))) {
            assertTrue(server.isRegistered(name), "registered at open: " + ((DBImpl) db).mbeanName());
            for (int i = 0; i < 50; i++) {
                db.put(b(k(i)), b("v"));
                db.get(b(k(i)));
            }
            assertEquals(50L, server.getAttribute(name, "number_keys_written"));
            assertEquals(50L, server.getAttribute(name, "db_get_micros_count"));
            assertTrue((Double) server.getAttribute(name, "db_get_micros_p99") > 0);
            assertEquals(50L, server.getAttribute(name, "estimate_num_keys"));
            assertEquals(0L, server.getAttribute(name, "num_files_at_level0"));
            javax.management.MBeanAttributeInfo[] attrs = server.getMBeanInfo(name).getAttributes();
            String[] names = new String[attrs.length];
            for (int i = 0; i < attrs.length; i++) {
                names[i] = attrs[i].getName();
            }
            assertEquals(attrs.length, server.getAttributes(name, names).size(), "every attribute reads");
        }
        assertFalse(server.isRegistered(name), "unregistered at close");
        assertTrue(beansOf(server, dir).isEmpty());
    }

    /** Something else (a leftover bean, another instance of the same path) holds the name. */
    public interface PlaceholderMBean {
        int getValue();
    }

    @Test
    void shouldNotCollideWithAnotherBeanOfTheSameDirectoryAndLeaveItAlone() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Path a = dir.resolve("a");
        Path other = dir.resolve("b");
        ObjectName taken = new ObjectName("io.o3lsm:type=DB,name=" + ObjectName.quote(a.toAbsolutePath().toString()));
        server.registerMBean(new StandardMBean((PlaceholderMBean) () -> 7, PlaceholderMBean.class), taken);
        try {
            try (DB db = DB.open(a, Options.defaults()); DB db2 = DB.open(other, Options.defaults())) {
                String mine = ((DBImpl) db).mbeanName();
                assertTrue(mine.contains(",instance="), mine);
                assertTrue(server.isRegistered(new ObjectName(mine)));
                assertEquals(2, beansOf(server, a).size(), "the placeholder and the DB's");
                assertEquals(1, beansOf(server, other).size());
                db.put(b("x"), b("y"));
                assertEquals(1L, server.getAttribute(new ObjectName(mine), "number_keys_written"));
                assertEquals(0L, server.getAttribute(new ObjectName(((DBImpl) db2).mbeanName()), "number_keys_written"));
            }
            assertEquals(Set.of(taken), beansOf(server, a), "the DB removed only its own bean");
            assertTrue(beansOf(server, other).isEmpty());
        } finally {
            server.unregisterMBean(taken);
        }
    }

    @Test
    void shouldRegisterAReadOnlyOpenBesideTheReadWriteDbOfTheSameDirectoryUnderItsOwnName() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (DB db = DB.open(dir, Options.defaults())) {
            for (int i = 0; i < 20; i++) {
                db.put(b(k(i)), b("v"));
            }
            try (DB ro = DB.openReadOnly(dir, Options.defaults())) {
                Set<ObjectName> both = beansOf(server, dir);
                assertEquals(2, both.size(), both.toString());
                ObjectName rw = new ObjectName(((DBImpl) db).mbeanName());
                assertTrue(both.contains(rw) && !rw.toString().contains("instance="), rw.toString());
                ObjectName other = both.stream().filter(n -> !n.equals(rw)).findFirst().orElseThrow();
                assertEquals(20L, server.getAttribute(rw, "number_keys_written"));
                assertEquals(0L, server.getAttribute(other, "number_keys_written"), "the read-only open wrote nothing");
                assertEquals(20L, server.getAttribute(other, "estimate_num_keys"), "it sees the WAL's writes");
                assertEquals("role=read-only", ro.property("o3.replica"));
            }
            assertEquals(1, beansOf(server, dir).size(), "the read-only open's bean went with it");
        }
        assertTrue(beansOf(server, dir).isEmpty());
    }

    @Test
    void shouldRegisterNoMBeanWhenJmxIsOff() throws Exception {
        try (DB db = DB.open(dir, Options.defaults().jmx(false))) {
            assertTrue(beansOf(ManagementFactory.getPlatformMBeanServer(), dir).isEmpty());
            assertEquals(null, ((DBImpl) db).mbeanName());
        }
    }
}
