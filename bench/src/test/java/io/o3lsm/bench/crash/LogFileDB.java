package io.o3lsm.bench.crash;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.DBIterator;
import io.o3lsm.MergeOperator;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.ReadOptions;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * A toy {@link DB} for testing the crash-test harness without the engine: a sorted map (unsigned
 * bytewise order) plus an append-only log of CRC-protected batch records, replayed on open (a torn
 * tail is dropped). Supports puts, deletes, range deletes and merges (applied at once with the
 * options' merge operator), and column families: opened with {@link #open(Path, Options, List)} it
 * is family-aware, keeps its families' names in a {@code FAMILIES} file (an id each, by order of
 * creation), refuses a reopen that does not name them all, stores a family's keys behind its id byte,
 * takes each family's merge operator from its descriptor, and logs a batch's family operations as the
 * batch holds them ({@link WriteBatch#FAMILY_OP}), in one record: atomic across families.
 *
 * <p>{@link #open} hands each record to the OS in one {@code write()} before acknowledging, so it
 * survives SIGKILL. The broken variants, which the crash test must catch:
 * <ul>
 *   <li>{@link Lossy} keeps records in a user-space buffer until 256 KiB pile up, so a kill loses
 *   acknowledged writes;</li>
 *   <li>{@link IgnoresRangeDeletes} accepts range deletes and drops them;</li>
 *   <li>{@link ForgetsMerges} applies merges in memory but leaves them out of its log, so after a
 *   reopen values lack acknowledged operands (lost writes);</li>
 *   <li>{@link ForgetsAFamily} leaves the operations of its last family out of its log: after a reopen
 *   that family lacks acknowledged writes, while the others are intact;</li>
 *   <li>{@link TearsAcrossFamilies} logs each family's part of a batch as a record of its own, pausing
 *   between them, so a kill in the pause leaves the unacknowledged batch applied in some families
 *   only (a batch torn across families).</li>
 * </ul>
 * Synchronized; test code.
 */
public class LogFileDB implements DB {
    /** The file of a family-aware DB's family names, one a line, in order of their ids (1, 2, …). */
    static final String FAMILIES = "FAMILIES";
    /** {@link TearsAcrossFamilies}: the pause between the records of one batch's families. */
    static final long TEAR_PAUSE_MS = 25;

    private enum Fault {
        NONE, LOSSY, IGNORE_RANGE_DELETES, FORGET_MERGES, FORGET_LAST_FAMILY, TEAR_ACROSS_FAMILIES
    }

    private final TreeMap<byte[], byte[]> map = new TreeMap<>(Arrays::compareUnsigned);
    private final Fault fault;
    private final boolean familyAware;
    /** Index = family id; a plain DB has the default family only. */
    private final List<Handle> families = new ArrayList<>();
    private final List<MergeOperator> mergeOperators = new ArrayList<>();
    private final FileChannel log;
    private final int bufferLimit;
    private final ByteBuffer pending;
    private boolean closed;

    private record Handle(String name, int id) implements ColumnFamilyHandle {
    }

    public static DB open(Path dir, Options options) {
        return new LogFileDB(dir, options, null, Fault.NONE);
    }

    public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
        return new LogFileDB(dir, options, families, Fault.NONE);
    }

    /** Factory of the broken variant. */
    public static final class Lossy {
        private Lossy() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, options, null, Fault.LOSSY);
        }

        public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
            return new LogFileDB(dir, options, families, Fault.LOSSY);
        }
    }

    /** Factory of the variant that loses range deletes. */
    public static final class IgnoresRangeDeletes {
        private IgnoresRangeDeletes() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, options, null, Fault.IGNORE_RANGE_DELETES);
        }

        public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
            return new LogFileDB(dir, options, families, Fault.IGNORE_RANGE_DELETES);
        }
    }

    /** Factory of the variant that does not log merges. */
    public static final class ForgetsMerges {
        private ForgetsMerges() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, options, null, Fault.FORGET_MERGES);
        }

        public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
            return new LogFileDB(dir, options, families, Fault.FORGET_MERGES);
        }
    }

    /** Factory of the variant that does not log the operations of its last family (the default one's are kept). */
    public static final class ForgetsAFamily {
        private ForgetsAFamily() {
        }

        public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
            return new LogFileDB(dir, options, families, Fault.FORGET_LAST_FAMILY);
        }
    }

    /** Factory of the variant that logs a batch one family at a time, pausing in between. */
    public static final class TearsAcrossFamilies {
        private TearsAcrossFamilies() {
        }

        public static DB open(Path dir, Options options, List<ColumnFamilyDescriptor> families) {
            return new LogFileDB(dir, options, families, Fault.TEAR_ACROSS_FAMILIES);
        }
    }

    private LogFileDB(Path dir, Options options, List<ColumnFamilyDescriptor> descriptors, Fault fault) {
        this.fault = fault;
        this.bufferLimit = fault == Fault.LOSSY ? 256 * 1024 : 0;
        this.pending = ByteBuffer.allocate(bufferLimit + (1 << 20));
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("LOG");
            Path familyFile = dir.resolve(FAMILIES);
            familyAware = Files.exists(familyFile) || (!Files.exists(file) && descriptors != null);
            registerFamilies(dir, familyFile, options, descriptors);
            long valid = 0;
            if (Files.exists(file)) {
                ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file));
                while (all.remaining() >= 8) {
                    int len = all.getInt(all.position());
                    int crc = all.getInt(all.position() + 4);
                    if (len < 0 || all.remaining() - 8 < len) {
                        break;
                    }
                    CRC32C c = new CRC32C();
                    c.update(all.array(), all.position() + 8, len);
                    if ((int) c.getValue() != crc) {
                        break;
                    }
                    apply(all.array(), all.position() + 8, len);
                    all.position(all.position() + 8 + len);
                    valid = all.position();
                }
            }
            log = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            log.truncate(valid);
            log.position(valid);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Assigns family ids (from the FAMILIES file, or in descriptor order when creating) and merge operators. */
    private void registerFamilies(Path dir, Path familyFile, Options options, List<ColumnFamilyDescriptor> descriptors)
            throws IOException {
        Map<String, ColumnFamilyDescriptor> named = new LinkedHashMap<>();
        if (descriptors != null) {
            for (ColumnFamilyDescriptor d : descriptors) {
                if (named.put(d.name(), d) != null) {
                    throw new IllegalArgumentException("column family \"" + d.name() + "\" named twice");
                }
            }
        }
        ColumnFamilyDescriptor def = named.remove(DB.DEFAULT_COLUMN_FAMILY);
        families.add(new Handle(DB.DEFAULT_COLUMN_FAMILY, 0));
        mergeOperators.add(def != null && def.options().mergeOperator() != null ? def.options().mergeOperator()
                : options.mergeOperator());
        if (!familyAware) {
            if (!named.isEmpty()) {
                throw new IllegalArgumentException("the DB in " + dir + " was created without column families; cannot "
                        + "open " + named.keySet());
            }
            return;
        }
        List<String> names;
        if (Files.exists(familyFile)) {
            names = Files.readAllLines(familyFile, StandardCharsets.UTF_8);
            Set<String> missing = new HashSet<>(names);
            missing.removeAll(named.keySet());
            Set<String> unknown = new HashSet<>(named.keySet());
            unknown.removeAll(names);
            if (descriptors == null || !missing.isEmpty() || !unknown.isEmpty()) {
                throw new IllegalArgumentException("the DB in " + dir + " has the column families " + names
                        + ": open it naming all of them (not named: " + missing + ", unknown: " + unknown + ")");
            }
        } else {
            names = new ArrayList<>(named.keySet());
            if (names.size() > 127) {
                throw new IllegalArgumentException("at most 127 families in this toy");
            }
            Path tmp = dir.resolve(FAMILIES + ".tmp");
            Files.write(tmp, names, StandardCharsets.UTF_8);
            Files.move(tmp, familyFile, StandardCopyOption.ATOMIC_MOVE);
        }
        for (String n : names) {
            families.add(new Handle(n, families.size()));
            mergeOperators.add(named.get(n).options().mergeOperator());
        }
    }

    /** One operation of a batch: its bytes {@code [start, end)} in the rep, its type, family, key and value. */
    private record Op(int start, int end, int type, int family, int keyOff, int keyLen, int valueOff, int valueLen) {
    }

    /** The operations in {@code rep[off, off+len)} (a batch without its header, as logged). */
    private static List<Op> ops(byte[] rep, int off, int len) {
        List<Op> out = new ArrayList<>();
        int[] p = {off};
        int end = off + len;
        while (p[0] < end) {
            int start = p[0];
            int type = rep[p[0]++] & 0xFF;
            int family = 0;
            if ((type & WriteBatch.FAMILY_OP) != 0) {
                type &= ~WriteBatch.FAMILY_OP;
                family = varint(rep, p);
            }
            int klen = varint(rep, p);
            int koff = p[0];
            p[0] += klen;
            int voff = 0;
            int vlen = 0;
            if (type != 0) {
                vlen = varint(rep, p);
                voff = p[0];
                p[0] += vlen;
            }
            out.add(new Op(start, p[0], type, family, koff, klen, voff, vlen));
        }
        return out;
    }

    private byte[] stored(int family, byte[] rep, int off, int len) {
        if (!familyAware) {
            return Arrays.copyOfRange(rep, off, off + len);
        }
        byte[] k = new byte[len + 1];
        k[0] = (byte) family;
        System.arraycopy(rep, off, k, 1, len);
        return k;
    }

    private void apply(byte[] rep, int off, int len) {
        for (Op op : ops(rep, off, len)) {
            if (op.family() >= families.size()) {
                throw new O3Exception("log names family " + op.family() + " of " + families.size());
            }
            byte[] key = stored(op.family(), rep, op.keyOff(), op.keyLen());
            if (op.type() == 1) {
                map.put(key, Arrays.copyOfRange(rep, op.valueOff(), op.valueOff() + op.valueLen()));
            } else if (op.type() == 2) {
                byte[] to = stored(op.family(), rep, op.valueOff(), op.valueLen());
                if (fault != Fault.IGNORE_RANGE_DELETES && Arrays.compareUnsigned(key, to) < 0) {
                    map.subMap(key, true, to, false).clear();
                }
            } else if (op.type() == 3) {
                byte[] operand = Arrays.copyOfRange(rep, op.valueOff(), op.valueOff() + op.valueLen());
                byte[] userKey = Arrays.copyOfRange(rep, op.keyOff(), op.keyOff() + op.keyLen());
                map.put(key, mergeOperators.get(op.family()).fullMerge(userKey, map.get(key), List.of(operand)));
            } else {
                map.remove(key);
            }
        }
    }

    /** The bytes of the operations of {@code ops} that {@code keep} accepts, concatenated (a logged record's payload). */
    private static byte[] payload(byte[] rep, List<Op> ops, Predicate<Op> keep) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Op op : ops) {
            if (keep.test(op)) {
                out.write(rep, op.start(), op.end() - op.start());
            }
        }
        return out.toByteArray();
    }

    private static int varint(byte[] b, int[] p) {
        int v = 0;
        for (int shift = 0; ; shift += 7) {
            int x = b[p[0]++] & 0xFF;
            v |= (x & 0x7F) << shift;
            if (x < 0x80) {
                return v;
            }
        }
    }

    @Override
    public synchronized void write(WriteBatch batch, WriteOptions options) {
        check();
        byte[] rep = batch.rep();
        int len = batch.size() - WriteBatch.HEADER_SIZE;
        List<Op> ops = ops(rep, WriteBatch.HEADER_SIZE, len);
        for (Op op : ops) {
            if (op.family() >= families.size()) {
                throw new IllegalArgumentException("no column family with id " + op.family());
            }
            if (op.type() == 3 && mergeOperators.get(op.family()) == null) {
                throw new IllegalStateException("merge into column family " + families.get(op.family()).name()
                        + ", which has no merge operator");
            }
        }
        try {
            if (fault == Fault.TEAR_ACROSS_FAMILIES) {
                // one record per family, in order of first appearance, with a pause in between: not atomic
                Set<Integer> order = new java.util.LinkedHashSet<>();
                for (Op op : ops) {
                    order.add(op.family());
                }
                int i = 0;
                for (int f : order) {
                    if (i++ > 0) {
                        Thread.sleep(TEAR_PAUSE_MS);
                    }
                    logRecord(payload(rep, ops, op -> op.family() == f), options);
                }
            } else if (fault == Fault.FORGET_MERGES) {
                logRecord(payload(rep, ops, op -> op.type() != 3), options);
            } else if (fault == Fault.FORGET_LAST_FAMILY && families.size() > 1) {
                int last = families.size() - 1;
                logRecord(payload(rep, ops, op -> op.family() != last), options);
            } else {
                logRecord(Arrays.copyOfRange(rep, WriteBatch.HEADER_SIZE, WriteBatch.HEADER_SIZE + len), options);
            }
        } catch (IOException e) {
            throw new O3Exception("log write failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new O3Exception("interrupted", e);
        }
        apply(rep, WriteBatch.HEADER_SIZE, len);
    }

    private void logRecord(byte[] payload, WriteOptions options) throws IOException {
        CRC32C c = new CRC32C();
        c.update(payload, 0, payload.length);
        pending.putInt(payload.length).putInt((int) c.getValue()).put(payload);
        if (pending.position() > bufferLimit) {
            pending.flip();
            while (pending.hasRemaining()) {
                log.write(pending);
            }
            pending.clear();
            if (options.sync()) {
                log.force(false);
            }
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(byte[] key, byte[] value, WriteOptions options) {
        WriteBatch b = new WriteBatch();
        b.put(key, value);
        write(b, options);
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value) {
        put(key, value, WriteOptions.defaults());
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value, WriteOptions options) {
        WriteBatch b = new WriteBatch();
        b.put(key, value);
        write(b, options);
    }

    @Override
    public byte[] get(byte[] key) {
        return get(ReadOptions.defaults(), families.get(0), key);
    }

    @Override
    public synchronized int get(ByteBuffer key, ByteBuffer value) {
        check();
        byte[] k = new byte[key.remaining()];
        key.duplicate().get(k);
        byte[] v = get(k);
        if (v == null) {
            return -1;
        }
        value.put(v, 0, Math.min(v.length, value.remaining()));
        return v.length;
    }

    @Override
    public synchronized byte[] get(ReadOptions o, ColumnFamilyHandle family, byte[] key) {
        check();
        byte[] v = map.get(stored(handle(family).id(), key, 0, key.length));
        return v == null ? null : v.clone();
    }

    @Override
    public void merge(byte[] key, byte[] operand) {
        merge(key, operand, WriteOptions.defaults());
    }

    @Override
    public void merge(byte[] key, byte[] operand, WriteOptions options) {
        WriteBatch b = new WriteBatch();
        b.merge(key, operand);
        write(b, options);
    }

    @Override
    public void delete(byte[] key) {
        delete(key, WriteOptions.defaults());
    }

    @Override
    public void delete(byte[] key, WriteOptions options) {
        WriteBatch b = new WriteBatch();
        b.delete(key);
        write(b, options);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            pending.flip();
            while (pending.hasRemaining()) {
                log.write(pending);
            }
            log.close();
        } catch (IOException e) {
            throw new O3Exception("close failed", e);
        }
    }

    private void check() {
        if (closed) {
            throw new DBClosedException("closed");
        }
    }

    private Handle handle(ColumnFamilyHandle cf) {
        if (cf instanceof Handle h && h.id() < families.size() && families.get(h.id()).equals(h)) {
            return h;
        }
        throw new IllegalArgumentException(cf + " is not a column family of this DB");
    }

    @Override
    public void deleteRange(byte[] from, byte[] to) {
        deleteRange(from, to, WriteOptions.defaults());
    }

    @Override
    public void deleteRange(byte[] from, byte[] to, WriteOptions options) {
        WriteBatch b = new WriteBatch();
        b.deleteRange(from, to);
        write(b, options);
    }

    @Override
    public synchronized List<String> listColumnFamilies() {
        check();
        return families.stream().map(Handle::name).toList();
    }

    @Override
    public synchronized ColumnFamilyHandle columnFamily(String name) {
        check();
        for (Handle h : families) {
            if (h.name().equals(name)) {
                return h;
            }
        }
        return null;
    }

    @Override
    public synchronized ColumnFamilyHandle defaultColumnFamily() {
        check();
        return families.get(0);
    }

    @Override
    public DBIterator iterator(ReadOptions o) {
        return iterator(o, families.get(0));
    }

    /** A forward iterator over a copy of the family's entries (seekToFirst, next; nothing else). */
    @Override
    public synchronized DBIterator iterator(ReadOptions o, ColumnFamilyHandle family) {
        check();
        int id = handle(family).id();
        Map<byte[], byte[]> view = familyAware ? map.subMap(new byte[] {(byte) id}, true, new byte[] {(byte) (id + 1)}, false)
                : map;
        List<byte[][]> entries = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> en : view.entrySet()) {
            byte[] k = en.getKey();
            entries.add(new byte[][] {familyAware ? Arrays.copyOfRange(k, 1, k.length) : k.clone(), en.getValue().clone()});
        }
        return new ListIterator(entries);
    }

    private static final class ListIterator implements DBIterator {
        private final List<byte[][]> entries;
        private int pos = Integer.MAX_VALUE;

        ListIterator(List<byte[][]> entries) {
            this.entries = entries;
        }

        @Override
        public boolean isValid() {
            return pos < entries.size();
        }

        @Override
        public void seekToFirst() {
            pos = 0;
        }

        @Override
        public void next() {
            pos++;
        }

        @Override
        public byte[] key() {
            return entries.get(pos)[0].clone();
        }

        @Override
        public byte[] value() {
            return entries.get(pos)[1].clone();
        }

        @Override
        public void seekToLast() {
            throw new UnsupportedOperationException("LogFileDB iterators go forward from the first key only");
        }

        @Override
        public void seek(byte[] target) {
            throw new UnsupportedOperationException("LogFileDB iterators go forward from the first key only");
        }

        @Override
        public void seekForPrev(byte[] target) {
            throw new UnsupportedOperationException("LogFileDB iterators go forward from the first key only");
        }

        @Override
        public void prev() {
            throw new UnsupportedOperationException("LogFileDB iterators go forward from the first key only");
        }

        @Override
        public ByteBuffer keyBuffer() {
            return ByteBuffer.wrap(key());
        }

        @Override
        public ByteBuffer valueBuffer() {
            return ByteBuffer.wrap(value());
        }

        @Override
        public int key(ByteBuffer dst) {
            byte[] k = entries.get(pos)[0];
            dst.put(k, 0, Math.min(k.length, dst.remaining()));
            return k.length;
        }

        @Override
        public int value(ByteBuffer dst) {
            byte[] v = entries.get(pos)[1];
            dst.put(v, 0, Math.min(v.length, dst.remaining()));
            return v.length;
        }

        @Override
        public void close() {
        }
    }

    // Methods the crash harness never calls; this toy only models put/get/delete/deleteRange/merge durability.

    @Override
    public byte[] get(ReadOptions o, byte[] key) {
        return get(key);
    }

    @Override
    public List<byte[]> multiGet(ReadOptions o, List<byte[]> keys) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] k : keys) {
            out.add(get(k));
        }
        return out;
    }

    @Override
    public io.o3lsm.Transaction beginTransaction(WriteOptions o, io.o3lsm.TransactionOptions t) {
        throw new UnsupportedOperationException("LogFileDB models put/get/delete only");
    }

    @Override
    public io.o3lsm.Snapshot snapshot() {
        throw new UnsupportedOperationException("LogFileDB models put/get/delete only");
    }

    @Override
    public void flush() {
    }

    @Override
    public void flushWal(boolean sync) {
    }

    @Override
    public void compactRange(byte[] from, byte[] to) {
    }

    @Override
    public void compactRange(ColumnFamilyHandle family, byte[] from, byte[] to) {
        handle(family);
    }

    @Override
    public String property(String name) {
        return null;
    }

    @Override
    public io.o3lsm.DBStats stats() {
        throw new UnsupportedOperationException("LogFileDB models put/get/delete only");
    }
}
