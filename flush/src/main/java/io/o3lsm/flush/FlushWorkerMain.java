package io.o3lsm.flush;

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
 * The flush-worker daemon ({@code bin/o3 flushworker}):
 *
 * <pre>
 *   bin/o3 flushworker --memnode HOST:PORT --secret-file FILE --storage DIR [--slots N] [--name NAME]
 *                      [--request-timeout SECONDS]
 * </pre>
 *
 * Long-running; logs one line per event on stderr (the DM client's own log records too, in the
 * same format); SIGTERM (or Ctrl-C) cancels running jobs (their outputs are deleted), disconnects,
 * logs {@code closed cleanly} and exits 0. {@code --help} and {@code --version} print on stdout
 * and exit 0. Exit codes:
 * <ul>
 * <li>0 after a clean shutdown (SIGTERM, SIGINT), or help, version;</li>
 * <li>2 bad arguments (a message naming the flag, then the usage, on stderr);</li>
 * <li>3 the memory node cannot be reached: connection refused or reset, host does not resolve, or
 * no answer to the handshake within {@code --request-timeout} (default 10 s);</li>
 * <li>4 UCX not installed;</li>
 * <li>5 the memory node refused the cluster secret (or could not prove it knows it);</li>
 * <li>1 anything else.</li>
 * </ul>
 * See {@code docs/operations/flushworker.md}.
 */
public final class FlushWorkerMain {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_UNREACHABLE = 3;
    static final int EXIT_NO_UCX = 4;
    static final int EXIT_REFUSED = 5;
    /** Default for {@code --request-timeout}: the handshake and every later request. */
    static final int DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

    static final String USAGE = "usage: bin/o3 flushworker --memnode HOST:PORT --secret-file FILE --storage DIR|URI"
            + " [--slots N] [--name NAME] [--request-timeout SECONDS]\n"
            + "       bin/o3 flushworker --help | --version\n"
            + "  --memnode HOST:PORT     the memory node whose coordinator hands out flush jobs\n"
            + "  --secret-file FILE      cluster secret shared with the memory node (>= 16 bytes)\n"
            + "  --storage DIR|URI       shared storage root (a local DIR, file:///DIR or hdfs://HOST:PORT/DIR):\n"
            + "                          the DB directories of the jobs must lie under it\n"
            + "  --slots N               flush jobs run at once, 1 to 1024 (default 1)\n"
            + "  --name NAME             the name the coordinator knows this worker by (default host-pid)\n"
            + "  --request-timeout SEC   how long the handshake and each request may wait for the memory node,\n"
            + "                          1 to 300 (default " + DEFAULT_REQUEST_TIMEOUT_SECONDS + ")\n"
            + "  -h, --help              print this help and exit\n"
            + "  -V, --version           print the version and exit";

    private FlushWorkerMain() {
    }

    /** Parsed arguments; {@code warnings} are printed on stderr before the worker starts. */
    /** Parsed arguments; {@code storage} is the root's path within the file system {@code storageUri} names. */
    record Args(String memnode, byte[] secret, java.net.URI storageUri, Path storage, int slots, String name,
            Duration requestTimeout, List<String> warnings) {
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
        System.exit(run(args, System.out, System.err, FileSystem.local(), true));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        return run(argv, out, err, FileSystem.local());
    }

    /** As {@link #run(String[], PrintStream, PrintStream)} with the shared storage reached through {@code fs}. */
    static int run(String[] argv, PrintStream out, PrintStream err, FileSystem fs) {
        return run(argv, out, err, fs, false);
    }

    /**
     * Runs the daemon until SIGTERM/SIGINT; returns the exit status. {@code daemon}: this JVM is the
     * daemon's own (from {@link #main}), so the JDK's log records are routed to {@code err} in the
     * daemon's format and the signals are handled here.
     */
    private static int run(String[] argv, PrintStream out, PrintStream err, FileSystem fs, boolean daemon) {
        Args a;
        try {
            a = parse(argv);
        } catch (InfoRequest r) {
            out.println(r.getMessage());
            out.flush();
            return EXIT_OK;
        } catch (UsageException e) {
            err.println("flushworker: " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        }
        for (String w : a.warnings()) {
            err.println("flushworker: warning: " + w);
        }
        Consumer<String> log = m -> {
            String line = Instant.now() + " flushworker " + a.name() + ": " + m;
            synchronized (err) {
                err.println(line);
                err.flush();
            }
        };
        if (daemon) {
            routeJdkLogging(log);
        }
        // Signals first, so that a SIGTERM during the connect is not lost: it is acted on once connected.
        CountDownLatch stop = new CountDownLatch(1);
        boolean signalsHandled = daemon && handleSignals(stop);
        // a remote storage URI (hdfs:) is opened here when the caller left the file system at the local one
        FileSystem opened = null;
        if (fs.isLocal() && !a.storageUri().getScheme().equalsIgnoreCase("file")) {
            try {
                opened = FileSystem.forUri(a.storageUri());
                if (!opened.exists(a.storage())) {
                    opened.close();
                    err.println("flushworker: --storage " + a.storageUri() + " does not exist (it must be the shared"
                            + " storage directory the DBs' directories lie under)");
                    return EXIT_USAGE;
                }
            } catch (IllegalArgumentException e) {
                err.println("flushworker: --storage " + a.storageUri() + ": " + e.getMessage());
                return EXIT_USAGE;
            } catch (IOException e) {
                err.println("flushworker: cannot reach the storage " + a.storageUri() + ": " + e.getMessage());
                return EXIT_UNREACHABLE;
            }
            fs = opened;
        }
        try {
            return runWorker(a, out, err, fs, daemon, log, stop, signalsHandled);
        } finally {
            if (opened != null) {
                try {
                    opened.close();
                } catch (IOException e) {
                    log.accept("closing the storage failed: " + e.getMessage());
                }
            }
        }
    }

    private static int runWorker(Args a, PrintStream out, PrintStream err, FileSystem fs, boolean daemon,
            Consumer<String> log, CountDownLatch stop, boolean signalsHandled) {
        FlushWorker w;
        try {
            w = new FlushWorker(a.memnode(), a.secret(), a.name(), a.storage(), fs, a.slots(), a.requestTimeout(),
                    log);
        } catch (UcxUnavailableException e) {
            err.println("flushworker: " + e.getMessage());
            return EXIT_NO_UCX;
        } catch (DmAuthException e) {
            err.println("flushworker: the memory node " + a.memnode() + " refused this worker's cluster secret ("
                    + a.name() + "): " + e.getMessage());
            return EXIT_REFUSED;
        } catch (DmException e) {
            err.println("flushworker: cannot reach the memory node " + a.memnode() + ": " + e.getMessage());
            return EXIT_UNREACHABLE;
        } catch (RuntimeException e) {
            err.println("flushworker: cannot start: " + e);
            return EXIT_FAILED;
        }
        log.accept("registered with memory node " + a.memnode() + " (" + a.slots() + " slot(s), storage " + a.storageUri()
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
        // Any other way the JVM ends (SIGHUP, or no signal handler could be installed) still closes the worker.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            shutdown.run();
            stop.countDown();
        }, "flushworker-shutdown"));
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
     * the main thread closes the worker and the process exits 0 (the JVM's own handling exits 143
     * or 130). False if the handlers cannot be installed (e.g. {@code -Xrs}): the shutdown hook then
     * closes the worker.
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
                throw new InfoRequest("o3lsm flushworker " + DB.version());
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
            missing.add("--storage DIR|URI");
        }
        if (!missing.isEmpty()) {
            throw new UsageException("missing required " + String.join(", ", missing));
        }
        checkHostPort(memnode);
        List<String> warnings = new ArrayList<>();
        byte[] secret = readSecret(secretFile, warnings);
        java.net.URI storageUri;
        try {
            storageUri = FileSystem.location(storage);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--storage " + e.getMessage());
        }
        Path root = FileSystem.pathOf(storageUri);
        if (storageUri.getScheme().equalsIgnoreCase("file") && !Files.exists(root)) {
            throw new UsageException("--storage " + storage + " does not exist (it must be the shared storage"
                    + " directory the DBs' directories lie under)");
        }
        if (storageUri.getScheme().equalsIgnoreCase("file") && !Files.isDirectory(root)) {
            throw new UsageException("--storage " + storage + " is not a directory");
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
        return new Args(memnode, secret, storageUri, root, slots, name, Duration.ofSeconds(timeoutSeconds), List.copyOf(warnings));
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
