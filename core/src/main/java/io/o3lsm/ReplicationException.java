package io.o3lsm;

/**
 * A write on a primary asked for acknowledgements from backups ({@link WriteOptions#replicationAcks})
 * and did not get them in time, or the primary was fenced by a newer epoch. The write is in the
 * primary's WAL and memtables and may become visible; it was not confirmed by the backups. Later
 * writes are not refused because of it.
 */
public class ReplicationException extends O3Exception {
    private static final long serialVersionUID = 1L;

    public ReplicationException(String message) {
        super(message);
    }

    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
