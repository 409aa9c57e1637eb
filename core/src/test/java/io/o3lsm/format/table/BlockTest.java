package io.o3lsm.format.table;

import static io.o3lsm.format.table.TableTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.CorruptionException;
import io.o3lsm.internal.util.Coding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Blocks with bytewise keys: encoding, restart points, every cursor move. */
class BlockTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static Block build(int restartInterval, List<String> keys) {
        BlockBuilder bb = new BlockBuilder(restartInterval);
        for (String k : keys) {
            byte[] kb = b(k);
            byte[] vb = b("v:" + k);
            bb.add(kb, 0, kb.length, vb, 0, vb.length);
        }
        int n = bb.finish();
        return new Block(Arrays.copyOf(bb.buffer(), n), n, "t.sst", 100);
    }

    @Test
    void shouldEncodeSharedPrefixesAndRestartsAsSpecified() {
        Block block = build(2, List.of("apple", "apricot", "banana"));
        byte[] expected = {
            0, 5, 7, 'a', 'p', 'p', 'l', 'e', 'v', ':', 'a', 'p', 'p', 'l', 'e', // restart 0 at 0
            2, 5, 9, 'r', 'i', 'c', 'o', 't', 'v', ':', 'a', 'p', 'r', 'i', 'c', 'o', 't', // shares "ap"
            0, 6, 8, 'b', 'a', 'n', 'a', 'n', 'a', 'v', ':', 'b', 'a', 'n', 'a', 'n', 'a', // restart 1 at 32
            0, 0, 0, 0, 32, 0, 0, 0, 2, 0, 0, 0};
        assertArrayEquals(expected, Arrays.copyOf(block.data, block.size));
    }

    @Test
    void shouldEncodeAnEmptyBlockAsOneRestartAtZero() {
        Block block = build(16, List.of());
        assertEquals(8, block.size);
        assertTrue(block.isEmpty());
        BlockIterator it = block.iterator(false);
        it.seekToFirst();
        assertFalse(it.isValid());
        it.seekToLast();
        assertFalse(it.isValid());
        it.seek(b("a"));
        assertFalse(it.isValid());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 16})
    void shouldIterateSeekAndStepBackAcrossRestartPoints(int restartInterval) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            keys.add(String.format("key%03d", i * 2));
        }
        Block block = build(restartInterval, keys);
        BlockIterator it = block.iterator(false);
        int i = 0;
        for (it.seekToFirst(); it.isValid(); it.next(), i++) {
            assertArrayEquals(b(keys.get(i)), bytes(it.key()));
            assertArrayEquals(b("v:" + keys.get(i)), bytes(it.value()));
        }
        assertEquals(keys.size(), i);
        i = keys.size() - 1;
        for (it.seekToLast(); it.isValid(); it.prev(), i--) {
            assertArrayEquals(b(keys.get(i)), bytes(it.key()));
        }
        assertEquals(-1, i);
        for (int t = -1; t <= 100; t++) {
            String target = t < 0 ? "" : String.format("key%03d", t);
            it.seek(b(target));
            int want = t < 0 ? 0 : (t + 1) / 2;
            if (want >= keys.size()) {
                assertFalse(it.isValid(), target);
            } else {
                assertArrayEquals(b(keys.get(want)), bytes(it.key()), target);
                if (want > 0) {
                    it.prev();
                    assertArrayEquals(b(keys.get(want - 1)), bytes(it.key()), target + " prev");
                }
            }
        }
    }

    @Test
    void shouldRejectARestartCountThatDoesNotFitTheBlock() {
        byte[] data = new byte[12];
        Coding.putFixed32(data, 8, 5); // 5 restarts need 20 bytes
        CorruptionException e = assertThrows(CorruptionException.class, () -> new Block(data, 12, "t.sst", 100));
        assertEquals("t.sst", e.file());
        assertEquals(100, e.offset());
        assertThrows(CorruptionException.class, () -> new Block(new byte[3], 3, "t.sst", 100));
    }

    @Test
    void shouldReportAnEntryRunningPastTheRestartArray() {
        Block good = build(16, List.of("a", "b"));
        byte[] data = Arrays.copyOf(good.data, good.size);
        data[2] = 100; // value length of the first entry now runs into the restarts
        Block bad = new Block(data, data.length, "t.sst", 100);
        BlockIterator it = bad.iterator(false);
        CorruptionException e = assertThrows(CorruptionException.class, it::seekToFirst);
        assertTrue(e.getMessage().contains("t.sst") && e.getMessage().contains("offset 100"), e.getMessage());
    }

    @Test
    void shouldRequireInternalKeysOfAtLeastEightBytesInInternalOrder() {
        Block block = build(16, List.of("short"));
        BlockIterator it = block.iterator(true);
        assertThrows(CorruptionException.class, it::seekToFirst);
    }
}
