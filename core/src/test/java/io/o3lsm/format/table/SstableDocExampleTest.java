package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.table.TableTestSupport.Entry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the worked example of {@code docs/format/sstable.md} true: the hex dump between its
 * {@code sstable-example} markers must be exactly what the writer produces for the example input.
 */
class SstableDocExampleTest {
    static final String BEGIN = "<!-- sstable-example:begin -->";
    static final String END = "<!-- sstable-example:end -->";

    @TempDir
    Path dir;

    static List<Entry> exampleEntries() {
        return List.of(
                new Entry(InternalKey.encode(b("apple"), 3, InternalKey.TYPE_VALUE), b("red")),
                new Entry(InternalKey.encode(b("apple"), 1, InternalKey.TYPE_DELETION), new byte[0]),
                new Entry(InternalKey.encode(b("banana"), 2, InternalKey.TYPE_VALUE), b("yellow")));
    }

    /** {@code deleteRange("b", "c")} at sequence 4. */
    static List<RangeTombstone> exampleTombstones() {
        return List.of(new RangeTombstone(b("b"), b("c"), 4));
    }

    static TableOptions exampleOptions() {
        return new TableOptions(4096, 16, Compression.NONE, 10);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code xxd}-style dump: offset, 16 bytes in hex, ASCII with space and unprintables as dots. */
    static String hexDump(byte[] f) {
        StringBuilder sb = new StringBuilder();
        for (int off = 0; off < f.length; off += 16) {
            sb.append(String.format("%08x:", off));
            StringBuilder ascii = new StringBuilder();
            for (int i = off; i < off + 16; i++) {
                if (i < f.length) {
                    sb.append(String.format(" %02x", f[i] & 0xFF));
                    int c = f[i] & 0xFF;
                    ascii.append(c > 0x20 && c < 0x7f ? (char) c : '.'); // no spaces: no trailing whitespace
                } else {
                    sb.append("   ");
                }
            }
            sb.append("  ").append(ascii).append('\n');
        }
        return sb.toString();
    }

    @Test
    void docExampleShouldMatchWhatTheWriterProduces() throws Exception {
        Path p = dir.resolve("000005.sst");
        TableProperties props = TableTestSupport.write(p, exampleOptions(), exampleEntries(), exampleTombstones(),
                null);
        byte[] file = Files.readAllBytes(p);
        String dump = hexDump(file);
        System.out.println("example table, " + file.length + " bytes, " + props);
        System.out.print(dump);

        try (TableReader r = TableTestSupport.open(p)) {
            Lookup out = new Lookup();
            assertTrue(r.get(b("apple"), 5, out));
            assertEquals("red", new String(out.value, StandardCharsets.US_ASCII));
            assertTrue(r.get(b("apple"), 2, out));
            assertEquals(Lookup.DELETED, out.state);
            assertTrue(r.get(b("banana"), 5, out)); // the point entry; the tombstone is the caller's to apply
            assertEquals(2, out.sequence);
            assertEquals(exampleTombstones(), r.rangeTombstones());
            assertTrue(r.rangeTombstones().get(0).covers(b("banana")));
        }

        Path doc = Path.of(System.getProperty("basedir", ".")).resolve("../docs/format/sstable.md").normalize();
        String text = Files.readString(doc);
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        assertTrue(begin >= 0 && end > begin, "markers missing in " + doc);
        String section = text.substring(begin + BEGIN.length(), end);
        int fenceOpen = section.indexOf("```");
        int bodyStart = section.indexOf('\n', fenceOpen) + 1;
        int fenceClose = section.indexOf("```", bodyStart);
        String documented = section.substring(bodyStart, fenceClose);
        assertEquals(dump, documented, "the hex dump in " + doc + " is stale; replace it with the one printed above");
    }
}
