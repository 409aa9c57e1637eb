package io.o3lsm.bench.crash;

import io.o3lsm.DB;
import io.o3lsm.DBClosedException;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import io.o3lsm.WriteOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A toy {@link DB} for testing the crash-test harness without the engine: a sorted map (unsigned
 * bytewise order) plus an append-only log of CRC-protected batch records, replayed on open (a torn
 * tail is dropped). Supports puts, deletes, range deletes and merges (applied at once with the
 * options' merge operator). {@link #open} hands each record to the OS in one {@code write()} before
 * acknowledging, so it survives SIGKILL; {@link Lossy#open} keeps records in a user-space buffer until
 * 256 KiB pile up, so a kill loses acknowledged writes, which the crash test must report;
 * {@link IgnoresRangeDeletes#open} accepts range deletes and drops them, which the crash test must
 * report too; {@link ForgetsMerges#open} applies merges in memory but leaves them out of its log, so
 * after a reopen values lack acknowledged operands, which the crash test must report as lost writes.
 * Synchronized; test code.
 */
public class LogFileDB implements DB {
    private final TreeMap<byte[], byte[]> map = new TreeMap<>(Arrays::compareUnsigned);
    private final boolean ignoreRangeDeletes;
    private final boolean forgetMerges;
    private final io.o3lsm.MergeOperator mergeOperator;
    private final FileChannel log;
    private final int bufferLimit;
    private final ByteBuffer pending;
    private boolean closed;

    public static DB open(Path dir, Options options) {
        return new LogFileDB(dir, 0, false, false, options.mergeOperator());
    }

    /** Factory of the broken variant. */
    public static final class Lossy {
        private Lossy() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, 256 * 1024, false, false, options.mergeOperator());
        }
    }

    /** Factory of the variant that loses range deletes. */
    public static final class IgnoresRangeDeletes {
        private IgnoresRangeDeletes() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, 0, true, false, options.mergeOperator());
        }
    }

    /** Factory of the variant that does not log merges. */
    public static final class ForgetsMerges {
        private ForgetsMerges() {
        }

        public static DB open(Path dir, Options options) {
            return new LogFileDB(dir, 0, false, true, options.mergeOperator());
        }
    }

    LogFileDB(Path dir, int bufferLimit, boolean ignoreRangeDeletes, boolean forgetMerges,
            io.o3lsm.MergeOperator mergeOperator) {
        this.bufferLimit = bufferLimit;
        this.ignoreRangeDeletes = ignoreRangeDeletes;
        this.forgetMerges = forgetMerges;
        this.mergeOperator = mergeOperator;
        this.pending = ByteBuffer.allocate(bufferLimit + (1 << 20));
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("LOG");
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

    private void apply(byte[] rep, int off, int len) {
        int[] p = {off};
        int end = off + len;
        while (p[0] < end) {
            int type = rep[p[0]++];
            int klen = varint(rep, p);
            byte[] key = Arrays.copyOfRange(rep, p[0], p[0] + klen);
            p[0] += klen;
            if (type == 1) {
                int vlen = varint(rep, p);
                map.put(key, Arrays.copyOfRange(rep, p[0], p[0] + vlen));
                p[0] += vlen;
            } else if (type == 2) {
                int tlen = varint(rep, p);
                byte[] to = Arrays.copyOfRange(rep, p[0], p[0] + tlen);
                p[0] += tlen;
                if (!ignoreRangeDeletes && Arrays.compareUnsigned(key, to) < 0) {
                    map.subMap(key, true, to, false).clear();
                }
            } else if (type == 3) {
                int vlen = varint(rep, p);
                byte[] operand = Arrays.copyOfRange(rep, p[0], p[0] + vlen);
                p[0] += vlen;
                map.put(key, mergeOperator.fullMerge(key, map.get(key), java.util.List.of(operand)));
            } else {
                map.remove(key);
            }
        }
    }

    /** A copy of the records in {@code rep[off, off+len)} but the merges, after a zeroed header. */
    private static byte[] withoutMerges(byte[] rep, int off, int len) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(new byte[WriteBatch.HEADER_SIZE], 0, WriteBatch.HEADER_SIZE);
        int[] p = {off};
        int end = off + len;
        while (p[0] < end) {
            int start = p[0];
            int type = rep[p[0]++];
            int klen = varint(rep, p);
            p[0] += klen;
            if (type != 0) {
                int vlen = varint(rep, p);
                p[0] += vlen;
            }
            if (type != 3) {
                out.write(rep, start, p[0] - start);
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
        if (batch.hasMerge() && mergeOperator == null) {
            throw new IllegalStateException("merge without a merge operator");
        }
        int len = batch.size() - WriteBatch.HEADER_SIZE;
        byte[] logged = batch.rep();
        int loggedLen = len;
        if (forgetMerges && batch.hasMerge()) {
            logged = withoutMerges(batch.rep(), WriteBatch.HEADER_SIZE, len);
            loggedLen = logged.length - WriteBatch.HEADER_SIZE;
        }
        CRC32C c = new CRC32C();
        c.update(logged, WriteBatch.HEADER_SIZE, loggedLen);
        pending.putInt(loggedLen).putInt((int) c.getValue()).put(logged, WriteBatch.HEADER_SIZE, loggedLen);
        try {
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
        } catch (IOException e) {
            throw new O3Exception("log write failed", e);
        }
        apply(batch.rep(), WriteBatch.HEADER_SIZE, len);
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
    public synchronized byte[] get(byte[] key) {
        check();
        byte[] v = map.get(key);
        return v == null ? null : v.clone();
    }

    @Override
    public synchronized int get(ByteBuffer key, ByteBuffer value) {
        check();
        byte[] k = new byte[key.remaining()];
        key.duplicate().get(k);
        byte[] v = map.get(k);
        if (v == null) {
            return -1;
        }
        value.put(v, 0, Math.min(v.length, value.remaining()));
        return v.length;
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

    // Methods the crash harness never calls; this toy only models put/get/delete/deleteRange/merge durability.

    @Override
    public byte[] get(io.o3lsm.ReadOptions o, byte[] key) {
        return get(key);
    }

    @Override
    public java.util.List<byte[]> multiGet(io.o3lsm.ReadOptions o, java.util.List<byte[]> keys) {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        for (byte[] k : keys) {
            out.add(get(k));
        }
        return out;
    }

    @Override
    public io.o3lsm.DBIterator iterator(io.o3lsm.ReadOptions o) {
        throw new UnsupportedOperationException("LogFileDB models put/get/delete only");
    }

    @Override
    public io.o3lsm.Transaction beginTransaction(io.o3lsm.WriteOptions o, io.o3lsm.TransactionOptions t) {
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
    public String property(String name) {
        return null;
    }

    @Override
    public io.o3lsm.DBStats stats() {
        throw new UnsupportedOperationException("LogFileDB models put/get/delete only");
    }
}
