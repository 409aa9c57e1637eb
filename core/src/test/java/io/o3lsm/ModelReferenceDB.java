package io.o3lsm;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory {@link DB} built the obvious way (a {@link TreeMap} copied for every snapshot and
 * iterator), used only to test {@link ModelRunner} itself: the runner must pass it, and must fail
 * each deliberately broken variant ({@link Bug}). Contents survive close and reopen of the same
 * directory within one JVM. Synchronized; test code.
 */
final class ModelReferenceDB implements DB {
    /** Faults a variant injects; the model test must catch each. */
    enum Bug {
        NONE,
        /** Iterators include the upper bound key itself. */
        UPPER_BOUND_INCLUSIVE,
        /** Snapshot reads see the latest state. */
        SNAPSHOT_SEES_LATEST,
        /** deleteRange also deletes its end key. */
        RANGE_DELETE_END_INCLUSIVE,
        /** prev() from the first entry wraps to the last instead of becoming invalid. */
        PREV_WRAPS,
        /** Iterators order keys by signed bytes. */
        SIGNED_ORDER,
        /** The last write before a close is lost. */
        LOSES_LAST_WRITE_ON_REOPEN,
        /** Iterators opened before a write see it. */
        ITERATOR_SEES_LATER_WRITES,
        /** compactRange drops keys that a batch deleted and re-put. */
        COMPACTION_DROPS_REPUT
    }

    private record Disk(TreeMap<byte[], byte[]> map, long sequence) {
    }

    private static final Map<Path, Disk> DISKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final Bug bug;
    private final TreeMap<byte[], byte[]> map;
    private final java.util.Set<byte[]> reput = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private boolean closed;
    private long sequence;
    private long flushes;
    private long compactions;
    private byte[] lastKey;
    private byte[] lastPrevious;

    private final MergeOperator mergeOperator;

    private ModelReferenceDB(Path dir, Bug bug, MergeOperator mergeOperator) {
        this.mergeOperator = mergeOperator;
        this.dir = dir;
        this.bug = bug;
        Disk disk = DISKS.get(dir);
        this.map = disk == null ? newMap(bug) : copy(disk.map, bug);
        this.sequence = disk == null ? 0 : disk.sequence;
    }

    static java.util.function.BiFunction<Path, Options, DB> opener(Bug bug) {
        return (dir, options) -> new ModelReferenceDB(dir, bug, options.mergeOperator());
    }

    private static TreeMap<byte[], byte[]> newMap(Bug bug) {
        return new TreeMap<>(Arrays::compareUnsigned);
    }

    private static TreeMap<byte[], byte[]> copy(Map<byte[], byte[]> m, Bug bug) {
        TreeMap<byte[], byte[]> c = newMap(bug);
        c.putAll(m);
        return c;
    }

    private void check() {
        if (closed) {
            throw new DBClosedException("closed");
        }
    }

    @Override
    public synchronized void put(byte[] key, byte[] value) {
        write(new WriteBatch().put(key, value));
    }

    @Override
    public void put(byte[] key, byte[] value, WriteOptions options) {
        put(key, value);
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value) {
        write(new WriteBatch().put(key, value));
    }

    @Override
    public void put(ByteBuffer key, ByteBuffer value, WriteOptions options) {
        put(key, value);
    }

    @Override
    public synchronized byte[] get(byte[] key) {
        check();
        byte[] v = map.get(key);
        return v == null ? null : v.clone();
    }

    @Override
    public synchronized int get(ByteBuffer key, ByteBuffer value) {
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
    public void merge(byte[] key, byte[] operand) {
        write(new WriteBatch().merge(key, operand));
    }

    @Override
    public void merge(byte[] key, byte[] operand, WriteOptions options) {
        merge(key, operand);
    }

    @Override
    public void delete(byte[] key) {
        write(new WriteBatch().delete(key));
    }

    @Override
    public void delete(byte[] key, WriteOptions options) {
        delete(key);
    }

    @Override
    public void deleteRange(byte[] from, byte[] to) {
        write(new WriteBatch().deleteRange(from, to));
    }

    @Override
    public void deleteRange(byte[] from, byte[] to, WriteOptions options) {
        deleteRange(from, to);
    }

    @Override
    public synchronized void write(WriteBatch batch, WriteOptions options) {
        check();
        byte[] rep = batch.rep();
        int[] p = {WriteBatch.HEADER_SIZE};
        Map<byte[], Boolean> deletedInBatch = new TreeMap<>(Arrays::compareUnsigned);
        while (p[0] < batch.size()) {
            int type = rep[p[0]++];
            byte[] key = bytes(rep, p);
            sequence++;
            if (type == 1) {
                byte[] v = bytes(rep, p);
                lastPrevious = map.get(key);
                lastKey = key;
                map.put(key, v);
                if (deletedInBatch.containsKey(key)) {
                    reput.add(key);
                }
            } else if (type == 3) {
                byte[] v = bytes(rep, p);
                lastKey = null;
                if (mergeOperator == null) {
                    throw new IllegalStateException("no merge operator");
                }
                map.put(key, mergeOperator.fullMerge(key, map.get(key), List.of(v)));
            } else if (type == 0) {
                lastKey = null;
                map.remove(key);
                deletedInBatch.put(key, true);
            } else {
                lastKey = null;
                byte[] to = bytes(rep, p);
                if (Arrays.compareUnsigned(key, to) < 0) {
                    map.subMap(key, true, to, bug == Bug.RANGE_DELETE_END_INCLUSIVE).clear();
                }
            }
        }
    }

    private static byte[] bytes(byte[] rep, int[] p) {
        int len = 0;
        for (int shift = 0; ; shift += 7) {
            int x = rep[p[0]++] & 0xFF;
            len |= (x & 0x7F) << shift;
            if (x < 0x80) {
                break;
            }
        }
        byte[] b = Arrays.copyOfRange(rep, p[0], p[0] + len);
        p[0] += len;
        return b;
    }

    private final class Snap implements Snapshot {
        final long seq;
        final TreeMap<byte[], byte[]> state;
        volatile boolean released;

        Snap(long seq, TreeMap<byte[], byte[]> state) {
            this.seq = seq;
            this.state = state;
        }

        @Override
        public long sequence() {
            return seq;
        }

        @Override
        public void close() {
            released = true;
        }
    }

    private synchronized TreeMap<byte[], byte[]> view(ReadOptions ro) {
        check();
        Snapshot s = ro.snapshot();
        if (s == null || bug == Bug.SNAPSHOT_SEES_LATEST) {
            return bug == Bug.ITERATOR_SEES_LATER_WRITES ? map : copy(map, bug);
        }
        Snap snap = (Snap) s;
        if (snap.released) {
            throw new IllegalStateException("snapshot closed");
        }
        return snap.state;
    }

    @Override
    public byte[] get(ReadOptions options, byte[] key) {
        byte[] v = view(options).get(key);
        return v == null ? null : v.clone();
    }

    @Override
    public List<byte[]> multiGet(ReadOptions options, List<byte[]> keys) {
        TreeMap<byte[], byte[]> m = view(options);
        List<byte[]> out = new ArrayList<>();
        for (byte[] k : keys) {
            out.add(m.get(k));
        }
        return out;
    }

    @Override
    public DBIterator iterator(ReadOptions options) {
        TreeMap<byte[], byte[]> m = view(options);
        if (bug == Bug.SIGNED_ORDER) {
            TreeMap<byte[], byte[]> signed = new TreeMap<>(Arrays::compare);
            signed.putAll(m);
            m = signed;
        }
        return new Iter(m, options.lowerBound(), options.upperBound());
    }

    private final class Iter implements DBIterator {
        private final TreeMap<byte[], byte[]> m;
        private final byte[] lower;
        private final byte[] upper;
        private byte[] cur;
        private boolean itClosed;

        Iter(TreeMap<byte[], byte[]> m, byte[] lower, byte[] upper) {
            this.m = m;
            this.lower = lower;
            this.upper = upper;
        }

        private int cmp(byte[] a, byte[] b) {
            return m.comparator().compare(a, b);
        }

        private byte[] bound(byte[] k) {
            if (k == null) {
                return null;
            }
            if (lower != null && cmp(k, lower) < 0) {
                return null;
            }
            if (upper != null) {
                int c = cmp(k, upper);
                if (c > 0 || (c == 0 && bug != Bug.UPPER_BOUND_INCLUSIVE)) {
                    return null;
                }
            }
            return k;
        }

        private void open() {
            if (itClosed) {
                throw new IllegalStateException("iterator closed");
            }
        }

        private void valid() {
            open();
            if (cur == null) {
                throw new IllegalStateException("not valid");
            }
        }

        @Override
        public boolean isValid() {
            open();
            return cur != null;
        }

        @Override
        public void seekToFirst() {
            open();
            cur = bound(lower == null ? (m.isEmpty() ? null : m.firstKey()) : m.ceilingKey(lower));
        }

        @Override
        public void seekToLast() {
            open();
            cur = bound(upper == null ? (m.isEmpty() ? null : m.lastKey()) : m.lowerKey(upper));
        }

        @Override
        public void seek(byte[] target) {
            open();
            byte[] t = lower != null && cmp(target, lower) < 0 ? lower : target;
            cur = bound(m.ceilingKey(t));
        }

        @Override
        public void seekForPrev(byte[] target) {
            open();
            cur = bound(upper != null && cmp(target, upper) >= 0 ? m.lowerKey(upper) : m.floorKey(target));
        }

        @Override
        public void next() {
            valid();
            cur = bound(m.higherKey(cur));
        }

        @Override
        public void prev() {
            valid();
            byte[] p = bound(m.lowerKey(cur));
            if (p == null && bug == Bug.PREV_WRAPS) {
                seekToLast();
                return;
            }
            cur = p;
        }

        @Override
        public byte[] key() {
            valid();
            return cur.clone();
        }

        @Override
        public byte[] value() {
            valid();
            return m.get(cur).clone();
        }

        @Override
        public ByteBuffer keyBuffer() {
            valid();
            return ByteBuffer.wrap(cur).asReadOnlyBuffer();
        }

        @Override
        public ByteBuffer valueBuffer() {
            valid();
            return ByteBuffer.wrap(m.get(cur)).asReadOnlyBuffer();
        }

        @Override
        public int key(ByteBuffer dst) {
            valid();
            dst.put(cur, 0, Math.min(cur.length, dst.remaining()));
            return cur.length;
        }

        @Override
        public int value(ByteBuffer dst) {
            valid();
            byte[] v = m.get(cur);
            dst.put(v, 0, Math.min(v.length, dst.remaining()));
            return v.length;
        }

        @Override
        public void close() {
            itClosed = true;
        }
    }

    @Override
    public Transaction beginTransaction(WriteOptions options, TransactionOptions txnOptions) {
        throw new UnsupportedOperationException("the reference DB models no transactions (TransactionModelTest "
                + "checks the engine's against its own model)");
    }

    @Override
    public synchronized Snapshot snapshot() {
        check();
        return new Snap(sequence, copy(map, bug));
    }

    @Override
    public synchronized void flush() {
        check();
        flushes++;
    }

    @Override
    public synchronized void flushWal(boolean sync) {
        check();
    }

    @Override
    public synchronized void compactRange(byte[] from, byte[] to) {
        check();
        compactions++;
        if (bug == Bug.COMPACTION_DROPS_REPUT) {
            for (byte[] k : reput) {
                map.remove(k);
            }
        }
        reput.clear();
    }

    @Override
    public synchronized String property(String name) {
        return name.equals("o3.sstables") ? "(reference DB: no files)" : null;
    }

    @Override
    public synchronized DBStats stats() {
        return new DBStats(new int[7], new long[7], 0, 0, 0, 0, 0, flushes, compactions, 0, 0, 0, 0);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bug == Bug.LOSES_LAST_WRITE_ON_REOPEN && lastKey != null) {
            if (lastPrevious == null) {
                map.remove(lastKey);
            } else {
                map.put(lastKey, lastPrevious);
            }
        }
        DISKS.put(dir, new Disk(copy(map, Bug.NONE), sequence));
    }
}
