package io.o3lsm.dm;

import io.o3lsm.dm.protocol.Status;

/** A newer epoch of the same DB has connected; this connection's segments were freed. */
public class DmStaleEpochException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmStaleEpochException(String message) {
        super(Status.STALE_EPOCH, message);
    }
}
