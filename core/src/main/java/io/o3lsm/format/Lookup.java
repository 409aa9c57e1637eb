package io.o3lsm.format;

/**
 * Result of a point lookup in one source (a memtable shard, an SST): found with a value, found as
 * deleted, or not present. Reusable and mutable; owned by one thread for the duration of a get.
 */
public final class Lookup {
    public static final int NOT_FOUND = 0;
    public static final int FOUND = 1;
    public static final int DELETED = 2;

    public int state = NOT_FOUND;
    /** The value when {@link #FOUND}; a fresh array owned by the caller. */
    public byte[] value;
    /**
     * Sequence number of the entry found (FOUND or DELETED); for a key the engine's read path finds
     * deleted by a range tombstone, that tombstone's sequence.
     */
    public long sequence;

    public Lookup reset() {
        state = NOT_FOUND;
        value = null;
        sequence = 0;
        return this;
    }

    public boolean isResolved() {
        return state != NOT_FOUND;
    }
}
