package io.o3lsm;

/**
 * {@link Transaction#commit()} found that a key the transaction read with
 * {@link Transaction#getForUpdate} or wrote was written by someone else after the transaction's
 * read sequence for it: nothing of the transaction was written. The DB is unaffected (unlike a WAL
 * failure, a conflict does not stop writes); the usual reaction is to begin a new transaction and
 * run the read-modify-write again.
 */
public class TransactionConflictException extends O3Exception {
    private static final long serialVersionUID = 1L;

    private final byte[] key;
    private final long readSequence;
    private final long conflictSequence;

    /**
     * @param key              the conflicting key (copied)
     * @param readSequence     the sequence the transaction read or first wrote the key at
     * @param conflictSequence the sequence of the key's newest entry in the DB at commit
     */
    public TransactionConflictException(byte[] key, long readSequence, long conflictSequence) {
        super("transaction conflict on key " + hex(key) + ": written at sequence " + conflictSequence
                + " after the transaction's read at sequence " + readSequence + "; nothing was written");
        this.key = key.clone();
        this.readSequence = readSequence;
        this.conflictSequence = conflictSequence;
    }

    /** A copy of the conflicting key. */
    public byte[] key() {
        return key.clone();
    }

    /** The sequence the transaction tracked the key at (its snapshot, or the latest at first tracking). */
    public long readSequence() {
        return readSequence;
    }

    /** The sequence of the key's newest entry (a put, merge, delete or covering range deletion) at commit. */
    public long conflictSequence() {
        return conflictSequence;
    }

    /** At most the first 32 bytes in hex, with the length when truncated. */
    static String hex(byte[] key) {
        int n = Math.min(key.length, 32);
        StringBuilder sb = new StringBuilder(2 * n + 24);
        sb.append("0x");
        for (int i = 0; i < n; i++) {
            sb.append(Character.forDigit((key[i] >> 4) & 0xF, 16)).append(Character.forDigit(key[i] & 0xF, 16));
        }
        if (n < key.length) {
            sb.append("... (").append(key.length).append(" bytes)");
        }
        return sb.toString();
    }
}
