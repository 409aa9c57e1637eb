package io.o3lsm.hdfs;

import io.o3lsm.spi.FileSystem;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Options.Rename;
import org.apache.hadoop.fs.ParentNotDirectoryException;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.client.HdfsDataInputStream;
import org.apache.hadoop.hdfs.client.HdfsDataOutputStream;
import org.apache.hadoop.ipc.RemoteException;

/**
 * o3lsm's {@link FileSystem} over HDFS: SSTs, WAL and MANIFEST on a distributed file system every
 * node reaches. Opened by URI ({@code hdfs://namenode:port}, through {@link HdfsFileSystemProvider}
 * or {@link #open}); files are named by absolute paths within it. Design and the durability table:
 * {@code docs/design/storage.md}; operations: {@code docs/operations/hdfs.md}.
 *
 * <p>How each need of the engine maps onto HDFS:
 * <ul>
 * <li>Writes are appends to a stream. {@link WritableFile#flush()} is {@code hflush} (the bytes are
 * on every datanode of the pipeline, readable by new readers, survive the writer's crash);
 * {@link WritableFile#sync()} is {@code hsync} (on the datanodes' disks: survives a power loss of
 * the whole pipeline) unless the file system was opened with {@code sync=hflush}, which trades
 * that for ~1 ms per sync. Close does not sync; the engine syncs what must be durable first.</li>
 * <li>Create-exclusive is {@code create(overwrite=false)}; a file another client is still creating
 * is refused the same way.</li>
 * <li>{@link #rename} overwrites (CURRENT is switched this way) through {@link FileContext}.</li>
 * <li>Positional reads ({@code pread}) on shared input streams; a reader's size is the visible
 * length (what writers have flushed), never the NameNode's lagging file length.</li>
 * <li>{@link #recoverLease} closes a file a dead writer left open, waiting until the NameNode has
 * recovered it.</li>
 * <li>{@link #lock} is {@link HdfsLock}: an HDFS lease on the LOCK file plus a heartbeat, so a
 * second writer on any host is refused while the first lives and takes over once it died.</li>
 * <li>Directory sync is a no-op: the NameNode logs every namespace change before it answers.</li>
 * </ul>
 *
 * <p>Thread-safe. Hadoop's logging is turned down to WARN unless configured otherwise.
 */
public final class HdfsFileSystem implements FileSystem {
    /** How {@link WritableFile#sync()} reaches the datanodes. */
    public enum SyncMode {
        /** Bytes on every pipeline datanode's disk (survives losing power on all of them); the default. */
        HSYNC,
        /** Bytes in every pipeline datanode's memory (survives any one machine's crash; not a power loss of all). */
        HFLUSH
    }

    /** How long {@link #recoverLease} waits for the NameNode to close a file. */
    static final long RECOVER_LEASE_TIMEOUT_MS = 120_000;

    private final URI uri;
    private final DistributedFileSystem dfs;
    private final FileContext fc;
    private final SyncMode syncMode;
    private final HdfsLock.Settings lockSettings;
    private volatile boolean closed;

    private HdfsFileSystem(URI uri, DistributedFileSystem dfs, FileContext fc, SyncMode syncMode,
            HdfsLock.Settings lockSettings) {
        this.uri = uri;
        this.dfs = dfs;
        this.fc = fc;
        this.syncMode = syncMode;
        this.lockSettings = lockSettings;
    }

    /**
     * Connects to the HDFS {@code uri} names ({@code hdfs://host:port}; its path is ignored). Query
     * parameters: {@code sync=hsync|hflush} ({@link SyncMode}, default hsync); the lock's timing
     * {@code o3lsm.lock.heartbeat.ms} and {@code o3lsm.lock.dead-after.ms} ({@link HdfsLock}); any
     * parameter whose name starts with {@code dfs.}, {@code fs.} or {@code ipc.} is set in the Hadoop
     * configuration.
     *
     * @throws IllegalArgumentException the URI is not an hdfs URI with a host, or a parameter is unknown
     * @throws IOException              the NameNode cannot be reached
     */
    public static HdfsFileSystem open(URI uri) throws IOException {
        return open(uri, new Configuration());
    }

    /** As {@link #open(URI)}, starting from {@code base} (copied, not modified). */
    public static HdfsFileSystem open(URI uri, Configuration base) throws IOException {
        if (uri == null || uri.getScheme() == null || !uri.getScheme().equalsIgnoreCase("hdfs")) {
            throw new IllegalArgumentException("not an hdfs: URI: " + uri);
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("an hdfs URI needs a NameNode host (hdfs://host:port/...): " + uri);
        }
        HadoopLogging.quiet();
        Configuration conf = new Configuration(base);
        applyDefaults(conf);
        SyncMode mode = SyncMode.HSYNC;
        for (Map.Entry<String, String> p : HdfsUris.query(uri).entrySet()) {
            String k = p.getKey();
            String v = p.getValue();
            if (k.equals("sync")) {
                mode = switch (v.toLowerCase(Locale.ROOT)) {
                    case "hsync" -> SyncMode.HSYNC;
                    case "hflush" -> SyncMode.HFLUSH;
                    default -> throw new IllegalArgumentException("sync must be hsync or hflush, was '" + v + "' in " + uri);
                };
            } else if (k.startsWith("dfs.") || k.startsWith("fs.") || k.startsWith("ipc.") || k.startsWith("o3lsm.lock.")) {
                conf.set(k, v);
            } else {
                throw new IllegalArgumentException("unknown parameter '" + k + "' in " + uri
                        + " (known: sync, o3lsm.lock.heartbeat.ms, o3lsm.lock.dead-after.ms, and Hadoop settings dfs.*, fs.*, ipc.*)");
            }
        }
        URI root = URI.create("hdfs://" + uri.getRawAuthority());
        org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.newInstance(root, conf);
        if (!(fs instanceof DistributedFileSystem dfs)) {
            fs.close();
            throw new IllegalArgumentException(root + " is not served by HDFS's DistributedFileSystem but by "
                    + fs.getClass().getName());
        }
        try {
            FileContext fc = FileContext.getFileContext(root, conf);
            dfs.getFileStatus(new org.apache.hadoop.fs.Path("/")); // reachable now, not at the first write
            return new HdfsFileSystem(root, dfs, fc, mode, HdfsLock.Settings.from(conf));
        } catch (IOException | RuntimeException ex) {
            dfs.close();
            throw ex;
        }
    }

    /**
     * Settings an embedded engine wants and Hadoop's defaults get wrong for it (each can be overridden
     * by the caller's configuration or the URI): small files close in ~10 ms instead of 120–220 ms; a
     * write pipeline that lost a datanode goes on with the ones left when no spare exists (a small
     * cluster); the client does not cache FileSystem instances (each DB closes its own).
     */
    static void applyDefaults(Configuration conf) {
        setIfUnset(conf, "dfs.client.block.write.locateFollowingBlock.initial.delay.ms", "10");
        setIfUnset(conf, "dfs.client.block.write.replace-datanode-on-failure.best-effort", "true");
        setIfUnset(conf, "fs.hdfs.impl.disable.cache", "true");
    }

    private static void setIfUnset(Configuration conf, String key, String value) {
        if (conf.get(key) == null || conf.getPropertySources(key) == null
                || isDefaultOnly(conf.getPropertySources(key))) {
            conf.set(key, value, "o3lsm");
        }
    }

    private static boolean isDefaultOnly(String[] sources) {
        for (String s : sources) {
            if (!s.endsWith("-default.xml")) {
                return false;
            }
        }
        return true;
    }

    /** The URI this file system was opened on ({@code hdfs://host:port}). */
    public URI root() {
        return uri;
    }

    public SyncMode syncMode() {
        return syncMode;
    }

    /** Hadoop's client, for tests and tools. */
    public DistributedFileSystem hadoop() {
        return dfs;
    }

    static org.apache.hadoop.fs.Path hpath(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("path must not be null");
        }
        String s = path.toString();
        if (!s.startsWith("/")) {
            throw new IllegalArgumentException("HDFS paths are absolute: " + path);
        }
        return new org.apache.hadoop.fs.Path(s);
    }

    @Override
    public URI uri(Path path) {
        return URI.create(uri + hpath(path).toUri().getRawPath());
    }

    /**
     * Creates the file, replacing a closed one of that name. A file another client holds open is
     * refused ({@link FileAlreadyExistsException}), never deleted under it: HDFS's own
     * {@code create(overwrite)} would do that, letting a fenced former owner destroy a file the new
     * owner is writing.
     */
    @Override
    public WritableFile newWritableFile(Path path) throws IOException {
        ensureOpen();
        try {
            return new Writable(path, create(path, false));
        } catch (FileAlreadyExistsException exists) {
            if (isOpenForWrite(path)) {
                throw new FileAlreadyExistsException(path.toString(), null, "another writer has it open");
            }
            delete(path);
            return new Writable(path, create(path, false));
        }
    }

    @Override
    public WritableFile newWritableFileExclusive(Path path) throws IOException {
        ensureOpen();
        return new Writable(path, create(path, false));
    }

    /**
     * Creates a file without creating missing parent directories (as a local disk refuses to: a
     * writer whose DB directory was deleted must not silently recreate it).
     */
    FSDataOutputStream createNonRecursive(Path path, boolean overwrite) throws IOException {
        org.apache.hadoop.fs.Path p = hpath(path);
        return dfs.createNonRecursive(p, overwrite, dfs.getConf().getInt("io.file.buffer.size", 4096),
                dfs.getDefaultReplication(p), dfs.getDefaultBlockSize(p), null);
    }

    private FSDataOutputStream create(Path path, boolean overwrite) throws IOException {
        try {
            return createNonRecursive(path, overwrite);
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            if (u instanceof FileNotFoundException) {
                throw notFound(path.getParent() == null ? path : path.getParent(), u);
            }
            if (u instanceof org.apache.hadoop.fs.FileAlreadyExistsException
                    || isRemote(u, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException")) {
                FileAlreadyExistsException f = new FileAlreadyExistsException(path.toString(), null,
                        overwrite ? "another writer has it open" : "it exists");
                f.initCause(ex);
                throw f;
            }
            throw u;
        }
    }

    @Override
    public ReadableFile newReadableFile(Path path) throws IOException {
        ensureOpen();
        FSDataInputStream in;
        try {
            in = dfs.open(hpath(path));
        } catch (IOException ex) {
            throw notFound(path, unwrap(ex));
        }
        return new Readable(path, (HdfsDataInputStream) in);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        ensureOpen();
        try {
            // a directory is never replaced (FileSystem.rename): NONE fails if the target exists, atomically
            boolean dir = dfs.getFileStatus(hpath(source)).isDirectory();
            fc.rename(hpath(source), hpath(target), dir ? Rename.NONE : Rename.OVERWRITE);
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            boolean sourceThere = u instanceof FileNotFoundException && dfs.exists(hpath(source));
            throw notFound(sourceThere && target.getParent() != null ? target.getParent() : source, u);
        }
    }

    @Override
    public void delete(Path path) throws IOException {
        ensureOpen();
        try {
            dfs.delete(hpath(path), false);
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            if (!(u instanceof FileNotFoundException)) {
                throw u;
            }
        }
    }

    @Override
    public boolean exists(Path path) throws IOException {
        ensureOpen();
        return dfs.exists(hpath(path));
    }

    /**
     * The bytes a reader opening the file now can read: its visible length, as
     * {@link ReadableFile#size()}. For a closed file that is the length the NameNode records; for a file
     * still being written it includes every hflushed byte (the last block's length is asked of its
     * DataNodes), where the NameNode's length lags until a block fills or an {@code hsync} with
     * {@code UPDATE_LENGTH}: a secondary instance compares WAL sizes to tell whether the primary wrote
     * anything, and would miss unsynced writes by the NameNode's length. If the last block's length
     * cannot be had (its writer died and the lease is not recovered yet, so no reader can read the
     * file either), the NameNode's length: a lower bound. Never decide from it that a file being
     * written is complete.
     */
    @Override
    public long size(Path path) throws IOException {
        ensureOpen();
        org.apache.hadoop.fs.Path p = hpath(path);
        try (FSDataInputStream in = dfs.open(p)) {
            return ((HdfsDataInputStream) in).getVisibleLength();
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            try {
                // not a readable file (a directory), or a last block whose length no DataNode gives
                return dfs.getFileStatus(p).getLen();
            } catch (IOException statusFailed) {
                IOException st = unwrap(statusFailed);
                if (st != u) {
                    st.addSuppressed(u);
                }
                throw notFound(path, st);
            }
        }
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        ensureOpen();
        FileStatus[] st;
        try {
            st = dfs.listStatus(hpath(dir));
        } catch (IOException ex) {
            throw notFound(dir, unwrap(ex));
        }
        List<String> names = new ArrayList<>(st.length);
        for (FileStatus s : st) {
            names.add(s.getPath().getName());
        }
        return names;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        ensureOpen();
        org.apache.hadoop.fs.Path p = hpath(dir);
        try {
            if (dfs.exists(p) && !dfs.getFileStatus(p).isDirectory()) {
                throw new FileAlreadyExistsException(dir.toString(), null, "it is a file, not a directory");
            }
            dfs.mkdirs(p);
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            if (u instanceof ParentNotDirectoryException || u instanceof org.apache.hadoop.fs.FileAlreadyExistsException) {
                FileAlreadyExistsException f = new FileAlreadyExistsException(dir.toString(), null,
                        "a file is in the way: " + u.getMessage());
                f.initCause(u);
                throw f;
            }
            throw u;
        }
    }

    /** Nothing to do: the NameNode has logged a namespace change durably before it answered it. */
    @Override
    public void syncDirectory(Path dir) throws IOException {
        ensureOpen();
    }

    @Override
    public FileSystem.Lock lock(Path path) throws IOException {
        ensureOpen();
        return HdfsLock.acquire(this, path, lockSettings);
    }

    /**
     * Closes a file another writer left open and waits (up to {@value #RECOVER_LEASE_TIMEOUT_MS} ms)
     * until the NameNode finished: its length is then final, and the old writer's next append or
     * flush fails. A missing or already closed file is left alone.
     */
    @Override
    public void recoverLease(Path path) throws IOException {
        ensureOpen();
        org.apache.hadoop.fs.Path p = hpath(path);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECOVER_LEASE_TIMEOUT_MS);
        long pause = 50;
        while (true) {
            try {
                if (dfs.recoverLease(p)) {
                    return;
                }
            } catch (IOException ex) {
                IOException u = unwrap(ex);
                if (u instanceof FileNotFoundException) {
                    return;
                }
                if (!isRemote(u, "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException")) {
                    throw u;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("HDFS did not recover the lease of " + uri(path) + " within "
                        + RECOVER_LEASE_TIMEOUT_MS + " ms (are its datanodes up?)");
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while recovering the lease of " + uri(path));
            }
            pause = Math.min(1000, pause * 2);
        }
    }

    /** True while another client holds a live lease on {@code path} (it is open for writing). */
    boolean isOpenForWrite(Path path) throws IOException {
        try {
            return !dfs.isFileClosed(hpath(path));
        } catch (IOException ex) {
            IOException u = unwrap(ex);
            if (u instanceof FileNotFoundException) {
                return false;
            }
            throw u;
        }
    }

    @Override
    public boolean isLocal() {
        return false;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        dfs.close();
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("the HDFS file system " + uri + " is closed");
        }
    }

    @Override
    public String toString() {
        return "HdfsFileSystem[" + uri + ", sync=" + syncMode.name().toLowerCase(Locale.ROOT) + "]";
    }

    // ------------------------------------------------------------------ errors

    static IOException unwrap(IOException ex) {
        if (ex instanceof RemoteException re) {
            IOException u = re.unwrapRemoteException(FileNotFoundException.class,
                    org.apache.hadoop.fs.FileAlreadyExistsException.class, ParentNotDirectoryException.class,
                    org.apache.hadoop.security.AccessControlException.class);
            return u;
        }
        return ex;
    }

    static boolean isRemote(IOException ex, String className) {
        return ex instanceof RemoteException re && className.equals(re.getClassName());
    }

    private static IOException notFound(Path path, IOException u) {
        if (u instanceof FileNotFoundException) {
            NoSuchFileException n = new NoSuchFileException(path.toString());
            n.initCause(u);
            return n;
        }
        return u;
    }

    // ------------------------------------------------------------------ files

    private final class Writable implements WritableFile {
        private final Path path;
        private final FSDataOutputStream out;
        private long size;
        private boolean closedFile;

        Writable(Path path, FSDataOutputStream out) {
            this.path = path;
            this.out = out;
        }

        @Override
        public void append(byte[] src, int off, int len) throws IOException {
            out.write(src, off, len);
            size += len;
        }

        @Override
        public void flush() throws IOException {
            out.hflush();
        }

        @Override
        public void sync() throws IOException {
            if (syncMode == SyncMode.HSYNC) {
                if (out instanceof HdfsDataOutputStream h) {
                    h.hsync(EnumSet.of(HdfsDataOutputStream.SyncFlag.UPDATE_LENGTH));
                } else {
                    out.hsync();
                }
            } else {
                out.hflush();
            }
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() throws IOException {
            if (closedFile) {
                return;
            }
            closedFile = true;
            out.close();
        }

        @Override
        public String toString() {
            return uri(path).toString();
        }
    }

    private final class Readable implements ReadableFile {
        private final Path path;
        private final HdfsDataInputStream in;

        Readable(Path path, HdfsDataInputStream in) {
            this.path = path;
            this.in = in;
        }

        @Override
        public void readFully(long position, byte[] dst, int off, int len) throws IOException {
            if (position < 0 || len < 0) {
                throw new IllegalArgumentException("position " + position + ", len " + len);
            }
            if (len == 0) {
                return;
            }
            try {
                in.readFully(position, dst, off, len);
            } catch (EOFException ex) {
                throw new EOFException(name() + ": " + len + " bytes at " + position + " run past the end ("
                        + size() + " bytes)");
            }
        }

        @Override
        public long size() throws IOException {
            return in.getVisibleLength();
        }

        @Override
        public String name() {
            return uri(path).toString();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
