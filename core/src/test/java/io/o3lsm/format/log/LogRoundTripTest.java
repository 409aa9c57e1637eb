package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.BLOCK_SIZE;
import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.KIND_MANIFEST;
import static io.o3lsm.format.log.LogFormat.KIND_WAL;
import static io.o3lsm.format.log.LogFormat.MAX_FRAGMENT_LENGTH;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.o3lsm.format.log.LogTestSupport.Physical;
import io.o3lsm.format.log.LogTestSupport.ReadResult;
import io.o3lsm.format.log.LogTestSupport.Written;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogRoundTripTest {
    @TempDir
    Path dir;

    private static void assertReadsBack(Written w, ReadResult r, String context) {
        assertNull(r.corruption, () -> context + ": unexpected " + r.corruption);
        assertEquals(w.records.size(), r.records.size(), context + ": record count");
        for (int i = 0; i < w.records.size(); i++) {
            int n = i;
            assertArrayEquals(w.records.get(i), r.records.get(i), () -> context + ": record " + n);
            assertEquals(w.starts[i], (long) r.offsets.get(i), () -> context + ": offset of " + n);
        }
        assertEquals(0, r.dropped, context + ": dropped tail bytes");
    }

    @Test
    void shouldRoundTripManyRecordsOfRandomSizesSpanningBlocks() throws IOException {
        Random rnd = LogTestSupport.random("shouldRoundTripManyRecordsOfRandomSizesSpanningBlocks");
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            int size;
            switch (rnd.nextInt(4)) {
                case 0:
                    size = rnd.nextInt(100);
                    break;
                case 1:
                    size = MAX_FRAGMENT_LENGTH - 16 + rnd.nextInt(32); // around one block
                    break;
                default:
                    size = rnd.nextInt(200 * 1024 + 1);
            }
            records.add(LogTestSupport.randomBytes(rnd, size));
        }
        Written w = LogTestSupport.writeLog(dir.resolve("000012.log"), KIND_WAL, 12, records);
        assertEquals(w.size(), Files.size(w.path));
        for (boolean tolerate : new boolean[] {true, false}) {
            assertReadsBack(w, LogTestSupport.readAll(w.path, KIND_WAL, 12, tolerate),
                    LogTestSupport.seedText() + " tolerate=" + tolerate);
        }
    }

    @Test
    void shouldRoundTripEmptyRecordsAndAnEmptyLog() throws IOException {
        Written none = LogTestSupport.writeLog(dir.resolve("MANIFEST-000001"), KIND_MANIFEST, 1,
                List.of());
        assertEquals(FILE_HEADER_SIZE, Files.size(none.path));
        assertReadsBack(none, LogTestSupport.readAll(none.path, KIND_MANIFEST, 1, false), "empty log");

        Written empties = LogTestSupport.writeLog(dir.resolve("MANIFEST-000002"), KIND_MANIFEST, 2,
                List.of(new byte[0], new byte[] {42}, new byte[0]));
        assertEquals(FILE_HEADER_SIZE + 3 * RECORD_HEADER_SIZE + 1, Files.size(empties.path));
        assertReadsBack(empties, LogTestSupport.readAll(empties.path, KIND_MANIFEST, 2, false),
                "empty records");
    }

    /**
     * A record ending {@code tail} bytes before a block boundary: 0 leaves nothing, 1..6 leave a
     * tail too short for a header (zero padding), 7 leaves room for a header and no payload (the
     * next record starts there with an empty FIRST fragment).
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8})
    void shouldPadBlockTailsShorterThanAHeaderAndRoundTrip(int tail) throws IOException {
        for (int blocks = 1; blocks <= 2; blocks++) {
            int firstSize = blocks * BLOCK_SIZE - tail - FILE_HEADER_SIZE
                    - blocks * RECORD_HEADER_SIZE;
            List<byte[]> records = List.of(filled(firstSize, 1), filled(100, 2), new byte[0],
                    filled(MAX_FRAGMENT_LENGTH, 3));
            Path path = dir.resolve("tail" + tail + "-" + blocks + ".log");
            Written w = LogTestSupport.writeLog(path, KIND_WAL, 3, records);
            long boundary = (long) blocks * BLOCK_SIZE;
            assertEquals(boundary - tail, w.ends[0], "first record ends " + tail + " before block end");

            byte[] file = Files.readAllBytes(path);
            if (tail < RECORD_HEADER_SIZE) {
                for (long i = boundary - tail; i < boundary; i++) {
                    assertEquals(0, file[(int) i], "padding byte at " + i);
                }
                assertEquals(boundary, w.starts[1], "second record starts the next block");
            } else {
                assertEquals(boundary - tail, w.starts[1], "second record starts in the tail");
            }
            List<Physical> physical = LogTestSupport.physicalRecords(file);
            if (tail == RECORD_HEADER_SIZE) {
                assertEquals(LogFormat.TYPE_FIRST, physical.get(blocks).type);
                assertEquals(0, physical.get(blocks).length);
            }
            // the last record exactly fills a whole block of its own or spans two
            assertReadsBack(w, LogTestSupport.readAll(path, KIND_WAL, 3, false), "tail=" + tail);
        }
    }

    @Test
    void shouldWriteARecordFillingAWholeBlockAsOneFullFragment() throws IOException {
        // first fill block 0 exactly, then a record of exactly one block's capacity
        List<byte[]> records = List.of(
                filled(BLOCK_SIZE - FILE_HEADER_SIZE - RECORD_HEADER_SIZE, 7),
                filled(MAX_FRAGMENT_LENGTH, 8), filled(MAX_FRAGMENT_LENGTH + 1, 9));
        Written w = LogTestSupport.writeLog(dir.resolve("full.log"), KIND_WAL, 4, records);
        List<Physical> physical = LogTestSupport.physicalRecords(Files.readAllBytes(w.path));
        assertEquals(4, physical.size());
        assertEquals(LogFormat.TYPE_FULL, physical.get(0).type);
        assertEquals(LogFormat.TYPE_FULL, physical.get(1).type);
        assertEquals(BLOCK_SIZE, physical.get(1).offset);
        assertEquals(2L * BLOCK_SIZE, physical.get(1).end());
        assertEquals(LogFormat.TYPE_FIRST, physical.get(2).type);
        assertEquals(LogFormat.TYPE_LAST, physical.get(3).type);
        assertEquals(1, physical.get(3).length);
        assertReadsBack(w, LogTestSupport.readAll(w.path, KIND_WAL, 4, false), "whole blocks");
    }

    private static byte[] filled(int size, int value) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (value + i * 31);
        }
        return b;
    }
}
