package io.o3lsm.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.MemNodeProcess;
import io.o3lsm.dm.client.DmClient;
import io.o3lsm.format.Crc32c;
import io.o3lsm.job.CompactionJob;
import io.o3lsm.job.FlushJob;
import io.o3lsm.spi.CompactionExecutor.CompactionRequest;
import io.o3lsm.spi.CompactionExecutor.CompactionResult;
import io.o3lsm.spi.CompactionExecutor.InputFile;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.CompactionOffloadExecutor.CompactedFile;
import io.o3lsm.spi.CompactionOffloadExecutor.Done;
import io.o3lsm.spi.CompactionOffloadExecutor.Local;
import io.o3lsm.spi.CompactionOffloadExecutor.OffloadRequest;
import io.o3lsm.spi.CompactionOffloadExecutor.Outcome;
import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.MemoryNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction offloading end to end with real processes: a memory node, compactor daemons
 * ({@code bin/o3 compactor}'s main class), and this JVM as the owner submitting through the
 * executor the {@link ServiceLoader} finds. The outputs are checked as the owner would: sizes,
 * CRC32C, readable tables, and the same entries a local compaction of the same inputs writes.
 */
@Tag("dm")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompactionOffloadProcessTest {
    static final String SECRET = "compaction-offload-secret-0123456789";

    @TempDir
    Path dir;

    static io.o3lsm.spi.CompactionOffloadExecutor executor(MemoryNode.Client client) {
        // this module's provider, registered with ServiceLoader (core's test jar on the class path
        // registers an in-process fake too, which this module's own comes before)
        List<io.o3lsm.spi.CompactionOffloadExecutor.Provider> found = new ArrayList<>();
        ServiceLoader.load(io.o3lsm.spi.CompactionOffloadExecutor.Provider.class).forEach(found::add);
        assertTrue(!found.isEmpty(), "no provider registered");
        assertInstanceOf(CompactionOffloadExecutor.Provider.class, found.get(0),
                "this module's provider comes first (the one DB.open picks): " + found);
        return found.get(0).create(client);
    }

    static DmClient owner(MemNodeProcess node, String dbId) throws Exception {
        return DmClient.connect(new MemoryNode.Config("127.0.0.1:" + node.port, SECRET.getBytes(StandardCharsets.UTF_8),
                dbId, 1, 0, 4, Duration.ofSeconds(30)));
    }

    /** What the owner checks before installing: each file as reported, CRC32C of its bytes, a readable table. */
    static List<String> checkedEntries(Path db, Done done) throws Exception {
        List<String> all = new ArrayList<>();
        for (CompactedFile f : done.outputs()) {
            Path p = FlushJob.outputPath(db, f.file().number());
            assertEquals(Files.size(p), f.file().size(), p + " size as reported");
            try (FileSystem.ReadableFile rf = FileSystem.local().newReadableFile(p)) {
                assertEquals(Crc32c.ofFile(rf), f.crc32c(), p + " CRC32C as reported");
            }
            List<String> e = Tables.entries(db, f.file().number());
            assertTrue(!e.isEmpty(), p + " holds entries");
            all.addAll(e);
        }
        return all;
    }

    static List<String> localEntries(Path db, CompactionRequest req) throws Exception {
        CompactionResult r = new CompactionJob(FileSystem.local()).execute(req);
        List<String> all = new ArrayList<>();
        for (OutputFile f : r.outputs()) {
            all.addAll(Tables.entries(db, f.number()));
        }
        return all;
    }

    @Test
    void shouldRunACompactionOnACompactorProcessWithOutputsMatchingALocalCompaction() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path db = shared.resolve("db");
        List<InputFile> inputs = Tables.twoInputs(db);
        Path secret = MemNodeProcess.secret(dir, "secret", SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess c = new CompactorProcess(dir, "compactor-a", node.port, secret,
                        shared.toUri().toString(), "--slots", "2").start();
                DmClient client = owner(node, "db-offload");
                io.o3lsm.spi.CompactionOffloadExecutor ex = executor(client)) {
            long[] numbers = {10, 11, 12, 13, 14, 15, 16, 17};
            Outcome o = ex.execute(new OffloadRequest(Tables.request(db, inputs, numbers), 1, 1, 1, 2.5,
                    Duration.ofSeconds(60)));
            Done done = assertInstanceOf(Done.class, o, String.valueOf(o));
            assertEquals("compactor-a", done.compactor());
            assertTrue(done.outputs().size() >= 2, "cut near the 32 KiB target: " + done.outputs().size() + " file(s)");
            for (int i = 0; i < done.outputs().size(); i++) {
                assertEquals(numbers[i], done.outputs().get(i).file().number(), "output numbers in order");
            }
            long inputBytes = inputs.get(0).size() + inputs.get(1).size();
            assertEquals(inputBytes, done.bytesRead());
            List<String> remote = checkedEntries(db, done);
            List<String> local = localEntries(db, Tables.request(db, inputs, 100, 101, 102, 103, 104, 105, 106, 107));
            assertEquals(local, remote, "the compactor wrote what a local compaction writes");
            assertTrue(remote.contains("key01500@11500/1=new-1500") && remote.contains("key00500@501/1=old-500"),
                    "newer values win, older keys stay");
            assertTrue(c.awaitLog("compaction 1/1 of DB db-offload (handle"), c.output());
            assertTrue(c.awaitLog(" done: 2 input(s)"), c.output());
        }
    }

    @Test
    void shouldRunLocallyWhenNoCompactorIsRegistered() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path db = shared.resolve("db");
        List<InputFile> inputs = Tables.twoInputs(db);
        Path secret = MemNodeProcess.secret(dir, "secret", SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                DmClient client = owner(node, "db-alone");
                io.o3lsm.spi.CompactionOffloadExecutor ex = executor(client)) {
            Outcome o = ex.execute(new OffloadRequest(Tables.request(db, inputs, 10), 1, 1, 0, 1,
                    Duration.ofSeconds(30)));
            assertEquals(new Local("no compactors registered"), o);
            assertTrue(!Files.exists(FlushJob.outputPath(db, 10)), "nothing written");
        }
    }

    @Test
    void shouldRefuseAJobWhoseDirectoryLiesOutsideTheCompactorsStorageRoot() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path elsewhere = dir.resolve("elsewhere");
        List<InputFile> inputs = Tables.twoInputs(elsewhere);
        Path secret = MemNodeProcess.secret(dir, "secret", SECRET);
        try (MemNodeProcess node = new MemNodeProcess(dir, MemNodeProcess.freePort(), "16m", secret).start();
                CompactorProcess c = new CompactorProcess(dir, "compactor-root", node.port, secret,
                        shared.toString()).start();
                DmClient client = owner(node, "db-outside");
                io.o3lsm.spi.CompactionOffloadExecutor ex = executor(client)) {
            // also through a path that only looks inside: shared/../elsewhere
            for (Path named : List.of(elsewhere, shared.resolve("../elsewhere"))) {
                java.io.IOException e = assertThrows(java.io.IOException.class, () -> ex.execute(
                        new OffloadRequest(Tables.request(named, inputs, 10), 1, 1, 0, 1, Duration.ofSeconds(30))));
                assertTrue(e.getMessage().contains("is not under this compactor's storage root"), e.getMessage());
            }
            assertTrue(!Files.exists(FlushJob.outputPath(elsewhere, 10)), "nothing written outside the root");
        }
    }
}
