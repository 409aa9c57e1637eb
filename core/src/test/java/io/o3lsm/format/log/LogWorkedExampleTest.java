package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.KIND_WAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.o3lsm.format.log.LogTestSupport.Physical;
import io.o3lsm.format.log.LogTestSupport.ReadResult;
import io.o3lsm.internal.fs.LocalFileSystem;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything docs/format/log.md states about its examples, checked. Keep the two in step. */
class LogWorkedExampleTest {
    @TempDir
    Path dir;

    /** The worked example: WAL 7 holding "hello", "", "o3lsm!". */
    static final String SPEC_EXAMPLE = ""
            + "4f334c47" + "03" + "01" + "0000" + "0700000000000000" + "00800000" + "b13ea435"
            + "0bb95758" + "0500" + "01" + "68656c6c6f"
            + "052b2843" + "0000" + "01"
            + "e2648c2f" + "0600" + "01" + "6f336c736d21";

    private static final byte[] HELLO = "hello".getBytes();
    private static final byte[] O3LSM = "o3lsm!".getBytes();

    private Path example() throws IOException {
        Path path = dir.resolve("000007.log");
        Files.write(path, HexFormat.of().parseHex(SPEC_EXAMPLE));
        return path;
    }

    @Test
    void shouldWriteTheWorkedExampleByteForByte() throws IOException {
        Path path = dir.resolve("written.log");
        try (LogWriter w = new LogWriter(LocalFileSystem.INSTANCE.newWritableFile(path), KIND_WAL,
                7)) {
            w.addRecord(HELLO, 0, HELLO.length);
            w.addRecord(new byte[0], 0, 0);
            w.addRecord("xxo3lsm!yy".getBytes(), 2, 6);
        }
        assertEquals(SPEC_EXAMPLE, HexFormat.of().formatHex(Files.readAllBytes(path)));
    }

    @Test
    void shouldReadTheWorkedExampleAtTheDocumentedOffsets() throws IOException {
        ReadResult r = LogTestSupport.readAll(example(), KIND_WAL, 7, false);
        assertNull(r.corruption);
        assertEquals(3, r.records.size());
        assertArrayEquals(HELLO, r.records.get(0));
        assertArrayEquals(new byte[0], r.records.get(1));
        assertArrayEquals(O3LSM, r.records.get(2));
        assertEquals(List.of(24L, 36L, 43L), r.offsets);
    }

    @Test
    void shouldReadTheVersion1And2FormsOfTheWorkedExample() throws IOException {
        // as log.md says: a version-1 log differs in byte 4 and the header crc only, and reads the same
        // (and so does a version-2 log, header crc 99a25f2b)
        for (String[] older : new String[][] {{"01", "097bbdeb"}, {"02", "99a25f2b"}}) {
            String v1 = "4f334c47" + older[0] + SPEC_EXAMPLE.substring(10, 40) + older[1] + SPEC_EXAMPLE.substring(48);
            Path path = dir.resolve("000007.log");
            Files.write(path, HexFormat.of().parseHex(v1));
            for (boolean tolerate : new boolean[] {true, false}) {
                ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 7, tolerate);
                assertNull(r.corruption);
                assertEquals(3, r.records.size());
                assertArrayEquals(O3LSM, r.records.get(2));
                assertEquals(List.of(24L, 36L, 43L), r.offsets);
            }
        }
    }

    @Test
    void shouldDropTheCutLastRecordOfTheWorkedExampleOnlyWhenTolerating() throws IOException {
        Path path = example();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (long cut = 55; cut >= 44; cut--) {
                ch.truncate(cut);
                ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 7, true);
                assertNull(r.corruption, "cut " + cut);
                assertEquals(2, r.records.size(), "cut " + cut);
                assertEquals(cut - 43, r.dropped, "cut " + cut);
                ReadResult s = LogTestSupport.readAll(path, KIND_WAL, 7, false);
                assertNotNull(s.corruption, "cut " + cut);
                assertEquals(43, s.corruption.offset(), "cut " + cut);
            }
        }
    }

    @Test
    void shouldReportEveryBitFlipInTheFirstRecordOfTheWorkedExampleAtOffset24() throws IOException {
        Path path = example();
        for (long at = 24; at < 36; at++) {
            for (int bit = 0; bit < 8; bit++) {
                LogTestSupport.flipBit(path, at, bit);
                for (boolean tolerate : new boolean[] {true, false}) {
                    ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 7, tolerate);
                    String context = "bit " + bit + " of byte " + at + " tolerate=" + tolerate;
                    assertNotNull(r.corruption, context);
                    assertEquals(24, r.corruption.offset(), context);
                    assertEquals(0, r.records.size(), context);
                }
                LogTestSupport.flipBit(path, at, bit);
            }
        }
    }

    @Test
    void shouldSplitTheSpanningExampleAsDocumented() throws IOException {
        // block 0 filled up to offset 30000, then a 40000-byte record, then a small one
        List<byte[]> records = List.of(new byte[30000 - 24 - 7], new byte[40000], new byte[1]);
        LogTestSupport.Written w = LogTestSupport.writeLog(dir.resolve("span.log"), KIND_WAL, 1,
                records);
        List<Physical> p = LogTestSupport.physicalRecords(Files.readAllBytes(w.path));
        assertEquals(5, p.size());
        assertPhysical(p.get(1), 30000, 2761, LogFormat.TYPE_FIRST);
        assertPhysical(p.get(2), 32768, 32761, LogFormat.TYPE_MIDDLE);
        assertPhysical(p.get(3), 65536, 4478, LogFormat.TYPE_LAST);
        assertPhysical(p.get(4), 70021, 1, LogFormat.TYPE_FULL);
    }

    private static void assertPhysical(Physical p, long offset, int length, int type) {
        assertEquals(offset, p.offset);
        assertEquals(length, p.length);
        assertEquals(type, p.type);
    }
}
