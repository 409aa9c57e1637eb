package io.o3lsm.compaction;

import io.o3lsm.Compression;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Input tables for compaction tests, written with core's table builder, and what tables hold, read back. */
final class Tables {
    static final TableOptions OPTIONS = new TableOptions(4096, 16, Compression.NONE, 10);

    private Tables() {
    }

    static byte[] internalKey(String user, long sequence, int type) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(u.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(u).putLong(InternalKey.trailer(sequence, type));
        return b.array();
    }

    /**
     * Table {@code number} in {@code dir}: keys {@code key%05d} for i in [from, to) step {@code step},
     * sequence {@code seqBase + i}, value {@code tag-i}; every {@code deleteEvery}-th one (if > 0) a deletion.
     */
    static long write(Path dir, long number, int from, int to, int step, long seqBase, String tag, int deleteEvery)
            throws IOException {
        Files.createDirectories(dir);
        Path p = FlushJob.outputPath(dir, number);
        try (FileSystem.WritableFile f = FileSystem.local().newWritableFile(p)) {
            TableBuilder b = new TableBuilder(f, p.getFileName().toString(), OPTIONS);
            for (int i = from; i < to; i += step) {
                boolean del = deleteEvery > 0 && i % deleteEvery == 0;
                b.add(internalKey(String.format("key%05d", i), seqBase + i,
                        del ? InternalKey.TYPE_DELETION : InternalKey.TYPE_VALUE),
                        del ? new byte[0] : (tag + "-" + i).getBytes(StandardCharsets.UTF_8));
            }
            b.finish();
            f.sync();
        }
        return Files.size(p);
    }

    /** Two overlapping inputs in {@code db}: table 1 (level 1, newer) over table 2 (level 2, older). */
    static List<InputFile> twoInputs(Path db) throws IOException {
        long s2 = write(db, 2, 0, 3000, 1, 1, "old", 0);
        long s1 = write(db, 1, 1000, 2000, 1, 10_000, "new", 7);
        return List.of(new InputFile(1, 1, s1), new InputFile(2, 2, s2));
    }

    static CompactionRequest request(Path db, List<InputFile> inputs, long... outputs) {
        return new CompactionRequest(db, 1, inputs, 2, true, new long[0], outputs, 32 << 10, 4096, 16, Compression.NONE,
                10);
    }

    /** Every entry of table {@code number} of {@code dir}, as "user-key@sequence/type=value". */
    static List<String> entries(Path dir, long number) throws IOException {
        Path p = FlushJob.outputPath(dir, number);
        List<String> out = new ArrayList<>();
        try (TableReader r = TableReader.open(FileSystem.local().newReadableFile(p), p.toString(), number);
                InternalIterator it = r.iterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] k = new byte[it.key().capacity()];
                it.key().getBytes(0, k);
                byte[] v = new byte[it.value().capacity()];
                it.value().getBytes(0, v);
                long trailer = ByteBuffer.wrap(k, k.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                out.add(new String(k, 0, k.length - 8, StandardCharsets.UTF_8) + "@" + InternalKey.sequenceOf(trailer)
                        + "/" + InternalKey.typeOf(trailer) + "=" + new String(v, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** The compression table {@code number} of {@code dir} was written with. */
    static Compression compression(Path dir, long number) throws IOException {
        Path p = FlushJob.outputPath(dir, number);
        try (TableReader r = TableReader.open(FileSystem.local().newReadableFile(p), p.toString(), number)) {
            return r.properties().compression();
        }
    }
}
