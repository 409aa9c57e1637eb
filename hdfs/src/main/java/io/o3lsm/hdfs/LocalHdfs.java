package io.o3lsm.hdfs;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.DatanodeInfo;
import org.apache.hadoop.hdfs.protocol.HdfsConstants.DatanodeReportType;

/**
 * {@code bin/o3 hdfs up|down|status}: a local HDFS for users who have none — one NameNode and
 * {@code N} DataNodes, each a separate background JVM started from the jars Maven already fetched
 * (this process's class path: {@code hdfs/target/hdfs-lib}), all listening on 127.0.0.1 only.
 * Operations guide: {@code docs/operations/hdfs.md}.
 *
 * <p>Everything lives under one state directory ({@code --dir}, default {@code ~/.o3lsm/hdfs}):
 * <pre>
 *   cluster.properties      port, http-port, datanodes of the last {@code up}
 *   conf/ROLE/              core-site.xml, hdfs-site.xml, simplelogger.properties of each daemon
 *                           (first on its class path); ROLE is namenode or datanode-I
 *   name/                   the NameNode's metadata (formatted by the first {@code up})
 *   data/datanode-I/        each DataNode's blocks
 *   logs/ROLE.log           each daemon's output (WARN and above unless --log-level); namenode-format.log
 *   run/ROLE.pid            pid of each running daemon
 *   tmp/                    the daemons' java.io.tmpdir and hadoop.tmp.dir
 * </pre>
 *
 * <p>{@code up} formats on first use, refuses when daemons of this directory still run, starts the
 * NameNode and the DataNodes, waits until the NameNode reports every DataNode live and has left
 * safe mode, prints the {@code hdfs://127.0.0.1:PORT} URI alone on stdout (so scripts can capture
 * it) and how to stop it on stderr. A start that fails stops whatever it started. {@code down}
 * sends SIGTERM, waits {@code --grace} seconds, then SIGKILLs what is left. Not thread-safe; two
 * commands on one state directory exclude each other with a file lock.
 *
 * <p>Exit codes: 0 done (status: every daemon runs and every DataNode is live); 1 failed (the
 * message says why and names the log); 2 bad arguments; 3 {@code up}: already running,
 * {@code status}: not running; 4 {@code status}: partly running.
 */
public final class LocalHdfs {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_ALREADY_RUNNING = 3;
    static final int EXIT_NOT_RUNNING = 3;
    static final int EXIT_PARTLY_RUNNING = 4;

    static final String NAMENODE_CLASS = "org.apache.hadoop.hdfs.server.namenode.NameNode";
    static final String DATANODE_CLASS = "org.apache.hadoop.hdfs.server.datanode.DataNode";
    /** A daemon's JVM carries {@code -Do3lsm.hdfs.daemon=ROLE@STATE_DIR}: how a pid is told apart from a reused one. */
    static final String MARKER = "-Do3lsm.hdfs.daemon=";
    static final String DEFAULT_JAVA_OPTS = "-Xms64m -Xmx512m -XX:+UseSerialGC";

    static final String USAGE = String.join("\n",
            "usage: bin/o3 hdfs up     [--dir DIR] [--datanodes N] [--port P] [--http-port P] [--timeout SECONDS] [--log-level LEVEL]",
            "       bin/o3 hdfs down   [--dir DIR] [--grace SECONDS]",
            "       bin/o3 hdfs status [--dir DIR]",
            "  A local HDFS (one NameNode, N DataNodes, each a background JVM on 127.0.0.1) from the jars Maven fetched.",
            "  --dir DIR          state, data and logs (default ~/.o3lsm/hdfs, or $O3_HDFS_DIR)",
            "  --datanodes N      DataNodes to run, 1..16 (default 3, or what the last up used); replication min(3, N)",
            "  --port P           NameNode RPC port: the URI is hdfs://127.0.0.1:P (default 8020, or the last up's; 0: a free one)",
            "  --http-port P      NameNode web UI (default 9870, or the last up's; 0: a free one)",
            "  --timeout SECONDS  up: how long to wait for every DataNode to be live (default 120)",
            "  --log-level LEVEL  up: the daemons' log level: error, warn (default), info, debug",
            "  --grace SECONDS    down: how long SIGTERM has before SIGKILL (default 30)",
            "  Daemon JVM flags: $O3_HDFS_JAVA_OPTS (default " + DEFAULT_JAVA_OPTS + ").",
            "  up prints the URI alone on stdout. Exit codes: 0 done (status: all running and live); 1 failed;",
            "  2 bad arguments; 3 up: already running, status: not running; 4 status: partly running.");

    /** What a command line asked for; null fields were not given. */
    record Args(String command, Path dir, Integer datanodes, Integer port, Integer httpPort, long timeoutSeconds,
            long graceSeconds, String logLevel) {
    }

    /** A bad command line: exit 2 with this message. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** A command that could not do its work: the message says why. */
    static final class FailedException extends Exception {
        private static final long serialVersionUID = 1L;

        FailedException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final DaemonPids pids;
    private final PrintStream out;
    private final PrintStream err;

    private LocalHdfs(Path dir, PrintStream out, PrintStream err) {
        this.dir = dir;
        this.pids = new DaemonPids(dir, MARKER);
        this.out = out;
        this.err = err;
    }

    public static void main(String[] argv) {
        // this process's own Hadoop client (the liveness checks) stays quiet; the daemons log to their files
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        }
        HadoopLogging.quiet();
        System.exit(run(argv, System.out, System.err));
    }

    /** Runs one command; returns its exit code. */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a;
        try {
            a = parse(argv);
        } catch (UsageException ex) {
            err.println("o3 hdfs: " + ex.getMessage() + " (bin/o3 hdfs --help for usage)");
            return EXIT_USAGE;
        }
        if (a.command().equals("help")) {
            out.println(USAGE);
            return EXIT_OK;
        }
        LocalHdfs h = new LocalHdfs(a.dir().toAbsolutePath().normalize(), out, err);
        try {
            return switch (a.command()) {
                case "up" -> h.up(a);
                case "down" -> h.down(a.graceSeconds());
                case "status" -> h.status();
                default -> throw new IllegalStateException(a.command());
            };
        } catch (FailedException ex) {
            err.println("o3 hdfs: " + ex.getMessage());
            return EXIT_FAILED;
        } catch (IOException | UncheckedIOException ex) {
            err.println("o3 hdfs: " + a.command() + " failed: " + ex);
            return EXIT_FAILED;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            err.println("o3 hdfs: interrupted");
            return EXIT_FAILED;
        }
    }

    static Args parse(String[] argv) throws UsageException {
        if (argv.length == 0) {
            throw new UsageException("missing command (up, down or status)");
        }
        String command = argv[0];
        if (command.equals("-h") || command.equals("--help") || command.equals("help")) {
            return new Args("help", Path.of("."), null, null, null, 0, 0, null);
        }
        if (!List.of("up", "down", "status").contains(command)) {
            throw new UsageException("unknown command '" + command + "' (up, down or status)");
        }
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 1; i < argv.length; i++) {
            String arg = argv[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                return new Args("help", Path.of("."), null, null, null, 0, 0, null);
            }
            if (!arg.startsWith("--")) {
                throw new UsageException("unexpected argument '" + arg + "'");
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(2, eq) : arg.substring(2);
            List<String> allowed = switch (command) {
                case "up" -> List.of("dir", "datanodes", "port", "http-port", "timeout", "log-level");
                case "down" -> List.of("dir", "grace");
                default -> List.of("dir");
            };
            if (!allowed.contains(name)) { // before asking for its value: an unknown option is named as such
                throw new UsageException("unknown option --" + name + " for '" + command + "'");
            }
            String value;
            if (eq > 0) {
                value = arg.substring(eq + 1);
            } else {
                if (i + 1 >= argv.length) {
                    throw new UsageException("--" + name + " needs a value");
                }
                value = argv[++i];
            }
            if (opts.put(name, value) != null) {
                throw new UsageException("--" + name + " given twice");
            }
        }
        Path dir;
        if (opts.containsKey("dir")) {
            if (opts.get("dir").isBlank()) {
                throw new UsageException("--dir must not be empty");
            }
            dir = Path.of(opts.get("dir"));
        } else if (System.getenv("O3_HDFS_DIR") != null && !System.getenv("O3_HDFS_DIR").isBlank()) {
            dir = Path.of(System.getenv("O3_HDFS_DIR"));
        } else {
            dir = Path.of(System.getProperty("user.home"), ".o3lsm", "hdfs");
        }
        Integer datanodes = intOpt(opts, "datanodes", 1, 16);
        Integer port = intOpt(opts, "port", 0, 65535);
        Integer httpPort = intOpt(opts, "http-port", 0, 65535);
        Integer timeout = intOpt(opts, "timeout", 1, 86_400);
        Integer grace = intOpt(opts, "grace", 0, 86_400);
        String level = opts.get("log-level");
        if (level != null && !List.of("error", "warn", "info", "debug", "trace").contains(level.toLowerCase(Locale.ROOT))) {
            throw new UsageException("--log-level must be error, warn, info, debug or trace, was '" + level + "'");
        }
        if (port != null && httpPort != null && port != 0 && port.equals(httpPort)) {
            throw new UsageException("--port and --http-port must differ");
        }
        return new Args(command, dir, datanodes, port, httpPort, timeout == null ? 120 : timeout,
                grace == null ? 30 : grace, level == null ? null : level.toLowerCase(Locale.ROOT));
    }

    private static Integer intOpt(Map<String, String> opts, String name, int min, int max) throws UsageException {
        String v = opts.get(name);
        if (v == null) {
            return null;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException ex) {
            throw new UsageException("--" + name + " must be a number, was '" + v + "'");
        }
        if (n < min || n > max) {
            throw new UsageException("--" + name + " must be in [" + min + ", " + max + "], was " + n);
        }
        return n;
    }

    // ---------------------------------------------------------------- up

    private int up(Args a) throws IOException, InterruptedException, FailedException {
        Files.createDirectories(dir);
        try (Held lock = commandLock()) {
            Properties prev = loadSettings();
            int datanodes = a.datanodes() != null ? a.datanodes() : intSetting(prev, "datanodes", 3);
            int port = a.port() != null ? a.port() : intSetting(prev, "port", 8020);
            int httpPort = a.httpPort() != null ? a.httpPort() : intSetting(prev, "http-port", 9870);
            String level = a.logLevel() != null ? a.logLevel() : "warn";

            List<String> running = new ArrayList<>();
            for (String role : rolesOnDisk()) {
                runningPid(role).ifPresent(pid -> running.add(role + " (pid " + pid + ")"));
            }
            if (!running.isEmpty()) {
                err.println("o3 hdfs: already up in " + dir + ": " + String.join(", ", running) + " "
                        + "(" + uri(intSetting(prev, "port", port)) + "); stop it first with: bin/o3 hdfs down --dir " + dir);
                return EXIT_ALREADY_RUNNING;
            }
            deleteStalePidFiles();

            if (port == 0) {
                port = freePort();
            }
            if (httpPort == 0) {
                httpPort = freePort();
                while (httpPort == port) {
                    httpPort = freePort();
                }
            }
            if (port == httpPort) {
                throw new FailedException("the NameNode's RPC port and web UI port are both " + port
                        + "; give --port and --http-port that differ");
            }
            requireFree(port, "--port");
            requireFree(httpPort, "--http-port");

            Properties settings = new Properties();
            settings.setProperty("port", Integer.toString(port));
            settings.setProperty("http-port", Integer.toString(httpPort));
            settings.setProperty("datanodes", Integer.toString(datanodes));
            writeConfiguration(port, httpPort, datanodes, level);
            try (var w = Files.newBufferedWriter(dir.resolve("cluster.properties"), StandardCharsets.UTF_8)) {
                settings.store(w, "bin/o3 hdfs up: the settings of the last start");
            }
            Files.createDirectories(dir.resolve("logs"));
            Files.createDirectories(dir.resolve("run"));
            deleteTree(dir.resolve("tmp")); // no daemon of this directory runs: the last run's jetty dirs go
            Files.createDirectories(dir.resolve("tmp"));

            Map<String, Long> started = new LinkedHashMap<>();
            boolean ok = false;
            try {
                if (!Files.exists(dir.resolve("name/current/VERSION"))) {
                    format(a.timeoutSeconds());
                }
                started.put("namenode", start("namenode", NAMENODE_CLASS));
                for (int i = 1; i <= datanodes; i++) {
                    String role = "datanode-" + i;
                    started.put(role, start(role, DATANODE_CLASS));
                }
                awaitLive(port, datanodes, started, a.timeoutSeconds());
                ok = true;
            } finally {
                if (!ok && !started.isEmpty()) {
                    err.println("o3 hdfs: stopping what this start began");
                    stop(started, 10);
                }
            }
            out.println(uri(port));
            out.flush();
            err.println("o3 hdfs: up: NameNode (pid " + started.get("namenode") + ") and " + datanodes + " DataNode"
                    + (datanodes == 1 ? "" : "s") + " live, replication " + Math.min(3, datanodes));
            err.println("o3 hdfs:   open a DB with DB.open(URI.create(\"" + uri(port) + "/o3/mydb\"), options)");
            err.println("o3 hdfs:   web UI http://127.0.0.1:" + httpPort + "; state and logs in " + dir);
            err.println("o3 hdfs:   stop it with: bin/o3 hdfs down --dir " + dir);
            return EXIT_OK;
        }
    }

    private static String uri(int port) {
        return "hdfs://127.0.0.1:" + port;
    }

    /** Held while a command changes the state directory; two commands on one directory exclude each other. */
    /** A held command lock. */
    private interface Held extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    private Held commandLock() throws IOException, FailedException {
        FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException | IOException ex) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new FailedException("another 'bin/o3 hdfs' command is working on " + dir + "; wait for it to finish");
        }
        return ch::close; // closing the channel releases the lock
    }

    private Properties loadSettings() throws IOException {
        Properties p = new Properties();
        Path f = dir.resolve("cluster.properties");
        if (Files.exists(f)) {
            try (var r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        }
        return p;
    }

    private int intSetting(Properties p, String key, int dflt) throws FailedException {
        String v = p.getProperty(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException ex) {
            throw new FailedException(dir.resolve("cluster.properties") + ": " + key + " is not a number: '" + v + "'");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private static void requireFree(int port, String option) throws FailedException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        } catch (IOException ex) {
            throw new FailedException("port " + port + " on 127.0.0.1 is in use (another HDFS?): choose another with "
                    + option + " (0 picks a free one)");
        }
    }

    /** The per-daemon configuration directories, replaced at every {@code up}. */
    private void writeConfiguration(int port, int httpPort, int datanodes, String level) throws IOException {
        Path conf = dir.resolve("conf");
        deleteTree(conf);
        Map<String, String> common = new LinkedHashMap<>();
        common.put("fs.defaultFS", uri(port));
        common.put("hadoop.tmp.dir", dir.resolve("tmp").toString());
        common.put("dfs.namenode.rpc-address", "127.0.0.1:" + port);
        common.put("dfs.namenode.http-address", "127.0.0.1:" + httpPort);
        common.put("dfs.namenode.https-address", "127.0.0.1:0");
        common.put("dfs.namenode.secondary.http-address", "127.0.0.1:0");
        common.put("dfs.namenode.name.dir", dir.resolve("name").toUri().toString());
        common.put("dfs.replication", Integer.toString(Math.min(3, datanodes)));
        common.put("dfs.permissions.enabled", "false");
        // a killed DataNode is declared dead in about 2 x recheck + 10 x heartbeat = 16 s, not 10 min
        common.put("dfs.heartbeat.interval", "1");
        common.put("dfs.namenode.heartbeat.recheck-interval", "3000");
        common.put("dfs.namenode.safemode.extension", "0");
        common.put("dfs.namenode.datanode.registration.ip-hostname-check", "false");
        // every DataNode on 127.0.0.1, each on ports of its own (0: the kernel picks free ones; status lists them)
        common.put("dfs.datanode.address", "127.0.0.1:0");
        common.put("dfs.datanode.http.address", "127.0.0.1:0");
        common.put("dfs.datanode.ipc.address", "127.0.0.1:0");
        common.put("dfs.datanode.hostname", "127.0.0.1");
        writeRole(conf.resolve("namenode"), common, level);
        for (int i = 1; i <= datanodes; i++) {
            Map<String, String> dn = new LinkedHashMap<>(common);
            dn.put("dfs.datanode.data.dir", dir.resolve("data").resolve("datanode-" + i).toUri().toString());
            writeRole(conf.resolve("datanode-" + i), dn, level);
        }
    }

    private static void writeRole(Path conf, Map<String, String> settings, String level) throws IOException {
        Files.createDirectories(conf);
        Map<String, String> core = new LinkedHashMap<>();
        Map<String, String> hdfs = new LinkedHashMap<>();
        settings.forEach((k, v) -> (k.startsWith("dfs.") ? hdfs : core).put(k, v));
        Files.writeString(conf.resolve("core-site.xml"), siteXml(core), StandardCharsets.UTF_8);
        Files.writeString(conf.resolve("hdfs-site.xml"), siteXml(hdfs), StandardCharsets.UTF_8);
        // Hadoop's shaded jars log through SLF4J; hdfs-lib binds it to slf4j-simple, read from here.
        // The shutdown hook's complaint that log4j 1.x is absent (Hadoop calls LogManager.shutdown) is
        // kept out of the logs.
        Files.writeString(conf.resolve("simplelogger.properties"), String.join("\n",
                "# written by bin/o3 hdfs up (rewritten at every up; use --log-level to change the level)",
                "org.slf4j.simpleLogger.defaultLogLevel=" + level,
                "org.slf4j.simpleLogger.logFile=System.err",
                "org.slf4j.simpleLogger.showDateTime=true",
                "org.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss.SSS",
                "org.slf4j.simpleLogger.log.org.apache.hadoop.util.ShutdownHookManager=error",
                ""), StandardCharsets.UTF_8);
    }

    static String siteXml(Map<String, String> props) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<!-- written by bin/o3 hdfs up (rewritten at every up) -->\n<configuration>\n");
        props.forEach((k, v) -> sb.append("  <property><name>").append(xml(k)).append("</name><value>")
                .append(xml(v)).append("</value></property>\n"));
        return sb.append("</configuration>\n").toString();
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Formats the NameNode's metadata (first use). Old DataNode blocks belong to no namespace then: removed. */
    private void format(long timeoutSeconds) throws IOException, InterruptedException, FailedException {
        deleteTree(dir.resolve("data"));
        Path log = dir.resolve("logs/namenode-format.log");
        err.println("o3 hdfs: formatting a new namespace in " + dir.resolve("name"));
        List<String> cmd = javaCommand("namenode", NAMENODE_CLASS);
        cmd.addAll(List.of("-format", "-force", "-nonInteractive"));
        appendBanner(log, cmd);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(devNull())).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new FailedException("formatting the NameNode took over " + timeoutSeconds + " s; see " + log);
        }
        if (p.exitValue() != 0 || !Files.exists(dir.resolve("name/current/VERSION"))) {
            throw new FailedException("formatting the NameNode failed (exit " + p.exitValue() + "); " + log + ":\n" + tail(log));
        }
    }

    private static java.io.File devNull() {
        return new java.io.File("/dev/null");
    }

    /** The daemon's command line: java, flags, the state marker, conf dir first on this process's class path. */
    private List<String> javaCommand(String role, String mainClass) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        String opts = System.getenv("O3_HDFS_JAVA_OPTS");
        for (String o : (opts == null || opts.isBlank() ? DEFAULT_JAVA_OPTS : opts).trim().split("\\s+")) {
            cmd.add(o);
        }
        cmd.add(pids.markerOf(role));
        cmd.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
        cmd.add("-Djava.net.preferIPv4Stack=true");
        cmd.add("-cp");
        cmd.add(dir.resolve("conf").resolve(role) + java.io.File.pathSeparator + System.getProperty("java.class.path"));
        cmd.add(mainClass);
        return cmd;
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts one daemon in the background (its own session when setsid exists), output to its log; returns its pid. */
    private long start(String role, String mainClass) throws IOException {
        Path log = dir.resolve("logs").resolve(role + ".log");
        List<String> cmd = javaCommand(role, mainClass);
        appendBanner(log, cmd);
        List<String> launch = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                launch.add(setsid); // not a group leader, so setsid execs in place: the pid is the JVM's
                break;
            }
        }
        launch.addAll(cmd);
        Process p = new ProcessBuilder(launch).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(devNull())).start();
        long pid = p.pid();
        Files.writeString(pidFile(role), pid + "\n", StandardCharsets.UTF_8);
        return pid;
    }

    private static void appendBanner(Path log, List<String> cmd) throws IOException {
        Files.writeString(log, "=== " + Instant.now() + " bin/o3 hdfs up starts: " + String.join(" ", cmd) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Polls the NameNode until {@code datanodes} are live and safe mode is off; fails fast if a daemon exits. */
    private void awaitLive(int port, int datanodes, Map<String, Long> started, long timeoutSeconds)
            throws IOException, InterruptedException, FailedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        String last = "the NameNode did not answer yet";
        try (DistributedFileSystem dfs = client(port)) {
            while (true) {
                for (Map.Entry<String, Long> e : started.entrySet()) {
                    if (!isRunning(e.getValue())) {
                        Path log = dir.resolve("logs").resolve(e.getKey() + ".log");
                        throw new FailedException(e.getKey() + " (pid " + e.getValue() + ") exited while starting; "
                                + log + ":\n" + tail(log));
                    }
                }
                try {
                    int live = dfs.getDataNodeStats(DatanodeReportType.LIVE).length;
                    boolean safe = dfs.isInSafeMode();
                    if (live >= datanodes && !safe) {
                        return;
                    }
                    last = live + " of " + datanodes + " DataNodes live" + (safe ? ", NameNode in safe mode" : "");
                } catch (IOException ex) {
                    last = "the NameNode did not answer: " + firstLine(ex);
                }
                if (System.nanoTime() > deadline) {
                    throw new FailedException("not live within " + timeoutSeconds + " s (" + last + "); logs in "
                            + dir.resolve("logs") + " (a slow machine: try --timeout)");
                }
                Thread.sleep(250);
            }
        }
    }

    /** A client that fails fast while the NameNode is not up (no connection retries). */
    private static DistributedFileSystem client(int port) throws IOException {
        Configuration conf = new Configuration(false);
        conf.setInt("ipc.client.connect.max.retries", 0);
        conf.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
        conf.setInt("ipc.client.connect.timeout", 2000);
        conf.setInt("ipc.client.rpc-timeout.ms", 10_000);
        conf.setBoolean("fs.hdfs.impl.disable.cache", true);
        org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.newInstance(URI.create(uri(port)), conf);
        if (!(fs instanceof DistributedFileSystem dfs)) {
            fs.close();
            throw new IOException(uri(port) + " is not served by DistributedFileSystem but " + fs.getClass().getName());
        }
        return dfs;
    }

    private static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return t.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }

    // ---------------------------------------------------------------- down

    private int down(long graceSeconds) throws IOException, InterruptedException, FailedException {
        if (!Files.isDirectory(dir)) {
            err.println("o3 hdfs: no local HDFS in " + dir + " (nothing to stop)");
            return EXIT_OK;
        }
        try (Held lock = commandLock()) {
            Map<String, Long> running = new LinkedHashMap<>();
            for (String role : rolesOnDisk()) {
                runningPid(role).ifPresent(pid -> running.put(role, pid));
            }
            deleteStalePidFiles();
            if (running.isEmpty()) {
                err.println("o3 hdfs: not running in " + dir + " (nothing to stop)");
                return EXIT_OK;
            }
            List<String> left = stop(running, graceSeconds);
            if (!left.isEmpty()) {
                throw new FailedException("could not stop " + String.join(", ", left));
            }
            return EXIT_OK;
        }
    }

    /**
     * SIGTERM to every process (DataNodes first), up to {@code graceSeconds} for them to exit, then
     * SIGKILL; pid files of the processes that ended are removed. Returns what still runs.
     */
    private List<String> stop(Map<String, Long> procs, long graceSeconds) throws IOException, InterruptedException {
        List<Map.Entry<String, Long>> order = new ArrayList<>(procs.entrySet());
        order.sort(Comparator.comparing(e -> e.getKey().equals("namenode") ? 1 : 0));
        for (Map.Entry<String, Long> e : order) {
            ProcessHandle.of(e.getValue()).ifPresent(ProcessHandle::destroy);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        while (System.nanoTime() < deadline && order.stream().anyMatch(e -> isRunning(e.getValue()))) {
            Thread.sleep(100);
        }
        List<String> killed = new ArrayList<>();
        for (Map.Entry<String, Long> e : order) {
            if (isRunning(e.getValue())) {
                ProcessHandle.of(e.getValue()).ifPresent(ProcessHandle::destroyForcibly);
                killed.add(e.getKey());
            }
        }
        long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < killDeadline && order.stream().anyMatch(e -> isRunning(e.getValue()))) {
            Thread.sleep(50);
        }
        List<String> stopped = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (Map.Entry<String, Long> e : order) {
            String what = e.getKey() + " (pid " + e.getValue() + ")";
            if (isRunning(e.getValue())) {
                left.add(what);
            } else {
                Files.deleteIfExists(pidFile(e.getKey()));
                stopped.add(what + (killed.contains(e.getKey()) ? " killed after " + graceSeconds + " s" : ""));
            }
        }
        if (!stopped.isEmpty()) {
            err.println("o3 hdfs: stopped " + String.join(", ", stopped));
        }
        return left;
    }

    // ---------------------------------------------------------------- status

    private int status() throws IOException, FailedException {
        Properties settings = loadSettings();
        if (settings.isEmpty()) {
            out.println("no local HDFS in " + dir + " (start one with: bin/o3 hdfs up --dir " + dir + ")");
            return EXIT_NOT_RUNNING;
        }
        int port = intSetting(settings, "port", 8020);
        int httpPort = intSetting(settings, "http-port", 9870);
        int datanodes = intSetting(settings, "datanodes", 3);
        List<String> roles = new ArrayList<>();
        roles.add("namenode");
        for (int i = 1; i <= datanodes; i++) {
            roles.add("datanode-" + i);
        }
        int up = 0;
        StringBuilder lines = new StringBuilder();
        for (String role : roles) {
            Optional<Long> pid = runningPid(role);
            if (pid.isPresent()) {
                up++;
            }
            lines.append(String.format(Locale.ROOT, "  %-12s %s%n", role,
                    pid.map(p -> "running, pid " + p).orElse("not running")));
        }
        boolean namenodeUp = runningPid("namenode").isPresent();
        int live = -1;
        String view;
        if (namenodeUp) {
            try (DistributedFileSystem dfs = client(port)) {
                DatanodeInfo[] infos = dfs.getDataNodeStats(DatanodeReportType.LIVE);
                live = infos.length;
                List<String> addrs = new ArrayList<>();
                for (DatanodeInfo d : infos) {
                    addrs.add(d.getXferAddr() + " (ipc " + d.getIpcPort() + ", http " + d.getInfoPort() + ")");
                }
                view = "  live DataNodes: " + live + " of " + datanodes + (addrs.isEmpty() ? "" : ": " + String.join(", ", addrs))
                        + (dfs.isInSafeMode() ? "\n  NameNode in safe mode" : "") + "\n";
            } catch (IOException ex) {
                view = "  the NameNode does not answer: " + firstLine(ex) + "\n";
            }
        } else {
            view = "";
        }
        String state = up == 0 ? "not running" : (up == roles.size() && live == datanodes ? "running" : "partly running");
        out.print("local HDFS in " + dir + ": " + state + "\n"
                + "  URI          " + uri(port) + "\n"
                + "  web UI       http://127.0.0.1:" + httpPort + "\n"
                + lines + view);
        out.flush();
        return up == 0 ? EXIT_NOT_RUNNING : state.equals("running") ? EXIT_OK : EXIT_PARTLY_RUNNING;
    }

    // ---------------------------------------------------------------- pids and files

    Path pidFile(String role) {
        return pids.pidFile(role);
    }

    private List<String> rolesOnDisk() throws IOException {
        return pids.rolesOnDisk();
    }

    Optional<Long> runningPid(String role) throws IOException {
        return pids.runningPid(role);
    }

    private void deleteStalePidFiles() throws IOException {
        pids.deleteStale();
    }

    /** {@link DaemonPids#isRunning}: a zombie counts as ended. */
    public static boolean isRunning(long pid) {
        return DaemonPids.isRunning(pid);
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
        } catch (IOException | UncheckedIOException ex) {
            return "(cannot read " + log + ": " + ex + ")";
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        }
    }
}
