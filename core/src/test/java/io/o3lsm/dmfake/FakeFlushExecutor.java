package io.o3lsm.dmfake;

import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * An in-process stand-in for the flush module's executor, for unit tests of the owner's side of
 * flush offloading: over {@link FakeMemoryNode}'s client it reads the request's shards back, runs
 * the same {@link FlushJob} a worker runs (outputs created exclusively, under the request's numbers,
 * in the request's directory), computes each file's CRC32C and answers {@code Done}. {@link #mode}
 * makes it decline, fail, leave an orphan behind, or lie about its result. Registered in
 * {@code META-INF/services/io.o3lsm.spi.FlushExecutor$Provider} of the core tests.
 */
public final class FakeFlushExecutor implements FlushExecutor.Provider {
    /** What {@link FlushExecutor#execute} does. */
    public enum Mode {
        /** Runs the job and reports it truthfully. */
        RUN,
        /** Waits until the executor is closed, then fails (a job still running when the DB closes). */
        BLOCK_UNTIL_CLOSED,
        /** Answers {@code Local}: no worker took it. */
        LOCAL,
        /** Throws an IOException without writing anything (a worker lost before it started). */
        FAIL,
        /** Writes part of an output file under the request's first number, then throws (a zombie's leftover). */
        FAIL_AFTER_WRITE,
        /** Runs the job, reports the first file one byte longer than it is. */
        WRONG_SIZE,
        /** Runs the job, reports a wrong CRC32C for the first file. */
        WRONG_CRC,
        /** Runs the job, reports the first file under a number that is not the attempt's. */
        WRONG_NUMBER,
        /** Runs the job, reports the first file's keys as reaching outside the range's bounds. */
        KEYS_OUTSIDE_RANGE
    }

    public static volatile Mode mode = Mode.RUN;
    /** Every request executed, in order. */
    public static final List<FlushExecutor.FlushRequest> REQUESTS = new CopyOnWriteArrayList<>();
    /** Files written by {@link Mode#FAIL_AFTER_WRITE}. */
    public static final List<Path> LEFTOVERS = new CopyOnWriteArrayList<>();
    /** Jobs run to the end (any mode that runs the job). */
    public static final AtomicLong RAN = new AtomicLong();
    public static final AtomicLong CLOSED = new AtomicLong();
    /** Submissions waiting in {@link Mode#BLOCK_UNTIL_CLOSED}. */
    public static final AtomicLong BLOCKED = new AtomicLong();
    private static final Object CLOSE_SIGNAL = new Object();

    public static void reset() {
        mode = Mode.RUN;
        REQUESTS.clear();
        LEFTOVERS.clear();
        RAN.set(0);
        CLOSED.set(0);
        BLOCKED.set(0);
    }

    @Override
    public FlushExecutor create(MemoryNode.Client memoryNode) {
        return new FlushExecutor() {
            @Override
            public Outcome execute(FlushRequest req) throws IOException {
                return run(memoryNode, req);
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

    private static FlushExecutor.Outcome run(MemoryNode.Client client, FlushExecutor.FlushRequest req)
            throws IOException {
        REQUESTS.add(req);
        Mode m = mode;
        FileSystem fs = FileSystem.local();
        switch (m) {
            case LOCAL:
                return new FlushExecutor.Local("fake: no worker");
            case FAIL:
                throw new IOException("fake worker lost (injected)");
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
            case FAIL_AFTER_WRITE: {
                Path p = req.directory().resolve(FileNames.table(req.outputFileNumbers()[0]));
                try (FileSystem.WritableFile f = fs.newWritableFileExclusive(p)) {
                    byte[] junk = new byte[4096];
                    f.append(junk, 0, junk.length);
                }
                LEFTOVERS.add(p);
                throw new IOException("fake worker lost after writing " + p + " (injected)");
            }
            default:
                break;
        }
        List<InternalIterator> its = new ArrayList<>();
        long bytesRead = 0;
        for (MemoryNode.RemoteShard rs : req.inputs()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(rs.length());
            client.readBack(rs, buf);
            bytesRead += rs.length();
            its.add(new ShardReader(new UnsafeBuffer(buf, 0, rs.length()), "fake worker copy of " + rs.segmentId())
                    .iterator());
        }
        FlushJob job = new FlushJob(fs, req.directory(), new TableOptions(req.blockSize(), req.restartInterval(),
                req.compression(), req.bloomBitsPerKey()), req.targetFileSize(),
                FlushJob.fileNumbers(req.outputFileNumbers()), req.tombstones(), true, () -> false);
        List<OutputFile> outs;
        try {
            outs = job.run(its, req.snapshots());
        } catch (IOException | RuntimeException e) {
            job.abandon();
            throw e;
        }
        List<FlushExecutor.FlushedFile> files = new ArrayList<>();
        for (OutputFile o : outs) {
            int crc;
            try (FileSystem.ReadableFile f = fs.newReadableFile(req.directory().resolve(FileNames.table(o.number())))) {
                crc = Crc32c.ofFile(f);
            }
            files.add(new FlushExecutor.FlushedFile(o, crc));
        }
        RAN.incrementAndGet();
        if (!files.isEmpty()) {
            FlushExecutor.FlushedFile f0 = files.get(0);
            OutputFile o = f0.file();
            FlushExecutor.FlushedFile lie = switch (m) {
                case WRONG_SIZE -> new FlushExecutor.FlushedFile(new OutputFile(o.number(), o.size() + 1, o.smallest(),
                        o.largest(), o.smallestSequence(), o.largestSequence()), f0.crc32c());
                case WRONG_CRC -> new FlushExecutor.FlushedFile(o, f0.crc32c() ^ 1);
                case WRONG_NUMBER -> new FlushExecutor.FlushedFile(new OutputFile(
                        Arrays.stream(req.outputFileNumbers()).max().getAsLong() + 1000, o.size(), o.smallest(),
                        o.largest(), o.smallestSequence(), o.largestSequence()), f0.crc32c());
                case KEYS_OUTSIDE_RANGE -> new FlushExecutor.FlushedFile(new OutputFile(o.number(), o.size(),
                        withUserKey(o.smallest(), new byte[] {0}), withUserKey(o.largest(), filled(16, (byte) 0xff)),
                        o.smallestSequence(), o.largestSequence()), f0.crc32c());
                default -> f0;
            };
            files.set(0, lie);
        }
        return new FlushExecutor.Done(files, bytesRead, job.bytesWritten(), "fake-worker");
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    /** {@code internalKey} with its user key replaced (the trailer kept). */
    private static byte[] withUserKey(byte[] internalKey, byte[] userKey) {
        byte[] out = Arrays.copyOf(userKey, userKey.length + InternalKey.TRAILER_SIZE);
        System.arraycopy(internalKey, internalKey.length - InternalKey.TRAILER_SIZE, out, userKey.length,
                InternalKey.TRAILER_SIZE);
        return out;
    }
}
