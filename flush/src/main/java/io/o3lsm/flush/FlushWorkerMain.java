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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;

/**
 * The flush-worker daemon ({@code bin/o3 flushworker}):
 *
 * <pre>
 *   bin/o3 flushworker --memnode HOST:PORT --secret-file FILE --storage DIR [--slots N] [--name NAME]
 * </pre>
 *
 * Long-running; logs one line per event on stderr; SIGTERM (or Ctrl-C) cancels running jobs and
 * exits cleanly. {@code --help} and {@code --version} print on stdout and exit 0. Exit codes: 0
 * after a clean shutdown (or help, version), 2 bad arguments, 3 the memory node cannot be reached,
 * 4 UCX not installed, 5 the memory node refused the cluster secret, 1 anything else. See
 * {@code docs/operations/flushworker.md}.
 */
public final class FlushWorkerMain {
    static final String USAGE = "usage: bin/o3 flushworker --memnode HOST:PORT --secret-file FILE --storage DIR"
            + " [--slots N] [--name NAME]\n"
            + "       bin/o3 flushworker --help | --version\n"
            + "  --memnode HOST:PORT     the memory node whose coordinator hands out flush jobs\n"
            + "  --secret-file FILE      cluster secret shared with the memory node (>= 16 bytes)\n"
            + "  --storage DIR           shared storage root: the DB directories of the jobs must lie under it\n"
            + "  --slots N               flush jobs run at once (default 1)\n"
            + "  --name NAME             the name the coordinator knows this worker by (default host-pid)\n"
            + "  -h, --help              print this help and exit\n"
            + "  -V, --version           print the version and exit";

    private FlushWorkerMain() {
    }

    record Args(String memnode, byte[] secret, Path storage, int slots, String name) {
    }

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static final class InfoRequest extends Exception {
        private static final long serialVersionUID = 1L;

        InfoRequest(String text) {
            super(text);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        return run(argv, out, err, FileSystem.local());
    }

    /** As {@link #run(String[], PrintStream, PrintStream)} with the shared storage reached through {@code fs}. */
    static int run(String[] argv, PrintStream out, PrintStream err, FileSystem fs) {
        Args a;
        try {
            a = parse(argv);
        } catch (InfoRequest r) {
            out.println(r.getMessage());
            out.flush();
            return 0;
        } catch (UsageException e) {
            err.println("flushworker: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        java.util.function.Consumer<String> log = m -> {
            synchronized (err) {
                err.println(Instant.now() + " flushworker " + a.name() + ": " + m);
                err.flush();
            }
        };
        FlushWorker w;
        try {
            w = new FlushWorker(a.memnode(), a.secret(), a.name(), a.storage(), fs, a.slots(),
                    Duration.ofSeconds(10), log);
        } catch (UcxUnavailableException e) {
            err.println("flushworker: " + e.getMessage());
            return 4;
        } catch (DmAuthException e) {
            err.println("flushworker: the memory node " + a.memnode() + " refused this worker: " + e.getMessage());
            return 5;
        } catch (DmException e) {
            err.println("flushworker: cannot reach the memory node " + a.memnode() + ": " + e.getMessage());
            return 3;
        } catch (RuntimeException e) {
            err.println("flushworker: cannot start: " + e);
            return 1;
        }
        log.accept("registered with memory node " + a.memnode() + " (" + a.slots() + " slot(s), storage " + a.storage()
                + ", pid " + ProcessHandle.current().pid() + ")");
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.accept("shutting down (signal): cancelling running jobs");
            try {
                w.close();
                log.accept("closed cleanly (" + w.jobsDone() + " job(s) done, " + w.jobsFailed() + " failed)");
            } catch (RuntimeException e) {
                log.accept("shutdown failed: " + e);
            }
            done.countDown();
        }, "flushworker-shutdown"));
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    static Args parse(String[] args) throws UsageException, InfoRequest {
        String memnode = null;
        String secretFile = null;
        String storage = null;
        int slots = 1;
        String name = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new InfoRequest(USAGE);
            }
            if (a.equals("-V") || a.equals("--version")) {
                throw new InfoRequest("o3lsm flushworker " + DB.version());
            }
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
                case "--slots" -> {
                    try {
                        slots = Integer.parseInt(value.trim());
                    } catch (NumberFormatException e) {
                        throw new UsageException("--slots expects a number, found '" + value + "'");
                    }
                    if (slots < 1 || slots > 1024) {
                        throw new UsageException("--slots must be in [1, 1024], found " + value);
                    }
                }
                default -> throw new UsageException("unknown option " + key);
            }
        }
        if (memnode == null || secretFile == null || storage == null) {
            throw new UsageException("--memnode, --secret-file and --storage are required");
        }
        int colon = memnode.lastIndexOf(':');
        if (colon <= 0 || colon == memnode.length() - 1) {
            throw new UsageException("--memnode expects HOST:PORT, found '" + memnode + "'");
        }
        try {
            int port = Integer.parseInt(memnode.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new UsageException("--memnode port must be in [1, 65535], found " + port);
            }
        } catch (NumberFormatException e) {
            throw new UsageException("--memnode expects HOST:PORT, found '" + memnode + "'");
        }
        byte[] secret;
        try {
            secret = ClusterSecret.read(Path.of(secretFile));
        } catch (IOException e) {
            throw new UsageException("cannot read --secret-file " + secretFile + ": " + e);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path root = Path.of(storage);
        if (!Files.isDirectory(root)) {
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
        if (name.isEmpty() || name.length() > 200) {
            throw new UsageException("--name must be 1 to 200 characters");
        }
        return new Args(memnode, secret, root, slots, name);
    }
}
