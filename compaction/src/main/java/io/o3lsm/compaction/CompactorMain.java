package io.o3lsm.compaction;

import io.o3lsm.DB;
import io.o3lsm.dm.ClusterSecret;
import io.o3lsm.dm.DmAuthException;
import io.o3lsm.dm.DmException;
import io.o3lsm.dm.transport.UcxUnavailableException;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The compactor daemon ({@code bin/o3 compactor}):
 *
 * <pre>
 *   bin/o3 compactor --memnode HOST:PORT --secret-file FILE --storage URI [--slots N] [--name NAME]
 *                    [--request-timeout SECONDS]
 * </pre>
 *
 * {@code --storage} names the shared storage root as a URI ({@code file:///data/o3},
 * {@code hdfs://namenode:8020/o3}) or a local path; a scheme other than {@code file} needs its
 * {@link FileSystem.Provider} on the class path (the hdfs module). Long-running; logs one line per
 * event on stderr (the DM client's own log records too, in the same format); SIGTERM (or Ctrl-C)
 * cancels running jobs (their outputs are deleted), disconnects, logs {@code closed cleanly} and
 * exits 0. {@code --help} and {@code --version} print on stdout
 * and exit 0. Exit codes:
 * <ul>
 * <li>0 after a clean shutdown (SIGTERM, SIGINT), or help, version;</li>
 * <li>2 bad arguments (a message naming the flag, then the usage, on stderr), including a local
 * storage root that does not exist and a storage URI whose scheme no provider handles;</li>
 * <li>3 the memory node cannot be reached: connection refused or reset, host does not resolve, or
 * no answer to the handshake within {@code --request-timeout} (default 10 s);</li>
 * <li>4 UCX not installed;</li>
 * <li>5 the memory node refused the cluster secret (or could not prove it knows it);</li>
 * <li>1 anything else (e.g. the storage cannot be opened or its root does not exist).</li>
 * </ul>
 * See {@code docs/operations/compactor.md}.
 */
public final class CompactorMain {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_UNREACHABLE = 3;
    static final int EXIT_NO_UCX = 4;
    static final int EXIT_REFUSED = 5;
    /** Default for {@code --request-timeout}: the handshake and every later request. */
    static final int DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

    static final String USAGE = "usage: bin/o3 compactor --memnode HOST:PORT --secret-file FILE --storage URI"
            + " [--slots N] [--name NAME] [--request-timeout SECONDS]\n"
            + "       bin/o3 compactor --help | --version\n"
            + "  --memnode HOST:PORT     the memory node whose coordinator hands out compaction jobs\n"
            + "  --secret-file FILE      cluster secret shared with the memory node (>= 16 bytes)\n"
            + "  --storage URI           shared storage root (file:///DIR, hdfs://HOST:PORT/DIR, or a local DIR):\n"
            + "                          the DB directories of the jobs must lie under it\n"
            + "  --slots N               compactions run at once, 1 to 1024 (default 1)\n"
            + "  --name NAME             the name the coordinator knows this compactor by (default host-pid)\n"
            + "  --request-timeout SEC   how long the handshake and each request may wait for the memory node,\n"
            + "                          1 to 300 (default " + DEFAULT_REQUEST_TIMEOUT_SECONDS + ")\n"
            + "  -h, --help              print this help and exit\n"
            + "  -V, --version           print the version and exit";

    private CompactorMain() {
    }

    /**
     * Parsed arguments; {@code warnings} are printed on stderr before the compactor starts.
     * {@code storage} is the storage URI, {@code root} the path within it.
     */
    record Args(String memnode, byte[] secret, URI storage, Path root, int slots, String name, Duration requestTimeout,
            List<String> warnings) {
    }

    /** Bad command-line usage: exit 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --help} or {@code --version}: print the message on stdout and exit 0. */
    static final class InfoRequest extends Exception {
        private static final long serialVersionUID = 1L;

        InfoRequest(String text) {
            super(text);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, null, true));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        return run(argv, out, err, null, false);
    }

    /**
     * As {@link #main}, in this JVM as the daemon's own, with the shared storage reached through
     * {@code fs} instead of the one {@code --storage} names (its path is still the root): for tests
     * that run the real daemon over a fault-injecting file system.
     */
    static int runDaemon(String[] argv, PrintStream out, PrintStream err, FileSystem fs) {
        return run(argv, out, err, fs, true);
    }

    /**
     * Runs the daemon until SIGTERM/SIGINT; returns the exit status. {@code daemon}: this JVM is the
     * daemon's own (from {@link #main}), so the JDK's log records are routed to {@code err} in the
     * daemon's format and the signals are handled here.
     */
    private static int run(String[] argv, PrintStream out, PrintStream err, FileSystem given, boolean daemon) {
        Args a;
        try {
            a = parse(argv);
        } catch (InfoRequest r) {
            out.println(r.getMessage());
            out.flush();
            return EXIT_OK;
        } catch (UsageException e) {
            err.println("compactor: " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        }
        for (String w : a.warnings()) {
            err.println("compactor: warning: " + w);
        }
        Consumer<String> log = m -> {
            String line = Instant.now() + " compactor " + a.name() + ": " + m;
            synchronized (err) {
                err.println(line);
                err.flush();
            }
        };
        if (daemon) {
            routeJdkLogging(log);
        }
        if (given != null) {
            return serve(a, given, log, err, daemon);
        }
        FileSystem fs;
        try {
            fs = FileSystem.forUri(a.storage());
        } catch (IllegalArgumentException e) {
            err.println("compactor: --storage " + a.storage() + ": " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        } catch (IOException | RuntimeException e) {
            err.println("compactor: cannot open the storage " + a.storage() + ": " + e);
            return EXIT_FAILED;
        }
        try {
            if (!fs.isLocal() && !fs.exists(a.root())) {
                err.println("compactor: the storage root " + a.storage() + " does not exist (it must be the shared"
                        + " storage directory the DBs' directories lie under)");
                closeQuietly(fs);
                return EXIT_FAILED;
            }
        } catch (IOException e) {
            err.println("compactor: cannot reach the storage " + a.storage() + ": " + e.getMessage());
            closeQuietly(fs);
            return EXIT_FAILED;
        }
        try {
            return serve(a, fs, log, err, daemon);
        } finally {
            closeQuietly(fs);
        }
    }

    private static void closeQuietly(FileSystem fs) {
        try {
            fs.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }

    private static int serve(Args a, FileSystem fs, Consumer<String> log, PrintStream err, boolean daemon) {
        // Signals first, so that a SIGTERM during the connect is not lost: it is acted on once connected.
        CountDownLatch stop = new CountDownLatch(1);
        boolean signalsHandled = daemon && handleSignals(stop);
        Compactor w;
        try {
            w = new Compactor(a.memnode(), a.secret(), a.name(), fs, a.root(), a.slots(), a.requestTimeout(), log);
        } catch (UcxUnavailableException e) {
            err.println("compactor: " + e.getMessage());
            return EXIT_NO_UCX;
        } catch (DmAuthException e) {
            err.println("compactor: the memory node " + a.memnode() + " refused this compactor's cluster secret ("
                    + a.name() + "): " + e.getMessage());
            return EXIT_REFUSED;
        } catch (DmException e) {
            err.println("compactor: cannot reach the memory node " + a.memnode() + ": " + e.getMessage());
            return EXIT_UNREACHABLE;
        } catch (RuntimeException e) {
            err.println("compactor: cannot start: " + e);
            return EXIT_FAILED;
        }
        log.accept("registered with memory node " + a.memnode() + " (" + a.slots() + " slot(s), storage " + a.storage()
                + ", request timeout " + a.requestTimeout().toSeconds() + " s, pid " + ProcessHandle.current().pid()
                + ")");
        AtomicBoolean closed = new AtomicBoolean();
        Runnable shutdown = () -> {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            log.accept("shutting down (signal): cancelling running jobs");
            try {
                w.close();
                log.accept("closed cleanly (" + w.jobsDone() + " job(s) done, " + w.jobsFailed() + " failed)");
            } catch (RuntimeException e) {
                log.accept("shutdown failed: " + e);
            }
        };
        // Any other way the JVM ends (SIGHUP, or no signal handler could be installed) still closes the compactor.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            shutdown.run();
            stop.countDown();
        }, "compactor-shutdown"));
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (signalsHandled) {
            shutdown.run();
        }
        return EXIT_OK;
    }

    /**
     * SIGTERM and SIGINT count {@code stop} down instead of starting the JVM's shutdown, so that
     * the main thread closes the compactor and the process exits 0 (the JVM's own handling exits 143
     * or 130). False if the handlers cannot be installed (e.g. {@code -Xrs}): the shutdown hook then
     * closes the compactor.
     */
    @SuppressWarnings("removal")
    private static boolean handleSignals(CountDownLatch stop) {
        try {
            for (String s : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(s), sig -> stop.countDown());
            }
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** JDK log records (the DM client logs through {@code System.Logger}) as daemon log lines. */
    private static void routeJdkLogging(Consumer<String> log) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        root.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (!isLoggable(r)) {
                    return;
                }
                String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "ERROR "
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "WARN " : "";
                String msg = r.getMessage();
                if (r.getParameters() != null && r.getParameters().length > 0) {
                    msg = java.text.MessageFormat.format(msg, r.getParameters());
                }
                log.accept(level + msg + (r.getThrown() != null ? " (" + r.getThrown() + ")" : ""));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    static Args parse(String[] args) throws UsageException, InfoRequest {
        String memnode = null;
        String secretFile = null;
        String storage = null;
        int slots = 1;
        String name = null;
        int timeoutSeconds = DEFAULT_REQUEST_TIMEOUT_SECONDS;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new InfoRequest(USAGE);
            }
            if (a.equals("-V") || a.equals("--version")) {
                throw new InfoRequest("o3lsm compactor " + DB.version());
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String key = a;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                key = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else {
                if (i + 1 >= args.length) {
                    throw new UsageException(a + " needs a value");
                }
                value = args[++i];
            }
            switch (key) {
                case "--memnode" -> memnode = value;
                case "--secret-file" -> secretFile = value;
                case "--storage" -> storage = value;
                case "--name" -> name = value;
                case "--slots" -> slots = (int) number(key, value, 1, 1024);
                case "--request-timeout" -> timeoutSeconds = (int) number(key, value, 1, 300);
                default -> throw new UsageException("unknown option " + key);
            }
        }
        List<String> missing = new ArrayList<>();
        if (memnode == null) {
            missing.add("--memnode HOST:PORT");
        }
        if (secretFile == null) {
            missing.add("--secret-file FILE");
        }
        if (storage == null) {
            missing.add("--storage URI");
        }
        if (!missing.isEmpty()) {
            throw new UsageException("missing required " + String.join(", ", missing));
        }
        checkHostPort(memnode);
        List<String> warnings = new ArrayList<>();
        byte[] secret = readSecret(secretFile, warnings);
        URI uri = storageUri(storage);
        Path root;
        try {
            root = FileSystem.pathOf(uri);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--storage " + storage + ": " + e.getMessage());
        }
        if (uri.getScheme().equalsIgnoreCase("file")) {
            if (!Files.exists(root)) {
                throw new UsageException("--storage " + storage + " does not exist (it must be the shared storage"
                        + " directory the DBs' directories lie under)");
            }
            if (!Files.isDirectory(root)) {
                throw new UsageException("--storage " + storage + " is not a directory");
            }
        }
        if (name == null) {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
            name = host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
        }
        int nameBytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (nameBytes == 0 || nameBytes > io.o3lsm.dm.protocol.Messages.MAX_DB_ID_LENGTH) {
            throw new UsageException("--name must be 1 to " + io.o3lsm.dm.protocol.Messages.MAX_DB_ID_LENGTH
                    + " bytes of UTF-8, found " + nameBytes);
        }
        return new Args(memnode, secret, uri, root, slots, name, Duration.ofSeconds(timeoutSeconds),
                List.copyOf(warnings));
    }

    /**
     * {@code --storage}: a URI with a scheme ({@code file:}, {@code hdfs:}, ...) as given; anything
     * else is a local path, made absolute ({@code file:} URI).
     */
    static URI storageUri(String storage) throws UsageException {
        try {
            return FileSystem.location(storage);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--storage " + e.getMessage());
        }
    }

    /** HOST:PORT with a non-empty host ({@code [v6]} allowed) and a port in [1, 65535]; the host is resolved later. */
    static void checkHostPort(String hostPort) throws UsageException {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new UsageException("--memnode expects HOST:PORT, found '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.contains(":") && !(host.startsWith("[") && host.endsWith("]"))) {
            throw new UsageException("--memnode expects HOST:PORT (an IPv6 host in brackets: [::1]:7400), found '"
                    + hostPort + "'");
        }
        number("--memnode port", hostPort.substring(colon + 1), 1, 65535);
    }

    private static byte[] readSecret(String secretFile, List<String> warnings) throws UsageException {
        Path p = Path.of(secretFile);
        byte[] secret;
        try {
            if (Files.isDirectory(p)) {
                throw new UsageException("--secret-file " + secretFile + " is a directory");
            }
            secret = ClusterSecret.read(p);
        } catch (NoSuchFileException e) {
            throw new UsageException("--secret-file " + secretFile + " does not exist");
        } catch (AccessDeniedException e) {
            throw new UsageException("--secret-file " + secretFile + " is not readable (permission denied)");
        } catch (IOException e) {
            throw new UsageException("cannot read --secret-file " + secretFile + ": " + e);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--secret-file: " + e.getMessage());
        }
        try {
            if (Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_READ)) {
                warnings.add("secret file " + secretFile + " is world-readable (chmod 600 it)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not POSIX: no check
        }
        return secret;
    }

    static long number(String name, String value, long min, long max) throws UsageException {
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " expects a number, found '" + value + "'");
        }
        if (v < min || v > max) {
            throw new UsageException(name + " must be in [" + min + ", " + max + "], found " + v);
        }
        return v;
    }
}
