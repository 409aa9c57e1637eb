package io.o3lsm.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exclusive creation of outputs (what a flush worker uses so a zombie never overwrites a file). */
class FlushJobExclusiveTest {
    @TempDir
    Path dir;

    private static MemtableShard shard() {
        MemtableShard s = MemtableShard.allocate(1, 1 << 16);
        for (int i = 0; i < 100; i++) {
            byte[] k = String.format("k%04d", i).getBytes(StandardCharsets.UTF_8);
            byte[] v = ("v" + i).getBytes(StandardCharsets.UTF_8);
            assertTrue(s.add(i + 1, InternalKey.TYPE_VALUE, k, 0, k.length, v, 0, v.length));
        }
        s.seal();
        return s;
    }

    @Test
    void shouldRefuseToCreateAnExistingFileExclusively() throws Exception {
        Path p = dir.resolve("x");
        Files.write(p, new byte[] {1, 2, 3});
        assertThrows(FileAlreadyExistsException.class, () -> FileSystem.local().newWritableFileExclusive(p));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(p), "the existing file is untouched");
        Path q = dir.resolve("y");
        try (FileSystem.WritableFile f = FileSystem.local().newWritableFileExclusive(q)) {
            f.append(new byte[] {9}, 0, 1);
        }
        assertArrayEquals(new byte[] {9}, Files.readAllBytes(q));
    }

    @Test
    void shouldFailAnExclusiveJobWhoseOutputExistsAndLeaveThatFileAlone() throws Exception {
        Path taken = dir.resolve(FileNames.table(7));
        Files.write(taken, new byte[] {42});
        FlushJob job = new FlushJob(FileSystem.local(), dir, TableOptions.DEFAULT, 1 << 20,
                FlushJob.fileNumbers(new long[] {7, 8}), List.of(), true, () -> false);
        assertThrows(FileAlreadyExistsException.class, () -> job.run(List.of(shard().reader().iterator()),
                new long[] {1000}));
        job.abandon();
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(taken), "another attempt's file is not deleted");
    }

    @Test
    void shouldWriteOutputsUnderTheGivenNumbersWhenCreatingExclusively() throws Exception {
        FlushJob job = new FlushJob(FileSystem.local(), dir, TableOptions.DEFAULT, 1 << 20,
                FlushJob.fileNumbers(new long[] {11, 12}), List.of(), true, () -> false);
        List<OutputFile> out = job.run(List.of(shard().reader().iterator()), new long[] {1000});
        assertEquals(1, out.size());
        assertEquals(11, out.get(0).number());
        assertEquals(Files.size(dir.resolve(FileNames.table(11))), out.get(0).size());
        assertEquals(out.get(0).size(), job.bytesWritten());
    }

    @Test
    void shouldFailWhenTheJobRunsOutOfItsPreAllocatedNumbers() {
        java.util.function.LongSupplier numbers = FlushJob.fileNumbers(new long[] {5});
        assertEquals(5, numbers.getAsLong());
        assertThrows(IllegalStateException.class, numbers::getAsLong);
    }
}
