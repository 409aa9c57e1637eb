package io.o3lsm.dm;

import io.o3lsm.DB;
import io.o3lsm.dm.node.MemNodeServer;
import io.o3lsm.dm.node.NodeLog;
import io.o3lsm.dm.transport.UcxUnavailableException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The memory-node daemon ({@code bin/o3 memnode}):
 *
 * <pre>
 *   bin/o3 memnode --listen HOST:PORT --capacity SIZE --secret-file FILE [--threads N]
 *                  [--slab-size SIZE] [--stats-interval SECONDS] [--scrub-rate SIZE]
 * </pre>
 *
 * Long-running; logs one line per event on stderr; SIGTERM (or Ctrl-C) shuts it down cleanly.
 * {@code --help} and {@code --version} print on stdout and exit 0.
 * Exit codes: 0 after a clean shutdown (or help, version), 2 bad arguments, 3 the address cannot be listened on
 * (port taken), 4 UCX not installed, 1 anything else. See {@code docs/operations/memnode.md}.
 */
public final class MemNode {
    public static final long MAX_SLAB = 1L << 30;
    static final String USAGE = "usage: bin/o3 memnode --listen HOST:PORT --capacity SIZE --secret-file FILE"
            + " [--threads N] [--slab-size SIZE] [--stats-interval SECONDS] [--scrub-rate SIZE]\n"
            + "       bin/o3 memnode --help | --version\n"
            + "  --listen HOST:PORT      address to accept DB connections on (UCX sockaddr; e.g. 0.0.0.0:7400)\n"
            + "  --capacity SIZE         pool size: bytes, or with k/m/g/t suffix (512m, 4g)\n"
            + "  --secret-file FILE      cluster secret shared with the DBs (>= 16 bytes)\n"
            + "  --threads N             worker threads for commit checks and delegated reads (default 1; 0 = inline)\n"
            + "  --slab-size SIZE        registration unit of the pool, at most 1g (default 1g)\n"
            + "  --stats-interval SEC    seconds between stats lines (default 30; 0 = off)\n"
            + "  --scrub-rate SIZE       bytes per second of committed segments re-verified against their CRC32C\n"
            + "                          (default 64m; 0 = off)\n"
            + "  -h, --help              print this help and exit\n"
            + "  -V, --version           print the version and exit";

    private MemNode() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** The version line {@code --version} prints. */
    static String versionLine() {
        return "o3lsm memnode " + DB.version();
    }

    /** {@code --help} or {@code --version}: print the message on stdout and exit 0. */
    static final class InfoRequest extends Exception {
        private static final long serialVersionUID = 1L;

        InfoRequest(String text) {
            super(text);
        }
    }

    /** Bad command-line usage. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Runs the daemon with {@code args} until it is shut down; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        NodeLog log = new NodeLog(err);
        MemNodeServer.Config config;
        try {
            config = parse(args);
        } catch (InfoRequest r) {
            out.println(r.getMessage());
            out.flush();
            return 0;
        } catch (UsageException e) {
            err.println("memnode: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(config.listen());
        } catch (BindException e) {
            err.println("memnode: cannot listen on " + show(config.listen()) + ": " + e.getMessage()
                    + " (is another memory node running on that port?)");
            return 3;
        } catch (IOException e) {
            err.println("memnode: cannot listen on " + show(config.listen()) + ": " + e);
            return 3;
        }
        MemNodeServer server;
        try {
            server = new MemNodeServer(config, log);
        } catch (UcxUnavailableException e) {
            err.println("memnode: " + e.getMessage());
            return 4;
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage());
            err.println("memnode: cannot start on " + show(config.listen()) + ": " + e);
            return msg.contains("listen") || msg.contains("busy") || msg.contains("in use") ? 3 : 1;
        }
        log.info("listening on " + show(config.listen()) + " (capacity " + config.capacity() + " bytes, threads "
                + config.threads() + ", pid " + ProcessHandle.current().pid() + ")");
        // SIGTERM/SIGINT are taken here, so the daemon closes on its main thread and exits 0 (the JVM's own
        // handling runs the hooks and exits 143); the hook stays for other endings (SIGHUP, System.exit)
        CountDownLatch stop = new CountDownLatch(1);
        boolean signals = handleSignals(stop);
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable shutdown = () -> {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            log.info("shutting down (signal)");
            try {
                server.close();
                log.info("closed cleanly");
            } catch (RuntimeException e) {
                log.error("shutdown failed: " + e);
            }
        };
        Thread hook = new Thread(() -> {
            shutdown.run();
            stop.countDown();
        }, "memnode-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (signals) {
            shutdown.run();
        }
        return 0;
    }

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

    private static String show(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    static MemNodeServer.Config parse(String[] args) throws UsageException, InfoRequest {
        String listen = null;
        String capacity = null;
        String secretFile = null;
        int threads = 1;
        long slab = MAX_SLAB;
        long statsSeconds = 30;
        long scrubRate = MemNodeServer.Config.DEFAULT_SCRUB_RATE;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new InfoRequest(USAGE);
            }
            if (a.equals("-V") || a.equals("--version")) {
                throw new InfoRequest(versionLine());
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String name = a;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else {
                if (i + 1 >= args.length) {
                    throw new UsageException(a + " needs a value");
                }
                value = args[++i];
            }
            switch (name) {
                case "--listen":
                    listen = value;
                    break;
                case "--capacity":
                    capacity = value;
                    break;
                case "--secret-file":
                    secretFile = value;
                    break;
                case "--threads":
                    threads = (int) number(name, value, 0, 256);
                    break;
                case "--slab-size":
                    slab = size(name, value);
                    break;
                case "--stats-interval":
                    statsSeconds = number(name, value, 0, 86_400);
                    break;
                case "--scrub-rate":
                    scrubRate = value.equals("0") ? 0 : size(name, value);
                    break;
                default:
                    throw new UsageException("unknown option " + name);
            }
        }
        if (listen == null || capacity == null || secretFile == null) {
            throw new UsageException("--listen, --capacity and --secret-file are required");
        }
        long cap = size("--capacity", capacity);
        if (cap < (1 << 20)) {
            throw new UsageException("--capacity must be at least 1m, found " + capacity);
        }
        if (slab < (1 << 20) || slab > MAX_SLAB) {
            throw new UsageException("--slab-size must be in [1m, 1g], found " + slab);
        }
        byte[] secret;
        Path p = Path.of(secretFile);
        try {
            secret = ClusterSecret.read(p);
        } catch (IOException e) {
            throw new UsageException("cannot read --secret-file " + secretFile + ": " + e);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                System.err.println("memnode: warning: secret file " + secretFile + " is world-readable (chmod 600 it)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not POSIX: no check
        }
        return new MemNodeServer.Config(address(listen), cap, secret, threads, slab, Duration.ofSeconds(statsSeconds),
                scrubRate);
    }

    static InetSocketAddress address(String hostPort) throws UsageException {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new UsageException("--listen expects HOST:PORT, found '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = (int) number("--listen port", hostPort.substring(colon + 1), 1, 65535);
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (IOException e) {
            throw new UsageException("--listen host '" + host + "' does not resolve: " + e.getMessage());
        }
    }

    static long number(String name, String value, long min, long max) throws UsageException {
        try {
            long v = Long.parseLong(value.trim());
            if (v < min || v > max) {
                throw new UsageException(name + " must be in [" + min + ", " + max + "], found " + value);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new UsageException(name + " expects a number, found '" + value + "'");
        }
    }

    /** Bytes from "4096", "512k", "512m", "4g", "1t" (binary units, case-insensitive, optional trailing b or ib). */
    public static long size(String name, String value) throws UsageException {
        long n;
        try {
            n = io.o3lsm.Sizes.parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException(name + (e.getMessage().startsWith("size too large") ? " must be a positive size"
                    : " expects a size like 512m or 4g") + ", found '" + value + "'");
        }
        if (n <= 0) {
            throw new UsageException(name + " must be a positive size, found '" + value + "'");
        }
        return n;
    }
}
