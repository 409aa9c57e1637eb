package io.o3lsm.ycsb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.CorruptionException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import site.ycsb.ByteIterator;
import site.ycsb.StringByteIterator;

/** {@link RecordFormat}: the documented bytes, round trips, field subsets, and corrupt input. */
class RecordFormatTest {
    private static Map<String, byte[]> fields(String... nameValue) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1].getBytes(UTF_8));
        }
        return m;
    }

    private static Map<String, String> strings(Map<String, ByteIterator> m) {
        Map<String, String> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.toString()));
        return out;
    }

    @Test
    void shouldEncodeTheDocumentedExample() {
        // docs/operations/ycsb.md and RecordFormat's header: {"f0": "ab"}
        byte[] b = RecordFormat.encode(fields("f0", "ab"));
        assertEquals("01" + "00000001" + "00000002" + "6630" + "00000002" + "6162", HexFormat.of().formatHex(b));
        assertEquals(17, b.length);
    }

    @Test
    void shouldRoundTripFieldsInOrder() {
        Map<String, byte[]> in = fields("field3", "x", "field0", "", "naïve ✓", "ünïcödé", "field9", "z".repeat(1000));
        byte[] b = RecordFormat.encode(in);
        LinkedHashMap<String, byte[]> out = RecordFormat.decode(b, "t/k");
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()), "stored order is kept");
        for (Map.Entry<String, byte[]> e : in.entrySet()) {
            assertArrayEquals(e.getValue(), out.get(e.getKey()), e.getKey());
        }
        assertEquals(Map.of(), RecordFormat.decode(RecordFormat.encode(Map.of()), "empty"));
    }

    @Test
    void shouldEncodeYcsbIteratorsAsTheirBytes() {
        Map<String, ByteIterator> in = new LinkedHashMap<>();
        in.put("a", new StringByteIterator("hello"));
        in.put("b", new StringByteIterator("world"));
        assertArrayEquals(RecordFormat.encode(fields("a", "hello", "b", "world")), RecordFormat.encodeIterators(in));
    }

    @Test
    void shouldReturnOnlyTheAskedForFields() {
        byte[] b = RecordFormat.encode(fields("f0", "zero", "f1", "one", "f2", "two"));
        Map<String, ByteIterator> all = new HashMap<>();
        RecordFormat.decodeInto(b, null, all, "t/k");
        assertEquals(Map.of("f0", "zero", "f1", "one", "f2", "two"), strings(all));

        Map<String, ByteIterator> some = new HashMap<>();
        RecordFormat.decodeInto(b, Set.of("f2", "f0", "missing"), some, "t/k");
        assertEquals(Map.of("f0", "zero", "f2", "two"), strings(some), "a field the record lacks is left out");

        Map<String, ByteIterator> one = new HashMap<>();
        RecordFormat.decodeInto(b, Set.of("f1"), one, "t/k");
        assertArrayEquals("one".getBytes(UTF_8), one.get("f1").toArray(), "an iterator over a slice gives only its bytes");
    }

    @Test
    void shouldKeepTablesApartAndInKeyOrder() {
        byte[] a1 = RecordFormat.key("a", "user1");
        byte[] a2 = RecordFormat.key("a", "user2");
        byte[] ab = RecordFormat.key("ab", "");
        byte[] aEnd = RecordFormat.tableEnd("a");
        assertArrayEquals("a\0user1".getBytes(UTF_8), a1);
        assertTrue(Arrays.compareUnsigned(a1, a2) < 0);
        assertTrue(Arrays.compareUnsigned(a2, aEnd) < 0, "every key of table a is below its end");
        assertTrue(Arrays.compareUnsigned(aEnd, ab) < 0, "table ab starts after table a ends");
        assertTrue(Arrays.compareUnsigned(RecordFormat.key("a", "\uffff\uffff"), aEnd) < 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordFormat.key("a\0b", "k"));
        assertTrue(e.getMessage().contains("zero byte"), e.getMessage());
    }

    private static CorruptionException corrupt(byte[] b) {
        CorruptionException e = assertThrows(CorruptionException.class, () -> RecordFormat.decode(b, "usertable/user42"));
        assertTrue(e.getMessage().contains("YCSB record usertable/user42"), e.getMessage());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
        // the subset decoder checks the same way
        assertThrows(CorruptionException.class, () -> RecordFormat.decodeInto(b, Set.of("f0"), new HashMap<>(), "x"));
        return e;
    }

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.replace(" ", ""));
    }

    @Test
    void shouldRejectShortOrCorruptRecordsNamingTheOffset() {
        CorruptionException e = corrupt(new byte[0]);
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().contains("header"), e.getMessage());
        corrupt(hex("01 000000"));

        e = corrupt(hex("02 00000000"));
        assertTrue(e.getMessage().contains("format version 1, found 2"), e.getMessage());

        e = corrupt(hex("01 00000002 00000002 6630 00000002 6162")); // says two fields, holds one
        assertTrue(e.getMessage().contains("field count"), e.getMessage());
        assertEquals(1, e.offset());
        corrupt(hex("01 ffffffff"));

        e = corrupt(hex("01 00000001 00000009 6630 00000002 6162")); // name longer than the record
        assertEquals(5, e.offset());
        assertTrue(e.getMessage().contains("found 9"), e.getMessage());

        e = corrupt(hex("01 00000001 00000002 6630 00000003 6162")); // value cut short
        assertEquals(11, e.offset());
        assertTrue(e.getMessage().contains("value of field 0 'f0'"), e.getMessage());

        e = corrupt(hex("01 00000001 00000002 6630 0000")); // value length cut short
        assertTrue(e.getMessage().contains("4-byte length"), e.getMessage());

        e = corrupt(hex("01 00000001 00000002 6630 00000002 6162 00")); // a byte too many
        assertEquals(17, e.offset());
        assertTrue(e.getMessage().contains("1 more byte"), e.getMessage());

        e = corrupt(hex("01 00000002 00000002 6630 00000000 00000002 6630 00000000")); // f0 twice
        assertEquals(15, e.offset());
        assertTrue(e.getMessage().contains("'f0' twice"), e.getMessage());
    }
}
