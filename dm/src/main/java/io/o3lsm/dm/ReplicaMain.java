package io.o3lsm.dm;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.Replica;
import io.o3lsm.dm.node.NodeLog;
import io.o3lsm.dm.transport.UcxUnavailableException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The backup daemon ({@code bin/o3 replica}): a replica not embedded in an application.
 *
 * <pre>
 *   bin/o3 replica --primary HOST:PORT --dir DIR --secret-file FILE [--log-buffer SIZE] [--ack-timeout-ms N]
 *                  [--stats-interval SECONDS] [--column-families true]
 *   bin/o3 replica promote --dir DIR [--listen HOST:PORT --secret-file FILE]
 * </pre>
 *
 * The first form follows the primary until SIGTERM (exit 0), logging its state every stats interval.
 * {@code promote} promotes a stopped replica's directory: it raises the epoch (the old primary is
 * fenced) and opens the directory as a primary, which replays the replica's log past its tables; with
 * {@code --listen} it then serves as a primary other backups may follow, until SIGTERM. Exit codes:
 * 0 done, 2 bad arguments, 4 UCX not installed, 1 anything else. See docs/operations/replication.md.
 */
public final class ReplicaMain {
    static final String USAGE = "usage: bin/o3 replica --primary HOST:PORT --dir DIR --secret-file FILE"
            + " [--log-buffer SIZE] [--ack-timeout-ms N] [--stats-interval SECONDS]\n"
            + "       bin/o3 replica promote --dir DIR [--listen HOST:PORT --secret-file FILE]\n"
            + "  --primary HOST:PORT     the primary's replication address (its Options.replicationListen)\n"
            + "  --dir DIR               the replica's directory (created if missing)\n"
            + "  --secret-file FILE      the cluster secret shared with the primary\n"
            + "  --log-buffer SIZE       bytes of the buffer the primary writes its log into (default 64m)\n"
            + "  --ack-timeout-ms N      a primary silent for twice this is presumed lost (default 5000)\n"
            + "  --stats-interval SEC    seconds between state lines (default 10; 0 = off)\n"
            + "  --column-families true  the primary's DB has column families (each followed without functions)\n"
            + "  --rebuild-tables true   the comparison baseline: replay the log as writes, flush and compact here\n"
            + "                          (the primary should not ship tables: Options.replicationShipTables(false))\n"
            + "  promote                 promote a stopped replica's directory to a primary\n"
            + "  --listen HOST:PORT      (promote) serve as a primary other backups follow, until SIGTERM";

    private ReplicaMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        NodeLog log = new NodeLog(err);
        boolean families = false;
        boolean promote = args.length > 0 && args[0].equals("promote");
        String primary = null;
        String dir = null;
        String secret = null;
        String listen = null;
        long logBuffer = 64L << 20;
        long ackMs = 5000;
        long statsSeconds = 10;
        boolean rebuild = false;
        try {
            for (int i = promote ? 1 : 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    out.println(USAGE);
                    return 0;
                }
                if (i + 1 >= args.length || !a.startsWith("--")) {
                    throw new IllegalArgumentException(a.startsWith("--") ? a + " needs a value" : "unexpected argument '" + a + "'");
                }
                String v = args[++i];
                switch (a) {
                    case "--primary" -> primary = v;
                    case "--dir" -> dir = v;
                    case "--secret-file" -> secret = v;
                    case "--listen" -> listen = v;
                    case "--log-buffer" -> logBuffer = io.o3lsm.Sizes.parse(v);
                    case "--ack-timeout-ms" -> ackMs = Long.parseLong(v);
                    case "--stats-interval" -> statsSeconds = Long.parseLong(v);
                    case "--rebuild-tables" -> rebuild = Boolean.parseBoolean(v);
                    case "--column-families" -> families = Boolean.parseBoolean(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (dir == null) {
                throw new IllegalArgumentException("--dir is required");
            }
            if (promote) {
                if (primary != null) {
                    throw new IllegalArgumentException("promote takes no --primary: the promoted replica is the primary");
                }
                if ((listen == null) != (secret == null)) {
                    throw new IllegalArgumentException("promote: --listen and --secret-file go together");
                }
            } else {
                if (primary == null || secret == null) {
                    throw new IllegalArgumentException((primary == null ? "--primary" : "--secret-file") + " is required");
                }
                if (listen != null) {
                    throw new IllegalArgumentException("--listen is for promote only");
                }
            }
            if (secret != null && !Files.isReadable(Path.of(secret))) {
                throw new IllegalArgumentException("cannot read the secret file " + secret);
            }
            if (ackMs <= 0 || statsSeconds < 0) {
                throw new IllegalArgumentException("--ack-timeout-ms must be > 0 and --stats-interval >= 0");
            }
        } catch (IllegalArgumentException e) {
            err.println("replica: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        Path d = Path.of(dir);
        CountDownLatch stop = new CountDownLatch(1);
        handleSignals(stop);
        try {
            if (promote) {
                Options o = Options.defaults();
                if (listen != null) {
                    o.replicationListen(listen, Path.of(secret));
                }
                DB db = Replica.promote(d, o);
                log.info("promoted " + d + (listen != null ? ": " + db.property("o3.replication") : ""));
                if (listen != null) {
                    log.info("serving as a primary on " + listen + " until SIGTERM");
                    stop.await();
                }
                db.close();
                log.info("closed cleanly");
                return 0;
            }
            Options o = Options.defaults().replicaOf(primary, Path.of(secret)).replicaLogBuffer(logBuffer)
                    .replicationAckTimeout(Duration.ofMillis(ackMs)).replicaRebuildsTables(rebuild);
            try (Replica r = families ? DB.openReplica(d, o, java.util.List.of()) : DB.openReplica(d, o)) {
                log.info("following " + primary + " in " + d + " (pid " + ProcessHandle.current().pid() + ")");
                while (!stop.await(statsSeconds > 0 ? statsSeconds : 3600, TimeUnit.SECONDS)) {
                    if (statsSeconds > 0) {
                        log.info("state: " + r.property("o3.replica"));
                    }
                }
                log.info("shutting down (signal): " + r.property("o3.replica"));
            }
            log.info("closed cleanly");
            return 0;
        } catch (UcxUnavailableException e) {
            err.println("replica: " + e.getMessage());
            return 4;
        } catch (O3Exception | IllegalArgumentException e) {
            err.println("replica: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static void handleSignals(CountDownLatch stop) {
        try {
            for (String s : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(s), sig -> stop.countDown());
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal handling: the JVM's default ends the process (the log is handed to the OS whenever the
            // buffer has no more frames waiting; what the primary acknowledged is in this process's memory)
        }
    }
}
