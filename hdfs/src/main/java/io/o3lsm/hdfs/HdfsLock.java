package io.o3lsm.hdfs;

import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.hdfs.client.HdfsDataInputStream;

/**
 * The single-writer lock of a DB directory on HDFS, across hosts. A local file lock cannot do this:
 * the lock is an HDFS <b>lease</b> on the LOCK file, which the holder keeps open for writing, plus a
 * <b>heartbeat</b> the holder appends and hflushes every {@code heartbeatMs}.
 *
 * <p>Acquiring: create the LOCK file, or append to it if it exists. HDFS refuses the append while
 * another client holds the file's lease. Then the newcomer watches the file's visible length for {@code deadAfterMs}: if
 * it grows, the holder is alive and the open is refused; if not, the holder is presumed dead, the
 * newcomer recovers the lease (HDFS closes the file) and creates it again. HDFS would otherwise
 * keep a dead client's lease for 60 s (soft limit) to 20 min (hard limit).
 *
 * <p>Fencing: presuming a writer dead is only safe because the newcomer then recovers the lease of
 * the MANIFEST and of every WAL before reading them (the engine's open does, through
 * {@code FileSystem.recoverLease}); a holder that was merely stalled finds its next WAL append or
 * MANIFEST edit refused and can acknowledge nothing more. A holder whose heartbeat append fails
 * stops heartbeating and reports it from {@link #close}.
 *
 * <p>A second lock of the same file through the same HDFS client (one {@link HdfsFileSystem}) is
 * refused at once; through another client (another process, host, or {@code DB.open(URI)} in this
 * JVM, which opens a client of its own) it is refused by HDFS and the heartbeat check.
 */
final class HdfsLock implements Closeable {
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

    private static final Set<String> HELD = ConcurrentHashMap.newKeySet();

    private final String key;
    private final String heldKey;
    private final FSDataOutputStream out;
    private final Thread heartbeat;
    private volatile boolean stop;
    private volatile IOException lost;

    private HdfsLock(String key, String heldKey, FSDataOutputStream out, long heartbeatMs) {
        this.key = key;
        this.heldKey = heldKey;
        this.out = out;
        this.heartbeat = new Thread(() -> beat(heartbeatMs), "o3lsm-hdfs-lock " + key);
        this.heartbeat.setDaemon(true);
        this.heartbeat.start();
    }

    static HdfsLock acquire(HdfsFileSystem fs, Path path, Settings s) throws IOException {
        String key = fs.uri(path).toString();
        String heldKey = fs.hadoop().getClient().getClientName() + " " + key;
        if (!HELD.add(heldKey)) {
            throw new IOException("lock " + key + " is held by another open DB on the same file system object");
        }
        boolean ok = false;
        try {
            FSDataOutputStream out = tryCreate(fs, path);
            if (out == null) {
                long seen = holderProgress(fs, path, s);
                if (seen >= 0) {
                    throw new IOException("lock " + key + " is held by a live writer on another process or host "
                            + "(its heartbeat advanced within " + seen + " ms); close that DB first");
                }
                fs.recoverLease(path); // the holder is presumed dead: take its lease away
                out = tryCreate(fs, path);
                if (out == null) {
                    throw new IOException("lock " + key + " was taken by another writer while this one recovered it");
                }
            }
            HdfsLock lock = new HdfsLock(key, heldKey, out, s.heartbeatMs());
            ok = true;
            return lock;
        } finally {
            if (!ok) {
                HELD.remove(heldKey);
            }
        }
    }

    /** Past this length a LOCK file is truncated when the lock is taken (heartbeats would grow it forever). */
    static final long MAX_LOCK_FILE_BYTES = 64 << 10;

    /**
     * Takes the LOCK file's lease: creates it if missing, else appends to it (truncating a long one
     * first); writes and hflushes a first heartbeat. Returns null if another client holds the lease.
     * (Never {@code create} with overwrite: HDFS would delete a file another client holds open.)
     */
    private static FSDataOutputStream tryCreate(HdfsFileSystem fs, Path path) throws IOException {
        org.apache.hadoop.fs.Path p = HdfsFileSystem.hpath(path);
        FSDataOutputStream out;
        try {
            try {
                out = fs.hadoop().create(p, false);
            } catch (IOException ex) {
                IOException u = HdfsFileSystem.unwrap(ex);
                if (!(u instanceof org.apache.hadoop.fs.FileAlreadyExistsException)) {
                    throw ex;
                }
                if (fs.hadoop().isFileClosed(p) && fs.hadoop().getFileStatus(p).getLen() > MAX_LOCK_FILE_BYTES) {
                    fs.hadoop().truncate(p, 0); // fails if someone took the lease meanwhile
                }
                out = fs.hadoop().append(p);
            }
        } catch (IOException ex) {
            IOException u = HdfsFileSystem.unwrap(ex);
            if (HdfsFileSystem.isRemote(u, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException")
                    || HdfsFileSystem.isRemote(u, "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException")
                    || u instanceof org.apache.hadoop.fs.FileAlreadyExistsException) {
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

    /**
     * Watches the LOCK file's visible length for {@code deadAfterMs}: returns after how many ms it
     * grew (the holder lives), or -1 if it did not.
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
            try {
                synchronized (out) {
                    out.writeLong(System.currentTimeMillis());
                    out.hflush();
                }
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
            synchronized (out) {
                out.close();
            }
        } catch (IOException ex) {
            if (lost == null) {
                throw ex;
            }
        } finally {
            HELD.remove(heldKey);
        }
    }
}
