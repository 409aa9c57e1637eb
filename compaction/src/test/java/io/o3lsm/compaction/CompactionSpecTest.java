package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor.CompactedFile;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The compaction job's spec and report (docs/format/compaction-job.md): worked examples, round trips, bad bytes. */
class CompactionSpecTest {
    /** The spec's worked example: L1 #12 and L2 #7 into level 2 of /data/db, from key "k" on. */
    static CompactionRequest exampleRequest() {
        return new CompactionRequest(Path.of("/data/db"), 3,
                List.of(new InputFile(1, 12, 4096), new InputFile(2, 7, 8192)), 2, true, new long[] {100},
                new long[] {20, 21}, 2 << 20, 4096, 16, Compression.LZ4, 10, "k".getBytes(StandardCharsets.US_ASCII),
                null);
    }

    /** The report's worked example: one file, #20, 1000 bytes, keys "a"@5 .. "z"@9. */
    static CompactionSpec.Report exampleReport() {
        return new CompactionSpec.Report(12288, 1000, List.of(new CompactedFile(new OutputFile(20, 1000,
                internalKey("a", 5), internalKey("z", 9), 5, 9), 0x1234abcd)));
    }

    /** user key + 8-byte trailer (sequence << 8 | type 1), little-endian, as internal-key.md defines. */
    static byte[] internalKey(String user, long sequence) {
        byte[] u = user.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(u.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(u).putLong(sequence << 8 | 1);
        return b.array();
    }

    static Path doc() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docs/format/compaction-job.md"))) {
            p = p.getParent();
        }
        assertTrue(p != null, "docs/format/compaction-job.md not found");
        return p.resolve("docs/format/compaction-job.md");
    }

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

    /** Prints the examples for the doc. */
    public static void main(String[] args) {
        System.out.println(dump(CompactionSpec.encode(exampleRequest())));
        System.out.println(dump(CompactionSpec.encode(exampleReport())));
    }

    @Test
    void shouldMatchTheWorkedExamplesInTheFormatDoc() throws Exception {
        String doc = Files.readString(doc());
        assertEquals(dump(CompactionSpec.encode(exampleRequest())), dump(fromDoc(doc, "compaction-spec")));
        assertEquals(dump(CompactionSpec.encode(exampleReport())), dump(fromDoc(doc, "compaction-report")));
        CompactionSpec.Spec s = CompactionSpec.decodeSpec(fromDoc(doc, "compaction-spec"));
        assertEquals("/data/db", s.directory());
        assertEquals(List.of(new InputFile(1, 12, 4096), new InputFile(2, 7, 8192)), s.inputs());
        assertArrayEquals("k".getBytes(StandardCharsets.US_ASCII), s.lowerBound());
        assertNull(s.upperBound());
    }

    @Test
    void shouldRoundTripEveryFieldOfTheSpecAndTheReport() throws Exception {
        CompactionSpec.Spec s = CompactionSpec.decodeSpec(CompactionSpec.encode(exampleRequest()));
        CompactionRequest back = s.toRequest(Path.of(s.directory()));
        CompactionRequest in = exampleRequest();
        assertEquals(in.directory(), back.directory());
        assertEquals(in.epoch(), back.epoch());
        assertEquals(in.inputs(), back.inputs());
        assertEquals(in.outputLevel(), back.outputLevel());
        assertEquals(in.bottommost(), back.bottommost());
        assertArrayEquals(in.snapshots(), back.snapshots());
        assertArrayEquals(in.outputFileNumbers(), back.outputFileNumbers());
        assertEquals(in.targetFileSize(), back.targetFileSize());
        assertEquals(in.blockSize(), back.blockSize());
        assertEquals(in.restartInterval(), back.restartInterval());
        assertEquals(in.compression(), back.compression());
        assertEquals(in.bloomBitsPerKey(), back.bloomBitsPerKey());
        assertArrayEquals(in.lowerBound(), back.lowerBound());
        assertNull(back.upperBound());
        assertNull(back.mergeOperator());
        // both bounds set, the lower one empty (an empty key is a bound, not "unbounded")
        CompactionRequest bounded = new CompactionRequest(Path.of("/d"), 0, in.inputs(), 1, false, new long[0],
                new long[] {5}, 1, 1, 1, Compression.NONE, 0, new byte[0], new byte[] {'m'}, "o3.stringappend:,");
        CompactionSpec.Spec b = CompactionSpec.decodeSpec(CompactionSpec.encode(bounded));
        assertArrayEquals(new byte[0], b.lowerBound());
        assertArrayEquals(new byte[] {'m'}, b.upperBound());
        assertTrue(!b.bottommost());
        assertEquals("o3.stringappend:,", b.mergeOperator());
        assertEquals("o3.stringappend:,", b.toRequest(Path.of("/d")).mergeOperator());

        CompactionSpec.Report r = CompactionSpec.decodeReport(CompactionSpec.encode(exampleReport()));
        assertEquals(12288, r.bytesRead());
        assertEquals(1, r.files().size());
        assertEquals(0x1234abcd, r.files().get(0).crc32c());
        assertArrayEquals(internalKey("z", 9), r.files().get(0).file().largest());
        assertEquals(9, r.files().get(0).file().largestSequence());
    }

    @Test
    void shouldRoundTripTheMergeOperatorAndTheCompactionFilter() throws Exception {
        CompactionRequest in = exampleRequest();
        io.o3lsm.spi.CompactionExecutor.Filter f = new io.o3lsm.spi.CompactionExecutor.Filter(
                "o3.ttl:60000,app.filter", 1_700_000_000_000L, 42);
        CompactionRequest withFilter = new CompactionRequest(in.directory(), in.epoch(), in.inputs(),
                in.outputLevel(), in.bottommost(), in.snapshots(), in.outputFileNumbers(), in.targetFileSize(),
                in.blockSize(), in.restartInterval(), in.compression(), in.bloomBitsPerKey(), in.lowerBound(),
                in.upperBound(), "o3.int64add", f);
        CompactionSpec.Spec s = CompactionSpec.decodeSpec(CompactionSpec.encode(withFilter));
        assertEquals("o3.int64add", s.mergeOperator());
        assertEquals(f, s.filter());
        assertEquals(f, s.toRequest(Path.of(s.directory())).filter());
        assertNull(CompactionSpec.decodeSpec(CompactionSpec.encode(in)).filter());
        byte[] bad = CompactionSpec.encode(withFilter);
        bad[bad.length - 16 - 4 - 1] = ' '; // a character no filter name may hold
        assertThrows(io.o3lsm.dm.protocol.MalformedMessageException.class, () -> CompactionSpec.decodeSpec(bad));
    }

    @Test
    void shouldRefuseTruncatedOrLyingSpecsAndReportsWithMalformedMessageException() {
        byte[] spec = CompactionSpec.encode(exampleRequest());
        for (int cut = 0; cut < spec.length; cut++) {
            byte[] shorter = Arrays.copyOf(spec, cut);
            assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeSpec(shorter), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(spec, spec.length + 1);
        assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeSpec(longer));
        byte[] report = CompactionSpec.encode(exampleReport());
        for (int cut = 0; cut < report.length; cut++) {
            byte[] shorter = Arrays.copyOf(report, cut);
            assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeReport(shorter), "cut at " + cut);
        }
        // field by field (offsets from the worked example in the doc)
        int[][] lies = {
            {0, 1},                 // version 1
            {0, 2},                 // version 2 (before column families)
            {0, 4},                 // version 4
            {4, Integer.MAX_VALUE}, // directory length past the end
            {24, 64},               // output level 64
            {28, 2},                // unknown flag
            {48, 7},                // unknown compression
            {56, -1},               // negative input count
            {56, 1 << 20},          // input count past the limit
            {60, 64},               // input level 64
            {100, 2},               // 2 snapshots, 1 present
            {132, -2},              // lower bound length -2
        };
        for (int[] lie : lies) {
            byte[] bad = spec.clone();
            ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(lie[0], lie[1]);
            assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeSpec(bad),
                    "int32 " + lie[1] + " at " + lie[0]);
        }
        // a merge operator name with a character outside [A-Za-z0-9._-:,], and one of 201 characters
        for (String name : new String[] {"o3.int 64add", "x".repeat(201),
                "o3.cf:1.5.o3.x", "o3.cf:a.1.x"}) {
            CompactionRequest in = exampleRequest();
            byte[] named = CompactionSpec.encode(new CompactionRequest(in.directory(), in.epoch(), in.inputs(),
                    in.outputLevel(), in.bottommost(), in.snapshots(), in.outputFileNumbers(), in.targetFileSize(),
                    in.blockSize(), in.restartInterval(), in.compression(), in.bloomBitsPerKey(), in.lowerBound(),
                    in.upperBound(), name));
            assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeSpec(named), name);
        }
        byte[] badVersion = report.clone();
        badVersion[0] = 9;
        assertThrows(MalformedMessageException.class, () -> CompactionSpec.decodeReport(badVersion));
    }

    @Test
    void shouldRefuseToEncodeARequestTheFormatCannotCarry() {
        CompactionRequest in = exampleRequest();
        CompactionRequest noOutputs = new CompactionRequest(in.directory(), 1, in.inputs(), 1, false, new long[0],
                new long[0], 1, 1, 1, Compression.NONE, 0);
        assertThrows(IllegalArgumentException.class, () -> CompactionSpec.encode(noOutputs));
        CompactionRequest noInputs = new CompactionRequest(in.directory(), 1, List.of(), 1, false, new long[0],
                new long[] {1}, 1, 1, 1, Compression.NONE, 0);
        assertThrows(IllegalArgumentException.class, () -> CompactionSpec.encode(noInputs));
    }
}
