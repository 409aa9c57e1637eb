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
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.log.LogTestSupport.RawLog;
import io.o3lsm.format.log.LogTestSupport.ReadResult;
import io.o3lsm.format.log.LogTestSupport.Written;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a crash during an append leaves behind, and what the reader makes of it. */
class LogReaderTornTailTest {
    @TempDir
    Path dir;

    /**
     * Truncates a copy of {@code w} at every offset in {@code cuts} (highest first, on one file)
     * and checks that the tolerant reader returns exactly the records wholly before the cut, and
     * that the strict reader accepts exactly the cuts that fall on a record boundary.
     */
    private void checkTruncations(Written w, TreeSet<Long> cuts, int kind, long number,
            boolean checkStrict) throws IOException {
        Path copy = dir.resolve("cut-" + w.path.getFileName());
        Files.copy(w.path, copy);
        try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            for (long cut : cuts.descendingSet()) {
                ch.truncate(cut);
                String context = LogTestSupport.seedText() + " cut=" + cut;
                int whole = w.wholeRecordsBefore(cut);
                long validEnd = whole == 0 ? FILE_HEADER_SIZE : w.ends[whole - 1];

                ReadResult r = LogTestSupport.readAll(copy, kind, number, true);
                assertNull(r.corruption, () -> context + ": " + r.corruption);
                assertEquals(whole, r.records.size(), context);
                for (int i = 0; i < whole; i++) {
                    assertArrayEquals(w.records.get(i), r.records.get(i), context);
                }
                long expectedDropped = cut < FILE_HEADER_SIZE ? cut : cut - validEnd;
                assertEquals(expectedDropped, r.dropped, context + ": dropped bytes");

                if (checkStrict) {
                    ReadResult s = LogTestSupport.readAll(copy, kind, number, false);
                    boolean boundary = cut == validEnd;
                    if (boundary) {
                        assertNull(s.corruption, context);
                        assertEquals(whole, s.records.size(), context);
                    } else {
                        assertNotNull(s.corruption, context + ": strict reader accepted a torn tail");
                        assertEquals(copy.toString(), s.corruption.file());
                        assertEquals(whole, s.records.size(), context);
                        assertTrue(s.corruption.offset() >= validEnd || cut < FILE_HEADER_SIZE,
                                context + ": " + s.corruption);
                    }
                }
            }
        }
    }

    @Test
    void shouldRecoverRecordsWhollyBeforeACutAtEveryOffsetOfTheLastRecord() throws IOException {
        Random rnd = LogTestSupport.random(
                "shouldRecoverRecordsWhollyBeforeACutAtEveryOffsetOfTheLastRecord");
        List<byte[]> records = new ArrayList<>();
        long size = FILE_HEADER_SIZE;
        // small records up to ~3 KiB before the end of block 0 ...
        while (size < BLOCK_SIZE - 3000) {
            byte[] r = LogTestSupport.randomBytes(rnd, rnd.nextInt(600));
            records.add(r);
            size += RECORD_HEADER_SIZE + r.length;
        }
        // ... then a last record in three fragments: FIRST in block 0, MIDDLE, LAST in block 2
        records.add(LogTestSupport.randomBytes(rnd, 40_000));
        Written w = LogTestSupport.writeLog(dir.resolve("000005.log"), KIND_WAL, 5, records);
        TreeSet<Long> cuts = new TreeSet<>();
        for (long c = w.ends[records.size() - 2]; c <= w.size(); c++) {
            cuts.add(c);
        }
        checkTruncations(w, cuts, KIND_WAL, 5, false);

        // the strict reader on a sample of the same cuts
        TreeSet<Long> sample = new TreeSet<>();
        for (long c : cuts) {
            if (c % 211 == 0 || c % BLOCK_SIZE < 16 || BLOCK_SIZE - c % BLOCK_SIZE < 16
                    || w.size() - c < 16 || c - cuts.first() < 16) {
                sample.add(c);
            }
        }
        Written again = LogTestSupport.writeLog(dir.resolve("000006.log"), KIND_WAL, 6, records);
        checkTruncations(again, sample, KIND_WAL, 6, true);
    }

    @Test
    void shouldRecoverRecordsWhollyBeforeACutAtSampledOffsetsOfALargeLog() throws IOException {
        Random rnd = LogTestSupport.random("shouldRecoverRecordsWhollyBeforeACutAtSampledOffsetsOfALargeLog");
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            records.add(LogTestSupport.randomBytes(rnd,
                    rnd.nextBoolean() ? rnd.nextInt(2000) : rnd.nextInt(70_000)));
        }
        Written w = LogTestSupport.writeLog(dir.resolve("MANIFEST-000009"), KIND_MANIFEST, 9,
                records);
        TreeSet<Long> cuts = new TreeSet<>();
        for (long c = 0; c <= FILE_HEADER_SIZE + 8; c++) {
            cuts.add(c); // inside and right after the file header
        }
        for (int i = 0; i < records.size(); i++) {
            for (long d = -8; d <= 8; d++) {
                cuts.add(Math.max(0, Math.min(w.size(), w.ends[i] + d)));
            }
        }
        for (long b = BLOCK_SIZE; b < w.size(); b += BLOCK_SIZE) {
            for (long d = -8; d <= 8; d++) {
                cuts.add(Math.min(w.size(), b + d));
            }
        }
        for (int i = 0; i < 300; i++) {
            cuts.add((long) (rnd.nextDouble() * w.size()));
        }
        checkTruncations(w, cuts, KIND_MANIFEST, 9, true);
    }

    @Test
    void shouldTolerateAZeroFilledTailButNotInACompletedLog() throws IOException {
        for (int zeros : new int[] {1, 6, 7, 100, 3 * BLOCK_SIZE + 5}) {
            Written w = LogTestSupport.writeLog(dir.resolve(zeros + ".log"), KIND_WAL, 8,
                    List.of("alpha".getBytes(), new byte[50_000], "omega".getBytes()));
            LogTestSupport.append(w.path, new byte[zeros]);

            ReadResult r = LogTestSupport.readAll(w.path, KIND_WAL, 8, true);
            assertNull(r.corruption, () -> "zeros=" + zeros + ": " + r.corruption);
            assertEquals(3, r.records.size());
            assertArrayEquals("omega".getBytes(), r.records.get(2));
            assertEquals(zeros, r.dropped, "zeros=" + zeros);

            ReadResult s = LogTestSupport.readAll(w.path, KIND_WAL, 8, false);
            assertNotNull(s.corruption, "zeros=" + zeros);
            assertEquals(3, s.records.size());
            assertEquals(w.size(), s.corruption.offset(), s.corruption.getMessage());
            assertEquals(w.path.toString(), s.corruption.file());
        }
    }

    @Test
    void shouldTolerateAZeroFilledTailThatBeginsInsideBlockPadding() throws IOException {
        // the last record ends 3 bytes before the end of block 0
        int size = BLOCK_SIZE - 3 - FILE_HEADER_SIZE - RECORD_HEADER_SIZE;
        Written w = LogTestSupport.writeLog(dir.resolve("pad.log"), KIND_WAL, 1,
                List.of(new byte[size]));
        LogTestSupport.append(w.path, new byte[3 + 5000]);
        ReadResult r = LogTestSupport.readAll(w.path, KIND_WAL, 1, true);
        assertNull(r.corruption);
        assertEquals(1, r.records.size());
        assertEquals(3 + 5000, r.dropped);
    }

    @Test
    void shouldTreatAFileEndingInBlockPaddingAsATornTail() throws IOException {
        int size = BLOCK_SIZE - 3 - FILE_HEADER_SIZE - RECORD_HEADER_SIZE;
        Written w = LogTestSupport.writeLog(dir.resolve("pad.log"), KIND_WAL, 1,
                List.of(new byte[size]));
        LogTestSupport.append(w.path, new byte[3]); // padding written, next header not
        ReadResult r = LogTestSupport.readAll(w.path, KIND_WAL, 1, true);
        assertEquals(1, r.records.size());
        assertEquals(3, r.dropped);
        ReadResult s = LogTestSupport.readAll(w.path, KIND_WAL, 1, false);
        assertNotNull(s.corruption);
        assertEquals(BLOCK_SIZE - 3, s.corruption.offset());
    }

    @Test
    void shouldTolerateATailOfGarbageHoldingNoValidRecord() throws IOException {
        Random rnd = LogTestSupport.random("shouldTolerateATailOfGarbageHoldingNoValidRecord");
        Written w = LogTestSupport.writeLog(dir.resolve("garbage.log"), KIND_WAL, 2,
                List.of("one".getBytes(), "two".getBytes()));
        LogTestSupport.append(w.path, LogTestSupport.randomBytes(rnd, 40_000));
        ReadResult r = LogTestSupport.readAll(w.path, KIND_WAL, 2, true);
        assertNull(r.corruption, () -> LogTestSupport.seedText() + ": " + r.corruption);
        assertEquals(2, r.records.size());
        assertEquals(40_000, r.dropped);
        assertNotNull(LogTestSupport.readAll(w.path, KIND_WAL, 2, false).corruption);
    }

    @Test
    void shouldDropAFirstFragmentWithoutItsLastAtEndOfFile() throws IOException {
        RawLog raw = new RawLog(KIND_WAL, 4);
        raw.record(LogFormat.TYPE_FULL, "kept".getBytes());
        long first = raw.record(LogFormat.TYPE_FIRST, "begin".getBytes());
        raw.record(LogFormat.TYPE_MIDDLE, "more".getBytes());
        Path path = raw.writeTo(dir.resolve("first.log"));

        ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 4, true);
        assertNull(r.corruption);
        assertEquals(1, r.records.size());
        assertEquals(raw.position() - first, r.dropped);

        ReadResult s = LogTestSupport.readAll(path, KIND_WAL, 4, false);
        assertEquals(first, s.corruption.offset(), s.corruption.getMessage());
        assertTrue(s.corruption.getMessage().contains("found end of file"), s.corruption.getMessage());
    }

    @Test
    void shouldReadAnEmptyOrHalfCreatedFileAsAnEmptyLogOnlyWhenTolerating() throws IOException {
        byte[] header = LogFormat.fileHeader(KIND_WAL, 77);
        List<byte[]> shapes = List.of(new byte[0], new byte[10], new byte[FILE_HEADER_SIZE],
                new byte[3 * BLOCK_SIZE], Arrays.copyOf(header, 13),
                Arrays.copyOf(Arrays.copyOf(header, 13), 5000));
        for (int i = 0; i < shapes.size(); i++) {
            Path path = dir.resolve("shape" + i + ".log");
            Files.write(path, shapes.get(i));
            int n = shapes.get(i).length;

            ReadResult r = LogTestSupport.readAll(path, KIND_WAL, 77, true);
            assertNull(r.corruption, "shape " + i);
            assertEquals(0, r.records.size());
            assertEquals(n, r.dropped, "shape " + i);

            ReadResult s = LogTestSupport.readAll(path, KIND_WAL, 77, false);
            assertNotNull(s.corruption, "shape " + i);
            assertEquals(0, s.corruption.offset());
            assertEquals(path.toString(), s.corruption.file());
        }
    }

    @Test
    void shouldReadAHeaderOnlyFileAsAnEmptyLogEvenWhenStrict() throws IOException {
        Path path = dir.resolve("header.log");
        Files.write(path, LogFormat.fileHeader(KIND_MANIFEST, 3));
        for (boolean tolerate : new boolean[] {true, false}) {
            ReadResult r = LogTestSupport.readAll(path, KIND_MANIFEST, 3, tolerate);
            assertNull(r.corruption);
            assertEquals(0, r.records.size());
            assertEquals(0, r.dropped);
        }
    }
}
