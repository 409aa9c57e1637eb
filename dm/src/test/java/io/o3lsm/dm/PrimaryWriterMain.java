package io.o3lsm.dm;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.WriteOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A replication primary run as its own process by {@link ReplicationProcessTest}: opens
 * {@code dir} with {@code Options.replicationListen(127.0.0.1:port)}, prints {@code open epoch=E},
 * waits (up to 60 s) until {@code waitForBackups} backups are live, then writes {@link #key}/{@link #value} pairs {@code from} onwards with {@code replicationAcks(acks)},
 * printing {@code acked N} after each acknowledged write, or {@code failed N: why} for one that was
 * not (it goes on, unless the primary was fenced: then it exits 3), until {@code count} writes or
 * until it is killed. Small buffers: flushes and compactions ship
 * tables all along.
 */
public final class PrimaryWriterMain {
    private PrimaryWriterMain() {
    }

    public static byte[] key(long i) {
        return String.format("key%09d", i).getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] value(long i) {
        StringBuilder sb = new StringBuilder("value-").append(i).append('-');
        for (int j = 0; j < (int) (i % 97); j++) {
            sb.append((char) ('a' + (i + j) % 26));
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static Options options() {
        return Options.defaults().shardCount(2).shardArenaSize(256 * 1024).writeBufferSize(2 << 20)
                .targetFileSize(512 * 1024).level0CompactionTrigger(2);
    }

    static int countLive(String state) {
        int n = 0;
        for (int i = state == null ? -1 : state.indexOf(" live"); i >= 0; i = state.indexOf(" live", i + 1)) {
            n++;
        }
        return n;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        Path secret = Path.of(args[2]);
        int acks = Integer.parseInt(args[3]);
        long from = Long.parseLong(args[4]);
        long count = Long.parseLong(args[5]);
        long ackTimeoutMs = args.length > 6 ? Long.parseLong(args[6]) : 5000;
        int waitForBackups = args.length > 7 ? Integer.parseInt(args[7]) : 0;
        Options o = options().replicationListen("127.0.0.1:" + port, secret)
                .replicationAckTimeout(Duration.ofMillis(ackTimeoutMs));
        try (DB db = DB.open(dir, o)) {
            System.out.println("open " + db.property("o3.replication"));
            System.out.flush();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (countLive(db.property("o3.replication")) < waitForBackups && System.nanoTime() < deadline) {
                Thread.sleep(10); // the first writes should find the backups live
            }
            WriteOptions wo = WriteOptions.defaults().replicationAcks(acks);
            for (long i = from; i < from + count; i++) {
                try {
                    db.put(key(i), value(i), wo);
                } catch (RuntimeException ex) {
                    System.out.println("failed " + i + ": " + ex.getMessage());
                    System.out.flush();
                    if (String.valueOf(ex.getMessage()).contains("fenced")) {
                        System.exit(3);
                    }
                    continue;
                }
                System.out.println("acked " + i);
                if (i % 64 == 0) {
                    System.out.flush();
                }
            }
            System.out.flush();
        }
    }
}
