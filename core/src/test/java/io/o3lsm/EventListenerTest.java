package io.o3lsm;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.EventListener.CompactionJobInfo;
import io.o3lsm.EventListener.FlushJobInfo;
import io.o3lsm.EventListener.StallInfo;
import io.o3lsm.EventListener.TableFileInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link EventListener}: what listeners are told, on which thread, and that they never hold the engine up. */
@Timeout(120)
class EventListenerTest {
    @TempDir
    Path dir;

    /** Records every event with the name of the thread it arrived on. */
    static final class Recorder implements EventListener {
        final List<Object> events = Collections.synchronizedList(new ArrayList<>());
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        private void add(Object info) {
            threads.add(Thread.currentThread().getName());
            events.add(info);
        }

        @Override
        public void onFlushBegin(FlushJobInfo info) {
            add(new Begin(info));
        }

        @Override
        public void onFlushCompleted(FlushJobInfo info) {
            add(info);
        }

        @Override
        public void onCompactionBegin(CompactionJobInfo info) {
            add(new Begin(info));
        }

        @Override
        public void onCompactionCompleted(CompactionJobInfo info) {
            add(info);
        }

        @Override
        public void onStallBegin(StallInfo info) {
            add(new Begin(info));
        }

        @Override
        public void onStallEnd(StallInfo info) {
            add(info);
        }

        @Override
        public void onBackgroundError(BackgroundErrorInfo info) {
            add(info);
        }

        <T> List<T> of(Class<T> type) {
            List<T> out = new ArrayList<>();
            synchronized (events) {
                for (Object o : events) {
                    if (type.isInstance(o)) {
                        out.add(type.cast(o));
                    }
                }
            }
            return out;
        }

        List<Object> begins(Class<?> type) {
            List<Object> out = new ArrayList<>();
            for (Begin b : of(Begin.class)) {
                if (type.isInstance(b.info())) {
                    out.add(b.info());
                }
            }
            return out;
        }
    }

    record Begin(Object info) {
    }

    /** The final size of every SST written, by file number. */
    static final class TableSizes extends ForwardingFileSystem {
        final Map<Long, Long> written = new ConcurrentHashMap<>();

        @Override
        protected WritableFile wrap(Path path, WritableFile file) {
            String n = path.getFileName().toString();
            if (!n.endsWith(".sst")) {
                return file;
            }
            long number = Long.parseLong(n.substring(0, n.length() - 4));
            return new ForwardingWritableFile(file) {
                @Override
                public void close() throws IOException {
                    written.put(number, inner.size());
                    super.close();
                }
            };
        }
    }

    private static Options manual() {
        return Options.defaults().level0CompactionTrigger(1000).level0SlowdownTrigger(2000).level0StopTrigger(3000)
                .jmx(false);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private static void writeSome(DB db, int round, int n) {
        for (int i = 0; i < n; i++) {
            db.put(b(String.format("k%05d", i)), b("v" + round + "-" + i));
        }
    }

    /** Live SST numbers and sizes from {@code o3.sstables} (" N: S bytes, seq ..."). */
    private static Map<Long, Long> liveTables(DB db) {
        Map<Long, Long> out = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^ (\\d+): (\\d+) bytes").matcher(db.property("o3.sstables"));
        while (m.find()) {
            out.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        }
        return out;
    }

    @Test
    void shouldReportEachFlushAndCompactionWithTheFilesTheManifestHolds() {
        Recorder r = new Recorder();
        TableSizes fs = new TableSizes();
        Map<Long, Long> live;
        String writer = Thread.currentThread().getName();
        try (DB db = DB.open(dir, manual().fileSystem(fs).addListener(r))) {
            for (int round = 0; round < 4; round++) {
                writeSome(db, round, 500);
                db.flush();
            }
            db.compactRange(null, null);
            writeSome(db, 9, 100);
            db.flush();
            live = liveTables(db);
        }
        // close delivered everything: each job began and completed once, begin first, all succeeded
        List<FlushJobInfo> flushes = r.of(FlushJobInfo.class);
        List<CompactionJobInfo> compactions = r.of(CompactionJobInfo.class);
        assertTrue(flushes.size() >= 5, "flushes: " + flushes);
        assertFalse(compactions.isEmpty(), "compactions: " + r.events);
        assertEquals(flushes.size(), r.begins(FlushJobInfo.class).size());
        assertEquals(compactions.size(), r.begins(CompactionJobInfo.class).size());
        Set<Long> ids = new HashSet<>();
        for (Object o : r.events) {
            long id = o instanceof FlushJobInfo f ? f.jobId() : o instanceof CompactionJobInfo c ? c.jobId()
                    : o instanceof Begin bg && bg.info() instanceof FlushJobInfo f2 ? -f2.jobId()
                    : o instanceof Begin bg2 && bg2.info() instanceof CompactionJobInfo c2 ? -c2.jobId() : 0;
            if (id < 0) {
                assertTrue(ids.add(-id), "a job began twice: " + o);
            } else if (id > 0) {
                assertTrue(ids.contains(id), "completed before it began: " + o);
            }
        }
        // replaying the events gives the MANIFEST's live files; every size is the file's size as written
        Map<Long, Long> replay = new HashMap<>();
        for (Object o : r.events) {
            if (o instanceof FlushJobInfo f) {
                assertNull(f.error());
                assertEquals(EventListener.Place.LOCAL, f.place());
                assertTrue(f.inputShards() > 0 && f.inputEntries() > 0 && f.inputBytes() > 0, f.toString());
                assertFalse(f.outputs().isEmpty(), f.toString());
                for (TableFileInfo t : f.outputs()) {
                    assertEquals(0, t.level());
                    assertEquals(fs.written.get(t.number()), t.sizeBytes(), t.toString());
                    assertEquals(dir.resolve(String.format("%06d.sst", t.number())).getFileName(),
                            t.path().getFileName());
                    replay.put(t.number(), t.sizeBytes());
                }
            } else if (o instanceof CompactionJobInfo c) {
                assertNull(c.error());
                assertEquals(EventListener.CompactionReason.MANUAL, c.reason());
                for (TableFileInfo t : c.inputs()) {
                    assertEquals(replay.remove(t.number()), t.sizeBytes(), "input " + t + " was live");
                }
                long written = 0;
                for (TableFileInfo t : c.outputs()) {
                    assertEquals(c.outputLevel(), t.level());
                    if (!c.trivialMove()) {
                        assertEquals(fs.written.get(t.number()), t.sizeBytes(), t.toString());
                    }
                    written += t.sizeBytes();
                    replay.put(t.number(), t.sizeBytes());
                }
                if (!c.trivialMove()) {
                    assertEquals(written, c.bytesWritten(), c.toString());
                    assertTrue(c.bytesRead() > 0, c.toString());
                }
            }
        }
        assertEquals(live, replay, "live files per o3.sstables vs replayed events");
        // delivered on the listener thread only
        assertFalse(r.threads.contains(writer));
        for (String t : r.threads) {
            assertTrue(t.startsWith("o3lsm-listener-"), "event on thread " + t);
        }
    }

    @Test
    void shouldKeepWritingWhenAListenerBlocksOrThrows() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        EventListener blocking = new EventListener() {
            @Override
            public void onFlushBegin(FlushJobInfo info) {
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        EventListener throwing = new EventListener() {
            @Override
            public void onFlushCompleted(FlushJobInfo info) {
                throw new IllegalStateException("listener bug (expected by the test)");
            }
        };
        Recorder after = new Recorder();
        try (DB db = DB.open(dir, manual().listenerQueueCapacity(4)
                .listeners(List.of(throwing, blocking, after)))) {
            for (int round = 0; round < 12; round++) { // 24 events for a queue of 4 behind a blocked listener
                writeSome(db, round, 50);
                db.flush();
            }
            assertTrue(blocked.await(10, TimeUnit.SECONDS));
            assertEquals("v11-7", new String(db.get(b("k00007")), UTF_8));
            long dropped = db.stats().ticker(DBStats.LISTENER_EVENTS_DROPPED);
            assertTrue(dropped > 0, "dropped " + dropped);
            release.countDown();
            writeSome(db, 12, 10);
            db.flush();
        }
        // the throwing listener did not stop delivery to the listeners after it
        assertFalse(after.of(FlushJobInfo.class).isEmpty());
    }

    @Test
    void shouldReportTheBackgroundErrorAndTheFailedFlush() {
        Recorder r = new Recorder();
        FaultInjectingFileSystem fs = new FaultInjectingFileSystem();
        try (DB db = DB.open(dir, manual().fileSystem(fs).addListener(r))) {
            writeSome(db, 0, 100);
            fs.failAppendsTo(n -> n.endsWith(".sst"));
            assertThrows(O3Exception.class, db::flush);
        } catch (O3Exception closeFailure) {
            // closing a failed DB may report the failure again; the events are what is checked
        }
        List<EventListener.BackgroundErrorInfo> errors = r.of(EventListener.BackgroundErrorInfo.class);
        assertEquals(1, errors.size(), r.events.toString());
        assertEquals(EventListener.ErrorSource.FLUSH, errors.get(0).source());
        assertTrue(String.valueOf(errors.get(0).error()).contains("injected"), errors.toString());
        List<FlushJobInfo> flushes = r.of(FlushJobInfo.class);
        assertEquals(1, flushes.size());
        assertNotNull(flushes.get(0).error());
        assertTrue(flushes.get(0).outputs().isEmpty());
    }

    @Test
    void shouldReportAnL0SlowdownStallFromItsBeginToItsEnd() throws Exception {
        Recorder r = new Recorder();
        CountDownLatch compactionStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        io.o3lsm.job.CompactionJob real = new io.o3lsm.job.CompactionJob(io.o3lsm.spi.FileSystem.local());
        io.o3lsm.spi.CompactionExecutor held = req -> { // the first compaction waits for the test
            compactionStarted.countDown();
            try {
                release.await();
            } catch (InterruptedException ex) {
                throw new java.io.InterruptedIOException();
            }
            return real.execute(req);
        };
        try (DB db = DB.open(dir, Options.defaults().jmx(false).level0CompactionTrigger(2).level0SlowdownTrigger(2)
                .level0StopTrigger(100).compactionExecutor(held).addListener(r))) {
            writeSome(db, 0, 50);
            db.flush();
            writeSome(db, 1, 50);
            db.flush(); // two overlapping L0 files: depth 2, at the slowdown trigger; their compaction is held
            assertTrue(compactionStarted.await(10, TimeUnit.SECONDS));
            writeSome(db, 2, 20); // each write group is delayed 1 ms
            release.countDown(); // the compaction ends: L0 is empty, the stall is over
            db.compactRange(null, null);
        }
        List<Object> begins = r.begins(StallInfo.class);
        List<StallInfo> ends = r.of(StallInfo.class);
        assertEquals(1, begins.size(), r.events.toString());
        assertEquals(EventListener.StallReason.L0_SLOWDOWN, ((StallInfo) begins.get(0)).reason());
        assertEquals(2, ((StallInfo) begins.get(0)).l0Depth());
        assertEquals(1, ends.size(), r.events.toString());
        assertEquals(EventListener.StallReason.L0_SLOWDOWN, ends.get(0).reason());
        assertTrue(ends.get(0).durationNanos() >= TimeUnit.MILLISECONDS.toNanos(20), ends.toString());
        // below the slowdown trigger (2); not necessarily 0: a flush may land before the end is seen
        assertTrue(ends.get(0).l0Depth() < 2, ends.toString());
    }

    @Test
    void shouldDeliverPendingEventsAtCloseAndStopTheThread() {
        List<FlushJobInfo> seen = Collections.synchronizedList(new ArrayList<>());
        EventListener slow = new EventListener() {
            @Override
            public void onFlushCompleted(FlushJobInfo info) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                seen.add(info);
            }
        };
        String owner = dir.toString();
        try (DB db = DB.open(dir, manual().addListener(slow))) {
            assertEquals(1, listenerThreads(owner));
            for (int round = 0; round < 6; round++) {
                writeSome(db, round, 20);
                db.flush();
            }
        }
        assertEquals(6, seen.size(), "every flush reported before close returned");
        assertEquals(0, listenerThreads(owner), "listener thread ended");
    }

    @Test
    void shouldStartNoListenerThreadWithoutListeners() {
        try (DB db = DB.open(dir, manual())) {
            writeSome(db, 0, 10);
            db.flush();
            assertEquals(0, listenerThreads(dir.toString()));
        }
    }

    private static long listenerThreads(String owner) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("o3lsm-listener-") && t.getName().endsWith(owner))
                .count();
    }
}
