package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;

/**
 * Internal signal: an offloaded shard could not be reached on the memory node, or its copy there is
 * damaged. The caller reports it to {@link DmRecovery#failed}, which decides whether the node is lost
 * (then rebuilds from the WAL) or the request was merely slow (then the caller retries); callers
 * never see this type.
 */
final class DmLostException extends O3Exception {
    private static final long serialVersionUID = 1L;

    /** True when the read view changed meanwhile: retry without counting a failure. */
    final boolean stale;
    /** The one shard whose remote copy is known to be damaged (its read-back failed the CRC32C); null otherwise. */
    final transient MemShard damaged;
    /** How many times in a row the failed request failed (a flush's read-back of one shard counts per shard). */
    int attempt = 1;

    DmLostException(String message) {
        this(message, false);
    }

    DmLostException(String message, boolean stale) {
        this(message, stale, null);
    }

    DmLostException(String message, boolean stale, MemShard damaged) {
        super(message);
        this.stale = stale;
        this.damaged = damaged;
    }
}
