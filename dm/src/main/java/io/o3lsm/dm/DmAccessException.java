package io.o3lsm.dm;

/**
 * The segment does not exist on the node (freed, superseded epoch, node restarted) or belongs to
 * another DB. A DB can address only its own segments.
 */
public class DmAccessException extends DmException {
    private static final long serialVersionUID = 1L;

    public DmAccessException(int status, String message) {
        super(status, message);
    }
}
