package io.o3lsm.dm.replication;

import static org.junit.jupiter.api.Assertions.fail;

import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** In-memory fakes of the engine's Source and Target, and helpers shared by the replication tests. */
final class ReplicationFixtures {
    static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    static final int RING = 64 << 10;

    private ReplicationFixtures() {
    }

    static Replication.Primary primary(Path dir, Duration ackTimeout, FakeSource source) throws IOException {
        return new UcxReplicationProvider().listen(new Replication.PrimaryConfig("127.0.0.1:0", SECRET, "db-1", 7,
                FileSystem.local(), dir, ackTimeout), source);
    }

    static ReplicationBackup backup(Replication.Primary p, String name, FakeTarget target) throws IOException {
        return backup(p.address(), SECRET, name, target);
    }

    static ReplicationBackup backup(String address, byte[] secret, String name, FakeTarget target) throws IOException {
        return backup(address, secret, name, target, RING, Duration.ofSeconds(5));
    }

    static ReplicationBackup backup(String address, byte[] secret, String name, FakeTarget target, long logBuffer,
            Duration timeout) throws IOException {
        return (ReplicationBackup) new UcxReplicationProvider().follow(new Replication.BackupConfig(address, secret, name,
                logBuffer, timeout), target);
    }

    /** A write batch as the WAL holds it: sequence, count, then {@code length - 12} bytes derived from the sequence. */
    static byte[] record(long sequence, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(sequence).putInt(1);
        for (int i = 12; i < length; i++) {
            b.put((byte) (sequence * 31 + i));
        }
        return b.array();
    }

    static long sequenceOf(byte[] record) {
        return ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    static void await(String what, long millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + millis + " ms: " + what);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static boolean primaryLive(Replication.Primary p, String name) {
        return p.backups().stream().anyMatch(b -> b.name().equals(name) && b.live());
    }

    static List<String> replicationThreads() {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("o3-repl-")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** The engine's catch-up, scripted: optional files, snapshot, catch-up records, then goLive under {@link #walLock}. */
    static final class FakeSource implements Replication.Source {
        final Object walLock = new Object();
        final AtomicInteger catchUps = new AtomicInteger();
        volatile List<Replication.FileRef> files = List.of();
        volatile byte[] snapshot;
        volatile List<byte[]> catchUpRecords = List.of();
        volatile long lastSequence;
        /** When set, the catch-up waits here after the snapshot (the test ships edits meanwhile). */
        volatile CountDownLatch pauseAfterSnapshot;
        volatile CountDownLatch pausedSignal;

        @Override
        public void catchUp(Replication.Link link) throws IOException {
            catchUps.incrementAndGet();
            for (Replication.FileRef f : files) {
                link.sendFile(f);
            }
            if (snapshot != null) {
                link.sendSnapshot(snapshot, 0);
            }
            CountDownLatch pause = pauseAfterSnapshot;
            if (pause != null) {
                pausedSignal.countDown();
                try {
                    pause.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException("interrupted", e);
                }
            }
            for (byte[] r : catchUpRecords) {
                link.sendLog(3, r, r.length);
            }
            synchronized (walLock) {
                link.goLive(lastSequence);
            }
        }
    }

    /** Records every call in order; holds received files in memory; can block in applyLog. */
    static class FakeTarget implements Replication.Target {
        final List<String> events = new ArrayList<>(); // under this
        final List<byte[]> records = new ArrayList<>(); // under this
        final Map<Long, ByteArrayOutputStream> files = new ConcurrentHashMap<>();
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger applied = new AtomicInteger();
        volatile boolean refuse;
        /** When set, applyLog blocks on it once {@link #blockAfter} records have been applied. */
        volatile CountDownLatch gate;
        volatile int blockAfter;
        volatile boolean blocked;

        @Override
        public Replication.Holdings holdings() {
            return new Replication.Holdings(null, 0, Map.of(), 0);
        }

        @Override
        public boolean acceptPrimary(String dbId, long epoch) {
            accepted.incrementAndGet();
            return !refuse;
        }

        @Override
        public FileSystem.WritableFile fileBegin(long number) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            files.put(number, out);
            event("file-begin " + number);
            return new FileSystem.WritableFile() {
                @Override
                public void append(byte[] src, int off, int len) {
                    out.write(src, off, len);
                }

                @Override
                public void flush() {
                }

                @Override
                public void sync() {
                }

                @Override
                public long size() {
                    return out.size();
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void fileDone(long number, long size) {
            event("file-done " + number + " " + size);
        }

        @Override
        public void fileFailed(long number) {
            event("file-failed " + number);
        }

        @Override
        public void applySnapshot(byte[] edit, long keptSequence) {
            event("snapshot " + new String(edit, StandardCharsets.UTF_8) + " kept " + keptSequence);
        }

        @Override
        public void caughtUp(long lastSequence) {
            event("caught-up " + lastSequence);
        }

        @Override
        public void applyEdit(byte[] edit) {
            event("edit " + new String(edit, StandardCharsets.UTF_8));
        }

        @Override
        public void applyLog(long walNumber, byte[] record, int offset, int length) {
            CountDownLatch g = gate;
            if (g != null && applied.get() >= blockAfter) {
                blocked = true;
                try {
                    g.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                blocked = false;
            }
            byte[] copy = new byte[length];
            System.arraycopy(record, offset, copy, 0, length);
            synchronized (this) {
                records.add(copy);
                events.add("log " + sequenceOf(copy));
            }
            applied.incrementAndGet();
        }

        @Override
        public void logIdle() {
        }

        synchronized void event(String e) {
            events.add(e);
        }

        synchronized List<String> events() {
            return new ArrayList<>(events);
        }

        synchronized List<byte[]> records() {
            return new ArrayList<>(records);
        }

        synchronized int recordCount() {
            return records.size();
        }
    }
}
