package io.o3lsm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceLoader;
import java.util.regex.Pattern;

/**
 * The built-in {@link MergeOperator}s and the lookup of an operator by name (what flush workers and
 * compactors do with the name a job carries). Stateless; thread-safe.
 */
public final class MergeOperators {
    private MergeOperators() {
    }

    /** Name of {@link #int64Add()}. */
    public static final String INT64_ADD = "o3.int64add";
    /** Name prefix of {@link #stringAppend(String)}: {@code o3.stringappend:} followed by the delimiter. */
    public static final String STRING_APPEND = "o3.stringappend";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-:,]{1,200}");

    /**
     * A counter: values and operands are signed 64-bit integers, 8 bytes little-endian (the layout
     * of RocksDB's {@code uint64add}); the merge adds them, wrapping on overflow. An absent value
     * counts as 0. A value or operand that is not 8 bytes fails the read or job with
     * {@link O3Exception} naming its length. Partial merges add operands.
     */
    public static MergeOperator int64Add() {
        return Int64Add.INSTANCE;
    }

    /**
     * Appends each operand to the value, {@code delimiter} (UTF-8, 0 to 16 bytes, letters, digits or
     * {@code . _ - : ,}) between them; an absent value is the first operand. Partial merges join
     * operands the same way.
     */
    public static MergeOperator stringAppend(String delimiter) {
        if (delimiter == null) {
            throw new IllegalArgumentException("delimiter must not be null");
        }
        if (delimiter.length() > 16 || !(delimiter.isEmpty() || NAME.matcher(delimiter).matches())) {
            throw new IllegalArgumentException("string append delimiter must be 0 to 16 characters from "
                    + "[A-Za-z0-9._-:,], was \"" + delimiter + "\"");
        }
        return new StringAppend(delimiter);
    }

    /** The 8-byte little-endian encoding {@link #int64Add()} uses. */
    public static byte[] int64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).array();
    }

    /**
     * Decodes an 8-byte little-endian integer.
     *
     * @throws IllegalArgumentException if {@code b} is null or not 8 bytes long
     */
    public static long int64(byte[] b) {
        if (b == null || b.length != 8) {
            throw new IllegalArgumentException("expected an 8-byte int64, found "
                    + (b == null ? "null" : b.length + " bytes"));
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /**
     * Longest name a flush or compaction job carries for its merge operator or filter: a
     * family-aware DB's table of its families' functions ({@code docs/column-families.md}).
     */
    public static final int MAX_JOB_NAME = io.o3lsm.internal.util.FamilyFunctions.MAX_NAME;

    /**
     * Throws {@link IllegalArgumentException} unless {@code name} is a valid operator name or a
     * family-aware DB's table of operators (what a job may carry).
     */
    public static void checkJobName(String name) {
        if (io.o3lsm.internal.util.FamilyFunctions.isTable(name)) {
            io.o3lsm.internal.util.FamilyFunctions.decode(name);
            return;
        }
        checkName(name, "merge operator");
    }

    /** Throws {@link IllegalArgumentException} unless {@code name} is a valid operator or filter name. */
    public static void checkName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " name must be 1 to 200 characters from [A-Za-z0-9._-:,], was "
                    + (name == null ? "null" : "\"" + name + "\""));
        }
        if (io.o3lsm.internal.util.FamilyFunctions.isTable(name)) {
            throw new IllegalArgumentException(what + " name must not start with \""
                    + io.o3lsm.internal.util.FamilyFunctions.PREFIX + "\" (reserved for the column families' tables), was \""
                    + name + "\"");
        }
    }

    /**
     * The operator named {@code name}: a built-in ({@value #INT64_ADD}, {@code o3.stringappend:DELIM}),
     * else the first {@link MergeOperator} {@link ServiceLoader} finds on the class path of
     * {@code loader} (null: this class's) whose {@link MergeOperator#name()} equals it.
     *
     * @throws IllegalArgumentException naming the operator if none is found
     */
    public static MergeOperator byName(String name, ClassLoader loader) {
        if (io.o3lsm.internal.util.FamilyFunctions.isTable(name)) {
            return io.o3lsm.internal.util.FamilyFunctions.Merge.byName(name, loader); // a family-aware DB's
        }
        checkName(name, "merge operator");
        if (name.equals(INT64_ADD)) {
            return int64Add();
        }
        if (name.equals(STRING_APPEND)) {
            return stringAppend(",");
        }
        if (name.startsWith(STRING_APPEND + ":")) {
            return stringAppend(name.substring(STRING_APPEND.length() + 1));
        }
        ServiceLoader<MergeOperator> sl = ServiceLoader.load(MergeOperator.class,
                loader != null ? loader : MergeOperators.class.getClassLoader());
        for (MergeOperator op : sl) {
            if (name.equals(op.name())) {
                return op;
            }
        }
        throw new IllegalArgumentException("merge operator \"" + name + "\" is neither built in nor provided on this "
                + "process's class path (META-INF/services/io.o3lsm.MergeOperator)");
    }

    private static final class Int64Add implements MergeOperator {
        static final Int64Add INSTANCE = new Int64Add();

        @Override
        public String name() {
            return INT64_ADD;
        }

        @Override
        public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
            long sum = existing == null ? 0 : get(existing, "value");
            for (int i = 0, n = operands.size(); i < n; i++) {
                sum += get(operands.get(i), "operand");
            }
            return int64(sum);
        }

        @Override
        public byte[] partialMerge(byte[] key, List<byte[]> operands) {
            return fullMerge(key, null, operands);
        }

        private static long get(byte[] b, String what) {
            if (b.length != 8) {
                throw new O3Exception(INT64_ADD + ": expected an 8-byte " + what + ", found " + b.length + " bytes");
            }
            return (b[0] & 0xFFL) | (b[1] & 0xFFL) << 8 | (b[2] & 0xFFL) << 16 | (b[3] & 0xFFL) << 24
                    | (b[4] & 0xFFL) << 32 | (b[5] & 0xFFL) << 40 | (b[6] & 0xFFL) << 48 | (b[7] & 0xFFL) << 56;
        }

        @Override
        public String toString() {
            return INT64_ADD;
        }
    }

    private static final class StringAppend implements MergeOperator {
        private final String delimiter;
        private final byte[] delim;

        StringAppend(String delimiter) {
            this.delimiter = delimiter;
            this.delim = delimiter.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String name() {
            return STRING_APPEND + ":" + delimiter;
        }

        @Override
        public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
            int n = operands.size();
            long len = existing == null ? -delim.length : existing.length;
            for (int i = 0; i < n; i++) {
                len += delim.length + operands.get(i).length;
            }
            if (len > DB.MAX_VALUE_SIZE) {
                throw new O3Exception(name() + ": the appended value would be " + len + " bytes, above "
                        + DB.MAX_VALUE_SIZE);
            }
            byte[] out = new byte[(int) len];
            int p = 0;
            if (existing != null) {
                System.arraycopy(existing, 0, out, 0, existing.length);
                p = existing.length;
            }
            for (int i = 0; i < n; i++) {
                if (i > 0 || existing != null) {
                    System.arraycopy(delim, 0, out, p, delim.length);
                    p += delim.length;
                }
                byte[] o = operands.get(i);
                System.arraycopy(o, 0, out, p, o.length);
                p += o.length;
            }
            return out;
        }

        @Override
        public byte[] partialMerge(byte[] key, List<byte[]> operands) {
            return fullMerge(key, null, operands);
        }

        @Override
        public String toString() {
            return name();
        }
    }
}
