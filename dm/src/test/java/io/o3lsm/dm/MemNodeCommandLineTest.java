package io.o3lsm.dm;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** {@code bin/o3 memnode}'s arguments: help and version go to stdout with status 0, mistakes to stderr with 2. */
class MemNodeCommandLineTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return MemNode.run(args, new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
    }

    @Test
    void shouldPrintUsageOnStdoutAndExitZeroForHelp() {
        for (String flag : new String[] {"--help", "-h"}) {
            out.reset();
            err.reset();
            assertEquals(0, run(flag), flag);
            String text = out.toString(UTF_8);
            assertTrue(text.startsWith("usage: bin/o3 memnode --listen HOST:PORT"), text);
            assertTrue(text.contains("--capacity SIZE") && text.contains("--version"), text);
            assertEquals("", err.toString(UTF_8), flag + " must not look like an error");
        }
    }

    @Test
    void shouldPrintTheVersionAndExitZero() {
        for (String flag : new String[] {"--version", "-V"}) {
            out.reset();
            assertEquals(0, run("--threads", "2", flag), flag);
            assertEquals("o3lsm memnode " + DB.version(), out.toString(UTF_8).trim());
        }
        assertFalse(DB.version().equals("unknown"), "the build records the version");
    }

    @Test
    void shouldExitTwoWithUsageOnStderrForABadArgument() {
        assertEquals(2, run("--bogus", "1"));
        assertTrue(err.toString(UTF_8).contains("memnode: unknown option --bogus"), err.toString(UTF_8));
        assertTrue(err.toString(UTF_8).contains("usage: bin/o3 memnode"), err.toString(UTF_8));
        assertEquals("", out.toString(UTF_8));
    }
}
