package io.o3lsm.format;

/**
 * Result of a point lookup in one source (a memtable shard, an SST): found with a value, found as
 * deleted, found as a merge operand (to be combined with older entries), or not present. Reusable and mutable; owned by one thread for the duration of a get.
 */
public final class Lookup {
    public static final int NOT_FOUND = 0;
    public static final int FOUND = 1;
    public static final int DELETED = 2;
    /**
     * The newest visible entry is a merge operand ({@link InternalKey#TYPE_MERGE}): the source cannot
     * answer alone; {@code value} is the operand, {@code sequence} its sequence. The read path then
     * resolves the key over every source ({@code ReadPath}).
     */
    public static final int MERGE = 3;

    /**
     * Collect merge operands (off after {@link #reset()}): a source that meets an operand goes on to
     * the key's older entries in it, adding each operand ({@link #addOperand}, newest first), until
     * a value or a deletion — then {@link #state} is FOUND or DELETED for that base — or the key's
     * last entry in the source (state stays MERGE; the source returns true). Off, a source stops at
     * the first operand (state MERGE, {@code value} the operand).
     */
    public boolean collect;
    /** Collecting: the operands so far, newest first, in {@code [0, operandCount)}. */
    public byte[][] operands = new byte[8][];
    public long[] operandSequences = new long[8];
    public int operandCount;
    /** Collecting: an operand was met where the search cannot go on (a shard on the memory node). */
    public boolean unresolved;

    public int state = NOT_FOUND;
    /** The value when {@link #FOUND}; a fresh array owned by the caller. */
    public byte[] value;
    /**
     * Sequence number of the entry found (FOUND or DELETED); for a key the engine's read path finds
     * deleted by a range tombstone, that tombstone's sequence.
     */
    public long sequence;

    public Lookup reset() {
        state = NOT_FOUND;
        value = null;
        sequence = 0;
        collect = false;
        unresolved = false;
        for (int i = 0; i < operandCount; i++) {
            operands[i] = null;
        }
        operandCount = 0;
        return this;
    }

    /**
     * Collecting: adds an operand older than those already added; the state becomes MERGE. An operand
     * whose sequence is not below the last one added is that same entry met again in another source
     * (a replica's memtable may hold entries its tables hold too): it is not added twice.
     */
    public void addOperand(byte[] operand, long seq) {
        if (operandCount > 0 && seq >= operandSequences[operandCount - 1]) {
            return;
        }
        if (operandCount == operands.length) {
            operands = java.util.Arrays.copyOf(operands, operandCount * 2);
            operandSequences = java.util.Arrays.copyOf(operandSequences, operandCount * 2);
        }
        operands[operandCount] = operand;
        operandSequences[operandCount++] = seq;
        state = MERGE;
        value = null;
        sequence = seq;
    }

    /** Collecting: drops the operands with a sequence below {@code bound}; true if any was dropped. */
    public boolean cutOperandsBelow(long bound) {
        int n = operandCount;
        while (n > 0 && operandSequences[n - 1] < bound) { // newest first: the covered ones are at the end
            operands[--n] = null;
        }
        boolean cut = n < operandCount;
        operandCount = n;
        return cut;
    }

    /** Collecting: the operands, oldest first (what a merge operator takes). */
    public java.util.List<byte[]> operandsOldestFirst() {
        java.util.List<byte[]> out = new java.util.ArrayList<>(operandCount);
        for (int i = operandCount - 1; i >= 0; i--) {
            out.add(operands[i]);
        }
        return out;
    }

    public boolean isResolved() {
        return state != NOT_FOUND;
    }
}
