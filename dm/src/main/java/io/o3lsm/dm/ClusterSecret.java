package io.o3lsm.dm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The cluster secret shared by memory nodes and DBs, read from a file: its bytes with trailing
 * line breaks and spaces removed, at least {@value #MIN_LENGTH} bytes (e.g. {@code openssl rand
 * -hex 32 > secret}).
 */
public final class ClusterSecret {
    public static final int MIN_LENGTH = 16;

    private ClusterSecret() {
    }

    /** @throws IOException if unreadable; IllegalArgumentException if too short */
    public static byte[] read(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int n = b.length;
        while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t')) {
            n--;
        }
        if (n < MIN_LENGTH) {
            throw new IllegalArgumentException("secret file " + file + " holds " + n + " bytes; at least " + MIN_LENGTH
                    + " needed (e.g. openssl rand -hex 32 > " + file + ")");
        }
        return Arrays.copyOf(b, n);
    }
}
