package io.o3lsm;

/** An operation was attempted on a {@link DB} (or an object obtained from it) after close. */
public class DBClosedException extends O3Exception {
    private static final long serialVersionUID = 1L;

    public DBClosedException(String message) {
        super(message);
    }
}
