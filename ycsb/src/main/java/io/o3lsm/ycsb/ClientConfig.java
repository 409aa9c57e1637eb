package io.o3lsm.ycsb;

import io.o3lsm.Compression;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import io.o3lsm.spi.FlushExecutor;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import site.ycsb.DBException;

/**
 * The {@code o3.*} properties of a YCSB run, checked and turned into the DB's directory,
 * {@link Options} and {@link WriteOptions} ({@link #from}). Every problem is a {@link DBException}
 * whose message names the property. Immutable once built.
 *
 * <table>
 * <caption>Properties (defaults as {@code bin/o3 bench}'s, so the two tools' figures compare)</caption>
 * <tr><th>property</th><th>default</th><th>meaning</th></tr>
 * <tr><td>o3.dir</td><td>required</td><td>the DB directory; relative: under the cluster's storage root
 * with {@code o3.cluster}, else under the working directory</td></tr>
 * <tr><td>o3.mode</td><td>local</td><td>local, dm, dm-flush, caas or o3 ({@code bin/o3 bench --mode})</td></tr>
 * <tr><td>o3.cluster</td><td>required but in local mode</td><td>the run directory of {@code bin/o3 cluster up};
 * relative: to the working directory (the caller's, with {@code bin/o3 ycsb})</td></tr>
 * <tr><td>o3.local_budget</td><td>64m; 16m in dm, dm-flush, o3</td><td>the write buffer in this process</td></tr>
 * <tr><td>o3.dm_budget</td><td>1g</td><td>dm, dm-flush, o3: the write buffer's share on the memory node</td></tr>
 * <tr><td>o3.flush_placement</td><td>load</td><td>dm-flush, o3: load (a worker less loaded than this process) or always</td></tr>
 * <tr><td>o3.flush_min_bytes</td><td>16m (o3's)</td><td>dm-flush, o3: a flush of fewer shard bytes runs locally</td></tr>
 * <tr><td>o3.block_cache</td><td>64m</td><td>block cache, 0 = none</td></tr>
 * <tr><td>o3.compression</td><td>none</td><td>none or lz4</td></tr>
 * <tr><td>o3.sync</td><td>false</td><td>fsync the WAL on every write</td></tr>
 * <tr><td>o3.disable_wal</td><td>false</td><td>skip the WAL ({@link O3Client} then flushes the DB when it closes it)</td></tr>
 * <tr><td>o3.attach_timeout</td><td>30</td><td>seconds to wait for the DB to attach to the memory node</td></tr>
 * </table>
 */
public final class ClientConfig {
    public static final String DIR = "o3.dir";
    public static final String MODE = "o3.mode";
    public static final String CLUSTER = "o3.cluster";
    public static final String LOCAL_BUDGET = "o3.local_budget";
    public static final String DM_BUDGET = "o3.dm_budget";
    public static final String FLUSH_PLACEMENT = "o3.flush_placement";
    public static final String FLUSH_MIN_BYTES = "o3.flush_min_bytes";
    public static final String BLOCK_CACHE = "o3.block_cache";
    public static final String COMPRESSION = "o3.compression";
    public static final String SYNC = "o3.sync";
    public static final String DISABLE_WAL = "o3.disable_wal";
    public static final String ATTACH_TIMEOUT = "o3.attach_timeout";
    /** Every property this binding reads; any other {@code o3.*} property is refused as a likely typo. */
    public static final Set<String> PROPERTIES = Set.of(DIR, MODE, CLUSTER, LOCAL_BUDGET, DM_BUDGET, FLUSH_PLACEMENT,
            FLUSH_MIN_BYTES, BLOCK_CACHE, COMPRESSION, SYNC, DISABLE_WAL, ATTACH_TIMEOUT);
    /** The modes, as {@code bin/o3 bench --mode}. */
    public static final List<String> MODES = List.of("local", "dm", "dm-flush", "caas", "o3");

    static final long DEFAULT_LOCAL_BUDGET = 64L << 20;
    static final long DEFAULT_DM_LOCAL_BUDGET = 16L << 20;
    static final long DEFAULT_DM_BUDGET = 1L << 30;
    static final long DEFAULT_BLOCK_CACHE = 64L << 20;
    static final int DEFAULT_ATTACH_TIMEOUT_SECONDS = 30;

    private final Path dir;
    private final String mode;
    private final Path cluster;
    private final String memoryNode;
    private final Options options;
    private final WriteOptions writeOptions;
    private final int attachTimeoutSeconds;

    private ClientConfig(Path dir, String mode, Path cluster, String memoryNode, Options options,
            WriteOptions writeOptions, int attachTimeoutSeconds) {
        this.dir = dir;
        this.mode = mode;
        this.cluster = cluster;
        this.memoryNode = memoryNode;
        this.options = options;
        this.writeOptions = writeOptions;
        this.attachTimeoutSeconds = attachTimeoutSeconds;
    }

    /** Checks the {@code o3.*} properties of {@code p} and builds the configuration they describe. */
    public static ClientConfig from(Properties p) throws DBException {
        Set<String> unknown = new TreeSet<>();
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith("o3.") && !PROPERTIES.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new DBException("unknown propert" + (unknown.size() == 1 ? "y " : "ies ") + String.join(", ", unknown)
                    + " (this binding reads " + String.join(", ", new TreeSet<>(PROPERTIES)) + ")");
        }
        String mode = p.getProperty(MODE, "local").trim().toLowerCase(Locale.ROOT);
        if (!MODES.contains(mode)) {
            throw new DBException(MODE + " must be one of " + String.join(", ", MODES) + ", was '"
                    + p.getProperty(MODE) + "'");
        }
        String dirText = p.getProperty(DIR);
        if (dirText == null || dirText.isBlank()) {
            throw new DBException(DIR + " is required: the DB directory (e.g. -p " + DIR + "=/tmp/o3-ycsb)");
        }
        Path dirPath = path(DIR, dirText.trim());
        boolean dm = isDm(mode);
        long localBudget = size(p, LOCAL_BUDGET, dm ? DEFAULT_DM_LOCAL_BUDGET : DEFAULT_LOCAL_BUDGET, 1L << 20);
        long dmBudget = size(p, DM_BUDGET, DEFAULT_DM_BUDGET, 1L << 20);
        long blockCache = size(p, BLOCK_CACHE, DEFAULT_BLOCK_CACHE, 0);
        String compressionText = p.getProperty(COMPRESSION, "none").trim().toLowerCase(Locale.ROOT);
        Compression compression = switch (compressionText) {
            case "none" -> Compression.NONE;
            case "lz4" -> Compression.LZ4;
            default -> throw new DBException(COMPRESSION + " must be none or lz4, was '" + p.getProperty(COMPRESSION) + "'");
        };
        String placementText = p.getProperty(FLUSH_PLACEMENT, "load").trim().toLowerCase(Locale.ROOT);
        FlushExecutor.Placement placement = switch (placementText) {
            case "load" -> FlushExecutor.Placement.LOAD;
            case "always" -> FlushExecutor.Placement.ALWAYS;
            default -> throw new DBException(FLUSH_PLACEMENT + " must be load or always, was '"
                    + p.getProperty(FLUSH_PLACEMENT) + "'");
        };
        long flushMinBytes = size(p, FLUSH_MIN_BYTES, Options.defaults().flushOffloadMinBytes(), 0);
        boolean sync = bool(p, SYNC);
        boolean disableWal = bool(p, DISABLE_WAL);
        if (sync && disableWal) {
            throw new DBException(SYNC + "=true and " + DISABLE_WAL + "=true exclude each other (no WAL to fsync)");
        }
        int attachTimeout = (int) number(p, ATTACH_TIMEOUT, DEFAULT_ATTACH_TIMEOUT_SECONDS, 1, 3600);

        Options o = Options.defaults().writeBufferSize(localBudget).blockCacheSize(blockCache).compression(compression);
        String clusterText = p.getProperty(CLUSTER);
        Path cluster = null;
        String memoryNode = null;
        Path dir;
        if (mode.equals("local")) {
            if (clusterText != null && !clusterText.isBlank()) {
                throw new DBException(CLUSTER + " needs a mode that uses the memory node (" + MODE
                        + "=dm, dm-flush, caas or o3), not local");
            }
            dir = dirPath.toAbsolutePath().normalize();
        } else {
            if (clusterText == null || clusterText.isBlank()) {
                throw new DBException(CLUSTER + " is required in " + MODE + "=" + mode
                        + ": the run directory of bin/o3 cluster up (e.g. -p " + CLUSTER + "=$HOME/.o3lsm/cluster)");
            }
            cluster = path(CLUSTER, clusterText.trim()).toAbsolutePath().normalize();
            Properties cp = new Properties();
            Path file = cluster.resolve("cluster.properties");
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                cp.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new DBException(CLUSTER + " " + cluster + ": cannot read " + file + " (start a cluster with "
                        + "bin/o3 cluster up --dir " + cluster + "): " + e);
            }
            memoryNode = cp.getProperty("memnode");
            if (memoryNode == null || memoryNode.isBlank()) {
                throw new DBException(CLUSTER + " " + cluster + ": " + file + " names no memory node (memnode=)");
            }
            if (!memoryNodeRuns(cluster)) {
                throw new DBException(CLUSTER + " " + cluster + ": its memory node does not run (no live pid in "
                        + cluster.resolve("run/memnode.pid") + "; bin/o3 cluster status --dir " + cluster + ")");
            }
            Path secret = path(CLUSTER, cp.getProperty("secret-file", cluster.resolve("secret").toString()));
            if (!Files.isReadable(secret)) {
                throw new DBException(CLUSTER + " " + cluster + ": the secret file " + secret + " is not readable");
            }
            String storageText = cp.getProperty("storage", cluster.resolve("storage").toString());
            String scheme;
            try {
                scheme = io.o3lsm.spi.FileSystem.location(storageText).getScheme();
            } catch (IllegalArgumentException e) {
                throw new DBException(CLUSTER + " " + cluster + ": a bad storage in cluster.properties: " + e.getMessage());
            }
            if (scheme != null && !scheme.equalsIgnoreCase("file")) {
                throw new DBException(CLUSTER + " " + cluster + ": its storage is " + storageText + " (bin/o3 cluster up "
                        + "--storage); this binding opens DBs in a local directory only");
            }
            Path storage = path(CLUSTER, storageText).toAbsolutePath().normalize();
            dir = storage.resolve(dirPath).normalize(); // an absolute o3.dir stays as given
            if ((offloadsFlushes(mode) || offloadsCompactions(mode)) && !dir.startsWith(storage)) {
                throw new DBException(DIR + " " + dir + " is not under the cluster's storage root " + storage + ": in "
                        + MODE + "=" + mode + " flush workers and compactors find a DB only there (give " + DIR
                        + " relative to it)");
            }
            o.memoryNode(memoryNode, secret);
            if (offloadsCompactions(mode)) {
                // as bin/o3 bench: two compactions at once, each split in up to two parts, so the
                // compactors' slots get used
                o.compactionOffload(true).maxBackgroundCompactions(2).maxSubcompactions(2);
                if (mode.equals("caas")) {
                    o.memtableOffload(false); // the memory node is only the coordinator
                }
            }
            if (dm) {
                o.localMemoryBudget(localBudget).dmBudget(dmBudget);
                if (offloadsFlushes(mode)) {
                    o.flushOffload(true).flushOffloadPlacement(placement).flushOffloadMinBytes(flushMinBytes);
                }
            }
        }
        try {
            o.validate();
        } catch (IllegalArgumentException e) {
            throw new DBException("the o3.* properties make invalid options: " + e.getMessage(), e);
        }
        return new ClientConfig(dir, mode, cluster, memoryNode, o,
                WriteOptions.defaults().sync(sync).disableWal(disableWal), attachTimeout);
    }

    /** Whether flushes in {@code mode} run on flush workers (dm-flush, o3). */
    static boolean offloadsFlushes(String mode) {
        return mode.equals("dm-flush") || mode.equals("o3");
    }

    /** Whether compactions in {@code mode} run on compactors (caas, o3). */
    static boolean offloadsCompactions(String mode) {
        return mode.equals("caas") || mode.equals("o3");
    }

    /** Whether {@code mode} keeps the write buffer on a memory node (dm, dm-flush, o3). */
    static boolean isDm(String mode) {
        return mode.equals("dm") || offloadsFlushes(mode);
    }

    /** Whether {@code cluster/run/memnode.pid} names a live process ({@code bin/o3 cluster down} removes the file). */
    static boolean memoryNodeRuns(Path cluster) {
        try {
            long pid = Long.parseLong(Files.readString(cluster.resolve("run").resolve("memnode.pid"),
                    StandardCharsets.UTF_8).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static Path path(String property, String text) throws DBException {
        try {
            return Path.of(text.startsWith("~/") ? System.getProperty("user.home") + text.substring(1) : text);
        } catch (InvalidPathException e) {
            throw new DBException(property + " is not a path: '" + text + "' (" + e.getMessage() + ")");
        }
    }

    private static boolean bool(Properties p, String name) throws DBException {
        String v = p.getProperty(name, "false").trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new DBException(name + " must be true or false, was '" + p.getProperty(name) + "'");
        };
    }

    private static long number(Properties p, String name, long dflt, long min, long max) throws DBException {
        String v = p.getProperty(name);
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new DBException(name + " must be a whole number, was '" + v + "'");
        }
        if (n < min || n > max) {
            throw new DBException(name + " must be in [" + min + ", " + max + "], was " + n);
        }
        return n;
    }

    /** A size such as 65536, 64k, 64m, 1g (binary units), at least {@code min}. */
    static long size(Properties p, String name, long dflt, long min) throws DBException {
        String v = p.getProperty(name);
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = io.o3lsm.Sizes.parse(v);
        } catch (IllegalArgumentException e) {
            throw new DBException(name + " is " + e.getMessage().replaceFirst("^size ", ""));
        }
        if (n < min) {
            throw new DBException(name + " must be at least " + min + " bytes, was '" + v + "'");
        }
        return n;
    }

    /** The DB directory (absolute). */
    public Path dir() {
        return dir;
    }

    public String mode() {
        return mode;
    }

    /** The cluster's run directory, or null in local mode. */
    public Path cluster() {
        return cluster;
    }

    /** The memory node's {@code host:port}, or null in local mode. */
    public String memoryNode() {
        return memoryNode;
    }

    /** The options to open the DB with (a copy each call). */
    public Options options() {
        return options.copy();
    }

    /** The options of every write (a copy each call). */
    public WriteOptions writeOptions() {
        return writeOptions.copy();
    }

    public int attachTimeoutSeconds() {
        return attachTimeoutSeconds;
    }

    /** Whether a DB opened with this configuration serves {@code other} too (same directory and mode). */
    boolean sameDb(ClientConfig other) {
        return dir.equals(other.dir) && mode.equals(other.mode) && java.util.Objects.equals(cluster, other.cluster);
    }

    @Override
    public String toString() {
        return "mode=" + mode + " dir=" + dir + (cluster != null ? " cluster=" + cluster + " memoryNode=" + memoryNode : "")
                + " " + options + " " + writeOptions;
    }
}
