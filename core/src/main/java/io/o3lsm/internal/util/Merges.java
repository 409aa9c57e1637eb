package io.o3lsm.internal.util;

import io.o3lsm.DB;
import io.o3lsm.MergeOperator;
import io.o3lsm.O3Exception;
import java.util.HexFormat;
import java.util.List;

/**
 * Calls a {@link MergeOperator} on behalf of the engine (reads, flushes, compactions): names the
 * operator and the key when there is none or when it fails, and checks what it returns. Stateless.
 */
public final class Merges {
    private Merges() {
    }

    /**
     * {@code op.fullMerge(key, existing, operands)} with {@code operands} oldest first.
     *
     * @throws O3Exception naming the key when {@code op} is null, throws, or returns null or an oversized value
     */
    public static byte[] full(MergeOperator op, byte[] key, byte[] existing, List<byte[]> operands) {
        if (op == null) {
            throw new O3Exception("key " + hex(key) + " has merge operands but the DB has no merge operator "
                    + "(Options.mergeOperator); open it with the operator that wrote them");
        }
        byte[] v;
        try {
            v = op.fullMerge(key, existing, operands);
        } catch (RuntimeException ex) {
            throw new O3Exception("merge operator " + name(op) + " failed on key " + hex(key) + " (" + operands.size()
                    + " operand(s)" + (existing == null ? ", no value" : "") + "): " + ex, ex);
        }
        check(op, key, v, "fullMerge", false);
        return v;
    }

    /**
     * Whether no operator combines {@code key}'s operands: {@code op} is null, or is a family-aware
     * DB's and {@code key}'s family has none (a job then keeps the operands as they are).
     */
    public static boolean absent(MergeOperator op, byte[] key) {
        return op == null || (op instanceof FamilyFunctions.Merge m && m.forKey(key) == null);
    }

    /**
     * {@code op.partialMerge(key, operands)}, operands oldest first: one operand or null.
     *
     * @throws O3Exception naming the key when {@code op} throws or returns an oversized operand
     */
    public static byte[] partial(MergeOperator op, byte[] key, List<byte[]> operands) {
        byte[] v;
        try {
            v = op.partialMerge(key, operands);
        } catch (RuntimeException ex) {
            throw new O3Exception("merge operator " + name(op) + " failed on key " + hex(key) + " (partial merge of "
                    + operands.size() + " operands): " + ex, ex);
        }
        check(op, key, v, "partialMerge", true);
        return v;
    }

    private static void check(MergeOperator op, byte[] key, byte[] v, String what, boolean mayBeNull) {
        if (v == null && !mayBeNull) {
            throw new O3Exception("merge operator " + name(op) + " returned null from " + what + " for key " + hex(key));
        }
        if (v != null && v.length > DB.MAX_VALUE_SIZE) {
            throw new O3Exception("merge operator " + name(op) + " returned " + v.length + " bytes from " + what
                    + " for key " + hex(key) + ", above the value limit " + DB.MAX_VALUE_SIZE);
        }
    }

    private static String name(MergeOperator op) {
        try {
            return op.name();
        } catch (RuntimeException ex) {
            return op.getClass().getName();
        }
    }

    /** The key in hex, the first 32 bytes only. */
    public static String hex(byte[] key) {
        return key.length <= 32 ? HexFormat.of().formatHex(key)
                : HexFormat.of().formatHex(key, 0, 32) + "... (" + key.length + " bytes)";
    }
}
