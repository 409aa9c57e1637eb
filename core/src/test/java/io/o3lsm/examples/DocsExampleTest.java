package io.o3lsm.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java code of the pages under {@code docs/} is code in this package: a region marked
 * {@code // DOCS:PAGE/NAME begin} … {@code // DOCS:PAGE/NAME end} (de-indented) must appear as a
 * {@code ```java} block of {@code docs/PAGE.md}, and every {@code ```java} block of such a page must
 * be one of its regions. The examples are compiled with the tests and run here.
 */
class DocsExampleTest {
    private static final Path EXAMPLES = Path.of("src/test/java/io/o3lsm/examples");
    private static final Pattern REGION = Pattern.compile(
            "(?m)^[ \\t]*// DOCS:([a-z0-9/-]+)/(\\S+) begin[ \\t]*\\n(.*?)^[ \\t]*// DOCS:\\1/\\2 end[ \\t]*$",
            Pattern.DOTALL);

    @TempDir
    Path dir;

    @Test
    void shouldRunTheMergeOperatorExamples() {
        assertEquals(42, MergeExample.counters(dir.resolve("counters")));
        assertEquals(17, MergeExample.max(dir.resolve("max")));
    }

    @Test
    void shouldRunTheCompactionFilterExamples() {
        assertEquals("card:1=****4242 session:a=open", CompactionFilterExample.sessions(dir.resolve("sessions")));
        assertEquals("v/null", CompactionFilterExample.ttl(dir.resolve("ttl")));
    }

    @Test
    void shouldRunTheColumnFamilyExamplesInOrder() {
        Path db = dir.resolve("families");
        assertEquals("[default, users, users-by-email, counters, sessions] Ada/Ada Lovelace/2/open/null",
                ColumnFamilyExample.open(db));
        assertEquals("43 Grace", ColumnFamilyExample.batch(db));
        assertEquals("42=Ada 43=Grace | 43 | Edsger", ColumnFamilyExample.iterate(db));
        assertEquals("[default, users, users-by-email, counters, sessions, scratch] 5 null refused",
                ColumnFamilyExample.drop(db));
        assertEquals("refused [default, users, users-by-email, counters, sessions, audit] 6",
                ColumnFamilyExample.reopen(db));
    }

    @Test
    void shouldRunTheOperationsExamples() {
        assertEquals("before", OperationsExamples.checkpoint(dir.resolve("live"), dir.resolve("backups")));
        assertEquals("v true", OperationsExamples.readOnly(dir.resolve("ro")));
        assertEquals("v1 v2", OperationsExamples.secondary(dir.resolve("secondary")));
        assertEquals("v2", OperationsExamples.backup(dir.resolve("bk-db"), dir.resolve("bk"), dir.resolve("bk-restored")));
        assertEquals("name-7", OperationsExamples.ingest(dir.resolve("ingest-db"), dir.resolve("staging")));
    }

    @Test
    void shouldRunTheListenerAndRateLimiterExamples() {
        assertEquals("flush 1 range 1 -> 1 files, N bytes, LOCAL | true | 0", ListenerExamples.listen(dir.resolve("listen")));
        assertTrue(ListenerExamples.rateLimit(dir.resolve("limited")));
    }

    @Test
    void shouldShowOnEachDocsPageExactlyTheCodeOfItsExamples() throws IOException {
        Map<String, Map<String, String>> pages = regions();
        assertTrue(pages.keySet().containsAll(java.util.List.of("merge-operators", "transactions", "compaction-filters",
                "column-families", "operations/checkpoints", "operations/read-only", "operations/secondary", "operations/backups",
                "operations/bulk-ingest", "operations/listeners", "operations/rate-limiter")),
                "pages: " + pages.keySet());
        assertTrue(pages.containsKey("compaction-filters"), "pages: " + pages.keySet());
        for (Map.Entry<String, Map<String, String>> page : pages.entrySet()) {
            Path md = docs().resolve(page.getKey() + ".md");
            assertTrue(Files.isRegularFile(md), "regions name the page " + md + ", which does not exist");
            List<String> blocks = ExampleRegions.javaBlocks(md);
            for (Map.Entry<String, String> r : page.getValue().entrySet()) {
                assertTrue(blocks.contains(r.getValue()), md + " does not show the region '" + r.getKey() + "' of "
                        + EXAMPLES + " as it is; it should read:\n" + r.getValue());
            }
            for (String b : blocks) {
                assertTrue(page.getValue().containsValue(b),
                        "this ```java block of " + md + " is not a region of the compiled examples in " + EXAMPLES
                                + ":\n" + b);
            }
            assertFalse(blocks.isEmpty(), md + " has no ```java block");
        }
    }

    /** Per page, its marked regions by name, de-indented. */
    private static Map<String, Map<String, String>> regions() throws IOException {
        Map<String, Map<String, String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                Matcher m = REGION.matcher(Files.readString(f));
                while (m.find()) {
                    String previous = out.computeIfAbsent(m.group(1), p -> new TreeMap<>())
                            .put(m.group(2), ExampleRegions.dedent(m.group(3)));
                    assertNull(previous, "region " + m.group(1) + "/" + m.group(2) + " is marked twice");
                }
            }
        }
        return out;
    }

    /** docs/ at the root of the build (tests run in the module's directory). */
    private static Path docs() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("docs")) && Files.isDirectory(d.resolve("core"))) {
                return d.resolve("docs");
            }
        }
        throw new AssertionError("docs/ not found above " + Path.of("").toAbsolutePath());
    }
}
