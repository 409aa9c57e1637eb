package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;

/**
 * Internal signal: an offloaded shard could not be reached on the memory node. The DB rebuilds
 * such shards from its WAL and retries; callers never see this type.
 */
final class DmLostException extends O3Exception {
    private static final long serialVersionUID = 1L;

    /** True when the read view changed meanwhile: retry without declaring the node lost. */
    final boolean stale;

    DmLostException(String message) {
        this(message, false);
    }

    DmLostException(String message, boolean stale) {
        super(message);
        this.stale = stale;
    }
}
