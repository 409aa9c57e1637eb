package io.o3lsm.testing;

import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/** A {@link Handler} that adds "LEVEL message" of every record to a list (synchronized on it). */
public final class LogCapture {
    private LogCapture() {
    }

    public static Handler into(List<String> lines) {
        return new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null) {
                    synchronized (lines) {
                        lines.add(r.getLevel() + " " + r.getMessage());
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
    }
}
