package io.o3lsm.spi;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Where o3lsm keeps its files (SSTs, WAL, MANIFEST, CURRENT, LOCK). The default is the local file
 * system ({@link #local()}); a distributed file system or a fault-injecting wrapper for tests plugs
 * in through {@link io.o3lsm.Options#fileSystem}.
 *
 * <p><b>Naming.</b> A file system is named by a URI ({@code file:///data/db},
 * {@code hdfs://namenode:8020/o3/db}); {@link #forUri} opens the one a URI names, through the
 * {@link Provider}s on the class path. Within a file system, files are named by absolute,
 * Unix-style {@link Path}s: the URI's path component ({@link #pathOf}). The engine composes them
 * with {@code resolve} and {@code getFileName} only; an implementation other than the local one
 * never touches the local disk with them. Design: {@code docs/design/storage.md}.
 *
 * <p>Implementations are thread-safe. Every method reports failures as {@link IOException}; the
 * engine turns them into {@link io.o3lsm.O3Exception}s and stops accepting writes if durability is
 * at stake.
 */
public interface FileSystem extends Closeable {
    /** The local file system through {@code java.nio} (positional reads, fsync, directory sync); the default. */
    static FileSystem local() {
        return io.o3lsm.internal.fs.LocalFileSystem.INSTANCE;
    }

    /**
     * Opens the file system a URI names: {@code file:} (or a URI without a scheme) is {@link #local()};
     * any other scheme needs a {@link Provider} for it on the class path ({@code hdfs:} is in the
     * {@code o3lsm-hdfs} module). The caller closes what it opened (closing the local one does nothing).
     *
     * @throws IllegalArgumentException no provider handles the URI's scheme
     * @throws IOException              the provider could not reach the file system
     */
    static FileSystem forUri(URI uri) throws IOException {
        String scheme = uri.getScheme();
        if (scheme == null || scheme.equalsIgnoreCase("file")) {
            return local();
        }
        String want = scheme.toLowerCase(Locale.ROOT);
        for (Provider p : ServiceLoader.load(Provider.class, FileSystem.class.getClassLoader())) {
            if (p.scheme().equalsIgnoreCase(want)) {
                return p.open(uri);
            }
        }
        throw new IllegalArgumentException("no file system for scheme '" + scheme + "' in " + uri
                + (want.equals("hdfs") ? ": put the o3lsm-hdfs module on the class path" : ""));
    }

    /**
     * The path a URI names within its file system: its path component for a URI with a scheme
     * (which must be absolute), else the URI read as a local path.
     *
     * @throws IllegalArgumentException the URI has no absolute path
     */
    static Path pathOf(URI uri) {
        if (uri.getScheme() == null) {
            return Path.of(uri.toString());
        }
        if (uri.getScheme().equalsIgnoreCase("file")) {
            return Path.of(uri);
        }
        String p = uri.getPath();
        if (p == null || !p.startsWith("/")) {
            throw new IllegalArgumentException("URI has no absolute path: " + uri);
        }
        return Path.of(p).normalize();
    }

    /**
     * A location as users write it on a command line or in a config file, as a URI: text of the form
     * {@code scheme://…} ({@code hdfs://nn:8020/o3}) or {@code file:…} as given, anything else a local
     * path made absolute ({@code /data/o3}, {@code ./o3}, {@code backup:2024}).
     *
     * @throws IllegalArgumentException empty text, a malformed URI, or a {@code file:} URI without an
     *                                  absolute path
     */
    static URI location(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("a location must not be empty");
        }
        // scheme://… or file:…; anything else (even "backup:2024") is a local path
        if (text.matches("[A-Za-z][A-Za-z0-9+.-]+://.*") || text.regionMatches(true, 0, "file:", 0, 5)) {
            URI u;
            try {
                u = new URI(text);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException(text + " is not a valid URI: " + e.getMessage(), e);
            }
            if (u.getScheme().equalsIgnoreCase("file") && (u.getPath() == null || !u.getPath().startsWith("/"))) {
                throw new IllegalArgumentException(text + ": a file URI needs an absolute path (file:///DIR)");
            }
            return u;
        }
        return Path.of(text).toAbsolutePath().normalize().toUri();
    }

    /** Opens file systems of one URI scheme; found with {@link ServiceLoader}. */
    interface Provider {
        /** The URI scheme handled, lower case ({@code "hdfs"}). */
        String scheme();

        /** Connects to the file system {@code uri} names (its scheme and authority; the path is ignored). */
        FileSystem open(URI uri) throws IOException;
    }

    /** The URI of {@code path} in this file system ({@code file:///…} for the local one). */
    default URI uri(Path path) {
        return path.toUri();
    }

    /**
     * Whether this is the local file system of this host: paths may then be resolved with
     * {@code java.nio} (real paths, links) by tools that check where a file lies. A wrapper around
     * the local file system (fault injection, metrics) should return true; a file system shared
     * across hosts returns false, and the engine then also takes the precautions of shared storage
     * (see {@code docs/design/storage.md}: fresh file numbers at every open). Default false.
     */
    default boolean isLocal() {
        return false;
    }

    /**
     * Makes a file that another (possibly dead) writer may have left open readable to its end, and
     * stops that writer from appending to it: on HDFS this recovers the file's lease, so a WAL or
     * MANIFEST a crashed owner left open can be replayed, and an owner that was declared dead but is
     * still running fails its next append (the fence across hosts). The engine calls it on the
     * current MANIFEST and every WAL before replaying them at open. Local: nothing to do.
     */
    default void recoverLease(Path path) throws IOException {
    }

    /** Releases connections the file system holds; the engine closes only file systems it opened. */
    @Override
    default void close() throws IOException {
    }

    /** Creates (or truncates) a file for appending. */
    WritableFile newWritableFile(Path path) throws IOException;

    /**
     * Creates a new file for appending, failing with {@link java.nio.file.FileAlreadyExistsException}
     * if it exists (never truncates). Flush workers create their outputs this way, so an attempt that
     * outlived its job (a zombie) can never overwrite a file another attempt wrote.
     */
    WritableFile newWritableFileExclusive(Path path) throws IOException;

    /** Opens an existing file for positional reads. */
    ReadableFile newReadableFile(Path path) throws IOException;

    /**
     * Atomically renames {@code source} to {@code target}. A file replaces a file {@code target} names;
     * a directory is never replaced: renaming a directory to a name that exists fails with an
     * {@link IOException} ({@link java.nio.file.FileAlreadyExistsException} where the file system can
     * tell), atomically for a non-empty one — checkpoints rely on it (a checkpoint is built in a staging
     * directory renamed to the target last).
     */
    void rename(Path source, Path target) throws IOException;

    /**
     * Makes {@code to} a second name of the existing file {@code from} (a hard link): both names then
     * read the same bytes, and deleting one leaves the other. {@code to} must not exist. Optional: the
     * engine calls it for files it never changes again (tables, when it writes a checkpoint) and copies
     * the file through {@link #newReadableFile}/{@link #newWritableFile} when it is unsupported. The
     * default throws {@link UnsupportedOperationException}; the local file system links (a link across
     * devices fails with an {@link IOException}, and the engine copies that file too).
     *
     * @throws UnsupportedOperationException this file system has no hard links (the default)
     * @throws IOException                   the link could not be made ({@code to} exists, other device, …)
     */
    default void link(Path from, Path to) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " has no hard links");
    }

    /** Deletes a file; no error if it does not exist. */
    void delete(Path path) throws IOException;

    boolean exists(Path path) throws IOException;

    /**
     * The bytes a reader opening the file now can read (what {@link ReadableFile#size()} of a new reader
     * says): for a file another writer is appending to, at least everything it has flushed
     * ({@link WritableFile#flush()}). A secondary instance compares the sizes of the primary's WALs to
     * tell whether anything was written since its last view, so a size that lags flushed bytes would
     * hide acknowledged writes from it.
     */
    long size(Path path) throws IOException;

    /** Names (not paths) of the entries of a directory. */
    List<String> list(Path dir) throws IOException;

    void createDirectories(Path dir) throws IOException;

    /** Makes creations, renames and deletions in {@code dir} durable. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Takes an exclusive lock on {@code path} (created if missing) for this process. Fails with
     * {@link IOException} if another process or another open DB in this process holds it. On a file
     * system shared across hosts the lock holds across hosts: a second writer anywhere is refused
     * while the holder is alive.
     *
     * <p>A lock that can be taken away (one across hosts, which another writer may take over from a
     * holder it presumes dead) should be returned as a {@link Lock}, whose {@link Lock#checkHeld} the
     * engine consults before the steps lease recovery cannot fence. The engine treats any other
     * {@link Closeable} as a lock that cannot be lost; a wrapping file system should therefore return
     * the inner lock itself, not a new {@code Closeable} around it.
     */
    Closeable lock(Path path) throws IOException;

    /**
     * A lock {@link #lock} returned, which the holder can ask whether it still holds it. Thread-safe.
     *
     * <p>The engine calls {@link #checkHeld} right before creating a new WAL and right before renaming
     * a new MANIFEST over CURRENT: files another writer that took the lock over cannot see yet, so the
     * lease recovery it does on the files it finds does not fence them ({@code docs/design/storage.md},
     * section 3). A failure fails that step as an I/O error there would: the write that needed a new
     * WAL is not acknowledged, and the DB refuses further writes.
     */
    interface Lock extends Closeable {
        /**
         * Returns if the lock is certainly still held: nobody else can have taken it over yet, nor
         * will for some margin of time. Otherwise (the lock's keep-alive is late or failed, or the lock
         * was closed) throws an {@link IOException} saying which lock and why. Cheap: the engine calls
         * it on its write path (rarely: once per WAL or MANIFEST switch). The default, for locks that
         * cannot be taken away (an OS file lock on a local disk), does nothing.
         */
        default void checkHeld() throws IOException {
        }
    }

    /** A file being written sequentially. Not thread-safe: one writer at a time. */
    interface WritableFile extends Closeable {
        void append(byte[] src, int off, int len) throws IOException;

        /** Hands appended bytes to the operating system (survives a process crash). */
        void flush() throws IOException;

        /** Makes appended bytes durable (survives a machine crash). */
        void sync() throws IOException;

        /** Bytes appended so far. */
        long size();
    }

    /** A file read with positional reads. Thread-safe. */
    interface ReadableFile extends Closeable {
        /**
         * Reads exactly {@code len} bytes at {@code position}; throws {@link java.io.EOFException}
         * if the file ends first.
         */
        void readFully(long position, byte[] dst, int off, int len) throws IOException;

        long size() throws IOException;

        /** The file's name for error messages. */
        String name();
    }
}
