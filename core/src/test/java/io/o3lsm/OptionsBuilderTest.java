package io.o3lsm;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Options}, {@link ReadOptions} and {@link WriteOptions} are all mutable builders: a setter
 * whose result is ignored still takes effect, {@code defaults()} is never a shared object, and the
 * engine takes what it needs when a call starts (Options: at open).
 */
class OptionsBuilderTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    /** Counts syncs of WAL files. */
    private static final class WalSyncCounter extends ForwardingFileSystem {
        final AtomicInteger walSyncs = new AtomicInteger();

        @Override
        protected WritableFile wrap(Path path, WritableFile file) {
            if (!path.getFileName().toString().endsWith(".log")) {
                return file;
            }
            return new ForwardingWritableFile(file) {
                @Override
                public void sync() throws IOException {
                    walSyncs.incrementAndGet();
                    super.sync();
                }
            };
        }
    }

    @Test
    void shouldSyncTheWalWhenTheSyncSetterResultIsIgnored() {
        WalSyncCounter fs = new WalSyncCounter();
        try (DB db = DB.open(dir, Options.defaults().fileSystem(fs))) {
            int before = fs.walSyncs.get();
            db.put(b("a"), b("1"), WriteOptions.defaults());
            assertEquals(before, fs.walSyncs.get(), "a default write does not sync (else this test proves nothing)");

            WriteOptions wo = WriteOptions.defaults();
            wo.sync(true); // result ignored
            db.put(b("b"), b("2"), wo);
            assertEquals(before + 1, fs.walSyncs.get(), "wo.sync(true) with its result ignored must still sync");

            WriteBatch batch = new WriteBatch().put(b("c"), b("3"));
            db.write(batch, wo);
            assertEquals(before + 2, fs.walSyncs.get());
        }
    }

    @Test
    void shouldSkipTheWalWhenTheDisableWalSetterResultIsIgnored() {
        WriteOptions wo = WriteOptions.defaults();
        wo.disableWal(true);
        wo.sync(true);
        try (DB db = DB.open(dir, Options.defaults())) {
            // the combination is refused, which proves both ignored calls took effect
            assertThrows(IllegalArgumentException.class, () -> db.put(b("k"), b("v"), wo));
        }
    }

    @Test
    void shouldReadAtTheSnapshotWhenTheSnapshotSetterResultIsIgnored() {
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put(b("k"), b("old"));
            try (Snapshot snap = db.snapshot()) {
                db.put(b("k"), b("new"));
                ReadOptions ro = ReadOptions.defaults();
                ro.snapshot(snap); // result ignored
                assertArrayEquals(b("old"), db.get(ro, b("k")));
                assertArrayEquals(b("old"), db.multiGet(ro, List.of(b("k"))).get(0));
                try (DBIterator it = db.iterator(ro)) {
                    it.seekToFirst();
                    assertArrayEquals(b("old"), it.value());
                }
            }
        }
    }

    @Test
    void shouldBoundTheIteratorWhenTheBoundSetterResultsAreIgnored() {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (String k : List.of("a", "b", "c", "d")) {
                db.put(b(k), b(k));
            }
            ReadOptions ro = ReadOptions.defaults();
            ro.lowerBound(b("b"));
            ro.upperBound(b("d"));
            assertEquals(List.of("b", "c"), keys(db, ro));
        }
    }

    @Test
    void shouldKeepAnIteratorsSettingsWhenItsReadOptionsChangeLater() {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (String k : List.of("a", "b", "c", "d")) {
                db.put(b(k), b(k));
            }
            ReadOptions ro = ReadOptions.defaults().upperBound(b("c"));
            try (DBIterator it = db.iterator(ro)) {
                ro.upperBound(null).lowerBound(b("c"));
                List<String> seen = new ArrayList<>();
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    seen.add(new String(it.key(), UTF_8));
                }
                assertEquals(List.of("a", "b"), seen);
            }
            assertEquals(List.of("c", "d"), keys(db, ro));
        }
    }

    @Test
    void shouldReturnANewObjectFromEveryDefaultsCall() {
        assertNotSame(WriteOptions.defaults(), WriteOptions.defaults());
        assertNotSame(ReadOptions.defaults(), ReadOptions.defaults());
        assertNotSame(Options.defaults(), Options.defaults());
        WriteOptions.defaults().sync(true);
        ReadOptions.defaults().fillCache(false).lowerBound(b("x"));
        Options.defaults().blockSize(1);
        assertFalse(WriteOptions.defaults().sync(), "changing one defaults() object must not change the next");
        assertTrue(ReadOptions.defaults().fillCache());
        assertNull(ReadOptions.defaults().lowerBound());
        assertEquals(4096, Options.defaults().blockSize());
    }

    @Test
    void shouldValidateOptionsAtOpenWhenTheSetterResultIsIgnored() {
        Options o = Options.defaults();
        o.blockSize(1); // result ignored
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DB.open(dir, o));
        assertTrue(e.getMessage().contains("blockSize"), e.getMessage());
        o.blockSize(8192);
        DB.open(dir, o).close();
    }

    @Test
    void shouldCopyEverySetting() throws Exception {
        Options o = Options.defaults().createIfMissing(false).errorIfExists(true).writeBufferSize(1 << 30)
                .shardBoundaries(List.of(b("m"))).shardArenaSize(1 << 20).targetFileSize(1 << 21).blockSize(8192)
                .blockRestartInterval(8).compression(Compression.NONE).bloomBitsPerKey(5).maxBackgroundFlushes(3)
                .fileSystem(new ForwardingFileSystem()).maxBackgroundCompactions(2).level0CompactionTrigger(3)
                .level0SlowdownTrigger(5).level0StopTrigger(7).maxBytesForLevelBase(1 << 22).levelSizeMultiplier(4)
                .blockCacheSize(123).maxOpenFiles(99).memoryNode("h:1", Path.of("s")).localMemoryBudget(1 << 25)
                .dmBudget(1 << 26).offloadInflightLimit(9).dmRequestTimeout(java.time.Duration.ofSeconds(9))
                .maxSubcompactions(3).compactionOffload(true).compactionOffloadDeadline(java.time.Duration.ofSeconds(7))
                .memtableOffload(false);
        assertSameFields(o, o.copy());
        WriteOptions wo = WriteOptions.defaults().sync(true).disableWal(true);
        assertSameFields(wo, wo.copy());
        try (DB db = DB.open(dir, Options.defaults()); Snapshot s = db.snapshot()) {
            ReadOptions ro = ReadOptions.defaults().snapshot(s).fillCache(false).verifyChecksums(false)
                    .lowerBound(b("a")).upperBound(b("z"));
            assertSameFields(ro, ro.copy());
        }
        // a copy is independent of its original
        Options c = o.copy();
        o.blockSize(4096);
        assertEquals(8192, c.blockSize());
    }

    private static void assertSameFields(Object a, Object copy) throws Exception {
        assertNotSame(a, copy);
        for (Field f : a.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            f.setAccessible(true);
            Object x = f.get(a);
            Object y = f.get(copy);
            if (x instanceof byte[] xb) {
                assertArrayEquals(xb, (byte[]) y, f.getName());
            } else if (x instanceof List<?> xl) {
                assertEquals(xl.size(), ((List<?>) y).size(), f.getName());
                for (int i = 0; i < xl.size(); i++) {
                    assertArrayEquals((byte[]) xl.get(i), (byte[]) ((List<?>) y).get(i), f.getName());
                }
            } else {
                assertEquals(x, y, f.getName() + " is not copied");
            }
        }
    }

    private static List<String> keys(DB db, ReadOptions ro) {
        List<String> out = new ArrayList<>();
        try (DBIterator it = db.iterator(ro)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(new String(it.key(), UTF_8));
            }
        }
        return out;
    }
}
