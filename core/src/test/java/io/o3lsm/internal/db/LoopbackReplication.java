package io.o3lsm.internal.db;

import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An in-process replication transport for core's unit tests: a backup "connects" to the primary
 * registered under its address, and every byte is handed over by direct calls (log records applied
 * on the publishing thread, tables and edits on one thread per backup). It proves the engine's side
 * (catch-up, applying, covering, promotion, fencing); the UCX transport and its process tests prove
 * the real path.
 */
final class LoopbackReplication implements Replication.Provider {
    private final Map<String, Primary> primaries = new ConcurrentHashMap<>();
    /** Catch-ups begun, over every backup (a backup that reconnects counts again). */
    final java.util.concurrent.atomic.AtomicInteger catchUps = new java.util.concurrent.atomic.AtomicInteger();
    /** Test hook: runs on the catch-up thread right after a backup applied a snapshot, before any log record. */
    volatile Runnable afterSnapshot;
    /**
     * Test hook: the next edit shipped to a backup reaches it after the edit shipped after it (a transport
     * breaking install order); set, it applies to the next edit of one link, then clears.
     */
    volatile boolean swapNextTwoEdits;

    @Override
    public Replication.Primary listen(Replication.PrimaryConfig config, Replication.Source source) {
        Primary p = new Primary(config, source);
        if (primaries.putIfAbsent(config.listen(), p) != null) {
            throw new IllegalStateException("address in use: " + config.listen());
        }
        return p;
    }

    @Override
    public Replication.Backup follow(Replication.BackupConfig config, Replication.Target target) {
        Backup b = new Backup(config, target);
        b.thread.start();
        return b;
    }

    /** Test hook: drops every backup of the primary at {@code address} (they reconnect and catch up). */
    void dropBackups(String address) {
        Primary p = primaries.get(address);
        if (p != null) {
            for (Link l : p.links) {
                l.drop();
            }
        }
    }

    final class Primary implements Replication.Primary {
        final Replication.PrimaryConfig config;
        final Replication.Source source;
        final List<Link> links = new CopyOnWriteArrayList<>();
        volatile boolean fenced;
        volatile boolean closed;
        private long tickets;

        Primary(Replication.PrimaryConfig config, Replication.Source source) {
            this.config = config;
            this.source = source;
        }

        @Override
        public String address() {
            return config.listen();
        }

        @Override
        public long publish(long walNumber, List<byte[]> records, int[] lengths) {
            for (Link l : links) {
                if (l.live && !l.dropped) {
                    try {
                        for (int i = 0; i < records.size(); i++) {
                            l.backup.target.applyLog(walNumber, records.get(i), 0, lengths[i]);
                        }
                        l.backup.target.logIdle();
                    } catch (IOException | RuntimeException ex) {
                        l.drop();
                    }
                }
            }
            return ++tickets;
        }

        @Override
        public void awaitAcks(long ticket, int acks) throws IOException {
            long deadline = System.nanoTime() + config.ackTimeout().toNanos();
            while (true) {
                if (fenced) {
                    throw new IOException("fenced: a backup follows a newer epoch than " + config.epoch());
                }
                int live = 0;
                for (Link l : links) {
                    live += l.live && !l.dropped ? 1 : 0;
                }
                if (live >= acks) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException(live + " of " + acks + " backups hold the write after " + config.ackTimeout());
                }
                sleep(5);
            }
        }

        @Override
        public void shipEdit(byte[] edit, List<Replication.FileRef> newFiles, Runnable release) {
            List<Link> to = new ArrayList<>();
            for (Link l : links) {
                if (!l.dropped) {
                    to.add(l);
                }
            }
            if (to.isEmpty()) {
                release.run();
                return;
            }
            int[] left = {to.size()};
            Runnable once = () -> {
                synchronized (left) {
                    if (--left[0] == 0) {
                        release.run();
                    }
                }
            };
            for (Link l : to) {
                l.queue(() -> {
                    try {
                        for (Replication.FileRef f : newFiles) {
                            l.sendFile(f);
                        }
                        l.backup.target.applyEdit(edit);
                    } catch (IOException | RuntimeException ex) {
                        l.drop();
                    }
                }, once);
            }
        }

        @Override
        public List<Replication.BackupStatus> backups() {
            List<Replication.BackupStatus> out = new ArrayList<>();
            for (Link l : links) {
                out.add(new Replication.BackupStatus(l.name(), l.live, tickets, 0, fenced));
            }
            return out;
        }

        @Override
        public void close() {
            closed = true;
            primaries.remove(config.listen(), this);
            for (Link l : links) {
                l.drop();
            }
        }
    }

    /** One connection, primary side. */
    final class Link implements Replication.Link {
        final Primary primary;
        final Backup backup;
        final ExecutorService edits = Executors.newSingleThreadExecutor(r -> new Thread(r, "loopback-edits"));
        volatile boolean live;
        volatile boolean dropped;
        /** Edits shipped while catching up: held until the snapshot was sent. */
        private final List<Runnable> held = new ArrayList<>();
        private boolean snapshotSent;
        /** Under the monitor: an edit {@link LoopbackReplication#swapNextTwoEdits} put after the next one. */
        private Runnable deferred;

        Link(Primary primary, Backup backup) {
            this.primary = primary;
            this.backup = backup;
        }

        /**
         * Ships an edit to this backup, in install order (the SPI's contract): held until the snapshot
         * was sent, then handed to the single edits thread. Held edits go to that thread, in order,
         * under this link's monitor in {@link #releaseHeldInOrder}, so no edit shipped later is handed
         * over ahead of them.
         */
        void queue(Runnable task, Runnable done) {
            Runnable r = () -> {
                try {
                    if (!dropped) {
                        task.run();
                    }
                } finally {
                    done.run();
                }
            };
            Runnable swapped;
            synchronized (this) {
                if (swapNextTwoEdits && !dropped) { // test hook: this edit goes after the next one
                    swapNextTwoEdits = false;
                    deferred = r;
                    return;
                }
                swapped = deferred;
                deferred = null;
                if (!snapshotSent) {
                    held.add(r);
                    if (swapped != null) {
                        held.add(swapped);
                    }
                    return;
                }
                if (submit(r) && (swapped == null || submit(swapped))) {
                    return;
                }
            }
            // dropped: the edits thread takes no more; each only runs its release (outside the monitor)
            r.run();
            if (swapped != null) {
                swapped.run();
            }
        }

        /** Hands {@code r} to the edits thread; false once it was shut down (the link was dropped). */
        private boolean submit(Runnable r) {
            try {
                edits.execute(r);
                return true;
            } catch (java.util.concurrent.RejectedExecutionException ex) {
                return false;
            }
        }

        /** The edits held until the snapshot: from now on edits are not held. */
        private synchronized List<Runnable> releaseHeld() {
            List<Runnable> rest = new ArrayList<>(held);
            held.clear();
            snapshotSent = true;
            return rest;
        }

        /**
         * The snapshot was sent: the held edits go to the edits thread in the order they were shipped,
         * before any edit shipped from now on (both under this link's monitor).
         */
        private void releaseHeldInOrder() {
            List<Runnable> rejected = new ArrayList<>();
            synchronized (this) {
                for (Runnable r : releaseHeld()) {
                    if (!submit(r)) {
                        rejected.add(r);
                    }
                }
            }
            for (Runnable r : rejected) {
                r.run(); // dropped: each only runs its release
            }
        }

        void drop() {
            dropped = true;
            live = false;
            List<Runnable> rest = releaseHeld();
            synchronized (this) {
                if (deferred != null) {
                    rest.add(deferred);
                    deferred = null;
                }
            }
            for (Runnable r : rest) {
                r.run(); // dropped: each only runs its release
            }
            edits.shutdown();
            primary.links.remove(this);
            synchronized (backup) {
                backup.notifyAll();
            }
        }

        @Override
        public String name() {
            return backup.config.name();
        }

        @Override
        public Replication.Holdings holdings() {
            return backup.target.holdings();
        }

        @Override
        public void sendFile(Replication.FileRef file) throws IOException {
            check();
            FileSystem fs = primary.config.fs();
            FileSystem.WritableFile out = backup.target.fileBegin(file.number());
            try (FileSystem.ReadableFile in = fs.newReadableFile(primary.config.dir().resolve(FileNames.table(file.number())))) {
                byte[] buf = new byte[64 << 10];
                long pos = 0;
                while (pos < file.size()) {
                    int n = (int) Math.min(buf.length, file.size() - pos);
                    in.readFully(pos, buf, 0, n);
                    out.append(buf, 0, n);
                    pos += n;
                }
            } catch (IOException | RuntimeException ex) {
                backup.target.fileFailed(file.number());
                throw ex;
            }
            backup.target.fileDone(file.number(), file.size());
        }

        @Override
        public void sendSnapshot(byte[] edit, long keptSequence) throws IOException {
            check();
            backup.target.applySnapshot(edit, keptSequence);
            Runnable hook = afterSnapshot;
            if (hook != null) {
                hook.run();
            }
            releaseHeldInOrder();
        }

        @Override
        public void sendLog(long walNumber, byte[] record, int length) throws IOException {
            check();
            backup.target.applyLog(walNumber, record, 0, length);
        }

        @Override
        public void goLive(long lastSequence) throws IOException {
            check();
            backup.target.logIdle();
            backup.target.caughtUp(lastSequence);
            live = true;
        }

        private void check() throws IOException {
            if (dropped) {
                throw new IOException("backup " + name() + " dropped");
            }
        }
    }

    final class Backup implements Replication.Backup {
        final Replication.BackupConfig config;
        final Replication.Target target;
        final Thread thread;
        volatile boolean closed;
        volatile Link link;

        Backup(Replication.BackupConfig config, Replication.Target target) {
            this.config = config;
            this.target = target;
            this.thread = new Thread(this::run, "loopback-backup-" + config.name());
            this.thread.setDaemon(true);
        }

        private void run() {
            while (!closed) {
                Primary p = primaries.get(config.primary());
                if (p == null || p.closed) {
                    sleep(5);
                    continue;
                }
                if (!target.acceptPrimary(p.config.dbId(), p.config.epoch())) {
                    p.fenced = true;
                    sleep(20);
                    continue;
                }
                Link l = new Link(p, this);
                link = l;
                p.links.add(l);
                catchUps.incrementAndGet();
                try {
                    p.source.catchUp(l);
                } catch (IOException | RuntimeException ex) {
                    if (!l.dropped) {
                        System.err.println("loopback: catch-up of " + config.name() + " failed: " + ex);
                        ex.printStackTrace();
                    }
                    l.drop();
                    sleep(5);
                    continue;
                }
                synchronized (this) {
                    while (!l.dropped && !closed) {
                        try {
                            wait(50);
                        } catch (InterruptedException ex) {
                            return;
                        }
                    }
                }
                l.drop();
            }
        }

        @Override
        public boolean live() {
            Link l = link;
            return l != null && l.live && !l.dropped;
        }

        @Override
        public void close() {
            closed = true;
            Link l = link;
            if (l != null) {
                l.drop();
                try {
                    l.edits.awaitTermination(10, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            synchronized (this) {
                notifyAll();
            }
            try {
                thread.join(10_000);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
