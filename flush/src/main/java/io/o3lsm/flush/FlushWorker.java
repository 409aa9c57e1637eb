package io.o3lsm.flush;

import io.o3lsm.dm.DmAuthException;
import io.o3lsm.dm.DmException;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.format.Crc32c;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.memtable.ShardReader;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.job.FlushJob;
import io.o3lsm.job.ProcessLoad;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.FlushExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A flush worker: registers with the coordinator in a memory node, keeps a WORKER_POLL outstanding
 * (its heartbeat: free slots, running jobs, bytes written per second, CPU load), and runs the flush
 * jobs it is offered on up to {@code slots} threads. A job: read each input shard's bytes (JOB_READ,
 * checked by the node against the job table), verify their CRC32C and shard header, merge them with
 * core's {@link FlushJob} exactly as a local flush does, create the outputs exclusively in the DB
 * directory on shared storage (which must lie under {@code storageRoot}), compute each file's
 * CRC32C, and report. A job whose report is refused (it was ended meanwhile) has its outputs deleted.
 *
 * <p>Used by the daemon ({@link FlushWorkerMain}, {@code bin/o3 flushworker}) and embeddable.
 * Thread-safe; {@link #close} cancels running jobs and waits for them.
 */
public final class FlushWorker implements AutoCloseable {
    /** How long the node may hold a poll; also the heartbeat period while idle. */
    static final int POLL_WAIT_MS = 500;
    /** Bytes per JOB_READ. */
    static final int READ_CHUNK = 8 << 20;

    private final String name;
    private final Path storageRoot;
    private final FileSystem fs;
    private final int slots;
    private final DmClient client;
    private final ExecutorService pool;
    private final Thread poller;
    private final Consumer<String> log;
    private final Map<Long, AtomicBoolean> running = new ConcurrentHashMap<>();
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong jobsDone = new AtomicLong();
    private final AtomicLong jobsFailed = new AtomicLong();
    private volatile boolean stopping;

    /**
     * Connects (the handshake proves the cluster secret) and starts polling.
     *
     * @throws DmAuthException if the node refuses the secret
     * @throws DmException     if the node cannot be reached
     */
    public FlushWorker(String memoryNode, byte[] secret, String name, Path storageRoot, FileSystem fs, int slots,
            Duration requestTimeout, Consumer<String> log) throws DmException {
        if (slots < 1 || slots > 1024) {
            throw new IllegalArgumentException("slots must be in [1, 1024], found " + slots);
        }
        this.name = name;
        this.storageRoot = storageRoot.toAbsolutePath().normalize();
        this.fs = fs;
        this.slots = slots;
        this.log = log;
        this.client = DmClient.connectWorker(memoryNode, secret, name, requestTimeout);
        try {
            // register now (a poll answered at once, offering no slot yet so that nothing is offered in
            // its answer): once the constructor returns the coordinator knows this worker, and the
            // poll loop's first poll, at once, offers the slots
            client.poll(new Messages.WorkerPoll(0, 0, 0, 0, 0));
        } catch (DmException e) {
            client.close();
            throw e;
        }
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "flushworker-job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.poller = new Thread(this::pollLoop, "flushworker-poll");
        poller.setDaemon(true);
        poller.start();
    }

    public long jobsDone() {
        return jobsDone.get();
    }

    public long jobsFailed() {
        return jobsFailed.get();
    }

    private void pollLoop() {
        long lastBytes = 0;
        long lastNanos = System.nanoTime();
        long backoff = 100;
        boolean outage = false;
        while (!stopping) {
            long now = System.nanoTime();
            long written = bytesWritten.get();
            long bps = (long) ((written - lastBytes) / Math.max(1e-3, (now - lastNanos) / 1e9));
            lastBytes = written;
            lastNanos = now;
            int load = (int) Math.round(ProcessLoad.get() * 1000);
            int inUse = busy.get();
            Messages.PollAnswer a;
            try {
                a = client.poll(new Messages.WorkerPoll(slots, inUse, Math.max(0, Math.min(1000, load)), bps,
                        POLL_WAIT_MS));
            } catch (DmException e) {
                if (stopping) {
                    return;
                }
                if (!client.isConnected()) {
                    // the coordinator failed our jobs when it lost us: their results would be refused
                    for (AtomicBoolean c : running.values()) {
                        c.set(true);
                    }
                }
                if (!outage) {
                    log.accept("poll failed (" + e.getMessage() + "); retrying with backoff until the memory node"
                            + " answers");
                    outage = true;
                }
                sleep(backoff);
                backoff = Math.min(2000, backoff * 2);
                continue;
            }
            if (outage) {
                log.accept("the memory node answers again");
                outage = false;
            }
            backoff = 100;
            for (long h : a.cancelled()) {
                AtomicBoolean c = running.get(h);
                if (c != null) {
                    c.set(true);
                    log.accept("job handle " + h + " cancelled by the coordinator");
                }
            }
            for (Messages.JobOffer o : a.offers()) {
                AtomicBoolean cancelled = new AtomicBoolean();
                running.put(o.handle(), cancelled);
                busy.incrementAndGet();
                try {
                    pool.execute(() -> {
                        try {
                            run(o, cancelled);
                        } finally {
                            running.remove(o.handle());
                            busy.decrementAndGet();
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    running.remove(o.handle());
                    busy.decrementAndGet();
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs one job and reports it; never throws. */
    private void run(Messages.JobOffer o, AtomicBoolean cancelled) {
        String what = "job " + o.jobId() + "/" + o.attempt() + " of DB " + o.dbId() + " (handle " + o.handle() + ")";
        long t0 = System.nanoTime();
        FlushJob job = null;
        try {
            FlushSpec.Spec spec = FlushSpec.decodeSpec(o.spec());
            Path named = Path.of(spec.directory());
            if (!named.isAbsolute()) {
                throw new IOException("the job's directory " + named + " is not an absolute path");
            }
            io.o3lsm.MergeOperator mergeOp = null;
            if (spec.mergeOperator() != null) {
                try {
                    mergeOp = io.o3lsm.MergeOperators.byName(spec.mergeOperator(), null);
                } catch (IllegalArgumentException ex) {
                    throw new IOException("this worker cannot run the job: " + ex.getMessage(), ex);
                }
            }
            io.o3lsm.CompactionFilter filter = null;
            if (spec.filter() != null) {
                try {
                    filter = io.o3lsm.CompactionFilters.byName(spec.filter().name(), null);
                } catch (IllegalArgumentException ex) {
                    throw new IOException("this worker cannot run the job: " + ex.getMessage(), ex);
                }
            }
            Path dir = realPath(named.normalize());
            if (!dir.startsWith(realPath(storageRoot))) { // on a local disk: symbolic links resolved on both sides
                throw new IOException("the job's directory " + named + " is not under this worker's storage root "
                        + storageRoot);
            }
            log.accept(what + " started: " + o.segments().size() + " input(s), outputs " + spec.outputNumbers()[0]
                    + (spec.outputNumbers().length > 1 ? ".." + spec.outputNumbers()[spec.outputNumbers().length - 1]
                            : "") + " in " + dir);
            List<InternalIterator> inputs = new ArrayList<>(o.segments().size());
            long read = 0;
            for (int i = 0; i < o.segments().size(); i++) {
                Messages.JobSegment seg = o.segments().get(i);
                ByteBuffer buf = ByteBuffer.allocateDirect(seg.length());
                List<CompletableFuture<Void>> parts = new ArrayList<>();
                for (int off = 0; off < seg.length(); off += READ_CHUNK) {
                    parts.add(client.readJob(o.handle(), i, off, Math.min(READ_CHUNK, seg.length() - off), buf));
                }
                for (CompletableFuture<Void> f : parts) {
                    client.awaitRead(f);
                }
                buf.clear();
                int crc = Crc32c.value(buf);
                if (crc != seg.checksum()) {
                    throw new IOException("input " + i + " (segment " + seg.segmentId() + ") read with CRC32C 0x"
                            + Integer.toHexString(crc) + ", committed with 0x" + Integer.toHexString(seg.checksum()));
                }
                ShardReader rd = new ShardReader(new UnsafeBuffer(buf), "job-" + o.jobId() + "-input-" + i);
                if (!rd.isSealed() || rd.shardId() != seg.shardId() || rd.minSequence() != seg.minSequence()
                        || rd.maxSequence() != seg.maxSequence()) {
                    throw new IOException("input " + i + " (segment " + seg.segmentId() + ") is not the sealed shard "
                            + seg.shardId() + " the job names");
                }
                inputs.add(rd.iterator());
                read += seg.length();
            }
            job = new FlushJob(fs, dir, new TableOptions(spec.blockSize(), spec.restartInterval(), spec.compression(),
                    spec.bloomBitsPerKey()), spec.targetFileSize(), FlushJob.fileNumbers(spec.outputNumbers()),
                    spec.tombstones(), true, cancelled::get).mergeOperator(mergeOp).compactionFilter(filter, spec.filter())
                    .familyTables(spec.familyTables());
            List<OutputFile> outs = job.run(inputs, spec.snapshots());
            List<FlushExecutor.FlushedFile> files = new ArrayList<>(outs.size());
            long written = 0;
            for (OutputFile f : outs) {
                files.add(new FlushExecutor.FlushedFile(f, fileCrc(FlushJob.outputPath(dir, f.number()))));
                written += f.size();
            }
            bytesWritten.addAndGet(written);
            byte[] report = FlushSpec.encode(new FlushSpec.Report(read, written, files));
            try {
                client.jobDone(o.handle(), true, report);
            } catch (DmException e) {
                jobsFailed.incrementAndGet();
                if (e.status() == Status.NO_SUCH_JOB) {
                    // the job ended before the report (deadline, owner gone, cancelled): nobody installs it
                    job.abandon();
                    log.accept(what + ": result not taken (" + e.getMessage() + "); its " + files.size()
                            + " output(s) deleted");
                } else {
                    // unknown whether the node took it (a lost answer, a timeout): the owner may be
                    // installing the files, so they stay; if it never installs them its orphan sweep
                    // deletes them
                    log.accept(what + ": result report failed (" + e.getMessage() + "); its " + files.size()
                            + " output(s) are left to the owner");
                }
                return;
            }
            jobsDone.incrementAndGet();
            log.accept(String.format("%s done: %d input(s), %d bytes read, %d file(s), %d bytes written, %.1f ms", what,
                    o.segments().size(), read, files.size(), written, (System.nanoTime() - t0) / 1e6));
        } catch (Throwable t) {
            if (job != null) {
                job.abandon();
            }
            jobsFailed.incrementAndGet();
            String why = t instanceof IOException || t instanceof DmException ? t.getMessage() : t.toString();
            log.accept(what + " failed: " + why);
            try {
                client.jobDone(o.handle(), false, String.valueOf(why).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } catch (DmException e) {
                if (e.status() != Status.NO_SUCH_JOB) {
                    log.accept(what + ": reporting the failure failed: " + e.getMessage());
                }
            }
        }
    }

    /**
     * The real path where the storage is this host's disk and has one (links resolved); otherwise the
     * path as given, normalized (a path on HDFS means nothing to the local disk).
     */
    private Path realPath(Path p) throws IOException {
        if (!fs.isLocal() || !p.getFileSystem().equals(java.nio.file.FileSystems.getDefault())
                || !java.nio.file.Files.exists(p)) {
            return p.toAbsolutePath().normalize();
        }
        return p.toRealPath();
    }

    /** CRC32C of a whole file, read through the file system SPI. */
    private int fileCrc(Path p) throws IOException {
        try (FileSystem.ReadableFile f = fs.newReadableFile(p)) {
            return Crc32c.ofFile(f);
        }
    }

    /** Stops polling, cancels running jobs, waits up to 10 s for them, disconnects. */
    @Override
    public void close() {
        stopping = true;
        for (AtomicBoolean c : running.values()) {
            c.set(true);
        }
        pool.shutdown();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                pool.shutdownNow(); // queued jobs never start; a running one stops at its next check
                pool.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "FlushWorker[" + name + ", " + slots + " slot(s), storage " + storageRoot + "]";
    }
}
