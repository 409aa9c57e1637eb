package io.o3lsm.flush;

import io.o3lsm.DB;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A DB owner in a process of its own, for tests that SIGKILL it: opens {@code args[0]} against the
 * memory node on port {@code args[1]} with secret file {@code args[2]} (flush offloading on, as
 * {@link FlushOffloadProcessTest#options} sets it), writes keys 0..{@code args[3]}, prints
 * "written N", then flushes (which hangs while a slow worker holds a job) and prints "flushed".
 */
public final class OwnerChild {
    private OwnerChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        Path secret = Path.of(args[2]);
        int n = Integer.parseInt(args[3]);
        try (DB db = DB.open(dir, FlushOffloadProcessTest.options(port, secret, Duration.ofSeconds(120)))) {
            FlushOffloadProcessTest.waitAttached(db);
            for (int i = 0; i < n; i++) {
                db.put(FlushOffloadProcessTest.b(FlushOffloadProcessTest.k(i)), FlushOffloadProcessTest.b("v" + i));
            }
            System.out.println("written " + n);
            System.out.flush();
            db.flush();
            System.out.println("flushed");
        }
    }
}
