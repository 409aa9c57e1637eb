package io.o3lsm.bench.jmh;

import io.o3lsm.bench.FileTrees;
import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.log.LogFormat;
import io.o3lsm.format.log.LogWriter;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * WAL append ({@link LogWriter#addRecord}: framing, CRC32C, buffered file append) of one record of
 * {@code recordSize} bytes, optionally followed by {@code flush()} (a write system call: what a
 * group commit without sync pays). No fsync: that measures the disk, not the code. The log is
 * rolled to a fresh file every 64 MiB so the benchmark does not fill the disk.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {JmhSupport.ADD_EXPORTS, "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WalAppendBench {
    @Param({"128", "4096", "65536"})
    int recordSize;

    @Param({"false", "true"})
    boolean flushEach;

    private static final long ROLL_BYTES = 64L << 20;

    private Path dir;
    private LogWriter log;
    private byte[] record;
    private long fileNumber;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        FormatAccess.ensure();
        dir = JmhSupport.tempDir("o3-jmh-wal-");
        record = JmhSupport.value(recordSize, 5);
        roll();
    }

    private void roll() throws IOException {
        if (log != null) {
            log.close();
            Files.deleteIfExists(dir.resolve(fileNumber + ".log"));
        }
        fileNumber++;
        FileSystem.WritableFile f = FileSystem.local().newWritableFile(dir.resolve(fileNumber + ".log"));
        log = new LogWriter(f, LogFormat.KIND_WAL, fileNumber);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        log.close();
        FileTrees.delete(dir, "jmh");
    }

    @Benchmark
    public long append() throws IOException {
        log.addRecord(record, 0, record.length);
        if (flushEach) {
            log.flush();
        }
        if (log.size() > ROLL_BYTES) {
            roll();
        }
        return log.size();
    }
}
