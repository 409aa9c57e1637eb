package io.o3lsm.dm.node;

import java.io.PrintStream;
import java.time.Instant;

/** One line per event on stderr: ISO timestamp, level, message. Thread-safe. */
public final class NodeLog {
    private final PrintStream out;

    public NodeLog(PrintStream out) {
        this.out = out;
    }

    public void info(String message) {
        line("INFO", message);
    }

    public void warn(String message) {
        line("WARN", message);
    }

    public void error(String message) {
        line("ERROR", message);
    }

    private void line(String level, String message) {
        String s = Instant.now() + " memnode " + level + " " + message;
        synchronized (out) {
            out.println(s);
            out.flush();
        }
    }
}
