package io.o3lsm.dm.protocol;

/**
 * Status codes of a response header ({@link MessageHeaderDescriptor#STATUS_OFFSET}). Non-zero means
 * the request failed and the body is a UTF-8 message for humans. Specified in
 * {@code docs/format/dm-protocol.md}.
 */
public final class Status {
    public static final int OK = 0;
    /** Malformed body, unknown opcode, bad lengths or out-of-bounds fields. */
    public static final int BAD_REQUEST = 1;
    /** Header version differs from {@link MessageHeaderDescriptor#PROTOCOL_VERSION}. */
    public static final int UNSUPPORTED_VERSION = 2;
    /** HMAC of the challenge did not verify: the cluster secrets differ. */
    public static final int AUTH_FAILED = 3;
    /** Request other than HELLO/AUTH before the handshake completed. */
    public static final int NOT_AUTHENTICATED = 4;
    /** The DB connected with an epoch older than one the node has seen, or a newer epoch superseded this one. */
    public static final int STALE_EPOCH = 5;
    /** Pool or the DB's budget full. */
    public static final int FULL = 6;
    /** No such segment (never existed, freed, or superseded). */
    public static final int NO_SUCH_SEGMENT = 7;
    /** The segment belongs to another DB. */
    public static final int ACCESS_DENIED = 8;
    /** The segment is in the wrong state for the request (e.g. GET before COMMIT, COMMIT twice). */
    public static final int BAD_STATE = 9;
    /** Checksum mismatch or the bytes are not a valid sealed shard. */
    public static final int CORRUPT = 10;
    /** The node failed unexpectedly; see its log. */
    public static final int INTERNAL = 11;
    /** A job was placed but did not finish: its worker was lost or failed it, or its deadline passed. */
    public static final int JOB_FAILED = 12;
    /** JOB_DONE or JOB_CANCEL for a job the coordinator no longer runs (ended, or never existed). */
    public static final int NO_SUCH_JOB = 13;
    /** Never on the wire: the client's code for "no connection / peer failed / closed". */
    public static final int UNAVAILABLE = -1;

    private Status() {
    }

    public static String name(int status) {
        switch (status) {
            case OK: return "OK";
            case BAD_REQUEST: return "BAD_REQUEST";
            case UNSUPPORTED_VERSION: return "UNSUPPORTED_VERSION";
            case AUTH_FAILED: return "AUTH_FAILED";
            case NOT_AUTHENTICATED: return "NOT_AUTHENTICATED";
            case STALE_EPOCH: return "STALE_EPOCH";
            case FULL: return "FULL";
            case NO_SUCH_SEGMENT: return "NO_SUCH_SEGMENT";
            case ACCESS_DENIED: return "ACCESS_DENIED";
            case BAD_STATE: return "BAD_STATE";
            case CORRUPT: return "CORRUPT";
            case INTERNAL: return "INTERNAL";
            case JOB_FAILED: return "JOB_FAILED";
            case NO_SUCH_JOB: return "NO_SUCH_JOB";
            case UNAVAILABLE: return "UNAVAILABLE";
            default: return "STATUS_" + status;
        }
    }
}
