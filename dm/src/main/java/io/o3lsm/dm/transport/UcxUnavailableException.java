package io.o3lsm.dm.transport;

/** The UCX native libraries (Debian package libucx0) cannot be loaded on this machine. */
public final class UcxUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UcxUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
