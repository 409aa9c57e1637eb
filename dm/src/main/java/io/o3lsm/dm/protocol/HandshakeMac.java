package io.o3lsm.dm.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC-SHA256 challenge-response of the handshake. Both proofs bind both nonces, the DB id
 * and the epoch, under different labels, so neither side's proof can be replayed as the other's:
 *
 * <pre>
 *   client-mac = HMAC-SHA256(secret, "o3lsm-dm/1 client" || server-nonce || client-nonce || epoch:int64 || db-id)
 *   node-mac   = HMAC-SHA256(secret, "o3lsm-dm/1 node"   || client-nonce || server-nonce || epoch:int64 || db-id)
 * </pre>
 *
 * A worker ({@link Messages#ROLE_WORKER}) proves itself under the labels {@code "o3lsm-dm/3 worker"}
 * and {@code "o3lsm-dm/3 node-to-worker"} (epoch 0, its name as the db-id), so a DB's proof cannot be
 * replayed as a worker's or the other way round.
 *
 * <p>Replication ({@code docs/format/replication-protocol.md}) has labels of its own,
 * {@code "o3lsm-repl/1 backup"} and {@code "o3lsm-repl/1 primary"}, so no DM proof can be replayed as
 * a replication one or the other way round:
 *
 * <pre>
 *   backup-mac  = HMAC-SHA256(secret, "o3lsm-repl/1 backup"  || primary-nonce || backup-nonce || epoch:int64 || db-id)
 *   primary-mac = HMAC-SHA256(secret, "o3lsm-repl/1 primary" || backup-nonce || primary-nonce || epoch:int64 || db-id)
 * </pre>
 */
public final class HandshakeMac {
    private static final byte[] CLIENT_LABEL = "o3lsm-dm/1 client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NODE_LABEL = "o3lsm-dm/1 node".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] WORKER_LABEL = "o3lsm-dm/3 worker".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NODE_TO_WORKER_LABEL = "o3lsm-dm/3 node-to-worker".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] REPL_BACKUP_LABEL = "o3lsm-repl/1 backup".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REPL_PRIMARY_LABEL = "o3lsm-repl/1 primary".getBytes(StandardCharsets.US_ASCII);

    private HandshakeMac() {
    }

    /** A replication backup's proof to the primary whose challenge it answers ({@code epoch}, {@code dbId}: the primary's). */
    public static byte[] replicationBackup(byte[] secret, byte[] primaryNonce, byte[] backupNonce, long epoch,
            String dbId) {
        return mac(secret, REPL_BACKUP_LABEL, primaryNonce, backupNonce, epoch, dbId);
    }

    /** A replication primary's proof to a backup. */
    public static byte[] replicationPrimary(byte[] secret, byte[] backupNonce, byte[] primaryNonce, long epoch,
            String dbId) {
        return mac(secret, REPL_PRIMARY_LABEL, backupNonce, primaryNonce, epoch, dbId);
    }

    /** The client's proof for {@code role}. */
    public static byte[] client(byte[] secret, byte[] serverNonce, byte[] clientNonce, long epoch, String dbId, int role) {
        return mac(secret, role == Messages.ROLE_WORKER ? WORKER_LABEL : CLIENT_LABEL, serverNonce, clientNonce, epoch,
                dbId);
    }

    /** The node's proof to a client of {@code role}. */
    public static byte[] node(byte[] secret, byte[] clientNonce, byte[] serverNonce, long epoch, String dbId, int role) {
        return mac(secret, role == Messages.ROLE_WORKER ? NODE_TO_WORKER_LABEL : NODE_LABEL, clientNonce, serverNonce,
                epoch, dbId);
    }

    public static byte[] client(byte[] secret, byte[] serverNonce, byte[] clientNonce, long epoch, String dbId) {
        return mac(secret, CLIENT_LABEL, serverNonce, clientNonce, epoch, dbId);
    }

    public static byte[] node(byte[] secret, byte[] clientNonce, byte[] serverNonce, long epoch, String dbId) {
        return mac(secret, NODE_LABEL, clientNonce, serverNonce, epoch, dbId);
    }

    /** Constant-time comparison. */
    public static boolean matches(byte[] expected, byte[] found) {
        return MessageDigest.isEqual(expected, found);
    }

    private static byte[] mac(byte[] secret, byte[] label, byte[] first, byte[] second, long epoch, String dbId) {
        if (secret == null || secret.length == 0) {
            throw new IllegalArgumentException("empty cluster secret");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(label);
            mac.update(first);
            mac.update(second);
            mac.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, epoch).array());
            mac.update(dbId.getBytes(StandardCharsets.UTF_8));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
