package io.o3lsm.ycsb;

import io.o3lsm.CorruptionException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;

/**
 * How a YCSB record is stored in o3lsm: one record is one key, and its value holds all of the
 * record's fields (format version 1; {@code docs/operations/ycsb.md}, "The record encoding").
 *
 * <p>The key is the table name, a zero byte, then YCSB's key, both in UTF-8:
 * <pre>
 *   key    := table 0x00 ycsbKey
 * </pre>
 * so the records of one table are contiguous and in YCSB's key order, and a scan stays in its table
 * with the upper bound {@code table 0x01} ({@link #tableEnd}). A table name must not contain the
 * zero byte ({@link #key} refuses it).
 *
 * <p>The value is a version byte, the field count, then each field as a length-prefixed name and a
 * length-prefixed value; every length and the count are 32-bit big-endian and non-negative:
 * <pre>
 *   record := version:u8 (= 1)  count:i32  field{count}
 *   field  := nameLength:i32  name:u8[nameLength] (UTF-8)  valueLength:i32  value:u8[valueLength]
 * </pre>
 * Field names are unique within a record; fields are stored in the order they were given (an update
 * keeps the stored order and appends new fields). Example: {@code {"f0": "ab"}} is the 17 bytes
 * {@code 01 | 00 00 00 01 | 00 00 00 02 66 30 | 00 00 00 02 61 62}.
 *
 * <p>Decoding checks every length against the bytes left, the version, duplicate names and trailing
 * bytes, and reports a mismatch as a {@link CorruptionException} naming the record, the offset in its
 * value, and what was expected versus found. Stateless and thread-safe.
 */
public final class RecordFormat {
    /** The format version this class writes and reads. */
    public static final byte VERSION = 1;
    /** Bytes before the first field: the version and the count. */
    static final int HEADER_LENGTH = 1 + Integer.BYTES;
    /** Separates the table name from YCSB's key in an o3lsm key. */
    static final byte TABLE_SEPARATOR = 0;

    private RecordFormat() {
    }

    /** The o3lsm key of YCSB record {@code key} in {@code table}. */
    public static byte[] key(String table, String key) {
        byte[] t = table.getBytes(StandardCharsets.UTF_8);
        for (byte b : t) {
            if (b == TABLE_SEPARATOR) {
                throw new IllegalArgumentException("table name contains a zero byte: '" + table + "'");
            }
        }
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1 + k.length];
        System.arraycopy(t, 0, out, 0, t.length);
        out[t.length] = TABLE_SEPARATOR;
        System.arraycopy(k, 0, out, t.length + 1, k.length);
        return out;
    }

    /** The exclusive upper bound of every key of {@code table}: {@code table 0x01}. */
    public static byte[] tableEnd(String table) {
        byte[] t = table.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        System.arraycopy(t, 0, out, 0, t.length);
        out[t.length] = TABLE_SEPARATOR + 1;
        return out;
    }

    /** Encodes {@code fields} (name to value bytes) in their iteration order. */
    public static byte[] encode(Map<String, byte[]> fields) {
        byte[][] names = new byte[fields.size()][];
        long length = HEADER_LENGTH;
        int i = 0;
        for (Map.Entry<String, byte[]> e : fields.entrySet()) {
            names[i] = e.getKey().getBytes(StandardCharsets.UTF_8);
            length += 2L * Integer.BYTES + names[i].length + e.getValue().length;
            i++;
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("record too large: " + length + " bytes");
        }
        byte[] out = new byte[(int) length];
        out[0] = VERSION;
        int at = putInt(out, 1, fields.size());
        i = 0;
        for (byte[] value : fields.values()) {
            at = putInt(out, at, names[i].length);
            System.arraycopy(names[i], 0, out, at, names[i].length);
            at = putInt(out, at + names[i].length, value.length);
            System.arraycopy(value, 0, out, at, value.length);
            at += value.length;
            i++;
        }
        return out;
    }

    /** Encodes YCSB's field map, consuming each iterator. */
    public static byte[] encodeIterators(Map<String, ByteIterator> fields) {
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        for (Map.Entry<String, ByteIterator> e : fields.entrySet()) {
            bytes.put(e.getKey(), e.getValue().toArray());
        }
        return encode(bytes);
    }

    /**
     * Decodes every field of {@code record} into a new map in stored order (the values are copies).
     *
     * @param what names the record in a corruption message (e.g. its table and key)
     * @throws CorruptionException the bytes are not a record of this format
     */
    public static LinkedHashMap<String, byte[]> decode(byte[] record, String what) {
        return decode(record, () -> what);
    }

    /** As {@link #decode(byte[], String)}, naming the record only if it is corrupt. */
    public static LinkedHashMap<String, byte[]> decode(byte[] record, Supplier<String> what) {
        LinkedHashMap<String, byte[]> out = new LinkedHashMap<>();
        walk(record, what, (name, at, length) -> {
            byte[] v = new byte[length];
            System.arraycopy(record, at, v, 0, length);
            out.put(name, v);
        });
        return out;
    }

    /**
     * Puts the fields of {@code record} named in {@code wanted} (every field when null) into
     * {@code out} as iterators over the record's own bytes (no copy). Fields of {@code wanted} the
     * record does not have are left out.
     *
     * @param what names the record in a corruption message
     * @throws CorruptionException the bytes are not a record of this format; {@code out} may then hold
     *                             some of its fields
     */
    public static void decodeInto(byte[] record, Set<String> wanted, Map<String, ByteIterator> out, String what) {
        decodeInto(record, wanted, out, () -> what);
    }

    /** As {@link #decodeInto(byte[], Set, Map, String)}, naming the record only if it is corrupt. */
    public static void decodeInto(byte[] record, Set<String> wanted, Map<String, ByteIterator> out,
            Supplier<String> what) {
        walk(record, what, (name, at, length) -> {
            if (wanted == null || wanted.contains(name)) {
                out.put(name, new ByteArrayByteIterator(record, at, length));
            }
        });
    }

    /** Receives one field: its name and where its value lies in the record. */
    private interface FieldVisitor {
        void field(String name, int valueOffset, int valueLength);
    }

    /** Checks the whole record and hands each field to {@code visitor}, in stored order. */
    private static void walk(byte[] r, Supplier<String> what, FieldVisitor visitor) {
        if (r.length < HEADER_LENGTH) {
            throw corrupt(what, 0, "a record header of " + HEADER_LENGTH + " bytes, found " + r.length + " bytes");
        }
        if (r[0] != VERSION) {
            throw corrupt(what, 0, "format version " + VERSION + ", found " + (r[0] & 0xff));
        }
        int count = getInt(r, 1);
        // each field takes at least its two lengths
        if (count < 0 || count > (r.length - HEADER_LENGTH) / (2 * Integer.BYTES)) {
            throw corrupt(what, 1, "a field count in [0, " + (r.length - HEADER_LENGTH) / (2 * Integer.BYTES)
                    + "] for a " + r.length + "-byte record, found " + count);
        }
        String[] seen = new String[count];
        int at = HEADER_LENGTH;
        for (int i = 0; i < count; i++) {
            int fieldStart = at;
            int nameLength = length(r, at, what, i, null);
            at += Integer.BYTES;
            String name = new String(r, at, nameLength, StandardCharsets.UTF_8);
            at += nameLength;
            int valueLength = length(r, at, what, i, name);
            at += Integer.BYTES;
            if (!unique(seen, i, name)) {
                throw corrupt(what, fieldStart, "unique field names, found '" + name + "' twice");
            }
            visitor.field(name, at, valueLength);
            at += valueLength;
        }
        if (at != r.length) {
            throw corrupt(what, at, "the end of the record after " + count + " field(s), found "
                    + (r.length - at) + " more byte(s)");
        }
    }

    /**
     * Whether {@code name} is not among {@code seen[0..i)}; records it at {@code seen[i]}. A linear
     * search: records have a few fields (YCSB's default is 10), and this allocates nothing more.
     */
    private static boolean unique(String[] seen, int i, String name) {
        for (int j = 0; j < i; j++) {
            if (seen[j].equals(name)) {
                return false;
            }
        }
        seen[i] = name;
        return true;
    }

    /**
     * The length prefix at {@code at} of field {@code field}'s name ({@code name} null) or value,
     * checked against the bytes that follow it.
     */
    private static int length(byte[] r, int at, Supplier<String> what, int field, String name) {
        if (r.length - at < Integer.BYTES) {
            throw corrupt(what, at, "the 4-byte length of the " + of(field, name) + ", found " + (r.length - at)
                    + " byte(s)");
        }
        int n = getInt(r, at);
        int left = r.length - at - Integer.BYTES;
        if (n < 0 || n > left) {
            throw corrupt(what, at, "a length in [0, " + left + "] for the " + of(field, name) + ", found " + n);
        }
        return n;
    }

    private static String of(int field, String name) {
        return name == null ? "name of field " + field : "value of field " + field + " '" + name + "'";
    }

    private static CorruptionException corrupt(Supplier<String> what, long offset, String expectedVersusFound) {
        return new CorruptionException("YCSB record " + what.get(), offset, "expected " + expectedVersusFound);
    }

    private static int putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
        return at + Integer.BYTES;
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
