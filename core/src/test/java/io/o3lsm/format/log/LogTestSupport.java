package io.o3lsm.format.log;

import static io.o3lsm.format.log.LogFormat.BLOCK_SIZE;
import static io.o3lsm.format.log.LogFormat.FILE_HEADER_SIZE;
import static io.o3lsm.format.log.LogFormat.RECORD_HEADER_SIZE;

import io.o3lsm.CorruptionException;
import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.internal.util.Coding;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

/** Helpers shared by the record log tests: seeds, writing and reading logs, damaging files. */
final class LogTestSupport {
    private LogTestSupport() {
    }

    /** From {@code -Dtests.seed=…} (decimal or 0x-hex), else random; printed by every user. */
    static final long SEED = initialSeed();

    private static long initialSeed() {
        String s = System.getProperty("tests.seed");
        if (s == null || s.isBlank()) {
            return new Random().nextLong();
        }
        s = s.trim();
        if (s.startsWith("0x") || s.startsWith("0X")) {
            return Long.parseUnsignedLong(s.substring(2), 16);
        }
        return Long.parseLong(s);
    }

    static String seedText() {
        return String.format("tests.seed=0x%x", SEED);
    }

    /** A generator for one test, derived from {@link #SEED} and the test's name; prints the seed. */
    static Random random(String testName) {
        System.out.println(testName + ": " + seedText() + " (rerun with -D" + seedText() + ")");
        return new Random(SEED ^ testName.hashCode());
    }

    static byte[] randomBytes(Random rnd, int length) {
        byte[] b = new byte[length];
        rnd.nextBytes(b);
        return b;
    }

    /** A log as written: its records and where each begins (first fragment) and ends. */
    static final class Written {
        final Path path;
        final List<byte[]> records;
        final long[] starts;
        final long[] ends;

        Written(Path path, List<byte[]> records, long[] starts, long[] ends) {
            this.path = path;
            this.records = records;
            this.starts = starts;
            this.ends = ends;
        }

        long size() {
            return ends.length == 0 ? FILE_HEADER_SIZE : ends[ends.length - 1];
        }

        /** Number of records that end at or before {@code offset}. */
        int wholeRecordsBefore(long offset) {
            int n = 0;
            while (n < ends.length && ends[n] <= offset) {
                n++;
            }
            return n;
        }
    }

    static Written writeLog(Path path, int kind, long fileNumber, List<byte[]> records)
            throws IOException {
        long[] starts = new long[records.size()];
        long[] ends = new long[records.size()];
        try (LogWriter w = new LogWriter(LocalFileSystem.INSTANCE.newWritableFile(path), kind,
                fileNumber)) {
            for (int i = 0; i < records.size(); i++) {
                long s = w.size();
                int left = BLOCK_SIZE - (int) (s % BLOCK_SIZE);
                starts[i] = left < RECORD_HEADER_SIZE ? s + left : s;
                byte[] r = records.get(i);
                w.addRecord(r, 0, r.length);
                ends[i] = w.size();
            }
            w.sync();
        }
        return new Written(path, records, starts, ends);
    }

    /** What reading a whole log gave: the records, their offsets, and how it ended. */
    static final class ReadResult {
        final List<byte[]> records = new ArrayList<>();
        final List<Long> offsets = new ArrayList<>();
        long dropped;
        CorruptionException corruption;
    }

    /** Reads every record; a {@link CorruptionException} ends the result instead of escaping. */
    static ReadResult readAll(Path path, int kind, long fileNumber, boolean tolerate)
            throws IOException {
        ReadResult result = new ReadResult();
        try (LogReader r = new LogReader(LocalFileSystem.INSTANCE.newReadableFile(path), kind,
                fileNumber, tolerate)) {
            try {
                byte[] rec;
                while ((rec = r.readRecord()) != null) {
                    result.records.add(rec);
                    result.offsets.add(r.lastRecordOffset());
                }
                result.dropped = r.droppedTailBytes();
                if (r.readRecord() != null) {
                    throw new AssertionError("a record after the end");
                }
            } catch (CorruptionException e) {
                result.corruption = e;
            }
        }
        return result;
    }

    /** A physical record found by walking a well-formed log (independent of LogReader). */
    static final class Physical {
        final long offset;
        final int length;
        final int type;

        Physical(long offset, int length, int type) {
            this.offset = offset;
            this.length = length;
            this.type = type;
        }

        long end() {
            return offset + RECORD_HEADER_SIZE + length;
        }
    }

    static List<Physical> physicalRecords(byte[] log) {
        List<Physical> out = new ArrayList<>();
        long pos = FILE_HEADER_SIZE;
        while (pos < log.length) {
            int left = BLOCK_SIZE - (int) (pos % BLOCK_SIZE);
            if (left < RECORD_HEADER_SIZE) {
                pos += left;
                continue;
            }
            int p = (int) pos;
            int length = (log[p + 4] & 0xFF) | (log[p + 5] & 0xFF) << 8;
            out.add(new Physical(pos, length, log[p + 6] & 0xFF));
            pos += RECORD_HEADER_SIZE + length;
        }
        return out;
    }

    static void flipBit(Path path, long offset, int bit) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ (1 << bit)));
            b.rewind();
            ch.write(b, offset);
        }
    }

    static void writeAt(Path path, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    static void append(Path path, byte[] bytes) throws IOException {
        Files.write(path, bytes, StandardOpenOption.APPEND);
    }

    /**
     * Builds log files by hand, physical record by physical record, padding block tails the way
     * {@link LogWriter} does; for shapes the writer never produces.
     */
    static final class RawLog {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CRC32C crc = new CRC32C();

        RawLog(int kind, long fileNumber) {
            out.writeBytes(LogFormat.fileHeader(kind, fileNumber));
        }

        long position() {
            return out.size();
        }

        /** Pads to the next block if the rest of this one cannot hold a header; returns offset. */
        long align() {
            int left = BLOCK_SIZE - out.size() % BLOCK_SIZE;
            if (left < RECORD_HEADER_SIZE) {
                out.writeBytes(new byte[left]);
            }
            return out.size();
        }

        /** A correctly checksummed physical record; returns its offset. */
        long record(int type, byte[] payload) {
            return record(type, payload, payload.length,
                    LogFormat.recordChecksum(crc, type, payload, 0, payload.length));
        }

        /** A physical record with the given length field and checksum; returns its offset. */
        long record(int type, byte[] payload, int lengthField, int checksum) {
            long at = align();
            byte[] h = new byte[RECORD_HEADER_SIZE];
            Coding.putFixed32(h, 0, checksum);
            h[4] = (byte) lengthField;
            h[5] = (byte) (lengthField >>> 8);
            h[6] = (byte) type;
            out.writeBytes(h);
            out.writeBytes(payload);
            return at;
        }

        void raw(byte[] bytes) {
            out.writeBytes(bytes);
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        Path writeTo(Path path) throws IOException {
            Files.write(path, out.toByteArray());
            return path;
        }
    }
}
