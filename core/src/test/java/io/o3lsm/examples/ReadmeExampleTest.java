package io.o3lsm.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java code is the code in this package: every {@code ```java} block of README.md equals
 * a region marked {@code // README:NAME begin} … {@code // README:NAME end} here (de-indented), and
 * every region is in the README; the examples themselves are compiled with the tests and run here.
 */
class ReadmeExampleTest {
    private static final Path EXAMPLES = Path.of("src/test/java/io/o3lsm/examples");
    private static final Pattern REGION = Pattern.compile(
            "(?m)^[ \\t]*// README:(\\S+) begin[ \\t]*\\n(.*?)^[ \\t]*// README:\\1 end[ \\t]*$", Pattern.DOTALL);

    @TempDir
    Path dir;

    @Test
    void shouldRunTheEmbeddingExample() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, UTF_8));
        try {
            ReadmeExample.main(new String[] {dir.toString()});
        } finally {
            System.setOut(stdout);
        }
        assertEquals("user:42 = Ada\n", printed.toString(UTF_8));
        try (DB db = DB.open(dir, Options.defaults())) {
            assertNull(db.get("user:42".getBytes(UTF_8)), "the batch deleted user:42");
            assertArrayEquals("Grace".getBytes(UTF_8), db.get("user:43".getBytes(UTF_8)));
        }
    }

    @Test
    void shouldValidateTheDmOptionsExample() {
        Options o = ReadmeDmExample.options().validate();
        assertEquals("memnode-1:7420", o.memoryNodeAddress());
        assertEquals(16 << 20, o.localMemoryBudget());
    }

    @Test
    void shouldShowInTheReadmeExactlyTheCodeOfTheExamples() throws IOException {
        Map<String, String> regions = regions();
        assertTrue(regions.containsKey("embedding") && regions.containsKey("dm-options"), "regions: " + regions.keySet());
        List<String> blocks = ExampleRegions.javaBlocks(readme());
        assertFalse(blocks.isEmpty(), "no ```java block in the README");
        for (Map.Entry<String, String> r : regions.entrySet()) {
            assertTrue(blocks.contains(r.getValue()), "README.md does not show the region '" + r.getKey()
                    + "' of " + EXAMPLES + " as it is; it should read:\n" + r.getValue());
        }
        for (String b : blocks) {
            assertTrue(regions.containsValue(b),
                    "this ```java block of README.md is not a region of the compiled examples in " + EXAMPLES + ":\n" + b);
        }
    }

    /** Every marked region of the example sources, by name, de-indented. */
    private static Map<String, String> regions() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                Matcher m = REGION.matcher(Files.readString(f));
                while (m.find()) {
                    String previous = out.put(m.group(1), ExampleRegions.dedent(m.group(2)));
                    assertNull(previous, "region " + m.group(1) + " is marked twice");
                }
            }
        }
        return out;
    }

    /** README.md at the root of the build (tests run in the module's directory). */
    private static Path readme() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("README.md")) && Files.isDirectory(d.resolve("core"))) {
                return d.resolve("README.md");
            }
        }
        throw new AssertionError("README.md not found above " + Path.of("").toAbsolutePath());
    }
}
