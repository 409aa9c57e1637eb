package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review: with manualWalFlush a background flush of one range's sealed shards installs an SST holding
 * writes acknowledged AFTER writes of another range that are still only in the WAL's buffer. A process
 * crash then keeps the later writes and loses the earlier ones: the recovered state is not a prefix of
 * the acknowledged writes (the docs promise that only "the writes acknowledged since" the last flush
 * are lost). RocksDB flushes the WAL buffer when it switches memtables for this reason.
 */
class ManualWalFlushPrefixTest {
    @TempDir
    Path tmp;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Path crashCopy(Path dir) throws IOException {
        Path copy = tmp.resolve("crash");
        Files.createDirectories(copy);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, copy.resolve(p.getFileName()));
                }
            }
        }
        return copy;
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true}) // false: the control, passes
    void shouldRecoverAPrefixOfTheAcknowledgedWritesWhenAFlushInstallsBeforeTheWalIsFlushed(boolean manual) throws Exception {
        Path dir = tmp.resolve("db");
        Options o = Options.defaults().manualWalFlush(manual).shardCount(4).shardArenaSize(64 << 10)
                .writeBufferSize(1 << 20);
        String late = null;
        try (DBImpl db = (DBImpl) DB.open(dir, o)) {
            Engine e = db.engine();
            int ra = e.ranges.rangeOf(b("a"));
            assertNotEquals(ra, e.ranges.rangeOf(b("0early")));
            byte[] big = new byte[1000];
            int i = 0;
            // first generation of range A: sealed (a flush is due at two sealed shards)
            while (e.sv.sealed[ra].length < 1) {
                db.put(b(String.format("a%06d", i++)), big);
            }
            // second generation: fill until little room is left
            while (e.sv.active[ra].shard.remainingBytes() > 6000) {
                db.put(b(String.format("a%06d", i++)), big);
            }
            db.flushWal(false); // the buffer is empty now
            db.put(b("0early"), b("v")); // range 0, stays in the WAL buffer
            int sealedBefore = e.sv.sealed[ra].length;
            while (e.sv.sealed[ra].length == sealedBefore && e.sv.sealed[ra].length != 0) {
                String k = String.format("a%06d", i++);
                db.put(b(k), new byte[100]);
                if (e.sv.sealed[ra].length == sealedBefore) {
                    late = k; // still in the shard that is about to be sealed
                }
            }
            assertNotNull(late, "at least one write of range A after 0early went into the sealed shard");
            // no more writes: the roll (which would sync the WAL) does not happen; the flush runs
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (db.property("o3.num-files-at-level0").equals("0") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertNotEquals("0", db.property("o3.num-files-at-level0"), "range A's shards were flushed");
            Thread.sleep(200); // let the flush's obsolete-file handling finish
            Path copy = crashCopy(dir);
            try (DB c = DB.open(copy, Options.defaults())) {
                boolean lateThere = c.get(b(late)) != null;
                boolean earlyThere = c.get(b("0early")) != null;
                assertTrue(!lateThere || earlyThere, "after a crash " + late + " (acknowledged after 0early) "
                        + "survived but 0early was lost: lateThere=" + lateThere + " earlyThere=" + earlyThere);
            }
        }
    }
}
