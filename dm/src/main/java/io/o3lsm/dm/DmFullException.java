package io.o3lsm.dm;

import io.o3lsm.dm.protocol.Status;

/** The node's pool, or this DB's share of it (its DM budget), has no room for the segment. */
public class DmFullException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmFullException(String message) {
        super(Status.FULL, message);
    }
}
