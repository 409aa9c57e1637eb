package io.o3lsm.ycsb;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import site.ycsb.DB;
import site.ycsb.WorkloadException;
import site.ycsb.workloads.CoreWorkload;

/**
 * YCSB's CoreWorkload, made to fail so that YCSB 0.17's client skips {@code DB.cleanup()}:
 * {@code skipping.fail_after=N} throws from every insert after the N-th (the client thread then calls
 * {@code System.exit(0)}), {@code skipping.fail_thread=T} throws from client thread T's
 * {@code initThread} (that thread returns after {@code init} without {@code cleanup}).
 */
public class SkippingWorkload extends CoreWorkload {
    private final AtomicLong inserts = new AtomicLong();
    private long failAfter = Long.MAX_VALUE;
    private int failThread = -1;

    @Override
    public void init(Properties p) throws WorkloadException {
        super.init(p);
        failAfter = Long.parseLong(p.getProperty("skipping.fail_after", Long.toString(Long.MAX_VALUE)));
        failThread = Integer.parseInt(p.getProperty("skipping.fail_thread", "-1"));
    }

    @Override
    public Object initThread(Properties p, int threadId, int threadCount) throws WorkloadException {
        if (threadId == failThread) {
            throw new WorkloadException("test: initThread of client thread " + threadId + " fails");
        }
        return super.initThread(p, threadId, threadCount);
    }

    @Override
    public boolean doInsert(DB db, Object threadState) {
        if (inserts.incrementAndGet() > failAfter) {
            throw new IllegalStateException("test: insert " + inserts.get() + " fails");
        }
        return super.doInsert(db, threadState);
    }
}
