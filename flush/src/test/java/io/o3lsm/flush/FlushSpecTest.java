package io.o3lsm.flush;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.spi.FlushExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The flush job's spec (docs/format/flush-job.md): the worked example, round trips, bad bytes. */
class FlushSpecTest {
    /**
     * The spec's worked example: range 3 of /data/db, 2 MiB files, 4 KiB blocks, restart interval 16,
     * LZ4, 10 bloom bits per key, snapshot 100, output numbers 20 and 21, the tombstone [b, c)@4, and
     * the merge operator o3.int64add.
     */
    static FlushExecutor.FlushRequest exampleRequest(String mergeOperator) {
        return new FlushExecutor.FlushRequest(Path.of("/data/db"), 1, 1, 1, 3, List.of(),
                List.of(new RangeTombstone(b("b"), b("c"), 4)), new long[] {100}, new long[] {20, 21}, 2 << 20, 4096,
                16, Compression.LZ4, 10, FlushExecutor.Placement.ALWAYS, 0, 0, Duration.ofSeconds(60), mergeOperator);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static Path doc() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docs/format/flush-job.md"))) {
            p = p.getParent();
        }
        assertTrue(p != null, "docs/format/flush-job.md not found");
        return p.resolve("docs/format/flush-job.md");
    }

    /** The dump of the docs (as CompactionSpecTest's). */
    static String dump(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int off = 0; off < b.length; off += 16) {
            sb.append(String.format("%4d ", off));
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                if (i == 8) {
                    sb.append(' ');
                }
                if (off + i < b.length) {
                    int v = b[off + i] & 0xFF;
                    sb.append(String.format(" %02x", v));
                    ascii.append(v >= 32 && v < 127 ? (char) v : '.');
                } else {
                    sb.append("   ");
                }
            }
            sb.append("  |").append(ascii).append("|\n");
        }
        return sb.toString();
    }

    static byte[] fromDoc(String doc, String name) {
        int at = doc.indexOf("<!-- bytes:" + name + " -->");
        assertTrue(at >= 0, "doc lacks example " + name);
        int start = doc.indexOf("```", at);
        int end = doc.indexOf("```", start + 3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : doc.substring(doc.indexOf('\n', start) + 1, end).split("\n")) {
            String hex = line.contains("|") ? line.substring(0, line.indexOf('|')) : line;
            String[] tok = hex.trim().split("\\s+");
            for (int i = 1; i < tok.length; i++) {
                out.write(Integer.parseInt(tok[i], 16));
            }
        }
        return out.toByteArray();
    }

    /** Prints the example for the doc. */
    public static void main(String[] args) {
        System.out.println(dump(FlushSpec.encode(exampleRequest("o3.int64add"))));
    }

    @Test
    void shouldMatchTheWorkedExampleInTheFormatDoc() throws Exception {
        String doc = Files.readString(doc());
        byte[] example = fromDoc(doc, "flush-spec");
        assertEquals(dump(FlushSpec.encode(exampleRequest("o3.int64add"))), dump(example));
        FlushSpec.Spec s = FlushSpec.decodeSpec(example);
        assertEquals(3, s.range());
        assertEquals("/data/db", s.directory());
        assertEquals(1, s.tombstones().size());
        assertEquals(4, s.tombstones().get(0).sequence);
        assertEquals("o3.int64add", s.mergeOperator());
    }

    @Test
    void shouldRoundTripEveryFieldOfTheSpec() throws Exception {
        for (String op : new String[] {null, "o3.int64add", "o3.stringappend:,", "x".repeat(200),
                "o3.cf:0.11.o3.int64add,7.17.o3.stringappend:,"}) {
            FlushExecutor.FlushRequest in = exampleRequest(op);
            FlushSpec.Spec s = FlushSpec.decodeSpec(FlushSpec.encode(in));
            assertEquals(in.range(), s.range());
            assertEquals(in.directory().toString(), s.directory());
            assertEquals(in.targetFileSize(), s.targetFileSize());
            assertEquals(in.blockSize(), s.blockSize());
            assertEquals(in.restartInterval(), s.restartInterval());
            assertEquals(in.compression(), s.compression());
            assertEquals(in.bloomBitsPerKey(), s.bloomBitsPerKey());
            assertArrayEquals(in.snapshots(), s.snapshots());
            assertArrayEquals(in.outputFileNumbers(), s.outputNumbers());
            assertArrayEquals(in.tombstones().get(0).start, s.tombstones().get(0).start);
            assertArrayEquals(in.tombstones().get(0).end, s.tombstones().get(0).end);
            assertEquals(op, s.mergeOperator());
        }
        // no operator: an empty name, the last four bytes of the spec
        byte[] none = FlushSpec.encode(exampleRequest(null));
        assertArrayEquals(new byte[4], Arrays.copyOfRange(none, none.length - 4, none.length));
        assertNull(FlushSpec.decodeSpec(none).mergeOperator());
    }

    @Test
    void shouldCarryAFamilyAwareDbsFamilyTablesAndRefuseBadOnes() throws Exception {
        FlushExecutor.FlushRequest base = exampleRequest("o3.cf:1.11.o3.int64add");
        List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables = List.of(
                new io.o3lsm.spi.CompactionExecutor.FamilyTable(0, Compression.NONE, 10),
                new io.o3lsm.spi.CompactionExecutor.FamilyTable(1, Compression.LZ4, 0),
                new io.o3lsm.spi.CompactionExecutor.FamilyTable(300, Compression.NONE, 64));
        byte[] spec = FlushSpec.encode(withTables(base, tables));
        assertEquals(tables, FlushSpec.decodeSpec(spec).familyTables());
        assertEquals(List.of(), FlushSpec.decodeSpec(FlushSpec.encode(base)).familyTables());
        // the tables end the spec: count, then (id, compression, bloom) each; ids must ascend
        int at = spec.length - 4 - 3 * 12;
        ByteBuffer bb = ByteBuffer.wrap(spec).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3, bb.getInt(at));
        for (int[] lie : new int[][] {{at, -1}, {at, 1 << 20}, {at + 4 + 12, 0}, {at + 4 + 4, 9}, {at + 4 + 8, 65}}) {
            byte[] bad = spec.clone();
            ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(lie[0], lie[1]);
            assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(bad), lie[0] + "=" + lie[1]);
        }
    }

    private static FlushExecutor.FlushRequest withTables(FlushExecutor.FlushRequest r,
            List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables) {
        return new FlushExecutor.FlushRequest(r.directory(), r.epoch(), r.jobId(), r.attempt(), r.range(), r.inputs(),
                r.tombstones(), r.snapshots(), r.outputFileNumbers(), r.targetFileSize(), r.blockSize(),
                r.restartInterval(), r.compression(), r.bloomBitsPerKey(), r.placement(), r.ownerLoad(),
                r.pressureBytes(), r.deadline(), r.mergeOperator(), r.filter(), tables);
    }

    @Test
    void shouldRefuseOtherVersionsBadNamesAndTruncatedOrLongerSpecs() {
        byte[] spec = FlushSpec.encode(exampleRequest("o3.int64add"));
        for (int cut = 0; cut < spec.length; cut++) {
            byte[] shorter = Arrays.copyOf(spec, cut);
            assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(shorter), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(spec, spec.length + 1);
        assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(longer));
        for (int version : new int[] {1, 2, 4}) {
            byte[] bad = spec.clone();
            ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(0, version);
            MalformedMessageException e = assertThrows(MalformedMessageException.class,
                    () -> FlushSpec.decodeSpec(bad));
            assertTrue(e.getMessage().contains("expected flush spec version 3, found " + version), e.getMessage());
        }
        // a name with a character outside [A-Za-z0-9._-:,], and one longer than 200 characters
        byte[] space = spec.clone();
        space[space.length - 4] = ' '; // "o3.int6 add"
        assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(space));
        byte[] tooLong = FlushSpec.encode(exampleRequest("x".repeat(201)));
        assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(tooLong));
        // a family table that does not parse (an entry's length runs past the end; a trailing comma)
        for (String table : new String[] {"o3.cf:0.99.o3.int64add", "o3.cf:0.11.o3.int64add,"}) {
            byte[] bad = FlushSpec.encode(exampleRequest(table));
            assertThrows(MalformedMessageException.class, () -> FlushSpec.decodeSpec(bad), table);
        }
    }
}
