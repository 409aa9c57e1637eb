package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.dm.MemNodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/o3 compactor} as a real process: help and version on stdout with status 0, each bad
 * argument a message naming it and status 2, a refused secret 5 (and the memory node logs the
 * refusal), an unreachable or silent memory node 3, SIGTERM a clean shutdown with status 0.
 */
@Tag("dm")
class CompactorCommandLineTest {
    @TempDir
    Path dir;

    private CompactorProcess.Result run(String... args) throws Exception {
        return CompactorProcess.runArgs(dir, 60, args);
    }

    private Path secret() throws Exception {
        return MemNodeProcess.secret(dir, "secret", "cluster-secret-cli-0123456789");
    }

    private Path storage() throws Exception {
        return Files.createDirectories(dir.resolve("shared"));
    }

    @Test
    void shouldPrintUsageAndVersionOnStdoutAndExitZero() throws Exception {
        for (String flag : new String[] {"--help", "-h"}) {
            CompactorProcess.Result r = run(flag);
            assertEquals(0, r.exit(), flag + ": " + r);
            assertTrue(r.stdout().startsWith("usage: bin/o3 compactor --memnode HOST:PORT"), r.stdout());
            assertTrue(r.stdout().contains("--storage URI") && r.stdout().contains("--request-timeout"), r.stdout());
            assertEquals("", r.stderr(), flag + " must not look like an error");
        }
        for (String flag : new String[] {"--version", "-V"}) {
            CompactorProcess.Result r = run("--slots", "2", flag);
            assertEquals(0, r.exit(), flag + ": " + r);
            assertEquals("o3lsm compactor " + DB.version(), r.stdout().trim());
            assertEquals("", r.stderr());
        }
    }

    @Test
    void shouldExitTwoNamingEachBadArgument() throws Exception {
        Path secret = secret();
        Path storage = storage();
        Path shortSecret = MemNodeProcess.secret(dir, "short", "tooshort");
        Path aFile = Files.writeString(dir.resolve("a-file"), "x");
        String s = secret.toString();
        String st = storage.toString();
        String[][] cases = {
            {"missing required --memnode HOST:PORT, --storage URI", "--secret-file", s},
            {"missing required --secret-file FILE", "--memnode", "127.0.0.1:7400", "--storage", st},
            {"--memnode expects HOST:PORT, found '127.0.0.1'", "--memnode", "127.0.0.1", "--secret-file", s,
                "--storage", st},
            {"--memnode port expects a number, found 'x'", "--memnode", "127.0.0.1:x", "--secret-file", s,
                "--storage", st},
            {"--memnode port must be in [1, 65535], found 70000", "--memnode", "127.0.0.1:70000", "--secret-file", s,
                "--storage", st},
            {"does not exist", "--memnode", "127.0.0.1:7400", "--secret-file", dir.resolve("nope").toString(),
                "--storage", st},
            {"holds 8 bytes; at least 16 needed", "--memnode", "127.0.0.1:7400", "--secret-file",
                shortSecret.toString(), "--storage", st},
            {"--storage " + dir.resolve("nope") + " does not exist", "--memnode", "127.0.0.1:7400", "--secret-file", s,
                "--storage", dir.resolve("nope").toString()},
            {"--storage " + aFile + " is not a directory", "--memnode", "127.0.0.1:7400", "--secret-file", s,
                "--storage", aFile.toString()},
            {"--storage " + dir.resolve("nope").toUri() + " does not exist", "--memnode", "127.0.0.1:7400",
                "--secret-file", s, "--storage", dir.resolve("nope").toUri().toString()},
            {"a file URI needs an absolute path", "--memnode", "127.0.0.1:7400", "--secret-file", s, "--storage",
                "file:relative/dir"},
            {"no file system for scheme 'nofs'", "--memnode", "127.0.0.1:7400", "--secret-file", s, "--storage",
                "nofs://host/dir"},
            {"--slots must be in [1, 1024], found 0", "--memnode", "127.0.0.1:7400", "--secret-file", s, "--storage",
                st, "--slots", "0"},
            {"--slots expects a number, found 'two'", "--memnode", "127.0.0.1:7400", "--secret-file", s, "--storage",
                st, "--slots=two"},
            {"--request-timeout must be in [1, 300], found 0", "--memnode", "127.0.0.1:7400", "--secret-file", s,
                "--storage", st, "--request-timeout", "0"},
            {"unknown option --bogus", "--bogus", "1"},
            {"--slots needs a value", "--slots"},
            {"unexpected argument 'stray'", "stray"},
        };
        List<String> wrong = new ArrayList<>();
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            CompactorProcess.Result r = run(args);
            boolean ok = r.exit() == 2 && r.stderr().startsWith("compactor: ") && r.stderr().contains(c[0])
                    && r.stderr().contains("usage: bin/o3 compactor") && r.stdout().isEmpty();
            if (!ok) {
                wrong.add(String.join(" ", args) + " -> exit " + r.exit() + ", stderr: " + r.stderr().lines().findFirst()
                        .orElse("") + ", stdout: " + r.stdout());
            }
        }
        assertTrue(wrong.isEmpty(), "expected exit 2 with the message:\n" + String.join("\n", wrong));
    }

    @Test
    void shouldExitFiveWhenTheMemoryNodeRefusesTheSecret() throws Exception {
        int port = MemNodeProcess.freePort();
        Path wrong = MemNodeProcess.secret(dir, "wrong", "not-the-cluster-secret-42");
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "64m", secret()).start()) {
            CompactorProcess.Result r = run("--memnode", "127.0.0.1:" + port, "--secret-file", wrong.toString(),
                    "--storage", storage().toString(), "--name", "intruder");
            assertEquals(5, r.exit(), r.toString());
            assertTrue(r.stderr().contains("compactor: the memory node 127.0.0.1:" + port
                    + " refused this compactor's cluster secret (intruder)"), r.stderr());
            assertTrue(r.stderr().contains("HMAC mismatch"), r.stderr());
            waitFor(() -> node.output().contains("worker intruder): authentication failed"), node::output);
            assertTrue(!node.output().contains("worker intruder registered"), node.output());
        }
    }

    @Test
    void shouldExitThreeWhenNothingListens() throws Exception {
        int port = MemNodeProcess.freePort();
        CompactorProcess.Result r = run("--memnode", "127.0.0.1:" + port, "--secret-file", secret().toString(),
                "--storage", storage().toString());
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.stderr().contains("compactor: cannot reach the memory node 127.0.0.1:" + port), r.stderr());
    }

    @Test
    void shouldExitThreeWithinTheRequestTimeoutWhenTheMemoryNodeDoesNotAnswer() throws Exception {
        int port = MemNodeProcess.freePort();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "64m", secret()).start()) {
            signal("STOP", node.pid()); // accepts connections (the kernel does) but never answers the handshake
            try {
                CompactorProcess.Result r = run("--memnode", "127.0.0.1:" + port, "--secret-file",
                        secret().toString(), "--storage", storage().toString(), "--request-timeout", "1");
                assertEquals(3, r.exit(), r.toString());
                assertTrue(r.stderr().contains("cannot reach the memory node 127.0.0.1:" + port)
                        && r.stderr().contains("not answered within 1000 ms"), r.stderr());
            } finally {
                signal("CONT", node.pid());
            }
        }
    }

    @Test
    void shouldCloseCleanlyAndExitZeroOnSigterm() throws Exception {
        int port = MemNodeProcess.freePort();
        Path secret = secret();
        try (MemNodeProcess node = new MemNodeProcess(dir, port, "64m", secret).start();
                CompactorProcess w = new CompactorProcess(dir, "w1", port, secret, storage().toUri().toString(),
                        "--slots", "2").start()) {
            waitFor(() -> node.output().contains("compactor w1 registered"), node::output);
            assertEquals(0, w.terminate(), w.output()); // SIGTERM
            String log = w.output();
            assertTrue(log.contains("compactor w1: registered with memory node 127.0.0.1:" + port + " (2 slot(s)"),
                    log);
            assertTrue(log.contains("compactor w1: shutting down (signal): cancelling running jobs"), log);
            assertTrue(log.contains("compactor w1: closed cleanly (0 job(s) done, 0 failed)"), log);
            // the DM client's own records come out as daemon log lines, not java.util.logging's two-line format
            assertTrue(log.contains("compactor w1: o3lsm-dm: connected to memory node"), log);
            waitFor(() -> node.output().contains("worker w1 (session"), node::output);
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -" + sig + " " + pid);
    }

    interface Check {
        boolean test() throws Exception;
    }

    interface Text {
        String get() throws Exception;
    }

    /** Waits (up to 20 s) for a state another process reaches; fails with {@code what} otherwise. */
    private static void waitFor(Check check, Text what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!check.test()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within 20 s:\n" + what.get());
            }
            Thread.sleep(20);
        }
    }
}
