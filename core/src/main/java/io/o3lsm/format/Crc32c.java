package io.o3lsm.format;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C (Castagnoli) as used by every o3lsm format, plus LevelDB-style masking: a CRC that is
 * stored inside data which is itself checksummed is masked, so that the CRC of a string containing
 * embedded CRCs does not degenerate. {@code mask(crc) = rotateRight(crc, 15) + 0xa282ead8}.
 *
 * <p>Not thread-safe per instance of the underlying {@link CRC32C}; the static helpers allocate a
 * fresh one, which the JIT keeps on the stack in hot loops.
 */
public final class Crc32c {
    private Crc32c() {
    }

    private static final int MASK_DELTA = 0xa282ead8;

    public static int value(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** CRC of {@code b[off,off+len)} continued with one more byte {@code extra}. */
    public static int value(byte[] b, int off, int len, byte extra) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        c.update(extra);
        return (int) c.getValue();
    }

    /** CRC of the remaining bytes of {@code buf}; does not move its position. */
    public static int value(ByteBuffer buf) {
        CRC32C c = new CRC32C();
        c.update(buf.duplicate());
        return (int) c.getValue();
    }

    /**
     * Plain (unmasked) CRC32C of a whole file's contents, read with positional reads in 1 MiB
     * chunks: what a flush worker reports for each output and the owner checks before installing it.
     */
    public static int ofFile(io.o3lsm.spi.FileSystem.ReadableFile file) throws java.io.IOException {
        CRC32C c = new CRC32C();
        long size = file.size();
        byte[] buf = new byte[(int) Math.min(size, 1 << 20)];
        for (long pos = 0; pos < size;) {
            int n = (int) Math.min(buf.length, size - pos);
            file.readFully(pos, buf, 0, n);
            c.update(buf, 0, n);
            pos += n;
        }
        return (int) c.getValue();
    }

    public static int mask(int crc) {
        return Integer.rotateRight(crc, 15) + MASK_DELTA;
    }

    public static int unmask(int masked) {
        return Integer.rotateLeft(masked - MASK_DELTA, 15);
    }
}
