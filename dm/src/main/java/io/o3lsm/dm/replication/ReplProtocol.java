package io.o3lsm.dm.replication;

/**
 * Constants of the replication protocol ({@code docs/format/replication-protocol.md}): the header
 * version, active-message ids, opcodes, statuses and limits. Messages use the DM frame header
 * ({@link io.o3lsm.dm.protocol.MessageHeaderDescriptor}) with {@link #VERSION} in its version byte;
 * bodies are in {@link ReplMessages}, the log ring's frames in {@link RingFrameDescriptor}.
 */
public final class ReplProtocol {
    /** Header version of every replication message; a DM peer (version 6) is answered UNSUPPORTED_VERSION. */
    public static final int VERSION = 3;

    /** Backup to primary. */
    public static final int AM_TO_PRIMARY = 1;
    /** Primary to backup. */
    public static final int AM_TO_BACKUP = 2;

    // ---- opcodes, backup to primary
    public static final int HELLO = 1;
    public static final int AUTH = 3;
    public static final int ATTACH = 5;
    /** Answers FILE_CHUNK, SNAPSHOT, LOG_BATCH, EDIT and GO_LIVE (same request id). */
    public static final int ACK = 8;
    /** The backup's consumed ring position; also its heartbeat. */
    public static final int CONSUMED = 9;

    // ---- opcodes, primary to backup
    public static final int CHALLENGE = 2;
    public static final int WELCOME = 4;
    public static final int ATTACHED = 6;
    public static final int FILE_CHUNK = 10;
    public static final int SNAPSHOT = 11;
    public static final int LOG_BATCH = 12;
    public static final int EDIT = 13;
    public static final int GO_LIVE = 14;
    public static final int HEARTBEAT = 16;

    /** Either way: the sender refuses something or leaves; status says why, the body is UTF-8 text. */
    public static final int ERROR = 15;

    // ---- statuses (as the DM protocol's where they mean the same)
    public static final int OK = 0;
    public static final int BAD_REQUEST = 1;
    public static final int UNSUPPORTED_VERSION = 2;
    public static final int AUTH_FAILED = 3;
    public static final int NOT_AUTHENTICATED = 4;
    /** The backup refuses the primary: it has followed a newer epoch (or another DB's primary). */
    public static final int FENCED = 5;
    /** A file chunk's CRC32C did not match. */
    public static final int CORRUPT = 10;
    /** The receiver failed (its Target threw); see its log. */
    public static final int INTERNAL = 11;
    /** The primary dropped the backup (its buffer stayed full, or it stopped answering); reconnect. */
    public static final int DROPPED = 14;
    /** The sender is closing. */
    public static final int CLOSING = 15;

    // ---- limits
    public static final int NONCE_LENGTH = 32;
    public static final int MAC_LENGTH = 32;
    /** Largest edit (snapshot or installed) in one message. */
    public static final int MAX_EDIT_BYTES = 16 << 20;
    /** A LOG_BATCH is sent once it holds this many bytes (one record may make it larger). */
    public static final int LOG_BATCH_BYTES = 256 << 10;
    /** Largest log record (write batch) the catch-up carries. */
    public static final int MAX_RECORD_BYTES = 48 << 20;
    /** Most files a backup may list in its holdings. */
    public static final int MAX_HELD_FILES = 1 << 20;
    /** Smallest log buffer a backup may register. */
    public static final int MIN_LOG_BUFFER = 64 << 10;
    /** The backup's file landing buffer, and the chunk size of file shipping. */
    public static final int LANDING_BYTES = 1 << 20;

    private ReplProtocol() {
    }

    public static String opcodeName(int opcode) {
        switch (opcode) {
            case HELLO: return "HELLO";
            case CHALLENGE: return "CHALLENGE";
            case AUTH: return "AUTH";
            case WELCOME: return "WELCOME";
            case ATTACH: return "ATTACH";
            case ATTACHED: return "ATTACHED";
            case ACK: return "ACK";
            case CONSUMED: return "CONSUMED";
            case FILE_CHUNK: return "FILE_CHUNK";
            case SNAPSHOT: return "SNAPSHOT";
            case LOG_BATCH: return "LOG_BATCH";
            case EDIT: return "EDIT";
            case GO_LIVE: return "GO_LIVE";
            case ERROR: return "ERROR";
            case HEARTBEAT: return "HEARTBEAT";
            default: return "OPCODE_" + opcode;
        }
    }

    public static String statusName(int status) {
        switch (status) {
            case OK: return "OK";
            case BAD_REQUEST: return "BAD_REQUEST";
            case UNSUPPORTED_VERSION: return "UNSUPPORTED_VERSION";
            case AUTH_FAILED: return "AUTH_FAILED";
            case NOT_AUTHENTICATED: return "NOT_AUTHENTICATED";
            case FENCED: return "FENCED";
            case CORRUPT: return "CORRUPT";
            case INTERNAL: return "INTERNAL";
            case DROPPED: return "DROPPED";
            case CLOSING: return "CLOSING";
            default: return "STATUS_" + status;
        }
    }
}
