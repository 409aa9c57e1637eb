package io.o3lsm.internal.table;

import java.io.IOException;

/**
 * Where a {@link TableReader} gets its data blocks: by default straight from the file (positional
 * read, CRC check, decompression). A block cache wraps the file source (see
 * {@link TableReader#open(io.o3lsm.spi.FileSystem.ReadableFile, String, long, java.util.function.UnaryOperator)})
 * and keys its entries by (file number, offset).
 *
 * <p>Implementations are thread-safe and return only verified blocks; a returned {@link Block} is
 * immutable and may be shared.
 */
@FunctionalInterface
public interface BlockSource {
    /**
     * The decoded block whose stored contents are {@code size} bytes at {@code offset} (its 5-byte
     * trailer follows them).
     *
     * @throws io.o3lsm.CorruptionException if the bytes fail verification
     * @throws IOException if the read fails
     */
    Block read(long offset, int size) throws IOException;
}
