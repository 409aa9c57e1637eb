package io.o3lsm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The comparison adapters behave as the runner assumes: arrays are reused by the caller after
 * every call, gets copy into the caller's buffer, cursors iterate in key order.
 */
class EngineAdapterTest {
    private static byte[] key(int i) {
        return String.format("key%05d", i).getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "leveldb"})
    void shouldPutGetDeleteAndIterateWithReusedArrays(String engine, @TempDir Path dir) {
        try (EngineAdapter db = Bench.ENGINES.get(engine).get()) {
            db.open(dir.resolve("db"), EngineAdapter.Settings.defaults());
            assertEquals(engine, db.name());
            assertTrue(db.describe().contains("write"), db.describe());
            byte[] k = new byte[8];
            byte[] v = new byte[4];
            for (int i = 0; i < 1000; i++) {
                System.arraycopy(key(i), 0, k, 0, 8); // the same arrays every time, as the runner does
                Arrays.fill(v, (byte) i);
                db.put(k, v);
            }
            byte[] out = new byte[4];
            assertEquals(4, db.get(key(7), out));
            assertArrayEquals(new byte[] {7, 7, 7, 7}, out);
            byte[] small = new byte[2];
            assertEquals(4, db.get(key(9), small), "full length even when the buffer is shorter");
            assertEquals(-1, db.get(key(5000), out));
            db.delete(key(3));
            assertEquals(-1, db.get(key(3), out));

            try (EngineAdapter.Cursor c = db.newCursor()) {
                c.seek(key(2));
                assertTrue(c.isValid());
                byte[] kk = new byte[8];
                assertEquals(8, c.key(kk));
                assertArrayEquals(key(2), kk);
                c.next();
                assertEquals(8, c.key(kk));
                assertArrayEquals(key(4), kk, "deleted key skipped");
                assertEquals(4, c.value(out));
                assertArrayEquals(new byte[] {4, 4, 4, 4}, out);
                c.seekToFirst();
                int n = 0;
                byte[] prev = null;
                while (c.isValid()) {
                    c.key(kk);
                    if (prev != null) {
                        assertTrue(Arrays.compareUnsigned(prev, kk) < 0, "ascending");
                    }
                    prev = kk.clone();
                    n++;
                    c.next();
                }
                assertEquals(999, n);
                c.seek(key(99999));
                assertFalse(c.isValid());
            }
            EngineAdapter.IoCounters io = db.ioCounters();
            if (engine.equals("rocksdb")) {
                assertNotNull(io);
                assertTrue(io.walBytes() > 1000 * 12, "WAL bytes counted: " + io);
            }
        }
    }
}
