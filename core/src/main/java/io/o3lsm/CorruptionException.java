package io.o3lsm;

/**
 * Bytes read back from storage are not what was written: a checksum mismatch, a bad magic number,
 * an impossible length. Always names the file and the byte offset, and what was expected versus
 * what was found. o3lsm never answers a read from bytes that failed verification.
 */
public class CorruptionException extends O3Exception {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long offset;

    public CorruptionException(String file, long offset, String expectedVersusFound) {
        super("corruption in " + file + " at offset " + offset + ": " + expectedVersusFound);
        this.file = file;
        this.offset = offset;
    }

    /** The file (path or name) holding the bad bytes. */
    public String file() {
        return file;
    }

    /** Byte offset in {@link #file()} where the bad record, block or field starts. */
    public long offset() {
        return offset;
    }
}
