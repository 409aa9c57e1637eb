package io.o3lsm.bench.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Shared helpers of the JMH benchmarks: keys, values, temp directories. */
final class JmhSupport {
    /** Passed to every fork: Agrona's buffers need jdk.internal.misc. */
    static final String ADD_EXPORTS = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

    private JmhSupport() {
    }

    /** {@code n} distinct 16-byte keys in random order (8 random bytes then the index). */
    static byte[][] keys(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[][] keys = new byte[n][];
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[16];
            long r = rnd.nextLong();
            for (int b = 0; b < 8; b++) {
                k[b] = (byte) (r >>> (56 - 8 * b));
                k[8 + b] = (byte) ((long) i >>> (56 - 8 * b));
            }
            keys[i] = k;
        }
        return keys;
    }

    /** A value of {@code size} half-compressible bytes. */
    static byte[] value(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] v = new byte[size];
        for (int i = 0; i < size; i++) {
            v[i] = i < size / 2 ? (byte) (' ' + rnd.nextInt(95)) : v[i - size / 2];
        }
        return v;
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
