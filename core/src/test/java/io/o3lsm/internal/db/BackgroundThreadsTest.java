package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every thread a DB starts is its own, named after the DB, and has terminated when close() returns. */
class BackgroundThreadsTest {
    @TempDir Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Live threads whose name says they belong to the DB in {@code db}. */
    private static List<String> threadsOf(Path db) {
        String tag = " " + db;
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("o3lsm-") && n.endsWith(tag)).sorted().collect(Collectors.toList());
    }

    private static Options smallTables() {
        return Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(512 * 1024)
                .targetFileSize(64 * 1024).level0CompactionTrigger(2);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void noThreadOfTheDbOutlivesClose() throws Exception {
        Path db = dir.resolve("db");
        DBImpl d = (DBImpl) DB.open(db, smallTables());
        for (int i = 0; i < 20_000; i++) {
            d.put(b(String.format("key%08d", i * 7919 % 20_000)), new byte[64]);
        }
        d.flush();
        assertFalse(threadsOf(db).isEmpty(), "flush and compaction threads are named after the DB");
        d.close();
        assertEquals(List.of(), threadsOf(db), "threads still alive after close()");
        assertEquals(List.of(), d.engine().flushes.liveThreads());
        assertEquals(List.of(), d.engine().compactions.liveThreads());
    }

    /**
     * close() waits for a running compaction instead of giving up on it after a deadline, also when
     * the closing thread has its interrupt flag set (a task of an executor being shut down): the
     * executor here blocks until the test sees close() waiting, and must have returned before
     * close() does.
     */
    @ParameterizedTest(name = "interrupted={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closeJoinsARunningCompaction(boolean interrupted) throws Exception {
        Path db = dir.resolve("db");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean returned = new AtomicBoolean();
        CompactionJob real = new CompactionJob(FileSystem.local());
        CompactionExecutor blocking = req -> {
            entered.countDown();
            try {
                release.await();
                return real.execute(req);
            } catch (InterruptedException ex) {
                throw new java.io.InterruptedIOException("interrupted");
            } finally {
                returned.set(true);
            }
        };
        DBImpl d = (DBImpl) DB.open(db, smallTables().compactionExecutor(blocking));
        for (int i = 0; i < 20_000; i++) {
            d.put(b(String.format("key%08d", i * 7919 % 20_000)), new byte[64]);
        }
        d.flush();
        assertTrue(entered.await(60, TimeUnit.SECONDS), "a compaction started");
        AtomicBoolean compactionDoneWhenCloseReturned = new AtomicBoolean();
        AtomicBoolean flagKept = new AtomicBoolean();
        Thread closer = new Thread(() -> {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            d.close();
            compactionDoneWhenCloseReturned.set(returned.get());
            flagKept.set(Thread.currentThread().isInterrupted());
        }, "closer");
        closer.start();
        // wait until close() is parked waiting for the compaction thread (or has wrongly returned)
        while (closer.isAlive() && !(d.engine().closing
                && (closer.getState() == Thread.State.TIMED_WAITING || closer.getState() == Thread.State.WAITING))) {
            Thread.onSpinWait();
        }
        release.countDown();
        closer.join();
        assertTrue(compactionDoneWhenCloseReturned.get(), "close() returned while the compaction still ran");
        assertEquals(interrupted, flagKept.get(), "close() keeps the caller's interrupt flag");
        assertEquals(List.of(), threadsOf(db));
    }

    /** The default compaction job gives up when the DB closes: close() does not wait for all of it. */
    @Test
    void theDefaultCompactionJobStopsWhenCancelled() throws Exception {
        Path db = dir.resolve("db");
        try (DB d = DB.open(db, smallTables().level0CompactionTrigger(100).level0SlowdownTrigger(200).level0StopTrigger(300))) {
            for (int i = 0; i < 20_000; i++) {
                d.put(b(String.format("key%08d", i)), new byte[64]);
            }
            d.flush();
        }
        List<Path> tables;
        try (Stream<Path> s = Files.list(db)) {
            tables = s.filter(p -> p.getFileName().toString().endsWith(".sst")).collect(Collectors.toList());
        }
        assertFalse(tables.isEmpty());
        java.util.List<CompactionExecutor.InputFile> inputs = new java.util.ArrayList<>();
        for (Path t : tables) {
            String n = t.getFileName().toString();
            inputs.add(new CompactionExecutor.InputFile(0, Long.parseLong(n.substring(0, n.indexOf('.'))), Files.size(t)));
        }
        long[] numbers = new long[64];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = 1_000_000 + i;
        }
        Options o = Options.defaults();
        CompactionExecutor.CompactionRequest req = new CompactionExecutor.CompactionRequest(db, 1, inputs, 1, true,
                new long[0], numbers, 64 * 1024, o.blockSize(), o.blockRestartInterval(), o.compression(),
                o.bloomBitsPerKey());
        int[] polls = {0};
        CompactionJob job = new CompactionJob(FileSystem.local(), () -> ++polls[0] > 3);
        assertThrows(io.o3lsm.job.JobCancelledException.class, () -> job.execute(req));
        try (Stream<Path> s = Files.list(db)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("1000"))
                    .collect(Collectors.toList()), "a cancelled job deletes its outputs");
        }
        // the same request runs to the end when not cancelled
        CompactionExecutor.CompactionResult r = new CompactionJob(FileSystem.local()).execute(req);
        assertFalse(r.outputs().isEmpty());
    }

    /**
     * DM mode whose secret file cannot be read: the open fails before it creates, locks or recovers
     * anything, or starts a thread. (The same check covers a class path without the dm module; this
     * module's tests carry a fake memory node, so the secret is what is missing here.)
     */
    @Test
    void aMisconfiguredDmOpenFailsBeforeWritingAnything() throws Exception {
        Path db = dir.resolve("db");
        Options o = Options.defaults().memoryNode("127.0.0.1:1", dir.resolve("no-such-secret"));
        O3Exception x = assertThrows(O3Exception.class, () -> DB.open(db, o));
        assertTrue(x.getMessage().contains("secret file"), x.getMessage());
        assertFalse(Files.exists(db), "nothing may be created by an open that cannot succeed");
        assertEquals(List.of(), threadsOf(db));
    }

    /** A failed open (here: recovery finds a corrupt WAL) leaves no thread of the DB running. */
    @Test
    void aFailedOpenLeavesNoThreadRunning() throws Exception {
        Path db = dir.resolve("db");
        try (DB d = DB.open(db, smallTables())) {
            for (int i = 0; i < 1000; i++) {
                d.put(b("k" + i), new byte[64]);
            }
        }
        Path wal;
        try (Stream<Path> s = Files.list(db)) {
            wal = s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().reduce((a, c) -> c).orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(wal);
        for (int i = 100; i < 200 && i < bytes.length; i++) {
            bytes[i] ^= 0x5a; // damage a record in the middle: recovery must refuse it
        }
        Files.write(wal, bytes);
        assertThrows(RuntimeException.class, () -> DB.open(db, smallTables()));
        assertEquals(List.of(), threadsOf(db));
    }
}
