package io.o3lsm;

import io.o3lsm.format.InternalKey;
import io.o3lsm.internal.util.Coding;
import io.o3lsm.internal.util.Limits;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A group of puts, merges and deletes applied atomically by {@link DB#write}. Reusable: {@link #clear()}
 * (or {@link #close()}) empties it and keeps its buffer. Not thread-safe.
 *
 * <p>The bytes it accumulates are the WAL record payload (see {@code docs/format/write-batch.md}):
 * a 12-byte header (sequence, count) then one record per operation. A DB with column families (or a
 * TTL) writes a translation of them instead: keys prefixed with their family's id, values stamped.
 */
public final class WriteBatch implements AutoCloseable {
    /** Header: fixed64 sequence number of the first operation, fixed32 operation count. */
    public static final int HEADER_SIZE = 12;

    private byte[] rep;
    private int size;
    private int count;
    private int merges;
    private int familyOps;
    /** The handles the family operations named (by identity): the DB checks each is one of its live families. */
    private java.util.List<ColumnFamilyHandle> handles;

    /**
     * Added to an operation's type when it names a column family other than the default one: the
     * type byte is then followed by the family id (varint32) and the operation as usual. Such
     * operations exist only in a batch being written; the WAL holds them translated
     * ({@code docs/format/write-batch.md}).
     */
    public static final int FAMILY_OP = 0x10;

    public WriteBatch() {
        rep = new byte[256];
        size = HEADER_SIZE;
    }

    public WriteBatch put(byte[] key, byte[] value) {
        Limits.checkKey(key, "key");
        checkValue(value == null ? -1 : value.length, value == null);
        appendRecord(InternalKey.TYPE_VALUE, key, 0, key.length, value, 0, value.length);
        return this;
    }

    /** Puts the remaining bytes of {@code key} and {@code value}; their positions are not moved. */
    public WriteBatch put(ByteBuffer key, ByteBuffer value) {
        checkKey(key == null ? -1 : key.remaining(), key == null);
        checkValue(value == null ? -1 : value.remaining(), value == null);
        int klen = key.remaining();
        int vlen = value.remaining();
        ensure(1 + 5 + klen + 5 + vlen);
        rep[size++] = (byte) InternalKey.TYPE_VALUE;
        size = Coding.putVarint32(rep, size, klen);
        key.duplicate().get(rep, size, klen);
        size += klen;
        size = Coding.putVarint32(rep, size, vlen);
        value.duplicate().get(rep, size, vlen);
        size += vlen;
        count++;
        return this;
    }

    public WriteBatch delete(byte[] key) {
        Limits.checkKey(key, "key");
        appendRecord(InternalKey.TYPE_DELETION, key, 0, key.length, null, 0, 0);
        return this;
    }

    public WriteBatch delete(ByteBuffer key) {
        checkKey(key == null ? -1 : key.remaining(), key == null);
        int klen = key.remaining();
        ensure(1 + 5 + klen);
        rep[size++] = (byte) InternalKey.TYPE_DELETION;
        size = Coding.putVarint32(rep, size, klen);
        key.duplicate().get(rep, size, klen);
        size += klen;
        count++;
        return this;
    }

    /**
     * Adds {@code operand} to the operands of {@code key}, combined with its value by the DB's
     * {@link Options#mergeOperator}; see {@link DB#merge}. Checked against the DB at write time.
     */
    public WriteBatch merge(byte[] key, byte[] operand) {
        Limits.checkKey(key, "key");
        if (operand == null) {
            throw new IllegalArgumentException("merge operand must not be null");
        }
        Limits.checkValueLength(operand.length, "merge operand");
        appendRecord(InternalKey.TYPE_MERGE, key, 0, key.length, operand, 0, operand.length);
        merges++;
        return this;
    }

    /** Puts {@code key} → {@code value} in column family {@code cf}; atomic with the batch's other operations. */
    public WriteBatch put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        int id = familyId(cf);
        Limits.checkKey(key, "key");
        checkValue(value == null ? -1 : value.length, value == null);
        appendFamilyRecord(id, InternalKey.TYPE_VALUE, key, value);
        return this;
    }

    /** Deletes {@code key} from column family {@code cf}. */
    public WriteBatch delete(ColumnFamilyHandle cf, byte[] key) {
        int id = familyId(cf);
        Limits.checkKey(key, "key");
        appendFamilyRecord(id, InternalKey.TYPE_DELETION, key, null);
        return this;
    }

    /** Adds a merge operand to {@code key} of column family {@code cf}, combined by the family's operator. */
    public WriteBatch merge(ColumnFamilyHandle cf, byte[] key, byte[] operand) {
        int id = familyId(cf);
        Limits.checkKey(key, "key");
        if (operand == null) {
            throw new IllegalArgumentException("merge operand must not be null");
        }
        Limits.checkValueLength(operand.length, "merge operand");
        appendFamilyRecord(id, InternalKey.TYPE_MERGE, key, operand);
        merges++;
        return this;
    }

    /** Deletes every key of column family {@code cf} in {@code [fromInclusive, toExclusive)}. */
    public WriteBatch deleteRange(ColumnFamilyHandle cf, byte[] fromInclusive, byte[] toExclusive) {
        int id = familyId(cf);
        Limits.checkKey(fromInclusive, "deleteRange start key");
        Limits.checkKey(toExclusive, "deleteRange end key");
        appendFamilyRecord(id, InternalKey.TYPE_RANGE_DELETION, fromInclusive, toExclusive);
        return this;
    }

    /** Whether the batch holds a merge (the DB refuses it without a merge operator). */
    public boolean hasMerge() {
        return merges > 0;
    }

    /**
     * Deletes every key in {@code [fromInclusive, toExclusive)}; see {@link DB#deleteRange}. Counts as
     * one operation.
     */
    public WriteBatch deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        Limits.checkKey(fromInclusive, "deleteRange start key");
        Limits.checkKey(toExclusive, "deleteRange end key");
        appendRecord(InternalKey.TYPE_RANGE_DELETION, fromInclusive, 0, fromInclusive.length, toExclusive, 0,
                toExclusive.length);
        return this;
    }

    /** Number of operations. */
    public int count() {
        return count;
    }

    /** Bytes this batch takes in the WAL (header included). */
    public int approximateSize() {
        return size;
    }

    /** Empties the batch for reuse. */
    public void clear() {
        size = HEADER_SIZE;
        count = 0;
        merges = 0;
        familyOps = 0;
        if (handles != null) {
            handles.clear();
        }
        Arrays.fill(rep, 0, HEADER_SIZE, (byte) 0);
    }

    /** Same as {@link #clear()}; a batch holds no resources beyond its heap buffer. */
    @Override
    public void close() {
        clear();
    }

    // ---- engine-side access (io.o3lsm.internal.db); not part of the supported API ----

    /** @hidden The backing array; valid bytes are {@code [0, size())}. */
    public byte[] rep() {
        return rep;
    }

    /** @hidden */
    public int size() {
        return size;
    }

    /**
     * @hidden The handles the batch's family operations named (each once, by identity; empty if
     * none): the DB writing the batch checks that each is one of its live families.
     */
    public java.util.List<ColumnFamilyHandle> familyHandles() {
        return handles == null ? java.util.List.of() : handles;
    }

    /** @hidden Whether an operation names a column family other than the default one. */
    public boolean hasFamilyOps() {
        return familyOps > 0;
    }

    /**
     * @hidden Appends an operation whose key is {@code prefix} followed by {@code key[koff, koff+klen)}
     * (the engine's translation of family operations; no checks).
     */
    public void appendPrefixed(int type, byte[] prefix, byte[] key, int koff, int klen, byte[] value, int voff,
            int vlen) {
        boolean hasValue = type != InternalKey.TYPE_DELETION;
        ensure(1 + 5 + prefix.length + klen + (hasValue ? 5 + vlen : 0));
        rep[size++] = (byte) type;
        size = Coding.putVarint32(rep, size, prefix.length + klen);
        System.arraycopy(prefix, 0, rep, size, prefix.length);
        size += prefix.length;
        System.arraycopy(key, koff, rep, size, klen);
        size += klen;
        if (hasValue) {
            size = Coding.putVarint32(rep, size, vlen);
            System.arraycopy(value, voff, rep, size, vlen);
            size += vlen;
        }
        count++;
        if (type == InternalKey.TYPE_MERGE) {
            merges++;
        }
    }

    /** @hidden Stamps the header before the batch is written to the WAL. */
    public void setHeader(long sequence) {
        Coding.putFixed64(rep, 0, sequence);
        Coding.putFixed32(rep, 8, count);
    }

    private void appendRecord(int type, byte[] key, int koff, int klen, byte[] value, int voff, int vlen) {
        ensure(1 + 5 + klen + (type != InternalKey.TYPE_DELETION ? 5 + vlen : 0)); // all or nothing
        rep[size++] = (byte) type;
        appendRecordBody(type, key, koff, klen, value, voff, vlen);
    }

    /** The key, and the value unless a deletion, after the type byte (and family id); counts one operation. */
    private void appendRecordBody(int type, byte[] key, int koff, int klen, byte[] value, int voff, int vlen) {
        boolean hasValue = type != InternalKey.TYPE_DELETION;
        ensure(5 + klen + (hasValue ? 5 + vlen : 0));
        size = Coding.putVarint32(rep, size, klen);
        System.arraycopy(key, koff, rep, size, klen);
        size += klen;
        if (hasValue) {
            size = Coding.putVarint32(rep, size, vlen);
            System.arraycopy(value, voff, rep, size, vlen);
            size += vlen;
        }
        count++;
    }

    private int familyId(ColumnFamilyHandle cf) {
        if (cf == null) {
            throw new IllegalArgumentException("column family handle must not be null");
        }
        if (handles == null) {
            handles = new java.util.ArrayList<>(2);
        }
        boolean known = false;
        for (ColumnFamilyHandle h : handles) {
            if (h == cf) {
                known = true;
                break;
            }
        }
        if (!known) {
            handles.add(cf);
        }
        return cf.id();
    }

    private void appendFamilyRecord(int id, int type, byte[] key, byte[] value) {
        if (id == 0) {
            appendRecord(type, key, 0, key.length, value, 0, value == null ? 0 : value.length);
            return;
        }
        int vlen = value == null ? 0 : value.length;
        ensure(1 + 5 + 5 + key.length + (type != InternalKey.TYPE_DELETION ? 5 + vlen : 0)); // all or nothing
        rep[size++] = (byte) (FAMILY_OP | type);
        size = Coding.putVarint32(rep, size, id);
        appendRecordBody(type, key, 0, key.length, value, 0, vlen);
        familyOps++;
    }

    private void ensure(int extra) {
        long need = (long) size + extra;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("write batch would exceed 2 GiB");
        }
        if (need > rep.length) {
            rep = Arrays.copyOf(rep, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, rep.length * 2L)));
        }
    }

    private static void checkKey(int len, boolean isNull) {
        if (isNull) {
            throw new IllegalArgumentException("key must not be null");
        }
        Limits.checkKeyLength(len, "key");
    }

    private static void checkValue(int len, boolean isNull) {
        if (isNull) {
            throw new IllegalArgumentException("value must not be null");
        }
        Limits.checkValueLength(len, "value");
    }
}
