package io.o3lsm;

/**
 * Base of every error o3lsm reports. Unchecked: a storage failure is not something a caller can
 * usually recover from at the call site. Caller mistakes are reported as
 * {@link IllegalArgumentException} or {@link IllegalStateException}, never as this type.
 */
public class O3Exception extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public O3Exception(String message) {
        super(message);
    }

    public O3Exception(String message, Throwable cause) {
        super(message, cause);
    }
}
