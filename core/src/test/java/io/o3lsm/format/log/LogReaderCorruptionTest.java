package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.BLOCK_SIZE;
import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.KIND_MANIFEST;
import static io.o3lsm.format.log.LogFormat.KIND_WAL;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.log.LogTestSupport.Physical;
import io.o3lsm.format.log.LogTestSupport.RawLog;
import io.o3lsm.format.log.LogTestSupport.ReadResult;
import io.o3lsm.format.log.LogTestSupport.Written;
import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.internal.util.Coding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damage that is not a torn tail: always a CorruptionException naming file and offset. */
class LogReaderCorruptionTest {
    @TempDir
    Path dir;

    private Written randomLog(Random rnd, String name, int count) throws IOException {
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(LogTestSupport.randomBytes(rnd,
                    rnd.nextInt(3) == 0 ? rnd.nextInt(80_000) : rnd.nextInt(3000)));
        }
        return LogTestSupport.writeLog(dir.resolve(name), KIND_WAL, 21, records);
    }

    private static void assertCorruptionAt(Written w, ReadResult r, long offset, String context) {
        assertNotNull(r.corruption, context + ": no corruption reported");
        assertEquals(w.path.toString(), r.corruption.file(), context);
        assertEquals(offset, r.corruption.offset(), () -> context + ": " + r.corruption.getMessage());
        assertTrue(r.corruption.getMessage().contains("expected"), r.corruption.getMessage());
        // never a partial record, never a skipped one: exactly the records before the bad one
        int whole = w.wholeRecordsBefore(offset);
        assertEquals(whole, r.records.size(), context);
        for (int i = 0; i < whole; i++) {
            assertArrayEquals(w.records.get(i), r.records.get(i), context);
        }
    }

    @Test
    void shouldReportABitFlipInAMiddleRecordAtThatPhysicalRecordInBothModes() throws IOException {
        Random rnd = LogTestSupport.random(
                "shouldReportABitFlipInAMiddleRecordAtThatPhysicalRecordInBothModes");
        Written w = randomLog(rnd, "000021.log", 40);
        List<Physical> physical = LogTestSupport.physicalRecords(Files.readAllBytes(w.path));
        for (int trial = 0; trial < 150; trial++) {
            Physical victim = physical.get(rnd.nextInt(physical.size() - 1)); // not the last one
            long at = victim.offset + (long) (rnd.nextDouble() * (RECORD_HEADER_SIZE + victim.length));
            int bit = rnd.nextInt(8);
            String context = LogTestSupport.seedText() + " trial " + trial + ": bit " + bit + " of byte "
                    + at + " in the " + LogFormat.typeName(victim.type) + " at " + victim.offset;
            LogTestSupport.flipBit(w.path, at, bit);
            for (boolean tolerate : new boolean[] {true, false}) {
                assertCorruptionAt(w, LogTestSupport.readAll(w.path, KIND_WAL, 21, tolerate),
                        victim.offset, context + " tolerate=" + tolerate);
            }
            LogTestSupport.flipBit(w.path, at, bit);
        }
    }

    @Test
    void shouldStopBeforeABitFlipInTheLastRecordOnlyWhenTolerating() throws IOException {
        Random rnd = LogTestSupport.random("shouldStopBeforeABitFlipInTheLastRecordOnlyWhenTolerating");
        Written w = randomLog(rnd, "000022.log", 10);
        List<Physical> physical = LogTestSupport.physicalRecords(Files.readAllBytes(w.path));
        Physical last = physical.get(physical.size() - 1);
        int n = w.records.size();
        // the last logical record may have several fragments: it is dropped whole
        long lastRecordStart = w.starts[n - 1];
        for (int trial = 0; trial < 60; trial++) {
            long at = last.offset + (long) (rnd.nextDouble() * (RECORD_HEADER_SIZE + last.length));
            int bit = rnd.nextInt(8);
            String context = LogTestSupport.seedText() + " trial " + trial + ": bit " + bit + " of "
                    + at;
            LogTestSupport.flipBit(w.path, at, bit);

            ReadResult r = LogTestSupport.readAll(w.path, KIND_WAL, 21, true);
            assertNull(r.corruption, () -> context + ": " + r.corruption);
            assertEquals(n - 1, r.records.size(), context);
            assertEquals(w.size() - w.ends[n - 2], r.dropped, context);
            assertTrue(lastRecordStart >= w.ends[n - 2]);

            assertCorruptionAt(w, LogTestSupport.readAll(w.path, KIND_WAL, 21, false), last.offset,
                    context + " strict");
            LogTestSupport.flipBit(w.path, at, bit);
        }
    }

    @Test
    void shouldReportABadFirstFragmentOfTheLastRecordBecauseItsLastFragmentIsValid()
            throws IOException {
        List<byte[]> records = List.of("a".getBytes(), new byte[3 * BLOCK_SIZE]);
        Written w = LogTestSupport.writeLog(dir.resolve("000023.log"), KIND_WAL, 21, records);
        LogTestSupport.flipBit(w.path, w.starts[1] + RECORD_HEADER_SIZE + 100, 3);
        for (boolean tolerate : new boolean[] {true, false}) {
            assertCorruptionAt(w, LogTestSupport.readAll(w.path, KIND_WAL, 21, tolerate), w.starts[1],
                    "tolerate=" + tolerate);
        }
    }

    @Test
    void shouldFindValidRecordsHiddenBehindACorruptLengthField() throws IOException {
        RawLog raw = new RawLog(KIND_WAL, 5);
        raw.record(LogFormat.TYPE_FULL, "first".getBytes());
        byte[] payload = "second".getBytes();
        int crc = LogFormat.recordChecksum(new java.util.zip.CRC32C(), LogFormat.TYPE_FULL, payload,
                0, payload.length);
        // length field says 500: past the end of the file, which ends inside those 500 bytes ...
        long bad = raw.record(LogFormat.TYPE_FULL, payload, 500, crc);
        raw.record(LogFormat.TYPE_FULL, "third".getBytes()); // ... and holds a valid record
        Path path = raw.writeTo(dir.resolve("length.log"));
        for (boolean tolerate : new boolean[] {true, false}) {
            ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 5, tolerate);
            assertNotNull(r.corruption, "tolerate=" + tolerate);
            assertEquals(bad, r.corruption.offset(), r.corruption.getMessage());
            assertEquals(1, r.records.size());
        }
    }

    @Test
    void shouldReportALengthOverflowingItsBlockWhenAValidRecordFollowsInALaterBlock()
            throws IOException {
        RawLog raw = new RawLog(KIND_WAL, 5);
        raw.record(LogFormat.TYPE_FULL, "first".getBytes());
        byte[] payload = new byte[100];
        long bad = raw.record(LogFormat.TYPE_FULL, payload, 60_000, 0);
        raw.raw(new byte[BLOCK_SIZE - (int) raw.position()]); // zeros to the end of block 0
        raw.record(LogFormat.TYPE_FULL, "in block 1".getBytes());
        Path path = raw.writeTo(dir.resolve("overflow.log"));
        ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 5, true);
        assertNotNull(r.corruption);
        assertEquals(bad, r.corruption.offset());
        assertTrue(r.corruption.getMessage().contains("at most"), r.corruption.getMessage());
        assertTrue(r.corruption.getMessage().contains("offset " + BLOCK_SIZE),
                r.corruption.getMessage());
    }

    @Test
    void shouldReportAZeroFilledHoleFollowedByValidRecords() throws IOException {
        RawLog raw = new RawLog(KIND_WAL, 5);
        raw.record(LogFormat.TYPE_FULL, "before".getBytes());
        long hole = raw.position();
        raw.raw(new byte[4096]);
        raw.record(LogFormat.TYPE_FULL, "after".getBytes());
        Path path = raw.writeTo(dir.resolve("hole.log"));
        ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 5, true);
        assertNotNull(r.corruption);
        assertEquals(hole, r.corruption.offset());
        assertEquals(1, r.records.size());
    }

    @Test
    void shouldReportAFirstFragmentFollowedByAFullRecordAtTheFirstFragment() throws IOException {
        RawLog raw = new RawLog(KIND_MANIFEST, 6);
        raw.record(LogFormat.TYPE_FULL, "ok".getBytes());
        long first = raw.record(LogFormat.TYPE_FIRST, "start".getBytes());
        raw.record(LogFormat.TYPE_MIDDLE, "middle".getBytes());
        long full = raw.record(LogFormat.TYPE_FULL, "full".getBytes());
        Path path = raw.writeTo(dir.resolve("MANIFEST-000006"));
        for (boolean tolerate : new boolean[] {true, false}) {
            ReadResult r = LogTestSupport.readAll(path, KIND_MANIFEST, 6, tolerate);
            assertNotNull(r.corruption);
            assertEquals(first, r.corruption.offset());
            assertEquals(path.toString(), r.corruption.file());
            assertTrue(r.corruption.getMessage().contains("offset " + full), r.corruption.getMessage());
            assertTrue(r.corruption.getMessage().contains("found FULL"), r.corruption.getMessage());
            assertEquals(1, r.records.size());
        }
    }

    @Test
    void shouldReportAMiddleOrLastFragmentWithoutFirstWhenAValidRecordFollows() throws IOException {
        for (int type : new int[] {LogFormat.TYPE_MIDDLE, LogFormat.TYPE_LAST}) {
            RawLog raw = new RawLog(KIND_WAL, 7);
            raw.record(LogFormat.TYPE_FULL, "ok".getBytes());
            long orphan = raw.record(type, "orphan".getBytes());
            raw.record(LogFormat.TYPE_FULL, "later".getBytes());
            Path path = raw.writeTo(dir.resolve("orphan" + type + ".log"));
            ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 7, true);
            assertNotNull(r.corruption);
            assertEquals(orphan, r.corruption.offset());
            assertTrue(r.corruption.getMessage().contains("found " + LogFormat.typeName(type)),
                    r.corruption.getMessage());
        }
    }

    @Test
    void shouldReportAnUnknownRecordTypeEvenWithAValidChecksum() throws IOException {
        RawLog raw = new RawLog(KIND_WAL, 7);
        long bad = raw.record(9, "future".getBytes());
        raw.record(LogFormat.TYPE_FULL, "later".getBytes());
        Path path = raw.writeTo(dir.resolve("type.log"));
        ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 7, true);
        assertNotNull(r.corruption);
        assertEquals(bad, r.corruption.offset());
        assertTrue(r.corruption.getMessage().contains("found 9"), r.corruption.getMessage());
    }

    // ------------------------------------------------------------------ file header

    private Path validLog(String name, int kind, long number) throws IOException {
        return LogTestSupport.writeLog(dir.resolve(name), kind, number,
                List.of("payload".getBytes())).path;
    }

    private static void assertHeaderCorruption(Path path, int kind, long number, String... expected)
            throws IOException {
        for (boolean tolerate : new boolean[] {true, false}) {
            ReadResult r = LogTestSupport.readAll(path, kind, number, tolerate);
            assertNotNull(r.corruption, "tolerate=" + tolerate);
            assertEquals(path.toString(), r.corruption.file());
            assertEquals(0, r.corruption.offset());
            assertEquals(0, r.records.size());
            for (String s : expected) {
                assertTrue(r.corruption.getMessage().contains(s), r.corruption.getMessage());
            }
        }
    }

    @Test
    void shouldRejectALogOfTheWrongKind() throws IOException {
        Path path = validLog("000030.log", KIND_MANIFEST, 30);
        assertHeaderCorruption(path, KIND_WAL, 30, "expected kind WAL (1), found MANIFEST (2)");
    }

    @Test
    void shouldRejectALogWithAnotherFileNumber() throws IOException {
        Path path = validLog("000031.log", KIND_WAL, 31);
        assertHeaderCorruption(path, KIND_WAL, 32, "expected file number 32, found 31");
    }

    @Test
    void shouldRejectAFileWithoutTheMagic() throws IOException {
        Path path = validLog("000033.log", KIND_WAL, 33);
        LogTestSupport.writeAt(path, 0, "PK".getBytes());
        assertHeaderCorruption(path, KIND_WAL, 33, "expected magic", "not a record log");
    }

    @Test
    void shouldRejectAHeaderWhoseChecksumDoesNotMatch() throws IOException {
        Path path = validLog("000034.log", KIND_WAL, 34);
        LogTestSupport.flipBit(path, LogFormat.HEADER_FILE_NUMBER_OFFSET + 2, 5);
        assertHeaderCorruption(path, KIND_WAL, 34, "expected file header checksum");
    }

    @Test
    void shouldRejectAnUnknownFormatVersionOrBlockSizeOrReservedBits() throws IOException {
        int[][] patches = {
            {LogFormat.HEADER_VERSION_OFFSET, LogFormat.FORMAT_VERSION + 1},
            {LogFormat.HEADER_RESERVED_OFFSET + 1, 1},
            {LogFormat.HEADER_BLOCK_SIZE_OFFSET + 2, 1},
        };
        String[] messages = {"expected format version in [1, 3], found 4", "reserved",
            "expected block size 32768, found 98304"};
        for (int i = 0; i < patches.length; i++) {
            Path path = validLog("00004" + i + ".log", KIND_WAL, 40);
            byte[] header = LogFormat.fileHeader(KIND_WAL, 40);
            header[patches[i][0]] = (byte) patches[i][1];
            Coding.putFixed32(header, LogFormat.HEADER_CHECKSUM_OFFSET, LogFormat.headerChecksum(header));
            LogTestSupport.writeAt(path, 0, header);
            assertHeaderCorruption(path, KIND_WAL, 40, messages[i]);
        }
    }

    @Test
    void shouldRejectAShortFileThatIsNotAPrefixOfTheHeader() throws IOException {
        Path path = dir.resolve("short.log");
        Files.write(path, "hello".getBytes());
        assertHeaderCorruption(path, KIND_WAL, 1, "found 5 bytes");
    }

    @Test
    void shouldRejectAZeroedHeaderFollowedByRecords() throws IOException {
        Path path = validLog("000050.log", KIND_WAL, 50);
        LogTestSupport.writeAt(path, 0, new byte[FILE_HEADER_SIZE]);
        assertHeaderCorruption(path, KIND_WAL, 50, "expected magic");
    }

    @Test
    void shouldRefuseToContinueAfterReportingCorruption() throws IOException {
        Path path = validLog("000060.log", KIND_WAL, 60);
        try (LogReader r = new LogReader(LocalFileSystem.INSTANCE.newReadableFile(path), KIND_WAL, 61,
                true)) {
            assertThrows(CorruptionException.class, r::readRecord);
            assertThrows(IllegalStateException.class, r::readRecord);
        }
    }
}
