package io.o3lsm.dm;

import io.o3lsm.dm.protocol.Status;
import java.io.IOException;

/**
 * A request to the memory node failed. The {@link #status()} is the wire status code
 * ({@link Status}); subclasses name the cases a caller reacts to differently. DM is soft state, so
 * every one of these is recoverable by the engine (fall back to local memtables and local flush).
 */
public class DmException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public DmException(int status, String message) {
        super(message);
        this.status = status;
    }

    public DmException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** Wire status code ({@link Status}); {@link Status#UNAVAILABLE} for local transport failures. */
    public int status() {
        return status;
    }

    /** The exception type for a status received from the node, carrying the node's message. */
    public static DmException forStatus(int status, String message) {
        switch (status) {
            case Status.AUTH_FAILED:
            case Status.NOT_AUTHENTICATED:
                return new DmAuthException(status, message);
            case Status.FULL:
                return new DmFullException(message);
            case Status.ACCESS_DENIED:
            case Status.NO_SUCH_SEGMENT:
                return new DmAccessException(status, message);
            case Status.STALE_EPOCH:
                return new DmStaleEpochException(message);
            case Status.CORRUPT:
                return new DmCorruptionException(message);
            case Status.UNAVAILABLE:
                return new DmUnavailableException(message);
            default:
                return new DmException(status, Status.name(status) + ": " + message);
        }
    }
}
