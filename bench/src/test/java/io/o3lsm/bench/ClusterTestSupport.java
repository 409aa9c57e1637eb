package io.o3lsm.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Shared by the tests that bring a cluster up. */
final class ClusterTestSupport {
    private ClusterTestSupport() {
    }

    /**
     * {@code bin/o3 cluster down} for {@code dir}, also after a timeout interrupted this thread (down
     * sleeps while it waits), and SIGKILL to whatever still runs if down failed: the daemons run in
     * sessions of their own and would outlive the test JVM. Returns {exit code, stdout, stderr} of down.
     */
    static String[] down(Path dir) {
        Thread.interrupted();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Cluster.run(new String[] {"down", "--dir", dir.toString()},
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        if (code != 0) {
            Cluster.runningDaemons(dir).values().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        return new String[] {Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }
}
