package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ColumnFamilyHandle}: "valid only with the DB that gave it ... (then every call naming it
 * throws IllegalArgumentException)" — for a {@link WriteBatch} naming it too. A batch records only
 * the family's id, so a handle of another DB whose id this DB also has is not noticed: the batch
 * writes into whichever family of this DB has that id.
 */
class ColumnFamilyBatchHandleTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldRefuseABatchNamingAFamilyOfAnotherDb() {
        try (DB one = DB.open(dir.resolve("one"), Options.defaults(), List.of(new ColumnFamilyDescriptor("orders")));
                DB two = DB.open(dir.resolve("two"), Options.defaults(), List.of(new ColumnFamilyDescriptor("users")))) {
            ColumnFamilyHandle orders = one.columnFamily("orders"); // id 1, as "users" is in two
            assertThrows(IllegalArgumentException.class, () -> two.put(orders, b("k"), b("v")), "the plain call refuses it");
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(orders, b("k"), b("v"));
                assertThrows(IllegalArgumentException.class, () -> two.write(batch));
            }
            assertNull(two.get(two.columnFamily("users"), b("k")), "nothing may reach two's family of the same id");
        }
    }
}
