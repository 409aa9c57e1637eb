package io.o3lsm.dmfake;

import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process stand-in for the compaction module's offload executor, for unit tests of the
 * owner's side of compaction offloading: runs the same {@link CompactionJob} a compactor runs
 * (outputs created exclusively, under the request's numbers, in the request's directory, within its
 * sub-compaction bounds), computes each file's CRC32C and answers {@code Done}. {@link #mode} makes
 * it decline, fail, block until closed, or lie about its result. Registered in
 * {@code META-INF/services/io.o3lsm.spi.CompactionOffloadExecutor$Provider} of the core tests.
 */
public final class FakeCompactionOffloadExecutor implements CompactionOffloadExecutor.Provider {
    /** What {@link CompactionOffloadExecutor#execute} does. */
    public enum Mode {
        /** Runs the job and reports it truthfully. */
        RUN,
        /** Answers {@code Local}: no compactor took it. */
        LOCAL,
        /** Throws an IOException without writing anything (a compactor lost before it started). */
        FAIL,
        /** Waits until the executor is closed, then fails (a job still running when the DB closes). */
        BLOCK_UNTIL_CLOSED,
        /** Runs the job, reports the first file under a number that is not the attempt's. */
        WRONG_NUMBER,
        /** Runs the job, then deletes the first file. */
        MISSING_FILE,
        /** Runs the job, reports the first file one byte longer than it is. */
        WRONG_SIZE,
        /** Runs the job, reports a wrong CRC32C for the first file. */
        WRONG_CRC,
        /** Runs the job, reports the first file's keys as reaching outside the compaction's keys. */
        KEYS_OUTSIDE_RANGE,
        /** Runs the job, reports the second file's smallest key as the first file's (the two overlap). */
        OVERLAPPING_OUTPUTS,
        /** Runs the job, deletes its files and reports Done with no outputs. */
        EMPTY_RESULT
    }

    public static volatile Mode mode = Mode.RUN;
    /** Every request executed, in order. */
    public static final List<CompactionOffloadExecutor.OffloadRequest> REQUESTS = new CopyOnWriteArrayList<>();
    /** Numbers of the files reported in {@code Done} results (before any lie). */
    public static final java.util.Set<Long> REPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Jobs run to the end. */
    public static final AtomicLong RAN = new AtomicLong();
    public static final AtomicLong CLOSED = new AtomicLong();
    /** Submissions waiting in {@link Mode#BLOCK_UNTIL_CLOSED}. */
    public static final AtomicLong BLOCKED = new AtomicLong();
    private static final Object CLOSE_SIGNAL = new Object();

    public static void reset() {
        mode = Mode.RUN;
        REQUESTS.clear();
        REPORTED.clear();
        RAN.set(0);
        CLOSED.set(0);
        BLOCKED.set(0);
    }

    @Override
    public CompactionOffloadExecutor create(MemoryNode.Client memoryNode) {
        return new CompactionOffloadExecutor() {
            @Override
            public Outcome execute(OffloadRequest req) throws IOException {
                return run(req);
            }

            @Override
            public void close() {
                synchronized (CLOSE_SIGNAL) {
                    CLOSED.incrementAndGet();
                    CLOSE_SIGNAL.notifyAll();
                }
            }
        };
    }

    private static CompactionOffloadExecutor.Outcome run(CompactionOffloadExecutor.OffloadRequest req)
            throws IOException {
        REQUESTS.add(req);
        Mode m = mode;
        FileSystem fs = FileSystem.local();
        switch (m) {
            case LOCAL:
                return new CompactionOffloadExecutor.Local("fake: no compactor");
            case FAIL:
                throw new IOException("fake compactor lost (injected)");
            case BLOCK_UNTIL_CLOSED:
                synchronized (CLOSE_SIGNAL) {
                    BLOCKED.incrementAndGet();
                    while (CLOSED.get() == 0) {
                        try {
                            CLOSE_SIGNAL.wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted", e);
                        }
                    }
                }
                throw new IOException("fake executor closed while the job ran");
            default:
                break;
        }
        CompactionResult r = new CompactionJob(fs, true, () -> false).execute(req.job());
        Path dir = req.job().directory();
        List<CompactionOffloadExecutor.CompactedFile> files = new ArrayList<>();
        for (OutputFile o : r.outputs()) {
            int crc;
            try (FileSystem.ReadableFile f = fs.newReadableFile(dir.resolve(FileNames.table(o.number())))) {
                crc = Crc32c.ofFile(f);
            }
            files.add(new CompactionOffloadExecutor.CompactedFile(o, crc));
            REPORTED.add(o.number());
        }
        RAN.incrementAndGet();
        if (m == Mode.EMPTY_RESULT) {
            for (CompactionOffloadExecutor.CompactedFile f : files) {
                Files.delete(dir.resolve(FileNames.table(f.file().number())));
            }
            return new CompactionOffloadExecutor.Done(List.of(), r.bytesRead(), 0, "fake-compactor");
        }
        if (!files.isEmpty()) {
            CompactionOffloadExecutor.CompactedFile f0 = files.get(0);
            OutputFile o = f0.file();
            CompactionOffloadExecutor.CompactedFile lie = switch (m) {
                case WRONG_NUMBER -> new CompactionOffloadExecutor.CompactedFile(new OutputFile(
                        Arrays.stream(req.job().outputFileNumbers()).max().getAsLong() + 1000, o.size(), o.smallest(),
                        o.largest(), o.smallestSequence(), o.largestSequence()), f0.crc32c());
                case WRONG_SIZE -> new CompactionOffloadExecutor.CompactedFile(new OutputFile(o.number(), o.size() + 1,
                        o.smallest(), o.largest(), o.smallestSequence(), o.largestSequence()), f0.crc32c());
                case WRONG_CRC -> new CompactionOffloadExecutor.CompactedFile(o, f0.crc32c() ^ 1);
                case KEYS_OUTSIDE_RANGE -> new CompactionOffloadExecutor.CompactedFile(new OutputFile(o.number(),
                        o.size(), withUserKey(o.smallest(), new byte[] {0}), o.largest(), o.smallestSequence(),
                        o.largestSequence()), f0.crc32c());
                default -> f0;
            };
            files.set(0, lie);
            if (m == Mode.MISSING_FILE) {
                Files.delete(dir.resolve(FileNames.table(o.number())));
            }
            if (m == Mode.OVERLAPPING_OUTPUTS && files.size() > 1) {
                CompactionOffloadExecutor.CompactedFile f1 = files.get(1);
                OutputFile p = f1.file();
                files.set(1, new CompactionOffloadExecutor.CompactedFile(new OutputFile(p.number(), p.size(),
                        o.smallest(), p.largest(), p.smallestSequence(), p.largestSequence()), f1.crc32c()));
            }
        }
        return new CompactionOffloadExecutor.Done(files, r.bytesRead(), r.bytesWritten(), "fake-compactor");
    }

    /** {@code internalKey} with its user key replaced (the trailer kept). */
    private static byte[] withUserKey(byte[] internalKey, byte[] userKey) {
        byte[] out = Arrays.copyOf(userKey, userKey.length + InternalKey.TRAILER_SIZE);
        System.arraycopy(internalKey, internalKey.length - InternalKey.TRAILER_SIZE, out, userKey.length,
                InternalKey.TRAILER_SIZE);
        return out;
    }
}
