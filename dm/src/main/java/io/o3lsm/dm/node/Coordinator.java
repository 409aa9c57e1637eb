package io.o3lsm.dm.node;

import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.Messages;
import io.o3lsm.dm.protocol.Opcode;
import io.o3lsm.dm.protocol.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control plane for jobs, inside the memory node ({@code docs/design/flush-offload.md}): a
 * registry of workers (their slots and load, from the heartbeat each WORKER_POLL carries), a job
 * table, placement, and the access a worker gets to DM for the jobs it holds.
 *
 * <p><b>Jobs.</b> An owner (a DB session) submits a job naming committed segments of its own; the
 * coordinator pins them (a reference, so a FREE or a newer epoch releases the memory only when the
 * job ends) and places the job on a worker, queues it, or declines it at once (the owner then
 * flushes locally). A placed job ends when its worker reports JOB_DONE, the worker is lost, the
 * deadline passes, the owner cancels it or goes away. The owner's JOB_SUBMIT is answered when the
 * job ends.
 *
 * <p><b>Access.</b> A worker never gets a remote key: it reads its jobs' inputs with JOB_READ, which
 * the node checks against the job table (the worker holds the job, the job is running, the range
 * lies inside that input) before it sends the bytes straight from the segment's memory (UCX moves
 * a large answer by rendezvous: the worker's side gets it from the node's registered memory). A
 * remote key scoped to one segment would not do on these transports: over TCP and shared memory
 * UCX checks neither a key's bounds nor its revocation (SubRangeKeySpikeTest).
 *
 * <p><b>Kinds and queues.</b> A worker declares the job kinds it runs in every poll (flush workers
 * kind 1, compactors kind 2); a job goes only to a worker that runs its kind. Flush jobs are placed
 * by load and queued by pressure (above). Compaction jobs name no segments (their inputs are SSTs
 * on shared storage) and wait in a queue of their own, served lower start level first, then higher
 * score, then in submission order; the compactor with the fewest running jobs among those with a
 * free slot takes the head. A compaction is declined at once (the owner compacts locally) when no
 * compactor is registered or {@link #COMPACTION_QUEUE_LIMIT} compactions already wait.
 *
 * <p><b>Liveness.</b> A worker keeps a WORKER_POLL outstanding (the node holds it up to its
 * wait); one that has no poll outstanding for {@link #WORKER_DEAD_MILLIS}, or whose connection UCX
 * reports failed, is lost, and its jobs fail.
 *
 * <p><b>Threads.</b> Progress thread only (the node's dispatch, peer-error handler and its tick).
 */
final class Coordinator {
    /** Jobs waiting for a free worker slot, at most; beyond it a submit is declined. */
    static final int QUEUE_LIMIT = 64;
    /** Compaction jobs waiting for a compactor slot, at most; beyond it a compaction is declined (run locally). */
    static final int COMPACTION_QUEUE_LIMIT = 64;
    /** A worker with no WORKER_POLL outstanding for this long is lost (three missed 500 ms heartbeats). */
    static final long WORKER_DEAD_MILLIS = 1500;
    /** Job specs held at once, at most (bytes). */
    static final long SPEC_BUDGET = 64L << 20;
    /** A poll answer carries offers up to about this many bytes; the rest wait for the next poll. */
    static final int MAX_ANSWER_BYTES = 32 << 20;
    private static final long MS = 1_000_000L;

    /** Sends a response (the node's reply path). */
    interface Replier {
        void reply(Session s, int opcode, long requestId, int status, BodyWriter body, String error);
    }

    /** Sends bytes of a segment as a response, straight from its memory; releases {@code seg} when sent. */
    interface BytesReplier {
        void replyBytes(Session s, int opcode, long requestId, Segment seg, int offset, int length);
    }

    /** Resolves a segment of the owner's DB, committed and undamaged, or refuses. */
    interface Segments {
        Segment committed(Session owner, long id) throws Refusal;
    }

    private final Replier replier;
    private final BytesReplier bytes;
    private final Segments segments;
    private final NodeLog log;
    private final Map<Session, Worker> workers = new LinkedHashMap<>();
    private final Map<Long, Job> jobs = new HashMap<>();
    private final List<Job> queue = new ArrayList<>();
    /** Compaction jobs waiting, in the order they are served ({@link #COMPACTION_ORDER}). */
    private final List<Job> compactionQueue = new ArrayList<>();
    /** Submission order, the last tie-breaker of the compaction queue. */
    private long nextSequence;
    private long nextHandle;
    /** When the last tick ran (nanoTime); a late tick skips the heartbeat check once. */
    private long lastTick = System.nanoTime();
    /** Bytes of job specs the table and queue hold; a submit beyond {@link #SPEC_BUDGET} is declined. */
    private long specBytes;
    /**
     * Handles of jobs ended while their worker was declared lost but stayed connected (a pause):
     * told at its next poll, when it registers again.
     */
    private final Map<Session, List<Long>> endedWhileLost = new HashMap<>();
    /**
     * JOB_CANCELs that found no job (the submit may still be on its way: a small cancel can overtake a
     * large submit, or be sent just before it): a submit matching one is failed at once. The last 1024.
     */
    private final Map<String, Boolean> earlyCancels = new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 1024;
        }
    };

    private static String cancelKey(Session owner, long jobId, int attempt) {
        return owner.account.dbId + "/" + owner.epoch + "/" + jobId + "/" + attempt;
    }

    // counters (progress thread; read for stats)
    long submitted;
    long placed;
    long declined;
    long completed;
    long failed;

    private final class Worker {
        final Session session;
        final String name;
        int slots;
        /** The job kinds it runs ({@link Messages#kindBit} bits), from its last poll. */
        int kinds;
        int load;
        long bytesPerSecond;
        long pollRequest = -1;
        long pollDeadline;
        long lastAnswered = System.nanoTime();
        /** Jobs the worker said it runs, at its last poll. */
        int reportedRunning;
        final Set<Job> running = new LinkedHashSet<>();
        final List<Job> outbox = new ArrayList<>();
        final List<Long> cancelled = new ArrayList<>();

        Worker(Session session) {
            this.session = session;
            this.name = session.hello.dbId();
        }

        boolean runs(int kind) {
            return (kinds & Messages.kindBit(kind)) != 0;
        }

        /** Jobs it runs: the larger of those the coordinator placed on it and those it reported. */
        int busy() {
            return Math.max(running.size(), reportedRunning);
        }

        int freeSlots() {
            return slots - Math.max(running.size(), reportedRunning);
        }

        /** Reported load plus the share of slots the coordinator filled since (per mille). */
        int effectiveLoad() {
            return Math.min(1000, load + (slots == 0 ? 1000 : 1000 * running.size() / slots));
        }
    }

    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int ENDED = 2;

    private final class Job {
        final long handle;
        final Session owner;
        final long submitRequest;
        final Messages.JobSubmit submit;
        final List<Segment> inputs;
        final long queuedUntil;
        final long sequence = nextSequence++;
        int state = QUEUED;
        Worker worker;
        long deadline;
        Messages.JobOffer offer;

        Job(long handle, Session owner, long submitRequest, Messages.JobSubmit submit, List<Segment> inputs) {
            this.handle = handle;
            this.owner = owner;
            this.submitRequest = submitRequest;
            this.submit = submit;
            this.inputs = inputs;
            this.queuedUntil = System.nanoTime() + submit.deadlineMs() * MS;
        }

        boolean isCompaction() {
            return submit.kind() == Messages.KIND_COMPACTION;
        }

        String who() {
            return (isCompaction() ? "compaction " : "") + "job " + submit.jobId() + "/" + submit.attempt() + " of " + owner.who();
        }
    }

    /** The compaction queue's order: lower start level, then higher score, then submitted earlier. */
    private static final java.util.Comparator<Job> COMPACTION_ORDER = (a, b) -> {
        int c = Integer.compare(a.submit.startLevel(), b.submit.startLevel());
        if (c == 0) {
            c = Double.compare(b.submit.score(), a.submit.score());
        }
        return c != 0 ? c : Long.compare(a.sequence, b.sequence);
    };

    Coordinator(Replier replier, BytesReplier bytes, Segments segments, NodeLog log, long handleSeed) {
        this.replier = replier;
        this.bytes = bytes;
        this.segments = segments;
        this.log = log;
        this.nextHandle = handleSeed;
    }

    int workerCount() {
        return workers.size();
    }

    int jobCount() {
        return jobs.size();
    }

    /** Registered workers that run {@code kind}. */
    int workerCount(int kind) {
        int n = 0;
        for (Worker w : workers.values()) {
            if (w.runs(kind)) {
                n++;
            }
        }
        return n;
    }

    // ---- owner requests ---------------------------------------------------------------------------

    /** JOB_SUBMIT from a DB session: answered now if declined or refused, otherwise when the job ends. */
    void submit(Session owner, long requestId, Messages.JobSubmit m) throws Refusal {
        submitted++;
        List<Segment> pinned = new ArrayList<>(m.segments().length);
        try {
            for (long id : m.segments()) {
                Segment seg = segments.committed(owner, id);
                if (!seg.retain()) {
                    throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + id + " was freed");
                }
                pinned.add(seg);
            }
        } catch (Refusal r) {
            for (Segment seg : pinned) {
                seg.release();
            }
            throw r;
        }
        for (Job j : jobs.values()) {
            if (sameJob(j, owner, m.jobId(), m.attempt())) {
                for (Segment seg : pinned) {
                    seg.release();
                }
                throw new Refusal(Status.BAD_STATE, "job " + m.jobId() + " attempt " + m.attempt()
                        + " is already submitted");
            }
        }
        if (earlyCancels.remove(cancelKey(owner, m.jobId(), m.attempt())) != null) {
            for (Segment seg : pinned) {
                seg.release();
            }
            replier.reply(owner, Opcode.JOB_SUBMIT, requestId, Status.JOB_FAILED, null, "job " + m.jobId() + " attempt "
                    + m.attempt() + " was cancelled by its owner before it arrived");
            return;
        }
        Job job = new Job(nextHandle++, owner, requestId, m, pinned);
        if (job.isCompaction()) {
            submitCompaction(job);
            return;
        }
        if (workers.isEmpty()) {
            decline(job, "no workers registered");
            return;
        }
        if (workerCount(Messages.KIND_FLUSH) == 0) {
            decline(job, "no flush workers registered (" + workers.size() + " worker(s) run other kinds)");
            return;
        }
        if (specBytes + m.spec().length > SPEC_BUDGET) {
            decline(job, "the coordinator holds " + specBytes + " bytes of job specs; its budget is " + SPEC_BUDGET);
            return;
        }
        specBytes += m.spec().length;
        jobs.put(job.handle, job);
        if (place(job)) {
            return;
        }
        boolean always = (m.flags() & Messages.JOB_ALWAYS) != 0;
        Worker best = null;
        for (Worker w : workers.values()) {
            if (!w.runs(Messages.KIND_FLUSH)) {
                continue;
            }
            if (best == null || w.load < best.load) {
                best = w;
            }
        }
        if (!always && (best == null || best.load >= m.ownerLoad())) {
            forget(job);
            decline(job, "no worker less loaded than the owner (owner load " + m.ownerLoad() + "/1000"
                    + (best == null ? "" : ", least-loaded worker " + best.name + " " + best.load + "/1000") + ")");
            return;
        }
        if (queue.size() >= QUEUE_LIMIT) {
            forget(job);
            decline(job, "job queue full (" + QUEUE_LIMIT + " jobs wait for a free worker slot)");
            return;
        }
        queue.add(job);
        queue.sort((a, b) -> Long.compare(b.submit.pressure(), a.submit.pressure()));
    }

    /**
     * A compaction job: declined when no compactor is registered or the compaction queue is full,
     * otherwise queued in {@link #COMPACTION_ORDER} and placed as compactor slots allow.
     */
    private void submitCompaction(Job job) {
        int compactors = workerCount(Messages.KIND_COMPACTION);
        if (compactors == 0) {
            decline(job, "no compactors registered");
            return;
        }
        if (compactionQueue.size() >= COMPACTION_QUEUE_LIMIT) {
            decline(job, "compaction queue full (" + COMPACTION_QUEUE_LIMIT + " compactions wait for a compactor slot)");
            return;
        }
        if (specBytes + job.submit.spec().length > SPEC_BUDGET) {
            decline(job, "the coordinator holds " + specBytes + " bytes of job specs; its budget is " + SPEC_BUDGET);
            return;
        }
        specBytes += job.submit.spec().length;
        jobs.put(job.handle, job);
        int at = java.util.Collections.binarySearch(compactionQueue, job, COMPACTION_ORDER);
        compactionQueue.add(at < 0 ? -at - 1 : at, job);
        placeQueuedCompactions();
        if (job.state == QUEUED) {
            log.info(job.who() + " queued: start level " + job.submit.startLevel() + ", score " + job.submit.score()
                    + ", " + compactionQueue.size() + " compaction(s) wait for " + compactors + " compactor(s)");
        }
    }

    /** Out of the table (not yet ended): its spec no longer counts. */
    private void forget(Job j) {
        if (jobs.remove(j.handle) != null) {
            specBytes -= j.submit.spec().length;
        }
    }

    /** The job (job id, attempt) of the DB and epoch {@code owner} speaks for. */
    private static boolean sameJob(Job j, Session owner, long jobId, int attempt) {
        return j.owner.account == owner.account && j.owner.epoch == owner.epoch && j.submit.jobId() == jobId
                && j.submit.attempt() == attempt;
    }

    /**
     * A newer epoch of {@code account} authenticated: the older epochs' jobs end (their results could
     * not be installed by anyone), their workers are told, their inputs unpinned.
     */
    void epochSuperseded(DbAccount account, long newEpoch) {
        for (Job j : new ArrayList<>(jobs.values())) {
            if (j.owner.account == account && j.owner.epoch < newEpoch) {
                end(j, "epoch " + j.owner.epoch + " of its DB was superseded by epoch " + newEpoch, true);
                replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                        j.who() + " ended: a newer epoch of its DB connected");
            }
        }
    }

    /** JOB_CANCEL from a DB session. */
    void cancel(Session owner, long requestId, Messages.JobCancel c) throws Refusal {
        for (Job j : new ArrayList<>(jobs.values())) {
            if (sameJob(j, owner, c.jobId(), c.attempt())) {
                end(j, "cancelled by its owner", true);
                replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                        j.who() + " cancelled by its owner");
                replier.reply(owner, Opcode.JOB_CANCEL, requestId, Status.OK, new BodyWriter(0), null);
                return;
            }
        }
        earlyCancels.put(cancelKey(owner, c.jobId(), c.attempt()), Boolean.TRUE); // its submit may still come
        throw new Refusal(Status.NO_SUCH_JOB, "no job " + c.jobId() + " attempt " + c.attempt() + " of this DB");
    }

    // ---- worker requests --------------------------------------------------------------------------

    /** WORKER_POLL: a heartbeat; answered at once if there is anything to hand out, else held up to its wait. */
    void poll(Session s, long requestId, Messages.WorkerPoll p) {
        Worker w = workers.get(s);
        if (w == null) {
            w = new Worker(s);
            w.kinds = p.kinds();
            workers.put(s, w);
            List<Long> ended = endedWhileLost.remove(s);
            if (ended != null) {
                w.cancelled.addAll(ended); // it was declared lost while paused: its jobs ended meanwhile
            }
            log.info((p.runs(Messages.KIND_FLUSH) ? p.runs(Messages.KIND_COMPACTION) ? "flush worker and compactor "
                    : "worker " : "compactor ") + w.name + " registered (" + s.who() + ", " + p.slots() + " slot(s))");
        }
        if (w.pollRequest >= 0) { // a second poll replaces the first: answer the first empty
            answerPoll(w);
        }
        w.slots = p.slots();
        w.kinds = p.kinds();
        w.load = p.load();
        w.reportedRunning = p.running();
        w.bytesPerSecond = p.bytesWrittenPerSecond();
        w.pollDeadline = System.nanoTime() + p.waitMs() * MS;
        placeQueued(); // before the poll is outstanding: offers gather in the outbox, answered once below
        declineUnservable(); // a worker that stopped running a kind may have been the last that ran it
        w.pollRequest = requestId;
        if (!w.outbox.isEmpty() || !w.cancelled.isEmpty() || p.waitMs() == 0) {
            answerPoll(w);
        }
    }

    /** JOB_DONE from a worker: the owner gets the result (or the failure); the job ends. */
    void done(Session s, long requestId, Messages.JobDone d) throws Refusal {
        Job j = jobs.get(d.handle());
        Worker w = workers.get(s);
        if (j == null || w == null || j.worker != w || j.state != RUNNING) {
            throw new Refusal(Status.NO_SUCH_JOB, "job handle " + d.handle() + " is not held by this worker (ended:"
                    + " done, cancelled, past its deadline, or its owner went away)");
        }
        end(j, null, false);
        if (d.ok()) {
            completed++;
            replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.OK,
                    new Messages.JobOutcome(true, w.name, "", d.result()).encode(new BodyWriter(64 + d.result().length)),
                    null);
        } else {
            failed++;
            String why = new String(d.result(), java.nio.charset.StandardCharsets.UTF_8);
            log.warn(j.who() + " failed on worker " + w.name + ": "
                    + (why.length() > 1000 ? why.substring(0, 1000) + "... (" + why.length() + " characters)" : why));
            replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                    "worker " + w.name + " failed " + j.who() + ": " + why);
        }
        replier.reply(s, Opcode.JOB_DONE, requestId, Status.OK, new BodyWriter(0), null);
        placeQueued();
    }

    /** JOB_READ: bytes of an input of a job this worker holds, checked against the job table. */
    void read(Session s, long requestId, Messages.JobRead r) throws Refusal {
        Job j = jobs.get(r.handle());
        Worker w = workers.get(s);
        if (j == null || w == null || j.worker != w || j.state != RUNNING) {
            if (j != null && j.worker != w) {
                log.warn(s.who() + " asked to read job handle " + r.handle() + ", which it does not hold: refused");
            }
            throw new Refusal(Status.ACCESS_DENIED, "job handle " + r.handle() + " is not held by this worker");
        }
        if (r.segmentIndex() < 0 || r.segmentIndex() >= j.inputs.size()) {
            throw new Refusal(Status.BAD_REQUEST, "job handle " + r.handle() + " has " + j.inputs.size()
                    + " input(s), not index " + r.segmentIndex());
        }
        Segment seg = j.inputs.get(r.segmentIndex());
        if ((long) r.offset() + r.length() > seg.length) {
            throw new Refusal(Status.BAD_REQUEST, "bytes [" + r.offset() + ", " + ((long) r.offset() + r.length())
                    + ") lie outside input " + r.segmentIndex() + " of " + seg.length + " bytes");
        }
        if (!seg.retain()) { // the job pins it; kept until the answer is sent, even if the job ends first
            throw new Refusal(Status.NO_SUCH_SEGMENT, "segment " + seg.id + " was freed");
        }
        bytes.replyBytes(s, Opcode.JOB_READ, requestId, seg, r.offset(), r.length());
    }

    // ---- failures and time ------------------------------------------------------------------------

    /** A session ended (UCX reported its peer failed, or the node stops). */
    void sessionClosed(Session s) {
        endedWhileLost.remove(s);
        Worker w = workers.remove(s);
        if (w != null) {
            lost(w, "its connection failed");
        }
        for (Job j : new ArrayList<>(jobs.values())) {
            if (j.owner == s) {
                log.info(j.who() + " ended: its owner disconnected");
                end(j, "its owner disconnected", true);
            }
        }
    }

    /** Every ~100 ms: held polls whose wait is over, lost workers, deadlines. */
    void tick() {
        long now = System.nanoTime();
        // a tick that comes late (the progress thread was stalled) does not judge heartbeats: the polls
        // of live workers may be waiting in UCX behind the stall
        boolean onTime = now - lastTick < 500 * MS;
        lastTick = now;
        for (Worker w : new ArrayList<>(workers.values())) {
            if (w.pollRequest >= 0) {
                if (now - w.pollDeadline >= 0) {
                    answerPoll(w);
                }
            } else if (onTime && now - w.lastAnswered > WORKER_DEAD_MILLIS * MS) {
                workers.remove(w.session);
                lost(w, "no heartbeat for " + (now - w.lastAnswered) / MS + " ms");
            }
        }
        for (Job j : new ArrayList<>(jobs.values())) {
            if (j.state == RUNNING && now - j.deadline >= 0) {
                failed++;
                log.warn(j.who() + " on worker " + j.worker.name + " passed its deadline of " + j.submit.deadlineMs()
                        + " ms: ended");
                Worker w = j.worker;
                end(j, "deadline passed", true);
                replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                        j.who() + " on worker " + w.name + " did not finish within " + j.submit.deadlineMs()
                                + " ms of its submission");
            } else if (j.state == QUEUED && now - j.queuedUntil >= 0) {
                queue.remove(j);
                compactionQueue.remove(j);
                forget(j);
                decline(j, "no " + (j.isCompaction() ? "compactor" : "worker") + " slot came free within "
                        + j.submit.deadlineMs() + " ms");
            }
        }
    }

    /** The node stops: every job ends, owners and workers get failures (if their connections still work). */
    void stop() {
        for (Job j : new ArrayList<>(jobs.values())) {
            end(j, "the memory node stops", false);
            replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                    "the memory node stops");
        }
    }

    private void lost(Worker w, String why) {
        log.warn("worker " + w.name + " (" + w.session.who() + ") lost: " + why + "; failing its " + w.running.size()
                + " job(s)");
        boolean connected = !w.session.closed;
        for (Job j : new ArrayList<>(w.running)) {
            failed++;
            end(j, "worker lost", false);
            if (connected) {
                endedWhileLost.computeIfAbsent(w.session, k -> new ArrayList<>()).add(j.handle);
            }
            replier.reply(j.owner, Opcode.JOB_SUBMIT, j.submitRequest, Status.JOB_FAILED, null,
                    "worker " + w.name + " running " + j.who() + " was lost: " + why);
        }
        placeQueued();
        declineUnservable();
    }

    /**
     * Queued jobs no registered worker can run (the last compactor, or the last flush worker, is
     * gone or polls without that kind) are declined now: their owners run them locally instead of waiting out the deadline.
     */
    private void declineUnservable() {
        declineAllIfNoWorker(compactionQueue, Messages.KIND_COMPACTION,
                "no compactors registered (the last one was lost or stopped running compactions)");
        declineAllIfNoWorker(queue, Messages.KIND_FLUSH,
                "no flush workers registered (the last one was lost or stopped running flush jobs)");
    }

    /** Empties {@code waiting} and declines its jobs if no registered worker runs {@code kind}. */
    private void declineAllIfNoWorker(List<Job> waiting, int kind, String why) {
        if (waiting.isEmpty() || workerCount(kind) > 0) {
            return;
        }
        List<Job> jobs = new ArrayList<>(waiting);
        waiting.clear();
        for (Job j : jobs) {
            forget(j);
            decline(j, why);
        }
    }

    // ---- placement --------------------------------------------------------------------------------

    /** The least-loaded worker (with a free slot if {@code needSlot}), or null. */
    private Worker leastLoaded(boolean needSlot) {
        Worker best = null;
        for (Worker w : workers.values()) {
            if (!w.runs(Messages.KIND_FLUSH) || needSlot && w.freeSlots() <= 0) {
                continue;
            }
            if (best == null || w.effectiveLoad() < best.effectiveLoad()) {
                best = w;
            }
        }
        return best;
    }

    /** The compactor with a free slot and the fewest running jobs (the first registered among equals), or null. */
    private Worker leastBusyCompactor() {
        Worker best = null;
        for (Worker w : workers.values()) {
            if (w.runs(Messages.KIND_COMPACTION) && w.freeSlots() > 0 && (best == null || w.busy() < best.busy())) {
                best = w;
            }
        }
        return best;
    }

    /** Places {@code job} (a flush) on a worker if one qualifies now. */
    private boolean place(Job job) {
        Worker w = leastLoaded(true);
        boolean always = (job.submit.flags() & Messages.JOB_ALWAYS) != 0;
        if (w == null || !always && w.effectiveLoad() >= job.submit.ownerLoad()) {
            return false;
        }
        assign(job, w);
        return true;
    }

    /** Hands {@code job} to {@code w}: running from now, offered at its next poll (answered now if one waits). */
    private void assign(Job job, Worker w) {
        List<Messages.JobSegment> segs = new ArrayList<>(job.inputs.size());
        for (Segment seg : job.inputs) {
            segs.add(new Messages.JobSegment(seg.id, seg.length, seg.checksum, seg.reader.shardId(),
                    seg.reader.minSequence(), seg.reader.maxSequence()));
        }
        job.state = RUNNING;
        job.worker = w;
        job.deadline = job.queuedUntil; // deadline-ms counts from the submit, queue time included
        job.offer = new Messages.JobOffer(job.handle, job.submit.kind(), job.owner.account.dbId, job.owner.epoch,
                job.submit.jobId(), job.submit.attempt(), job.submit.deadlineMs(), segs, job.submit.spec());
        w.running.add(job);
        w.outbox.add(job);
        placed++;
        if (w.pollRequest >= 0) {
            answerPoll(w);
        }
    }

    /** Places the head of the compaction queue while a compactor has a free slot. */
    private void placeQueuedCompactions() {
        while (!compactionQueue.isEmpty()) {
            Worker w = leastBusyCompactor();
            if (w == null) {
                return;
            }
            assign(compactionQueue.remove(0), w);
        }
    }

    private void placeQueued() {
        placeQueuedCompactions();
        for (Iterator<Job> it = queue.iterator(); it.hasNext();) {
            Job j = it.next();
            if (place(j)) {
                it.remove();
            } else if (leastLoaded(true) == null) {
                return;
            }
        }
    }

    private void decline(Job job, String why) {
        declined++;
        for (Segment seg : job.inputs) {
            seg.release();
        }
        job.state = ENDED;
        replier.reply(job.owner, Opcode.JOB_SUBMIT, job.submitRequest, Status.OK,
                new Messages.JobOutcome(false, "", why, new byte[0]).encode(new BodyWriter(64 + why.length())), null);
    }

    /**
     * Ends a job: out of the table and queue, keys revoked, inputs unpinned; its worker is told at
     * its next poll if {@code tellWorker}. The caller answers the owner.
     */
    private void end(Job j, String why, boolean tellWorker) {
        if (j.state == ENDED) {
            return;
        }
        boolean wasRunning = j.state == RUNNING;
        j.state = ENDED;
        forget(j);
        queue.remove(j);
        compactionQueue.remove(j);
        for (Segment seg : j.inputs) {
            seg.release();
        }
        Worker w = j.worker;
        if (w != null) {
            w.running.remove(j);
            boolean unsent = w.outbox.remove(j);
            if (wasRunning && tellWorker && !unsent && workers.get(w.session) == w) {
                w.cancelled.add(j.handle);
                if (w.pollRequest >= 0) {
                    answerPoll(w);
                }
            }
        }
        if (why != null) {
            log.info(j.who() + " ended: " + why);
        }
    }

    private void answerPoll(Worker w) {
        List<Messages.JobOffer> offers = new ArrayList<>(w.outbox.size());
        long bytes = 0;
        for (Iterator<Job> it = w.outbox.iterator(); it.hasNext();) {
            Job j = it.next();
            long size = 256 + j.offer.spec().length + 64L * j.offer.segments().size();
            if (!offers.isEmpty() && bytes + size > MAX_ANSWER_BYTES) {
                break; // the rest go with the next poll, which follows at once
            }
            offers.add(j.offer);
            bytes += size;
            it.remove();
        }
        long[] cancelled = w.cancelled.stream().mapToLong(Long::longValue).toArray();
        w.cancelled.clear();
        long req = w.pollRequest;
        w.pollRequest = -1;
        w.lastAnswered = System.nanoTime();
        replier.reply(w.session, Opcode.WORKER_POLL, req, Status.OK,
                new Messages.PollAnswer(offers, cancelled).encode(new BodyWriter((int) Math.min(bytes + 256, 1 << 20))),
                null);
    }
}
