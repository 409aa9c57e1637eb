package io.o3lsm.compaction;

import io.o3lsm.dm.DmAuthException;
import io.o3lsm.dm.DmException;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Status;
import io.o3lsm.format.Crc32c;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.job.FlushJob;
import io.o3lsm.job.ProcessLoad;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor.CompactedFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A compactor: registers with the coordinator in a memory node as a worker that runs compaction
 * jobs (kind 2, {@code docs/format/dm-protocol.md}), keeps a WORKER_POLL outstanding (its heartbeat:
 * slots, running jobs, bytes written per second, CPU load), and runs the compactions it is offered
 * on up to {@code slots} threads, next to the data. A job: decode the spec
 * ({@code docs/format/compaction-job.md}), check that its DB directory lies under this compactor's
 * storage root, run core's {@link CompactionJob} with every output created exclusively (the code a
 * local compaction runs), compute each output's CRC32C, and report. A job that fails has its outputs
 * deleted (so are those of a job still running when {@link #close} is called); a report the node refuses with {@code NO_SUCH_JOB} (the job ended meanwhile: deadline,
 * lost heartbeat, owner gone or cancelled) has its outputs deleted too, as nobody will install them.
 * A report whose answer does not come leaves the outputs to the owner (it may be installing them;
 * its orphan sweep deletes them otherwise).
 *
 * <p>Used by the daemon ({@link CompactorMain}, {@code bin/o3 compactor}) and embeddable.
 * Thread-safe; {@link #close} cancels running jobs and waits for them. Threads: one poll thread,
 * {@code slots} job threads; state shared between them is in concurrent maps and atomics.
 */
public final class Compactor implements AutoCloseable {
    /** How long the node may hold a poll; also the heartbeat period while idle. */
    static final int POLL_WAIT_MS = 500;
    private static final int KINDS = Messages.kindBit(Messages.KIND_COMPACTION);

    private final String name;
    private final Path storageRoot;
    private final FileSystem fs;
    private final int slots;
    private final DmClient client;
    private final ExecutorService pool;
    private final Thread poller;
    private final Consumer<String> log;
    /** Jobs running or queued on the pool, by handle: their cancellation flags. */
    private final Map<Long, AtomicBoolean> running = new ConcurrentHashMap<>();
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong jobsDone = new AtomicLong();
    private final AtomicLong jobsFailed = new AtomicLong();
    private volatile boolean stopping;

    /**
     * Connects (the handshake proves the cluster secret), registers (so the coordinator knows this
     * compactor once the constructor returns) and starts polling.
     *
     * @param storageRoot the path within {@code fs} every job's directory must lie under
     * @throws DmAuthException if the node refuses the secret
     * @throws DmException     if the node cannot be reached
     */
    public Compactor(String memoryNode, byte[] secret, String name, FileSystem fs, Path storageRoot, int slots,
            Duration requestTimeout, Consumer<String> log) throws DmException {
        if (slots < 1 || slots > 1024) {
            throw new IllegalArgumentException("slots must be in [1, 1024], found " + slots);
        }
        if (!storageRoot.isAbsolute()) {
            throw new IllegalArgumentException("the storage root must be an absolute path, found " + storageRoot);
        }
        this.name = name;
        this.storageRoot = storageRoot.normalize();
        this.fs = fs;
        this.slots = slots;
        this.log = log;
        this.client = DmClient.connectWorker(memoryNode, secret, name, requestTimeout);
        try {
            // a first poll offering no slot, answered at once: registered, and nothing offered in its answer
            client.poll(new Messages.WorkerPoll(0, 0, 0, 0, 0, KINDS));
        } catch (DmException e) {
            client.close();
            throw e;
        }
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "compactor-job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.poller = new Thread(this::pollLoop, "compactor-poll");
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
            Messages.PollAnswer a;
            try {
                a = client.poll(new Messages.WorkerPoll(slots, busy.get(), Math.max(0, Math.min(1000, load)),
                        Math.max(0, bps), POLL_WAIT_MS, KINDS));
            } catch (DmException e) {
                if (stopping) {
                    return;
                }
                if (!client.isConnected()) {
                    // the coordinator failed our jobs when it lost us: their reports would be refused
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
                } catch (RejectedExecutionException e) { // closing
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

    /**
     * The job's DB directory, checked: absolute, and under the storage root after normalizing (and,
     * on the local file system, after resolving symbolic links on both sides).
     */
    Path directoryOf(String named) throws IOException {
        Path p = Path.of(named);
        if (!p.isAbsolute()) {
            throw new IOException("the job's directory " + named + " is not an absolute path");
        }
        Path dir = p.normalize();
        Path root = storageRoot;
        if (fs.isLocal()) {
            dir = realPath(dir);
            root = realPath(root);
        }
        if (!dir.startsWith(root)) {
            throw new IOException("the job's directory " + named + " is not under this compactor's storage root "
                    + storageRoot);
        }
        return dir;
    }

    /** Links resolved where the path exists on this host's file system; otherwise the path as given. */
    private static Path realPath(Path p) throws IOException {
        if (!p.getFileSystem().equals(java.nio.file.FileSystems.getDefault()) || !java.nio.file.Files.exists(p)) {
            return p.toAbsolutePath().normalize();
        }
        return p.toRealPath();
    }

    /** Runs one job and reports it; never throws. */
    private void run(Messages.JobOffer o, AtomicBoolean cancelled) {
        String what = "compaction " + o.jobId() + "/" + o.attempt() + " of DB " + o.dbId() + " (handle " + o.handle()
                + ")";
        long t0 = System.nanoTime();
        Path dir = null;
        List<OutputFile> written = List.of();
        try {
            if (o.kind() != Messages.KIND_COMPACTION || !o.segments().isEmpty()) {
                throw new IOException("offered a job of kind " + o.kind() + " with " + o.segments().size()
                        + " segment(s); a compactor runs compaction jobs (kind 2, no segments)");
            }
            CompactionSpec.Spec spec = CompactionSpec.decodeSpec(o.spec());
            if (spec.epoch() != o.epoch()) {
                throw new IOException("the spec names epoch " + spec.epoch() + ", its owner connected with epoch "
                        + o.epoch());
            }
            dir = directoryOf(spec.directory());
            long[] outs = spec.outputNumbers();
            log.accept(what + " started: " + spec.inputs().size() + " input(s) to level " + spec.outputLevel()
                    + ", outputs " + outs[0] + (outs.length > 1 ? ".." + outs[outs.length - 1] : "") + " in " + dir
                    + (spec.lowerBound() != null || spec.upperBound() != null ? " (a sub-compaction)" : ""));
            // the offer's deadline counts from the owner's submit; counted here from the offer's receipt it is
            // a little late, never early: past it the coordinator has ended the job, so the merge stops
            long deadline = t0 + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.max(0, o.deadlineMs()));
            CompactionResult r = new CompactionJob(fs, true,
                    () -> cancelled.get() || System.nanoTime() - deadline >= 0).execute(spec.toRequest(dir));
            written = r.outputs(); // from here on, a failure deletes them
            if (System.nanoTime() - deadline >= 0 && !stopping) {
                throw new IOException("passed its deadline of " + o.deadlineMs() + " ms");
            }
            if (stopping) { // close() cancels running jobs: their outputs go, whether or not the merge saw the flag
                throw new IOException("cancelled: the compactor stops");
            }
            // a job the coordinator ended meanwhile is still reported: the node answers NO_SUCH_JOB and the
            // outputs are deleted below (one path for every way a job can end before its report)
            List<CompactedFile> files = new ArrayList<>(written.size());
            for (OutputFile f : written) {
                files.add(new CompactedFile(f, fileCrc(FlushJob.outputPath(dir, f.number()))));
            }
            bytesWritten.addAndGet(r.bytesWritten());
            byte[] report = CompactionSpec.encode(new CompactionSpec.Report(r.bytesRead(), r.bytesWritten(), files));
            try {
                client.jobDone(o.handle(), true, report);
            } catch (DmException e) {
                jobsFailed.incrementAndGet();
                if (e.status() == Status.NO_SUCH_JOB) {
                    // the job ended before the report (deadline, lost, owner gone, cancelled): nobody installs it
                    int deleted = delete(dir, written);
                    log.accept(what + ": result not taken (" + e.getMessage() + "); " + deleted + " of its "
                            + written.size() + " output(s) deleted");
                } else {
                    // unknown whether the node took it: the owner may be installing the files, so they stay;
                    // if it never installs them its orphan sweep deletes them
                    log.accept(what + ": result report failed (" + e.getMessage() + "); its " + written.size()
                            + " output(s) are left to the owner");
                }
                return;
            }
            jobsDone.incrementAndGet();
            log.accept(String.format("%s done: %d input(s), %d bytes read, %d file(s), %d bytes written, %.1f ms", what,
                    spec.inputs().size(), r.bytesRead(), files.size(), r.bytesWritten(),
                    (System.nanoTime() - t0) / 1e6));
        } catch (Throwable t) {
            if (dir != null && !written.isEmpty()) {
                delete(dir, written); // CompactionJob deletes its own outputs when it fails; these it finished
            }
            jobsFailed.incrementAndGet();
            Thread.interrupted(); // an interrupt from close() must not keep the failure from being reported
            String why = t instanceof IOException || t instanceof DmException
                    || t instanceof io.o3lsm.dm.protocol.MalformedMessageException ? t.getMessage() : t.toString();
            log.accept(what + " failed: " + why);
            try {
                client.jobDone(o.handle(), false, String.valueOf(why).getBytes(StandardCharsets.UTF_8));
            } catch (DmException e) {
                if (e.status() != Status.NO_SUCH_JOB) {
                    log.accept(what + ": reporting the failure failed: " + e.getMessage());
                }
            }
        }
    }

    /** Deletes the outputs; returns how many it deleted (a failure is logged, the rest still tried). */
    private int delete(Path dir, List<OutputFile> outputs) {
        int n = 0;
        for (OutputFile f : outputs) {
            Path p = FlushJob.outputPath(dir, f.number());
            try {
                fs.delete(p);
                n++;
            } catch (IOException e) {
                log.accept("cannot delete " + p + ": " + e.getMessage());
            }
        }
        return n;
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
        return "Compactor[" + name + ", " + slots + " slot(s), storage " + fs.uri(storageRoot) + "]";
    }
}
