package io.o3lsm.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/transactions.md shows exactly the regions of {@link TransactionExamples} (each {@code ```java}
 * block is a region, de-indented, and each region is a block), and the examples do what the doc says.
 */
class TransactionExamplesTest {
    private static final Path SOURCE = Path.of("src/test/java/io/o3lsm/examples/TransactionExamples.java");
    private static final Pattern REGION = Pattern.compile(
            "(?m)^[ \\t]*// DOCS:transactions:(\\S+) begin[ \\t]*\\n(.*?)^[ \\t]*// DOCS:transactions:\\1 end[ \\t]*$",
            Pattern.DOTALL);
    private static final Pattern JAVA_BLOCK = Pattern.compile("(?m)^```java[ \\t]*\\n(.*?)^```[ \\t]*$", Pattern.DOTALL);

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void shouldIncrementExactlyOnceEachFromSeveralThreads() throws Exception {
        try (DB db = DB.open(dir, Options.defaults())) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 100; i++) {
                            TransactionExamples.increment(db, b("hits"), 1);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(300, MergeOperators.int64(db.get(b("hits"))));
        }
    }

    @Test
    void shouldTransferAllOrNothing() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("acct:a"), MergeOperators.int64(100));
            db.put(b("acct:b"), MergeOperators.int64(0));
            assertTrue(TransactionExamples.transfer(db, b("acct:a"), b("acct:b"), 30));
            assertFalse(TransactionExamples.transfer(db, b("acct:a"), b("acct:b"), 500));
            assertEquals(70, MergeOperators.int64(db.get(b("acct:a"))));
            assertEquals(30, MergeOperators.int64(db.get(b("acct:b"))));
            assertNull(db.get(b("audit:last")), "rolled back to the save point");
        }
    }

    @Test
    void shouldStageReadBackAndApply() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("user:2"), b("Bob"));
            db.put(b("user:3"), b("Cy"));
            assertEquals(List.of("get user:1 = Ada", "user:1 = Ada", "user:3 = Cy"), TransactionExamples.stageAndApply(db));
            assertArrayEquals(b("Ada"), db.get(b("user:1")));
            assertNull(db.get(b("user:2")));
        }
    }

    @Test
    void shouldShowInTheDocExactlyTheCodeOfTheExamples() throws IOException {
        Map<String, String> regions = new LinkedHashMap<>();
        Matcher r = REGION.matcher(Files.readString(SOURCE));
        while (r.find()) {
            regions.put(r.group(1), dedent(r.group(2)));
        }
        assertEquals(List.of("counter", "transfer", "wbwi"), List.copyOf(regions.keySet()));
        List<String> blocks = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(Files.readString(doc()));
        while (m.find()) {
            blocks.add(m.group(1));
        }
        for (Map.Entry<String, String> e : regions.entrySet()) {
            assertTrue(blocks.contains(e.getValue()), "docs/transactions.md does not show the region '" + e.getKey()
                    + "' of " + SOURCE + " as it is; it should read:\n" + e.getValue());
        }
        for (String block : blocks) {
            assertTrue(regions.containsValue(block), "this ```java block of docs/transactions.md is not a region of "
                    + SOURCE + ":\n" + block);
        }
    }

    private static String dedent(String text) {
        String[] lines = text.split("\n", -1);
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            sb.append(l.isBlank() ? "" : l.substring(indent));
            if (i < lines.length - 1) {
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static Path doc() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("docs/transactions.md");
            if (Files.isRegularFile(p) && Files.isDirectory(d.resolve("core"))) {
                return p;
            }
        }
        throw new AssertionError("docs/transactions.md not found above " + Path.of("").toAbsolutePath());
    }
}
