package io.o3lsm.bench;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.DBStats;
import io.o3lsm.Options;
import io.o3lsm.spi.FlushExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@link ClusterProcessTest}'s workload, in a JVM of its own whose class path has no test stand-ins
 * (so the DB finds the real UCX client): a DB in o3 mode on a cluster's storage writes {@code n}
 * keys, flushes and compacts everything, checks every key and the iterator, then reopens and checks
 * again. Prints the flushes and compactions by place; exits 0 if every check passed, 1 otherwise.
 *
 * <p>Arguments: memory-node address, secret file, DB directory (a path, or a URI such as
 * {@code hdfs://HOST:PORT/DIR}), key count.
 */
public final class ClusterWorkloadMain {
    private ClusterWorkloadMain() {
    }

    static byte[] key(int i) {
        return String.format("key%010d", (i * 2654435761L) & 0xffffffffL).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(int i) {
        return ("value-" + i + "-" + "x".repeat(i % 50)).getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.defaults().memoryNode(args[0], Path.of(args[1]))
                .shardArenaSize(128 << 10).localMemoryBudget(1 << 20).dmBudget(8 << 20).writeBufferSize(1 << 20)
                .flushOffload(true).flushOffloadPlacement(FlushExecutor.Placement.ALWAYS).flushOffloadMinBytes(64 << 10)
                .compactionOffload(true).targetFileSize(1 << 20).maxBytesForLevelBase(4 << 20);
        // a local directory, or a URI on a remote file system (a cluster on HDFS)
        java.net.URI where = args[2].contains("://") ? java.net.URI.create(args[2]) : Path.of(args[2]).toUri();
        int n = Integer.parseInt(args[3]);
        try (DB db = DB.open(where, o)) {
            for (int i = 0; i < n; i++) {
                db.put(key(i), value(i));
            }
            db.flush();
            db.compactRange(null, null);
            check(db, n, "after the writes");
            DBStats st = db.stats();
            System.out.println("flushes offloaded " + st.flushesOffloaded() + " local " + st.flushesLocal()
                    + "; compactions offloaded " + st.compactionsOffloaded() + " local " + st.compactionsLocal());
            System.out.println(db.property("o3.dm"));
        }
        try (DB db = DB.open(where, o)) {
            check(db, n, "after a reopen");
        }
        System.out.println("every key found: " + n);
    }

    private static void check(DB db, int n, String when) {
        for (int i = 0; i < n; i++) {
            if (!Arrays.equals(value(i), db.get(key(i)))) {
                System.out.println("MISMATCH " + when + ": key " + i);
                System.exit(1);
            }
        }
        int count = 0;
        try (DBIterator it = db.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                count++;
            }
        }
        if (count != n) {
            System.out.println("MISMATCH " + when + ": the iterator saw " + count + " keys, expected " + n);
            System.exit(1);
        }
    }
}
