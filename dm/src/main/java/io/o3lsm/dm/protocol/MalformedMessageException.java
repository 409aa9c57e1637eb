package io.o3lsm.dm.protocol;

/** A message body does not follow the grammar (too short, bad length field, trailing bytes). */
public final class MalformedMessageException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedMessageException(String message) {
        super(message);
    }
}
