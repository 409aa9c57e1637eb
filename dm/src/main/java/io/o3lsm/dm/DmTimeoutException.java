package io.o3lsm.dm;

/**
 * A request was not answered within the configured request timeout. UCX reports a dead peer, never
 * a hung one (e.g. a stopped process), so every request carries its own deadline.
 */
public class DmTimeoutException extends DmUnavailableException {
    private static final long serialVersionUID = 1L;

    public DmTimeoutException(String message) {
        super(message);
    }
}
