package io.o3lsm.dm.transport;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Checks the process environment UCX needs. UCX reads its configuration when the native library
 * initializes, so these must be exported before the JVM starts (bin/o3 does it):
 *
 * <ul>
 *   <li>{@code UCX_POSIX_ERROR_HANDLING=y}, {@code UCX_SYSV_ERROR_HANDLING=y}: without them the
 *       shared-memory transports are not eligible for endpoints with peer error handling, and UCX
 *       falls back to TCP between processes of one host (~10x slower);</li>
 *   <li>{@code UCX_TCP_CM_REUSEADDR=y}: a restarted memory node can listen on its port again at once.</li>
 * </ul>
 */
public final class UcxEnvironment {
    public static final List<String> REQUIRED = List.of("UCX_POSIX_ERROR_HANDLING", "UCX_SYSV_ERROR_HANDLING",
            "UCX_TCP_CM_REUSEADDR");
    /** The variables and values, for launching processes (tests, tools). */
    public static final Map<String, String> VARIABLES = Map.of("UCX_POSIX_ERROR_HANDLING", "y",
            "UCX_SYSV_ERROR_HANDLING", "y", "UCX_TCP_CM_REUSEADDR", "y");

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private UcxEnvironment() {
    }

    /** Warns once on stderr about missing variables. */
    static void check() {
        StringBuilder missing = new StringBuilder();
        for (String v : REQUIRED) {
            if (!"y".equalsIgnoreCase(System.getenv(v))) {
                missing.append(missing.length() == 0 ? "" : ", ").append(v).append("=y");
            }
        }
        if (missing.length() > 0 && WARNED.compareAndSet(false, true)) {
            System.err.println("o3lsm-dm WARNING: environment lacks " + missing
                    + "; UCX will not use shared memory with peer error handling (falls back to TCP)."
                    + " Export them before starting the JVM (bin/o3 does).");
        }
    }

    static String missingLibraryMessage() {
        return "UCX native libraries not found (libucp.so.0): install Debian's libucx0 1.13"
                + " (apt-get install libucx0), e.g. by running any bin/o3 command, which installs it when missing";
    }
}
