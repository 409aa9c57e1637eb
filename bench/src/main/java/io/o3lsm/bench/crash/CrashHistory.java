package io.o3lsm.bench.crash;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * What one crash-test child intended and what the DB acknowledged, in write order: the input of
 * {@link CrashVerifier}. Built by parsing the child's history file ({@link #parse}) or, in tests,
 * with {@link #beginBatch}, {@link #put}, {@link #merge}, {@link #delete}, {@link #deleteRange} and
 * {@link #ack}. Every op belongs to a column family, by its number in the crash test (0 = the default
 * family, {@code f} = {@code cf}f; see {@code CrashTest}); ops made without one are in family 0.
 * Not thread-safe.
 *
 * <h2>History file format</h2>
 * ASCII, one record per line, each line handed to the OS in one {@code write()}:
 * <pre>
 *   intent = "I" SP batchId SP firstVersion 1*(SP op) LF   ; written before DB.write
 *   op     = ("P" / "M" / "D") [family ":"] keyIndex        ; put / merge / delete of key keyIndex
 *          / "R" [family ":"] fromHex "-" toHex             ; deleteRange [from, to) of raw key bytes
 *   ack    = "A" SP batchId LF                              ; written after DB.write returned
 * </pre>
 * {@code family} (decimal, {@code --families}) names the column family the op writes to; without it
 * the op is in family 0, the default one, so a history written before families (or with
 * {@code --families 0}) reads as it always did, and the writer leaves the prefix out for family 0.
 * A batch's ops may name several families: the batch is one {@code DB.write}, atomic across them.
 * The i-th op of an intent has version {@code firstVersion + i}, range deletes included (their
 * version is never stored in a value). A merge's operand is the token naming its version
 * ({@link CrashCodec#mergeToken}); an intent of one merge may have been written with
 * {@code DB.merge} rather than {@code DB.write}, which the verifier does not need to know. {@code fromHex} and {@code toHex} are lowercase hex, two
 * digits per byte (either may be empty: the empty key). A range delete bounds raw key bytes, not key
 * indexes: {@link CrashCodec} scrambles key bytes, so the keys it removes are those whose encoding
 * {@code e} has {@code from <= e < to} in unsigned bytewise order, whatever their indexes; the
 * verifier works them out from the key space ({@link CrashVerifier}).
 *
 * <p>Example: {@code I 17 230 P12 D4051 R5a3c00000000000a-5a9e000000000b21 P12} then {@code A 17}:
 * batch 17 put key 12 (version 230), deleted key 4051 (231), deleted every key whose 8 encoded
 * bytes lie in {@code [5a3c00000000000a, 5a9e000000000b21)} (232), put key 12 again (233); the DB
 * acknowledged it. {@code I 18 234 P2:12 M1:12 R3:5a3c-5a9e} put key 12 of family 2, merged into key
 * 12 of family 1 and deleted the range in family 3, in one batch. A line without its {@code LF} (the child was killed inside {@code write()}) is
 * ignored: an intent is written before its batch reaches the DB, so a torn intent was never
 * applied, and a torn ack counts as no ack, which is the conservative reading.
 */
final class CrashHistory {
    private long[] batchIds = new long[1024];
    private int[] batchStart = new int[1025];
    private boolean[] acked = new boolean[1024];
    private int batches;

    private int[] opKey = new int[4096];
    private int[] opFamily = new int[4096];
    private long[] opVersion = new long[4096];
    private boolean[] opDelete = new boolean[4096];
    private boolean[] opMerge = new boolean[4096];
    private int[] opBatch = new int[4096];
    /** Bounds of range deletes; null for point ops. */
    private byte[][] opFrom = new byte[4096][];
    private byte[][] opTo = new byte[4096][];
    private int ops;
    private int rangeOps;
    private int mergeOps;

    private int strayAcks;
    private long maxVersion = -1;
    private long maxBatchId = -1;
    private int maxFamily;

    void beginBatch(long id) {
        if (batches > 0 && id <= batchIds[batches - 1]) {
            throw new IllegalArgumentException("batch ids must increase: " + id + " after " + batchIds[batches - 1]);
        }
        if (batches == batchIds.length) {
            batchIds = Arrays.copyOf(batchIds, batches * 2);
            acked = Arrays.copyOf(acked, batches * 2);
            batchStart = Arrays.copyOf(batchStart, batches * 2 + 1);
        }
        batchIds[batches] = id;
        batchStart[batches] = ops;
        batches++;
        batchStart[batches] = ops;
        maxBatchId = Math.max(maxBatchId, id);
    }

    void put(int key, long version) {
        put(0, key, version);
    }

    void put(int family, int key, long version) {
        addOp(family, key, version, false);
    }

    void delete(int key, long version) {
        delete(0, key, version);
    }

    void delete(int family, int key, long version) {
        addOp(family, key, version, true);
    }

    /** A merge of the operand {@link CrashCodec#mergeToken}{@code (key, version)}. */
    void merge(int key, long version) {
        merge(0, key, version);
    }

    void merge(int family, int key, long version) {
        addOp(family, key, version, false);
        opMerge[ops - 1] = true;
        mergeOps++;
    }

    /** A delete of every key whose encoding lies in {@code [from, to)} (unsigned bytewise). */
    void deleteRange(byte[] from, byte[] to, long version) {
        deleteRange(0, from, to, version);
    }

    /** A delete of every key of {@code family} whose encoding lies in {@code [from, to)}. */
    void deleteRange(int family, byte[] from, byte[] to, long version) {
        addOp(family, -1, version, true);
        opFrom[ops - 1] = from.clone();
        opTo[ops - 1] = to.clone();
        rangeOps++;
    }

    private void addOp(int family, int key, long version, boolean delete) {
        if (family < 0) {
            throw new IllegalArgumentException("negative family " + family);
        }
        if (batches == 0) {
            throw new IllegalStateException("operation outside a batch");
        }
        if (ops > 0 && version <= opVersion[ops - 1]) {
            throw new IllegalArgumentException("versions must increase: " + version + " after " + opVersion[ops - 1]);
        }
        if (ops == opKey.length) {
            int n = ops * 2;
            opKey = Arrays.copyOf(opKey, n);
            opFamily = Arrays.copyOf(opFamily, n);
            opVersion = Arrays.copyOf(opVersion, n);
            opDelete = Arrays.copyOf(opDelete, n);
            opMerge = Arrays.copyOf(opMerge, n);
            opBatch = Arrays.copyOf(opBatch, n);
            opFrom = Arrays.copyOf(opFrom, n);
            opTo = Arrays.copyOf(opTo, n);
        }
        opKey[ops] = key;
        opFamily[ops] = family;
        maxFamily = Math.max(maxFamily, family);
        opVersion[ops] = version;
        opDelete[ops] = delete;
        opBatch[ops] = batches - 1;
        ops++;
        batchStart[batches] = ops;
        maxVersion = Math.max(maxVersion, version);
    }

    /** Marks batch {@code id} acknowledged. An id never intended is counted as a stray ack. */
    void ack(long id) {
        int lo = 0;
        int hi = batches - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (batchIds[mid] < id) {
                lo = mid + 1;
            } else if (batchIds[mid] > id) {
                hi = mid - 1;
            } else {
                acked[mid] = true;
                return;
            }
        }
        strayAcks++;
    }

    int batchCount() {
        return batches;
    }

    long batchId(int b) {
        return batchIds[b];
    }

    boolean acked(int b) {
        return acked[b];
    }

    int batchStart(int b) {
        return batchStart[b];
    }

    int batchEnd(int b) {
        return batchStart[b + 1];
    }

    int opCount() {
        return ops;
    }

    /** The key index of a put, merge or delete (within its family); -1 for a range delete. */
    int opKey(int op) {
        return opKey[op];
    }

    /** The column family {@code op} writes to (0: the default family). */
    int opFamily(int op) {
        return opFamily[op];
    }

    /** The largest family any op names (0 when every op is in the default family). */
    int maxFamily() {
        return maxFamily;
    }

    /** Whether the ops of batch {@code b} name more than one family. */
    boolean spansFamilies(int b) {
        for (int op = batchStart[b] + 1; op < batchStart[b + 1]; op++) {
            if (opFamily[op] != opFamily[batchStart[b]]) {
                return true;
            }
        }
        return false;
    }

    /** Number of intended batches whose ops name more than one family. */
    int crossFamilyBatchCount() {
        int n = 0;
        for (int b = 0; b < batches; b++) {
            if (spansFamilies(b)) {
                n++;
            }
        }
        return n;
    }

    /** Number of acknowledged batches whose ops name more than one family. */
    int ackedCrossFamilyBatchCount() {
        int n = 0;
        for (int b = 0; b < batches; b++) {
            if (acked[b] && spansFamilies(b)) {
                n++;
            }
        }
        return n;
    }

    /** Whether {@code op} is a range delete (then {@link #opDelete} is true and {@link #opKey} is -1). */
    boolean opRange(int op) {
        return opFrom[op] != null;
    }

    /** Inclusive lower bound of a range delete (not a copy: do not modify). */
    byte[] opFrom(int op) {
        return opFrom[op];
    }

    /** Exclusive upper bound of a range delete (not a copy: do not modify). */
    byte[] opTo(int op) {
        return opTo[op];
    }

    /** Number of range deletes in all intents. */
    int rangeOpCount() {
        return rangeOps;
    }

    /** Whether {@code op} is a merge (then {@link #opDelete} is false). */
    boolean opMerge(int op) {
        return opMerge[op];
    }

    /** Number of merges in all intents. */
    int mergeOpCount() {
        return mergeOps;
    }

    /** Number of merges in acknowledged intents. */
    int ackedMergeCount() {
        int n = 0;
        for (int op = 0; op < ops; op++) {
            if (opMerge[op] && acked[opBatch[op]]) {
                n++;
            }
        }
        return n;
    }

    long opVersion(int op) {
        return opVersion[op];
    }

    boolean opDelete(int op) {
        return opDelete[op];
    }

    /** 0-based index of the batch holding {@code op}. */
    int opBatch(int op) {
        return opBatch[op];
    }

    int ackedCount() {
        int n = 0;
        for (int b = 0; b < batches; b++) {
            if (acked[b]) {
                n++;
            }
        }
        return n;
    }

    int strayAcks() {
        return strayAcks;
    }

    /** Largest version in any op, or -1. */
    long maxVersion() {
        return maxVersion;
    }

    /** Largest batch id intended, or -1. */
    long maxBatchId() {
        return maxBatchId;
    }

    /** Parses a history file's bytes; see the class comment. Complete lines that do not parse are errors. */
    static CrashHistory parse(byte[] data) {
        CrashHistory h = new CrashHistory();
        int pos = 0;
        int line = 0;
        while (pos < data.length) {
            int end = pos;
            while (end < data.length && data[end] != '\n') {
                end++;
            }
            if (end == data.length) {
                break; // torn last line: see class comment
            }
            line++;
            try {
                parseLine(h, data, pos, end);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("history line " + line + " ('"
                        + new String(data, pos, Math.min(end - pos, 200), java.nio.charset.StandardCharsets.US_ASCII)
                        + "'): " + e.getMessage(), e);
            }
            pos = end + 1;
        }
        return h;
    }

    private static void parseLine(CrashHistory h, byte[] d, int pos, int end) {
        int[] cursor = {pos + 1};
        if (d[pos] == 'A') {
            h.ack(number(d, cursor, end));
        } else if (d[pos] == 'I') {
            long id = number(d, cursor, end);
            long version = number(d, cursor, end);
            h.beginBatch(id);
            while (cursor[0] < end) {
                int p = cursor[0];
                if (d[p] != ' ') {
                    throw new IllegalArgumentException("expected a space at column " + (p - pos));
                }
                byte kind = p + 1 < end ? d[p + 1] : (byte) ' ';
                cursor[0] = p + 1;
                int family = family(d, cursor, end);
                if (kind == 'R') {
                    byte[] from = hex(d, cursor, end, '-');
                    byte[] to = hex(d, cursor, end, ' ');
                    h.deleteRange(family, from, to, version++);
                    continue;
                }
                int key = (int) number(d, cursor, end);
                if (kind == 'P') {
                    h.put(family, key, version++);
                } else if (kind == 'M') {
                    h.merge(family, key, version++);
                } else if (kind == 'D') {
                    h.delete(family, key, version++);
                } else {
                    throw new IllegalArgumentException("unknown op '" + (char) kind + "'");
                }
            }
        } else {
            throw new IllegalArgumentException("unknown record type '" + (char) d[pos] + "'");
        }
    }

    /**
     * The optional {@code family ":"} after the op letter at cursor[0]: its number, leaving cursor[0]
     * on the ':' (the byte the key or range reader skips); 0, cursor unchanged, when there is none.
     * Unambiguous: a key index is followed by a space or the end, and a range bound's hex digits never
     * by a ':'.
     */
    private static int family(byte[] d, int[] cursor, int end) {
        int p = cursor[0] + 1;
        int start = p;
        long v = 0;
        while (p < end && d[p] >= '0' && d[p] <= '9' && p - start < 9) {
            v = v * 10 + (d[p] - '0');
            p++;
        }
        if (p == start || p >= end || d[p] != ':') {
            return 0;
        }
        cursor[0] = p;
        return (int) v;
    }

    /**
     * Skips one byte at cursor[0] (the op letter, the ':' or the '-'), then reads hex digit pairs up to
     * {@code stop} or end; leaves cursor[0] on the stop byte.
     */
    private static byte[] hex(byte[] d, int[] cursor, int end, char stop) {
        int p = cursor[0] + 1;
        int start = p;
        while (p < end && d[p] != stop && d[p] != ' ') {
            p++;
        }
        if (stop == '-' && (p == end || d[p] != '-')) {
            throw new IllegalArgumentException("range delete without '-' between its bounds");
        }
        if (((p - start) & 1) != 0) {
            throw new IllegalArgumentException("odd number of hex digits in a range bound");
        }
        byte[] b = new byte[(p - start) / 2];
        for (int i = 0; i < b.length; i++) {
            int hi = Character.digit(d[start + 2 * i], 16);
            int lo = Character.digit(d[start + 2 * i + 1], 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("bad hex digit in a range bound");
            }
            b[i] = (byte) ((hi << 4) | lo);
        }
        cursor[0] = p;
        return b;
    }

    /** Skips one separator byte at cursor[0] (a space, an op letter or a ':'), then reads decimal digits up to a space or end. */
    private static long number(byte[] d, int[] cursor, int end) {
        int p = cursor[0] + 1;
        int start = p;
        long v = 0;
        while (p < end && d[p] != ' ') {
            int digit = d[p] - '0';
            if (digit < 0 || digit > 9) {
                throw new IllegalArgumentException("bad digit '" + (char) d[p] + "'");
            }
            v = v * 10 + digit;
            p++;
        }
        if (p == start) {
            throw new IllegalArgumentException("missing number");
        }
        cursor[0] = p;
        return v;
    }

    /**
     * Appends history records to a file, one {@code write()} per record, never buffered in this
     * process. A SIGKILL does not lose bytes a {@code write()} already handed to the OS (the page
     * cache belongs to the kernel, not the process), so no fsync is needed: the crash test kills
     * processes, not machines. Not thread-safe.
     */
    static final class Writer {
        private final FileChannel channel;
        private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);

        Writer(FileChannel channel) {
            this.channel = channel;
        }

        /** An intent of puts and deletes only. */
        void intent(long batchId, long firstVersion, int n, int[] keys, boolean[] deletes) throws IOException {
            byte[] kinds = new byte[n];
            for (int i = 0; i < n; i++) {
                kinds[i] = (byte) (deletes[i] ? 'D' : 'P');
            }
            intent(batchId, firstVersion, n, keys, kinds, null, null);
        }

        /**
         * An intent of {@code n} ops: {@code kinds[i]} is 'P', 'M' or 'D' (of key {@code keys[i]}) or 'R'
         * (a range delete of {@code [from[i], to[i])}).
         */
        void intent(long batchId, long firstVersion, int n, int[] keys, byte[] kinds, byte[][] from, byte[][] to)
                throws IOException {
            intent(batchId, firstVersion, n, keys, kinds, from, to, null);
        }

        /**
         * As {@link #intent(long, long, int, int[], byte[], byte[][], byte[][])}, the i-th op in column
         * family {@code families[i]} ({@code families} null: every op in the default family, 0).
         */
        void intent(long batchId, long firstVersion, int n, int[] keys, byte[] kinds, byte[][] from, byte[][] to,
                int[] families) throws IOException {
            buf.clear();
            buf.put((byte) 'I').put((byte) ' ');
            putNumber(batchId);
            buf.put((byte) ' ');
            putNumber(firstVersion);
            for (int i = 0; i < n; i++) {
                buf.put((byte) ' ').put(kinds[i]);
                if (families != null && families[i] != 0) {
                    putNumber(families[i]);
                    buf.put((byte) ':');
                }
                if (kinds[i] == 'R') {
                    putHex(from[i]);
                    buf.put((byte) '-');
                    putHex(to[i]);
                } else if (kinds[i] == 'P' || kinds[i] == 'M' || kinds[i] == 'D') {
                    putNumber(keys[i]);
                } else {
                    throw new IllegalArgumentException("unknown op kind '" + (char) kinds[i] + "'");
                }
            }
            buf.put((byte) '\n');
            writeFully();
        }

        private void putHex(byte[] b) {
            for (byte x : b) {
                buf.put((byte) Character.forDigit((x >>> 4) & 0xF, 16)).put((byte) Character.forDigit(x & 0xF, 16));
            }
        }

        void ack(long batchId) throws IOException {
            buf.clear();
            buf.put((byte) 'A').put((byte) ' ');
            putNumber(batchId);
            buf.put((byte) '\n');
            writeFully();
        }

        private void putNumber(long v) {
            if (v < 0) {
                throw new IllegalArgumentException("negative " + v);
            }
            int start = buf.position();
            do {
                buf.put((byte) ('0' + (int) (v % 10)));
                v /= 10;
            } while (v != 0);
            for (int i = start, j = buf.position() - 1; i < j; i++, j--) {
                byte t = buf.get(i);
                buf.put(i, buf.get(j));
                buf.put(j, t);
            }
        }

        private void writeFully() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }
    }
}
