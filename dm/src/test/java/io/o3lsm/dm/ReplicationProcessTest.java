package io.o3lsm.dm;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.Replica;
import io.o3lsm.dm.transport.UcxEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Replication with real processes over UCX: a primary under write load ({@link PrimaryWriterMain},
 * its own JVM) and backups run as {@code bin/o3 replica} daemons ({@link ReplicaMain}). Every write the
 * primary acknowledged with both backups' acknowledgements is on each backup, byte for byte, after the
 * primary is SIGKILLed; a backup SIGKILLed and restarted catches up; a promoted backup takes writes
 * and the old primary, restarted, is fenced; a backup with a wrong secret gets nothing.
 */
@Tag("dm")
class ReplicationProcessTest {
    @TempDir Path tmp;
    private final List<Proc> procs = new ArrayList<>();

    /** A child JVM with this JVM's class path, its output in a log file. */
    final class Proc {
        final Path log;
        final Process process;

        Proc(String name, String mainClass, String... args) throws IOException {
            this.log = tmp.resolve(name + "-" + System.nanoTime() + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m",
                    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), mainClass));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(UcxEnvironment.VARIABLES);
            process = pb.start();
            procs.add(this);
        }

        String output() throws IOException {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        int terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            return process.exitValue();
        }
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Proc p : procs) {
            if (p.process.isAlive()) {
                p.kill9();
            }
        }
    }

    Proc primary(Path dir, int port, Path secret, int acks, long from, long count, long ackTimeoutMs) throws IOException {
        return primary(dir, port, secret, acks, from, count, ackTimeoutMs, 0);
    }

    Proc primary(Path dir, int port, Path secret, int acks, long from, long count, long ackTimeoutMs,
            int waitForBackups) throws IOException {
        return new Proc("primary", PrimaryWriterMain.class.getName(), dir.toString(), Integer.toString(port),
                secret.toString(), Integer.toString(acks), Long.toString(from), Long.toString(count),
                Long.toString(ackTimeoutMs), Integer.toString(waitForBackups));
    }

    Proc replica(Path dir, int primaryPort, Path secret) throws IOException {
        return new Proc("replica-" + dir.getFileName(), ReplicaMain.class.getName(), "--primary",
                "127.0.0.1:" + primaryPort, "--dir", dir.toString(), "--secret-file", secret.toString(),
                "--stats-interval", "1", "--ack-timeout-ms", "1000");
    }

    static void await(BooleanSupplier cond, long seconds, String what, Proc... show) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                StringBuilder sb = new StringBuilder("timed out waiting until " + what);
                for (Proc p : show) {
                    String out = p.output();
                    sb.append("\n--- ").append(p.log.getFileName()).append(":\n")
                            .append(out.length() > 4000 ? out.substring(out.length() - 4000) : out);
                }
                fail(sb.toString());
            }
            Thread.sleep(20);
        }
    }

    static long lastAcked(Proc p) {
        String out;
        try {
            out = p.output();
        } catch (IOException e) {
            return -1;
        }
        Matcher m = Pattern.compile("(?m)^acked (\\d+)$").matcher(out);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    /** The replica's last logged applied sequence, or -1. */
    static long applied(Proc p) throws IOException {
        Matcher m = Pattern.compile("applied=(\\d+)").matcher(p.output());
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    static boolean says(Proc p, String text) {
        try {
            return p.output().contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** Every key up to {@code last} has its value in {@code db}, byte for byte. */
    static void assertHasAll(DB db, long last, String who) {
        for (long i = 0; i <= last; i++) {
            byte[] v = db.get(PrimaryWriterMain.key(i));
            if (!Arrays.equals(PrimaryWriterMain.value(i), v)) {
                fail(who + ": acknowledged write " + i + " of " + last + " is "
                        + (v == null ? "missing" : "different: " + new String(v, StandardCharsets.UTF_8)));
            }
        }
    }

    /** A replica stopped: its state lines no longer change, then SIGTERM. */
    void stopWhenSettled(Proc r) throws Exception {
        long[] seen = {-2};
        long[] stableSince = {System.nanoTime()};
        await(() -> {
            try {
                long a = applied(r);
                if (a != seen[0]) {
                    seen[0] = a;
                    stableSince[0] = System.nanoTime();
                }
                return a >= 0 && System.nanoTime() - stableSince[0] > TimeUnit.SECONDS.toNanos(3);
            } catch (IOException e) {
                return false;
            }
        }, 60, "the replica stopped applying", r);
        assertEquals(0, r.terminate(), r.output());
    }

    @Test
    void everyAcknowledgedWriteIsOnEachBackupAfterThePrimaryIsKilledAndTheOldPrimaryIsFencedAfterPromotion()
            throws Exception {
        Path secret = MemNodeProcess.secret(tmp, "secret", "replication-process-test-secret");
        Path pdir = tmp.resolve("primary");
        Path adir = tmp.resolve("backup-a");
        Path bdir = tmp.resolve("backup-b");
        int port = MemNodeProcess.freePort();
        // every write waits for both backups (for up to 2 s: while one is down, writes fail and go on)
        Proc p = primary(pdir, port, secret, 2, 0, 1_000_000_000L, 2000);
        await(() -> says(p, "open "), 30, "the primary listens", p);
        Proc a = replica(adir, port, secret);
        Proc b = replica(bdir, port, secret);
        await(() -> lastAcked(p) >= 8000, 120, "8000 writes were acknowledged", p, a, b);
        // a backup lost mid-stream, restarted: it catches up from the tables and the live WALs
        b.kill9();
        long atKill = lastAcked(p);
        Thread.sleep(3000); // the primary writes on (unacknowledged: only one backup) and flushes
        Proc b2 = replica(bdir, port, secret);
        await(() -> lastAcked(p) >= atKill + 12_000, 120, "more writes with both backups", p, a, b2);
        await(() -> says(b2, "live=true"), 60, "the restarted backup caught up", p, b2);
        p.kill9();
        long acked = lastAcked(p);
        assertTrue(acked > 20_000, "acknowledged " + acked);
        stopWhenSettled(a);
        stopWhenSettled(b2);
        String dead = "127.0.0.1:" + MemNodeProcess.freePort();
        for (Path d : List.of(adir, bdir)) {
            try (Replica r = DB.openReplica(d, PrimaryWriterMain.options().replicaOf(dead, secret))) {
                assertHasAll(r, acked, d.getFileName().toString());
                assertEquals(0, Long.parseLong(r.property("o3.replica").replaceAll(".* flushes=(\\d+).*", "$1")),
                        "the backup never flushed: " + r.property("o3.replica"));
            }
        }
        // promote backup A; it takes writes and ships them to backup B
        int newPort = MemNodeProcess.freePort();
        try (DB promoted = Replica.promote(adir, PrimaryWriterMain.options().replicationListen("127.0.0.1:" + newPort, secret))) {
            assertHasAll(promoted, acked, "the promoted backup");
            promoted.put("after".getBytes(), "promotion".getBytes());
            Proc b3 = replica(bdir, newPort, secret);
            await(() -> says(b3, "live=true"), 60, "backup B follows the promoted primary", b3);
            stopWhenSettled(b3);
        }
        try (Replica r = DB.openReplica(bdir, PrimaryWriterMain.options().replicaOf(dead, secret))) {
            assertArrayEquals("promotion".getBytes(), r.get("after".getBytes()), "B has the new primary's write");
        }
        // the old primary comes back at its old address: backup B, which followed the new epoch, refuses it
        Proc old = primary(pdir, port, secret, 1, 5_000_000, 10, 20_000);
        await(() -> says(old, "open "), 30, "the old primary is back", old);
        Proc b4 = replica(bdir, port, secret);
        await(() -> says(old, "failed 5000000"), 60, "the old primary's acknowledged write fails", old, b4);
        assertTrue(old.output().contains("fenced"), old.output());
        assertNotEquals(0, old.process.waitFor(10, TimeUnit.SECONDS) ? old.process.exitValue() : 0);
        stopWhenSettled(b4);
        try (Replica r = DB.openReplica(bdir, PrimaryWriterMain.options().replicaOf(dead, secret))) {
            assertNull(r.get(PrimaryWriterMain.key(5_000_000)), "nothing of the stale primary reached B");
        }
    }

    @Test
    void replicaReadsMatchAModelAtEveryAppliedSequence() throws Exception {
        Path secret = MemNodeProcess.secret(tmp, "secret", "replication-model-test-secret");
        int port = MemNodeProcess.freePort();
        // a fresh primary writing key i at sequence i + 1, one write each: the state at sequence s is keys 0..s-1
        Proc p = primary(tmp.resolve("primary"), port, secret, 0, 0, 60_000, 5000, 1);
        await(() -> says(p, "open "), 30, "the primary listens", p);
        try (Replica r = DB.openReplica(tmp.resolve("embedded"),
                PrimaryWriterMain.options().replicaOf("127.0.0.1:" + port, secret))) {
            int checks = 0;
            long last = -1;
            while (p.process.isAlive() || last < 60_000) {
                try (io.o3lsm.Snapshot snap = r.snapshot(); io.o3lsm.DBIterator it = r.iterator(
                        ReadOptions.defaults().snapshot(snap))) {
                    long seq = snap.sequence();
                    long n = 0;
                    for (it.seekToFirst(); it.isValid(); it.next(), n++) {
                        if (!Arrays.equals(PrimaryWriterMain.key(n), it.key())
                                || !Arrays.equals(PrimaryWriterMain.value(n), it.value())) {
                            fail("at applied sequence " + seq + " entry " + n + " is "
                                    + new String(it.key(), StandardCharsets.UTF_8) + ", expected key " + n);
                        }
                    }
                    assertEquals(seq, n, "entries at applied sequence " + seq);
                    if (seq != last) {
                        checks++;
                    }
                    last = seq;
                }
                if (!p.process.isAlive() && last < 60_000) {
                    await(() -> r.appliedSequence() >= 60_000, 60, "the replica applied every write", p);
                }
                Thread.sleep(10);
            }
            assertTrue(checks >= 5, checks + " distinct applied sequences checked");
            assertEquals(0, p.process.exitValue(), p.output());
        }
    }

    @Test
    void backupWithAWrongSecretGetsNothing() throws Exception {
        Path secret = MemNodeProcess.secret(tmp, "secret", "the-right-secret-for-this-test");
        Path wrong = MemNodeProcess.secret(tmp, "wrong", "a-wrong-secret-for-this-test!!");
        int port = MemNodeProcess.freePort();
        Proc p = primary(tmp.resolve("primary"), port, secret, 0, 0, 3000, 5000);
        await(() -> says(p, "open "), 30, "the primary listens", p);
        Path bdir = tmp.resolve("backup");
        Proc b = replica(bdir, port, wrong);
        await(() -> says(b, "state:"), 30, "the backup logs its state", b);
        Thread.sleep(3000); // a refused backup keeps retrying: give it time to (wrongly) catch up
        assertFalse(says(b, "live=true"), b.output());
        assertFalse(Files.exists(bdir.resolve("CURRENT")), "the refused backup received no state");
        assertEquals(0, b.terminate(), b.output());
    }
}
