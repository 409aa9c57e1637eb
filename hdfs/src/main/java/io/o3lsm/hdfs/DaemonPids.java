package io.o3lsm.hdfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The pid files of background daemons started by a launcher ({@code bin/o3 hdfs}, {@code bin/o3
 * cluster}): {@code DIR/run/ROLE.pid}, and each daemon's JVM carrying {@code MARKER ROLE@DIR} as one
 * argument, so a pid whose process ended and was reused, or a daemon of another directory, is not
 * mistaken for it.
 */
public final class DaemonPids {
    private final Path dir;
    private final String marker;

    /**
     * @param dir    the launcher's directory (its real path: the marker names it)
     * @param marker the marker's prefix, such as {@code -Do3lsm.hdfs.daemon=}
     */
    public DaemonPids(Path dir, String marker) {
        this.dir = dir;
        this.marker = marker;
    }

    /** The JVM argument that marks {@code role}'s daemon of this directory. */
    public String markerOf(String role) {
        return marker + role + "@" + dir;
    }

    public Path pidFile(String role) {
        return dir.resolve("run").resolve(role + ".pid");
    }

    /** Roles with a pid file, sorted. */
    public List<String> rolesOnDisk() throws IOException {
        Path run = dir.resolve("run");
        if (!Files.isDirectory(run)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(run)) {
            return s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".pid"))
                    .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        }
    }

    /** The pid in the role's pid file, if that process runs and is this directory's daemon of that role. */
    public Optional<Long> runningPid(String role) throws IOException {
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile(role), StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException | NumberFormatException e) {
            return Optional.empty();
        }
        if (!isRunning(pid)) {
            return Optional.empty();
        }
        String m = markerOf(role);
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            for (String arg : new String(b, StandardCharsets.UTF_8).split("\0")) {
                if (arg.equals(m)) { // the whole argument: a daemon of DIR2 is not one of DIR
                    return Optional.of(pid);
                }
            }
            return Optional.empty();
        } catch (IOException e) { // no /proc: the command line as Java reports it
            return ProcessHandle.of(pid).flatMap(h -> h.info().arguments())
                    .filter(args -> List.of(args).contains(m)).map(args -> pid);
        }
    }

    /** Deletes the pid files of roles whose daemon does not run. */
    public void deleteStale() throws IOException {
        for (String role : rolesOnDisk()) {
            if (runningPid(role).isEmpty()) {
                Files.deleteIfExists(pidFile(role));
            }
        }
    }

    /**
     * Whether the process exists and has not exited. On Linux a process that exited but was not yet
     * reaped (a zombie: its parent, the launcher, is gone) counts as ended, which ProcessHandle does not.
     */
    public static boolean isRunning(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            try {
                String s = Files.readString(stat, StandardCharsets.UTF_8);
                int close = s.lastIndexOf(')');
                char state = close >= 0 && close + 2 < s.length() ? s.charAt(close + 2) : '?';
                return state != 'Z' && state != 'X';
            } catch (IOException ex) {
                return false;
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
