package io.o3lsm.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the README and docs example tests share: the {@code ```java} blocks of a page, de-indenting a region. */
final class ExampleRegions {
    private static final Pattern JAVA_BLOCK = Pattern.compile("(?m)^```java[ \\t]*\\n(.*?)^```[ \\t]*$", Pattern.DOTALL);

    private ExampleRegions() {
    }

    /** Every {@code ```java} block of a Markdown page, in order. */
    static List<String> javaBlocks(Path md) throws IOException {
        List<String> blocks = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(Files.readString(md));
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /** {@code text} with the indentation its non-blank lines share removed; blank lines emptied. */
    static String dedent(String text) {
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
}
