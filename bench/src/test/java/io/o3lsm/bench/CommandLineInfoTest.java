package io.o3lsm.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.bench.crash.CrashTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** {@code bin/o3 bench} and {@code bin/o3 crashtest}: -h/--help print usage and -V/--version the version, exit 0. */
class CommandLineInfoTest {
    private static String run(BiFunction<PrintStream, String[], Integer> command, int expectedStatus, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = command.apply(new PrintStream(out, true, UTF_8), args);
        assertEquals(expectedStatus, status, String.join(" ", args));
        return out.toString(UTF_8);
    }

    @Test
    void shouldPrintTheVersionOfBenchAndCrashtest() {
        assertFalse(DB.version().equals("unknown"), "the build records the version");
        for (String flag : new String[] {"-V", "--version"}) {
            String bench = run(Bench::run, 0, flag);
            assertTrue(bench.startsWith("o3lsm bench " + DB.version() + "\n"), bench);
            String crash = run(CrashTest::runCommandLine, 0, flag);
            assertTrue(crash.startsWith("o3lsm crashtest " + DB.version() + "\n"), crash);
        }
    }

    @Test
    void shouldPrintUsageForHelp() {
        for (String flag : new String[] {"-h", "--help"}) {
            String bench = run(Bench::run, 0, flag);
            assertTrue(bench.startsWith("Usage: bench") && bench.contains("--benchmarks") && bench.contains("--version"),
                    bench);
            String crash = run(CrashTest::runCommandLine, 0, flag);
            assertTrue(crash.startsWith("Usage: crashtest") && crash.contains("--cycles"), crash);
        }
    }
}
