package io.o3lsm.dm;

import io.o3lsm.dm.protocol.Status;

/**
 * The memory node cannot be reached: not connected, the connection failed (UCX peer error
 * handling reported it), or the client was closed. Requests fail with this at once while
 * disconnected; the client reconnects in the background.
 */
public class DmUnavailableException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmUnavailableException(String message) {
        super(Status.UNAVAILABLE, message);
    }

    public DmUnavailableException(String message, Throwable cause) {
        super(Status.UNAVAILABLE, message, cause);
    }
}
