package io.o3lsm.dmfake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.DBIterator;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read-aware flush rule ({@code Options.dmReadFlushTrigger}): a range whose offloaded shards made
 * the memory node answer that many requests (delegated gets, scan batches) since its last flush is
 * flushed even though memory is not short; below the trigger, or with the rule off, the same reads
 * flush nothing.
 */
class ReadAwareFlushTest {
    @TempDir
    Path dir;

    @BeforeEach
    void reset() {
        FakeMemoryNode.reset();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String k(int i) {
        return String.format("%08x", i * 2654435761L & 0xffffffffL);
    }

    private Options options(int trigger) throws Exception {
        Path secret = dir.resolve("secret");
        Files.write(secret, b("s3cret"));
        // no read cache: every read of an offloaded shard is a delegated request
        return Options.defaults().shardCount(4).shardArenaSize(64 << 10).writeBufferSize(8 << 20)
                .memoryNode("127.0.0.1:1", secret).localMemoryBudget(5 * (64 << 10)).dmBudget(64L << 20)
                .targetFileSize(1 << 20).dmReadCacheBytes(0).dmReadFlushTrigger(trigger);
    }

    private static long field(DB d, String name) {
        return DmReadCacheTest.field(d, name);
    }

    private static long flushes(DB d) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("flushes by place: local (\\d+)").matcher(d.property("o3.stats"));
        assertTrue(m.find(), d.property("o3.stats"));
        return Long.parseLong(m.group(1));
    }

    /** Writes until some shards live only on the node and no flush is running; returns the keys written. */
    private static int fill(DB d) throws Exception {
        int n = 0;
        for (int round = 0; round < 50; round++) {
            while (n < 400000 && (n < 20000 || field(d, "remoteOnlyShards") == 0)) {
                d.put(b(k(n)), b("v" + n));
                n++;
            }
            ((DBImpl) d).waitForRunningFlushes();
            if (field(d, "remoteOnlyShards") > 0) {
                return n;
            }
        }
        throw new AssertionError("no shard stayed only on the node: " + d.property("o3.dm"));
    }

    @Test
    void shouldFlushARangeWhoseOffloadedShardsServeManyReads() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), options(200))) {
            int n = fill(d);
            long flushesBefore = flushes(d);
            long remoteOnly = field(d, "remoteOnlyShards");
            for (int i = 0; i < n && field(d, "remoteOnlyShards") == remoteOnly; i++) {
                assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
            }
            ((DBImpl) d).waitForRunningFlushes();
            assertTrue(flushes(d) > flushesBefore, "reads made a flush due: " + d.property("o3.stats"));
            assertTrue(field(d, "remoteOnlyShards") < remoteOnly, d.property("o3.dm"));
            for (int i = 0; i < n; i += 5) {
                assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
            }
            // scans count too: iterate until no shard is left only on the node
            for (int pass = 0; pass < 50 && field(d, "remoteOnlyShards") > 0; pass++) {
                try (DBIterator it = d.iterator()) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        it.key();
                    }
                }
                for (int i = 0; i < 400; i++) {
                    try (DBIterator it = d.iterator()) {
                        it.seek(b(k(i)));
                    }
                }
                ((DBImpl) d).waitForRunningFlushes();
            }
            assertEquals(0, field(d, "remoteOnlyShards"), d.property("o3.dm"));
        }
    }

    @Test
    void shouldNotFlushForReadsWithTheRuleOff() throws Exception {
        try (DB d = DB.open(dir.resolve("db"), options(0))) {
            int n = fill(d);
            long flushesBefore = flushes(d);
            long remoteOnly = field(d, "remoteOnlyShards");
            for (int pass = 0; pass < 3; pass++) {
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(b("v" + i), d.get(b(k(i))), k(i));
                }
            }
            ((DBImpl) d).waitForRunningFlushes();
            assertTrue(field(d, "delegatedGets") > 1000, d.property("o3.dm"));
            assertEquals(flushesBefore, flushes(d), d.property("o3.stats"));
            assertEquals(remoteOnly, field(d, "remoteOnlyShards"), d.property("o3.dm"));
        }
    }
}
