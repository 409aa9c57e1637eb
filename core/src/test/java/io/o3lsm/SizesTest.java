package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void shouldReadBinaryUnitsWithOrWithoutBytesSuffix() {
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(64L << 10, Sizes.parse("64k"));
        assertEquals(64L << 20, Sizes.parse("64m"));
        assertEquals(64L << 20, Sizes.parse("64MiB"));
        assertEquals(1L << 30, Sizes.parse(" 1G "));
        assertEquals(2L << 40, Sizes.parse("2tb"));
        assertEquals(0, Sizes.parse("0"));
    }

    @Test
    void shouldRefuseWhatIsNotASizeQuotingIt() {
        for (String bad : new String[] {"", "lots", "-1", "1.5g", "64x", "m"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(null));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sizes.parse("9999999t")).getMessage()
                .contains("too large"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("99999999999999999999"));
    }
}
