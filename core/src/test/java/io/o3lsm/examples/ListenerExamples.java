package io.o3lsm.examples;

import io.o3lsm.DB;
import io.o3lsm.DBStats;
import io.o3lsm.EventListener;
import io.o3lsm.Options;
import io.o3lsm.RateLimiter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The examples of docs/operations/listeners.md and docs/operations/rate-limiter.md, run by DocsExampleTest. */
final class ListenerExamples {
    private ListenerExamples() {
    }

    // DOCS:operations/listeners/listener begin
    /** Logs every flush and compaction with its files, and every stall. */
    static final class JobLog implements EventListener {
        final List<String> lines = new CopyOnWriteArrayList<>();   // called on the listener thread

        @Override
        public void onFlushCompleted(FlushJobInfo f) {
            lines.add("flush " + f.jobId() + " range " + f.range() + " -> " + f.outputs().size() + " files, "
                    + f.bytesWritten() + " bytes, " + f.place() + (f.succeeded() ? "" : " failed: " + f.error()));
        }

        @Override
        public void onCompactionCompleted(CompactionJobInfo c) {
            lines.add("compaction L" + c.inputLevel() + "->L" + c.outputLevel() + " " + c.reason() + ": read "
                    + c.bytesRead() + ", wrote " + c.bytesWritten());
        }

        @Override
        public void onStallEnd(StallInfo s) {
            lines.add("stall " + s.reason() + " " + s.durationNanos() / 1_000_000 + " ms");
        }

        @Override
        public void onBackgroundError(BackgroundErrorInfo e) {
            lines.add("writes stopped by " + e.source() + ": " + e.error());  // page someone
        }
    }
    // DOCS:operations/listeners/listener end

    /** Opens a DB with a listener, flushes and compacts; returns the first lines logged and the drop count. */
    static String listen(Path dir) {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        long dropped;
        // DOCS:operations/listeners/register begin
        JobLog log = new JobLog();
        try (DB db = DB.open(dir, Options.defaults().addListener(log))) {
            db.put(key, "v".getBytes(StandardCharsets.UTF_8));
            db.flush();                                       // returns before the listener may have heard of it
            db.compactRange(null, null);
            dropped = db.stats().ticker(DBStats.LISTENER_EVENTS_DROPPED);   // 0 unless the listener fell behind
        }                                                     // close delivers what is queued, then the thread ends
        // DOCS:operations/listeners/register end
        return log.lines.get(0).replaceAll("\\d+ bytes", "N bytes") + " | " + log.lines.get(1).startsWith("compaction L0->L1 MANUAL")
                + " | " + dropped;
    }

    /** Opens a DB with a rate limiter, changes its rate; returns the compaction bytes it counted (> 0). */
    static boolean rateLimit(Path dir) {
        // DOCS:operations/rate-limiter/use begin
        RateLimiter limiter = RateLimiter.create(32L << 20);         // 32 MiB/s for flush + compaction table writes
        try (DB db = DB.open(dir, Options.defaults().rateLimiter(limiter))) {
            db.put("k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
            db.compactRange(null, null);
            limiter.setBytesPerSecond(8L << 20);                      // busy hours: give reads the disk
            limiter.setBytesPerSecond(0);                             // maintenance window: unlimited
            long waited = db.stats().ticker(DBStats.RATE_LIMIT_DELAY_MICROS);   // this DB's compactions' wait
        }
        // DOCS:operations/rate-limiter/use end
        return limiter.compactionBytes() > 0 && limiter.flushBytes() > 0;
    }
}
