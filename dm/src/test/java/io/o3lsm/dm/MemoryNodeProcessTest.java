package io.o3lsm.dm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Opcode;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.MemoryNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory node as a real separate process, reached over UCX (shared memory / TCP on these
 * machines; {@code UCX_TLS} selects, e.g. {@code rc_verbs} on a soft-RoCE device).
 */
@Tag("dm")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryNodeProcessTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @TempDir
    static Path dir;
    static Path secretFile;
    static MemNodeProcess shared;

    @BeforeAll
    static void startSharedNode() throws Exception {
        secretFile = MemNodeProcess.secret(dir, "secret", SECRET);
        String[] rdma = new java.io.File("/sys/class/infiniband").list();
        System.out.println("UCX_TLS=" + System.getenv().getOrDefault("UCX_TLS", "(unset: UCX chooses)")
                + (rdma == null || rdma.length == 0 ? "; no RDMA device here (no soft-RoCE): UCX runs over shared memory/TCP"
                        : "; RDMA devices: " + String.join(",", rdma)));
        shared = new MemNodeProcess(dir, MemNodeProcess.freePort(), "64m", secretFile).start();
    }

    @AfterAll
    static void stopSharedNode() throws Exception {
        if (shared != null) {
            int code = shared.terminate();
            String out = shared.output();
            assertTrue(out.contains("closed cleanly"), "no clean shutdown on SIGTERM (exit " + code + "):\n" + out);
            org.junit.jupiter.api.Assertions.assertEquals(0, code, "exit status after SIGTERM (documented: 0):\n" + out);
        }
    }

    static MemoryNode.Config config(int port, String secret, String dbId, long epoch, long budget, int inflight) {
        return new MemoryNode.Config("127.0.0.1:" + port, secret.getBytes(StandardCharsets.UTF_8), dbId, epoch, budget,
                inflight, Duration.ofSeconds(5));
    }

    static MemoryNode.Client connect(int port, String dbId) throws Exception {
        return connect(config(port, SECRET, dbId, 1, 0, 4));
    }

    static MemoryNode.Client connect(MemoryNode.Config c) throws Exception {
        MemoryNode.Provider provider = ServiceLoader.load(MemoryNode.Provider.class).findFirst().orElseThrow();
        return provider.connect(c);
    }

    /** A sealed shard with the given entries: {key, seq, type, value} (value null for deletions). */
    static MemtableShard shard(int id, int capacity, Object[]... entries) {
        MemtableShard s = MemtableShard.allocate(id, capacity);
        for (Object[] e : entries) {
            byte[] k = ((String) e[0]).getBytes(StandardCharsets.UTF_8);
            byte[] v = e[3] == null ? new byte[0] : ((String) e[3]).getBytes(StandardCharsets.UTF_8);
            assertTrue(s.add((Long) e[1], (Integer) e[2], k, 0, k.length, v, 0, v.length));
        }
        s.seal();
        return s;
    }

    /** A sealed shard filled with {@code n} generated entries. */
    static MemtableShard bigShard(int id, int capacity, long firstSeq) {
        MemtableShard s = MemtableShard.allocate(id, capacity);
        byte[] value = new byte[100];
        long seq = firstSeq;
        for (int i = 0; ; i++) {
            byte[] k = String.format("key%08d", i).getBytes(StandardCharsets.UTF_8);
            if (!s.add(seq++, InternalKey.TYPE_VALUE, k, 0, k.length, value, 0, value.length)) {
                break;
            }
        }
        s.seal();
        return s;
    }

    static ByteBuffer bytes(MemtableShard s) {
        ByteBuffer bb = s.buffer().byteBuffer();
        assertEquals(0, s.buffer().wrapAdjustment());
        return bb;
    }

    static CompletableFuture<MemoryNode.RemoteShard> offload(MemoryNode.Client c, MemtableShard s) {
        return c.offload(bytes(s), s.usedBytes(), s.reader().checksum(), s.shardId(), s.minSequence(), s.maxSequence());
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static Object[] put(String k, long seq, String v) {
        return new Object[] {k, seq, InternalKey.TYPE_VALUE, v};
    }

    /** "userkey@sequence" of each entry of a scan batch, in order; also checks the values decode. */
    static List<String> keys(MemoryNode.ScanBatch b) {
        List<String> out = new ArrayList<>();
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b.entries()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b.count(); i++) {
            byte[] k = new byte[bb.getInt()];
            bb.get(k);
            int valueLength = bb.getInt();
            bb.position(bb.position() + valueLength);
            out.add(str(InternalKey.userKey(k)) + "@" + (InternalKey.trailer(k) >>> 8));
        }
        assertEquals(b.entries().length, bb.position(), "batch holds exactly count entries");
        return out;
    }

    static Object[] del(String k, long seq) {
        return new Object[] {k, seq, InternalKey.TYPE_DELETION, null};
    }

    @Test
    void shouldOffloadAndAnswerDelegatedGetsScansAndReadBack() throws Exception {
        try (MemoryNode.Client c = connect(shared.port, "db-main")) {
            assertTrue(c.isConnected());
            MemtableShard older = shard(1, 4096, put("a", 1, "a1"), put("b", 2, "b2"), del("c", 5), put("d", 3, "d3"));
            MemtableShard newer = shard(2, 4096, put("a", 10, "a10"), del("b", 11), put("e", 12, "e12"));
            MemoryNode.RemoteShard o = offload(c, older).get(10, TimeUnit.SECONDS);
            MemoryNode.RemoteShard n = offload(c, newer).get(10, TimeUnit.SECONDS);
            assertEquals(older.usedBytes(), o.length());
            List<MemoryNode.RemoteShard> newestFirst = List.of(n, o);

            MemoryNode.GetResult r = c.get(newestFirst, "a".getBytes(), Long.MAX_VALUE);
            assertEquals(1, r.state());
            assertEquals("a10", str(r.value()));
            assertEquals(10, r.sequence());
            assertEquals(0, r.shardIndex());

            r = c.get(newestFirst, "a".getBytes(), 5); // snapshot before the newer shard's write
            assertEquals(1, r.state());
            assertEquals("a1", str(r.value()));
            assertEquals(1, r.shardIndex());

            r = c.get(newestFirst, "b".getBytes(), Long.MAX_VALUE);
            assertEquals(2, r.state());
            assertEquals(11, r.sequence());
            assertNull(r.value());
            assertEquals(0, r.shardIndex());

            r = c.get(newestFirst, "c".getBytes(), Long.MAX_VALUE);
            assertEquals(2, r.state());
            assertEquals(1, r.shardIndex());

            r = c.get(newestFirst, "zz".getBytes(), Long.MAX_VALUE);
            assertEquals(0, r.state());
            assertEquals(-1, r.shardIndex());

            // one shard, paged
            assertEquals(List.of("a@1", "b@2", "c@5", "d@3"), keys(c.scan(List.of(o), null, false, false, 100, 1 << 20)));
            MemoryNode.ScanBatch page1 = c.scan(List.of(o), null, false, false, 2, 1 << 20);
            assertEquals(List.of("a@1", "b@2"), keys(page1));
            assertTrue(page1.more());
            byte[] b2 = InternalKey.encode("b".getBytes(), 2, InternalKey.TYPE_VALUE); // exactly the entry b@2
            MemoryNode.ScanBatch page2 = c.scan(List.of(o), b2, false, true, 10, 1 << 20);
            assertEquals(List.of("c@5", "d@3"), keys(page2));
            assertTrue(!page2.more());
            assertEquals(List.of("b@2", "c@5", "d@3"), keys(c.scan(List.of(o), b2, false, false, 10, 1 << 20)));
            // the node merges both shards: a key's versions newest first
            assertEquals(List.of("a@10", "a@1", "b@11", "b@2", "c@5", "d@3", "e@12"),
                    keys(c.scan(newestFirst, null, false, false, 100, 1 << 20)));
            assertEquals(List.of("e@12", "d@3", "c@5", "b@2", "b@11", "a@1", "a@10"),
                    keys(c.scan(newestFirst, null, true, false, 100, 1 << 20)));
            byte[] b11 = InternalKey.encode("b".getBytes(), 11, InternalKey.TYPE_DELETION);
            assertEquals(List.of("b@11", "a@1"), keys(c.scan(newestFirst, b11, true, false, 2, 1 << 20)));
            assertEquals(List.of("a@1", "a@10"), keys(c.scan(newestFirst, b11, true, true, 10, 1 << 20)));
            assertEquals(List.of("b@2", "c@5"), keys(c.scan(newestFirst, b11, false, true, 2, 1 << 20)));
            // a seek key sorts before every entry of its user key at that sequence
            assertEquals(List.of("a@1", "a@10"),
                    keys(c.scan(newestFirst, InternalKey.seekKey("b".getBytes(), 11), true, false, 10, 1 << 20)));
            assertEquals(List.of("b@11", "b@2"),
                    keys(c.scan(newestFirst, InternalKey.seekKey("b".getBytes(), 11), false, true, 2, 1 << 20)));
            // a byte limit still returns at least one entry
            assertEquals(1, c.scan(newestFirst, null, false, false, 100, 1).count());

            ByteBuffer back = ByteBuffer.allocateDirect(o.length());
            c.readBack(o, back);
            byte[] expected = new byte[o.length()];
            bytes(older).duplicate().get(expected);
            byte[] got = new byte[o.length()];
            back.duplicate().get(got);
            assertArrayEquals(expected, got);

            Messages.Stats stats = ((DmClient) c).stats();
            assertTrue(stats.used() > 0);
            assertTrue(stats.dbs().stream().anyMatch(d -> d.dbId().equals("db-main") && d.segments() == 2));

            c.free(o);
            DmAccessException gone = assertThrows(DmAccessException.class, () -> c.get(List.of(o), "a".getBytes(), 100));
            assertTrue(gone.getMessage().contains("does not exist"), gone.getMessage());
            c.free(n);
        }
    }

    @Test
    void shouldAnswerAMultiGetAsSeparateGetsWouldAcrossRequestsAndPages() throws Exception {
        try (MemoryNode.Client c = connect(shared.port, "db-multi");
                MemoryNode.Client other = connect(shared.port, "db-multi-other")) {
            MemtableShard older = shard(1, 4096, put("a", 1, "a1"), put("b", 2, "b2"), del("c", 5), put("d", 3, "d3"));
            MemtableShard newer = shard(2, 4096, put("a", 10, "a10"), del("b", 11), put("e", 12, "e12"));
            MemoryNode.RemoteShard o = offload(c, older).get(10, TimeUnit.SECONDS);
            MemoryNode.RemoteShard n = offload(c, newer).get(10, TimeUnit.SECONDS);
            List<MemoryNode.RemoteShard> both = List.of(n, o);
            // every key with several candidate lists (both, one, none), at two snapshots; 1,500 keys take two requests
            List<MemoryNode.KeyGet> keys = new ArrayList<>();
            String[] names = {"a", "b", "c", "d", "e", "zz"};
            List<List<MemoryNode.RemoteShard>> lists = List.of(both, List.of(o), List.of(n), List.of());
            for (int i = 0; i < 1500; i++) {
                keys.add(new MemoryNode.KeyGet(lists.get(i % 4), names[(i / 4) % names.length].getBytes()));
            }
            for (long snapshot : new long[] {Long.MAX_VALUE, 5}) {
                List<MemoryNode.GetResult> got = c.multiGet(keys, snapshot);
                assertEquals(keys.size(), got.size());
                for (int i = 0; i < keys.size(); i++) {
                    MemoryNode.GetResult one = c.get(keys.get(i).candidates(), keys.get(i).userKey(), snapshot);
                    MemoryNode.GetResult many = got.get(i);
                    String what = "key " + i + " at " + snapshot;
                    assertEquals(one.state(), many.state(), what);
                    assertEquals(one.shardIndex(), many.shardIndex(), what);
                    assertEquals(one.sequence(), many.sequence(), what);
                    assertArrayEquals(one.value(), many.value(), what);
                }
            }
            assertEquals("a10", str(c.multiGet(keys.subList(0, 1), Long.MAX_VALUE).get(0).value()));
            // one foreign candidate fails the whole request
            DmAccessException denied = assertThrows(DmAccessException.class,
                    () -> other.multiGet(List.of(new MemoryNode.KeyGet(List.of(), "a".getBytes()),
                            new MemoryNode.KeyGet(List.of(o), "a".getBytes())), Long.MAX_VALUE));
            assertTrue(denied.getMessage().contains("another DB"), denied.getMessage());

            // answers past 4 MiB come in pages: six keys of 900 KB values
            MemtableShard big = MemtableShard.allocate(3, 8 << 20);
            byte[] value = new byte[900_000];
            for (int i = 0; i < 6; i++) {
                java.util.Arrays.fill(value, (byte) i);
                byte[] k = ("big" + i).getBytes();
                assertTrue(big.add(20 + i, InternalKey.TYPE_VALUE, k, 0, k.length, value, 0, value.length));
            }
            big.seal();
            MemoryNode.RemoteShard bg = offload(c, big).get(10, TimeUnit.SECONDS);
            List<MemoryNode.KeyGet> bigKeys = new ArrayList<>();
            for (int i = 5; i >= 0; i--) {
                bigKeys.add(new MemoryNode.KeyGet(List.of(n, bg), ("big" + i).getBytes()));
            }
            List<MemoryNode.GetResult> pages = c.multiGet(bigKeys, Long.MAX_VALUE);
            assertEquals(6, pages.size());
            for (int j = 0; j < 6; j++) {
                assertEquals(1, pages.get(j).shardIndex());
                assertEquals(900_000, pages.get(j).value().length);
                assertEquals((byte) (5 - j), pages.get(j).value()[899_999], "value of big" + (5 - j));
            }
            c.free(bg);
            c.free(o);
            c.free(n);
            DmAccessException gone = assertThrows(DmAccessException.class,
                    () -> c.multiGet(List.of(new MemoryNode.KeyGet(List.of(o), "a".getBytes())), 100));
            assertTrue(gone.getMessage().contains("does not exist"), gone.getMessage());
            // malformed MULTI_GETs are refused and the node goes on serving
            DmClient raw = (DmClient) c;
            for (byte[] bad : new byte[][] {new byte[3], new BodyWriter().i64(1).i32(0).toByteArray(),
                    new BodyWriter().i64(1).i32(1).lengthPrefixed(new byte[1]).i32(4000).toByteArray()}) {
                DmException e = assertThrows(DmException.class,
                        () -> raw.rawRequest(MessageHeaderDescriptor.PROTOCOL_VERSION, Opcode.MULTI_GET, bad));
                assertEquals(Status.BAD_REQUEST, e.status(), e.getMessage());
            }
            assertEquals(0, c.multiGet(List.of(new MemoryNode.KeyGet(List.of(), "a".getBytes())), 1).get(0).state());
        }
    }

    @Test
    void shouldOffloadLargeShardsInParallelAndReadThemBack() throws Exception {
        try (MemoryNode.Client c = connect(config(shared.port, SECRET, "db-big", 1, 0, 2))) {
            List<MemtableShard> shards = new ArrayList<>();
            List<CompletableFuture<MemoryNode.RemoteShard>> fs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                MemtableShard s = bigShard(i, 4 << 20, 1 + i * 1_000_000L);
                shards.add(s);
                fs.add(offload(c, s));
            }
            for (int i = 0; i < 5; i++) {
                MemoryNode.RemoteShard r = fs.get(i).get(20, TimeUnit.SECONDS);
                ByteBuffer back = ByteBuffer.allocateDirect(r.length());
                c.readBack(r, back);
                assertEquals(bytes(shards.get(i)).duplicate().limit(r.length()), back.duplicate().limit(r.length()));
                MemoryNode.GetResult g = c.get(List.of(r), "key00000007".getBytes(), Long.MAX_VALUE);
                assertEquals(1, g.state());
                assertEquals(8 + i * 1_000_000L, g.sequence());
                c.free(r);
            }
        }
    }

    @Test
    void shouldReadAnyPartOfAnOffloadedShardOneSidedAndNothingElse() throws Exception {
        try (MemoryNode.Client c = connect(config(shared.port, SECRET, "db-one-sided", 1, 0, 2))) {
            List<MemtableShard> shards = new ArrayList<>();
            List<MemoryNode.RemoteShard> remote = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                MemtableShard s = bigShard(i, 1 << 20, 1 + i * 1_000_000L);
                shards.add(s);
                remote.add(offload(c, s).get(20, TimeUnit.SECONDS));
            }
            // the first readMany of a client, of one read
            byte[] one = new byte[40];
            boolean[] served = c.readMany(List.of(remote.get(1)), new int[] {8}, new int[] {40}, new byte[][] {one});
            if (!served[0]) { // a transient timeout declines: once more
                served = c.readMany(List.of(remote.get(1)), new int[] {8}, new int[] {40}, new byte[][] {one});
            }
            assertTrue(served[0]);
            byte[] expectOne = new byte[40];
            bytes(shards.get(1)).duplicate().position(8).get(expectOne);
            assertArrayEquals(expectOne, one);
            java.util.Random rnd = new java.util.Random(5);
            for (int n = 0; n < 3000; n++) {
                int i = rnd.nextInt(3);
                MemoryNode.RemoteShard r = remote.get(i);
                int len = 1 + rnd.nextInt(300);
                int off = n % 100 == 0 ? r.length() - len : rnd.nextInt(r.length() - len); // the end included
                byte[] got = new byte[len];
                // a read may decline on a transient timeout (the engine then delegates): not three in a row here
                assertTrue(c.read(r, off, len, got) || c.read(r, off, len, got) || c.read(r, off, len, got),
                        "read " + n);
                byte[] want = new byte[len];
                bytes(shards.get(i)).duplicate().position(off).get(want);
                assertArrayEquals(want, got, "read " + n + " shard " + i + " [" + off + ", " + (off + len) + ")");
            }
            // many reads posted together: each lands in its own destination
            for (int round = 0; round < 200; round++) {
                int n = 1 + rnd.nextInt(40);
                List<MemoryNode.RemoteShard> which = new ArrayList<>();
                int[] offs = new int[n];
                int[] lens = new int[n];
                byte[][] dsts = new byte[n][];
                for (int j = 0; j < n; j++) {
                    int i = rnd.nextInt(3);
                    which.add(remote.get(i));
                    lens[j] = rnd.nextInt(300); // 0 included
                    offs[j] = rnd.nextInt(remote.get(i).length() - lens[j] + 1);
                    dsts[j] = new byte[lens[j] + rnd.nextInt(3)];
                }
                boolean[] ok = c.readMany(which, offs, lens, dsts);
                if (!ok[0]) {
                    ok = c.readMany(which, offs, lens, dsts); // a transient timeout declines the lot: once more
                }
                for (int j = 0; j < n; j++) {
                    assertTrue(ok[j], "round " + round + " read " + j);
                    byte[] want = new byte[lens[j]];
                    bytes(shards.get(remote.indexOf(which.get(j)))).duplicate().position(offs[j]).get(want);
                    assertArrayEquals(want, java.util.Arrays.copyOf(dsts[j], lens[j]), "round " + round + " read " + j);
                }
            }
            // outside the shard: refused; a shard this client does not hold (another object, or freed): not read
            byte[] dst = new byte[64];
            MemoryNode.RemoteShard r0 = remote.get(0);
            assertThrows(IllegalArgumentException.class, () -> c.read(r0, r0.length() - 10, 11, dst));
            assertThrows(IllegalArgumentException.class, () -> c.read(r0, -1, 4, dst));
            MemoryNode.RemoteShard forged = new MemoryNode.RemoteShard(r0.segmentId(), r0.shardId(), r0.length(),
                    r0.checksum(), r0.minSequence(), r0.maxSequence());
            assertFalse(c.read(forged, 0, 64, dst), "only the handle the offload returned reads");
            c.free(r0);
            assertFalse(c.read(r0, 0, 64, dst), "a freed segment is not read");
            assertTrue(c.read(remote.get(1), 0, 64, dst));
            byte[] d1 = new byte[64];
            byte[] d2 = new byte[64];
            boolean[] mixed = c.readMany(List.of(r0, remote.get(1), forged, remote.get(2)), new int[] {0, 64, 0, 128},
                    new int[] {64, 64, 64, 64}, new byte[][] {new byte[64], d1, new byte[64], d2});
            assertArrayEquals(new boolean[] {false, true, false, true}, mixed, "freed and forged shards are not read");
            byte[] want = new byte[64];
            bytes(shards.get(2)).duplicate().position(128).get(want);
            assertArrayEquals(want, d2);
            assertThrows(IllegalArgumentException.class, () -> c.readMany(List.of(remote.get(1)), new int[] {-1},
                    new int[] {4}, new byte[][] {new byte[4]}));
        }
    }

    @Test
    void shouldRefuseWrongSecret() {
        DmAuthException e = assertThrows(DmAuthException.class,
                () -> connect(config(shared.port, "not-the-cluster-secret!!", "db-x", 1, 0, 4)));
        assertTrue(e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void shouldNotLetOneDbReadOrFreeAnothersSegments() throws Exception {
        try (MemoryNode.Client owner = connect(shared.port, "db-owner");
                MemoryNode.Client other = connect(shared.port, "db-other")) {
            MemtableShard s = shard(3, 4096, put("k", 1, "secret-value"));
            MemoryNode.RemoteShard r = offload(owner, s).get(10, TimeUnit.SECONDS);

            DmAccessException e = assertThrows(DmAccessException.class,
                    () -> other.get(List.of(r), "k".getBytes(), Long.MAX_VALUE));
            assertTrue(e.getMessage().contains("another DB"), e.getMessage());
            assertThrows(DmAccessException.class, () -> other.scan(List.of(r), null, false, false, 10, 1 << 20));
            assertThrows(DmAccessException.class, () -> other.readBack(r, ByteBuffer.allocateDirect(r.length())));
            assertThrows(DmAccessException.class, () -> other.free(r));

            MemoryNode.GetResult g = owner.get(List.of(r), "k".getBytes(), Long.MAX_VALUE);
            assertEquals("secret-value", str(g.value()));
            owner.free(r);
        }
    }

    @Test
    void shouldFreeOlderEpochsSegmentsWhenANewerEpochConnects() throws Exception {
        MemoryNode.RemoteShard r;
        try (MemoryNode.Client e1 = connect(config(shared.port, SECRET, "db-epoch", 1, 0, 4))) {
            r = offload(e1, shard(4, 4096, put("k", 1, "v"))).get(10, TimeUnit.SECONDS);
            try (MemoryNode.Client e2 = connect(config(shared.port, SECRET, "db-epoch", 2, 0, 4))) {
                assertThrows(DmStaleEpochException.class, () -> e1.get(List.of(r), "k".getBytes(), 5));
                assertThrows(DmAccessException.class, () -> e2.get(List.of(r), "k".getBytes(), 5));
            }
        }
        assertThrows(DmStaleEpochException.class, () -> connect(config(shared.port, SECRET, "db-epoch", 1, 0, 4)));
    }

    @Test
    void shouldRefuseWhenPoolOrBudgetIsFull() throws Exception {
        Path d = dir.resolve("full");
        java.nio.file.Files.createDirectories(d);
        try (MemNodeProcess small = new MemNodeProcess(d, MemNodeProcess.freePort(), "2m", secretFile).start();
                MemoryNode.Client c = connect(small.port, "db-full");
                MemoryNode.Client budgeted = connect(config(small.port, SECRET, "db-budget", 1, 100_000, 4))) {
            MemtableShard s = bigShard(1, 900_000, 1);
            offload(c, s).get(10, TimeUnit.SECONDS);
            offload(c, s).get(10, TimeUnit.SECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> offload(c, s).get(10, TimeUnit.SECONDS));
            assertInstanceOf(DmFullException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("pool full"), e.getCause().getMessage());

            MemtableShard mid = bigShard(2, 60_000, 1);
            offload(budgeted, mid).get(10, TimeUnit.SECONDS);
            e = assertThrows(ExecutionException.class, () -> offload(budgeted, mid).get(10, TimeUnit.SECONDS));
            assertInstanceOf(DmFullException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("budget"), e.getCause().getMessage());
        }
    }

    @Test
    void shouldFailPendingOffloadsFastWhenTheNodeIsKilledAndReconnectAfterRestart() throws Exception {
        Path d = dir.resolve("kill");
        java.nio.file.Files.createDirectories(d);
        int port = MemNodeProcess.freePort();
        MemNodeProcess node = new MemNodeProcess(d, port, "256m", secretFile).start();
        try (MemoryNode.Client c = connect(config(port, SECRET, "db-kill", 7, 0, 4))) {
            MemoryNode.RemoteShard old = offload(c, shard(5, 4096, put("apple", 1, "a1"))).get(10, TimeUnit.SECONDS);
            MemtableShard s = bigShard(1, 8 << 20, 1);
            List<CompletableFuture<MemoryNode.RemoteShard>> fs = new ArrayList<>();
            List<MemoryNode.RemoteShard> done = new ArrayList<>();
            // keep offloads in flight, freeing completed ones, until the node is killed
            long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
            boolean killed = false;
            while (!killed) {
                fs.removeIf(f -> {
                    if (f.isDone() && !f.isCompletedExceptionally()) {
                        done.add(f.join());
                        return true;
                    }
                    return false;
                });
                while (fs.size() < 16) {
                    fs.add(offload(c, s));
                }
                for (MemoryNode.RemoteShard r : done) {
                    c.free(r);
                }
                done.clear();
                if (System.nanoTime() > killAt) {
                    node.kill9();
                    for (int i = 0; i < 16; i++) { // in flight while the process dies
                        fs.add(offload(c, s));
                    }
                    killed = true;
                }
                Thread.sleep(5);
            }
            long t0 = System.nanoTime();
            int failed = 0;
            for (CompletableFuture<MemoryNode.RemoteShard> f : fs) {
                try {
                    f.get(5, TimeUnit.SECONDS); // bounded: a dead peer is reported, nothing hangs
                } catch (ExecutionException e) {
                    assertInstanceOf(DmUnavailableException.class, e.getCause(), String.valueOf(e.getCause()));
                    failed++;
                }
            }
            double waitedMs = (System.nanoTime() - t0) / 1e6;
            assertTrue(node.waitForExit());
            assertTrue(failed > 0, "no offload was pending when the node died");
            assertFalse(c.isConnected());
            System.out.printf("kill -9: %d pending offloads failed within %.0f ms of the kill%n", failed, waitedMs);
            ExecutionException e = assertThrows(ExecutionException.class, () -> offload(c, s).get(1, TimeUnit.SECONDS));
            assertInstanceOf(DmUnavailableException.class, e.getCause());
            assertThrows(DmUnavailableException.class, () -> c.get(List.of(), "k".getBytes(), 1));

            node = new MemNodeProcess(d, port, "256m", secretFile).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!c.isConnected() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(c.isConnected(), "client did not reconnect to the restarted node");
            MemoryNode.RemoteShard again = offload(c, s).get(10, TimeUnit.SECONDS);
            assertEquals(1, c.get(List.of(again), "key00000001".getBytes(), Long.MAX_VALUE).state());
            // same DB id and epoch as before the restart: a handle from the dead instance must name
            // nothing on the new one (not another shard that happens to get the same id)
            MemoryNode.RemoteShard fresh = offload(c, shard(6, 4096, put("zebra", 9, "z9"))).get(10, TimeUnit.SECONDS);
            assertTrue(fresh.segmentId() != old.segmentId() && again.segmentId() != old.segmentId());
            assertThrows(DmAccessException.class, () -> c.get(List.of(old), "apple".getBytes(), Long.MAX_VALUE));
            assertThrows(DmAccessException.class, () -> c.scan(List.of(old), null, false, false, 10, 1 << 20));
            assertThrows(DmAccessException.class, () -> c.readBack(old, ByteBuffer.allocateDirect(old.length())));
        } finally {
            node.close();
        }
    }

    @Test
    void shouldRefuseBadArgumentsAndATakenPort() throws Exception {
        Path d = dir.resolve("args");
        java.nio.file.Files.createDirectories(d);
        MemNodeProcess bad = new MemNodeProcess(d, 1, "lots", secretFile);
        assertEquals(2, bad.runToExit(20));
        assertTrue(bad.output().contains("--capacity expects a size"), bad.output());

        MemNodeProcess taken = new MemNodeProcess(d, shared.port, "8m", secretFile);
        assertEquals(3, taken.runToExit(20));
        assertTrue(taken.output().contains("cannot listen on 127.0.0.1:" + shared.port), taken.output());
    }

    static void check(boolean b, String what) {
        if (!b) {
            fail(what);
        }
    }
}
