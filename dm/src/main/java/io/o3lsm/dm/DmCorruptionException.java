package io.o3lsm.dm;

import io.o3lsm.dm.protocol.Status;

/**
 * The node refused shard bytes: the CRC32C it computed over the segment differs from the one the
 * client sent, or the bytes are not a valid sealed shard (header or structure).
 */
public class DmCorruptionException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmCorruptionException(String message) {
        super(Status.CORRUPT, message);
    }
}
