package io.o3lsm.format.table;

import io.o3lsm.Compression;
import io.o3lsm.format.FormatAccess;
import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.table.TableTestSupport.Entry;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Main of the child JVM in {@link Lz4CodecTest}: writes LZ4 tables and reads them back (iterator and
 * get), then prints what the JVM shows of lz4-java's JNI binding, one {@code name=value} a line:
 * {@code codec} (the chosen factory), {@code nativeLoaded} (lz4-java's own flag), {@code mapped}
 * (whether a liblz4-java library is mapped into this process, from /proc/self/maps), and
 * {@code tmpFiles} (liblz4-java files in {@code java.io.tmpdir}). Exits 1 if a read-back differs.
 */
final class Lz4Probe {
    private Lz4Probe() {
    }

    public static void main(String[] args) throws Exception {
        FormatAccess.ensure();
        Path dir = Path.of(args[0]);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            byte[] v = ("value-" + i + "-" + "abcdefgh".repeat(8)).getBytes();
            entries.add(new Entry(InternalKey.encode(String.format("key%08d", i).getBytes(), 1, InternalKey.TYPE_VALUE), v));
        }
        for (int t = 0; t < 3; t++) {
            Path path = dir.resolve("00000" + t + ".sst");
            TableProperties p = TableTestSupport.write(path, TableOptions.DEFAULT, entries);
            if (p.compression() != Compression.LZ4 || p.dataBytes() >= p.rawKeyBytes() + p.rawValueBytes()) {
                throw new AssertionError("blocks were not compressed: " + p);
            }
            try (TableReader r = TableTestSupport.open(path); InternalIterator it = r.iterator()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next(), n++) {
                    byte[] v = new byte[it.value().capacity()];
                    it.value().getBytes(0, v);
                    if (!Arrays.equals(v, entries.get(n).value())) {
                        System.out.println("mismatch at entry " + n);
                        System.exit(1);
                    }
                }
                if (n != entries.size()) {
                    System.out.println("read back " + n + " of " + entries.size() + " entries");
                    System.exit(1);
                }
            }
        }
        System.out.println("codec=" + Lz4Codec.FACTORY);
        System.out.println("nativeLoaded=" + net.jpountz.util.Native.isLoaded());
        Path maps = Path.of("/proc/self/maps");
        System.out.println("mapped=" + (Files.isReadable(maps) ? Files.readString(maps).contains("liblz4-java") : "unknown"));
        String[] tmp = new File(System.getProperty("java.io.tmpdir")).list((d, n) -> n.contains("liblz4-java"));
        System.out.println("tmpFiles=" + (tmp == null ? "[]" : Arrays.toString(tmp)));
    }
}
