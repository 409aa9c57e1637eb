package io.o3lsm;

/** Per-block compression of SST data blocks. */
public enum Compression {
    /** Blocks are stored as built. */
    NONE(0),
    /** LZ4 block compression (lz4-java); a block that does not shrink by 1/8 is stored raw. */
    LZ4(1);

    /** The code stored in each block trailer (see {@code docs/format/sstable.md}). */
    public final int code;

    Compression(int code) {
        this.code = code;
    }
}
