package io.o3lsm.internal.util;

import io.o3lsm.DB;

/**
 * The one check of the key and value size limits ({@link DB#MAX_KEY_SIZE},
 * {@link DB#MAX_VALUE_SIZE}), used by every API call that takes a key — writes, reads, seeks,
 * iterator bounds, range deletions, compaction ranges — so that a key the DB would refuse to store
 * is refused, in the same words, when it is looked up.
 */
public final class Limits {
    private Limits() {
    }

    /**
     * Checks a key argument.
     *
     * @param what the argument's name in the message ("key", "seek target", "upperBound", ...)
     * @return {@code key}
     * @throws IllegalArgumentException if {@code key} is null or longer than {@link DB#MAX_KEY_SIZE}
     */
    public static byte[] checkKey(byte[] key, String what) {
        if (key == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        checkKeyLength(key.length, what);
        return key;
    }

    /** Checks the length of a key argument; see {@link #checkKey}. */
    public static void checkKeyLength(int length, String what) {
        if (length > DB.MAX_KEY_SIZE) {
            throw new IllegalArgumentException(what + " is " + length + " bytes, over the key limit of "
                    + DB.MAX_KEY_SIZE + " bytes (DB.MAX_KEY_SIZE)");
        }
    }

    /** Checks the length of a value argument. */
    public static void checkValueLength(int length, String what) {
        if (length > DB.MAX_VALUE_SIZE) {
            throw new IllegalArgumentException(what + " is " + length + " bytes, over the value limit of "
                    + DB.MAX_VALUE_SIZE + " bytes (DB.MAX_VALUE_SIZE)");
        }
    }
}
