package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.Vector;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteIterator;
import site.ycsb.DBException;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

/** {@link O3Client} in local mode, in this JVM: each operation's result and status, and the shared DB's lifetime. */
class O3ClientTest {
    @TempDir
    Path tmp;

    private final List<O3Client> clients = new ArrayList<>();

    @AfterEach
    void cleanUp() throws DBException {
        try {
            for (O3Client c : clients) {
                c.cleanup();
            }
        } finally {
            // nothing left open for the next test, even when this one failed before its cleanup
            assertNull(O3Client.resetForTests(), "a DB left open by this test");
        }
    }

    private O3Client client(Path dir, String... nameValue) throws DBException {
        O3Client c = new O3Client();
        Properties p = new Properties();
        p.setProperty("o3.dir", dir.toString());
        p.setProperty("recordcount", "1000"); // YCSB's own properties are passed along too
        for (int i = 0; i < nameValue.length; i += 2) {
            p.setProperty(nameValue[i], nameValue[i + 1]);
        }
        c.setProperties(p);
        c.init();
        clients.add(c);
        return c;
    }

    private static Map<String, ByteIterator> values(String... nameValue) {
        Map<String, ByteIterator> m = new HashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], new StringByteIterator(nameValue[i + 1]));
        }
        return m;
    }

    private static Map<String, String> read(O3Client c, String table, String key, Set<String> fields) {
        Map<String, ByteIterator> out = new HashMap<>();
        assertEquals(Status.OK, c.read(table, key, fields, out), key);
        Map<String, String> s = new TreeMap<>();
        out.forEach((k, v) -> s.put(k, v.toString()));
        return s;
    }

    @Test
    void shouldInsertReadUpdateScanAndDelete() throws Exception {
        O3Client c = client(tmp.resolve("db"));
        assertEquals(Status.OK, c.insert("usertable", "user1", values("f0", "a", "f1", "b", "f2", "c")));
        assertEquals(Map.of("f0", "a", "f1", "b", "f2", "c"), read(c, "usertable", "user1", null));
        assertEquals(Map.of("f1", "b"), read(c, "usertable", "user1", Set.of("f1", "nope")));

        // update merges: the given fields replace theirs, a new one is added, the rest stay
        assertEquals(Status.OK, c.update("usertable", "user1", values("f1", "B", "f9", "new")));
        assertEquals(Map.of("f0", "a", "f1", "B", "f2", "c", "f9", "new"), read(c, "usertable", "user1", null));
        // insert replaces the whole record
        assertEquals(Status.OK, c.insert("usertable", "user1", values("g", "only")));
        assertEquals(Map.of("g", "only"), read(c, "usertable", "user1", null));

        assertEquals(Status.NOT_FOUND, c.read("usertable", "user2", null, new HashMap<>()));
        assertEquals(Status.NOT_FOUND, c.update("usertable", "user2", values("f0", "x")));
        assertEquals(Status.NOT_FOUND, c.read("usertable", "user2", null, new HashMap<>()), "update does not create");
        assertEquals(Status.NOT_FOUND, c.read("othertable", "user1", null, new HashMap<>()), "tables are apart");

        assertEquals(Status.OK, c.delete("usertable", "user1"));
        assertEquals(Status.NOT_FOUND, c.read("usertable", "user1", null, new HashMap<>()));
        assertEquals(Status.NOT_FOUND, c.delete("usertable", "user1"));
    }

    @Test
    void shouldScanFromTheStartKeyWithinItsTable() throws Exception {
        O3Client c = client(tmp.resolve("db"));
        for (int i = 0; i < 20; i++) {
            String k = String.format("user%02d", i);
            assertEquals(Status.OK, c.insert("t", k, values("id", k, "other", "x" + i)));
            assertEquals(Status.OK, c.insert("t2", k, values("id", "t2-" + k)));
        }
        Vector<HashMap<String, ByteIterator>> rows = new Vector<>();
        assertEquals(Status.OK, c.scan("t", "user05", 4, null, rows));
        assertEquals(List.of("user05", "user06", "user07", "user08"), ids(rows));
        assertEquals(2, rows.get(0).size());

        rows.clear();
        assertEquals(Status.OK, c.scan("t", "user04x", 3, Set.of("id"), rows)); // starts at the next key
        assertEquals(List.of("user05", "user06", "user07"), ids(rows));
        assertEquals(1, rows.get(0).size(), "only the asked-for field");

        rows.clear();
        assertEquals(Status.OK, c.scan("t", "user17", 100, null, rows));
        assertEquals(List.of("user17", "user18", "user19"), ids(rows), "the scan ends with its table, not in t2");

        rows.clear();
        assertEquals(Status.OK, c.scan("t", "zzz", 10, null, rows));
        assertEquals(List.of(), ids(rows));
    }

    private static List<String> ids(Vector<HashMap<String, ByteIterator>> rows) {
        List<String> out = new ArrayList<>();
        for (HashMap<String, ByteIterator> r : rows) {
            out.add(r.get("id").toString());
        }
        return out;
    }

    @Test
    void shouldReportAStoredValueThatIsNotARecordAsError() throws Exception {
        O3Client c = client(tmp.resolve("db"));
        c.db().put(RecordFormat.key("usertable", "bad"), new byte[] {9, 9, 9});
        assertEquals(Status.ERROR, c.read("usertable", "bad", null, new HashMap<>()));
        assertEquals(Status.ERROR, c.update("usertable", "bad", values("f0", "x")));
        assertEquals(Status.ERROR, c.scan("usertable", "", 10, null, new Vector<>()));
        assertEquals(Status.ERROR, c.insert("bad\0table", "k", values("f0", "x")));
    }

    @Test
    void shouldShareOneDbAmongThreadsAndCloseItWithTheLastCleanup() throws Exception {
        Path dir = tmp.resolve("db");
        O3Client a = client(dir);
        O3Client b = client(dir);
        assertSame(a.db(), b.db());
        assertEquals(Status.OK, a.insert("t", "k", values("f", "v")));
        assertEquals(Map.of("f", "v"), read(b, "t", "k", null));

        // another directory while this one is open: refused, naming both
        O3Client other = new O3Client();
        Properties p = new Properties();
        p.setProperty("o3.dir", tmp.resolve("other").toString());
        other.setProperties(p);
        DBException e = assertThrows(DBException.class, other::init);
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("other"), e.getMessage());

        a.cleanup();
        a.cleanup(); // twice on one instance: one reference
        assertEquals(Map.of("f", "v"), read(b, "t", "k", null), "b still holds the DB");
        assertEquals(Status.ERROR, a.read("t", "k", null, new HashMap<>()), "a cleaned-up instance has no DB");
        b.cleanup();
        // closed: the directory opens again in this JVM (o3 allows one open DB per directory)
        try (DB db = DB.open(dir, Options.defaults())) {
            assertArrayEquals(RecordFormat.encode(Map.of("f", "v".getBytes())), db.get(RecordFormat.key("t", "k")));
        }
    }

    @Test
    void shouldNotLoseConcurrentUpdatesOfDifferentFieldsOfOneRecord() throws Exception {
        Path dir = tmp.resolve("db");
        O3Client first = client(dir);
        assertEquals(Status.OK, first.insert("t", "hot", values()));
        int threads = 4;
        int perThread = 200;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            O3Client c = client(dir);
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        assertEquals(Status.OK, c.update("t", "hot", values("f" + id + "-" + i, "v")));
                    }
                } catch (Throwable x) {
                    failures.add(x);
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        for (Thread th : ts) {
            th.join();
        }
        assertEquals(List.of(), failures);
        assertEquals(threads * perThread, read(first, "t", "hot", null).size(), "every update's field is in the record");
    }

    @Test
    void shouldKeepEveryRecordWrittenWithoutAWalAcrossTheLastCleanup() throws Exception {
        Path dir = tmp.resolve("db");
        int n = 2000; // far below the 64 MiB write buffer: every record is only in the memtable
        O3Client load = client(dir, "o3.disable_wal", "true");
        for (int i = 0; i < n; i++) {
            assertEquals(Status.OK, load.insert("t", "k" + i, values("f", "v" + i)));
        }
        load.cleanup(); // the last reference: flushes (no WAL to replay), then closes

        O3Client run = client(dir, "o3.disable_wal", "true"); // a new lifecycle, as YCSB's run after load
        for (int i = 0; i < n; i++) {
            assertEquals(Map.of("f", "v" + i), read(run, "t", "k" + i, null));
        }
    }

    @Test
    void shouldNotAdvanceTheScanPastTheLastRecordWanted() throws Exception {
        O3Client c = client(tmp.resolve("db"));
        for (int i = 0; i < 10; i++) {
            assertEquals(Status.OK, c.insert("t", "user" + i, values("id", "user" + i)));
        }
        for (int wanted : new int[] {0, 1, 3, 10, 20}) {
            Vector<HashMap<String, ByteIterator>> rows = new Vector<>();
            try (CountingIterator it = new CountingIterator(c.db().iterator())) {
                it.seek(RecordFormat.key("t", "user0"));
                O3Client.scanRows(it, "t", wanted, null, rows);
                int got = Math.min(wanted, 10);
                assertEquals(got, rows.size(), "rows of " + wanted);
                // to each row after the first, and past the last when the table ends first
                assertEquals(wanted > 10 ? 10 : Math.max(0, got - 1), it.nexts, "next() calls for " + wanted);
            }
        }
    }

    @Test
    void shouldNotTryAFailedOpenAgainForTheSameDb() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        DBException first = assertThrows(DBException.class, () -> client(file));
        assertTrue(first.getMessage().contains("cannot open"), first.getMessage());

        Files.delete(file); // the directory could open now, but the next client thread does not try
        DBException again = assertThrows(DBException.class, () -> client(file));
        assertTrue(again.getMessage().contains("failed already"), again.getMessage());
        assertSame(first, again.getCause());

        // another DB opens, and its open forgets the failure
        O3Client other = client(tmp.resolve("other"));
        other.cleanup();
        O3Client c = client(file);
        assertEquals(Status.OK, c.insert("t", "k", values("f", "v")));
    }

    @Test
    void shouldLeaveNothingSharedOnceTheTestHookReset() throws Exception {
        O3Client leaked = client(tmp.resolve("db"));
        clients.remove(leaked); // as a test that fails before its cleanup
        DB old = leaked.db();
        String left = O3Client.resetForTests();
        assertNotNull(left);
        assertTrue(left.contains("1 reference"), left);
        assertEquals(Status.ERROR, leaked.read("t", "k", null, new HashMap<>()), "its DB is closed");
        leaked.cleanup(); // a no-op now: the DB it held is no longer shared
        O3Client fresh = client(tmp.resolve("elsewhere")); // another directory opens: nothing is held
        assertNotSame(old, fresh.db());
    }

    /** Counts {@link DBIterator#next} calls on a real iterator. */
    private static final class CountingIterator implements DBIterator {
        private final DBIterator it;
        int nexts;

        CountingIterator(DBIterator it) {
            this.it = it;
        }

        @Override
        public boolean isValid() {
            return it.isValid();
        }

        @Override
        public void seekToFirst() {
            it.seekToFirst();
        }

        @Override
        public void seekToLast() {
            it.seekToLast();
        }

        @Override
        public void seek(byte[] target) {
            it.seek(target);
        }

        @Override
        public void seekForPrev(byte[] target) {
            it.seekForPrev(target);
        }

        @Override
        public void next() {
            nexts++;
            it.next();
        }

        @Override
        public void prev() {
            it.prev();
        }

        @Override
        public byte[] key() {
            return it.key();
        }

        @Override
        public byte[] value() {
            return it.value();
        }

        @Override
        public ByteBuffer keyBuffer() {
            return it.keyBuffer();
        }

        @Override
        public ByteBuffer valueBuffer() {
            return it.valueBuffer();
        }

        @Override
        public int key(ByteBuffer dst) {
            return it.key(dst);
        }

        @Override
        public int value(ByteBuffer dst) {
            return it.value(dst);
        }

        @Override
        public void close() {
            it.close();
        }
    }
}
