package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.Compression;
import io.o3lsm.Options;
import io.o3lsm.spi.FlushExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.DBException;

/** {@link ClientConfig}: every bad property is a {@link DBException} naming it; the defaults of each mode. */
class ClientConfigTest {
    @TempDir
    Path tmp;

    private static Properties props(String... nameValue) {
        Properties p = new Properties();
        for (int i = 0; i < nameValue.length; i += 2) {
            p.setProperty(nameValue[i], nameValue[i + 1]);
        }
        return p;
    }

    /** Asserts that {@code p} is refused with a message containing each of {@code words}; returns it. */
    private static String refused(Properties p, String... words) {
        DBException e = assertThrows(DBException.class, () -> ClientConfig.from(p));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
        return e.getMessage();
    }

    /** A run directory as bin/o3 cluster up leaves it, with {@code pid} as the memory node's pid. */
    private Path cluster(String name, long pid, boolean secret) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.createDirectories(dir.resolve("run"));
        Files.createDirectories(dir.resolve("storage"));
        Files.writeString(dir.resolve("run/memnode.pid"), pid + "\n");
        if (secret) {
            Files.writeString(dir.resolve("secret"), "00".repeat(32) + "\n");
        }
        Files.writeString(dir.resolve("cluster.properties"), "memnode=127.0.0.1:7420\nsecret-file=" + dir.resolve("secret")
                + "\nstorage=" + dir.resolve("storage") + "\n");
        return dir;
    }

    @Test
    void shouldRefuseBadPropertiesNamingThem() throws Exception {
        String d = tmp.resolve("db").toString();
        refused(props(), "o3.dir", "required");
        refused(props("o3.dir", " "), "o3.dir");
        refused(props("o3.dir", d, "o3.mode", "remote"), "o3.mode", "remote", "local, dm, dm-flush, caas, o3");
        refused(props("o3.dir", d, "o3.cluster", tmp.toString()), "o3.cluster", "not local");
        refused(props("o3.dir", d, "o3.local_budget", "lots"), "o3.local_budget", "not a size");
        refused(props("o3.dir", d, "o3.local_budget", "512k"), "o3.local_budget", "at least");
        refused(props("o3.dir", d, "o3.dm_budget", "99999999999t"), "o3.dm_budget", "too large");
        refused(props("o3.dir", d, "o3.block_cache", "-1"), "o3.block_cache");
        refused(props("o3.dir", d, "o3.compression", "snappy"), "o3.compression", "none or lz4");
        refused(props("o3.dir", d, "o3.flush_placement", "anywhere"), "o3.flush_placement", "load or always");
        refused(props("o3.dir", d, "o3.flush_min_bytes", "-1"), "o3.flush_min_bytes", "not a size");
        refused(props("o3.dir", d, "o3.sync", "yes"), "o3.sync", "true or false");
        refused(props("o3.dir", d, "o3.disable_wal", "1"), "o3.disable_wal");
        refused(props("o3.dir", d, "o3.disable_wal", "true", "o3.sync", "true"), "o3.sync", "o3.disable_wal");
        refused(props("o3.dir", d, "o3.attach_timeout", "0"), "o3.attach_timeout");
        refused(props("o3.dir", d, "o3.attach_timeout", "soon"), "o3.attach_timeout");
        refused(props("o3.dir", d, "o3.localbudget", "16m", "o3.Mode", "dm"), "o3.Mode, o3.localbudget", "o3.local_budget");
    }

    @Test
    void shouldRefuseAClusterThatIsNotThere() throws Exception {
        String d = "db";
        for (String mode : ClientConfig.MODES) {
            if (!mode.equals("local")) {
                refused(props("o3.dir", d, "o3.mode", mode), "o3.cluster", "required", "o3.mode=" + mode);
            }
        }
        refused(props("o3.dir", d, "o3.mode", "dm", "o3.cluster", tmp.resolve("none").toString()),
                "o3.cluster", "cluster.properties", "bin/o3 cluster up");
        Path noNode = Files.createDirectories(tmp.resolve("no-node"));
        Files.writeString(noNode.resolve("cluster.properties"), "storage=/x\n");
        refused(props("o3.dir", d, "o3.mode", "dm", "o3.cluster", noNode.toString()), "o3.cluster", "names no memory node");
        // a pid no process has (pid files are removed by down; this one is stale)
        Path down = cluster("down", Long.MAX_VALUE, true);
        refused(props("o3.dir", d, "o3.mode", "dm", "o3.cluster", down.toString()), "o3.cluster", "does not run");
        Files.delete(down.resolve("run/memnode.pid"));
        refused(props("o3.dir", d, "o3.mode", "dm", "o3.cluster", down.toString()), "o3.cluster", "does not run");
        Path noSecret = cluster("no-secret", ProcessHandle.current().pid(), false);
        refused(props("o3.dir", d, "o3.mode", "dm", "o3.cluster", noSecret.toString()), "o3.cluster", "secret");
        Path onHdfs = cluster("on-hdfs", ProcessHandle.current().pid(), true);
        Files.writeString(onHdfs.resolve("cluster.properties"), "memnode=127.0.0.1:7420\nsecret-file="
                + onHdfs.resolve("secret") + "\nstorage=hdfs://127.0.0.1:8020/o3-cluster\n");
        refused(props("o3.dir", d, "o3.mode", "o3", "o3.cluster", onHdfs.toString()), "o3.cluster",
                "hdfs://127.0.0.1:8020/o3-cluster", "local directory only");
    }

    @Test
    void shouldPutTheDbUnderTheStorageRootWhenFlushesOrCompactionsAreOffloaded() throws Exception {
        Path c = cluster("c", ProcessHandle.current().pid(), true);
        Path storage = c.resolve("storage");
        for (String mode : new String[] {"dm-flush", "caas", "o3"}) {
            refused(props("o3.dir", tmp.resolve("elsewhere").toString(), "o3.mode", mode, "o3.cluster", c.toString()),
                    "o3.dir", "storage root", storage.toString());
            refused(props("o3.dir", "../escape", "o3.mode", mode, "o3.cluster", c.toString()), "o3.dir", "storage root");
            assertEquals(storage.resolve("ycsb/db"),
                    ClientConfig.from(props("o3.dir", "ycsb/db", "o3.mode", mode, "o3.cluster", c.toString())).dir());
            assertEquals(storage.resolve("abs"),
                    ClientConfig.from(props("o3.dir", storage.resolve("abs").toString(), "o3.mode", mode,
                            "o3.cluster", c.toString())).dir());
        }
        // dm offloads neither: an absolute directory anywhere is fine, a relative one is still under the root
        Path anywhere = tmp.resolve("elsewhere");
        assertEquals(anywhere, ClientConfig.from(props("o3.dir", anywhere.toString(), "o3.mode", "dm",
                "o3.cluster", c.toString())).dir());
        assertEquals(storage.resolve("db"), ClientConfig.from(props("o3.dir", "db", "o3.mode", "dm",
                "o3.cluster", c.toString())).dir());
    }

    @Test
    void shouldSetEachModesOptionsWithTheRunnersDefaults() throws Exception {
        ClientConfig local = ClientConfig.from(props("o3.dir", "rel/db"));
        assertEquals(Path.of("rel/db").toAbsolutePath().normalize(), local.dir());
        Options o = local.options();
        assertEquals(64L << 20, o.writeBufferSize());
        assertEquals(64L << 20, o.blockCacheSize());
        assertEquals(Compression.NONE, o.compression());
        assertNull(o.memoryNodeAddress());
        assertFalse(local.writeOptions().sync());
        assertFalse(local.writeOptions().disableWal());

        ClientConfig tuned = ClientConfig.from(props("o3.dir", "db", "o3.local_budget", "8m", "o3.block_cache", "0",
                "o3.compression", "LZ4", "o3.sync", "true", "o3.attach_timeout", "5"));
        assertEquals(8L << 20, tuned.options().writeBufferSize());
        assertEquals(0, tuned.options().blockCacheSize());
        assertEquals(Compression.LZ4, tuned.options().compression());
        assertTrue(tuned.writeOptions().sync());
        assertEquals(5, tuned.attachTimeoutSeconds());

        Path c = cluster("c", ProcessHandle.current().pid(), true);
        ClientConfig dm = ClientConfig.from(props("o3.dir", "db", "o3.mode", "DM", "o3.cluster", c.toString()));
        assertEquals("dm", dm.mode());
        assertEquals("127.0.0.1:7420", dm.options().memoryNodeAddress());
        assertEquals(c.resolve("secret"), dm.options().memoryNodeSecretFile());
        assertEquals(16L << 20, dm.options().localMemoryBudget());
        assertEquals(1L << 30, dm.options().dmBudget());
        assertFalse(dm.options().flushOffload());
        assertFalse(dm.options().compactionOffload());

        Options dmFlush = ClientConfig.from(props("o3.dir", "db", "o3.mode", "dm-flush", "o3.cluster", c.toString(),
                "o3.dm_budget", "64m")).options();
        assertTrue(dmFlush.flushOffload());
        assertEquals(FlushExecutor.Placement.LOAD, dmFlush.flushOffloadPlacement());
        assertEquals(16L << 20, dmFlush.flushOffloadMinBytes());
        assertFalse(dmFlush.compactionOffload());
        assertEquals(64L << 20, dmFlush.dmBudget());

        Options caas = ClientConfig.from(props("o3.dir", "db", "o3.mode", "caas", "o3.cluster", c.toString())).options();
        assertTrue(caas.compactionOffload());
        assertFalse(caas.memtableOffload());
        assertFalse(caas.flushOffload());
        assertEquals(64L << 20, caas.writeBufferSize(), "caas keeps the write buffer local: the local default");

        Options o3 = ClientConfig.from(props("o3.dir", "db", "o3.mode", "o3", "o3.cluster", c.toString(),
                "o3.flush_placement", "always", "o3.flush_min_bytes", "1m")).options();
        assertTrue(o3.flushOffload() && o3.compactionOffload() && o3.memtableOffload());
        assertEquals(FlushExecutor.Placement.ALWAYS, o3.flushOffloadPlacement());
        assertEquals(1L << 20, o3.flushOffloadMinBytes());
        assertEquals(2, o3.maxSubcompactions());
    }

    @Test
    void shouldRefuseBadPropertiesAtInitThroughTheClient() {
        O3Client client = new O3Client();
        client.setProperties(props("o3.mode", "local"));
        DBException e = assertThrows(DBException.class, client::init);
        assertTrue(e.getMessage().contains("o3.dir"), e.getMessage());
        client.setProperties(props("o3.dir", tmp.resolve("db").toString(), "o3.mode", "o3"));
        e = assertThrows(DBException.class, client::init);
        assertTrue(e.getMessage().contains("o3.cluster"), e.getMessage());
        assertNull(client.db());
    }
}
