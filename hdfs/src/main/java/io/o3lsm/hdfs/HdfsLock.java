package io.o3lsm.hdfs;

import io.o3lsm.spi.FileSystem;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.hdfs.client.HdfsDataInputStream;

/**
 * The single-writer lock of a DB directory on HDFS, across hosts. A local file lock cannot do this.
 * The lock is a series of <b>generation files</b> {@code LOCK.0}, {@code LOCK.1}, ... beside the
 * lock path (format: {@code docs/format/hdfs-lock.md}); the holder of the highest one holds the
 * lock. It keeps that file open for writing (an HDFS <b>lease</b>) and appends and hflushes a
 * <b>heartbeat</b> every {@code heartbeatMs}.
 *
 * <p>Acquiring: find the highest generation {@code n}. If its file is closed (released, or
 * recovered), create generation {@code n+1} exclusively. If it is open, watch its visible length for
 * {@code deadAfterMs}: if it grows, its holder lives and the open is refused; if not, the holder is
 * presumed dead, the newcomer recovers that file's lease (HDFS closes it) and creates generation
 * {@code n+1} exclusively. Exclusive creation is atomic at the NameNode, so of two newcomers racing
 * for the same generation exactly one wins; and a lease is only ever recovered on a generation
 * nobody may legitimately take any more (a newer one is created instead), so a newcomer can never
 * revoke the lease of a holder that won the race. Without the recovery HDFS would keep a dead
 * client's lease for 60 s (soft limit) to 20 minutes (hard limit).
 *
 * <p>Fencing: presuming a writer dead is only safe because the newcomer then recovers the lease of
 * the MANIFEST and of every WAL before reading them (the engine's open does, through
 * {@code FileSystem.recoverLease}); a holder that was merely stalled finds its next append to those
 * files refused. Files the holder creates after the newcomer listed the directory are not fenced that
 * way: the engine asks {@link #checkHeld} right before it creates a WAL or switches CURRENT, and this
 * lock vouches for itself only while its last successful heartbeat is younger than half the
 * dead-after time (reasoning in {@code docs/design/storage.md}, section 3). A holder whose heartbeat
 * append fails stops heartbeating, refuses {@link #checkHeld} and reports it from {@link #close}.
 *
 * <p>A second lock of the same path through the same HDFS client (one {@link HdfsFileSystem}) is
 * refused at once; through another client (another process, host, or {@code DB.open(URI)} in this
 * JVM, which opens a client of its own) it is refused by the generation rule and the heartbeat check.
 */
final class HdfsLock implements FileSystem.Lock {
    /** Lock timing; Hadoop configuration keys {@code o3lsm.lock.heartbeat.ms} and {@code o3lsm.lock.dead-after.ms}. */
    record Settings(long heartbeatMs, long deadAfterMs) {
        Settings {
            if (heartbeatMs < 10 || deadAfterMs < 3 * heartbeatMs) {
                throw new IllegalArgumentException("lock heartbeat " + heartbeatMs + " ms must be >= 10 ms and the dead-after "
                        + deadAfterMs + " ms at least 3 heartbeats");
            }
        }

        static Settings from(Configuration conf) {
            return new Settings(conf.getLong("o3lsm.lock.heartbeat.ms", 1000),
                    conf.getLong("o3lsm.lock.dead-after.ms", 5000));
        }
    }

    /** Newcomers that lose the race for a generation look again this many times before giving up. */
    private static final int ATTEMPTS = 4;

    private static final Set<String> HELD = ConcurrentHashMap.newKeySet();

    private final String key;
    private final String heldKey;
    /** The generation file held, for messages. */
    private final String file;
    private final FSDataOutputStream out;
    private final Thread heartbeat;
    private final long deadAfterMs;
    /** {@link #checkHeld} fails once the last successful heartbeat is older than this. */
    private final long maxAgeNanos;
    /** Written with the monitor held (wait/notify); volatile for {@link #checkHeld}. */
    private volatile boolean stop;
    private volatile IOException lost;
    /**
     * {@link System#nanoTime} taken right before the append of the last heartbeat whose hflush
     * succeeded (before, not after: that heartbeat became visible to newcomers no earlier).
     */
    private volatile long lastBeatNanos;
    /** Test hook: the heartbeat thread appends nothing while set, as if the holder were stalled. */
    private volatile boolean paused;

    private HdfsLock(String key, String heldKey, String file, FSDataOutputStream out, Settings s, long firstBeatNanos) {
        this.key = key;
        this.heldKey = heldKey;
        this.file = file;
        this.out = out;
        this.deadAfterMs = s.deadAfterMs();
        this.maxAgeNanos = TimeUnit.MILLISECONDS.toNanos(s.deadAfterMs() / 2);
        this.lastBeatNanos = firstBeatNanos;
        long heartbeatMs = s.heartbeatMs();
        this.heartbeat = new Thread(() -> beat(heartbeatMs), "o3lsm-hdfs-lock " + key);
        this.heartbeat.setDaemon(true);
        this.heartbeat.start();
    }

    /** The file of generation {@code n} of the lock at {@code path}. */
    static Path generation(Path path, long n) {
        return path.resolveSibling(path.getFileName() + "." + n);
    }

    static HdfsLock acquire(HdfsFileSystem fs, Path path, Settings s) throws IOException {
        String key = fs.uri(path).toString();
        String heldKey = fs.hadoop().getClient().getClientName() + " " + key;
        if (!HELD.add(heldKey)) {
            throw new IOException("lock " + key + " is held by another open DB on the same file system object");
        }
        boolean ok = false;
        try {
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                long n = highestGeneration(fs, path);
                if (n >= 0 && !fs.hadoop().isFileClosed(HdfsFileSystem.hpath(generation(path, n)))) {
                    long seen = holderProgress(fs, generation(path, n), s);
                    if (seen >= 0) {
                        throw new IOException("lock " + key + " is held by a live writer on another process or host "
                                + "(its heartbeat advanced within " + seen + " ms); close that DB first");
                    }
                    // presumed dead: close its generation (nobody may take that one any more) and take the next
                    fs.recoverLease(generation(path, n));
                }
                long firstBeat = System.nanoTime(); // before the first heartbeat's append
                FSDataOutputStream out = createExclusive(fs, generation(path, n + 1));
                if (out != null) {
                    HdfsLock lock = new HdfsLock(key, heldKey, fs.uri(generation(path, n + 1)).toString(), out, s,
                            firstBeat);
                    ok = true;
                    deleteOlder(fs, path, n + 1);
                    return lock;
                }
                // another newcomer created generation n+1 first: look again (it may be alive)
            }
            throw new IOException("lock " + key + " is contended: other writers took it " + ATTEMPTS + " times");
        } finally {
            if (!ok) {
                HELD.remove(heldKey);
            }
        }
    }

    /** The highest generation number present, or -1. */
    private static long highestGeneration(HdfsFileSystem fs, Path path) throws IOException {
        String prefix = path.getFileName() + ".";
        long best = -1;
        FileStatus[] st;
        try {
            st = fs.hadoop().listStatus(HdfsFileSystem.hpath(path.getParent()));
        } catch (IOException ex) {
            throw HdfsFileSystem.unwrap(ex);
        }
        for (FileStatus f : st) {
            String name = f.getPath().getName();
            if (name.startsWith(prefix)) {
                try {
                    best = Math.max(best, Long.parseLong(name.substring(prefix.length())));
                } catch (NumberFormatException ignored) {
                    // not a generation file
                }
            }
        }
        return best;
    }

    /**
     * Creates a generation file exclusively and hflushes a first heartbeat; null if it exists already
     * (another newcomer won). Never creates missing parent directories.
     */
    private static FSDataOutputStream createExclusive(HdfsFileSystem fs, Path p) throws IOException {
        FSDataOutputStream out;
        try {
            out = fs.createNonRecursive(p, false);
        } catch (IOException ex) {
            IOException u = HdfsFileSystem.unwrap(ex);
            if (u instanceof org.apache.hadoop.fs.FileAlreadyExistsException
                    || HdfsFileSystem.isRemote(u, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException")) {
                return null;
            }
            throw u;
        }
        try {
            out.writeLong(System.currentTimeMillis());
            out.hflush();
        } catch (IOException ex) {
            out.close();
            throw ex;
        }
        return out;
    }

    /** Deletes generations below {@code current} that are closed (best effort: they only take space). */
    private static void deleteOlder(HdfsFileSystem fs, Path path, long current) {
        for (long g = current - 1; g >= 0 && g >= current - 64; g--) {
            org.apache.hadoop.fs.Path p = HdfsFileSystem.hpath(generation(path, g));
            try {
                if (!fs.hadoop().exists(p)) {
                    break;
                }
                if (fs.hadoop().isFileClosed(p)) {
                    fs.hadoop().delete(p, false);
                }
            } catch (IOException ignored) {
                return;
            }
        }
    }

    /**
     * Watches the file's visible length for {@code deadAfterMs}: returns after how many ms it grew
     * (the holder lives), or -1 if it did not.
     */
    private static long holderProgress(HdfsFileSystem fs, Path path, Settings s) throws IOException {
        long start = System.nanoTime();
        long first = visibleLength(fs, path);
        long pause = Math.max(5, s.heartbeatMs() / 4);
        while (true) {
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (waited >= s.deadAfterMs()) {
                return -1;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while checking the holder of " + path);
            }
            long now = visibleLength(fs, path);
            if (now != first) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
        }
    }

    private static long visibleLength(HdfsFileSystem fs, Path path) throws IOException {
        try (HdfsDataInputStream in = (HdfsDataInputStream) fs.hadoop().open(HdfsFileSystem.hpath(path))) {
            return in.getVisibleLength();
        } catch (IOException ex) {
            IOException u = HdfsFileSystem.unwrap(ex);
            if (u instanceof FileNotFoundException) {
                return -2; // deleted meanwhile: any later length differs
            }
            throw u;
        }
    }

    private void beat(long heartbeatMs) {
        while (true) {
            synchronized (this) {
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(heartbeatMs);
                long left;
                while (!stop && (left = until - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
                if (stop) {
                    return;
                }
            }
            if (paused) {
                continue;
            }
            try {
                long stamp = System.nanoTime();
                out.writeLong(System.currentTimeMillis());
                out.hflush();
                lastBeatNanos = stamp;
            } catch (IOException ex) {
                lost = ex; // the lease was taken over (or HDFS is gone): the engine's own files are fenced too
                System.err.println("o3lsm: lost the lock " + key + ": " + ex);
                return;
            }
        }
    }

    /** The failure that stopped the heartbeat, or null while it runs. */
    IOException lost() {
        return lost;
    }

    /**
     * Test hook: while paused the heartbeat thread appends nothing (it keeps running), as if the
     * holder were stalled; resumed, it appends again (and fails if the lock was taken over meanwhile).
     */
    void pauseHeartbeat(boolean pause) {
        paused = pause;
    }

    /**
     * Refuses unless the last successful heartbeat is younger than half the dead-after time: a
     * newcomer cannot take the lock over before watching this file not grow for the whole dead-after
     * time after that heartbeat, so whatever the caller does next is seen by any newcomer, unless the
     * caller stalls for more than half the dead-after time first. Also refuses once the heartbeat
     * failed (the lease was taken over, or HDFS is unreachable) and after {@link #close}. A volatile
     * read and {@link System#nanoTime}; any thread.
     */
    @Override
    public void checkHeld() throws IOException {
        IOException failed = lost;
        if (failed != null) {
            throw new IOException("lock " + key + " (" + file + ") is lost: its heartbeat failed (" + failed
                    + "); another writer may have taken it over", failed);
        }
        if (stop) {
            throw new IOException("lock " + key + " (" + file + ") was released");
        }
        long age = System.nanoTime() - lastBeatNanos;
        if (age > maxAgeNanos) {
            throw new IOException("lock " + key + " (" + file + ") can no longer be vouched for: its last successful "
                    + "heartbeat was " + TimeUnit.NANOSECONDS.toMillis(age) + " ms ago, over the limit of "
                    + TimeUnit.NANOSECONDS.toMillis(maxAgeNanos) + " ms (half the dead-after time of " + deadAfterMs
                    + " ms, after which another writer may take the lock over)");
        }
    }

    /**
     * Stops the heartbeat and closes the generation file (releasing the lease). Waits for a heartbeat
     * under way at most 10 s; one stuck longer (an HDFS pipeline in recovery) is abandoned: the stream
     * is left open, and the lease lapses when the client ends.
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (stop) {
                return;
            }
            stop = true;
            notifyAll(); // the heartbeat thread wakes; it is never interrupted inside an HDFS call
        }
        try {
            heartbeat.join(10_000);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        try {
            if (heartbeat.isAlive()) { // not closed: close would wait behind the stuck hflush
                throw new IOException("lock " + key + ": a heartbeat was still stuck in HDFS after 10 s; the lock file "
                        + "is left open (its lease lapses when this client ends)");
            }
            out.close();
        } catch (IOException ex) {
            if (lost == null) {
                throw ex;
            }
        } finally {
            HELD.remove(heldKey);
        }
    }
}
