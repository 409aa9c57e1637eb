package io.o3lsm.flush;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.Compression;
import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker whose JOB_DONE goes unanswered within its timeout (the memory node paused with SIGSTOP
 * just then) keeps its outputs: the node may have taken the result and handed it to the owner, who
 * installs the files. (The first version of the worker deleted them on any failed report.)
 */
@org.junit.jupiter.api.Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FlushWorkerReportProcessTest {
    private static final String SECRET = "review-secret-0123456789";

    @TempDir
    Path dir;

    @Test
    void shouldKeepItsOutputsWhenItsReportTimesOutButTheNodeTookIt() throws Exception {
        Path secret = MemNodeProcess.secret(dir, "secret", SECRET);
        Path storage = Files.createDirectories(dir.resolve("shared"));
        Path dbDir = Files.createDirectories(storage.resolve("db"));
        List<String> log = new CopyOnWriteArrayList<>();
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "64m", secret).start();
                DmClient owner = DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port,
                        SECRET.getBytes(StandardCharsets.UTF_8), "db-review", 1, 0, 4, Duration.ofSeconds(30)))) {
            AtomicBoolean stopped = new AtomicBoolean();
            // the node pauses (GC, CPU starvation, SIGSTOP here) just as the worker reports: 3 s > the worker's 1 s timeout
            ForwardingFileSystem fs = new ForwardingFileSystem() {
                @Override
                public ReadableFile newReadableFile(Path path) throws IOException {
                    if (path.toString().endsWith(".sst") && stopped.compareAndSet(false, true)) {
                        signal("-STOP", node.pid());
                        Thread t = new Thread(() -> {
                            try {
                                Thread.sleep(3000);
                                signal("-CONT", node.pid());
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                        });
                        t.start();
                    }
                    return super.newReadableFile(path);
                }
            };
            MemtableShard s = MemtableShard.allocate(0, 256 << 10);
            byte[] v = new byte[100];
            for (int i = 0; i < 500; i++) {
                byte[] k = String.format("key%05d", i).getBytes(StandardCharsets.UTF_8);
                assertTrue(s.add(i + 1, InternalKey.TYPE_VALUE, k, 0, k.length, v, 0, v.length));
            }
            s.seal();
            MemoryNode.RemoteShard rs = owner.offload(s.buffer().byteBuffer(), s.usedBytes(), s.reader().checksum(),
                    s.shardId(), s.minSequence(), s.maxSequence()).get(30, TimeUnit.SECONDS);
            try (FlushWorker w = new FlushWorker("127.0.0.1:" + node.port, SECRET.getBytes(StandardCharsets.UTF_8),
                    "w-review", storage, fs, 1, Duration.ofSeconds(1), log::add)) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!node.output().contains("worker w-review registered") && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                assertTrue(node.output().contains("worker w-review registered"), node.output());
                FlushExecutor.FlushRequest req = new FlushExecutor.FlushRequest(dbDir, 1, 1, 1, 0, List.of(rs), List.of(),
                        new long[] {1000}, new long[] {1001, 1002, 1003}, 4 << 20, 4096, 16, Compression.NONE, 10,
                        FlushExecutor.Placement.ALWAYS, 0, rs.length(), Duration.ofSeconds(60));
                MemoryNode.JobOutcome o = owner.submitJob(new MemoryNode.JobSubmit(MemoryNode.JOB_KIND_FLUSH, 1, 1,
                        List.of(rs), FlushSpec.encode(req), true, 0, rs.length(), Duration.ofSeconds(60)));
                assertTrue(o.placed(), "the node took the worker's result and handed it to the owner: " + log);
                assertTrue(log.stream().anyMatch(l -> l.contains("result report failed")), String.valueOf(log));
                FlushSpec.Report rep = FlushSpec.decodeReport(o.result());
                for (FlushExecutor.FlushedFile f : rep.files()) {
                    Path p = io.o3lsm.job.FlushJob.outputPath(dbDir, f.file().number());
                    assertTrue(Files.exists(p), "the worker deleted output " + p + " the owner was handed");
                }
                assertFalse(rep.files().isEmpty());
            }
        }
    }

    private static void signal(String sig, long pid) throws IOException {
        try {
            new ProcessBuilder("kill", sig, Long.toString(pid)).inheritIO().start().waitFor();
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }
}
