package io.o3lsm.dm.node;

/** A request refused with a status; cheap (no stack trace). */
final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    Refusal(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
