package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.ColumnFamilyDescriptor;
import io.o3lsm.ColumnFamilyHandle;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/format/write-batch.md's column-family example: a batch naming family 1 and the default
 * family as {@link WriteBatch} builds it, and as a family-aware DB translates it for the WAL
 * ({@link Families#translate}), byte for byte.
 */
class FamilyBatchDocExampleTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String hex(WriteBatch batch) {
        return HexFormat.of().formatHex(Arrays.copyOf(batch.rep(), batch.size()));
    }

    @Test
    void shouldBuildAndTranslateTheDocumentedBatchByteForByte() {
        Families families = Families.of(Families.plan("/db", List.of(), 0, false, true,
                List.of(new ColumnFamilyDescriptor("users")), Options.defaults()));
        ColumnFamilyHandle users = families.byName("users");
        assertEquals(1, users.id());
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(users, b("k"), b("v")).delete(b("x")).deleteRange(users, b("a"), b("c"));
            assertTrue(batch.hasFamilyOps());
            assertEquals("000000000000000000000000"
                    + "11" + "01" + "016b" + "0176"
                    + "00" + "0178"
                    + "12" + "01" + "0161" + "0163", hex(batch));

            WriteBatch wal = families.translate(batch, () -> 0L);
            wal.setHeader(7);
            assertFalse(wal.hasFamilyOps());
            assertEquals("0700000000000000" + "03000000"
                    + "01" + "02016b" + "0176"
                    + "00" + "020078"
                    + "02" + "020161" + "020163", hex(wal));
        }
    }
}
