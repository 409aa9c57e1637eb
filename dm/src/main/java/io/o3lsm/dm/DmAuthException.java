package io.o3lsm.dm;

/**
 * The handshake failed: the node and this client do not share the cluster secret (or the node did
 * not prove it knows it), or a request came before the handshake finished. Not retried.
 */
public class DmAuthException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmAuthException(int status, String message) {
        super(status, message);
    }
}
