package io.o3lsm;

/**
 * The last operations of a {@link ModelTest} run, for failure reports: a ring of at most
 * {@code capacity} one-line descriptions, each prefixed with its step number. Thread-safe
 * (synchronized), because a timeout report reads it from another thread.
 */
final class ModelOpLog {
    private final String[] ring;
    private long count;

    ModelOpLog(int capacity) {
        ring = new String[capacity];
    }

    synchronized void add(int step, String op) {
        ring[(int) (count % ring.length)] = "#" + step + " " + op;
        count++;
    }

    /** The remembered operations, oldest first, one per line. */
    synchronized String tail() {
        StringBuilder sb = new StringBuilder();
        long from = Math.max(0, count - ring.length);
        if (from > 0) {
            sb.append("  … ").append(from).append(" earlier operations\n");
        }
        for (long i = from; i < count; i++) {
            sb.append("  ").append(ring[(int) (i % ring.length)]).append('\n');
        }
        return sb.toString();
    }

    /** Lowercase hex of {@code b}, shortened in the middle beyond 40 bytes; {@code ""} for empty. */
    static String hex(byte[] b) {
        if (b == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        int n = b.length;
        for (int i = 0; i < n; i++) {
            if (n > 40 && i == 16) {
                sb.append("…(").append(n).append("B)…");
                i = n - 16;
            }
            sb.append(Character.forDigit((b[i] >>> 4) & 0xF, 16)).append(Character.forDigit(b[i] & 0xF, 16));
        }
        return n == 0 ? "\"\"" : sb.toString();
    }

    /** A short fingerprint of a value: its length and hash. */
    static String val(byte[] v) {
        if (v == null) {
            return "absent";
        }
        return v.length + "B#" + Integer.toHexString(java.util.Arrays.hashCode(v));
    }
}
