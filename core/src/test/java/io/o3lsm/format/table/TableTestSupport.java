package io.o3lsm.format.table;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.internal.fs.LocalFileSystem;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Shared helpers for the table tests: seeds, random entries, a sorted model, file I/O. */
final class TableTestSupport {
    private TableTestSupport() {
    }

    static final FileSystem FS = LocalFileSystem.INSTANCE;

    /** The seed of randomized tests: {@code -Dtests.seed=N} or a fresh one; printed so it can be replayed. */
    static long seed(String test) {
        String p = System.getProperty("tests.seed");
        long seed = p != null && !p.isEmpty() ? Long.parseLong(p) : new Random().nextLong();
        System.out.println(test + ": tests.seed=" + seed + " (rerun with -Dtests.seed=" + seed + ")");
        return seed;
    }

    /** One entry of a table. */
    record Entry(byte[] key, byte[] value) {
        byte[] userKey() {
            return InternalKey.userKey(key);
        }

        long sequence() {
            return InternalKey.sequenceOf(InternalKey.trailer(key));
        }

        int type() {
            return InternalKey.typeOf(InternalKey.trailer(key));
        }
    }

    static final java.util.Comparator<byte[]> USER_ORDER = Bytes::compare;

    /** Random distinct user keys with shared prefixes and edge bytes (0x00, 0xff), sorted. */
    static List<byte[]> userKeys(Random rnd, int n) {
        byte[] alphabet = {0x00, 0x01, 'a', 'b', 'c', 0x7f, (byte) 0x80, (byte) 0xfe, (byte) 0xff};
        TreeSet<byte[]> set = new TreeSet<>(USER_ORDER);
        while (set.size() < n) {
            int len = rnd.nextInt(10) == 0 ? rnd.nextInt(40) : 1 + rnd.nextInt(12);
            byte[] k = new byte[len];
            for (int i = 0; i < len; i++) {
                k[i] = rnd.nextInt(3) == 0 ? (byte) rnd.nextInt(256) : alphabet[rnd.nextInt(alphabet.length)];
            }
            set.add(k);
        }
        return new ArrayList<>(set);
    }

    /**
     * Point entries for the given user keys: 1 to 4 versions each with distinct sequences in
     * [1, 1000], mostly puts, some deletions; sorted by internal key.
     */
    static List<Entry> entries(Random rnd, List<byte[]> userKeys, int maxValueLen) {
        List<Entry> out = new ArrayList<>();
        for (byte[] uk : userKeys) {
            int versions = 1 + rnd.nextInt(4);
            TreeSet<Long> seqs = new TreeSet<>();
            while (seqs.size() < versions) {
                seqs.add(1L + rnd.nextInt(1000));
            }
            for (long seq : seqs) {
                int type = rnd.nextInt(100) < 80 ? InternalKey.TYPE_VALUE : InternalKey.TYPE_DELETION;
                byte[] v;
                if (type == InternalKey.TYPE_DELETION) {
                    v = new byte[0];
                } else {
                    int len = rnd.nextInt(20) == 0 ? rnd.nextInt(maxValueLen + 1) : rnd.nextInt(Math.min(40, maxValueLen + 1));
                    v = new byte[len];
                    // half random, half repetitive so LZ4 has something to do
                    for (int i = 0; i < len; i++) {
                        v[i] = i < len / 2 ? (byte) rnd.nextInt(256) : (byte) ('a' + i % 7);
                    }
                }
                out.add(new Entry(InternalKey.encode(uk, seq, type), v));
            }
        }
        out.sort((a, b) -> InternalKey.compare(a.key, b.key));
        return out;
    }

    /**
     * {@code n} random non-empty range tombstones with sequences in [1, 1000]: bounds drawn from
     * {@code userKeys} (so they cover present keys) or random, some very wide.
     */
    static List<RangeTombstone> tombstones(Random rnd, List<byte[]> userKeys, int n) {
        List<RangeTombstone> out = new ArrayList<>();
        while (out.size() < n) {
            byte[] a = rnd.nextInt(4) == 0 ? randomKey(rnd) : userKeys.get(rnd.nextInt(userKeys.size()));
            byte[] b = rnd.nextInt(4) == 0 ? randomKey(rnd) : userKeys.get(rnd.nextInt(userKeys.size()));
            if (rnd.nextInt(20) == 0) {
                a = new byte[0];
            }
            int c = Bytes.compare(a, b);
            if (c == 0) {
                continue;
            }
            out.add(c < 0 ? new RangeTombstone(a, b, 1 + rnd.nextInt(1000)) : new RangeTombstone(b, a, 1 + rnd.nextInt(1000)));
        }
        return out;
    }

    private static byte[] randomKey(Random rnd) {
        byte[] k = new byte[rnd.nextInt(6)];
        rnd.nextBytes(k);
        return k;
    }

    /** The tombstones as a reader returns them: sorted by {@link RangeTombstone#ORDER}, distinct, non-empty. */
    static List<RangeTombstone> expectedTombstones(List<RangeTombstone> ts) {
        TreeSet<RangeTombstone> set = new TreeSet<>(RangeTombstone.ORDER);
        for (RangeTombstone t : ts) {
            if (!t.isEmpty()) {
                set.add(t);
            }
        }
        return new ArrayList<>(set);
    }

    static TableProperties write(Path path, TableOptions o, List<Entry> entries) throws IOException {
        return write(path, o, entries, List.of(), null);
    }

    /**
     * Writes the point entries in order with the tombstones interleaved at random positions
     * (through the three ways a builder takes them: {@code addRangeTombstone}, and {@code add} of a
     * type-2 key from an array or a buffer); with {@code rnd == null}, the tombstones go last.
     */
    static TableProperties write(Path path, TableOptions o, List<Entry> entries, List<RangeTombstone> tombstones,
            Random rnd) throws IOException {
        try (FileSystem.WritableFile f = FS.newWritableFile(path)) {
            TableBuilder b = new TableBuilder(f, path.toString(), o);
            int t = 0;
            for (int i = 0; i <= entries.size(); i++) {
                while (t < tombstones.size() && (rnd == null ? i == entries.size()
                        : i == entries.size() || rnd.nextInt(entries.size() + 1) < tombstones.size())) {
                    addTombstone(b, tombstones.get(t++), rnd == null ? 0 : rnd.nextInt(3));
                }
                if (i < entries.size()) {
                    b.add(entries.get(i).key, entries.get(i).value);
                }
            }
            TableProperties p = b.finish();
            f.sync();
            return p;
        }
    }

    static void addTombstone(TableBuilder b, RangeTombstone t, int how) throws IOException {
        switch (how) {
            case 0 -> b.addRangeTombstone(t.start, t.end, t.sequence);
            case 1 -> b.add(t.startInternalKey(), t.end);
            default -> {
                UnsafeBuffer kb = new UnsafeBuffer(new byte[t.start.length + 8 + 7]);
                UnsafeBuffer vb = new UnsafeBuffer(new byte[t.end.length + 3]);
                kb.putBytes(7, t.startInternalKey());
                vb.putBytes(3, t.end);
                b.add(kb, 7, t.start.length + 8, vb, 3, t.end.length);
            }
        }
    }

    static TableReader open(Path path) throws IOException {
        return TableReader.open(FS.newReadableFile(path), path.toString(), 42);
    }

    /** Counts the positional reads that reach a file. */
    static final class CountingFile implements FileSystem.ReadableFile {
        final FileSystem.ReadableFile inner;
        final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();

        CountingFile(FileSystem.ReadableFile inner) {
            this.inner = inner;
        }

        @Override
        public void readFully(long position, byte[] dst, int off, int len) throws IOException {
            reads.incrementAndGet();
            inner.readFully(position, dst, off, len);
        }

        @Override
        public long size() throws IOException {
            return inner.size();
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

    /** An in-memory {@link FileSystem.ReadableFile}, for tests that open thousands of variants of a file. */
    static final class ByteArrayFile implements FileSystem.ReadableFile {
        private final byte[] data;
        private final String name;

        ByteArrayFile(byte[] data, String name) {
            this.data = data;
            this.name = name;
        }

        @Override
        public void readFully(long position, byte[] dst, int off, int len) throws IOException {
            if (position < 0 || position + len > data.length) {
                throw new java.io.EOFException(name + ": wanted " + len + " bytes at " + position + ", file has "
                        + data.length);
            }
            System.arraycopy(data, (int) position, dst, off, len);
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void close() {
        }
    }

    static byte[] bytes(DirectBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.getBytes(0, out);
        return out;
    }

    /** Index of the first entry {@code >= target} in internal-key order ({@code size()} if none). */
    static int ceiling(List<Entry> entries, byte[] target) {
        int lo = 0;
        int hi = entries.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (InternalKey.compare(entries.get(mid).key, target) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The model answer of a get: the newest entry of userKey with seq <= snapshot (tombstones not applied). */
    static Entry modelGet(List<Entry> entries, byte[] userKey, long snapshot) {
        int i = ceiling(entries, InternalKey.seekKey(userKey, Math.min(Math.max(snapshot, 0), InternalKey.MAX_SEQUENCE)));
        if (i < entries.size() && Arrays.equals(entries.get(i).userKey(), userKey)) {
            return entries.get(i);
        }
        return null;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xFF));
        }
        return sb.toString();
    }

    static List<Entry> shuffledCopy(List<Entry> entries, Random rnd) {
        List<Entry> c = new ArrayList<>(entries);
        Collections.shuffle(c, rnd);
        return c;
    }
}
