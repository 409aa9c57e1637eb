package io.o3lsm.bench;

import java.io.IOException;
import java.io.InputStream;

/**
 * {@code io.o3lsm.dm.MemNode} as a child of the benchmark runner ({@link MemNodeLauncher}): runs the
 * daemon's {@code main} unchanged, plus a daemon thread that reads stdin — a pipe from the runner —
 * and exits the JVM (running the node's clean-shutdown hook) when it reaches end of file, i.e. when
 * the runner is gone, even if it was killed with SIGKILL. Not for running a node by hand: use
 * {@code bin/o3 memnode}.
 */
public final class MemNodeChild {
    private MemNodeChild() {
    }

    public static void main(String[] args) {
        Thread watchdog = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buf = new byte[64];
                while (in.read(buf) >= 0) {
                    // the runner never writes; anything read is ignored
                }
            } catch (IOException e) {
                // a broken pipe means the runner is gone too
            }
            System.err.println("memnode (bench child): runner gone (stdin closed), shutting down");
            System.exit(0);
        }, "runner-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        io.o3lsm.dm.MemNode.main(args);
    }
}
